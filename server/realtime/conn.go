package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// Tunables of one connection.
const (
	writeWait                = 10 * time.Second
	pongWait                 = 60 * time.Second
	pingEvery                = 25 * time.Second
	helloWait                = 10 * time.Second
	maxFrameBytes            = 64 << 10
	sendQueue                = 1024 // frames; a client this far behind is dropped
	maxPendingWhileReplaying = 10000
	replayPage               = 1000
)

// Conn is one WebSocket client.
type Conn struct {
	hub  *Hub
	ws   *websocket.Conn
	user connUser
	log  *slog.Logger

	send chan []byte // event frames, in sequence order
	eph  chan []byte // ephemeral frames, dropped when full

	mu        sync.Mutex
	replaying bool
	pending   [][]byte
	pendSeq   []int64
	lastSeq   int64 // highest sequence queued or sent
	closed    bool
	closeCode int
	closeMsg  string
	done      chan struct{}
}

// Handler serves the WebSocket endpoint.
type Handler struct {
	Hub      *Hub
	Svc      *service.Service
	Log      *slog.Logger
	Upgrader websocket.Upgrader
}

// ServeHTTP upgrades and runs the connection until it ends.
func (hd *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ws, err := hd.Upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	ws.SetReadLimit(maxFrameBytes)
	ctx := r.Context()
	p, after, err := hd.hello(ctx, ws, r)
	if err != nil {
		code := wire.CloseUnauthenticated
		switch wire.ErrorCode(err) {
		case wire.CodeInvalid:
			code = wire.CloseProtocol
		case wire.CodeInternal:
			code = wire.CloseReconnect // the database hiccuped: not the client's fault
		}
		we, _ := wire.AsError(err)
		if we == nil {
			we = wire.E(wire.CodeInternal, "", "Внутренняя ошибка", "Internal error")
		}
		writeFrame(ws, wire.Frame{Type: wire.FrameError, Error: we})
		closeWith(ws, code, string(we.Code))
		return
	}
	c := &Conn{hub: hd.Hub, ws: ws, log: hd.Log, send: make(chan []byte, sendQueue), eph: make(chan []byte, 64),
		user:      connUser{UserID: p.UserID, SessionID: p.SessionID, Role: p.Role, OrgIDs: p.OrgIDs, Name: p.Name},
		replaying: after != nil, done: make(chan struct{})}
	hubSeq := hd.Hub.register(c)
	defer hd.Hub.unregister(c)
	u, err := hd.Svc.Me(ctx, p)
	if err != nil {
		closeWith(ws, wire.CloseReconnect, "try again")
		return
	}
	welcome := wire.Frame{Type: wire.FrameWelcome, Seq: hubSeq, User: &u}
	if err := writeFrame(ws, welcome); err != nil {
		return
	}
	go c.readLoop(ctx, hd, p)
	c.writeLoop(ctx, hd.Svc, after, hubSeq)
}

// hello reads the first frame: the token and the resume point. Tokens go in
// a frame, not the URL, so they never reach access logs.
func (hd *Handler) hello(ctx context.Context, ws *websocket.Conn, r *http.Request) (*service.Principal, *int64, error) {
	_ = ws.SetReadDeadline(time.Now().Add(helloWait))
	kind, data, err := ws.ReadMessage()
	if err != nil {
		return nil, nil, wire.E(wire.CodeInvalid, "hello", "Первое сообщение должно быть hello с токеном", "The first frame must be hello with a token")
	}
	f, err := decodeClientFrame(kind, data, wire.FrameHello)
	if err != nil {
		return nil, nil, wire.E(wire.CodeInvalid, "hello", "Первое сообщение должно быть hello с токеном", "The first frame must be hello with a token")
	}
	p, err := hd.Svc.Authenticate(ctx, f.Token, clientIP(r))
	if err != nil {
		return nil, nil, err
	}
	if p.Scope != wire.ScopeFull {
		return nil, nil, wire.E(wire.CodeEnrolmentRequired, "", "Сначала подключите двухфакторную аутентификацию", "Enrol two-factor authentication first")
	}
	return p, f.After, nil
}

// deliver queues an event frame; called by the hub in sequence order.
func (c *Conn) deliver(seq int64, frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || seq <= c.lastSeq {
		return
	}
	if c.replaying {
		if len(c.pending) >= maxPendingWhileReplaying {
			c.closeLocked(wire.CloseReconnect, "too far behind")
			return
		}
		c.pending = append(c.pending, frame)
		c.pendSeq = append(c.pendSeq, seq)
		return
	}
	select {
	case c.send <- frame:
		c.lastSeq = seq
	default:
		c.hub.m.SlowDrops.Inc()
		c.closeLocked(wire.CloseReconnect, "slow consumer: reconnect and resume")
	}
}

