package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// letterRemarks are the drafts every letter test publishes: anchored to a
// page, about a file as a whole, about the section, one long enough to
// wrap in its cell.
func letterRemarks(t *testing.T, by *testenv.Actor, appID, vid int64) []wire.Remark {
	t.Helper()
	ctx := context.Background()
	var out []wire.Remark
	for _, req := range []wire.CreateRemarkRequest{
		{VersionID: vid, Page: 2, Rect: &wire.Rect{X1: 100, Y1: 100, X2: 300, Y2: 200}, Text: "Высота этажа 2,5 м мала",
			NormRef: "СП 54.13330.2022 п. 5.8", Criticality: wire.CriticalityCritical},
		{VersionID: vid, Text: "Нет ведомости отделки", NormRef: "ГОСТ Р 21.101-2020 п. 4.2", Criticality: wire.CriticalityOrdinary},
		{Section: "07.03", Text: "Нет разрезов лестницы", NormRef: "ПП РФ № 87 п. 13", Criticality: wire.CriticalityOrdinary},
		{Section: "07.03", Text: "Эвакуационные выходы из подвального этажа не обособлены от общих лестничных клеток здания, " +
			"что противоречит требованиям к устройству путей эвакуации; представьте исправленные планы подвала и первого этажа",
			NormRef: "СП 1.13130.2020 п. 4.2.2", Criticality: wire.CriticalityCritical},
	} {
		r, err := by.C.CreateRemark(ctx, appID, req, "")
		if err != nil {
			t.Fatalf("draft %q: %v", req.Text, err)
		}
		out = append(out, r)
	}
	return out
}

// letterText is the letter's text with every run of white space made one
// space, so text wrapped in a table cell still reads as one phrase when it
// is alone on its lines.
func letterText(t *testing.T, pdf []byte) (pages []string, flat string) {
	t.Helper()
	pages = pdftest.Pages(t, pdf)
	return pages, strings.Join(strings.Fields(strings.Join(pages, "\n")), " ")
}

// words is the sequence of words pdftotext finds, in reading order.
func words(t *testing.T, pdf []byte) []string {
	var out []string
	for _, w := range pdftest.Words(t, pdf) {
		out = append(out, w.Text)
	}
	return out
}

// containsSeq reports whether every word of phrase appears in ws in order
// (other cells' words may sit between the lines of a wrapped cell).
func containsSeq(ws []string, phrase string) bool {
	want := strings.Fields(phrase)
	i := 0
	for _, w := range ws {
		if i < len(want) && w == want[i] {
			i++
		}
	}
	return i == len(want)
}

