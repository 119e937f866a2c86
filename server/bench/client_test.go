package bench

// Benchmarks of the desktop client core (app.Session, app.Store,
// app.Workspace) against a real server started in this process: a cold
// start from a warm disk cache of 10,000 applications, catching up on
// 1,000 changes made while the client was closed, and draining 1,000
// commands queued offline in the durable outbox. Run with
// `make bench-client`.

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/keyring"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// install is what a desktop installation keeps between runs: the server
// it talks to, the keyring holding the session token and the folder of
// its cache and outbox.
type install struct {
	url string
	kr  keyring.Keyring
	dir string
	log *slog.Logger
}

// signIn signs who in once with the password and saves the token, as the
// login screen does; later starts restore it from the keyring.
func signIn(tb testing.TB, url string, who *testenv.Actor) install {
	tb.Helper()
	in := install{url: url, kr: keyring.NewArrayKeyring(nil), dir: tb.TempDir(), log: testenv.Logger(tb)}
	sess := app.NewSession(in.log, app.NewDeviceID(), "bench")
	sess.SetKeyring(in.kr)
	if _, err := sess.Login(context.Background(), app.Credentials{Server: url, Login: who.User.Login, Password: who.Password}); err != nil {
		tb.Fatal(err)
	}
	if err := sess.SaveToken(); err != nil {
		tb.Fatal(err)
	}
	return in
}

// desktop is one run of the client core, from start to Close.
type desktop struct {
	store   *app.Store
	ws      *app.Workspace
	changed chan struct{} // poked on every Store change
	unwatch func()
	stopRun context.CancelFunc
	ran     chan error
}

// open starts the client as the desktop binary does: a new session from
// the keyring's token (no network), a new Store, and the disk cache
// loaded into it.
func (in install) open(tb testing.TB) *desktop {
	tb.Helper()
	sess := app.NewSession(in.log, app.NewDeviceID(), "bench")
	sess.SetKeyring(in.kr)
	if _, err := sess.RestoreToken(in.url); err != nil {
		tb.Fatal(err)
	}
	d := &desktop{store: app.NewStore(in.log), changed: make(chan struct{}, 1)}
	d.unwatch = d.store.OnChange(func() {
		select {
		case d.changed <- struct{}{}:
		default:
		}
	})
	d.ws = app.NewWorkspace(in.log, sess, d.store)
	if err := d.ws.UseCache(in.dir); err != nil {
		tb.Fatal(err)
	}
	return d
}

// run follows the event stream in the background, as the window does.
func (d *desktop) run() {
	ctx, cancel := context.WithCancel(context.Background())
	d.stopRun, d.ran = cancel, make(chan error, 1)
	go func() { d.ran <- d.ws.Run(ctx) }()
}

// close stops the stream and closes the cache and the outbox, as closing
// the window does.
func (d *desktop) close(tb testing.TB) {
	tb.Helper()
	if d.stopRun != nil {
		d.stopRun()
		if err := <-d.ran; err != nil {
			tb.Fatalf("client run: %v", err)
		}
	}
	d.unwatch()
	if err := d.ws.Close(); err != nil {
		tb.Fatal(err)
	}
}

// waitFor returns when cond holds. It is re-checked on every Store change,
// so the moment measured is the change that made it true, not a poll tick.
func (d *desktop) waitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-d.changed:
		case <-time.After(20 * time.Millisecond):
		case <-deadline.C:
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

func (d *desktop) online() bool {
	st, _ := d.store.Connection()
	return st == client.StateOnline
}

// synced: online and the lists reloaded after going live.
func (d *desktop) synced() bool { return d.online() && !d.store.Sync().Syncing }

