package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestRunAgainstServer prepares a small world on a real server and drives
// it: every kind of operation must happen, none may fail, and every
// change must reach every other user entitled to see it.
func TestRunAgainstServer(t *testing.T) {
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	fx, err := Prepare(ctx, s.Service, Plan{Users: 20, ExpertsShare: 0.25, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := Settle(ctx, s.Service, 2*time.Minute, nil); err != nil {
		t.Fatal(err)
	}
	// The fixture survives a round trip through its file.
	path := filepath.Join(t.TempDir(), "fixture.json")
	if err := fx.Save(path); err != nil {
		t.Fatal(err)
	}
	if fx, err = LoadFixture(path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("fixture file holds passwords: mode %v, %v", fi.Mode(), err)
	}

	mem := &MemorySampler{MetricsURL: s.URL() + "/metrics"}
	cfg := Config{Server: s.URL(), Duration: 5 * time.Second, Rate: 60, Ramp: time.Second, Drain: 30 * time.Second,
		CompleteTour: true, SpreadAddresses: true, Seed: 7, Memory: mem, SampleEvery: time.Second}
	res, err := Run(ctx, cfg, fx)
	if err != nil {
		t.Fatal(err)
	}
	rep := NewReport(res, cfg, Settings{Server: s.URL()}, 0, "test", "")
	var table strings.Builder
	rep.Table(&table)
	t.Log("\n" + table.String())

	if !res.OK() {
		t.Fatalf("run not clean: %d errors, %d missing, streams %+v", res.Errors(), res.Missing(), res.Streams)
	}
	if res.Users != 20 || res.Experts != 5 || res.Applicants != 15 {
		t.Errorf("users %d (%d experts, %d applicants), want 20 (5, 15)", res.Users, res.Experts, res.Applicants)
	}
	counts := map[string]int{}
	for _, o := range res.Ops {
		counts[o.Op] = o.Count
	}
	for _, op := range []string{"login", "ws_connect", "apps_list", "chat_post", "mark_read", "app_get", "documents", "download",
		"transition", "notifications", "annot_create", "annot_update", "annot_delete", "annot_list"} {
		if counts[op] == 0 {
			t.Errorf("no successful %s in the run; ops: %v", op, counts)
		}
	}
	if counts["login"] != 20 || counts["ws_connect"] != 20 {
		t.Errorf("logins %d, streams %d, want 20 each", counts["login"], counts["ws_connect"])
	}
	delivered := map[string]DeliveryStats{}
	for _, d := range res.Delivery {
		delivered[d.Kind] = d
	}
	for _, kind := range []string{"chat_message", "status_change", "annotation", "annotation_delete"} {
		d := delivered[kind]
		if d.Expected == 0 || d.Delivered != d.Expected || d.Count != d.Delivered {
			t.Errorf("%s: expected %d, delivered %d, latencies %d", kind, d.Expected, d.Delivered, d.Count)
		}
	}
	peakWS := 0
	for _, m := range res.Memory {
		peakWS = max(peakWS, m.WSConns)
	}
	if len(res.Memory) < 2 || res.Memory[0].ServerRSSMiB <= 0 || peakWS != 20 {
		t.Errorf("memory samples (want RSS read and 20 WebSockets at the peak): %+v", res.Memory)
	}

	dir := t.TempDir()
	if err := rep.Write(dir, "load"); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "load.md"))
	if err != nil || !strings.Contains(string(md), "| chat_post |") || !strings.Contains(string(md), "PASS") {
		t.Errorf("load.md: %v\n%s", err, md)
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{5}, 0.999, 5},
		{"median of 100", hundred, 0.50, 50 * time.Millisecond},
		{"p99 of 100", hundred, 0.99, 99 * time.Millisecond},
		{"p99.9 of 100 is the max", hundred, 0.999, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("%s: percentile(%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
	s := summarise([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond})
	if s.Count != 3 || s.P50MS != 2 || s.MaxMS != 3 || s.MeanMS != 2 {
		t.Errorf("summarise: %+v", s)
	}
}

func TestLayout(t *testing.T) {
	tests := []struct {
		plan    Plan
		want    layout
		wantErr bool
	}{
		{Plan{Users: 1500, ExpertsShare: 0.2}, layout{Experts: 300, Applicants: 1200, Orgs: 400, Apps: 800}, false},
		{Plan{Users: 150, ExpertsShare: 0.2}, layout{Experts: 30, Applicants: 120, Orgs: 40, Apps: 80}, false},
		{Plan{Users: 20, ExpertsShare: 0.25, AppsPerOrg: 1}, layout{Experts: 5, Applicants: 15, Orgs: 5, Apps: 5}, false},
		{Plan{Users: 7, ExpertsShare: 0.01}, layout{Experts: 1, Applicants: 6, Orgs: 2, Apps: 4}, false},
		{Plan{Users: 2, ExpertsShare: 0.99}, layout{Experts: 1, Applicants: 1, Orgs: 1, Apps: 2}, false},
		{Plan{Users: 1}, layout{}, true},
	}
	for _, tt := range tests {
		got, err := tt.plan.layout()
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("layout(%+v) = %+v, %v; want %+v (error %v)", tt.plan, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestTracker covers events that overtake the command's answer, users not
// entitled, and deliveries that never come.
func TestTracker(t *testing.T) {
	t0 := time.Now()
	tr := newTracker(t0.Add(-time.Second))
	tr.arrive("m:1", 2, t0.Add(5*time.Millisecond)) // before the answer
	tr.arrive("m:1", 9, t0.Add(6*time.Millisecond)) // not in the audience
	tr.expect("chat_message", "m:1", t0, []int{2, 3})
	tr.arrive("m:1", 3, t0.Add(20*time.Millisecond))
	tr.arrive("m:1", 3, t0.Add(30*time.Millisecond)) // a duplicate counts once
	tr.expect("annotation", "an:1:1", t0, []int{4})
	tr.expect("annotation", "an:2:1", t0, nil) // nobody online to see it
	st := map[string]DeliveryStats{}
	for _, d := range tr.stats() {
		st[d.Kind] = d
	}
	if m := st["chat_message"]; m.Expected != 2 || m.Delivered != 2 || m.Missing != 0 || m.MaxMS != 20 || m.P50MS != 5 || m.Steady.Count != 2 {
		t.Errorf("chat_message: %+v", m)
	}
	if a := st["annotation"]; a.Expected != 1 || a.Delivered != 0 || a.Missing != 1 || len(a.Examples) != 1 {
		t.Errorf("annotation: %+v", a)
	}
	if tr.missing() != 1 {
		t.Errorf("missing %d, want 1", tr.missing())
	}
}

func TestRecorderCodes(t *testing.T) {
	steady := time.Now()
	r := newRecorder(steady)
	r.observe("login", steady.Add(-time.Second), nil)
	r.observe("chat_post", steady, nil)
	r.observe("chat_post", steady.Add(-time.Millisecond), wire.E(wire.CodeConflict, "", "конфликт", "conflict"))
	r.observe("chat_post", steady, fmt.Errorf("wrapped: %w", context.DeadlineExceeded))
	all := r.ops(phaseAll)
	if len(all) != 2 || all[0].Op != "chat_post" || all[0].Count != 1 || all[0].Errors != 2 ||
		all[0].Codes[string(wire.CodeConflict)] != 1 || all[0].Codes["timeout"] != 1 || all[1].Op != "login" || all[1].Count != 1 {
		t.Errorf("all: %+v", all)
	}
	ramp, st := r.ops(phaseRamp), r.ops(phaseSteady)
	if len(ramp) != 2 || ramp[0].Errors != 1 || ramp[0].Count != 0 || ramp[1].Count != 1 {
		t.Errorf("ramp: %+v", ramp)
	}
	if len(st) != 1 || st[0].Count != 1 || st[0].Errors != 1 || st[0].Codes["timeout"] != 1 {
		t.Errorf("steady: %+v", st)
	}
}

func TestMemorySummary(t *testing.T) {
	var s []MemorySample
	for i := 0; i <= 10; i++ {
		s = append(s, MemorySample{AtS: float64(i * 60), ServerRSSMiB: 100 + 2*float64(i), ServerCPUPct: 50, MachineBusyPct: 80})
	}
	// The reading after the users left stays out of the curve.
	s = append(s, MemorySample{AtS: 601, ServerRSSMiB: 60, ServerCPUPct: 50, MachineBusyPct: 80, AfterRun: true})
	m := summariseMemory(s, 2*time.Minute)
	if m.AfterRampMiB != 104 || m.PeakMiB != 120 || m.EndMiB != 120 || m.AfterRunMiB != 60 || m.SteadySlopeMiBMin != 2 || m.ServerCPUMeanPct != 50 {
		t.Errorf("summary: %+v", m)
	}
}

func TestMetricsParsing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# HELP go_goroutines x\ngo_goroutines 42\nprocess_resident_memory_bytes 1.048576e+08\n"+
			"expertiza_http_requests_total{route=\"x\"} 7\nexpertiza_ws_connections 3\n")
	}))
	defer srv.Close()
	m := &MemorySampler{MetricsURL: srv.URL}
	m.hc = srv.Client()
	got := m.metrics()
	if got["go_goroutines"] != 42 || got["process_resident_memory_bytes"] != 104857600 || got["expertiza_ws_connections"] != 3 || len(got) != 3 {
		t.Errorf("metrics: %v", got)
	}
}
