package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/expertiza/expertiza/sync/wire"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// remarksFixture is a register in every state that matters: answered
// twice with corrected versions and reopened, accepted, a draft, one
// with a version the documents do not name.
func remarksFixture() (wire.Application, []wire.Remark, []wire.Document) {
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.Local) }
	pub := at(2, 10)
	app := wire.Application{ID: 5, Number: "ГГЭ-2026-000005", ObjectName: "Школа на 550 мест", ObjectAddress: "г. Краснодар",
		OrgName: "ООО «Горпроект»"}
	docs := []wire.Document{{ID: 1, AppID: 5, Section: "07.03", Name: "АР", Versions: []wire.DocumentVersion{{ID: 11, Number: 1}, {ID: 12, Number: 2}}}}
	rs := []wire.Remark{
		{ID: 1, AppID: 5, Number: 1, Section: "07.03", Text: "Высота этажа; 2,5 м мала", NormRef: "СП 54.13330.2022 п. 5.8",
			Criticality: wire.CriticalityCritical, AuthorName: "Сидорова А. В.", Status: wire.RemarkReopened,
			Resolution: "Нет разреза 1-1", PublishedAt: &pub, UpdatedAt: at(6, 9),
			Answers: []wire.RemarkAnswer{
				{ID: 1, Text: "Исправлено", VersionIDs: []int64{12}, CreatedAt: at(4, 15)},
				{ID: 2, Text: "Добавлен \"разрез\"", VersionIDs: []int64{12, 99}, CreatedAt: at(5, 11)},
			}},
		{ID: 2, AppID: 5, Number: 2, Section: "app", Text: "Нет доверенности", NormRef: "ПП РФ № 145 п. 13",
			Criticality: wire.CriticalityOrdinary, AuthorName: "Петров П. П.", Status: wire.RemarkAccepted, PublishedAt: &pub,
			UpdatedAt: at(7, 12), Answers: []wire.RemarkAnswer{{ID: 3, Text: "Приложена", VersionIDs: []int64{}, CreatedAt: at(3, 8)}}},
		{ID: 3, AppID: 5, Section: "07.04", Text: "Черновик", Criticality: wire.CriticalityOrdinary, AuthorName: "Петров П. П.",
			Status: wire.RemarkDraft, UpdatedAt: at(8, 16), Answers: []wire.RemarkAnswer{}},
	}
	return app, rs, docs
}

func TestExportRemarksCSV(t *testing.T) {
	_, rs, docs := remarksFixture()
	got := ExportRemarksCSV(rs, docs)
	if !bytes.HasPrefix(got, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("no UTF-8 BOM at the start: % x", got[:min(len(got), 8)])
	}
	if !bytes.Contains(got, []byte("\r\n")) {
		t.Errorf("lines do not end with CRLF")
	}
	r := csv.NewReader(bytes.NewReader(got[3:]))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the file does not parse back: %v", err)
	}
	want := [][]string{
		remarksCSVHeader,
		{"1", "07.03 АР", "Высота этажа; 2,5 м мала", "СП 54.13330.2022 п. 5.8", "Существенное", "Возвращено на доработку", "Сидорова А. В.",
			"04.03.2026: Исправлено\n05.03.2026: Добавлен \"разрез\"", "«АР», версия 2\nверсия файла #99", "02.03.2026", "05.03.2026",
			"Нет разреза 1-1", "06.03.2026 09:00"},
		{"2", "Документы заявления", "Нет доверенности", "ПП РФ № 145 п. 13", "Несущественное", "Ответ принят", "Петров П. П.",
			"Приложена", "", "02.03.2026", "03.03.2026", "", "07.03.2026 12:00"},
		{"", "07.04 КР", "Черновик", "", "Несущественное", "Черновик", "Петров П. П.", "", "", "", "", "", "08.03.2026 16:00"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), got)
	}
	for i := range want {
		if len(rows[i]) != len(want[i]) {
			t.Errorf("row %d has %d fields, want %d: %q", i, len(rows[i]), len(want[i]), rows[i])
			continue
		}
		for j := range want[i] {
			if rows[i][j] != want[i][j] {
				t.Errorf("row %d field %d (%s) = %q, want %q", i, j, remarksCSVHeader[j], rows[i][j], want[i][j])
			}
		}
	}
	if empty := ExportRemarksCSV(nil, nil); string(empty) != "\ufeff"+strings.Join(remarksCSVHeader, ";")+"\r\n" {
		t.Errorf("empty export = %q", empty)
	}
}

