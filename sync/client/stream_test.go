package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// hang only catches hangs; nothing asserts a duration.
const hang = 45 * time.Second

// recorder keeps the stream's events and its state changes with errors.
type recorder struct {
	*testenv.Recorder
	mu     sync.Mutex
	states []stateChange
}

type stateChange struct {
	s   client.State
	err error
}

func (r *recorder) State(s client.State, err error) {
	r.mu.Lock()
	r.states = append(r.states, stateChange{s, err})
	r.mu.Unlock()
	r.Recorder.State(s, err)
}

func (r *recorder) States() []stateChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]stateChange(nil), r.states...)
}

// run starts a stream and returns a channel that yields Run's error.
func run(t *testing.T, st *client.Stream) <-chan error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return done
}

// proxy forwards TCP connections to a target that can be switched.
type proxy struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			target := p.target
			p.mu.Unlock()
			go func() {
				out, err := net.Dial("tcp", target)
				if err != nil {
					in.Close()
					return
				}
				go func() { _, _ = io.Copy(out, in); out.Close(); in.Close() }()
				_, _ = io.Copy(in, out)
				out.Close()
				in.Close()
			}()
		}
	}()
	return p
}

func (p *proxy) URL() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) SetTarget(addr string) {
	p.mu.Lock()
	p.target = addr
	p.mu.Unlock()
}

func newApp(t *testing.T, a *testenv.Actor) wire.Application {
	t.Helper()
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingNonBudget
	app, err := a.C.CreateApplication(context.Background(), wire.ApplicationInput{ObjectName: str("Склад"),
		ObjectAddress: str("г. Тверь"), WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func messageIDs(t *testing.T, evs []wire.Event) []int64 {
	t.Helper()
	var ids []int64
	for _, e := range testenv.Kinds(evs, wire.EventMessage) {
		var m wire.Message
		if err := e.Decode(&m); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	return ids
}

// TestStreamFailsOverToAnotherReplica: the replica a client is connected to
// shuts down (close 4000: reconnect and resume); the client's next dial
// reaches another replica of the same database and resumes from its last
// sequence with nothing lost or repeated, without stopping.
func TestStreamFailsOverToAnotherReplica(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	s1, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: db, Service: testenv.Config(), Log: testenv.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	s1Down := false
	t.Cleanup(func() {
		if !s1Down {
			_ = s1.Shutdown(context.Background())
		}
	})
	s2 := testenv.StartOn(t, db, testenv.Config())
	owner := testenv.Applicant(t, s2)
	reader := testenv.Member(t, s2, owner)
	app := newApp(t, owner)

	p := newProxy(t, s1.Addr.String())
	c := client.New(p.URL())
	c.SetToken(reader.C.Token())
	rec := &recorder{Recorder: testenv.NewRecorder()}
	st := c.NewStream(rec, nil)
	st.SetBackoff(10*time.Millisecond, 100*time.Millisecond)
	done := run(t, st)
	rec.WaitFor(t, hang, "online on replica 1", func(r *testenv.Recorder) bool { return r.LastState() == client.StateOnline })

	var sent []int64
	postN := func(n int, what string) {
		for i := range n {
			m, err := owner.C.PostMessage(ctx, app.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: fmt.Sprintf("%s %d", what, i)},
				client.NewIdempotencyKey())
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, m.ID)
		}
	}
	postN(10, "до отказа")
	rec.WaitFor(t, hang, "messages through replica 1", func(r *testenv.Recorder) bool { return len(messageIDs(t, r.Events())) == 10 })

	p.SetTarget(s2.Addr.String())
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	s1Down = true
	if err := s1.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	postN(10, "после отказа")
	rec.WaitFor(t, hang, "messages through replica 2", func(r *testenv.Recorder) bool { return len(messageIDs(t, r.Events())) == 20 })

	if got := messageIDs(t, rec.Events()); !slices.Equal(got, sent) {
		t.Fatalf("received %v, committed %v", got, sent)
	}
	if st.Gaps() != 0 {
		t.Fatalf("gaps: %d", st.Gaps())
	}
	select {
	case err := <-done:
		t.Fatalf("stream stopped: %v", err)
	default:
	}
	// It went offline because the server said "reconnect" (4000), then
	// came back online.
	states := rec.States()
	off := slices.IndexFunc(states, func(s stateChange) bool { return s.s == client.StateOffline })
	if off < 0 || !strings.Contains(fmt.Sprint(states[off].err), fmt.Sprint(wire.CloseReconnect)) {
		t.Fatalf("states %+v: want offline with close %d", states, wire.CloseReconnect)
	}
	if !errors.Is(states[off].err, client.ErrNetwork) {
		t.Fatalf("offline error %v is not a network error", states[off].err)
	}
	if !slices.ContainsFunc(states[off:], func(s stateChange) bool { return s.s == client.StateOnline }) {
		t.Fatalf("states %+v: never back online", states)
	}
}

// TestStreamSendNeedsLiveConnection: presence and typing are dropped with
// an error while the stream is not live.
func TestStreamSendNeedsLiveConnection(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	a := testenv.Applicant(t, s)
	app := newApp(t, a)
	rec := &recorder{Recorder: testenv.NewRecorder()}
	st := a.C.NewStream(rec, nil)
	if err := st.Send(wire.FramePresence, wire.Ephemeral{AppID: app.ID}); err == nil {
		t.Fatal("Send before connecting succeeded")
	}
	run(t, st)
	rec.WaitFor(t, hang, "online", func(r *testenv.Recorder) bool { return r.LastState() == client.StateOnline })
	if err := st.Send(wire.FramePresence, wire.Ephemeral{AppID: app.ID, Doc: "v1", Page: 2}); err != nil {
		t.Fatalf("Send while live: %v", err)
	}
}

// TestIdempotentCommandAppliesOnce: a command retried with the same key
// returns the first outcome and applies once; the same key for another
// request is refused.
func TestIdempotentCommandAppliesOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	a := testenv.Applicant(t, s)
	app := newApp(t, a)
	key := client.NewIdempotencyKey()
	req := wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: "один раз"}
	m1, err := a.C.PostMessage(ctx, app.ID, req, key)
	if err != nil {
		t.Fatal(err)
	}
	m2, err := a.C.PostMessage(ctx, app.ID, req, key)
	if err != nil {
		t.Fatal(err)
	}
	if m1.ID != m2.ID || m1.Body != m2.Body {
		t.Fatalf("retry answered %+v, first %+v", m2, m1)
	}
	_, err = a.C.PostMessage(ctx, app.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: "другое"}, key)
	if wire.ErrorCode(err) != wire.CodeIdempotencyReuse {
		t.Fatalf("same key, other body: %v, want %s", err, wire.CodeIdempotencyReuse)
	}
	var we *wire.Error
	if !errors.As(err, &we) {
		t.Fatalf("refusal %T is not a *wire.Error", err)
	}
	list, err := a.C.Messages(ctx, app.ID, wire.ChannelApplicant, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != m1.ID {
		t.Fatalf("messages %+v, want only %d", list, m1.ID)
	}
}
