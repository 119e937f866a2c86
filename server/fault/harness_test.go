package fault_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// hang bounds every wait: a wait ends as soon as its condition holds, and
// only a hang reaches this. Nothing here asserts a duration.
const hang = 90 * time.Second

// scale is how hard the suite pushes: small in CI, larger under `make soak`.
type scale struct {
	factor int           // EXPERTIZA_FAULT_SCALE: multiplies rounds and counts
	cut    time.Duration // EXPERTIZA_FAULT_CUT: the offline test's network cut
	conns  int           // EXPERTIZA_FAULT_CLIENTS: the mass reconnect's clients
}

func loadScale(t testing.TB) scale {
	t.Helper()
	s := scale{factor: 1, cut: 20 * time.Second, conns: 1000}
	if v := os.Getenv("EXPERTIZA_FAULT_SCALE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("EXPERTIZA_FAULT_SCALE=%q: want a positive integer", v)
		}
		s.factor = n
	}
	if v := os.Getenv("EXPERTIZA_FAULT_CUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			t.Fatalf("EXPERTIZA_FAULT_CUT=%q: want a duration such as 20s or 3m", v)
		}
		s.cut = d
	}
	if v := os.Getenv("EXPERTIZA_FAULT_CLIENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("EXPERTIZA_FAULT_CLIENTS=%q: want a positive integer", v)
		}
		s.conns = n
	}
	return s
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitUntil polls cond until it holds, failing after hang.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", hang, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// --- a server in a process of its own, to be killed with SIGKILL ---

// syncBuffer collects a child's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type proc struct {
	t    testing.TB
	opts serveOptions
	cmd  *exec.Cmd
	// waitCh closes when the running process has exited and been reaped.
	waitCh chan struct{}
	logs   *syncBuffer
}

// newProc prepares a server process on database db with its own data folder.
func newProc(t testing.TB, db string) *proc {
	t.Helper()
	p := &proc{t: t, opts: serveOptions{Listen: freeAddr(t), DB: db, Data: t.TempDir()}, logs: &syncBuffer{}}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("server process log:\n%s", p.logs.String())
		}
	})
	return p
}

func (p *proc) URL() string { return "http://" + p.opts.Listen }

// start runs the server and waits until /readyz answers 200.
func (p *proc) start() {
	p.t.Helper()
	spec, err := json.Marshal(p.opts)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serveEnv+"="+string(spec), "GORACE=atexit_sleep_ms=0")
	cmd.Stderr = p.logs
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.cmd = cmd
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(hang)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			p.t.Fatalf("server process exited during start:\n%s", p.logs.String())
		default:
		}
		if resp, err := hc.Get(p.URL() + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.waitCh = exited
				return
			}
		}
		time.Sleep(25 * time.Millisecond)
	}
	p.t.Fatalf("server did not get ready within %v:\n%s", hang, p.logs.String())
}

// kill sends SIGKILL, no warning, and waits for the process to be gone.
func (p *proc) kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	if p.waitCh != nil {
		<-p.waitCh
	}
	p.cmd = nil
}

// alive reports whether the process still runs.
func (p *proc) alive() bool {
	if p.cmd == nil || p.waitCh == nil {
		return false
	}
	select {
	case <-p.waitCh:
		return false
	default:
		return true
	}
}

// --- readiness ---

// health reads /readyz of the server at base.
func health(base string) (int, wire.Health, error) {
	hc := &http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Get(base + "/readyz")
	if err != nil {
		return 0, wire.Health{}, err
	}
	defer resp.Body.Close()
	var h wire.Health
	err = json.NewDecoder(resp.Body).Decode(&h)
	return resp.StatusCode, h, err
}

func lastSeq(t testing.TB, base string) int64 {
	t.Helper()
	code, h, err := health(base)
	if err != nil || code != http.StatusOK {
		t.Fatalf("readyz of %s: %d %v", base, code, err)
	}
	return h.LastSeq
}

// --- clients ---

// as is a client of the server at base carrying token.
func as(base, token string) *client.Client {
	c := client.New(base)
	c.SetToken(token)
	return c
}

// retryable says whether a failed command may have been lost rather than
// refused: a network error, the server's own fault (a database that is
// down), or an answer that is not a protocol error at all. A real client
// resends those under the same idempotency key.
func retryable(err error) bool {
	if errors.Is(err, client.ErrNetwork) {
		return true
	}
	we, ok := wire.AsError(err)
	return !ok || we.Code == wire.CodeInternal || we.Code == wire.CodeUnavailable
}

// --- event streams ---

// recorder keeps everything a stream delivered, with arrival times.
type recorder struct {
	mu      sync.Mutex
	events  []wire.Event
	arrived []time.Time
	resyncs []int64
	state   client.State
	onlines int
}

