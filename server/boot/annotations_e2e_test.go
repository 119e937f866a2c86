package boot_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/seed"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// annotWorld is an application in review with a three-page PDF, a lead
// expert and a second expert assigned to its section, and the applicant.
type annotWorld struct {
	s                      *boot.Server
	applicant, lead, other *testenv.Actor
	app                    wire.Application
	version                wire.DocumentVersion
}

func newAnnotWorld(tb testing.TB) annotWorld {
	tb.Helper()
	ctx := context.Background()
	s := testenv.Start(tb, testenv.Config())
	w := annotWorld{s: s, applicant: testenv.Applicant(tb, s), lead: testenv.Staff(tb, s, wire.RoleExpert, 0), other: testenv.Staff(tb, s, wire.RoleExpert, 0)}
	manager := testenv.Staff(tb, s, wire.RoleManager, 0)
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := w.applicant.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Школа"), ObjectAddress: str("г. Тверь"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		tb.Fatal(err)
	}
	pdf := seed.DemoPDF(3, "Архитектурные решения")
	uploadTB(tb, s, w.applicant.C, a.ID, "07.03", "АР.pdf", pdf)
	move := func(who *testenv.Actor, to wire.Status) {
		tb.Helper()
		if a, err = who.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: to}, ""); err != nil {
			tb.Fatalf("%s → %s: %v", a.Status, to, err)
		}
	}
	move(w.applicant, wire.StatusSubmitted)
	if a, err = manager.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: w.lead.ID,
		Assignments: []wire.Assignment{{Section: "07.03", ExpertID: w.other.ID}}}, ""); err != nil {
		tb.Fatal(err)
	}
	move(manager, wire.StatusAwaitingContract)
	move(w.applicant, wire.StatusAwaitingPayment)
	move(manager, wire.StatusInReview)
	w.app = a
	docs, err := w.lead.C.Documents(ctx, a.ID)
	if err != nil || len(docs) != 1 || len(docs[0].Versions) != 1 || len(docs[0].Versions[0].PageSizes) != 3 {
		tb.Fatalf("documents %+v %v", docs, err)
	}
	w.version = docs[0].Versions[0]
	return w
}

// uploadTB sends a whole file in chunks and finishes it.
func uploadTB(tb testing.TB, s *boot.Server, c *client.Client, appID int64, section, fileName string, file []byte) {
	tb.Helper()
	ctx := context.Background()
	var up wire.Upload
	if err := c.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", appID),
		wire.CreateUploadRequest{Section: section, Name: fileName, FileName: fileName, Size: int64(len(file)), SHA256: sha(file)}, &up, ""); err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < up.Chunks; i++ {
		req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s%s/uploads/%s/chunks/%d", s.URL(), wire.APIPrefix, up.ID, i), bytes.NewReader(chunkOf(file, i)))
		req.Header.Set("Authorization", "Bearer "+c.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			tb.Fatalf("chunk %d: HTTP %d", i, resp.StatusCode)
		}
	}
	if err := c.Call(ctx, http.MethodPost, "/uploads/"+up.ID+"/finish", nil, nil, ""); err != nil {
		tb.Fatal(err)
	}
}

// desktopClient signs in as who and runs the desktop core's stream.
func desktopClient(ctx context.Context, tb testing.TB, server string, who *testenv.Actor, code string) (*app.Workspace, *app.Store) {
	tb.Helper()
	log := testenv.Logger(tb)
	sess := app.NewSession(log, app.NewDeviceID(), "test")
	if _, err := sess.Login(ctx, app.Credentials{Server: server, Login: who.User.Login, Password: who.Password, TOTPCode: code}); err != nil {
		tb.Fatal(err)
	}
	st := app.NewStore(log)
	ws := app.NewWorkspace(log, sess, st)
	if err := ws.UseCache(tb.TempDir()); err != nil {
		tb.Fatal(err)
	}
	go func() { _ = ws.Run(ctx) }()
	tb.Cleanup(func() { _ = ws.Close() })
	return ws, st
}

