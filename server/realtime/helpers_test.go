package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// hang is how long a wait may last before the test calls it a hang. Waits
// end as soon as their condition holds; nothing here asserts a duration.
const hang = 45 * time.Second

// waitUntil polls cond until it holds, failing after hang.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hang)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", hang, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newProxy forwards loopback connections to target until the test ends.
func newProxy(t testing.TB, target string) *testenv.Proxy { return testenv.NewProxy(t, target) }

// --- a stream handler that keeps one ordered timeline ---

// item is one thing the stream handed to its handler, in order.
type item struct {
	ev     *wire.Event
	state  client.State
	resync *int64
}

// timeline records events, states and resyncs in the order they came; the
// embedded Recorder gives WaitFor and the usual accessors.
type timeline struct {
	*testenv.Recorder
	mu    sync.Mutex
	items []item
}

func newTimeline() *timeline { return &timeline{Recorder: testenv.NewRecorder()} }

func (tl *timeline) add(it item) {
	tl.mu.Lock()
	tl.items = append(tl.items, it)
	tl.mu.Unlock()
}

func (tl *timeline) Event(e wire.Event) { tl.add(item{ev: &e}); tl.Recorder.Event(e) }

func (tl *timeline) State(s client.State, err error) {
	tl.add(item{state: s})
	tl.Recorder.State(s, err)
}

func (tl *timeline) Resync(seq int64) { tl.add(item{resync: &seq}); tl.Recorder.Resync(seq) }

func (tl *timeline) Items() []item {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return append([]item(nil), tl.items...)
}

// Resyncs lists the positions of the resync frames received.
func (tl *timeline) Resyncs() []int64 {
	var out []int64
	for _, it := range tl.Items() {
		if it.resync != nil {
			out = append(out, *it.resync)
		}
	}
	return out
}

// --- running streams ---

type runner struct {
	St     *client.Stream
	TL     *timeline
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// startStream runs a stream for c (live from now when after is nil) until
// the test ends or the server ends it; it waits for the stream to go live.
func startStream(t testing.TB, c *client.Client, after *int64) *runner {
	t.Helper()
	r := startStreamNoWait(t, c, after)
	r.TL.WaitFor(t, hang, "stream online", func(*testenv.Recorder) bool { return r.TL.LastState() == client.StateOnline })
	return r
}

func startStreamNoWait(t testing.TB, c *client.Client, after *int64) *runner {
	t.Helper()
	r := &runner{TL: newTimeline(), done: make(chan struct{})}
	r.St = c.NewStream(r.TL, after)
	r.St.SetBackoff(10*time.Millisecond, 100*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { defer close(r.done); r.err = r.St.Run(ctx) }()
	t.Cleanup(r.Stop)
	return r
}

// Stop ends the stream and waits for Run to return.
func (r *runner) Stop() { r.cancel(); <-r.done }

// Ended reports whether Run has returned.
func (r *runner) Ended() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// WaitEnd waits for the server to end the stream and returns Run's error.
func (r *runner) WaitEnd(t testing.TB, what string) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(hang):
		t.Fatalf("timed out after %v waiting for %s", hang, what)
		return nil
	}
}

// clientAs is a new client of the server at base carrying a's session.
func clientAs(a *testenv.Actor, base string) *client.Client {
	c := client.New(base)
	c.SetToken(a.C.Token())
	return c
}

// secondSession signs the same user in again from another device.
func secondSession(t testing.TB, s *boot.Server, a *testenv.Actor) *testenv.Actor {
	t.Helper()
	b := &testenv.Actor{User: a.User, Password: a.Password, TOTPSecret: a.TOTPSecret,
		C: client.New(s.URL(), client.WithDeviceID(fmt.Sprintf("dev2-%d", testenv.Unique())))}
	b.Login(t)
	return b
}

// --- domain helpers ---

func newApp(t testing.TB, a *testenv.Actor, name string) wire.Application {
	t.Helper()
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingNonBudget
	app, err := a.C.CreateApplication(context.Background(), wire.ApplicationInput{ObjectName: str(name),
		ObjectAddress: str("г. Москва, ул. Тверская, 1"), WorksKind: &works, ExpertiseKind: &kind, Financing: &fin},
		client.NewIdempotencyKey())
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	return app
}

func submit(t testing.TB, a *testenv.Actor, app wire.Application) wire.Application {
	t.Helper()
	app, err := a.C.Transition(context.Background(), app.ID, wire.TransitionRequestBody{Version: app.Version, To: wire.StatusSubmitted},
		client.NewIdempotencyKey())
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return app
}

