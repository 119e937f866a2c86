package benchtable

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// sample is go test output of the shapes the collector meets: several
// packages, custom metrics, a sub-benchmark, a benchmark that logged, one
// that printed to stdout between its name and its figures, a skip, a
// failure and a build failure.
const sample = `goos: linux
goarch: amd64
pkg: github.com/expertiza/expertiza/server/bench
cpu: Intel(R) Xeon(R) Processor
BenchmarkFanout1000-2           	      50	        29.31 p50-ms	       110.1 p99-ms
BenchmarkFanout1000_gorilla-2   	      50	        18.27 p50-ms	        71.41 p99-ms
--- BENCH: BenchmarkFanout1000_gorilla-2
    fanout_ref_test.go:204: frame of 285 bytes
BenchmarkCommands-2           	    2000	   1278492 ns/op	       782.2 commands/s
BenchmarkCommands_pgbench-2   	    2000	      1791 commands/s
BenchmarkUpload-2   	       2	       186.0 ours-MB/s	       555.0 curl-MB/s	         2.98 time-ratio	       175.0 peak-RSS-MB
BenchmarkOutboxReplay1000-2   	       2	       300.0 drain-ms	        500.0 commands/s	      1000 direct-commands/s	         2.0 outbox/direct
--- SKIP: BenchmarkWSIdle10k
    wsidle_test.go:190: the open-files limit is 1024, under the 11024 this benchmark needs
PASS
ok  	github.com/expertiza/expertiza/server/bench	15.881s
goos: linux
goarch: amd64
pkg: github.com/expertiza/expertiza/app/pdfrender/pdfium
cpu: Intel(R) Xeon(R) Processor
BenchmarkVsTools/text-A4-2         	       5	        11.00 page-ms	        20.00 open+page-ms	         4.000 tile512-ms	        22.00 pdftoppm-page-ms	         0.5000 page/pdftoppm	         2.000 tile/pdftoppm-crop	         5.500 mutool-page-ms
BenchmarkOpenToFirstPage
some line the benchmark printed
BenchmarkOpenToFirstPage-2   	       5	        40.00 open+page1-ms	        80.00 pdftoppm-ms	         0.5000 ours/pdftoppm
BenchmarkPanA1-2   	wazero: compiled
       5	        10.00 pan-ms	        30.00 pdftoppm-crop-ms	         0.3333 pan/pdftoppm
BenchmarkStartup-2   	       1	      4000 no-cache-ms	       120.0 disk-cache-ms	        33.33 no-cache/disk-cache
ok  	github.com/expertiza/expertiza/app/pdfrender/pdfium	30.1s
pkg: github.com/expertiza/expertiza/ui
BenchmarkAppsSort/col2-2   	     100	   8350000 ns/op	         0.5010 frames	         8.350 ms	  123456 B/op	     789 allocs/op
--- FAIL: BenchmarkAppsScrollPage
    applications_bench_test.go:99: the table did not scroll
FAIL
exit status 1
FAIL	github.com/expertiza/expertiza/ui	12.3s
# github.com/expertiza/expertiza/pdfdoc [github.com/expertiza/expertiza/pdfdoc.test]
# [github.com/expertiza/expertiza/pdfdoc]
pdfdoc/pdfdoc_test.go:12:3: undefined: nope
FAIL	github.com/expertiza/expertiza/pdfdoc [build failed]
`

