package httpapi_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/seed"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// hang bounds waits for pushed events; waits end as soon as their
// condition holds, nothing asserts a duration.
const hang = 2 * time.Minute // a bound on waits that end as soon as their condition holds; CI machines may be slow

// reviewCast is one server with everyone a review involves.
type reviewCast struct {
	s                                                         *boot.Server
	member, other, lead, assigned, unassigned, manager, admin *testenv.Actor
}

func newReviewCast(t testing.TB) *reviewCast {
	t.Helper()
	s := testenv.Start(t, testenv.Config())
	c := &reviewCast{s: s, member: testenv.Applicant(t, s), other: testenv.Applicant(t, s)}
	c.lead = testenv.Staff(t, s, wire.RoleExpert, 0)
	c.assigned = testenv.Staff(t, s, wire.RoleExpert, 0)
	c.unassigned = testenv.Staff(t, s, wire.RoleExpert, 0)
	c.manager = testenv.Staff(t, s, wire.RoleManager, 0)
	c.admin = testenv.Staff(t, s, wire.RoleAdmin, 0)
	return c
}

// uploadPDF uploads a real n-page A4 PDF (595 × 842 pt) as a new version of
// the section's file "name" and returns the version id.
func uploadPDF(t testing.TB, c *client.Client, appID int64, section, name string, pages int) int64 {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, seed.DemoPDF(pages, "Архитектурные решения"), 0o600); err != nil {
		t.Fatal(err)
	}
	up, err := c.StartUpload(ctx, appID, section, name, path)
	if err != nil {
		t.Fatalf("start upload: %v", err)
	}
	if up, err = c.SendChunks(ctx, up, path, 1, nil); err != nil {
		t.Fatalf("send upload: %v", err)
	}
	if up.VersionID == 0 {
		t.Fatalf("upload finished without a version: %+v", up)
	}
	return up.VersionID
}

// inReview takes a new application of member to in_review with lead as
// lead expert and assigned on section 07.03, a 3-page PDF of 07.03
// uploaded; it returns the application and the version.
func inReview(t testing.TB, member, manager, lead, assigned *testenv.Actor) (wire.Application, int64) {
	t.Helper()
	ctx := context.Background()
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := member.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Жилой дом"), ObjectAddress: str("г. Казань"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	vid := uploadPDF(t, member.C, a.ID, "07.03", "АР", 3)
	move := func(who *testenv.Actor, to wire.Status) {
		t.Helper()
		if a, err = who.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: to}, ""); err != nil {
			t.Fatalf("fixture %s → %s: %v", a.Status, to, err)
		}
	}
	move(member, wire.StatusSubmitted)
	if a, err = manager.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: lead.ID,
		Assignments: []wire.Assignment{{Section: "07.03", ExpertID: assigned.ID}}}, ""); err != nil {
		t.Fatal(err)
	}
	move(manager, wire.StatusAwaitingContract)
	move(member, wire.StatusAwaitingPayment)
	move(manager, wire.StatusInReview)
	return a, vid
}

// rectOn is a valid rectangle annotation request on page 1.
func rectOn(x float64) wire.CreateAnnotationRequest {
	return wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotRect, Color: "#ff0000", Text: "Проверить высоту этажа",
		Geometry: wire.Geometry{Rect: &wire.Rect{X1: x, Y1: 100, X2: x + 50, Y2: 160}}}
}

// fence posts an applicant-channel message and waits until rec has it:
// every event committed before it has arrived by then, so "never got X"
// means "not before everything committed had arrived".
func fence(t *testing.T, by *testenv.Actor, appID int64, rec *testenv.Recorder) {
	t.Helper()
	m, err := by.C.PostMessage(context.Background(), appID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: "fence"}, "")
	if err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, hang, "the fence message", func(r *testenv.Recorder) bool {
		for _, e := range testenv.Kinds(r.Events(), wire.EventMessage) {
			var got wire.Message
			if e.Decode(&got) == nil && got.ID == m.ID {
				return true
			}
		}
		return false
	})
}

// waitEvent waits for an event of kind whose data satisfies match.
func waitEvent[T any](t *testing.T, rec *testenv.Recorder, kind wire.EventKind, what string, match func(T) bool) T {
	t.Helper()
	var out T
	rec.WaitFor(t, hang, what, func(r *testenv.Recorder) bool {
		for _, e := range testenv.Kinds(r.Events(), kind) {
			var v T
			if e.Decode(&v) == nil && match(v) {
				out = v
				return true
			}
		}
		return false
	})
	return out
}

func wantCode(t *testing.T, err error, code wire.Code, field string) *wire.Error {
	t.Helper()
	we, ok := wire.AsError(err)
	if !ok {
		t.Fatalf("got %v, want a %s error", err, code)
	}
	if we.Code != code || (field != "" && we.Field != field) {
		t.Fatalf("got %s (field %q): %s; want %s (field %q)", we.Code, we.Field, we.Message, code, field)
	}
	if we.Message == "" || we.MessageEN == "" {
		t.Errorf("error %s lacks a Russian or English message: %+v", code, we)
	}
	return we
}

// auditActions lists the audit journal actions of a user, oldest first.
func auditActions(t *testing.T, s *boot.Server, userID int64) []string {
	t.Helper()
	rows, err := s.Service.Store().Read().AuditFor(context.Background(), userID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		out = append(out, rows[i].Action)
	}
	return out
}

// wantActions checks every action appears in the journal.
func wantActions(t *testing.T, got []string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("audit journal lacks %q: %v", w, got)
		}
	}
}