// post sends one chat message, retrying network failures with the same
// idempotency key as a real client does, so it applies exactly once.
func post(c *client.Client, appID int64, ch wire.Channel, body string) (wire.Message, error) {
	key := client.NewIdempotencyKey()
	var last error
	for attempt := 0; attempt < 200; attempt++ {
		m, err := c.PostMessage(context.Background(), appID, wire.PostMessageRequest{Channel: ch, Body: body}, key)
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, client.ErrNetwork) && wire.ErrorCode(err) != wire.CodeInternal && wire.ErrorCode(err) != wire.CodeUnavailable {
			return m, err
		}
		last = err
		time.Sleep(time.Duration(min(attempt+1, 20)) * 10 * time.Millisecond)
	}
	return wire.Message{}, fmt.Errorf("gave up retrying: %w", last)
}

func mustPost(t testing.TB, c *client.Client, appID int64, ch wire.Channel, body string) wire.Message {
	t.Helper()
	m, err := post(c, appID, ch, body)
	if err != nil {
		t.Fatalf("post %q: %v", body, err)
	}
	return m
}

// messages decodes the chat messages among evs.
func messages(t testing.TB, evs []wire.Event) []wire.Message {
	t.Helper()
	var out []wire.Message
	for _, e := range testenv.Kinds(evs, wire.EventMessage) {
		var m wire.Message
		if err := e.Decode(&m); err != nil {
			t.Fatalf("decode message event %d: %v", e.Seq, err)
		}
		out = append(out, m)
	}
	return out
}

func hasMessage(t testing.TB, evs []wire.Event, id int64) bool {
	for _, m := range messages(t, evs) {
		if m.ID == id {
			return true
		}
	}
	return false
}

// checkIncreasing fails unless sequence numbers strictly increase.
func checkIncreasing(t testing.TB, evs []wire.Event) {
	t.Helper()
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			t.Fatalf("event %d: sequence went from %d to %d", i, evs[i-1].Seq, evs[i].Seq)
		}
	}
}

// markRead is a fence: it moves a's read mark, which emits an event only
// that user sees, committed after everything before it, and waits for it on
// rec. Once it has arrived, every earlier event the user may see has arrived
// too (delivery is in sequence order).
func markRead(t testing.TB, a *testenv.Actor, rec *testenv.Recorder, appID int64) {
	t.Helper()
	before := len(testenv.Kinds(rec.Events(), wire.EventMessageRead))
	if _, err := a.C.MarkRead(context.Background(), appID, wire.MarkReadRequest{Channel: wire.ChannelApplicant}); err != nil {
		t.Fatalf("mark read: %v", err)
	}
	rec.WaitFor(t, hang, "the read-mark fence", func(r *testenv.Recorder) bool {
		return len(testenv.Kinds(r.Events(), wire.EventMessageRead)) > before
	})
}

// --- raw WebSocket ---

func wsURL(s *boot.Server) string { return "ws://" + s.Addr.String() + wire.APIPrefix + "/ws" }

func dialRaw(t testing.TB, s *boot.Server) *websocket.Conn {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(wsURL(s), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

func sendHello(t testing.TB, ws *websocket.Conn, token string, after *int64) {
	t.Helper()
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: token, After: after}); err != nil {
		t.Fatalf("hello: %v", err)
	}
}

// readFrame reads one frame; the deadline only catches hangs.
func readFrame(ws *websocket.Conn) (wire.Frame, error) {
	_ = ws.SetReadDeadline(time.Now().Add(hang))
	_, data, err := ws.ReadMessage()
	if err != nil {
		return wire.Frame{}, err
	}
	var f wire.Frame
	if err := json.Unmarshal(data, &f); err != nil {
		return wire.Frame{}, fmt.Errorf("malformed frame %q: %w", data, err)
	}
	return f, nil
}

func mustFrame(t testing.TB, ws *websocket.Conn) wire.Frame {
	t.Helper()
	f, err := readFrame(ws)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	return f
}

// readUntilClose reads frames until the connection ends and returns them
// with the close error (nil if the connection ended without a close frame).
func readUntilClose(t testing.TB, ws *websocket.Conn) ([]wire.Frame, *websocket.CloseError) {
	t.Helper()
	var frames []wire.Frame
	for {
		f, err := readFrame(ws)
		if err == nil {
			frames = append(frames, f)
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return frames, ce
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("connection still open after %v: %v", hang, err)
		}
		return frames, nil
	}
}
