package boot_test

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestCacheColdStartReplaysMissedEvents runs the desktop core with its disk
// cache against a real server: sign in, load, close; another client of the
// same user commits while this one is closed; on reopening (token from the
// keyring, no password) the cached state is there before any request, and
// the missed changes arrive by replay from the cached sequence — chats and
// history are not part of the list reload, so only the replay brings them.
func TestCacheColdStartReplaysMissedEvents(t *testing.T) {
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	applicant := testenv.Applicant(t, s)
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := applicant.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Поликлиника"), ObjectAddress: str("г. Тверь"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	log := testenv.Logger(t)
	dir := t.TempDir()
	kr := keyring.NewArrayKeyring(nil)

	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	hasMessage := func(st *app.Store, body string) bool {
		return slices.ContainsFunc(st.Messages(a.ID, wire.ChannelApplicant), func(m wire.Message) bool { return m.Body == body })
	}

	// First run: sign in with the password, remember the token, load.
	sess := app.NewSession(log, app.NewDeviceID(), "test")
	sess.SetKeyring(kr)
	if _, err := sess.Login(ctx, app.Credentials{Server: s.URL(), Login: applicant.User.Login, Password: applicant.Password}); err != nil {
		t.Fatal(err)
	}
	if err := sess.SaveToken(); err != nil {
		t.Fatal(err)
	}
	store := app.NewStore(log)
	ws := app.NewWorkspace(log, sess, store)
	if err := ws.UseCache(dir); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- ws.Run(runCtx) }()
	waitFor("the list", func() bool { _, ok := store.Application(a.ID); return ok })
	if _, err := ws.OpenApplication(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := ws.PostMessage(ctx, a.ID, wire.ChannelApplicant, "Первое"); err != nil {
		t.Fatal(err)
	}
	// The message's own event moves the position past it.
	waitFor("the message's event", func() bool { seq, ok := store.Seq(); return ok && seq > 0 && hasMessage(store, "Первое") })
	time.Sleep(100 * time.Millisecond) // let any trailing event of the commit arrive
	stop()
	if err := <-ran; err != nil {
		t.Fatal(err)
	}
	if err := ws.Close(); err != nil {
		t.Fatal(err)
	}
	closedAt, _ := store.Seq()

	// While the client is closed the user works on another machine.
	if _, err := applicant.C.PostMessage(ctx, a.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: "Пока закрыто"}, ""); err != nil {
		t.Fatal(err)
	}
	cur, err := applicant.C.Application(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := applicant.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: cur.Version, To: wire.StatusSubmitted}, ""); err != nil {
		t.Fatal(err)
	}

	// Cold start: the token comes from the keyring, the state from the
	// cache — neither asks the server.
	sess2 := app.NewSession(log, app.NewDeviceID(), "test")
	sess2.SetKeyring(kr)
	if u, err := sess2.RestoreToken(s.URL()); err != nil || u.ID != applicant.User.ID {
		t.Fatalf("restore token: %+v %v", u, err)
	}
	store2 := app.NewStore(log)
	ws2 := app.NewWorkspace(log, sess2, store2)
	if err := ws2.UseCache(dir); err != nil {
		t.Fatal(err)
	}
	defer ws2.Close()
	got, ok := store2.Application(a.ID)
	if !ok || got.Status != wire.StatusDraft || !hasMessage(store2, "Первое") || hasMessage(store2, "Пока закрыто") {
		t.Fatalf("cached state before the network: %+v %v %+v", got, ok, store2.Messages(a.ID, wire.ChannelApplicant))
	}
	if seq, ok := store2.Seq(); !ok || seq != closedAt {
		t.Fatalf("cached position %d %v, want %d", seq, ok, closedAt)
	}
	if store2.Me().ID != applicant.User.ID {
		t.Fatalf("cached user %+v", store2.Me())
	}

	runCtx2, stop2 := context.WithCancel(ctx)
	defer stop2()
	go func() { _ = ws2.Run(runCtx2) }()
	waitFor("the missed message by replay", func() bool { return hasMessage(store2, "Пока закрыто") })
	waitFor("the missed status change by replay", func() bool {
		return slices.ContainsFunc(store2.History(a.ID), func(c wire.StatusChange) bool { return c.To == wire.StatusSubmitted })
	})
	waitFor("the new status", func() bool { x, _ := store2.Application(a.ID); return x.Status == wire.StatusSubmitted })
	if seq, _ := store2.Seq(); seq <= closedAt {
		t.Fatalf("position %d did not move past %d", seq, closedAt)
	}

	// Logout forgets the cache and the token.
	if err := ws2.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := app.NewSession(log, "x", "test").RestoreToken(s.URL()); err == nil {
		t.Fatal("token restored without a keyring")
	}
	s3 := app.NewSession(log, "x", "test")
	s3.SetKeyring(kr)
	if _, err := s3.RestoreToken(s.URL()); err != app.ErrNoSavedToken {
		t.Fatalf("token after logout: %v", err)
	}
	if _, err := os.Stat(app.CachePath(dir, s.URL(), applicant.User.ID)); !os.IsNotExist(err) {
		t.Fatalf("cache after logout: %v", err)
	}
}
