package fault_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// op is one command a test client sent, as its acknowledgement log keeps
// it: the idempotency key fixed when it was made (every resend reuses it),
// what was asked, and — once the server answered — what it answered.
type op struct {
	key   string
	appID int64
	by    int64 // user id
	// A chat message...
	body string
	// ...or a status move.
	to      wire.Status
	from    wire.Status
	version int64
	comment string

	acked  bool
	msgID  int64 // the message's id, from the answer
	newVer int64 // the application's version after the move, from the answer
}

func (o *op) isMessage() bool { return o.body != "" }

// worker is one client: a poster of chat messages, or a mover that walks
// an application between submitted and needs_correction with two actors
// (its applicant submits, the manager returns it). Its log survives
// bursts: an op the burst ended before an answer is its outbox, resent
// first, under its key, in the next burst.
type worker struct {
	name    string
	c       *client.Client // posters; movers use applicant and manager
	app     *client.Client
	mgr     *client.Client
	userID  int64
	mgrID   int64
	appID   int64
	status  wire.Status
	version int64

	mu      sync.Mutex
	log     []*op
	pending *op
	n       int
}

// world is the scene of the write-burst tests: two organisations, three
// applicants each posting into their organisation's chat, one application
// per organisation moved back and forth with the manager, and a stream for
// every one of them.
type world struct {
	t        testing.TB
	setup    *boot.Server // an in-process replica on the same database
	db       string
	workers  []*worker
	watchers []*watcher
	tokens   map[string]string
	apps     []int64

	retries  atomic.Int64
	lastErr  atomic.Value // string: a sample of the retried errors
	refusals chan error
}

func newWorld(t testing.TB, db string) *world {
	t.Helper()
	s := testenv.StartOn(t, db, testenv.Config())
	w := &world{t: t, setup: s, db: db, tokens: map[string]string{}, refusals: make(chan error, 64)}
	mgr := testenv.Staff(t, s, wire.RoleManager, 0)
	w.tokens["manager"] = mgr.C.Token()
	for o := range 2 {
		owner := testenv.Applicant(t, s)
		members := []*testenv.Actor{owner, testenv.Member(t, s, owner), testenv.Member(t, s, owner)}
		chat := newApp(t, owner.C, fmt.Sprintf("Жилой дом №%d", o+1))
		moved := newApp(t, owner.C, fmt.Sprintf("Школа №%d", o+1))
		w.apps = append(w.apps, chat.ID, moved.ID)
		for i, m := range members {
			name := fmt.Sprintf("org%d-poster%d", o, i)
			w.tokens[name] = m.C.Token()
			w.workers = append(w.workers, &worker{name: name, c: m.C, userID: m.ID, appID: chat.ID})
		}
		w.workers = append(w.workers, &worker{name: fmt.Sprintf("org%d-mover", o), app: owner.C, mgr: mgr.C, userID: owner.ID, mgrID: mgr.ID,
			appID: moved.ID, status: moved.Status, version: moved.Version})
	}
	return w
}

func newApp(t testing.TB, c *client.Client, name string) wire.Application {
	t.Helper()
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := c.CreateApplication(context.Background(), wire.ApplicationInput{ObjectName: str(name), ObjectAddress: str("г. Тверь, ул. Советская, 5"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	return a
}

// watchAll subscribes every client (and the manager) at base from now.
func (w *world) watchAll(base string) {
	start := lastSeq(w.t, w.setup.URL())
	names := make([]string, 0, len(w.tokens))
	for n := range w.tokens {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		w.watchers = append(w.watchers, watch(w.t, n, base, w.tokens[n], start, 20*time.Millisecond, 500*time.Millisecond))
	}
}

// next makes the worker's next op, or returns the one still unanswered.
func (wk *worker) next() *op {
	wk.mu.Lock()
	defer wk.mu.Unlock()
	if wk.pending != nil {
		return wk.pending
	}
	wk.n++
	o := &op{key: client.NewIdempotencyKey(), appID: wk.appID}
	if wk.mgr == nil {
		// Unique and not trivial: Cyrillic, quotes, a newline, so that
		// "byte-identical" means something.
		o.by, o.body = wk.userID, fmt.Sprintf("%s №%d: «проверка» \"кавычек\"\nи переноса %x", wk.name, wk.n, rand.Uint64())
	} else {
		o.from, o.version, o.comment = wk.status, wk.version, fmt.Sprintf("%s переход №%d", wk.name, wk.n)
		o.to, o.by = wire.StatusSubmitted, wk.userID
		if wk.status == wire.StatusSubmitted {
			o.to, o.by = wire.StatusNeedsCorrection, wk.mgrID
		}
	}
	wk.pending = o
	wk.log = append(wk.log, o)
	return o
}

// send sends o until the server answers, resending under the same key
// after any error that may mean "lost" (network, server fault); it gives
// up, leaving o pending, only when ctx ends. A refusal is reported: no
// command of this workload may be refused.
func (w *world) send(ctx context.Context, base string, wk *worker, o *op) bool {
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return false
		}
		var err error
		if o.isMessage() {
			var m wire.Message
			m, err = as(base, wk.c.Token()).PostMessage(ctx, o.appID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: o.body}, o.key)
			if err == nil {
				o.msgID = m.ID
			}
		} else {
			c := wk.app
			if o.to == wire.StatusNeedsCorrection {
				c = wk.mgr
			}
			var a wire.Application
			a, err = as(base, c.Token()).Transition(ctx, o.appID, wire.TransitionRequestBody{Version: o.version, To: o.to, Comment: o.comment}, o.key)
			if err == nil {
				o.newVer = a.Version
				if a.Status != o.to {
					err = fmt.Errorf("moved to %s, answer says %s", o.to, a.Status)
				}
			}
		}
		switch {
		case err == nil:
			wk.mu.Lock()
			o.acked = true
			wk.pending = nil
			if !o.isMessage() {
				wk.status, wk.version = o.to, o.newVer
			}
			wk.mu.Unlock()
			return true
		case ctx.Err() != nil:
			return false
		case retryable(err):
			w.retries.Add(1)
			w.lastErr.Store(err.Error())
			select {
			case <-ctx.Done():
				return false
			case <-time.After(time.Duration(min(attempt+1, 10)) * 20 * time.Millisecond):
			}
		default:
			select {
			case w.refusals <- fmt.Errorf("%s: %s refused: %w", wk.name, o.key, err):
			default:
			}
			return false
		}
	}
}

