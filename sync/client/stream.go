package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/sync/wire"
)

// State is the stream's connection state, for the UI's sync indicator.
type State int

const (
	StateOffline    State = iota // not connected; retrying
	StateConnecting              // dialling or replaying
	StateOnline                  // live
	StateStopped                 // terminal: sign in again
)

func (s State) String() string {
	return [...]string{"offline", "connecting", "online", "stopped"}[s]
}

// Handler receives what the stream delivers, always from one goroutine in
// order. Events come with strictly increasing Seq.
type Handler interface {
	Event(wire.Event)
	Ephemeral(wire.Ephemeral)
	// Resync says the client's position cannot be continued: reload state
	// over HTTP; events after Seq will follow.
	Resync(seq int64)
	State(State, error)
}

// ErrTerminal ends Run: the session is gone or the protocol broken.
var ErrTerminal = errors.New("stream closed by server: sign in again")

// Stream is a resumable event subscription.
type Stream struct {
	c   *Client
	h   Handler
	min time.Duration
	max time.Duration
	mu  sync.Mutex
	ws  *websocket.Conn
	seq int64
	has bool
	// Gaps counts sequence numbers that went backwards or repeated (must
	// stay 0; tests assert it).
	gaps int
}

// NewStream prepares a stream resuming after `after` (nil: live only from
// now on, as for a client with no cached state).
func (c *Client) NewStream(h Handler, after *int64) *Stream {
	s := &Stream{c: c, h: h, min: 200 * time.Millisecond, max: 30 * time.Second}
	if after != nil {
		s.seq, s.has = *after, true
	}
	return s
}

// SetBackoff changes the reconnect delays (tests use short ones).
func (s *Stream) SetBackoff(min, max time.Duration) { s.min, s.max = min, max }

// Seq is the last sequence delivered.
func (s *Stream) Seq() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// Gaps is the number of out-of-order sequence numbers seen (always 0 unless
// the server is broken).
func (s *Stream) Gaps() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gaps
}

// Send sends presence or typing on the live connection (dropped offline:
// ephemeral by nature).
func (s *Stream) Send(kind string, e wire.Ephemeral) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ws == nil {
		return errors.New("offline")
	}
	_ = s.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return s.ws.WriteJSON(wire.Frame{Type: kind, Ephemeral: &e})
}

// Run connects and reconnects until ctx ends or the server ends the
// session. Backoff doubles from min to max with full jitter, and resets
// after a connection that lived long enough to go live.
func (s *Stream) Run(ctx context.Context) error {
	delay := s.min
	for {
		s.h.State(StateConnecting, nil)
		live, err := s.once(ctx)
		if ctx.Err() != nil {
			s.h.State(StateOffline, nil)
			return ctx.Err()
		}
		if errors.Is(err, ErrTerminal) {
			s.h.State(StateStopped, err)
			return err
		}
		if live {
			delay = s.min
		}
		s.h.State(StateOffline, err)
		// Full jitter spreads a thousand clients reconnecting after a
		// server restart over the whole window.
		wait := time.Duration(rand.Int64N(int64(delay))) + delay/2
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		delay = min(delay*2, s.max)
	}
}

func wsURL(base string) string {
	switch {
	case strings.HasPrefix(base, "https://"):
		return "wss://" + strings.TrimPrefix(base, "https://") + wire.APIPrefix + "/ws"
	case strings.HasPrefix(base, "http://"):
		return "ws://" + strings.TrimPrefix(base, "http://") + wire.APIPrefix + "/ws"
	}
	return base + wire.APIPrefix + "/ws"
}

// once runs one connection; live reports whether it got past replay.
func (s *Stream) once(ctx context.Context) (live bool, err error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, Proxy: http.ProxyFromEnvironment}
	if tr, ok := s.c.hc.Transport.(*http.Transport); ok && tr != nil {
		d.TLSClientConfig = tr.TLSClientConfig
	}
	ws, _, err := d.DialContext(ctx, wsURL(s.c.base), nil)
	if err != nil {
		return false, fmt.Errorf("%w: dial: %w", ErrNetwork, err)
	}
	defer ws.Close()
	defer func() {
		s.mu.Lock()
		if s.ws == ws {
			s.ws = nil
		}
		s.mu.Unlock()
	}()
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	hello := wire.Frame{Type: wire.FrameHello, Token: s.c.Token()}
	s.mu.Lock()
	if s.has {
		after := s.seq
		hello.After = &after
	}
	s.mu.Unlock()
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteJSON(hello); err != nil {
		return false, fmt.Errorf("%w: hello: %w", ErrNetwork, err)
	}
	ws.SetReadLimit(16 << 20)
	ws.SetPingHandler(func(data string) error {
		_ = ws.SetReadDeadline(time.Now().Add(90 * time.Second))
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	for {
		_ = ws.SetReadDeadline(time.Now().Add(90 * time.Second))
		_, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code >= 4500 && ce.Code < 5000 {
				return live, fmt.Errorf("%w (%d %s)", ErrTerminal, ce.Code, ce.Text)
			}
			return live, fmt.Errorf("%w: %w", ErrNetwork, err)
		}
		var f wire.Frame
		if err := json.Unmarshal(data, &f); err != nil {
			return live, fmt.Errorf("malformed frame: %w", err)
		}
		switch f.Type {
		case wire.FrameWelcome:
			s.mu.Lock()
			if !s.has {
				s.seq, s.has = f.Seq, true
			}
			s.mu.Unlock()
		case wire.FrameEvent:
			if f.Event == nil {
				continue
			}
			s.mu.Lock()
			if f.Event.Seq <= s.seq {
				s.gaps++
				s.mu.Unlock()
				continue
			}
			s.seq = f.Event.Seq
			s.mu.Unlock()
			s.h.Event(*f.Event)
		case wire.FrameReplayDone:
			s.mu.Lock()
			s.ws = ws
			s.mu.Unlock()
			live = true
			s.h.State(StateOnline, nil)
		case wire.FrameResync:
			s.mu.Lock()
			s.seq = f.Seq
			s.mu.Unlock()
			s.h.Resync(f.Seq)
		case wire.FrameEphemeral:
			if f.Ephemeral != nil {
				s.h.Ephemeral(*f.Ephemeral)
			}
		case wire.FrameError:
			if f.Error != nil && (f.Error.Code == wire.CodeUnauthenticated || f.Error.Code == wire.CodeEnrolmentRequired) {
				return live, fmt.Errorf("%w: %w", ErrTerminal, f.Error)
			}
		}
		if f.Type == wire.FrameWelcome && hello.After == nil {
			// Live-only subscriptions get no replay_done: they are live now.
			s.mu.Lock()
			s.ws = ws
			s.mu.Unlock()
			live = true
			s.h.State(StateOnline, nil)
		}
	}
}
