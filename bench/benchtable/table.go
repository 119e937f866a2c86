package benchtable

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Header describes where and when the figures were measured.
type Header struct {
	Date     time.Time
	Machine  string        // CPU, cores, OS
	Load     string        // load averages at the end of the run
	Wall     time.Duration // of the whole run, 0 if unknown
	Commands string        // how to reproduce
}

// RatioNote explains the ratio column.
const RatioNote = "ratio = how many times the reference's cost ours pays: ours ÷ reference for times and sizes, " +
	"reference ÷ ours for rates (units ending in /s); 1.00× is parity, above 1 ours is slower or larger. " +
	"References are measured in the same run on the same machine, except the UI's frame budget."

// Cell texts of a row: figure, ours, reference, ratio.
func (r Row) Cells(trim string) [4]string {
	ref, ratio := "—", "—"
	if r.HasRef {
		ref = FormatValue(r.Ref, r.Unit) + " (" + r.RefLabel() + ")"
		ratio = FormatRatio(r.Ratio)
	}
	return [4]string{r.Figure(trim), FormatValue(r.Ours, r.Unit), ref, ratio}
}

// Figure names the row: package (without trim), benchmark and unit.
func (r Row) Figure(trim string) string {
	pkg := strings.TrimPrefix(strings.TrimPrefix(r.Pkg, trim), "/")
	if pkg == "" {
		pkg = r.Pkg[strings.LastIndex(r.Pkg, "/")+1:]
	}
	return pkg + " " + r.Bench + " " + DisplayUnit(r.Unit)
}

// DisplayUnit is the unit as the table shows it.
func DisplayUnit(unit string) string {
	switch {
	case unit == "ns/op":
		return "time/op"
	case strings.HasPrefix(unit, "ours-"):
		return strings.TrimPrefix(unit, "ours-")
	}
	return unit
}

// FormatValue prints three significant digits, times per op as durations.
func FormatValue(v float64, unit string) string {
	if unit == "ns/op" {
		d := time.Duration(v)
		switch {
		case d >= time.Second:
			return sig3(d.Seconds()) + " s"
		case d >= time.Millisecond:
			return sig3(v/1e6) + " ms"
		case d >= time.Microsecond:
			return sig3(v/1e3) + " µs"
		}
		return sig3(v) + " ns"
	}
	return sig3(v)
}

func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case a >= 100 || v == math.Trunc(v):
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// FormatRatio prints a ratio as "2.31×".
func FormatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	if r >= 100 {
		return strconv.FormatFloat(math.Round(r), 'f', -1, 64) + "×"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

// CommonPrefix is the import path shared by every row's package up to a
// slash, which the figure names leave out.
func CommonPrefix(rows []Row) string {
	if len(rows) == 0 {
		return ""
	}
	p := rows[0].Pkg + "/"
	for _, r := range rows[1:] {
		for !strings.HasPrefix(r.Pkg+"/", p) {
			i := strings.LastIndex(strings.TrimSuffix(p, "/"), "/")
			if i < 0 {
				return ""
			}
			p = p[:i+1]
		}
	}
	return strings.TrimSuffix(p, "/")
}

func (h Header) lines() []string {
	out := []string{}
	if !h.Date.IsZero() {
		out = append(out, "Run: "+h.Date.Format("2006-01-02 15:04 MST"))
	}
	if h.Machine != "" {
		out = append(out, "Machine: "+h.Machine)
	}
	if h.Load != "" {
		out = append(out, "Load average at the end (1, 5, 15 min): "+h.Load)
	}
	if h.Wall > 0 {
		out = append(out, "Wall time: "+h.Wall.Round(time.Second).String())
	}
	if h.Commands != "" {
		out = append(out, "Reproduce: "+h.Commands)
	}
	return out
}

// WriteText prints the header, the aligned table and the run's failures
// and skips.
func WriteText(w io.Writer, h Header, run *Run, rows []Row) error {
	trim := CommonPrefix(rows)
	for _, l := range h.lines() {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tours\treference\tratio")
	for _, r := range rows {
		c := r.Cells(trim)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c[0], c[1], c[2], c[3])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, RatioNote)
	writeProblems(w, run, "")
	return nil
}

// WriteMarkdown writes the same as a Markdown page; chart names the PNG
// beside it ("" for none).
func WriteMarkdown(w io.Writer, h Header, run *Run, rows []Row, chart string) error {
	trim := CommonPrefix(rows)
	fmt.Fprintln(w, "# Benchmarks")
	fmt.Fprintln(w)
	for _, l := range h.lines() {
		fmt.Fprintln(w, "- "+l)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, RatioNote)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| figure | ours | reference | ratio |")
	fmt.Fprintln(w, "|---|---:|---|---:|")
	esc := strings.NewReplacer("|", `\|`)
	for _, r := range rows {
		c := r.Cells(trim)
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", esc.Replace(c[0]), esc.Replace(c[1]), esc.Replace(c[2]), c[3])
	}
	if chart != "" {
		fmt.Fprintf(w, "\n![ratio of each figure to its reference](%s)\n", chart)
	}
	writeProblems(w, run, "## ")
	return nil
}

func writeProblems(w io.Writer, run *Run, heading string) {
	section := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s%s\n\n", heading, title)
		if heading != "" {
			fmt.Fprintln(w, "```")
		}
		for _, it := range items {
			fmt.Fprintln(w, it)
		}
		if heading != "" {
			fmt.Fprintln(w, "```")
		}
	}
	section(fmt.Sprintf("Failed (%d)", len(run.Failures)), run.Failures)
	section(fmt.Sprintf("Skipped (%d)", len(run.Skips)), run.Skips)
}