func TestParse(t *testing.T) {
	run, err := Parse(strings.NewReader(sample), 0)
	if err != nil {
		t.Fatal(err)
	}
	if run.Procs != 2 || run.CPU != "Intel(R) Xeon(R) Processor" {
		t.Errorf("procs %d, cpu %q", run.Procs, run.CPU)
	}
	var names []string
	for _, r := range run.Results {
		names = append(names, r.Pkg[strings.LastIndex(r.Pkg, "/")+1:]+" "+r.Name)
	}
	want := []string{"bench Fanout1000", "bench Fanout1000_gorilla", "bench Commands", "bench Commands_pgbench", "bench Upload",
		"bench OutboxReplay1000", "pdfium VsTools/text-A4", "pdfium OpenToFirstPage", "pdfium PanA1", "pdfium Startup", "ui AppsSort/col2"}
	if d := cmp.Diff(want, names); d != "" {
		t.Errorf("results (-want +got):\n%s", d)
	}
	if v, ok := run.Results[2].Metric("ns/op"); !ok || v != 1278492 {
		t.Errorf("Commands ns/op = %v %v", v, ok)
	}
	if len(run.Skips) != 1 || !strings.Contains(run.Skips[0], "open-files limit is 1024") {
		t.Errorf("skips: %q", run.Skips)
	}
	wantFail := []string{"--- FAIL: BenchmarkAppsScrollPage", "FAIL\tgithub.com/expertiza/expertiza/ui", "# github.com/expertiza/expertiza/pdfdoc",
		"FAIL\tgithub.com/expertiza/expertiza/pdfdoc [build failed]"}
	if len(run.Failures) != len(wantFail) {
		t.Fatalf("failures: %q", run.Failures)
	}
	for i, w := range wantFail {
		if !strings.HasPrefix(run.Failures[i], w) {
			t.Errorf("failure %d = %q, want it to start with %q", i, run.Failures[i], w)
		}
	}
	if !strings.Contains(run.Failures[2], "undefined: nope") {
		t.Errorf("the build failure lost its reason: %q", run.Failures[2])
	}
	if !strings.Contains(run.Failures[0], "the table did not scroll") {
		t.Errorf("the failure lost its reason: %q", run.Failures[0])
	}
}

func TestParseProcsOne(t *testing.T) {
	// GOMAXPROCS=1: Go adds no suffix, and a name ending in digits keeps them.
	run, err := Parse(strings.NewReader("pkg: x\nBenchmarkWrite/rows=100   \t 10\t 5.0 ms\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Results) != 1 || run.Results[0].Name != "Write/rows=100" {
		t.Errorf("results: %+v", run.Results)
	}
}

func TestRows(t *testing.T) {
	run, err := Parse(strings.NewReader(sample), 0)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Bench, Unit string
		Ours, Ref   float64
		RefName     string
		Ratio       float64
	}
	var got []row
	for _, r := range Rows(run) {
		got = append(got, row{r.Bench, r.Unit, r.Ours, r.Ref, r.RefName, r.Ratio})
	}
	nan := math.NaN()
	want := []row{
		// BenchmarkX_<ref> beside BenchmarkX, unit by unit.
		{"Fanout1000", "p50-ms", 29.31, 18.27, "gorilla", 29.31 / 18.27},
		{"Fanout1000", "p99-ms", 110.1, 71.41, "gorilla", 110.1 / 71.41},
		{"Commands", "ns/op", 1278492, 0, "", nan},
		// A rate: the cost ratio is reference ÷ ours.
		{"Commands", "commands/s", 782.2, 1791, "pgbench", 1791 / 782.2},
		// <ref>-<rest> beside ours-<rest>; time-ratio is left out.
		{"Upload", "ours-MB/s", 186, 555, "curl", 555.0 / 186},
		{"Upload", "peak-RSS-MB", 175, 0, "", nan},
		{"OutboxReplay1000", "drain-ms", 300, 0, "", nan},
		// <ref>-<unit> beside <unit>; outbox/direct is left out.
		{"OutboxReplay1000", "commands/s", 500, 1000, "direct", 2},
		// Two references of one figure; a reference given only as a ratio.
		{"VsTools/text-A4", "page-ms", 11, 22, "pdftoppm", 0.5},
		{"VsTools/text-A4", "page-ms", 11, 5.5, "mutool", 2},
		{"VsTools/text-A4", "open+page-ms", 20, 22, "pdftoppm", 20.0 / 22},
		{"VsTools/text-A4", "open+page-ms", 20, 5.5, "mutool", 20 / 5.5},
		{"VsTools/text-A4", "tile512-ms", 4, 2, "pdftoppm", 2},
		// An alias; ours/pdftoppm is left out.
		{"OpenToFirstPage", "open+page1-ms", 40, 80, "pdftoppm", 0.5},
		// Figures on a line after what the benchmark printed.
		{"PanA1", "pan-ms", 10, 30, "pdftoppm", 1.0 / 3},
		{"Startup", "no-cache-ms", 4000, 0, "", nan},
		{"Startup", "disk-cache-ms", 120, 0, "", nan},
		// The UI's frame budget; B/op, allocs/op and frames are left out.
		// ns/op repeats ms: left out.
		{"AppsSort/col2", "ms", 8.35, 8.35 / 0.501, budgetLabel, 0.501},
	}
	if d := cmp.Diff(want, got, cmpopts.EquateNaNs(), cmpopts.EquateApprox(1e-9, 0)); d != "" {
		t.Errorf("rows (-want +got):\n%s", d)
	}
}

