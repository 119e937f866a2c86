package bench

// The reference of BenchmarkFanout1000: a bare gorilla/websocket server
// broadcasting the same bytes to the same number of loopback clients, with
// nothing of our protocol (no command, no transaction, no change log, no
// LISTEN/NOTIFY wake-up, no visibility check, no hello). The collector
// (bench/cmd/benchtable) pairs BenchmarkX_gorilla with BenchmarkX, so the
// ratio of the two is what our protocol costs over moving the bytes.

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// bareHub is the broadcast hub of gorilla's chat example: one writer
// goroutine per connection fed by a buffered channel, one reader goroutine
// that only answers control frames, a write deadline, and clients whose
// queue is full dropped. It is what a minimal correct server does and no
// more.
type bareHub struct {
	up    websocket.Upgrader
	mu    sync.Mutex
	conns map[*bareConn]struct{}
	wg    sync.WaitGroup
}

type bareConn struct {
	ws   *websocket.Conn
	send chan []byte
}

func newBareHub() *bareHub { return &bareHub{conns: map[*bareConn]struct{}{}} }

func (h *bareHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := h.up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &bareConn{ws: ws, send: make(chan []byte, 256)}
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	h.wg.Add(1)
	go func() { // writer
		defer h.wg.Done()
		for msg := range c.send {
			_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if ws.WriteMessage(websocket.TextMessage, msg) != nil {
				break
			}
		}
		ws.Close()
	}()
	for { // reader: control frames and the close
		if _, _, err := ws.ReadMessage(); err != nil {
			break
		}
	}
	h.mu.Lock()
	if _, ok := h.conns[c]; ok {
		delete(h.conns, c)
		close(c.send)
	}
	h.mu.Unlock()
}

// broadcast queues msg for every connection, dropping those that lag.
func (h *bareHub) broadcast(msg []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.conns {
		select {
		case c.send <- msg:
		default:
			delete(h.conns, c)
			close(c.send)
		}
	}
}

func (h *bareHub) len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// serveBare runs h on a loopback port until the benchmark ends and returns
// its ws:// URL.
func serveBare(b *testing.B, h http.Handler) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "ws://" + ln.Addr().String() + "/ws"
}

// eventFrame returns the exact bytes our server sends a client for one
// chat message, taken from a real server, so the reference moves the same
// payload.
func eventFrame(b *testing.B) []byte {
	b.Helper()
	s := testenv.Start(b, testenv.Config())
	app, a := world(b, s)
	ws := dialHello(b, s, app.C.Token())
	defer ws.Close()
	post(b, app.C, a.ID, 0)
	_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			b.Fatalf("waiting for the message event: %v", err)
		}
		var f wire.Frame
		if json.Unmarshal(data, &f) == nil && f.Type == wire.FrameEvent && f.Event.Kind == wire.EventMessage {
			return data
		}
	}
}

// dialHello opens our WebSocket and completes the hello.
func dialHello(b *testing.B, s *boot.Server, token string) *websocket.Conn {
	b.Helper()
	ws, _, err := websocket.DefaultDialer.DialContext(context.Background(), "ws://"+s.URL()[len("http://"):]+wire.APIPrefix+"/ws", nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: token}); err != nil {
		b.Fatal(err)
	}
	var welcome wire.Frame
	if err := ws.ReadJSON(&welcome); err != nil || welcome.Type != wire.FrameWelcome {
		b.Fatalf("welcome: %v %+v", err, welcome)
	}
	return ws
}

// BenchmarkFanout1000_gorilla: the event frame of one chat message
// broadcast by a bare gorilla/websocket hub to 1,000 loopback clients;
// latency from the broadcast call to each client having read the frame
// (p50-ms, p99-ms as in BenchmarkFanout1000).
func BenchmarkFanout1000_gorilla(b *testing.B) {
	const clients = 1000
	frame := eventFrame(b)
	h := newBareHub()
	u := serveBare(b, h)
	got := make([]chan time.Time, clients)
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		ws, _, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			b.Fatal(err)
		}
		conns[i], got[i] = ws, make(chan time.Time, 4096)
		go func(ch chan time.Time) {
			defer close(ch)
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					return
				}
				ch <- time.Now()
			}
		}(got[i])
	}
	b.Cleanup(func() {
		for _, ws := range conns {
			ws.Close()
		}
	})
	for deadline := time.Now().Add(time.Minute); h.len() < clients; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d clients registered", h.len(), clients)
		}
	}
	var lat []time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		h.broadcast(frame)
		for _, ch := range got {
			at, ok := <-ch
			if !ok {
				b.Fatal("a client was disconnected")
			}
			lat = append(lat, at.Sub(start))
		}
	}
	b.StopTimer()
	report(b, lat)
	b.Logf("frame of %d bytes", len(frame))
}
