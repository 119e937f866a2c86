// Package realtime delivers committed changes and ephemeral presence to
// WebSocket clients. One tail loop per server process reads the change log
// in sequence order (woken by local commits and by LISTEN/NOTIFY from other
// processes) and hands each event to every connection whose user may see
// it. Ephemeral frames travel through NOTIFY only, never stored.
package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// EphemeralChannel carries presence and typing between server processes.
const EphemeralChannel = "expertiza_ephemeral"

// Metrics are the hub's Prometheus instruments.
type Metrics struct {
	Connections prometheus.Gauge
	Delivered   prometheus.Counter
	SlowDrops   prometheus.Counter
	Latency     prometheus.Histogram // commit → handed to the connection
}

// NewMetrics registers the hub's instruments on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Connections: prometheus.NewGauge(prometheus.GaugeOpts{Name: "expertiza_ws_connections", Help: "Open WebSocket connections."}),
		Delivered:   prometheus.NewCounter(prometheus.CounterOpts{Name: "expertiza_ws_events_delivered_total", Help: "Events queued to clients."}),
		SlowDrops:   prometheus.NewCounter(prometheus.CounterOpts{Name: "expertiza_ws_slow_drops_total", Help: "Connections dropped for not keeping up."}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "expertiza_event_delivery_seconds",
			Help: "From commit to the event queued for a client.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
	}
	if reg != nil {
		reg.MustRegister(m.Connections, m.Delivered, m.SlowDrops, m.Latency)
	}
	return m
}

// Hub fans events out to connections.
type Hub struct {
	st      *store.Store
	connURL string // for the dedicated LISTEN connection
	log     *slog.Logger
	m       *Metrics

	wake chan struct{}

	mu      sync.RWMutex
	conns   map[*Conn]struct{}
	lastSeq int64 // highest sequence dispatched
	ready   chan struct{}
}

// NewHub builds a hub; Run starts it.
func NewHub(st *store.Store, connURL string, log *slog.Logger, m *Metrics) *Hub {
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Hub{st: st, connURL: connURL, log: log, m: m, wake: make(chan struct{}, 1),
		conns: map[*Conn]struct{}{}, ready: make(chan struct{})}
}

// Poke wakes the tail loop after a local commit.
func (h *Hub) Poke(int64) {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Clients is the number of open connections.
func (h *Hub) Clients() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

// Ready is closed once the hub knows where the log stands.
func (h *Hub) Ready() <-chan struct{} { return h.ready }

// Run tails the change log until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	var err error
	for {
		h.lastSeq, err = h.st.Read().LastSeq(ctx)
		if err == nil {
			break
		}
		h.log.Warn("hub: cannot read change counter, retrying", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	close(h.ready)
	go h.listen(ctx)
	// The ticker is a safety net: a NOTIFY lost while the LISTEN
	// connection was down is caught up within a second.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			h.closeAll(wire.CloseReconnect, "server shutting down")
			return nil
		case <-h.wake:
		case <-tick.C:
		}
		if err := h.drain(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("hub: reading change log failed", "err", err)
		}
	}
}

// drain dispatches everything committed after lastSeq.
func (h *Hub) drain(ctx context.Context) error {
	for {
		evs, err := h.st.Read().ChangesAfter(ctx, h.lastSeq, 1000)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		for _, e := range evs {
			h.dispatch(e)
		}
		h.mu.Lock()
		h.lastSeq = evs[len(evs)-1].Seq
		h.mu.Unlock()
		if len(evs) < 1000 {
			return nil
		}
	}
}

func (h *Hub) dispatch(e store.EventRow) {
	ev := e.Event()
	var frame []byte
	// The snapshot of connections and the position a new connection is
	// told it continues from (register) move together: a connection that
	// registers after this snapshot must be told this event is behind it,
	// or a live-only client would never get it.
	h.mu.Lock()
	conns := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		if c.user.sees(e) {
			conns = append(conns, c)
		}
	}
	h.lastSeq = e.Seq
	h.mu.Unlock()
	if len(conns) == 0 {
		return
	}
	frame, _ = json.Marshal(wire.Frame{Type: wire.FrameEvent, Event: &ev})
	lat := time.Since(e.At).Seconds()
	for _, c := range conns {
		c.deliver(e.Seq, frame)
		h.m.Delivered.Inc()
		h.m.Latency.Observe(lat)
	}
	if e.Kind == wire.EventSessionRevoked {
		var p struct {
			SessionID int64 `json:"session_id"`
		}
		if json.Unmarshal(e.Payload, &p) == nil {
			for _, c := range conns {
				if c.user.SessionID == p.SessionID {
					c.close(wire.CloseUnauthenticated, "session ended")
				}
			}
		}
	}
}

