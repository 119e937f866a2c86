// Command benchtable reads the output of `go test -bench` runs and prints
// one table: every figure, the reference measured beside it in the same
// run, and their ratio; it writes the same as results.md and a bar chart
// of the ratios as results.png. `make bench` runs every benchmark into
// bench/out/bench.txt and then this. The exit status is 1 when the output
// holds a failure (the table is written all the same).
//
//	go run ./bench/cmd/benchtable -in bench/out/bench.txt -out bench/out
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/bench/benchtable"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	code, err := run(context.Background(), os.Args[1:], os.Stdout)
	if err != nil {
		log.Error("benchtable", "err", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout io.Writer) (int, error) {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	in := fs.String("in", "-", "go test -bench output to read (- for standard input)")
	out := fs.String("out", "", "folder for results.md and results.png (none: print only)")
	started := fs.Int64("started", 0, "Unix time the run started, for its wall time")
	procs := fs.Int("procs", 0, "GOMAXPROCS of the run, cut from benchmark names (0: guess)")
	repro := fs.String("repro", "make bench", "how to reproduce, for the header")
	if err := fs.Parse(args); err != nil {
		return 0, err
	}
	var r io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return 0, fmt.Errorf("open the benchmark output: %w", err)
		}
		defer f.Close()
		r = f
	}
	res, err := benchtable.Parse(r, *procs)
	if err != nil {
		return 0, err
	}
	rows := benchtable.Rows(res)
	h := benchtable.Header{Date: time.Now(), Machine: machine(ctx, res.CPU), Load: loadAverage(), Commands: *repro}
	if *started > 0 {
		h.Wall = time.Since(time.Unix(*started, 0))
	}
	if err := benchtable.WriteText(stdout, h, res, rows); err != nil {
		return 0, err
	}
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			return 0, fmt.Errorf("create %s: %w", *out, err)
		}
		png, err := benchtable.Chart(rows, "Expertiza against references, "+h.Date.Format("2006-01-02"))
		if err != nil {
			return 0, err
		}
		chart := ""
		if png != nil {
			chart = "results.png"
			if err := os.WriteFile(filepath.Join(*out, chart), png, 0o644); err != nil {
				return 0, fmt.Errorf("write the chart: %w", err)
			}
		}
		var md bytes.Buffer
		if err := benchtable.WriteMarkdown(&md, h, res, rows, chart); err != nil {
			return 0, err
		}
		if err := os.WriteFile(filepath.Join(*out, "results.md"), md.Bytes(), 0o644); err != nil {
			return 0, fmt.Errorf("write results.md: %w", err)
		}
		fmt.Fprintf(stdout, "\nwritten: %s, %s\n", filepath.Join(*out, "results.md"), filepath.Join(*out, cmp.Or(chart, "(no chart: no references)")))
	}
	if len(res.Results) == 0 {
		fmt.Fprintln(stdout, "no benchmark results in the input")
		return 1, nil
	}
	if len(res.Failures) > 0 {
		return 1, nil
	}
	return 0, nil
}

// machine describes the CPU, the cores, the memory and the Go version.
func machine(ctx context.Context, cpu string) string {
	parts := []string{cmp.Or(cpu, runtime.GOARCH)}
	parts = append(parts, strconv.Itoa(runtime.NumCPU())+" cores")
	if kb := memTotalKiB(); kb > 0 {
		parts = append(parts, fmt.Sprintf("%.0f GiB RAM", float64(kb)/(1<<20)))
	}
	parts = append(parts, runtime.GOOS)
	if v, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output(); err == nil {
		parts = append(parts, strings.TrimSpace(string(v)))
	}
	return strings.Join(parts, ", ")
}

func memTotalKiB() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// loadAverage tells how busy the machine was: the figures of a shared
// machine are noisy, and this says how much.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