// burst runs every worker against base until d has passed, calling fault
// (if not nil) once in the middle. It returns the ops answered.
func (w *world) burst(base string, d time.Duration, fault func()) int {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var acked atomic.Int64
	var wg sync.WaitGroup
	for _, wk := range w.workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				if !w.send(ctx, base, wk, wk.next()) {
					return
				}
				acked.Add(1)
			}
		})
	}
	if fault != nil {
		time.Sleep(d/3 + rand.N(d/3))
		fault()
	}
	wg.Wait()
	select {
	case err := <-w.refusals:
		w.t.Fatal(err)
	default:
	}
	return int(acked.Load())
}

// drain resends every worker's unanswered op until answered: the outbox
// emptied, as a client does when the server is back.
func (w *world) drain(base string) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	for _, wk := range w.workers {
		wk.mu.Lock()
		o := wk.pending
		wk.mu.Unlock()
		if o != nil && !w.send(ctx, base, wk, o) {
			w.t.Fatalf("%s: op %s still unanswered after %v", wk.name, o.key, hang)
		}
	}
}

// unanswered lists the ops of every worker not answered yet.
func (w *world) unanswered() []*op {
	var out []*op
	for _, wk := range w.workers {
		wk.mu.Lock()
		if wk.pending != nil {
			out = append(out, wk.pending)
		}
		wk.mu.Unlock()
	}
	return out
}

// totals counts the ops logged and answered.
func (w *world) totals() (msgs, moves int) {
	for _, wk := range w.workers {
		wk.mu.Lock()
		for _, o := range wk.log {
			if o.isMessage() {
				msgs++
			} else {
				moves++
			}
		}
		wk.mu.Unlock()
	}
	return msgs, moves
}

