package boot_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/99designs/keyring"
	"github.com/google/go-cmp/cmp"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestDesktopNotifications runs the desktop core's notifier against a real
// server. What happened while the client was closed (replayed from the
// cache's position, and in the first load) shows nothing; a status change a
// manager makes afterwards shows exactly once, with the server's words
// under the kind's name in the user's language; a kind whose desktop
// preference the user turned off shows nothing, nor does anything while
// desktop notifications are off on this computer.
func TestDesktopNotifications(t *testing.T) {
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	applicant := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := applicant.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Детский сад"), ObjectAddress: str("г. Ржев"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	move := func(who *testenv.Actor, to wire.Status, comment string) {
		t.Helper()
		cur, err := who.C.Application(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := who.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: cur.Version, To: to, Comment: comment}, ""); err != nil {
			t.Fatalf("move to %s: %v", to, err)
		}
	}
	say := func(body string) {
		t.Helper()
		if _, err := manager.C.PostMessage(ctx, a.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: body}, ""); err != nil {
			t.Fatal(err)
		}
	}
	move(applicant, wire.StatusSubmitted, "")

	log := testenv.Logger(t)
	dir := t.TempDir()
	sess := app.NewSession(log, app.NewDeviceID(), "test")
	sess.SetKeyring(keyring.NewArrayKeyring(nil))
	if _, err := sess.Login(ctx, app.Credentials{Server: s.URL(), Login: applicant.User.Login, Password: applicant.Password}); err != nil {
		t.Fatal(err)
	}
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
	noted := func(st *app.Store, text string) func() bool {
		return func() bool {
			return slices.ContainsFunc(st.Notifications(), func(n wire.Notification) bool { return n.Body == text || n.Title == text })
		}
	}
	run := func() (*app.Workspace, *app.Store, func()) {
		t.Helper()
		store := app.NewStore(log)
		ws := app.NewWorkspace(log, sess, store)
		if err := ws.UseCache(dir); err != nil {
			t.Fatal(err)
		}
		runCtx, stop := context.WithCancel(ctx)
		ran := make(chan struct{})
		go func() { _ = ws.Run(runCtx); close(ran) }()
		return ws, store, func() {
			stop()
			<-ran
			if err := ws.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}

	// A first run leaves a cache with a stream position.
	say("До закрытия")
	_, store, stop := run()
	waitFor("the first load", noted(store, manager.FullName+": До закрытия"))
	stop()
	// While the client is closed the manager writes again: the next start
	// replays it from the cache's position.
	say("Пока программа закрыта")

	ws, store, stop := run()
	defer stop()
	var mu sync.Mutex
	var shown []string
	n := app.NewNotifier(app.NotifierConfig{Store: store, Preferences: ws.Preferences, Log: log,
		Title: func(k wire.NotificationKind) string { return app.KindName(k, true) },
		Send: func(title, body string) {
			mu.Lock()
			shown = append(shown, title+" | "+body)
			mu.Unlock()
		}})
	n.Start(ctx)
	defer n.Stop()
	taken := func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := shown
		shown = nil
		return out
	}
	waitFor("the replayed message", noted(store, manager.FullName+": Пока программа закрыта"))
	if got := taken(); len(got) != 0 {
		t.Fatalf("the backlog was shown on the desktop: %q", got)
	}

	// Live: the manager asks for corrections.
	move(manager, wire.StatusNeedsCorrection, "Нет ГПЗУ")
	waitFor("the status notification", noted(store, "Статус: Требуется доработка"))
	// The applicant resubmits (their own move notifies nobody here) and a
	// second manager move follows, so a duplicate of the first would have
	// arrived by now.
	move(applicant, wire.StatusSubmitted, "")
	move(manager, wire.StatusNeedsCorrection, "Нет ГПЗУ, повторно")
	waitFor("the second status notification", noted(store, "Заявление "+a.Number+" («Детский сад»): На проверке комплектности → Требуется доработка. Комментарий: Нет ГПЗУ, повторно"))
	want := []string{
		"Application status and files | Статус: Требуется доработка\nЗаявление " + a.Number + " («Детский сад»): На проверке комплектности → Требуется доработка. Комментарий: Нет ГПЗУ",
		"Application status and files | Статус: Требуется доработка\nЗаявление " + a.Number + " («Детский сад»): На проверке комплектности → Требуется доработка. Комментарий: Нет ГПЗУ, повторно",
	}
	if diff := cmp.Diff(want, taken()); diff != "" {
		t.Fatalf("desktop notifications mismatch (-want +got):\n%s", diff)
	}

	// The user turns desktop notifications for chat off (and keeps them in
	// the app): a message shows nothing, a status change still does.
	ps, err := ws.Preferences(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		if ps[i].Kind == wire.NotifyMessage {
			ps[i].Desktop, ps[i].InApp = false, true
		}
	}
	saved, err := ws.SetPreferences(ctx, ps)
	if err != nil {
		t.Fatal(err)
	}
	n.UsePreferences(saved)
	say("После отключения")
	waitFor("the message in the feed", noted(store, manager.FullName+": После отключения"))
	move(applicant, wire.StatusSubmitted, "")
	move(manager, wire.StatusNeedsCorrection, "Третий раз")
	waitFor("the third status notification", noted(store, "Заявление "+a.Number+" («Детский сад»): На проверке комплектности → Требуется доработка. Комментарий: Третий раз"))
	got := taken()
	if len(got) != 1 || got[0] != "Application status and files | Статус: Требуется доработка\nЗаявление "+a.Number+" («Детский сад»): На проверке комплектности → Требуется доработка. Комментарий: Третий раз" {
		t.Fatalf("after turning chat off, shown %q; want only the status change", got)
	}

	// Switched off on this computer: nothing at all.
	n.SetEnabled(false)
	move(applicant, wire.StatusSubmitted, "")
	move(manager, wire.StatusNeedsCorrection, "Четвёртый раз")
	waitFor("the fourth status notification", noted(store, "Заявление "+a.Number+" («Детский сад»): На проверке комплектности → Требуется доработка. Комментарий: Четвёртый раз"))
	if got := taken(); len(got) != 0 {
		t.Fatalf("shown while switched off: %q", got)
	}
}