func TestExportRemarksPDF(t *testing.T) {
	app, rs, docs := remarksFixture()
	now := time.Date(2026, 3, 9, 14, 5, 0, 0, time.Local)
	var b bytes.Buffer
	if err := ExportRemarksPDF(context.Background(), pdfEngine(t), &b, app, rs, docs, now); err != nil {
		t.Fatal(err)
	}
	pdf := b.Bytes()
	pdftest.Validate(t, pdf, model.ValidationStrict)
	info := pdftest.Info(t, pdf)
	if info["Title"] != "Реестр замечаний" || !strings.HasPrefix(info["Page size"], "841.89 x 595.28") {
		t.Errorf("title %q, page size %q: want «Реестр замечаний» on landscape A4", info["Title"], info["Page size"])
	}
	pages := pdftest.Pages(t, pdf)
	if len(pages) != 1 {
		t.Fatalf("%d pages, want 1", len(pages))
	}
	text := pages[0]
	for _, want := range [][]string{
		{"Реестр замечаний"},
		{"Заявление № ГГЭ-2026-000005, заявитель ООО «Горпроект»"},
		{"Объект: Школа на 550 мест, г. Краснодар"},
		{"По состоянию на 09.03.2026 14:05"},
		{"Замечаний: 3, из них существенных: 1; ждут ответа заявителя: 1"},
		{"№", "Раздел", "Замечание", "Нормативный", "Критичность", "Статус", "Ответ", "Исправленные", "Даты"},
		{"1", "07.03 АР", "Высота этажа; 2,5 м мала", "Существенное", "Возвращено на", "04.03.2026:", "«АР», версия 2", "направлено"},
		{"2", "Документы", "Нет доверенности", "ПП РФ № 145 п. 13", "Несущественное", "Ответ принят", "Приложена", "направлено"},
		{"07.04 КР", "Черновик", "Несущественное", "Черновик"},
		{"Сформировано 09.03.2026 14:05", "Страница 1 из 1"},
	} {
		if pdftest.Line(text, want...) == "" {
			t.Errorf("no line with %q in order:\n%s", want, text)
		}
	}
	// Wrapped cells: their words in reading order, other cells' between.
	var words []string
	for _, w := range pdftest.Words(t, pdf) {
		words = append(words, w.Text)
	}
	for _, want := range []string{"СП 54.13330.2022 п. 5.8", "Нет разреза 1-1", "05.03.2026: Добавлен \"разрез\"", "версия файла #99",
		"направлено 02.03.2026 ответ 05.03.2026", "Нет доверенности", "направлено 02.03.2026 ответ 03.03.2026"} {
		if !inOrder(words, strings.Fields(want)) {
			t.Errorf("the register lacks %q:\n%s", want, pdftest.Describe(text))
		}
	}
	for _, f := range pdftest.Fonts(t, pdf) {
		if !f.Embedded || !f.Subset || !f.ToUnicode {
			t.Errorf("font %+v is not an embedded subset with a ToUnicode map", f)
		}
	}
}

// A long register runs over pages with the header and page numbers on
// each, every remark once and in order.
func TestExportRemarksPDFManyPages(t *testing.T) {
	app, _, _ := remarksFixture()
	rs := make([]wire.Remark, 300)
	for i := range rs {
		rs[i] = wire.Remark{ID: int64(i + 1), Number: i + 1, Section: "07.03", Text: fmt.Sprintf("Замечание номер %d", i+1),
			NormRef: "СП 1.13130.2020", Criticality: wire.CriticalityOrdinary, Status: wire.RemarkPublished}
	}
	var b bytes.Buffer
	if err := ExportRemarksPDF(context.Background(), pdfEngine(t), &b, app, rs, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	pages := pdftest.Pages(t, b.Bytes())
	if len(pages) < 4 {
		t.Fatalf("%d pages for 300 remarks", len(pages))
	}
	next := 1
	for i, p := range pages {
		if pdftest.Line(p, "№", "Раздел", "Замечание", "Критичность", "Статус", "Ответ") == "" {
			t.Errorf("page %d has no header row", i+1)
		}
		if pdftest.Line(p, fmt.Sprintf("Страница %d из %d", i+1, len(pages))) == "" {
			t.Errorf("page %d has no page number", i+1)
		}
		for line := range strings.SplitSeq(p, "\n") {
			_, after, ok := strings.Cut(line, "Замечание номер ")
			if !ok {
				continue
			}
			var n int
			if _, err := fmt.Sscan(after, &n); err != nil || n != next || pdftest.Line(line, "Направлено") == "" {
				t.Fatalf("page %d: want remark %d, got %q", i+1, next, line)
			}
			next++
		}
	}
	if next != 301 {
		t.Errorf("the register lists %d remarks, want 300", next-1)
	}
}

func TestExportRemarksPDFEmpty(t *testing.T) {
	app, _, _ := remarksFixture()
	var b bytes.Buffer
	if err := ExportRemarksPDF(context.Background(), pdfEngine(t), &b, app, nil, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(pdftest.Pages(t, b.Bytes()), "")
	for _, want := range []string{"Замечаний: 0", "Замечаний нет."} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
}

func TestRemarkLabels(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{wire.CriticalityCritical.Label(), "Существенное"},
		{wire.CriticalityOrdinary.Label(), "Несущественное"},
		{wire.Criticality("odd").Label(), "odd"},
		{wire.RemarkSectionLabel("07.03"), "07.03 АР"},
		{wire.RemarkSectionLabel(wire.SectionSupporting), "Документы заявления"},
		{wire.RemarkSectionLabel("99.99"), "99.99"},
	} {
		if tc.got != tc.want {
			t.Errorf("label %q, want %q", tc.got, tc.want)
		}
	}
	for _, s := range wire.AllRemarkStatuses {
		if l := s.Label(); l == "" || l == string(s) {
			t.Errorf("remark status %s has no Russian label", s)
		}
	}
}

// inOrder reports whether want appears in words in order, not
// necessarily next to each other.
func inOrder(words, want []string) bool {
	i := 0
	for _, w := range words {
		if i < len(want) && w == want[i] {
			i++
		}
	}
	return i == len(want)
}

// TestNoticeLetterEvent: notice.letter replaces the cached notice with the
// one carrying its letter's digest, without a second copy.
func TestNoticeLetterEvent(t *testing.T) {
	s := NewStore(quietLog())
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	n := wire.Notice{ID: 5, AppID: 2, Number: 1, RemarkIDs: []int64{50}, PublishedAt: at}
	if err := s.Apply(event(t, 1, wire.EventNoticePublished, 2, n)); err != nil {
		t.Fatal(err)
	}
	n.LetterSHA256 = strings.Repeat("ab", 32)
	if err := s.Apply(event(t, 2, wire.EventNoticeLetter, 2, n)); err != nil {
		t.Fatal(err)
	}
	if got := s.Notices(2); len(got) != 1 || got[0].LetterSHA256 != n.LetterSHA256 {
		t.Fatalf("notices after notice.letter: %+v", got)
	}
}