func (r *recorder) Event(e wire.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.arrived = append(r.arrived, time.Now())
	r.mu.Unlock()
}
func (r *recorder) Ephemeral(wire.Ephemeral) {}
func (r *recorder) Resync(seq int64) {
	r.mu.Lock()
	r.resyncs = append(r.resyncs, seq)
	r.mu.Unlock()
}
func (r *recorder) State(s client.State, _ error) {
	r.mu.Lock()
	r.state = s
	if s == client.StateOnline {
		r.onlines++
	}
	r.mu.Unlock()
}

func (r *recorder) Events() []wire.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *recorder) has(seq int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.events)
	return n > 0 && r.events[n-1].Seq >= seq
}

func (r *recorder) online() (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state == client.StateOnline, r.onlines
}

// watcher is one client's resuming event stream.
type watcher struct {
	name  string
	token string
	start int64
	rec   *recorder
	st    *client.Stream
	stop  func()
}

// watch subscribes token at base, resuming after start, until the test ends.
func watch(t testing.TB, name, base, token string, start int64, minBackoff, maxBackoff time.Duration) *watcher {
	t.Helper()
	w := &watcher{name: name, token: token, start: start, rec: &recorder{}}
	after := start
	w.st = as(base, token).NewStream(w.rec, &after)
	w.st.SetBackoff(minBackoff, maxBackoff)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.st.Run(ctx) }()
	var once sync.Once
	w.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(w.stop)
	return w
}

// replay asks the server at base for everything token may see after
// `after`, on a fresh connection: the authoritative sequence a client
// resuming from there must have received.
func replay(t testing.TB, base, token string, after int64) []wire.Event {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+base[len("http://"):]+wire.APIPrefix+"/ws", nil)
	if err != nil {
		t.Fatalf("dial for replay: %v", err)
	}
	defer ws.Close()
	ws.SetReadLimit(64 << 20)
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: token, After: &after}); err != nil {
		t.Fatalf("hello: %v", err)
	}
	var out []wire.Event
	for {
		_ = ws.SetReadDeadline(time.Now().Add(hang))
		var f wire.Frame
		if err := ws.ReadJSON(&f); err != nil {
			t.Fatalf("replay after %d: %v", after, err)
		}
		switch f.Type {
		case wire.FrameEvent:
			out = append(out, *f.Event)
		case wire.FrameResync:
			t.Fatalf("replay after %d: the server asked for a resync", after)
		case wire.FrameReplayDone:
			return out
		case wire.FrameError:
			t.Fatalf("replay after %d: %+v", after, f.Error)
		}
	}
}

// checkStream fails unless w received exactly the events the server says
// it may see after its start, in order, each once: nothing skipped across
// any kill, cut or restart, nothing repeated. authBase is a server on the
// same database to ask.
func checkStream(t testing.TB, w *watcher, authBase string) int {
	t.Helper()
	return checkStreamAgainst(t, w, replay(t, authBase, w.token, w.start))
}

// checkStreamAgainst is checkStream with the authoritative sequence given
// (many streams of one user and start share it).
func checkStreamAgainst(t testing.TB, w *watcher, want []wire.Event) int {
	t.Helper()
	if len(want) > 0 {
		last := want[len(want)-1].Seq
		waitUntil(t, fmt.Sprintf("%s to receive seq %d", w.name, last), func() bool { return w.rec.has(last) })
	}
	var got []wire.Event
	for _, e := range w.rec.Events() {
		if len(want) == 0 || e.Seq <= want[len(want)-1].Seq {
			got = append(got, e)
		}
	}
	if g := w.st.Gaps(); g != 0 {
		t.Errorf("%s: the stream saw %d repeated or backward sequence numbers", w.name, g)
	}
	w.rec.mu.Lock()
	resyncs := slices.Clone(w.rec.resyncs)
	w.rec.mu.Unlock()
	if len(resyncs) > 0 {
		t.Errorf("%s: the server asked for resyncs at %v: its position was lost", w.name, resyncs)
	}
	for i := 0; i < max(len(got), len(want)); i++ {
		switch {
		case i >= len(got):
			t.Fatalf("%s: missing %d events from seq %d on (got %d of %d)", w.name, len(want)-i, want[i].Seq, len(got), len(want))
		case i >= len(want):
			t.Fatalf("%s: %d events more than the log holds, first extra seq %d", w.name, len(got)-i, got[i].Seq)
		case got[i].Seq != want[i].Seq || got[i].Kind != want[i].Kind || got[i].AppID != want[i].AppID || !bytes.Equal(got[i].Data, want[i].Data):
			t.Fatalf("%s: event %d is seq %d %s, the log says seq %d %s", w.name, i, got[i].Seq, got[i].Kind, want[i].Seq, want[i].Kind)
		}
	}
	return len(got)
}

// metric reads one unlabelled counter or gauge from /metrics of base.
func metric(t testing.TB, base, name string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
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
