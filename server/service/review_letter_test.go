package service

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestAnswerDeadline holds answerDeadline to the rule AnswerRemark
// enforces, for every review deadline over two years of the shipped
// calendar (New Year and May holidays included): answers are accepted on
// the date it gives and refused the day after.
func TestAnswerDeadline(t *testing.T) {
	for _, cutoff := range []int{0, 1, 5, 10} {
		cfg := DefaultConfig()
		cfg.AnswerCutoffDays = cutoff
		s := New(nil, cfg, slog.New(slog.DiscardHandler), nil)
		cal := s.Calendar()
		for due := (wire.Date{Year: 2026, Month: 1, Day: 1}); due.Before(wire.Date{Year: 2028, Month: 1, Day: 1}); due = due.AddDays(1) {
			d := due
			got := s.answerDeadline(&store.AppRow{ReviewDue: &d})
			if got.IsZero() {
				t.Fatalf("cutoff %d, due %s: no answer deadline", cutoff, due)
			}
			if left := cal.WorkdaysUntil(got, due); left <= cutoff {
				t.Errorf("cutoff %d, due %s: answers by %s, but that day %d working days are left (refused)", cutoff, due, got, left)
			}
			if left := cal.WorkdaysUntil(got.AddDays(1), due); left > cutoff {
				t.Errorf("cutoff %d, due %s: answers by %s, but the next day %d working days are left (still accepted)", cutoff, due, got, left)
			}
		}
	}
	s := New(nil, DefaultConfig(), slog.New(slog.DiscardHandler), nil)
	if got := s.answerDeadline(&store.AppRow{}); !got.IsZero() {
		t.Errorf("no review deadline, yet answers are due by %s", got)
	}
}

func letterFixture(remarks int) (wire.Notice, *store.AppRow, []wire.Remark, map[int64]*store.VersionRef) {
	at := time.Date(2026, 3, 2, 7, 30, 0, 0, time.UTC) // 10:30 in Moscow
	due := wire.Date{Year: 2026, Month: 4, Day: 30}
	a := &store.AppRow{Application: wire.Application{ID: 3, Number: "ГГЭ-2026-000003", ObjectName: "Школа", ObjectAddress: "г. Сочи",
		OrgName: "АО «Стройинвест»", OrgINN: "7707083893"}, ReviewDue: &due}
	n := wire.Notice{ID: 9, AppID: 3, Number: 2, Comment: "Повторно: см. п. 1", PublishedByName: "Петров П. П.", PublishedAt: at}
	files := map[int64]*store.VersionRef{40: {Name: "КР", Version: 3}}
	var rs []wire.Remark
	for i := range remarks {
		r := wire.Remark{ID: int64(100 + i), Number: i + 1, Section: "07.04", VersionID: 40, Text: fmt.Sprintf("Замечание %d к расчёту", i+1),
			NormRef: "СП 63.13330.2018 п. 8.1", Criticality: wire.CriticalityOrdinary, NoticeID: 9,
			Anchor: &wire.RemarkAnchor{Page: i%7 + 1}}
		rs = append(rs, r)
		n.RemarkIDs = append(n.RemarkIDs, r.ID)
	}
	return n, a, rs, files
}

// TestLetterDocument: the parts of a letter that depend on the notice —
// a reopened remark sent again says so and why, the lead's own comment is
// printed and a generated one is not, a past answer deadline reads as
// closed.
func TestLetterDocument(t *testing.T) {
	eng, err := pdfdoc.New(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	n, a, rs, files := letterFixture(2)
	rs[1].NoticeID, rs[1].Status, rs[1].Resolution = 4, wire.RemarkReopened, "Расчёт не приложен"
	rs[1].VersionID, rs[1].Anchor = 0, nil
	text := func(d *pdfdoc.Document) string {
		var b bytes.Buffer
		if err := eng.Write(context.Background(), &b, d); err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(strings.Join(pdftest.Pages(t, b.Bytes()), " ")), " ")
	}
	for _, tc := range []struct {
		name      string
		comment   string
		answerBy  wire.Date
		want, not []string
	}{
		{"own comment, open", "Повторно: см. п. 1", wire.Date{Year: 2026, Month: 4, Day: 22},
			[]string{"Уведомление о замечаниях № 2", "Комментарий ведущего эксперта: Повторно: см. п. 1", "Направляется повторно: ответ не принят.",
				"Расчёт не приложен", "«КР», версия 3,", "стр. 1", "Раздел в целом", "Ответы на замечания принимаются до 22.04.2026 включительно.",
				"Срок проведения экспертизы истекает 30.04.2026.", "Дата: 02.03.2026", "Сформировано 02.03.2026 10:30"},
			[]string{"Приём ответов на замечания закрыт"}},
		{"generated comment, closed", generatedComment(2, 2), wire.Date{Year: 2026, Month: 2, Day: 27},
			[]string{"Приём ответов на замечания закрыт 27.02.2026.", "обратитесь к менеджеру"},
			[]string{"Комментарий ведущего эксперта", "принимаются до"}},
		{"no deadline", "", wire.Date{},
			[]string{"Замечаний: 2, из них существенных: 0."},
			[]string{"принимаются до", "закрыт", "Комментарий"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := n
			n.Comment = tc.comment
			got := text(letterDocument(n, a, rs, files, tc.answerBy))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("has %q:\n%s", w, got)
				}
			}
		})
	}
}

// BenchmarkNoticeLetter typesets the letter of a notice of 200 remarks
// (about eight pages): the work a publication costs the letter worker.
func BenchmarkNoticeLetter(b *testing.B) {
	eng, err := pdfdoc.New(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	n, a, rs, files := letterFixture(200)
	b.ReportAllocs()
	for b.Loop() {
		if err := eng.Write(context.Background(), io.Discard, letterDocument(n, a, rs, files, wire.Date{Year: 2026, Month: 4, Day: 22})); err != nil {
			b.Fatal(err)
		}
	}
}
