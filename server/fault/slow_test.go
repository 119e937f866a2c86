package fault_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// stallRecorder is a recorder whose Event blocks while stalled: the real
// client reads frames and hands them to its handler on one goroutine, so a
// handler that does not return is a client that stops reading its socket.
type stallRecorder struct {
	*recorder
	stalled atomic.Bool
	release chan struct{}
	mu      sync.Mutex
	ends    []string // why each connection ended, as the client saw it
}

func (s *stallRecorder) Event(e wire.Event) {
	if s.stalled.Load() {
		<-s.release
	}
	s.recorder.Event(e)
}

func (s *stallRecorder) State(st client.State, err error) {
	if st == client.StateOffline && err != nil {
		s.mu.Lock()
		s.ends = append(s.ends, err.Error())
		s.mu.Unlock()
	}
	s.recorder.State(st, err)
}

// TestSlowConsumer: one client (the real stream client, whose handler
// stops returning, so it stops reading) falls behind while messages of
// ~19 KB are posted; five other clients keep reading. Pass: the server drops
// the slow connection (it is unregistered: its send queue overflowed, or a
// write stayed blocked past the write deadline) instead of stalling; once the slow client reads again it sees its
// connection end, reconnects and resumes from its last sequence, ending
// with exactly the events the log says it may see, none twice; every other
// client receives every event. Reported: the close the slow client saw,
// and the other clients' p99 commit-to-arrival latency before the stall
// and during it.
func TestSlowConsumer(t *testing.T) {
	db := newDB(t)
	s := testenv.StartOn(t, db, testenv.Config())
	owner := testenv.Applicant(t, s)
	a := newApp(t, owner.C, "Административное здание")
	start := lastSeq(t, s.URL())
	var healthy []*watcher
	for i := range 5 {
		m := testenv.Member(t, s, owner)
		healthy = append(healthy, watch(t, fmt.Sprintf("healthy%d", i), s.URL(), m.C.Token(), start, 20*time.Millisecond, 500*time.Millisecond))
	}
	slowUser := testenv.Member(t, s, owner)
	slow := &stallRecorder{recorder: &recorder{}, release: make(chan struct{})}
	after := start
	st := as(s.URL(), slowUser.C.Token()).NewStream(slow, &after)
	st.SetBackoff(20*time.Millisecond, 500*time.Millisecond)
	sctx, scancel := context.WithCancel(context.Background())
	sdone := make(chan struct{})
	go func() { defer close(sdone); _ = st.Run(sctx) }()
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { slow.stalled.Store(false); close(slow.release) }) }
	// A failing test must not leave the stream blocked in its handler.
	defer func() { release(); scancel(); <-sdone }()
	waitUntil(t, "every client live", func() bool {
		for _, w := range append(healthy, &watcher{rec: slow.recorder}) {
			if on, _ := w.rec.online(); !on {
				return false
			}
		}
		return s.Hub.Clients() == len(healthy)+1
	})

	body := strings.Repeat("Замечание по разделу ", 450)
	var (
		mu     sync.Mutex
		sentAt = map[int64]time.Time{}
		phase  = map[int64]int{} // 0 before the stall, 1 during it
	)
	var curPhase atomic.Int32
	post := func(ctx context.Context, tag string) error {
		key := client.NewIdempotencyKey()
		began := time.Now()
		for {
			m, err := owner.C.PostMessage(ctx, a.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: tag + " " + body}, key)
			if err == nil {
				mu.Lock()
				sentAt[m.ID], phase[m.ID] = began, int(curPhase.Load())
				mu.Unlock()
				return nil
			}
			if ctx.Err() != nil || !retryable(err) {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// Baseline: the same load (six concurrent posters) with nobody slow.
	var base sync.WaitGroup
	baseErrs := make(chan error, 6)
	for w := range 6 {
		base.Go(func() {
			for i := range 100 {
				if err := post(t.Context(), fmt.Sprintf("до %d/%d", w, i)); err != nil {
					baseErrs <- err
					return
				}
			}
		})
	}
	base.Wait()
	close(baseErrs)
	for err := range baseErrs {
		t.Fatal(err)
	}

	// The slow client stops reading; posting goes on until it is dropped.
	slow.stalled.Store(true)
	curPhase.Store(1)
	dropsBefore := slowDrops(t, s.URL())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var posted atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	const limit = 8000 // nothing dropped by then means the server never drops
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil && posted.Add(1) <= limit; i++ {
				if err := post(ctx, fmt.Sprintf("%d/%d", w, i)); err != nil && ctx.Err() == nil {
					errs <- err
					return
				}
			}
		})
	}
	// Dropped either way the server has: its send queue overflowed (counted
	// as a slow drop) or a write stayed blocked past the write deadline.
	dropped := func() bool { return s.Hub.Clients() == len(healthy) }
	// Bounded by the post limit, not by time: under the race detector
	// posting is several times slower.
	for !dropped() && posted.Load() <= limit {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if !dropped() {
		t.Fatalf("%d large events posted; the client that stopped reading is still connected", posted.Load())
	}
	stalledFor := posted.Load()

	// It reads again: the rest of its buffers, the end of the connection,
	// then it resumes.
	release()
	w := &watcher{name: "slow", token: slowUser.C.Token(), start: start, rec: slow.recorder, st: st}
	got := checkStream(t, w, s.URL())
	events := 0
	for _, h := range healthy {
		events += checkStream(t, h, s.URL())
	}
	slow.mu.Lock()
	ends := slices.Clone(slow.ends)
	slow.mu.Unlock()
	if len(ends) == 0 {
		t.Fatal("the slow client never saw its connection end")
	}
	// A close frame cannot pass a socket whose buffers are full, so the
	// end is a 4000 close where one could still be written, else the
	// connection breaking off (1006); either way not terminal.
	broken := func(s string) bool {
		for _, sign := range []string{"close 4000", "close 1006", "connection reset", "broken pipe", "EOF"} {
			if strings.Contains(s, sign) {
				return true
			}
		}
		return false
	}
	if !broken(ends[0]) {
		t.Fatalf("the slow client's connection ended with %q, want close 4000 (reconnect) or a broken connection", ends[0])
	}
	if _, n := slow.online(); n < 2 {
		t.Fatalf("the slow client went live %d times, want a reconnect", n)
	}

	// Latency of the healthy clients: request start to arrival.
	var lat [2][]time.Duration
	mu.Lock()
	for _, h := range healthy {
		h.rec.mu.Lock()
		for i, e := range h.rec.events {
			if e.Kind != wire.EventMessage {
				continue
			}
			var m wire.Message
			if json.Unmarshal(e.Data, &m) != nil {
				continue
			}
			if at, ok := sentAt[m.ID]; ok {
				lat[phase[m.ID]] = append(lat[phase[m.ID]], h.rec.arrived[i].Sub(at))
			}
		}
		h.rec.mu.Unlock()
	}
	mu.Unlock()
	t.Logf("slow client dropped after ~%d large messages (by queue overflow: %v); it saw the connection end with %q, reconnected and holds all %d of its events",
		stalledFor, slowDrops(t, s.URL()) > dropsBefore, ends[0], got)
	t.Logf("%d healthy clients received all %d events; request-to-arrival p50/p99: with the same load and nobody slow %v/%v over %d deliveries, during it %v/%v over %d",
		len(healthy), events, pct(lat[0], 50), pct(lat[0], 99), len(lat[0]), pct(lat[1], 50), pct(lat[1], 99), len(lat[1]))
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(100 * time.Microsecond)
}

// slowDrops reads expertiza_ws_slow_drops_total from /metrics.
func slowDrops(t testing.TB, base string) float64 {
	t.Helper()
	return metric(t, base, "expertiza_ws_slow_drops_total")
}
