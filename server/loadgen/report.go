package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the written outcome of a run.
type Report struct {
	Command  string          `json:"command"`
	Started  time.Time       `json:"started"`
	Machine  Machine         `json:"machine"`
	Settings Settings        `json:"settings"`
	World    World           `json:"world"`
	Prepare  float64         `json:"prepare_s"`
	Elapsed  float64         `json:"elapsed_s"`
	OK       bool            `json:"ok"`
	Errors   int             `json:"errors"`
	Missing  int             `json:"missing_deliveries"`
	Ops      []OpStats       `json:"ops"`        // whole run
	Steady   []OpStats       `json:"ops_steady"` // commands started after the ramp-up
	Ramp     []OpStats       `json:"ops_ramp"`   // commands started during the ramp-up
	Delivery []DeliveryStats `json:"delivery"`
	Streams  StreamStats     `json:"streams"`
	Examples []string        `json:"error_examples,omitempty"`
	Memory   MemorySummary   `json:"memory_summary"`
	Samples  []MemorySample  `json:"memory"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs int    `json:"cpus"`
	Go   string `json:"go"`
	Note string `json:"note,omitempty"`
}

// Settings are the run's knobs.
type Settings struct {
	Server       string  `json:"server"`
	Spawned      bool    `json:"spawned"`
	DurationS    float64 `json:"duration_s"`
	RampS        float64 `json:"ramp_s"`
	RatePerMin   float64 `json:"rate_per_user_per_min"`
	ExpertsShare float64 `json:"experts_share"`
	Seed         uint64  `json:"seed"`
}

// World is what the users worked on.
type World struct {
	Users      int `json:"users"`
	Applicants int `json:"applicants"`
	Experts    int `json:"experts"`
	Apps       int `json:"applications"`
	Versions   int `json:"document_versions"`
}

// NewReport assembles the report of res.
func NewReport(res *Result, cfg Config, s Settings, prepare time.Duration, command, note string) *Report {
	s.DurationS, s.RampS, s.RatePerMin, s.Seed = cfg.Duration.Seconds(), res.Ramp.Seconds(), cfg.Rate, res.Seed
	return &Report{Command: command, Started: res.Started.UTC(), Machine: Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Note: note},
		Settings: s, World: World{Users: res.Users, Applicants: res.Applicants, Experts: res.Experts, Apps: res.Apps, Versions: res.Versions},
		Prepare: prepare.Round(100 * time.Millisecond).Seconds(), Elapsed: res.Elapsed.Round(100 * time.Millisecond).Seconds(),
		OK: res.OK(), Errors: res.Errors(), Missing: res.Missing(), Ops: res.Ops, Steady: res.OpsSteady, Ramp: res.OpsRamp, Delivery: res.Delivery, Streams: res.Streams,
		Examples: res.Examples, Memory: summariseMemory(res.Memory, res.Ramp), Samples: res.Memory}
}

// Write saves name.json and name.md under dir.
func (r *Report) Write(dir, name string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	var md strings.Builder
	r.Markdown(&md)
	return os.WriteFile(filepath.Join(dir, name+".md"), []byte(md.String()), 0o644)
}

// Table prints the per-operation and delivery figures for a terminal.
func (r *Report) Table(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	opRows := func(title string, ops []OpStats) {
		fmt.Fprintf(tw, "%s\tcount\terrors\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\t\n", title)
		for _, o := range ops {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", o.Op, o.Count, o.Errors, o.P50MS, o.P99MS, o.P999MS, o.MaxMS)
		}
		fmt.Fprintln(tw, "\t\t\t\t\t\t\t")
	}
	opRows(fmt.Sprintf("steady state (after %.0f s ramp-up)", r.Settings.RampS), r.Steady)
	opRows("ramp-up (sign-in storm)", r.Ramp)
	fmt.Fprintln(tw, "delivery (command → other user's stream)\tdelivered\tmissing\tp50 ms\tp99 ms\tp99.9 ms\tmax ms\t")
	for _, d := range r.Delivery {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\t\n", d.Kind, d.Delivered, d.Missing, d.P50MS, d.P99MS, d.P999MS, d.MaxMS)
	}
	for _, d := range r.Delivery {
		fmt.Fprintf(tw, "%s, steady state\t%d\t\t%.1f\t%.1f\t%.1f\t%.1f\t\n", d.Kind, d.Steady.Count, d.Steady.P50MS, d.Steady.P99MS, d.Steady.P999MS, d.Steady.MaxMS)
	}
	tw.Flush()
	m := r.Memory
	fmt.Fprintf(w, "\nserver RSS: %.1f MiB after ramp-up, peak %.1f MiB at %.0f s, %.1f MiB at the end (%.1f MiB once the users left), slope over the second half of the steady state %+.2f MiB/min; PostgreSQL peak %.1f MiB (PSS)\n",
		m.AfterRampMiB, m.PeakMiB, m.PeakAtS, m.EndMiB, m.AfterRunMiB, m.SteadySlopeMiBMin, m.PostgresPeakMiB)
	fmt.Fprintf(w, "server CPU %.0f%% of a core on average; machine (%d cores, shared) %.0f%% busy\n", m.ServerCPUMeanPct, r.Machine.CPUs, m.MachineBusyMeanPct)
	fmt.Fprintf(w, "streams: %d online of %d users, %d reconnects, %d resyncs, %d gaps, %d ended by the server\n",
		r.Streams.Online, r.World.Users, r.Streams.Reconnects, r.Streams.Resyncs, r.Streams.Gaps, r.Streams.Terminal)
	verdict := "PASS"
	if !r.OK {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s: %d errors, %d deliveries missing\n", verdict, r.Errors, r.Missing)
	for _, e := range r.Examples {
		fmt.Fprintln(w, "  error:", e)
	}
	for _, d := range r.Delivery {
		for _, e := range d.Examples {
			fmt.Fprintln(w, "  missing:", e)
		}
	}
}

// Markdown writes the report for people.
func (r *Report) Markdown(w io.Writer) {
	verdict := "PASS"
	if !r.OK {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "# Load test — %s\n\n", verdict)
	fmt.Fprintf(w, "Started %s; `%s`\n\n", r.Started.Format(time.RFC3339), r.Command)
	fmt.Fprintf(w, "- %d users (%d applicants, %d experts) on %d applications in review with %d document versions\n",
		r.World.Users, r.World.Applicants, r.World.Experts, r.World.Apps, r.World.Versions)
	fmt.Fprintf(w, "- %.0f s run (ramp-up %.0f s), %.1f actions per user per minute; preparation %.0f s\n",
		r.Settings.DurationS, r.Settings.RampS, r.Settings.RatePerMin, r.Prepare)
	spawned := "an already running server"
	if r.Settings.Spawned {
		spawned = "a server process started for the run (embedded PostgreSQL)"
	}
	fmt.Fprintf(w, "- against %s at %s; %d CPUs, %s", spawned, r.Settings.Server, r.Machine.CPUs, r.Machine.Go)
	if r.Machine.Note != "" {
		fmt.Fprintf(w, "; %s", r.Machine.Note)
	}
	fmt.Fprintf(w, "\n- %d errors, %d deliveries missing; streams: %d online, %d reconnects, %d resyncs, %d gaps\n\n",
		r.Errors, r.Missing, r.Streams.Online, r.Streams.Reconnects, r.Streams.Resyncs, r.Streams.Gaps)

	opTable := func(title string, ops []OpStats) {
		fmt.Fprintf(w, "## %s\n\n", title)
		fmt.Fprintln(w, "| operation | count | errors | p50 ms | p99 ms | p99.9 ms | max ms |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
		for _, o := range ops {
			codes := ""
			if len(o.Codes) > 0 {
				var cs []string
				for c, n := range o.Codes {
					cs = append(cs, fmt.Sprintf("%s ×%d", c, n))
				}
				sort.Strings(cs)
				codes = " (" + strings.Join(cs, ", ") + ")"
			}
			fmt.Fprintf(w, "| %s | %d | %d%s | %.1f | %.1f | %.1f | %.1f |\n", o.Op, o.Count, o.Errors, codes, o.P50MS, o.P99MS, o.P999MS, o.MaxMS)
		}
		fmt.Fprintln(w)
	}
	opTable(fmt.Sprintf("Operations in the steady state (started after the %.0f s ramp-up; HTTP round trip as the client sees it)", r.Settings.RampS), r.Steady)
	opTable("Operations during the ramp-up (sign-ins: argon2 on the server)", r.Ramp)
	fmt.Fprintln(w, "## Event delivery (command issued → event read from every other entitled user's stream)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| change | expected | delivered | missing | p50 ms | p99 ms | p99.9 ms | max ms | steady p50 | steady p99 | steady p99.9 |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, d := range r.Delivery {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", d.Kind, d.Expected, d.Delivered, d.Missing,
			d.P50MS, d.P99MS, d.P999MS, d.MaxMS, d.Steady.P50MS, d.Steady.P99MS, d.Steady.P999MS)
	}
	fmt.Fprintln(w)
	m := r.Memory
	fmt.Fprintln(w, "## Server memory")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "RSS %.1f MiB once every user was in, peak %.1f MiB at %.0f s, %.1f MiB at the end (%.1f MiB once the users left); slope over the second half of the steady state %+.2f MiB/min. "+
		"Go heap in use peaked at %.1f MiB, goroutines at %d. PostgreSQL (PSS, all its processes) peaked at %.1f MiB. "+
		"Server CPU averaged %.0f%% of one core; the machine (shared with other work) was %.0f%% busy.\n\n",
		m.AfterRampMiB, m.PeakMiB, m.PeakAtS, m.EndMiB, m.AfterRunMiB, m.SteadySlopeMiBMin, m.HeapPeakMiB, m.GoroutinesPeak, m.PostgresPeakMiB,
		m.ServerCPUMeanPct, m.MachineBusyMeanPct)
	fmt.Fprintln(w, "| t s | RSS MiB | heap MiB | goroutines | WebSockets | server CPU % | PostgreSQL MiB | machine busy % |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|")
	// Long runs are thinned to about 60 rows; the JSON keeps every sample.
	step := max(1, (len(r.Samples)+59)/60)
	for i, s := range r.Samples {
		if i%step != 0 && i != len(r.Samples)-1 {
			continue
		}
		at := fmt.Sprintf("%.0f", s.AtS)
		if s.AfterRun {
			at += " (users gone)"
		}
		fmt.Fprintf(w, "| %s | %.1f | %.1f | %d | %d | %.0f | %.1f | %.0f |\n", at, s.ServerRSSMiB, s.ServerHeapMiB, s.Goroutines, s.WSConns,
			s.ServerCPUPct, s.PostgresPSSMiB, s.MachineBusyPct)
	}
	if len(r.Examples) > 0 {
		fmt.Fprintln(w, "\n## First errors")
		fmt.Fprintln(w)
		for _, e := range r.Examples {
			fmt.Fprintf(w, "- %s\n", e)
		}
	}
}
