package auth

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestLimiterAllow(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(rate.Every(time.Second), 3, time.Minute)
	steps := []struct {
		name      string
		key       string
		at        time.Duration // after t0
		wantOK    bool
		wantRetry time.Duration
	}{
		{"burst 1", "10.0.0.1", 0, true, 0},
		{"burst 2", "10.0.0.1", 0, true, 0},
		{"burst 3", "10.0.0.1", 0, true, 0},
		{"burst spent", "10.0.0.1", 0, false, time.Second},
		{"refusal consumed nothing", "10.0.0.1", 0, false, time.Second},
		{"other key unaffected", "10.0.0.2", 0, true, 0},
		{"half refilled", "10.0.0.1", 500 * time.Millisecond, false, 500 * time.Millisecond},
		{"one token back", "10.0.0.1", time.Second, true, 0},
		{"and spent again", "10.0.0.1", time.Second, false, time.Second},
		{"fully refilled", "10.0.0.1", 10 * time.Second, true, 0},
		{"burst capped at 3: 2", "10.0.0.1", 10 * time.Second, true, 0},
		{"burst capped at 3: 3", "10.0.0.1", 10 * time.Second, true, 0},
		{"burst capped at 3: spent", "10.0.0.1", 10 * time.Second, false, time.Second},
	}
	for _, s := range steps {
		ok, retry := l.Allow(s.key, t0.Add(s.at))
		if ok != s.wantOK || retry != s.wantRetry {
			t.Fatalf("%s: Allow = %v, %v; want %v, %v", s.name, ok, retry, s.wantOK, s.wantRetry)
		}
	}
}

func TestLimiterEviction(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(rate.Every(time.Second), 2, time.Minute)
	l.Allow("old", t0)
	l.Allow("recent", t0.Add(30*time.Second))
	l.Sweep(t0.Add(time.Minute))
	if l.Len() != 2 {
		t.Fatalf("swept at exactly the TTL: %d keys left, want 2", l.Len())
	}
	// Allow sweeps on its own once a TTL has passed since the last sweep.
	l.Allow("new", t0.Add(2*time.Minute))
	if got := l.Len(); got != 1 {
		t.Fatalf("%d keys after TTL, want only the new one", got)
	}
	l.Sweep(t0.Add(4 * time.Minute))
	if got := l.Len(); got != 0 {
		t.Fatalf("%d keys after everything went idle, want 0", got)
	}
}

func TestLimiterEvictionKeepsDebt(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	// Refill takes 2 min, longer than the 1 s TTL asked for: evicting after
	// 1 s would hand a throttled client a fresh bucket.
	l := NewLimiter(rate.Every(time.Minute), 2, time.Second)
	l.Allow("k", t0)
	l.Allow("k", t0)
	l.Sweep(t0.Add(10 * time.Second))
	if ok, retry := l.Allow("k", t0.Add(10*time.Second)); ok || retry != 50*time.Second {
		t.Fatalf("Allow after sweep = %v, %v; want false, 50s", ok, retry)
	}
}

func TestLimiterSweepsBySize(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(rate.Every(time.Second), 1, time.Minute)
	for i := range 1000 {
		l.Allow(fmt.Sprint("old", i), t0)
	}
	// The time-based sweep has just run, so the next is a minute away; a
	// spray of new keys must still push out the ones gone idle meanwhile.
	l.Sweep(t0.Add(59 * time.Second))
	for i := range 1500 {
		l.Allow(fmt.Sprint("new", i), t0.Add(61*time.Second))
	}
	if got := l.Len(); got != 1500 {
		t.Fatalf("%d keys held, want only the 1500 live ones", got)
	}
}

func TestLimiterConcurrent(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	l := NewLimiter(rate.Every(time.Second), 5, time.Minute)
	var allowed [3]atomic.Int32
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(allowed)
				if ok, _ := l.Allow(fmt.Sprint("key", k), now); ok {
					allowed[k].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for k := range allowed {
		if got := allowed[k].Load(); got != 5 {
			t.Errorf("key%d: %d allowed at one instant, want the burst of 5", k, got)
		}
	}
}
