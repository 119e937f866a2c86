// Package benchtable turns the output of `go test -bench` runs into one
// table of figures, each beside the reference measured in the same run
// where there is one, with the ratio of the two; bench/README.md gives the
// naming convention that pairs them. bench/cmd/benchtable is its command.
package benchtable

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Result is one benchmark line.
type Result struct {
	Pkg     string   // import path, from the "pkg:" line before it
	Name    string   // without "Benchmark" and the -GOMAXPROCS suffix: "VsTools/text-A4"
	N       int      // iterations
	Metrics []Metric // in the order printed
}

// Metric is one value and its unit, as b.ReportMetric names it.
type Metric struct {
	Unit  string
	Value float64
}

// Metric returns the value of unit and whether the result has it.
func (r Result) Metric(unit string) (float64, bool) {
	for _, m := range r.Metrics {
		if m.Unit == unit {
			return m.Value, true
		}
	}
	return 0, false
}

// Run is everything read from the output of one or more go test runs.
type Run struct {
	Results []Result
	// Failures are failed tests, benchmarks and packages (a build failure
	// included), each with the lines that explain it.
	Failures []string
	// Skips are benchmarks that did not run, with their reason (a missing
	// tool, too low an open-files limit).
	Skips []string
	CPU   string // from the "cpu:" line
	Procs int    // the GOMAXPROCS suffix seen on benchmark names, 0 if none
}

var (
	// BenchmarkName-2   	      50	        29.31 p50-ms	       110.1 p99-ms
	resultLine = regexp.MustCompile(`^Benchmark(\S+)\s+(\d+)\s+(.*)$`)
	// A benchmark that printed to stdout has its figures on a line of their own.
	bareResult = regexp.MustCompile(`^\s*(\d+)\s+([-+0-9.eE]+ \S+.*)$`)
	// The name, and maybe what the benchmark printed before its figures.
	nameOnly  = regexp.MustCompile(`^Benchmark(\S+)(\s|$)`)
	procsTail = regexp.MustCompile(`-(\d+)$`)
	// # github.com/x/y [github.com/x/y.test], before compile errors.
	buildHeader = regexp.MustCompile(`^# [\w./-]+( \[[\w./-]+\])?$`)
)

// Parse reads go test output (plain, not -json). procs is the GOMAXPROCS
// the benchmarks ran with, whose "-N" suffix is cut from their names; 0
// guesses it from the names themselves.
func Parse(r io.Reader, procs int) (*Run, error) {
	run := &Run{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	if procs == 0 {
		procs = guessProcs(lines)
	}
	run.Procs = procs
	pkg, pending := "", ""
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "pkg: "):
			pkg = strings.TrimSpace(strings.TrimPrefix(line, "pkg: "))
		case strings.HasPrefix(line, "cpu: ") && run.CPU == "":
			run.CPU = strings.TrimSpace(strings.TrimPrefix(line, "cpu: "))
		case strings.HasPrefix(line, "--- FAIL: "):
			run.Failures = append(run.Failures, withDetail(pkg, line, lines[i+1:]))
		case strings.HasPrefix(line, "--- SKIP: "):
			run.Skips = append(run.Skips, withDetail(pkg, line, lines[i+1:]))
		case strings.HasPrefix(line, "FAIL\t") && !strings.Contains(line, "[no test files]"):
			// FAIL<TAB>pkg<TAB>1.2s or FAIL<TAB>pkg [build failed]
			run.Failures = append(run.Failures, line)
		case strings.HasPrefix(line, "panic: "):
			// The FAIL line of the package follows; this says why.
			run.Failures = append(run.Failures, withDetail(pkg, line, lines[i+1:]))
		case buildHeader.MatchString(line):
			// Compiler or vet errors follow, unindented, until the FAIL line.
			var why []string
			for _, l := range lines[i+1:] {
				if strings.HasPrefix(l, "FAIL") || strings.HasPrefix(l, "ok ") || len(why) == 8 {
					break
				}
				if !buildHeader.MatchString(l) && !strings.HasPrefix(l, "# [") {
					why = append(why, "    "+strings.TrimSpace(l))
				}
			}
			run.Failures = append(run.Failures, strings.Join(append([]string{line}, why...), "\n"))
		default:
			if m := resultLine.FindStringSubmatch(line); m != nil {
				if res, ok := result(pkg, m[1], m[2], m[3], procs); ok {
					run.Results = append(run.Results, res)
					pending = ""
					continue
				}
			}
			if m := nameOnly.FindStringSubmatch(line); m != nil {
				pending = m[1]
				continue
			}
			if m := bareResult.FindStringSubmatch(line); m != nil && pending != "" {
				if res, ok := result(pkg, pending, m[1], m[2], procs); ok {
					run.Results = append(run.Results, res)
					pending = ""
				}
			}
		}
	}
	return run, nil
}

// withDetail joins a FAIL or SKIP line with the indented lines after it
// (the test's log), at most eight of them.
func withDetail(pkg, head string, rest []string) string {
	out := []string{strings.TrimSpace(head)}
	if pkg != "" && strings.HasPrefix(head, "--- ") {
		out[0] += " (" + pkg + ")"
	}
	for _, l := range rest {
		if !strings.HasPrefix(l, "    ") && !strings.HasPrefix(l, "\t") {
			break
		}
		if len(out) > 8 {
			out = append(out, "    …")
			break
		}
		out = append(out, "    "+strings.TrimSpace(l))
	}
	return strings.Join(out, "\n")
}

func result(pkg, name, n, rest string, procs int) (Result, bool) {
	iters, err := strconv.Atoi(n)
	if err != nil {
		return Result{}, false
	}
	f := strings.Fields(rest)
	if len(f) == 0 || len(f)%2 != 0 {
		return Result{}, false
	}
	res := Result{Pkg: pkg, Name: cutProcs(name, procs), N: iters}
	for i := 0; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Result{}, false
		}
		res.Metrics = append(res.Metrics, Metric{Unit: f[i+1], Value: v})
	}
	return res, true
}

func cutProcs(name string, procs int) string {
	if procs > 1 {
		return strings.TrimSuffix(name, "-"+strconv.Itoa(procs))
	}
	return name
}

// guessProcs is the "-N" suffix shared by every benchmark line, or 0 (Go
// adds none when GOMAXPROCS is 1).
func guessProcs(lines []string) int {
	seen := 0
	for _, l := range lines {
		m := resultLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		t := procsTail.FindStringSubmatch(m[1])
		if t == nil {
			return 0
		}
		n, _ := strconv.Atoi(t[1])
		if seen != 0 && n != seen {
			return 0
		}
		seen = n
	}
	return seen
}