// TestNoticeLetter: publishing a notice makes its PDF letter appear — the
// notice.letter event, then a download whose SHA-256 header matches the
// bytes — with the number, the addressee, the application, every remark's
// text and norm in readable Cyrillic; it is visible to exactly those who
// see the notice.
func TestNoticeLetter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newReviewCast(t)
	app, vid := inReview(t, c.member, c.manager, c.lead, c.assigned)
	_, memberRec := c.member.Subscribe(t, nil)
	rs := letterRemarks(t, c.assigned, app.ID, vid)
	var ids []int64
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	n, err := c.lead.C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: app.Version, RemarkIDs: ids}, "")
	if err != nil {
		t.Fatal(err)
	}
	ready := waitEvent(t, memberRec, wire.EventNoticeLetter, "the letter at the applicant", func(x wire.Notice) bool { return x.ID == n.ID })
	if len(ready.LetterSHA256) != 64 || ready.Number != 1 || ready.AppID != app.ID {
		t.Fatalf("notice.letter carries %+v", ready)
	}
	listed, err := c.member.C.Notices(ctx, app.ID)
	if err != nil || len(listed) != 1 || listed[0].LetterSHA256 != ready.LetterSHA256 {
		t.Fatalf("notices after the letter: %+v %v; want letter %s", listed, err, ready.LetterSHA256)
	}

	// The raw answer: the header names the digest of exactly these bytes.
	req, _ := http.NewRequest(http.MethodGet, c.s.URL()+wire.APIPrefix+"/notices/"+strconv.FormatInt(n.ID, 10)+"/letter", nil)
	req.Header.Set("Authorization", "Bearer "+c.member.C.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET letter: %d %v", resp.StatusCode, err)
	}
	sum := sha256.Sum256(pdf)
	if got := resp.Header.Get(wire.HeaderContentSHA256); got != hex.EncodeToString(sum[:]) || got != ready.LetterSHA256 {
		t.Errorf("X-Content-SHA256 %q; the body hashes to %x, the notice names %s", got, sum, ready.LetterSHA256)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''") {
		t.Errorf("Content-Disposition %q", cd)
	}

	pdftest.Validate(t, pdf, model.ValidationRelaxed)
	pages, flat := letterText(t, pdf)
	got, err := c.member.C.Application(ctx, app.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Уведомление о замечаниях № 1",
		got.OrgName, "ИНН " + got.OrgINN,
		"Заявление № " + got.Number, "Жилой дом, г. Казань",
		"Ведущий эксперт: " + c.lead.FullName,
		"Дата: " + n.PublishedAt.In(time.FixedZone("MSK", 3*3600)).Format("02.01.2006"),
		"Замечаний: 4, из них существенных: 2.",
		"Ответы на замечания принимаются до",
		"Существенное", "Несущественное", "07.03 АР", "стр. 2", "Раздел в целом",
		"Страница 1 из " + strconv.Itoa(len(pages)),
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the letter lacks %q:\n%s", want, pdftest.Describe(flat))
		}
	}
	ws := words(t, pdf)
	for _, r := range rs {
		if !containsSeq(ws, r.Text) || !containsSeq(ws, r.NormRef) {
			t.Errorf("the letter lacks remark %q (%s):\n%s", r.Text, r.NormRef, pdftest.Describe(flat))
		}
	}
	embedded := 0
	for _, f := range pdftest.Fonts(t, pdf) {
		if strings.Contains(f.Name, "DejaVuSans") && f.Embedded && f.ToUnicode {
			embedded++
		}
	}
	if embedded == 0 {
		t.Errorf("no embedded DejaVu Sans with a ToUnicode map: %+v", pdftest.Fonts(t, pdf))
	}

	// Who may download it: whoever sees the notice, with the same bytes.
	for _, tc := range []struct {
		who  *testenv.Actor
		name string
		ok   bool
	}{
		{c.member, "member", true}, {c.lead, "lead", true}, {c.assigned, "assigned", true}, {c.manager, "manager", true},
		{c.admin, "admin", true}, {c.other, "other organisation", false}, {c.unassigned, "unassigned expert", false},
	} {
		var b bytes.Buffer
		sha, err := tc.who.C.NoticeLetter(ctx, n.ID, &b)
		if !tc.ok {
			wantCode(t, err, wire.CodeNotFound, "")
			if b.Len() != 0 {
				t.Errorf("%s received %d bytes of the letter", tc.name, b.Len())
			}
			continue
		}
		if err != nil || sha != ready.LetterSHA256 || !bytes.Equal(b.Bytes(), pdf) {
			t.Errorf("%s: letter %s (%d bytes), %v; want %s", tc.name, sha, b.Len(), err, ready.LetterSHA256)
		}
	}
	// A notice that does not exist answers as another organisation's.
	_, err = c.member.C.NoticeLetter(ctx, n.ID+1000000, io.Discard)
	wantCode(t, err, wire.CodeNotFound, "")
}

// gatedRenderer renders real letters, but each call first waits for the
// test to say how it ends: an error fails it, nil lets it render.
type gatedRenderer struct {
	eng   *pdfdoc.Engine
	gate  chan error
	mu    sync.Mutex
	calls int
}