func TestRowsReferenceWithoutOurs(t *testing.T) {
	// Ours failed: the reference's figures still show, as figures of their own.
	run, err := Parse(strings.NewReader("pkg: p\nBenchmarkX_gorilla-2\t1\t3.0 p50-ms\nBenchmarkY-2\t1\t7.0 curl-MB/s\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	rows := Rows(run)
	if len(rows) != 2 || rows[0].Bench != "X_gorilla" || rows[0].HasRef || rows[1].Unit != "curl-MB/s" || rows[1].HasRef {
		t.Errorf("rows: %+v", rows)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		v    float64
		unit string
		want string
	}{
		{1278492, "ns/op", "1.28 ms"},
		{2.5e9, "ns/op", "2.50 s"},
		{850, "ns/op", "850 ns"},
		{12345, "ns/op", "12.3 µs"},
		{782.2, "commands/s", "782"},
		{29.31, "p50-ms", "29.3"},
		{2, "goroutines/conn", "2"},
		{0.5010, "frames", "0.501"},
		{0.00968, "s", "0.00968"},
	}
	for _, tt := range tests {
		if got := FormatValue(tt.v, tt.unit); got != tt.want {
			t.Errorf("FormatValue(%v, %q) = %q, want %q", tt.v, tt.unit, got, tt.want)
		}
	}
	for r, want := range map[float64]string{1: "1.00×", 2.345: "2.35×", 0.5: "0.50×", 123.4: "123×", math.NaN(): "n/a"} {
		if got := FormatRatio(r); got != want {
			t.Errorf("FormatRatio(%v) = %q, want %q", r, got, want)
		}
	}
}

func TestWriteMarkdown(t *testing.T) {
	run, err := Parse(strings.NewReader(sample), 0)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, Header{Machine: "test box", Load: "1 2 3"}, run, Rows(run), "results.png"); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| figure | ours | reference | ratio |",
		"| server/bench Fanout1000 p50-ms | 29.3 | 18.3 (bare gorilla/websocket) | 1.60× |",
		"| server/bench Commands commands/s | 782 | 1791 (pgbench, same rows) | 2.29× |",
		"| server/bench Upload MB/s | 186 | 555 (curl PUT, plain Go file server) | 2.98× |",
		"| ui AppsSort/col2 ms | 8.35 | 16.7 (budget: one 60 Hz frame) | 0.50× |",
		"| server/bench Upload peak-RSS-MB | 175 | — | — |",
		"![ratio of each figure to its reference](results.png)",
		"## Failed (4)", "## Skipped (1)", "- Machine: test box",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestChart(t *testing.T) {
	run, err := Parse(strings.NewReader(sample), 0)
	if err != nil {
		t.Fatal(err)
	}
	data, err := Chart(Rows(run), "test")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	// 13 rows have a reference: the picture grows with them, and has bars
	// of both colours (ratios above and below parity).
	if h := img.Bounds().Dy(); h != 120+18*13 {
		t.Errorf("height %d for 12 bars", h)
	}
	better, worse := countColour(img, ColourBetter), countColour(img, ColourWorse)
	if better == 0 || worse == 0 {
		t.Errorf("bars: %d better pixels, %d worse", better, worse)
	}
	if none, err := Chart(nil, "empty"); none != nil || err != nil {
		t.Errorf("chart of no rows: %d bytes, %v", len(none), err)
	}
}

func countColour(img image.Image, c interface{ RGBA() (r, g, b, a uint32) }) int {
	wr, wg, wb, _ := c.RGBA()
	n := 0
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y++ {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if r == wr && g == wg && b == wb {
				n++
			}
		}
	}
	return n
}
