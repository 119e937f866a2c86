package boot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestOfflineWorkIsQueuedAndSentOnce runs the desktop core against a real
// server behind a cuttable TCP proxy. With the network cut the user reads
// the cached card, writes three messages and submits the application; the
// commands wait on disk (across a restart of the client) and show as
// pending. When the network returns they are sent in order, each exactly
// once. A move queued offline over a change someone else made meanwhile
// comes back as a refusal the user sees, not as an overwrite.
func TestOfflineWorkIsQueuedAndSentOnce(t *testing.T) {
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	proxy := testenv.NewProxy(t, s.Addr.String())
	applicant := testenv.Applicant(t, s)
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := applicant.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Школа на 550 мест"), ObjectAddress: str("г. Псков"),
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
	start := func(sess *app.Session) (*app.Workspace, *app.Store, func()) {
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
	conn := func(st *app.Store) client.State { c, _ := st.Connection(); return c }

	sess := app.NewSession(log, app.NewDeviceID(), "test")
	sess.SetKeyring(kr)
	if _, err := sess.Login(ctx, app.Credentials{Server: proxy.URL(), Login: applicant.User.Login, Password: applicant.Password}); err != nil {
		t.Fatal(err)
	}
	if err := sess.SaveToken(); err != nil {
		t.Fatal(err)
	}
	ws, store, stop := start(sess)
	waitFor("the list", func() bool { _, ok := store.Application(a.ID); return ok })
	if _, err := ws.OpenApplication(ctx, a.ID); err != nil {
		t.Fatal(err)
	}

	// The cable is pulled.
	proxy.SetDown(true)
	waitFor("offline", func() bool { return conn(store) != client.StateOnline })
	card, err := ws.OpenApplication(ctx, a.ID)
	if err != nil {
		t.Fatalf("open the cached card offline: %v", err)
	}
	if !card.Offline || card.App.ID != a.ID || !slices.Contains(card.Transitions, wire.StatusSubmitted) {
		t.Fatalf("offline card: offline=%v app=%d moves=%v", card.Offline, card.App.ID, card.Transitions)
	}
	bodies := []string{"Первое офлайн", "Второе офлайн", "Третье офлайн"}
	for _, b := range bodies {
		if _, err := ws.PostMessage(ctx, a.ID, wire.ChannelApplicant, b); !app.IsQueued(err) {
			t.Fatalf("post %q offline: %v, want queued", b, err)
		}
	}
	if _, err := ws.Transition(ctx, a.ID, card.App.Version, wire.StatusSubmitted, ""); !app.IsQueued(err) {
		t.Fatalf("submit offline: %v, want queued", err)
	}
	if n := len(store.PendingFor(a.ID)); n != 4 {
		t.Fatalf("pending for the application: %d, want 4", n)
	}
	if sy := store.Sync(); sy.Queued != 4 || sy.Conn == client.StateOnline {
		t.Fatalf("sync state offline: %+v", sy)
	}

	// The client is closed and opened again while still offline: the queue
	// is on disk.
	stop()
	sess2 := app.NewSession(log, app.NewDeviceID(), "test")
	sess2.SetKeyring(kr)
	if _, err := sess2.RestoreToken(proxy.URL()); err != nil {
		t.Fatal(err)
	}
	ws2, store2, stop2 := start(sess2)
	defer stop2()
	pend := store2.Pending()
	if len(pend) != 4 || pend[0].Message == nil || pend[0].Message.Body != bodies[0] || pend[3].Transition == nil || pend[3].Transition.To != wire.StatusSubmitted {
		t.Fatalf("pending after restart: %+v", pend)
	}

	// The network returns: the queue drains in order, once each.
	proxy.SetDown(false)
	waitFor("the queue drained", func() bool { return len(store2.Pending()) == 0 && conn(store2) == client.StateOnline })
	if r := store2.Refused(); len(r) != 0 {
		t.Fatalf("refused: %+v", r)
	}
	msgs, err := applicant.C.Messages(ctx, a.ID, wire.ChannelApplicant, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Body)
	}
	if !slices.Equal(got, bodies) {
		t.Fatalf("messages on the server: %q, want %q once each in order", got, bodies)
	}
	cur, err := applicant.C.Application(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Status != wire.StatusSubmitted {
		t.Fatalf("status on the server: %s", cur.Status)
	}
	waitFor("the store to show each message once", func() bool {
		var local []string
		for _, m := range store2.Messages(a.ID, wire.ChannelApplicant) {
			local = append(local, m.Body)
		}
		return slices.Equal(local, bodies)
	})

	// Offline again; meanwhile a manager returns the application for
	// correction. The applicant's withdrawal, queued over the old version,
	// is refused when sent and kept for the user to read.
	proxy.SetDown(true)
	waitFor("offline again", func() bool { return conn(store2) != client.StateOnline })
	if _, err := ws2.Transition(ctx, a.ID, cur.Version, wire.StatusWithdrawn, "Передумали"); !app.IsQueued(err) {
		t.Fatalf("withdraw offline: %v, want queued", err)
	}
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	if _, err := manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: cur.Version, To: wire.StatusNeedsCorrection, Comment: "Нет раздела ПЗ"}, ""); err != nil {
		t.Fatal(err)
	}
	proxy.SetDown(false)
	waitFor("the refusal", func() bool { return len(store2.Refused()) == 1 && len(store2.Pending()) == 0 })
	ref := store2.Refused()[0]
	if ref.Err == nil || ref.Err.Code != wire.CodeConflict || ref.Transition == nil || ref.Transition.To != wire.StatusWithdrawn {
		t.Fatalf("refusal: %+v err=%+v", ref, ref.Err)
	}
	if cur, _ = applicant.C.Application(ctx, a.ID); cur.Status != wire.StatusNeedsCorrection {
		t.Fatalf("the manager's change was overwritten: %s", cur.Status)
	}
	if err := ws2.DismissRefused(ref.ID); err != nil {
		t.Fatal(err)
	}
	if sy := store2.Sync(); sy.Refused != 0 || sy.Queued != 0 {
		t.Fatalf("after dismiss: %+v", sy)
	}
}
