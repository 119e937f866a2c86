package realtime_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// metric reads one unlabelled counter or gauge from the server's /metrics.
func metric(t testing.TB, s *boot.Server, name string) float64 {
	t.Helper()
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// TestSlowConsumerIsDropped: a client that authenticates and then never
// reads, while thousands of large events are produced, fills the kernel
// buffers and its bounded queue; the server drops it (close 4000 where a
// close frame can still be written) instead of stalling, and stays healthy:
// a normal client of the same organisation receives every event.
func TestSlowConsumerIsDropped(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	owner := testenv.Applicant(t, s)
	slow := testenv.Member(t, s, owner)
	healthy := testenv.Member(t, s, owner)
	app := newApp(t, owner, "Административное здание")

	ws := dialRaw(t, s)
	sendHello(t, ws, slow.C.Token(), nil)
	if f := mustFrame(t, ws); f.Type != wire.FrameWelcome {
		t.Fatalf("first frame %q, want welcome", f.Type)
	}
	r := startStream(t, healthy.C, nil)
	if n := s.Hub.Clients(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}

	// ~19 KB per event (Cyrillic is two bytes a rune), just under the
	// 10,000-rune limit: a few thousand of them exceed any socket buffer.
	body := strings.Repeat("Замечание по разделу ", 450)
	var (
		stop    atomic.Bool
		posted  atomic.Int64 // attempts started
		done    atomic.Int64 // messages committed
		wg      sync.WaitGroup
		postErr = make(chan error, 8)
	)
	const limit = 8000 // if nothing was dropped by then, something is wrong
	for w := range 6 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if posted.Add(1) > limit {
					return
				}
				if _, err := post(owner.C, app.ID, wire.ChannelApplicant, fmt.Sprintf("%d/%d %s", w, i, body)); err != nil {
					postErr <- err
					return
				}
				done.Add(1)
			}
		})
	}
	dropped := func() bool {
		return s.Hub.Clients() < 2 || metric(t, s, "expertiza_ws_slow_drops_total") > 0
	}
	waitUntil(t, "the slow consumer to be dropped", func() bool {
		return dropped() || posted.Load() > limit
	})
	stop.Store(true)
	wg.Wait()
	select {
	case err := <-postErr:
		t.Fatal(err)
	default:
	}
	if !dropped() {
		t.Fatalf("%d large events posted and the client that never reads is still served", posted.Load())
	}
	waitUntil(t, "the slow connection to be unregistered", func() bool { return s.Hub.Clients() == 1 })

	// The slow client now reads what its buffers hold, then the end: a close
	// with 4000 (reconnect and resume) or a dropped connection, never a hang.
	frames, ce := readUntilClose(t, ws)
	if ce != nil && ce.Code != wire.CloseReconnect && ce.Code != websocket.CloseAbnormalClosure {
		t.Fatalf("slow client closed with %d (%s), want %d or a dropped connection", ce.Code, ce.Text, wire.CloseReconnect)
	}
	t.Logf("slow client: %d frames buffered of %d messages, end %v, slow drops %v", len(frames), done.Load(), ce,
		metric(t, s, "expertiza_ws_slow_drops_total"))

	// The healthy client got every message, in order, and keeps receiving.
	last := mustPost(t, owner.C, app.ID, wire.ChannelApplicant, "после отключения медленного клиента")
	r.TL.WaitFor(t, hang, "the healthy client to receive everything", func(rec *testenv.Recorder) bool {
		return hasMessage(t, rec.Events(), last.ID)
	})
	got := messages(t, r.TL.Events())
	if int64(len(got)) != done.Load()+1 {
		t.Fatalf("healthy client got %d messages, %d were committed", len(got), done.Load()+1)
	}
	listed, err := owner.C.Messages(t.Context(), app.ID, wire.ChannelApplicant, 0) // the first 1000
	if err != nil {
		t.Fatal(err)
	}
	// Concurrent posts commit in another order than their ids: compare sets.
	gotIDs := map[int64]bool{}
	for _, m := range got {
		gotIDs[m.ID] = true
	}
	if len(gotIDs) != len(got) {
		t.Fatal("healthy client got a message twice")
	}
	for _, m := range listed {
		if !gotIDs[m.ID] {
			t.Fatalf("healthy client never got message %d", m.ID)
		}
	}
	checkIncreasing(t, r.TL.Events())
	if r.St.Gaps() != 0 || r.Ended() {
		t.Fatalf("healthy client: gaps %d, ended %v", r.St.Gaps(), r.Ended())
	}
}
