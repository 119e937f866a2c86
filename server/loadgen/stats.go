package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// Latency summarises one series of samples. Percentiles are exact (nearest
// rank over every sample kept): a ten-minute run at full scale records a
// few hundred thousand samples, which sorted slices hold easily, and exact
// tails are what p99.9 is for.
type Latency struct {
	Count  int     `json:"count"`
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P99MS  float64 `json:"p99_ms"`
	P999MS float64 `json:"p999_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// percentile is the nearest-rank percentile of sorted samples: the
// smallest sample with at least p of all samples at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Microsecond)) / 1000 }

// summarise sorts d in place and summarises it.
func summarise(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return Latency{Count: len(d), MeanMS: ms(sum / time.Duration(len(d))), P50MS: ms(percentile(d, 0.50)),
		P99MS: ms(percentile(d, 0.99)), P999MS: ms(percentile(d, 0.999)), MaxMS: ms(d[len(d)-1])}
}

// Phases of a run: the ramp-up, while users sign in (argon2 on the server)
// and open their streams, and the steady state once everyone is in. Their
// latencies are reported apart: a sign-in storm says nothing of a chat
// post at cruising speed.
const (
	phaseRamp = iota
	phaseSteady
	phaseAll
)

// recorder collects per-operation latencies and errors from every user.
type recorder struct {
	steadyFrom time.Time
	mu         sync.Mutex
	samples    [2]map[string][]time.Duration
	errs       [2]map[string]map[string]int // op → error code → count
	examples   []string                     // the first errors, for the report
}

func newRecorder(steadyFrom time.Time) *recorder {
	r := &recorder{steadyFrom: steadyFrom}
	for i := range r.samples {
		r.samples[i], r.errs[i] = map[string][]time.Duration{}, map[string]map[string]int{}
	}
	return r
}

func phaseOf(start, steadyFrom time.Time) int {
	if start.Before(steadyFrom) {
		return phaseRamp
	}
	return phaseSteady
}

const maxExamples = 20

// observe records one call of op that began at start; err nil means it
// succeeded (only successful calls enter the latency series).
func (r *recorder) observe(op string, start time.Time, err error) {
	took := time.Since(start)
	ph := phaseOf(start, r.steadyFrom)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.samples[ph][op] = append(r.samples[ph][op], took)
		return
	}
	code := errorCode(err)
	if r.errs[ph][op] == nil {
		r.errs[ph][op] = map[string]int{}
	}
	r.errs[ph][op][code]++
	if len(r.examples) < maxExamples {
		r.examples = append(r.examples, fmt.Sprintf("%s: %s: %v", op, code, err))
	}
}

// fail records an error that is not the answer to a call (a download whose
// content differs from what was uploaded, a stream that ended).
func (r *recorder) fail(op string, err error) { r.observe(op, time.Now(), err) }

// errorCode classifies an error for the report: the protocol's own code
// when the server refused, else what went wrong on the way.
func errorCode(err error) string {
	if we, ok := wire.AsError(err); ok {
		return string(we.Code)
	}
	switch {
	case errors.Is(err, client.ErrDigest):
		return "digest_mismatch"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, client.ErrTerminal):
		return "stream_terminal"
	case errors.Is(err, client.ErrNetwork):
		return "network"
	}
	return "other"
}

// OpStats is one operation's line of the report.
type OpStats struct {
	Op     string         `json:"op"`
	Errors int            `json:"errors"`
	Codes  map[string]int `json:"error_codes,omitempty"`
	Latency
}

// ops returns every operation seen in phase (or phaseAll), sorted by name.
func (r *recorder) ops(phase int) []OpStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	phases := []int{phase}
	if phase == phaseAll {
		phases = []int{phaseRamp, phaseSteady}
	}
	samples := map[string][]time.Duration{}
	codes := map[string]map[string]int{}
	for _, ph := range phases {
		for op, d := range r.samples[ph] {
			samples[op] = append(samples[op], d...)
		}
		for op, cs := range r.errs[ph] {
			if codes[op] == nil {
				codes[op] = map[string]int{}
			}
			for c, n := range cs {
				codes[op][c] += n
			}
		}
	}
	var out []OpStats
	for op := range samples {
		if codes[op] == nil {
			out = append(out, OpStats{Op: op, Latency: summarise(samples[op])})
		}
	}
	for op, cs := range codes {
		st := OpStats{Op: op, Latency: summarise(samples[op]), Codes: cs}
		for _, n := range cs {
			st.Errors += n
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// delivery is one pushed change some users' streams must receive.
type delivery struct {
	kind  string
	start time.Time
	want  map[int]bool // users still to receive it
}

// tracker measures end-to-end delivery: from the moment a user issues a
// command to the moment each other user who may see the change reads its
// event from their stream. An event can overtake the command's answer, so
// arrivals for keys not yet registered wait in early.
type tracker struct {
	steadyFrom time.Time
	mu         sync.Mutex
	pending    map[string]*delivery
	early      map[string]map[int]time.Time
	samples    [2]map[string][]time.Duration // by phase of the command
	expected   map[string]int
	delivered  map[string]int
}

func newTracker(steadyFrom time.Time) *tracker {
	return &tracker{steadyFrom: steadyFrom, pending: map[string]*delivery{}, early: map[string]map[int]time.Time{},
		samples: [2]map[string][]time.Duration{{}, {}}, expected: map[string]int{}, delivered: map[string]int{}}
}

// arrive notes that user got the event identified by key at time at.
func (t *tracker) arrive(key string, user int, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if d := t.pending[key]; d != nil {
		t.settle(key, d, user, at)
		return
	}
	if t.early[key] == nil {
		t.early[key] = map[int]time.Time{}
	}
	if _, seen := t.early[key][user]; !seen {
		t.early[key][user] = at
	}
}

// settle counts one awaited arrival; mu held.
func (t *tracker) settle(key string, d *delivery, user int, at time.Time) {
	if !d.want[user] {
		return
	}
	delete(d.want, user)
	ph := phaseOf(d.start, t.steadyFrom)
	t.samples[ph][d.kind] = append(t.samples[ph][d.kind], at.Sub(d.start))
	t.delivered[d.kind]++
	if len(d.want) == 0 {
		delete(t.pending, key)
	}
}

// expect registers a change made by a command issued at start, which the
// users in want must receive.
func (t *tracker) expect(kind, key string, start time.Time, want []int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := &delivery{kind: kind, start: start, want: make(map[int]bool, len(want))}
	for _, u := range want {
		d.want[u] = true
	}
	t.expected[kind] += len(want)
	early := t.early[key]
	delete(t.early, key)
	if len(want) == 0 {
		return
	}
	t.pending[key] = d
	for u, at := range early {
		t.settle(key, d, u, at)
	}
}

// missing counts the deliveries still awaited.
func (t *tracker) missing() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, d := range t.pending {
		n += len(d.want)
	}
	return n
}

// DeliveryStats is one kind of pushed change in the report.
type DeliveryStats struct {
	Kind      string   `json:"kind"`
	Expected  int      `json:"expected"`
	Delivered int      `json:"delivered"`
	Missing   int      `json:"missing"`
	Examples  []string `json:"missing_examples,omitempty"`
	Latency            // over the whole run
	Steady    Latency  `json:"steady"` // commands issued after the ramp-up
}

func (t *tracker) stats() []DeliveryStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	missing := map[string]int{}
	examples := map[string][]string{}
	for key, d := range t.pending {
		missing[d.kind] += len(d.want)
		if len(examples[d.kind]) < 5 {
			users := make([]int, 0, len(d.want))
			for u := range d.want {
				users = append(users, u)
			}
			slices.Sort(users)
			examples[d.kind] = append(examples[d.kind], fmt.Sprintf("%s (posted %s) not seen by users %v", key, d.start.Format(time.TimeOnly), users))
		}
	}
	var out []DeliveryStats
	for kind, n := range t.expected {
		all := append(slices.Clone(t.samples[phaseRamp][kind]), t.samples[phaseSteady][kind]...)
		out = append(out, DeliveryStats{Kind: kind, Expected: n, Delivered: t.delivered[kind], Missing: missing[kind],
			Examples: examples[kind], Latency: summarise(all), Steady: summarise(slices.Clone(t.samples[phaseSteady][kind]))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}
