package fault_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// stopImmediate stops the whole cluster with `pg_ctl stop -m immediate`:
// every backend is killed without a checkpoint, as in a crash, and the next
// start recovers from the WAL. pg_ctl refuses root, so it runs as the owner
// of the data directory.
func stopImmediate(t testing.TB) {
	t.Helper()
	cmd := exec.Command(filepath.Join(durable.BinDir(), "pg_ctl"), "stop", "-m", "immediate", "-w", "-D", durable.DataDir())
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	if os.Geteuid() == 0 {
		fi, err := os.Stat(durable.DataDir())
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: st.Uid, Gid: st.Gid}}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_ctl stop -m immediate: %v\n%s", err, out)
	}
}

// TestPostgresImmediateStopUnderLoad: while the write workload runs, the
// PostgreSQL cluster is stopped in immediate mode (a crash of the database,
// not of our server). Meanwhile the server says it is not ready (/readyz
// 503, database unreachable) and refuses commands with an error a client
// retries under the same key (HTTP 503, code unavailable, «повторите позже»),
// without exiting; once PostgreSQL has recovered it serves again, and the
// nothing-lost condition holds, every stream is complete, the audit chain
// verifies.
func TestPostgresImmediateStopUnderLoad(t *testing.T) {
	sc := loadScale(t)
	rounds := sc.factor
	db := newDB(t)
	w := newWorld(t, db)
	s := testenv.StartOn(t, db, testenv.Config()) // the server under test; w.setup is another replica
	w.watchAll(s.URL())
	owner := w.workers[0]
	for r := range rounds {
		var down, refusedWith string
		var outage time.Duration
		acked := w.burst(s.URL(), 8*time.Second, func() {
			began := time.Now()
			stopImmediate(t)
			// Not ready, and says why.
			code, h, err := health(s.URL())
			if err != nil || code != http.StatusServiceUnavailable || h.Status != "unavailable" || h.Databases != "unreachable" {
				t.Errorf("readyz with PostgreSQL down: %d %+v %v, want 503 unavailable/unreachable", code, h, err)
			}
			// A command is refused with a retryable error, quickly.
			_, err = as(s.URL(), owner.c.Token()).PostMessage(context.Background(), owner.appID,
				wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: "пока база недоступна"}, client.NewIdempotencyKey())
			we, ok := wire.AsError(err)
			switch {
			case err == nil:
				t.Error("a command was accepted with PostgreSQL down")
			case !ok || !retryable(err) || !strings.Contains(we.Message, "повторите") || !strings.Contains(we.MessageEN, "try again"):
				t.Errorf("command with PostgreSQL down: %v, want a retryable refusal telling to try again", err)
			default:
				refusedWith = string(we.Code) + ": " + we.Message
			}
			down = h.Databases
			// The clients keep sending into the outage for a while.
			time.Sleep(2 * time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			if err := durable.Start(ctx); err != nil {
				t.Fatalf("restart PostgreSQL: %v", err)
			}
			waitUntil(t, "readyz 200 after PostgreSQL restarted", func() bool { code, _, _ := health(s.URL()); return code == http.StatusOK })
			outage = time.Since(began)
		})
		open := len(w.unanswered())
		w.checkNothingLost()
		w.drain(s.URL())
		w.checkNothingLost()
		t.Logf("round %d: %d commands answered, %d unanswered at the end (resent); while down: readyz database=%q, command refused with %q; ready again after %v",
			r+1, acked, open, down, refusedWith, outage.Round(time.Millisecond))
	}
	events := 0
	for _, wt := range w.watchers {
		events += checkStream(t, wt, w.setup.URL())
	}
	msgs, moves := w.totals()
	t.Logf("%d immediate stops: %d messages, %d moves stored once each; %d resends (e.g. %v); %d events checked over %d streams",
		rounds, msgs, moves, w.retries.Load(), w.lastErr.Load(), events, len(w.watchers))
}
