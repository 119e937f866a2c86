package boot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestRemarksThroughTheDesktopCore runs the register through app.Workspace
// against a real server: the lead's draft stays private, publishing moves
// the application and reaches the applicant's client live; the applicant
// answers while the network is cut, the answer waits in the outbox and is
// sent once on reconnect; the lead accepts it.
func TestRemarksThroughTheDesktopCore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testenv.Start(t, testenv.Config())
	proxy := testenv.NewProxy(t, s.Addr.String())
	applicant := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	lead := testenv.Staff(t, s, wire.RoleExpert, 0)
	a := draft(t, applicant)
	move := func(who *testenv.Actor, to wire.Status) {
		t.Helper()
		var err error
		if a, err = who.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: to}, ""); err != nil {
			t.Fatalf("%s → %s: %v", a.Status, to, err)
		}
	}
	move(applicant, wire.StatusSubmitted)
	var err error
	if a, err = manager.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: lead.ID}, ""); err != nil {
		t.Fatal(err)
	}
	move(manager, wire.StatusAwaitingContract)
	move(applicant, wire.StatusAwaitingPayment)
	move(manager, wire.StatusInReview)

	log := testenv.Logger(t)
	open := func(server, login, password, code string) (*app.Workspace, *app.Store) {
		t.Helper()
		sess := app.NewSession(log, app.NewDeviceID(), "test")
		if _, err := sess.Login(ctx, app.Credentials{Server: server, Login: login, Password: password, TOTPCode: code}); err != nil {
			t.Fatal(err)
		}
		st := app.NewStore(log)
		ws := app.NewWorkspace(log, sess, st)
		if err := ws.UseCache(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		go func() { _ = ws.Run(ctx) }()
		t.Cleanup(func() { _ = ws.Close() })
		return ws, st
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	online := func(st *app.Store) bool { c, _ := st.Connection(); return c == client.StateOnline }
	lws, lst := open(s.URL(), lead.User.Login, lead.Password, lead.NextCode(t))
	aws, ast := open(proxy.URL(), applicant.User.Login, applicant.Password, "")
	waitFor("both online", func() bool { return online(lst) && online(ast) })
	for _, ws := range []*app.Workspace{lws, aws} {
		if _, err := ws.OpenApplication(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
	}

	if _, err := lws.CreateRemark(ctx, a.ID, wire.CreateRemarkRequest{Section: "07.03", Text: "Нет разреза 2-2", Criticality: wire.CriticalityOrdinary}); err != nil {
		t.Fatal(err)
	}
	rs := lst.Remarks(a.ID)
	if len(rs) != 1 || rs[0].Status != wire.RemarkDraft {
		t.Fatalf("lead's remarks %+v", rs)
	}
	cur, _ := lst.Application(a.ID)
	// Without a normative reference the client refuses before sending.
	if _, err := lws.PublishRemarks(ctx, cur, []int64{rs[0].ID}, ""); wire.ErrorCode(err) != wire.CodeInvalid {
		t.Fatalf("publish without a norm: %v", err)
	}
	if n := len(ast.Remarks(a.ID)); n != 0 {
		t.Fatalf("the applicant sees %d remarks before publication", n)
	}
	// The lead fixes the draft on the server (no edit use case needed here) and publishes.
	text, norm := "Нет разреза 2-2", "ГОСТ Р 21.101-2020 п. 4.2"
	if _, err := lead.C.UpdateRemark(ctx, rs[0].ID, wire.UpdateRemarkRequest{Version: rs[0].Version, Text: &text, NormRef: &norm}, ""); err != nil {
		t.Fatal(err)
	}
	waitFor("the edited draft", func() bool { r := lst.Remarks(a.ID); return len(r) == 1 && r[0].NormRef == norm })
	n, err := lws.PublishRemarks(ctx, cur, []int64{rs[0].ID}, "")
	if err != nil || n.Number != 1 {
		t.Fatalf("publish: %+v %v", n, err)
	}
	waitFor("the applicant to receive the remark and the new status", func() bool {
		r := ast.Remarks(a.ID)
		x, _ := ast.Application(a.ID)
		return len(r) == 1 && r[0].Status == wire.RemarkPublished && r[0].Number == 1 && x.Status == wire.StatusRemarksIssued
	})
	waitFor("the notice at the applicant", func() bool { return len(ast.Notices(a.ID)) == 1 })

	// The applicant answers with the network cut.
	proxy.SetDown(true)
	waitFor("applicant offline", func() bool { return !online(ast) })
	pub := ast.Remarks(a.ID)[0]
	if _, err := aws.AnswerRemark(ctx, pub, "Разрез 2-2 добавлен на лист 14", nil); !app.IsQueued(err) {
		t.Fatalf("answer offline: %v, want queued", err)
	}
	if p := ast.PendingFor(a.ID); len(p) != 1 || p[0].RemarkAnswer == nil || p[0].RemarkID != pub.ID {
		t.Fatalf("pending %+v", p)
	}
	proxy.SetDown(false)
	waitFor("the answer sent and seen by the lead", func() bool {
		r := lst.Remarks(a.ID)
		return len(ast.Pending()) == 0 && len(r) == 1 && r[0].Status == wire.RemarkAnswered && len(r[0].Answers) == 1
	})
	got, err := applicant.C.Remarks(ctx, a.ID, 0)
	if err != nil || len(got) != 1 || len(got[0].Answers) != 1 {
		t.Fatalf("server has %+v (%v), want exactly one answer", got, err)
	}
	answered := lst.Remarks(a.ID)[0]
	if moves := app.RemarkMoves(answered, cur, lead.User); !slices.Contains(moves, wire.RemarkAccepted) {
		t.Fatalf("lead's moves %v", moves)
	}
	if _, err := lws.SetRemarkStatus(ctx, answered, wire.RemarkReopened, ""); wire.ErrorCode(err) != wire.CodeCommentRequired {
		t.Fatalf("reopen without a comment: %v", err)
	}
	if _, err := lws.SetRemarkStatus(ctx, answered, wire.RemarkAccepted, ""); err != nil {
		t.Fatal(err)
	}
	waitFor("the applicant to see it accepted", func() bool {
		r := ast.Remarks(a.ID)
		return len(r) == 1 && r[0].Status == wire.RemarkAccepted
	})
}
