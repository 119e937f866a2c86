package realtime

import (
	dto "github.com/prometheus/client_model/go"
)

// Stats are the hub's figures for the administrators' server state.
type Stats struct {
	Clients     int
	QueuedMax   int // the fullest connection's send queue, frames
	QueuedTotal int // frames waiting across connections
	QueueCap    int // a connection this far behind is dropped
	SlowDrops   int64
	Delivered   int64
	LastSeq     int64 // highest sequence dispatched by this process
}

// Stats reads the hub's current figures. The queue lengths are a snapshot:
// writers drain them concurrently.
func (h *Hub) Stats() Stats {
	s := Stats{QueueCap: sendQueue}
	h.mu.RLock()
	s.Clients = len(h.conns)
	s.LastSeq = h.lastSeq
	for c := range h.conns {
		n := len(c.send)
		s.QueuedTotal += n
		s.QueuedMax = max(s.QueuedMax, n)
	}
	h.mu.RUnlock()
	s.SlowDrops = counterValue(h.m.SlowDrops)
	s.Delivered = counterValue(h.m.Delivered)
	return s
}

// counterValue reads a Prometheus counter, which keeps its value only in
// its exported form.
func counterValue(c interface{ Write(*dto.Metric) error }) int64 {
	var m dto.Metric
	if c == nil || c.Write(&m) != nil || m.Counter == nil {
		return 0
	}
	return int64(m.Counter.GetValue())
}