func (c *Conn) deliverEphemeral(frame []byte) {
	select {
	case c.eph <- frame:
	default: // presence is best effort: a busy client misses a beat
	}
}

func (c *Conn) close(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked(code, reason)
}

func (c *Conn) closeLocked(code int, reason string) {
	if c.closed {
		return
	}
	c.closed, c.closeCode, c.closeMsg = true, code, reason
	close(c.done)
	if code == wire.CloseReconnect {
		// A writer stuck on a client that stopped reading would otherwise
		// hold the connection until its write deadline: cut it now.
		_ = c.ws.NetConn().SetWriteDeadline(time.Now())
	}
}

// writeLoop is the only writer of the socket: replay, then live events,
// ephemeral frames and pings; it also ends the connection when the session
// expires.
func (c *Conn) writeLoop(ctx context.Context, svc *service.Service, after *int64, hubSeq int64) {
	defer c.ws.Close()
	if after != nil {
		if !c.replay(ctx, svc, *after, hubSeq) {
			c.finish()
			return
		}
	} else {
		c.mu.Lock()
		c.lastSeq = max(c.lastSeq, hubSeq) // the hub may have queued newer ones already
		c.mu.Unlock()
	}
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	expiry := time.NewTimer(c.sessionCheckDelay(ctx, svc))
	defer expiry.Stop()
	for {
		select {
		case <-c.done:
			c.finish()
			return
		case <-ctx.Done():
			c.close(wire.CloseReconnect, "server shutting down")
		case f := <-c.send:
			if c.write(f) != nil {
				return
			}
		case f := <-c.eph:
			if c.write(f) != nil {
				return
			}
		case <-ping.C:
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if c.ws.WriteMessage(websocket.PingMessage, nil) != nil {
				return
			}
		case <-expiry.C:
			d := c.sessionCheckDelay(ctx, svc)
			if d <= 0 {
				c.close(wire.CloseUnauthenticated, "session expired")
				continue
			}
			expiry.Reset(d)
		}
	}
}

// sessionCheckDelay is how long until the session may expire; 0 if it has.
// Requests on other connections or replicas may have extended it, so the
// deadline is re-read from the database when it comes.
func (c *Conn) sessionCheckDelay(ctx context.Context, svc *service.Service) time.Duration {
	d, err := svc.SessionDeadline(ctx, c.user.SessionID)
	if err != nil {
		return 5 * time.Second // database hiccup: look again soon
	}
	left := d.Sub(svc.Now())
	if left <= 0 {
		return 0
	}
	return left + 100*time.Millisecond
}

func (c *Conn) write(frame []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
	return c.ws.WriteMessage(websocket.TextMessage, frame)
}

func (c *Conn) finish() {
	c.mu.Lock()
	code, msg := c.closeCode, c.closeMsg
	c.mu.Unlock()
	if code == 0 {
		code = websocket.CloseNormalClosure
	}
	closeWith(c.ws, code, msg)
}

// replay sends the visible events after `after`, then switches to live,
// flushing what the hub queued meanwhile without gaps or repeats.
func (c *Conn) replay(ctx context.Context, svc *service.Service, after, hubSeq int64) bool {
	q := svc.Store().Read()
	last, err := q.LastSeq(ctx)
	if err != nil {
		c.close(wire.CloseReconnect, "try again")
		return false
	}
	first, err := q.FirstSeq(ctx)
	if err != nil {
		c.close(wire.CloseReconnect, "try again")
		return false
	}
	if after > last || (first > 0 && after < first-1) {
		// The client holds a position this log cannot continue from (a
		// restored database, or pruned history): it must reload.
		if c.writeJSON(wire.Frame{Type: wire.FrameResync, Seq: hubSeq}) != nil {
			return false
		}
		after = hubSeq
	}
	pos := after
	for {
		evs, err := q.ChangesAfter(ctx, pos, replayPage)
		if err != nil {
			c.close(wire.CloseReconnect, "try again")
			return false
		}
		for _, e := range evs {
			pos = e.Seq
			if !c.user.sees(e) {
				continue
			}
			ev := e.Event()
			if c.writeJSON(wire.Frame{Type: wire.FrameEvent, Event: &ev}) != nil {
				return false
			}
		}
		if len(evs) < replayPage {
			break
		}
	}
	// Switch to live: anything the hub queued up to pos was already sent.
	c.mu.Lock()
	c.lastSeq = pos
	pending, seqs := c.pending, c.pendSeq
	c.pending, c.pendSeq, c.replaying = nil, nil, false
	c.mu.Unlock()
	if c.writeJSON(wire.Frame{Type: wire.FrameReplayDone, Seq: pos}) != nil {
		return false
	}
	for i, f := range pending {
		if seqs[i] <= pos {
			continue
		}
		if c.write(f) != nil {
			return false
		}
		c.mu.Lock()
		c.lastSeq = max(c.lastSeq, seqs[i])
		c.mu.Unlock()
	}
	return true
}

