package fault_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestOfflineForMinutes: the desktop core (app.Workspace with its cache and
// durable outbox) works through a network cut of EXPERTIZA_FAULT_CUT
// (default 20 s; minutes under `make soak`): it opens the cached card,
// posts messages and submits the application, all queued. When the network
// returns, the queue is cut once more right after its first command is
// answered (the flush breaks off at an arbitrary point). Pass: the outbox
// drains to empty with no refusal; the server holds every message exactly
// once, in the order written, and the application submitted once (one
// history row, one audit row); the client's store shows each message once;
// the audit chain verifies.
func TestOfflineForMinutes(t *testing.T) {
	sc := loadScale(t)
	n := 10 * sc.factor
	ctx := context.Background()
	db := newDB(t)
	s := testenv.StartOn(t, db, testenv.Config())
	proxy := testenv.NewProxy(t, s.Addr.String())
	owner := testenv.Applicant(t, s)
	a := newApp(t, owner.C, "Поликлиника на 300 посещений")

	log := testenv.Logger(t)
	sess := app.NewSession(log, app.NewDeviceID(), "fault-test")
	sess.SetKeyring(keyring.NewArrayKeyring(nil))
	if _, err := sess.Login(ctx, app.Credentials{Server: proxy.URL(), Login: owner.User.Login, Password: owner.Password}); err != nil {
		t.Fatal(err)
	}
	store := app.NewStore(log)
	ws := app.NewWorkspace(log, sess, store)
	if err := ws.UseCache(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { _ = ws.Run(runCtx); close(ran) }()
	defer func() {
		stop()
		<-ran
		if err := ws.Close(); err != nil {
			t.Error(err)
		}
	}()
	conn := func() client.State { c, _ := store.Connection(); return c }
	waitUntil(t, "the client online with the application cached", func() bool {
		_, ok := store.Application(a.ID)
		return ok && conn() == client.StateOnline
	})
	if _, err := ws.OpenApplication(ctx, a.ID); err != nil {
		t.Fatal(err)
	}

	proxy.SetDown(true)
	cutAt := time.Now()
	waitUntil(t, "the client to notice the cut", func() bool { return conn() != client.StateOnline })
	card, err := ws.OpenApplication(ctx, a.ID)
	if err != nil || !card.Offline {
		t.Fatalf("cached card offline: %+v %v", card.Offline, err)
	}
	var bodies []string
	spread := sc.cut / time.Duration(n+2)
	for i := range n {
		b := fmt.Sprintf("Офлайн-сообщение %d из %d: «ответ на замечание»", i+1, n)
		if _, err := ws.PostMessage(ctx, a.ID, wire.ChannelApplicant, b); !app.IsQueued(err) {
			t.Fatalf("post offline: %v, want queued", err)
		}
		bodies = append(bodies, b)
		time.Sleep(spread) // work spread over the cut, as a user would
	}
	if _, err := ws.Transition(ctx, a.ID, card.App.Version, wire.StatusSubmitted, "Отправлено без связи"); !app.IsQueued(err) {
		t.Fatalf("submit offline: %v, want queued", err)
	}
	if got := len(store.Pending()); got != n+1 {
		t.Fatalf("%d commands queued, want %d", got, n+1)
	}
	time.Sleep(time.Until(cutAt.Add(sc.cut)))
	proxy.SetDown(false)
	back := time.Now()

	// The flush is cut once more after its first answer.
	waitUntil(t, "the first queued command to be answered", func() bool { return len(store.Pending()) < n+1 })
	atCut := len(store.Pending())
	proxy.Cut()
	waitUntil(t, "the outbox to drain", func() bool { return len(store.Pending()) == 0 && conn() == client.StateOnline })
	drained := time.Since(back)
	if r := store.Refused(); len(r) != 0 {
		t.Fatalf("refused after reconnect: %+v", r)
	}
	msgs, err := owner.C.Messages(ctx, a.ID, wire.ChannelApplicant, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range msgs {
		got = append(got, m.Body)
	}
	if !slices.Equal(got, bodies) {
		t.Fatalf("server holds %d messages %q\nwant %d, once each, in order %q", len(got), got, len(bodies), bodies)
	}
	hist, err := owner.C.History(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].To != wire.StatusSubmitted {
		t.Fatalf("history after the drain: %+v, want one move to submitted", hist)
	}
	pool := (&world{t: t, db: db}).pool()
	defer pool.Close()
	var audits int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'status_change' AND object_id = $1`, fmt.Sprint(a.ID)).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if audits != 1 {
		t.Fatalf("%d status_change audit rows, want 1", audits)
	}
	waitUntil(t, "the client's store to show each message once", func() bool {
		var local []string
		for _, m := range store.Messages(a.ID, wire.ChannelApplicant) {
			local = append(local, m.Body)
		}
		return slices.Equal(local, bodies)
	})
	checkAudit(t, pool)
	t.Logf("offline %v with %d commands queued; after the network returned (and was cut once more with %d still queued) the outbox drained in %v, each command applied once; %d proxy connections",
		sc.cut, n+1, atCut, drained.Round(time.Millisecond), proxy.Accepted())
}
