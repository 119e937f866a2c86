package fault_test

import (
	"testing"
	"time"
)

// TestDurabilitySettings: the cluster under test has fsync,
// synchronous_commit and full_page_writes on (SHOW on the server itself).
// TestMain refuses to run the suite otherwise; this reports it as a test.
func TestDurabilitySettings(t *testing.T) {
	bad, err := durabilityProblems(t.Context(), durable.URLFor("postgres"))
	if err != nil {
		t.Fatalf("read durability settings: %v", err)
	}
	if len(bad) > 0 {
		t.Fatalf("DURABILITY IS OFF on the cluster under test: %v — a crash may lose committed transactions and every fault test here is void", bad)
	}
}

// TestKill9DuringWriteBursts: concurrent clients post chat messages and
// move statuses, each command under its own idempotency key and resent
// after network errors; in the middle of every burst the server process
// gets SIGKILL and is started again at once. After each round: nothing lost
// (checkNothingLost), every client's event stream — resuming from its last
// sequence across every kill — holds exactly the events the log says it
// may see, and the audit chain verifies.
func TestKill9DuringWriteBursts(t *testing.T) {
	sc := loadScale(t)
	rounds := 2 * sc.factor
	burst := 4 * time.Second
	db := newDB(t)
	srv := newProc(t, db)
	srv.start()
	w := newWorld(t, db)
	w.watchAll(srv.URL())
	total := 0
	for r := range rounds {
		var downFor time.Duration
		acked := w.burst(srv.URL(), burst, func() {
			srv.kill()
			began := time.Now()
			srv.start()
			downFor = time.Since(began)
		})
		total += acked
		open := len(w.unanswered())
		w.checkNothingLost() // before the outbox is drained: unanswered ops at most once
		w.drain(srv.URL())
		w.checkNothingLost()
		t.Logf("round %d: %d commands answered, %d unanswered at the end of the burst (resent), server down %v",
			r+1, acked, open, downFor.Round(time.Millisecond))
	}
	events := 0
	for _, wt := range w.watchers {
		events += checkStream(t, wt, w.setup.URL())
	}
	msgs, moves := w.totals()
	t.Logf("%d kills: %d messages and %d status moves, each stored once; %d resends after errors (e.g. %v); %d events checked over %d streams",
		rounds, msgs, moves, w.retries.Load(), w.lastErr.Load(), events, len(w.watchers))
}
