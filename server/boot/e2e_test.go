package boot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestWholeFlow drives an application from registration to a positive
// conclusion through the public API, while a second client of the
// applicant's organisation watches every event arrive live.
func TestWholeFlow(t *testing.T) {
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	app := testenv.Applicant(t, s)
	watcher := testenv.Member(t, s, app) // a colleague on another machine
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	lead := testenv.Staff(t, s, wire.RoleExpert, 0)
	kr := testenv.Staff(t, s, wire.RoleExpert, 0)
	_, rec := watcher.Subscribe(t, nil)
	_, leadRec := lead.Subscribe(t, nil)

	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingNonBudget
	a, err := app.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Жилой дом"), ObjectAddress: str("г. Москва, ул. Тверская, 1"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != wire.StatusDraft || a.Number == "" {
		t.Fatalf("new application: status %s number %q", a.Status, a.Number)
	}
	move := func(who *testenv.Actor, to wire.Status, comment string) {
		t.Helper()
		var err error
		a, err = who.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: to, Comment: comment}, client.NewIdempotencyKey())
		if err != nil {
			t.Fatalf("%s → %s by %s: %v", a.Status, to, who.Role, err)
		}
		if a.Status != to {
			t.Fatalf("status %s, want %s", a.Status, to)
		}
	}
	move(app, wire.StatusSubmitted, "")
	if a.Deadline == nil || a.DaysLeft == nil || *a.DaysLeft != wire.CompletenessDays {
		t.Fatalf("completeness deadline not set: %+v %+v", a.Deadline, a.DaysLeft)
	}
	move(manager, wire.StatusAwaitingContract, "")
	a, err = manager.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: lead.ID, Assignments: []wire.Assignment{
		{Section: "07.03", ExpertID: lead.ID}, {Section: "07.04", ExpertID: kr.ID}}}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	leadRec.WaitFor(t, 5*time.Second, "lead sees the assigned application", func(r *testenv.Recorder) bool {
		return len(testenv.Kinds(r.Events(), wire.EventApplication)) > 0
	})
	move(app, wire.StatusAwaitingPayment, "")
	move(manager, wire.StatusInReview, "Оплата получена")
	if a.DaysLeft == nil || *a.DaysLeft != wire.ReviewDays {
		t.Fatalf("review deadline: %v days left, want %d", a.DaysLeft, wire.ReviewDays)
	}
	// The applicant cannot skip ahead, and a comment is required for remarks.
	if _, err := app.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusConclusion}, ""); wire.ErrorCode(err) != wire.CodeForbidden {
		t.Fatalf("applicant moving to conclusion: %v, want forbidden", err)
	}
	if _, err := lead.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusRemarksIssued}, ""); wire.ErrorCode(err) != wire.CodeCommentRequired {
		t.Fatalf("remarks without comment: %v, want comment_required", err)
	}
	move(lead, wire.StatusRemarksIssued, "Замечания по разделам АР и КР")
	msg, err := app.C.PostMessage(ctx, a.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: "Ответы направлены"}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	move(app, wire.StatusInReview, "Ответы на замечания")
	move(lead, wire.StatusConclusion, "")
	if _, err := manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusCompletedPositive}, ""); wire.ErrorCode(err) != wire.CodeIllegalTransition {
		t.Fatalf("approval before a proposed verdict: %v, want illegal_transition", err)
	}
	// The verdict is proposed with a complete conclusion draft (conclusion tests cover it).
	if _, err := lead.C.SaveConclusion(ctx, a.ID, wire.SaveConclusionRequest{Findings: []wire.ConclusionFinding{{Section: "07.03", Text: "Соответствует"}},
		Justification: "Документация соответствует требованиям"}, ""); err != nil {
		t.Fatal(err)
	}
	a, err = lead.C.ProposeVerdict(ctx, a.ID, wire.VerdictRequest{Version: a.Version, Verdict: wire.StatusCompletedPositive}, "")
	if err != nil {
		t.Fatal(err)
	}
	move(manager, wire.StatusCompletedPositive, "")

	want := []wire.Status{wire.StatusSubmitted, wire.StatusAwaitingContract, wire.StatusAwaitingPayment, wire.StatusInReview,
		wire.StatusRemarksIssued, wire.StatusInReview, wire.StatusConclusion, wire.StatusCompletedPositive}
	rec.WaitFor(t, 10*time.Second, "every status change", func(r *testenv.Recorder) bool {
		return len(testenv.Kinds(r.Events(), wire.EventStatusChanged)) >= len(want)
	})
	var got []wire.Status
	for _, e := range testenv.Kinds(rec.Events(), wire.EventStatusChanged) {
		var c wire.StatusChange
		if err := e.Decode(&c); err != nil {
			t.Fatal(err)
		}
		got = append(got, c.To)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("watcher saw statuses %v, want %v", got, want)
	}
	// Sequence numbers strictly increase and the watcher saw the message.
	evs := rec.Events()
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatalf("sequence went from %d to %d", evs[i-1].Seq, evs[i].Seq)
		}
	}
	if !slices.ContainsFunc(testenv.Kinds(evs, wire.EventMessage), func(e wire.Event) bool {
		var m wire.Message
		return e.Decode(&m) == nil && m.ID == msg.ID
	}) {
		t.Fatal("watcher did not receive the chat message")
	}
	hist, err := app.C.History(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != len(want) || hist[4].Comment != "Замечания по разделам АР и КР" {
		t.Fatalf("history: %+v", hist)
	}
	// Notifications reached the applicant.
	ns, err := app.C.Notifications(ctx)
	if err != nil || len(ns) == 0 {
		t.Fatalf("applicant notifications: %v %v", ns, err)
	}
}