func (c *Conn) writeJSON(f wire.Frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return c.write(b)
}

// readLoop reads client frames (presence, typing) and pongs.
func (c *Conn) readLoop(ctx context.Context, hd *Handler, p *service.Principal) {
	defer c.close(websocket.CloseNormalClosure, "")
	_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(pongWait))
		f, err := decodeClientFrame(kind, data, wire.FramePresence, wire.FrameTyping)
		if err != nil {
			// A client bug: 4501 tells it to stop rather than reconnect
			// and repeat the mistake.
			we, _ := wire.AsError(err)
			c.close(wire.CloseProtocol, we.MessageEN)
			return
		}
		if f.Ephemeral == nil {
			continue
		}
		if err := hd.ephemeral(ctx, p, f.Type, *f.Ephemeral); err != nil {
			we, ok := wire.AsError(err)
			if !ok {
				we = wire.E(wire.CodeInternal, "", "Внутренняя ошибка", "Internal error")
			}
			b, _ := json.Marshal(wire.Frame{Type: wire.FrameError, Error: we})
			c.deliverEphemeral(b)
		}
	}
}

// decodeClientFrame reads a client's message as a frame: one JSON object in
// a text message, nothing after it, of one of the allowed types. Every
// refusal is a *wire.Error (CodeInvalid) naming "frame" or "type"; its
// English message is short enough for a close reason (123 bytes).
func decodeClientFrame(kind int, data []byte, allowed ...string) (wire.Frame, error) {
	var f wire.Frame
	if kind != websocket.TextMessage {
		return f, wire.E(wire.CodeInvalid, "frame", "Сообщения — текстовые кадры с JSON", "frames are JSON text messages")
	}
	// Unmarshal, unlike a stream decoder, refuses data after the object.
	if err := json.Unmarshal(data, &f); err != nil {
		return wire.Frame{}, wire.E(wire.CodeInvalid, "frame", "Кадр не является JSON-объектом кадра", "malformed frame: not a JSON frame object")
	}
	if !slices.Contains(allowed, f.Type) {
		return wire.Frame{}, wire.E(wire.CodeInvalid, "type", "Неожиданный тип кадра", "unexpected frame type")
	}
	return f, nil
}

// ephemeral checks the sender may see the application and publishes the
// frame to that application's audience.
func (hd *Handler) ephemeral(ctx context.Context, p *service.Principal, kind string, e wire.Ephemeral) error {
	if kind != wire.FramePresence {
		e.VersionID = 0
	}
	aud, staffOnly, err := hd.Svc.PresenceAudience(ctx, p, e.AppID, e.VersionID)
	if err != nil {
		return err
	}
	e.Kind, e.UserID, e.UserName = kind, p.UserID, p.Name
	m := ephemeralMsg{E: e, OrgID: aud.OrgID, ExpertIDs: aud.ExpertIDs}
	if staffOnly {
		m.OrgID, m.StaffOnly = 0, true
	}
	if kind == wire.FrameTyping && e.Channel == wire.ChannelStaff {
		if !p.Role.Staff() {
			return wire.E(wire.CodeNotFound, "channel", "Канал недоступен", "Channel not accessible")
		}
		m.OrgID, m.StaffOnly = 0, true
	}
	return hd.Hub.PublishEphemeral(ctx, m)
}

func writeFrame(ws *websocket.Conn, f wire.Frame) error {
	_ = ws.SetWriteDeadline(time.Now().Add(writeWait))
	return ws.WriteJSON(f)
}

func closeWith(ws *websocket.Conn, code int, reason string) {
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	_ = ws.Close()
}

func clientIP(r *http.Request) string {
	host := r.RemoteAddr
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == ':' {
			return host[:i]
		}
	}
	return host
}