// createApps creates n applications as who, from several connections at
// once (setup only: through the real HTTP API, so every one is a real
// commit with its change-log event).
func createApps(tb testing.TB, url string, who *testenv.Actor, n int) []wire.Application {
	tb.Helper()
	const workers = 4
	out := make([]wire.Application, n)
	var wg sync.WaitGroup
	var failed atomic.Value
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := client.New(url)
			c.SetToken(who.C.Token())
			works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
			for i := w; i < n; i += workers {
				name := fmt.Sprintf("%s на %d мест, корпус %d", objectKinds[i%len(objectKinds)], 100+i%900, i)
				addr := fmt.Sprintf("г. Тверь, ул. Школьная, д. %d", i)
				a, err := c.CreateApplication(context.Background(), wire.ApplicationInput{ObjectName: &name, ObjectAddress: &addr,
					WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, client.NewIdempotencyKey())
				if err != nil {
					failed.Store(err)
					return
				}
				out[i] = a
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		tb.Fatalf("create applications: %v", err)
	}
	return out
}

var objectKinds = []string{"Школа", "Детский сад", "Поликлиника", "Жилой дом", "Спортивный комплекс", "Библиотека"}

// allMessages reads an application's whole applicant chat from the server.
func allMessages(tb testing.TB, c *client.Client, appID int64) []wire.Message {
	tb.Helper()
	var all []wire.Message
	after := int64(0)
	for {
		page, err := c.Messages(context.Background(), appID, wire.ChannelApplicant, after)
		if err != nil {
			tb.Fatal(err)
		}
		all = append(all, page...)
		if len(page) == 0 {
			return all
		}
		after = page[len(page)-1].ID
	}
}

func msPer(d time.Duration, n int) float64 {
	return float64(d.Microseconds()) / 1000 / float64(max(n, 1))
}

// BenchmarkClientColdStart: the client starts with a warm disk cache of
// 10,000 applications (written by the client itself on an earlier run
// against the server). first-screen is the time from a new process-like
// start (session restored from the keyring, new Store, UseCache) to the
// list's data being there (Store.Applications() returns 10,000 rows, as
// the list screen reads it), with no network involved; online continues
// to the stream being live (resumed from the cached sequence), and also
// reports when the lists reloaded behind it are in (synced-ms). Both run
// in one process with the server, so the allocations of online include
// the server's side of the WebSocket hello; first-screen's are the
// client's alone.
func BenchmarkClientColdStart(b *testing.B) {
	const apps = 10000
	s := testenv.Start(b, testenv.Config())
	applicant := testenv.Applicant(b, s)
	createApps(b, s.URL(), applicant, apps)
	in := signIn(b, s.URL(), applicant)

	// The earlier run: the client loads the list and writes its cache the
	// way it always does.
	d := in.open(b)
	d.run()
	d.waitFor(b, "the first load of the list", 3*time.Minute, func() bool { return d.synced() && len(d.store.Applications()) == apps })
	d.close(b)
	fi, err := os.Stat(app.CachePath(in.dir, s.URL(), applicant.User.ID))
	if err != nil {
		b.Fatal(err)
	}
	cacheMB := float64(fi.Size()) / (1 << 20)

	b.Run("first-screen", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d := in.open(b)
			if n := len(d.store.Applications()); n != apps {
				b.Fatalf("first screen has %d applications, want %d", n, apps)
			}
			b.StopTimer()
			d.close(b)
			b.StartTimer()
		}
		b.ReportMetric(msPer(b.Elapsed(), b.N), "ms")
		b.ReportMetric(cacheMB, "cache-MB")
	})

	b.Run("online", func(b *testing.B) {
		b.ReportAllocs()
		var screen, synced time.Duration
		for b.Loop() {
			start := time.Now()
			d := in.open(b)
			if n := len(d.store.Applications()); n != apps {
				b.Fatalf("first screen has %d applications, want %d", n, apps)
			}
			screen += time.Since(start)
			d.run()
			d.waitFor(b, "the stream online", time.Minute, d.online)
			b.StopTimer()
			d.waitFor(b, "the lists reloaded", 3*time.Minute, d.synced)
			synced += time.Since(start)
			if n := len(d.store.Applications()); n != apps {
				b.Fatalf("after the reload %d applications, want %d", n, apps)
			}
			d.close(b)
			b.StartTimer()
		}
		b.ReportMetric(msPer(screen, b.N), "screen-ms")
		b.ReportMetric(msPer(b.Elapsed(), b.N), "online-ms")
		b.ReportMetric(msPer(synced, b.N), "synced-ms")
	})
}