func waitUntil(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func isOnline(st *app.Store) bool { c, _ := st.Connection(); return c == client.StateOnline }

// TestAnnotationsTwoClientsLive: two experts' desktop cores on the same
// version of a real server. What one marks, moves and deletes reaches the
// other's Store live; the other's reply reaches the author; presence says
// who is on which page; the other may not delete the author's mark; undo
// is a new command seen by both; the applicant's core gets nothing.
func TestAnnotationsTwoClientsLive(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newAnnotWorld(t)
	v := w.version.ID
	lws, lst := desktopClient(ctx, t, w.s.URL(), w.lead, w.lead.NextCode(t))
	ows, ost := desktopClient(ctx, t, w.s.URL(), w.other, w.other.NextCode(t))
	aws, _ := desktopClient(ctx, t, w.s.URL(), w.applicant, "")
	waitUntil(t, "all online", func() bool { return isOnline(lst) && isOnline(ost) })
	for _, ws := range []*app.Workspace{lws, ows} {
		if err := ws.LoadAnnotations(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := aws.LoadAnnotations(ctx, v); wire.ErrorCode(err) != wire.CodeForbidden {
		t.Errorf("the applicant loaded annotations: %v, want forbidden", err)
	}

	// Presence: the lead is on page 2, then leaves.
	lws.SendPresence(w.app.ID, v, 2)
	waitUntil(t, "the lead's presence at the other expert", func() bool {
		p := ost.Presence(v)
		return len(p) == 1 && p[0].UserID == w.lead.ID && p[0].Page == 2
	})

	// The lead draws a rectangle (wire frame) on page 2.
	ed := app.NewAnnotationEditor(lws, w.app.ID, v)
	it, err := ed.Create(ctx, wire.CreateAnnotationRequest{Page: 2, Kind: wire.AnnotRect, Color: "#e53935", Text: "Проверить отметку",
		Geometry: wire.Geometry{Rect: &wire.Rect{X1: 72, Y1: 600, X2: 300, Y2: 700}}})
	if err != nil || it.ID == 0 {
		t.Fatalf("create: %+v %v", it, err)
	}
	waitUntil(t, "the mark at the other expert", func() bool {
		a, ok := ost.Annotation(it.ID)
		return ok && a.AuthorID == w.lead.ID && *a.Geometry.Rect == (wire.Rect{X1: 72, Y1: 600, X2: 300, Y2: 700})
	})
	// The other expert may not delete it: the server refuses, the mark stays.
	oit := ost.AnnotationItems(v)[0]
	if err := ows.DeleteAnnotation(ctx, oit); wire.ErrorCode(err) != wire.CodeForbidden {
		t.Errorf("the other expert deleted the lead's mark: %v", err)
	}
	// The other replies; the lead sees the reply.
	if _, err := ows.ReplyAnnotation(ctx, oit, "Отметка верна"); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the reply at the lead", func() bool {
		a, _ := lst.Annotation(it.ID)
		return len(a.Replies) == 1 && a.Replies[0].AuthorID == w.other.ID
	})

	// The lead moves it; the other sees the new place.
	moved := wire.Geometry{Rect: &wire.Rect{X1: 100, Y1: 500, X2: 328, Y2: 600}}
	cur := lst.AnnotationItems(v)[0]
	if _, err := ed.Update(ctx, cur, app.AnnotationChange{Geometry: &moved}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the move at the other expert", func() bool {
		a, _ := ost.Annotation(it.ID)
		return *a.Geometry.Rect == *moved.Rect && a.Version == 2 && len(a.Replies) == 1
	})
	// Undo of the move is a new command both see.
	if err := ed.Undo(ctx); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the undo at the other expert", func() bool {
		a, _ := ost.Annotation(it.ID)
		return a.Geometry.Rect.X1 == 72 && a.Version == 3
	})
	// A stale change (the version before the undo) is refused as a conflict.
	if _, err := lws.UpdateAnnotation(ctx, cur, app.AnnotationChange{Geometry: &moved}); !app.IsConflict(err) {
		t.Errorf("a stale move: %v, want a conflict", err)
	}
	// The lead deletes it; it disappears at the other's.
	if err := ed.Delete(ctx, lst.AnnotationItems(v)[0]); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the delete at the other expert", func() bool { _, ok := ost.Annotation(it.ID); return !ok })
	if n := len(ost.AnnotationItems(v)); n != 0 {
		t.Errorf("the other still draws %d marks", n)
	}
	lws.SendPresence(w.app.ID, v, 0)
	waitUntil(t, "the lead's presence gone", func() bool { return len(ost.Presence(v)) == 0 })
}

// BenchmarkAnnotationRoundTrip measures an annotation's way from one
// expert's desktop core to another's: CreateAnnotation on the first (HTTP
// command through the outbox, commit, change log) until the event is in
// the second's Store. Reports p50 and p99 in milliseconds.
func BenchmarkAnnotationRoundTrip(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newAnnotWorld(b)
	v := w.version.ID
	lws, lst := desktopClient(ctx, b, w.s.URL(), w.lead, w.lead.NextCode(b))
	ows, ost := desktopClient(ctx, b, w.s.URL(), w.other, w.other.NextCode(b))
	waitUntil(b, "both online", func() bool { return isOnline(lst) && isOnline(ost) })
	for _, ws := range []*app.Workspace{lws, ows} {
		if err := ws.LoadAnnotations(ctx, v); err != nil {
			b.Fatal(err)
		}
	}
	var mu sync.Mutex
	started := map[string]time.Time{}
	var lat []time.Duration
	arrived := make(chan struct{}, 1)
	stop := ost.OnChange(func() {
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		if len(started) == 0 {
			return
		}
		for _, a := range ost.Annotations(v) {
			if t0, ok := started[a.Text]; ok {
				lat = append(lat, now.Sub(t0))
				delete(started, a.Text)
				select {
				case arrived <- struct{}{}:
				default:
				}
			}
		}
	})
	defer stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		text := fmt.Sprintf("Пометка %d", i)
		x := float64(i%400) + 10
		mu.Lock()
		started[text] = time.Now()
		mu.Unlock()
		if _, err := lws.CreateAnnotation(ctx, w.app.ID, v, wire.CreateAnnotationRequest{Page: 1 + i%3, Kind: wire.AnnotRect, Text: text,
			Geometry: wire.Geometry{Rect: &wire.Rect{X1: x, Y1: 100, X2: x + 50, Y2: 150}}}); err != nil {
			b.Fatal(err)
		}
		select {
		case <-arrived:
		case <-time.After(15 * time.Second):
			b.Fatalf("annotation %d never reached the other client", i)
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		i := int(float64(len(lat)-1) * p)
		return float64(lat[i].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