// pool opens a fresh pool on the world's database (fresh: PostgreSQL may
// have restarted since the last one).
func (w *world) pool() *pgxpool.Pool {
	w.t.Helper()
	p, err := pgxpool.New(context.Background(), w.db)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// checkNothingLost is the pass condition of the write-burst tests, read
// from the database directly:
//   - every answered message exists exactly once under the id answered,
//     byte-identical, by its author, with exactly one change-log event;
//   - every answered move exists exactly once in the status history with
//     its from, to and comment, the audit journal has a status_change row
//     for every history row of the application (same moves, same order),
//     and the application stands where the last answer left it;
//   - every unanswered op is applied at most once (it is still in its
//     client's log, to be resent under the same key): none is half there;
//   - no row exists that no client asked for;
//   - the audit chain verifies.
func (w *world) checkNothingLost() {
	t := w.t
	t.Helper()
	ctx := context.Background()
	pool := w.pool()
	defer pool.Close()

	type msgRow struct {
		id, app, author int64
		body            string
	}
	rows, err := pool.Query(ctx, `SELECT id, app_id, author_id, body FROM messages WHERE app_id = ANY($1)`, w.apps)
	if err != nil {
		t.Fatal(err)
	}
	byBody := map[string][]msgRow{}
	nMsgs := 0
	for rows.Next() {
		var r msgRow
		if err := rows.Scan(&r.id, &r.app, &r.author, &r.body); err != nil {
			t.Fatal(err)
		}
		byBody[r.body] = append(byBody[r.body], r)
		nMsgs++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	msgEvents := map[int64]int{}
	rows, err = pool.Query(ctx, `SELECT (payload->>'id')::bigint FROM change_log WHERE kind = $1 AND app_id = ANY($2)`, string(wire.EventMessage), w.apps)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		msgEvents[id]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	type histRow struct {
		id, app  int64
		from, to string
		comment  string
	}
	hist := map[string][]histRow{}
	histByApp := map[int64][]string{}
	rows, err = pool.Query(ctx, `SELECT id, app_id, from_status, to_status, comment FROM status_history WHERE app_id = ANY($1) ORDER BY id`, w.apps)
	if err != nil {
		t.Fatal(err)
	}
	nHist := 0
	for rows.Next() {
		var r histRow
		if err := rows.Scan(&r.id, &r.app, &r.from, &r.to, &r.comment); err != nil {
			t.Fatal(err)
		}
		hist[r.comment] = append(hist[r.comment], r)
		histByApp[r.app] = append(histByApp[r.app], r.from+"→"+r.to)
		nHist++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	auditByApp := map[int64][]string{}
	appIDs := make([]string, len(w.apps))
	for i, id := range w.apps {
		appIDs[i] = strconv.FormatInt(id, 10)
	}
	rows, err = pool.Query(ctx, `SELECT object_id::bigint, details::jsonb->>'from', details::jsonb->>'to' FROM audit_log
		WHERE action = 'status_change' AND object_type = 'application' AND object_id = ANY($1) ORDER BY id`, appIDs)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var app int64
		var from, to string
		if err := rows.Scan(&app, &from, &to); err != nil {
			t.Fatal(err)
		}
		auditByApp[app] = append(auditByApp[app], from+"→"+to)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}

	wantMsgs, wantMoves := 0, 0
	for _, wk := range w.workers {
		wk.mu.Lock()
		for _, o := range wk.log {
			if o.isMessage() {
				got := byBody[o.body]
				switch {
				case !o.acked && len(got) > 1:
					t.Errorf("%s: unanswered message %s applied %d times", wk.name, o.key, len(got))
				case !o.acked:
					wantMsgs += len(got)
				case len(got) != 1:
					t.Errorf("%s: answered message %s (id %d) stored %d times", wk.name, o.key, o.msgID, len(got))
				case got[0].id != o.msgID || got[0].body != o.body || got[0].author != o.by || got[0].app != o.appID:
					t.Errorf("%s: message %s stored as id %d by %d in %d, answered id %d by %d in %d", wk.name, o.key, got[0].id, got[0].author, got[0].app, o.msgID, o.by, o.appID)
				case msgEvents[o.msgID] != 1:
					t.Errorf("%s: message %d has %d change-log events, want 1", wk.name, o.msgID, msgEvents[o.msgID])
				default:
					wantMsgs++
				}
				continue
			}
			got := hist[o.comment]
			switch {
			case !o.acked && len(got) > 1:
				t.Errorf("%s: unanswered move %s applied %d times", wk.name, o.key, len(got))
			case !o.acked:
				wantMoves += len(got)
			case len(got) != 1:
				t.Errorf("%s: answered move %q stored %d times", wk.name, o.comment, len(got))
			case got[0].from != string(o.from) || got[0].to != string(o.to) || got[0].app != o.appID:
				t.Errorf("%s: move %q stored as %s→%s, sent %s→%s", wk.name, o.comment, got[0].from, got[0].to, o.from, o.to)
			default:
				wantMoves++
			}
		}
		wk.mu.Unlock()
	}
	if nMsgs != wantMsgs {
		t.Errorf("the database holds %d messages, the clients' logs account for %d", nMsgs, wantMsgs)
	}
	if nHist != wantMoves {
		t.Errorf("the status history holds %d moves, the clients' logs account for %d", nHist, wantMoves)
	}
	for _, app := range w.apps {
		if !slices.Equal(histByApp[app], auditByApp[app]) {
			t.Errorf("application %d: history %v, audit journal %v", app, histByApp[app], auditByApp[app])
		}
	}
	for _, wk := range w.workers {
		if wk.mgr == nil {
			continue
		}
		var status string
		var version int64
		if err := pool.QueryRow(ctx, `SELECT status, version FROM applications WHERE id = $1`, wk.appID).Scan(&status, &version); err != nil {
			t.Fatal(err)
		}
		wk.mu.Lock()
		if wk.pending == nil && (status != string(wk.status) || version != wk.version) {
			t.Errorf("%s: application at %s v%d, the last answer said %s v%d", wk.name, status, version, wk.status, wk.version)
		}
		wk.mu.Unlock()
	}
	checkAudit(t, pool)
}

// checkAudit fails unless the audit journal's hash chain verifies.
func checkAudit(t testing.TB, pool *pgxpool.Pool) int64 {
	t.Helper()
	n, problems, err := store.New(pool).Read().VerifyAudit(context.Background())
	if err != nil {
		t.Fatalf("verify audit: %v", err)
	}
	if len(problems) > 0 {
		t.Fatalf("audit chain broken after %d rows: %+v", n, problems)
	}
	return n
}