// BenchmarkClientCatchUp1000: the client is closed; meanwhile another
// member of the organisation and a manager commit 1,000 changes to ten
// applications (900 chat messages, 100 status changes); the client is
// reopened and the time measured is from the start (keyring, cache) until
// every one of them is in the Store by replay from the cached sequence.
// events is how many stream events that took (notifications and the
// application events of each status change come with them); feed is the
// length of the notification feed the client then holds.
func BenchmarkClientCatchUp1000(b *testing.B) {
	const perApp, apps = 100, 10 // every 10th change of an application is a status change
	ctx := context.Background()
	s := testenv.Start(b, testenv.Config())
	manager := testenv.Staff(b, s, wire.RoleManager, 0)

	var events uint64
	feed := 0
	for b.Loop() {
		b.StopTimer()
		// A new organisation each time: the client's notification feed
		// (merged whole on every notification event) would otherwise grow
		// by 900 per iteration and make each one slower than the last.
		applicant := testenv.Applicant(b, s)
		member := testenv.Member(b, s, applicant)
		in := signIn(b, s.URL(), applicant)
		d := in.open(b)
		d.run()
		d.waitFor(b, "online", time.Minute, d.synced)
		list := createApps(b, s.URL(), member, apps)
		d.waitFor(b, "the new applications", time.Minute, func() bool {
			for _, a := range list {
				if _, ok := d.store.Application(a.ID); !ok {
					return false
				}
			}
			return true
		})
		d.close(b)

		// 1,000 commands by others while the client is closed.
		var wg sync.WaitGroup
		var failed atomic.Value
		for _, a := range list {
			wg.Add(1)
			go func() {
				defer wg.Done()
				version := a.Version
				for i := range perApp {
					var err error
					switch {
					case i%10 != 9:
						_, err = member.C.PostMessage(ctx, a.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant,
							Body: fmt.Sprintf("Ответ на замечание %d по заявлению %s", i, a.Number)}, client.NewIdempotencyKey())
					case i%20 == 9:
						var x wire.Application
						x, err = member.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: version, To: wire.StatusSubmitted}, client.NewIdempotencyKey())
						version = x.Version
					default:
						var x wire.Application
						x, err = manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: version, To: wire.StatusNeedsCorrection,
							Comment: "Нет раздела ПЗ"}, client.NewIdempotencyKey())
						version = x.Version
					}
					if err != nil {
						failed.Store(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if err, ok := failed.Load().(error); ok {
			b.Fatalf("commit while closed: %v", err)
		}
		// What the server holds is what the client must end up with.
		wantMsgs, wantHist := map[int64]int{}, map[int64]int{}
		for _, a := range list {
			wantMsgs[a.ID] = len(allMessages(b, applicant.C, a.ID))
			h, err := applicant.C.History(ctx, a.ID)
			if err != nil {
				b.Fatal(err)
			}
			wantHist[a.ID] = len(h)
		}
		caughtUp := func() bool {
			for _, a := range list {
				if len(d.store.Messages(a.ID, wire.ChannelApplicant)) != wantMsgs[a.ID] || len(d.store.History(a.ID)) != wantHist[a.ID] {
					return false
				}
				if x, _ := d.store.Application(a.ID); x.Status != wire.StatusNeedsCorrection {
					return false
				}
			}
			return true
		}
		b.StartTimer()

		d = in.open(b)
		d.run()
		d.waitFor(b, "the 1,000 changes", 3*time.Minute, caughtUp)

		b.StopTimer()
		events += d.store.Tick()
		feed = len(d.store.Notifications())
		d.close(b)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(msPer(b.Elapsed(), b.N), "ms")
	b.ReportMetric(float64(events)/float64(b.N), "events")
	b.ReportMetric(float64(feed), "feed")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkOutboxReplay1000: with the network cut (a TCP proxy between
// client and server refuses connections) the user writes 1,000 chat
// messages; each waits in the durable outbox. The network returns and the
// client drains the queue. Figures: reconnect-ms, from the network's
// return to the stream being live again (the client's reconnect backoff,
// which grew while offline); drain-ms and commands/s, from live to an
// empty queue. The server must then hold each message exactly once.
// Reference in the same run: the same 1,000 messages posted directly with
// sync/client in a loop through the same proxy (direct-commands/s), and
// outbox/direct, the ratio of the two times.
func BenchmarkOutboxReplay1000(b *testing.B) {
	const n = 1000
	ctx := context.Background()
	s := testenv.Start(b, testenv.Config())
	proxy := testenv.NewProxy(b, s.Addr.String())
	applicant := testenv.Applicant(b, s)
	in := signIn(b, proxy.URL(), applicant)
	d := in.open(b)
	d.run()
	d.waitFor(b, "online", time.Minute, d.synced)
	direct := client.New(proxy.URL())
	direct.SetToken(applicant.C.Token())

	var reconnect, drain, ref, enqueue time.Duration
	for b.Loop() {
		b.StopTimer()
		list := createApps(b, s.URL(), applicant, 2)
		target, refApp := list[0], list[1]
		bodies := make([]string, n)
		for i := range bodies {
			bodies[i] = fmt.Sprintf("Офлайн-сообщение %d к заявлению %s", i, target.Number)
		}

		proxy.SetDown(true)
		d.waitFor(b, "offline", time.Minute, func() bool { return !d.online() })
		t0 := time.Now()
		for _, body := range bodies {
			if _, err := d.ws.PostMessage(ctx, target.ID, wire.ChannelApplicant, body); !app.IsQueued(err) {
				b.Fatalf("post offline: %v, want queued", err)
			}
		}
		enqueue += time.Since(t0)
		if q := len(d.store.Pending()); q != n {
			b.Fatalf("%d commands queued, want %d", q, n)
		}

		b.StartTimer()
		start := time.Now()
		var liveAt time.Time
		proxy.SetDown(false)
		d.waitFor(b, "the queue drained", 10*time.Minute, func() bool {
			if liveAt.IsZero() && d.online() {
				liveAt = time.Now()
			}
			return len(d.store.Pending()) == 0
		})
		end := time.Now()
		b.StopTimer()
		if liveAt.IsZero() {
			liveAt = end
		}
		reconnect += liveAt.Sub(start)
		drain += end.Sub(liveAt)

		if r := d.store.Refused(); len(r) != 0 {
			b.Fatalf("%d queued commands refused, first: %+v", len(r), r[0].Err)
		}
		checkOnce(b, allMessages(b, applicant.C, target.ID), bodies)

		t1 := time.Now()
		for _, body := range bodies {
			if _, err := direct.PostMessage(ctx, refApp.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: body}, client.NewIdempotencyKey()); err != nil {
				b.Fatal(err)
			}
		}
		ref += time.Since(t1)
		checkOnce(b, allMessages(b, applicant.C, refApp.ID), bodies)
		b.StartTimer()
	}
	b.StopTimer()
	d.close(b)
	b.ReportMetric(msPer(enqueue, b.N*n), "enqueue-ms/cmd")
	b.ReportMetric(msPer(reconnect, b.N), "reconnect-ms")
	b.ReportMetric(msPer(drain, b.N), "drain-ms")
	b.ReportMetric(float64(n*b.N)/drain.Seconds(), "commands/s")
	b.ReportMetric(float64(n*b.N)/ref.Seconds(), "direct-commands/s")
	b.ReportMetric(drain.Seconds()/ref.Seconds(), "outbox/direct")
}

// checkOnce fails unless msgs are exactly bodies, each once, in order.
func checkOnce(b *testing.B, msgs []wire.Message, bodies []string) {
	b.Helper()
	if len(msgs) != len(bodies) {
		b.Fatalf("server holds %d messages, want exactly %d", len(msgs), len(bodies))
	}
	seen := map[string]bool{}
	for i, m := range msgs {
		if seen[m.Body] {
			b.Fatalf("message %q is on the server twice", m.Body)
		}
		seen[m.Body] = true
		if m.Body != bodies[i] {
			b.Fatalf("message %d on the server is %q, want %q (order)", i, m.Body, bodies[i])
		}
	}
}