func (g *gatedRenderer) Write(ctx context.Context, w io.Writer, d *pdfdoc.Document) error {
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	select {
	case err := <-g.gate:
		if err != nil {
			return err
		}
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.eng.Write(ctx, w, d)
}

// release decides the next render's outcome, waiting until one asks.
func (g *gatedRenderer) release(t *testing.T, err error) {
	t.Helper()
	select {
	case g.gate <- err:
	case <-time.After(hang):
		t.Fatalf("no letter render was attempted within %v", hang)
	}
}

// TestNoticeLetterRetried: a failed render keeps the publication (the
// application stays in remarks_issued, the remarks published, the
// notice listed), the letter answers 409 with Retry-After meanwhile, and
// the worker tries again until the letter is stored and announced.
func TestNoticeLetterRetried(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng, err := pdfdoc.New(ctx, testenv.FontCache())
	if err != nil {
		t.Fatal(err)
	}
	g := &gatedRenderer{eng: eng, gate: make(chan error)}
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: testenv.Config(),
		Log: testenv.Logger(t), DataDir: t.TempDir(), ValidateWorker: testenv.ValidateWorker, FontCache: testenv.FontCache(),
		LetterRenderer: g, LetterRetry: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	member, lead, assigned := testenv.Applicant(t, s), testenv.Staff(t, s, wire.RoleExpert, 0), testenv.Staff(t, s, wire.RoleExpert, 0)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	app, vid := inReview(t, member, manager, lead, assigned)
	_, memberRec := member.Subscribe(t, nil)
	rs := letterRemarks(t, assigned, app.ID, vid)
	n, err := lead.C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: app.Version, RemarkIDs: []int64{rs[0].ID, rs[2].ID}}, "")
	if err != nil {
		t.Fatal(err)
	}

	// The first attempt fails.
	g.release(t, errors.New("injected: the font cache is unavailable"))
	q := s.Service.Store().Read()
	deadline := time.Now().Add(hang)
	for {
		st, err := q.NoticeLetterState(ctx, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Error != "" {
			// The retry may have claimed it already (attempt 2, blocked
			// in the gate): the error stays until a render succeeds.
			if st.SHA256 != "" || st.Attempts < 1 || !strings.Contains(st.Error, "font cache is unavailable") || st.NextAt == nil {
				t.Fatalf("after a failed render the letter state is %+v", st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failed render was not recorded within %v: %+v", hang, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, err := member.C.Application(ctx, app.ID)
	if err != nil || got.Status != wire.StatusRemarksIssued {
		t.Fatalf("after a failed render the application is %s (%v), want remarks_issued", got.Status, err)
	}
	listed, err := member.C.Notices(ctx, app.ID)
	if err != nil || len(listed) != 1 || listed[0].ID != n.ID || listed[0].LetterSHA256 != "" {
		t.Fatalf("after a failed render the notices are %+v (%v)", listed, err)
	}
	published, err := member.C.Remarks(ctx, app.ID, 0)
	if err != nil || len(published) != 2 {
		t.Fatalf("after a failed render the applicant sees remarks %+v (%v)", published, err)
	}
	_, err = member.C.NoticeLetter(ctx, n.ID, io.Discard)
	wantCode(t, err, wire.CodeConflict, "letter_sha256")
	req, _ := http.NewRequest(http.MethodGet, s.URL()+wire.APIPrefix+"/notices/"+strconv.FormatInt(n.ID, 10)+"/letter", nil)
	req.Header.Set("Authorization", "Bearer "+member.C.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a pending letter answers %d with Retry-After %q, want 409 with a delay", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	// The retry renders it.
	g.release(t, nil)
	ready := waitEvent(t, memberRec, wire.EventNoticeLetter, "the letter after the retry", func(x wire.Notice) bool { return x.ID == n.ID })
	var b bytes.Buffer
	sha, err := member.C.NoticeLetter(ctx, n.ID, &b)
	if err != nil || sha != ready.LetterSHA256 {
		t.Fatalf("letter after the retry: %s %v, want %s", sha, err, ready.LetterSHA256)
	}
	_, flat := letterText(t, b.Bytes())
	ws := words(t, b.Bytes())
	for _, want := range []string{"Уведомление о замечаниях № 1", rs[0].Text, rs[0].NormRef, rs[2].Text, rs[2].NormRef} {
		if !containsSeq(ws, want) {
			t.Errorf("the retried letter lacks %q", want)
		}
	}
	if strings.Contains(flat, rs[1].Text) {
		t.Errorf("the letter carries remark %q, which is not in the notice", rs[1].Text)
	}
	st, err := q.NoticeLetterState(ctx, n.ID)
	if err != nil || st.Attempts != 2 || st.Error != "" || st.SHA256 != sha {
		t.Errorf("after the retry the letter state is %+v (%v)", st, err)
	}
	g.mu.Lock()
	calls := g.calls
	g.mu.Unlock()
	if calls != 2 {
		t.Errorf("%d render attempts, want 2 (one failed, one stored)", calls)
	}
}

// letterNotices caches, per authorization world, a published notice whose
// letter is stored.
var (
	letterNoticesMu sync.Mutex
	letterNotices   = map[*world]wire.Notice{}
)

// reviewLetterNotice publishes a notice on a fresh application of the
// world and waits until its letter is stored.
func (w *world) reviewLetterNotice() wire.Notice {
	letterNoticesMu.Lock()
	defer letterNoticesMu.Unlock()
	if n, ok := letterNotices[w]; ok {
		return n
	}
	ctx := context.Background()
	app, _ := w.reviewApp()
	d := w.reviewDraft(app.ID)
	n, err := w.actors["lead"].C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: app.Version, RemarkIDs: []int64{d.ID}}, "")
	if err != nil {
		w.t.Fatalf("fixture notice: %v", err)
	}
	for deadline := time.Now().Add(hang); n.LetterSHA256 == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			w.t.Fatalf("the fixture notice's letter was not stored within %v", hang)
		}
		ns, err := w.actors["member"].C.Notices(ctx, app.ID)
		if err != nil || len(ns) != 1 {
			w.t.Fatalf("fixture notices: %+v %v", ns, err)
		}
		n = ns[0]
	}
	letterNotices[w] = n
	return n
}
