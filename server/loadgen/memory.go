package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MemorySample is one reading of the server.
type MemorySample struct {
	AtS float64 `json:"t_s"` // seconds since the run started
	// ServerRSSMiB is the server process's resident set: VmRSS from /proc
	// when this process started the server, else the server's own
	// process_resident_memory_bytes.
	ServerRSSMiB  float64 `json:"server_rss_mib"`
	ServerHeapMiB float64 `json:"server_heap_inuse_mib"` // go_memstats_heap_inuse_bytes
	Goroutines    int     `json:"server_goroutines"`
	WSConns       int     `json:"ws_connections"`
	// ServerCPUPct is the server process's CPU since the previous sample,
	// in per cent of one core.
	ServerCPUPct float64 `json:"server_cpu_pct"`
	// PostgresPSSMiB is the proportional set of the embedded PostgreSQL
	// (postmaster and its children; shared buffers counted once), when
	// its postmaster.pid is known.
	PostgresPSSMiB float64 `json:"postgres_pss_mib,omitempty"`
	PostgresProcs  int     `json:"postgres_procs,omitempty"`
	LoadgenRSSMiB  float64 `json:"loadgen_rss_mib"` // this process, which shares the machine
	// MachineBusyPct is the share of all cores busy since the previous
	// sample (/proc/stat): the machine is shared, so this says how much
	// room the server had.
	MachineBusyPct float64 `json:"machine_busy_pct"`
	// AfterRun marks the last reading, taken once the users' streams
	// closed: it shows what the server gives back, not the load.
	AfterRun bool `json:"after_run,omitempty"`
}

// MemorySampler reads the server's memory, from /proc and /metrics.
type MemorySampler struct {
	MetricsURL string // the server's /metrics
	PID        int    // the server process when it runs on this machine, else 0
	// PostmasterPID is a file whose first line is the embedded
	// PostgreSQL's postmaster PID (DATA/postgres/pgdata/postmaster.pid).
	PostmasterPID string

	hc       *http.Client
	mu       sync.Mutex
	samples  []MemorySample
	lastCPU  float64
	lastAt   time.Time
	lastBusy [2]uint64 // busy, total jiffies
}

// Run samples at once and then every `every` until ctx ends, and once more
// at the end.
func (m *MemorySampler) Run(ctx context.Context, start time.Time, every time.Duration) {
	m.hc = &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		m.sample(start, false)
		select {
		case <-ctx.Done():
			m.sample(start, true)
			return
		case <-t.C:
		}
	}
}

// Samples returns what was read so far.
func (m *MemorySampler) Samples() []MemorySample {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]MemorySample(nil), m.samples...)
}

const mib = 1 << 20

func (m *MemorySampler) sample(start time.Time, afterRun bool) {
	now := time.Now()
	s := MemorySample{AtS: math.Round(now.Sub(start).Seconds()*10) / 10, AfterRun: afterRun}
	met := m.metrics()
	s.ServerRSSMiB = met["process_resident_memory_bytes"] / mib
	if m.PID > 0 {
		if kb, err := procStatusKB(m.PID, "VmRSS"); err == nil {
			s.ServerRSSMiB = float64(kb) / 1024
		}
	}
	s.ServerHeapMiB = met["go_memstats_heap_inuse_bytes"] / mib
	s.Goroutines = int(met["go_goroutines"])
	s.WSConns = int(met["expertiza_ws_connections"])
	if kb, err := procStatusKB(os.Getpid(), "VmRSS"); err == nil {
		s.LoadgenRSSMiB = float64(kb) / 1024
	}
	if m.PostmasterPID != "" {
		s.PostgresPSSMiB, s.PostgresProcs = postgresPSS(m.PostmasterPID)
	}
	busy, total := machineJiffies()
	m.mu.Lock()
	defer m.mu.Unlock()
	if cpu, ok := met["process_cpu_seconds_total"]; ok {
		if !m.lastAt.IsZero() {
			s.ServerCPUPct = math.Round((cpu-m.lastCPU)/now.Sub(m.lastAt).Seconds()*1000) / 10
		}
		m.lastCPU = cpu
	}
	if m.lastBusy[1] != 0 && total > m.lastBusy[1] {
		s.MachineBusyPct = math.Round(float64(busy-m.lastBusy[0])/float64(total-m.lastBusy[1])*1000) / 10
	}
	m.lastBusy = [2]uint64{busy, total}
	m.lastAt = now
	s.ServerRSSMiB = math.Round(s.ServerRSSMiB*10) / 10
	s.ServerHeapMiB = math.Round(s.ServerHeapMiB*10) / 10
	s.LoadgenRSSMiB = math.Round(s.LoadgenRSSMiB*10) / 10
	m.samples = append(m.samples, s)
}

