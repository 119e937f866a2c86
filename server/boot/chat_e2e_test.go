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

// TestChatTypingAndReadMarks: an applicant types in the application's
// chat and the manager's client shows it; the message arrives unread and
// ends the typing mark; the manager reads it and the mark moves on the
// server.
func TestChatTypingAndReadMarks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testenv.Start(t, testenv.Config())
	applicant := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	a := draft(t, applicant)
	if _, err := applicant.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusSubmitted}, ""); err != nil {
		t.Fatal(err)
	}
	log := testenv.Logger(t)
	open := func(login, password, code string) (*app.Workspace, *app.Store) {
		t.Helper()
		sess := app.NewSession(log, app.NewDeviceID(), "test")
		cr := app.Credentials{Server: s.URL(), Login: login, Password: password, TOTPCode: code}
		if _, err := sess.Login(ctx, cr); err != nil {
			t.Fatal(err)
		}
		st := app.NewStore(log)
		ws := app.NewWorkspace(log, sess, st)
		go func() { _ = ws.Run(ctx) }()
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
	aws, ast := open(applicant.User.Login, applicant.Password, "")
	mws, mst := open(manager.User.Login, manager.Password, manager.NextCode(t))
	waitFor("both online", func() bool { return online(ast) && online(mst) })
	for _, ws := range []*app.Workspace{aws, mws} {
		if _, err := ws.OpenApplication(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
	}

	aws.Typing(a.ID, wire.ChannelApplicant)
	waitFor("the manager to see the applicant typing", func() bool {
		return slices.Equal(mst.Typing(a.ID, wire.ChannelApplicant), []string{applicant.User.FullName})
	})
	if got := ast.Typing(a.ID, wire.ChannelApplicant); len(got) != 0 {
		t.Errorf("the applicant sees their own typing: %v", got)
	}
	if got := mst.Typing(a.ID, wire.ChannelStaff); len(got) != 0 {
		t.Errorf("typing shown in the staff channel: %v", got)
	}

	m, err := aws.PostMessage(ctx, a.ID, wire.ChannelApplicant, "Добрый день, документы загружены")
	if err != nil {
		t.Fatal(err)
	}
	waitFor("the message unread at the manager", func() bool { return mst.ChatUnread(a.ID, wire.ChannelApplicant) == 1 })
	if got := mst.Typing(a.ID, wire.ChannelApplicant); len(got) != 0 {
		t.Errorf("still typing after the message arrived: %v", got)
	}
	if n := ast.ChatUnread(a.ID, wire.ChannelApplicant); n != 0 {
		t.Errorf("the author has %d unread of their own", n)
	}
	if err := mws.MarkChatRead(ctx, a.ID, wire.ChannelApplicant); err != nil {
		t.Fatal(err)
	}
	if n := mst.ChatUnread(a.ID, wire.ChannelApplicant); n != 0 || mst.LastRead(a.ID, wire.ChannelApplicant) != m.ID {
		t.Fatalf("after reading: %d unread, mark %d want %d", n, mst.LastRead(a.ID, wire.ChannelApplicant), m.ID)
	}
	marks, err := manager.C.ReadMarks(ctx, a.ID)
	if err != nil || !slices.ContainsFunc(marks, func(r wire.ReadMark) bool { return r.Channel == wire.ChannelApplicant && r.LastReadID == m.ID }) {
		t.Fatalf("server read marks %+v %v", marks, err)
	}
}
