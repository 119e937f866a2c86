package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// minSweepSize keeps small maps from being swept on every call.
const minSweepSize = 1024

// Limiter is a token-bucket rate limiter per key (a client IP, a login).
// Memory stays bounded: keys idle longer than the TTL are dropped, swept
// opportunistically by Allow. It is safe for concurrent use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	idleTTL time.Duration

	mu        sync.Mutex
	entries   map[string]*limiterEntry
	lastSweep time.Time
	sweepAt   int // map size that triggers a sweep regardless of time
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// NewLimiter allows each key burst events at once, refilled at r per second.
// idleTTL is raised to the time a bucket takes to refill, so dropping an idle
// key never forgives a client that is still being throttled. burst must be
// at least 1.
func NewLimiter(r rate.Limit, burst int, idleTTL time.Duration) *Limiter {
	if burst < 1 {
		panic("auth: NewLimiter: burst must be at least 1")
	}
	if r > 0 && r != rate.Inf {
		if refill := time.Duration(float64(burst) / float64(r) * float64(time.Second)); refill > idleTTL {
			idleTTL = refill
		}
	}
	return &Limiter{limit: r, burst: burst, idleTTL: idleTTL, entries: make(map[string]*limiterEntry), sweepAt: minSweepSize}
}

// Allow takes one event for key at now. When refused, retryAfter says when
// the next event will be allowed (for a Retry-After header); a refused call
// consumes nothing, so hammering does not push that moment further away.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.idleTTL || len(l.entries) >= l.sweepAt {
		l.sweep(now)
	}
	e := l.entries[key]
	if e == nil {
		e = &limiterEntry{lim: rate.NewLimiter(l.limit, l.burst)}
		l.entries[key] = e
	}
	if now.After(e.seen) {
		e.seen = now
	}
	res := e.lim.ReserveN(now, 1)
	if delay := res.DelayFrom(now); delay > 0 {
		res.CancelAt(now)
		return false, delay
	}
	return true, 0
}

// Sweep drops keys idle for longer than the TTL. Allow already calls it as
// needed; call it from a ticker to release memory after a burst of traffic
// stops altogether.
func (l *Limiter) Sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
}

// Len returns the number of keys held, for metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

func (l *Limiter) sweep(now time.Time) {
	for k, e := range l.entries {
		if now.Sub(e.seen) > l.idleTTL {
			delete(l.entries, k)
		}
	}
	l.lastSweep = now
	// Doubling keeps sweeps amortised O(1) per call when all keys are live.
	l.sweepAt = max(minSweepSize, 2*len(l.entries))
}