// metrics reads the unlabelled series of the Prometheus text format.
func (m *MemorySampler) metrics() map[string]float64 {
	out := map[string]float64{}
	if m.MetricsURL == "" {
		return out
	}
	resp, err := m.hc.Get(m.MetricsURL)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.Contains(line, "{") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out
}

// procStatusKB reads a "Name:   N kB" line of /proc/PID/status.
func procStatusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			return strconv.ParseInt(f[0], 10, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// postgresPSS sums Pss over the postmaster and its children.
func postgresPSS(pidFile string) (float64, int) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, 0
	}
	pids := []int{pm}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == pm {
			continue
		}
		if pp, err := procStatusKB(pid, "PPid"); err == nil && int(pp) == pm {
			pids = append(pids, pid)
		}
	}
	var kb int64
	n := 0
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if rest, ok := bytes.CutPrefix(line, []byte("Pss:")); ok {
				f := strings.Fields(string(rest))
				if len(f) > 0 {
					v, _ := strconv.ParseInt(f[0], 10, 64)
					kb += v
					n++
				}
				break
			}
		}
	}
	return math.Round(float64(kb)/1024*10) / 10, n
}

// machineJiffies reads the busy and total CPU time of all cores.
func machineJiffies() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0
	}
	for i, s := range f[1:] {
		v, _ := strconv.ParseUint(s, 10, 64)
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}

// MemorySummary condenses the curve: where it stood once every user was
// in, its peak and end, and its slope over the second half of the steady
// state — by then the memory of the sign-in storm (argon2 takes 19 MiB a
// hash) has been collected, so a slope that stays up is a leak.
type MemorySummary struct {
	Samples            int     `json:"samples"`
	AfterRampMiB       float64 `json:"after_ramp_mib"`
	PeakMiB            float64 `json:"peak_mib"`
	PeakAtS            float64 `json:"peak_at_s"`
	EndMiB             float64 `json:"end_mib"`              // the last reading under load
	AfterRunMiB        float64 `json:"after_users_left_mib"` // once every stream closed
	SteadySlopeMiBMin  float64 `json:"late_slope_mib_per_min"`
	PostgresPeakMiB    float64 `json:"postgres_peak_mib,omitempty"`
	HeapPeakMiB        float64 `json:"heap_peak_mib"`
	GoroutinesPeak     int     `json:"goroutines_peak"`
	ServerCPUMeanPct   float64 `json:"server_cpu_mean_pct"`
	MachineBusyMeanPct float64 `json:"machine_busy_mean_pct"`
}

// summariseMemory condenses samples; the steady part starts at ramp.
func summariseMemory(s []MemorySample, ramp time.Duration) MemorySummary {
	var out MemorySummary
	out.Samples = len(s)
	if len(s) == 0 {
		return out
	}
	if last := s[len(s)-1]; last.AfterRun {
		out.AfterRunMiB = last.ServerRSSMiB
		s = s[:len(s)-1]
		if len(s) == 0 {
			return out
		}
	}
	var xs, ys []float64
	var cpu, busy float64
	ncpu := 0
	for i, x := range s {
		if x.ServerRSSMiB > out.PeakMiB {
			out.PeakMiB, out.PeakAtS = x.ServerRSSMiB, x.AtS
		}
		out.PostgresPeakMiB = math.Max(out.PostgresPeakMiB, x.PostgresPSSMiB)
		out.HeapPeakMiB = math.Max(out.HeapPeakMiB, x.ServerHeapMiB)
		out.GoroutinesPeak = max(out.GoroutinesPeak, x.Goroutines)
		if x.AtS >= ramp.Seconds() && out.AfterRampMiB == 0 {
			out.AfterRampMiB = x.ServerRSSMiB
		}
		if x.AtS >= (ramp.Seconds()+s[len(s)-1].AtS)/2 {
			xs, ys = append(xs, x.AtS/60), append(ys, x.ServerRSSMiB)
		}
		if i > 0 {
			cpu += x.ServerCPUPct
			busy += x.MachineBusyPct
			ncpu++
		}
	}
	out.EndMiB = s[len(s)-1].ServerRSSMiB
	out.SteadySlopeMiBMin = math.Round(slope(xs, ys)*100) / 100
	if ncpu > 0 {
		out.ServerCPUMeanPct = math.Round(cpu/float64(ncpu)*10) / 10
		out.MachineBusyMeanPct = math.Round(busy/float64(ncpu)*10) / 10
	}
	return out
}

// slope is the least-squares slope of ys over xs (0 for fewer than 2).
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if len(xs) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}