func (h *Hub) register(c *Conn) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.conns[c] = struct{}{}
	h.m.Connections.Inc()
	return h.lastSeq
}

func (h *Hub) unregister(c *Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.conns[c]; ok {
		delete(h.conns, c)
		h.m.Connections.Dec()
	}
}

func (h *Hub) closeAll(code int, reason string) {
	h.mu.RLock()
	conns := make([]*Conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.RUnlock()
	for _, c := range conns {
		c.close(code, reason)
	}
}

// CloseUser closes every connection of a user (after disable, say).
func (h *Hub) CloseUser(userID int64, code int, reason string) {
	h.mu.RLock()
	var conns []*Conn
	for c := range h.conns {
		if c.user.UserID == userID {
			conns = append(conns, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range conns {
		c.close(code, reason)
	}
}

// ephemeralMsg is what travels over NOTIFY for presence and typing; the
// audience is fixed by the sending process, which checked the sender.
type ephemeralMsg struct {
	E         wire.Ephemeral `json:"e"`
	OrgID     int64          `json:"o,omitempty"`
	ExpertIDs []int64        `json:"x,omitempty"`
	StaffOnly bool           `json:"s,omitempty"`
}

// PublishEphemeral sends presence or typing to every process.
func (h *Hub) PublishEphemeral(ctx context.Context, m ephemeralMsg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = h.st.Pool().Exec(ctx, `SELECT pg_notify($1, $2)`, EphemeralChannel, string(b))
	return err
}

func (h *Hub) dispatchEphemeral(payload string) {
	var m ephemeralMsg
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		return
	}
	row := store.EventRow{OrgID: m.OrgID, ExpertIDs: m.ExpertIDs, StaffOnly: m.StaffOnly}
	frame, _ := json.Marshal(wire.Frame{Type: wire.FrameEphemeral, Ephemeral: &m.E})
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.conns {
		if c.user.UserID != m.E.UserID && c.user.sees(row) {
			c.deliverEphemeral(frame)
		}
	}
}

// listen keeps a dedicated connection LISTENing, reconnecting with backoff.
func (h *Hub) listen(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := h.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		h.log.Warn("hub: LISTEN connection lost, reconnecting", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (h *Hub) listenOnce(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, h.connURL)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, ch := range []string{store.NotifyChannel, EphemeralChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return fmt.Errorf("listen %s: %w", ch, err)
		}
	}
	h.Poke(0) // catch up on whatever committed while we were away
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		switch n.Channel {
		case store.NotifyChannel:
			h.Poke(0)
		case EphemeralChannel:
			h.dispatchEphemeral(n.Payload)
		}
	}
}

// connUser is who a connection belongs to, for visibility checks.
type connUser struct {
	UserID    int64
	SessionID int64
	Role      wire.Role
	OrgIDs    []int64
	Name      string
}

// sees is THE visibility rule for pushed events; it mirrors the read rule
// of the service (managers and admins all but drafts, applicants their
// organisations' unless staff-only, experts where listed, user-targeted to
// that user). Review events use the same fields: annotations are
// staff-only, draft remarks user-targeted to their author and the lead.
func (u connUser) sees(e store.EventRow) bool {
	if e.UserID != 0 {
		return e.UserID == u.UserID
	}
	switch u.Role {
	case wire.RoleManager, wire.RoleAdmin:
		// A draft application is its organisation's alone (canSee).
		return !e.OrgOnly
	case wire.RoleApplicant:
		return !e.StaffOnly && e.OrgID != 0 && slices.Contains(u.OrgIDs, e.OrgID)
	case wire.RoleExpert:
		return slices.Contains(e.ExpertIDs, u.UserID)
	}
	return false
}
