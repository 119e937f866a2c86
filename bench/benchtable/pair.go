package benchtable

import (
	"math"
	"path"
	"strings"
)

// References are the tools and baselines a figure is measured against,
// by the name the convention uses (bench/README.md), with what they are.
var References = map[string]string{
	"gorilla":  "bare gorilla/websocket",
	"pgbench":  "pgbench, same rows",
	"curl":     "curl PUT, plain Go file server",
	"pdfinfo":  "poppler pdfinfo",
	"pdftoppm": "poppler pdftoppm",
	"mutool":   "MuPDF mutool draw",
	"direct":   "direct posting",
}

// budgetLabel names the reference of a figure that is compared with a
// fixed budget rather than a measurement: the UI benchmarks report their
// time as a fraction of one 60 Hz frame.
const budgetLabel = "budget: one 60 Hz frame"

// Alias pairs a figure with a reference reported under a name the
// convention does not derive: the renderer benchmarks were written before
// it. A reference may also be given only as a ratio the benchmark
// computed (FromRatio = ours/reference), for a time it does not report.
type Alias struct {
	Pkg       string // import path suffix
	Bench     string // path.Match pattern on Result.Name
	Ours      string
	Ref       string // unit of the reference, or
	FromRatio string // unit of ours/reference
	Label     string // a key of References
}

// Aliases are the pairs of the figures that predate the convention.
var Aliases = []Alias{
	{Pkg: "app/pdfrender/pdfium", Bench: "OpenToFirstPage", Ours: "open+page1-ms", Ref: "pdftoppm-ms", Label: "pdftoppm"},
	{Pkg: "app/pdfrender/pdfium", Bench: "OpenToFirstPage", Ours: "open+page1-ms", Ref: "mutool-ms", Label: "mutool"},
	{Pkg: "app/pdfrender/pdfium", Bench: "VsTools/*", Ours: "open+page-ms", Ref: "pdftoppm-page-ms", Label: "pdftoppm"},
	{Pkg: "app/pdfrender/pdfium", Bench: "VsTools/*", Ours: "open+page-ms", Ref: "mutool-page-ms", Label: "mutool"},
	{Pkg: "app/pdfrender/pdfium", Bench: "VsTools/*", Ours: "tile512-ms", FromRatio: "tile/pdftoppm-crop", Label: "pdftoppm"},
	{Pkg: "app/pdfrender/pdfium", Bench: "PanA1", Ours: "pan-ms", Ref: "pdftoppm-crop-ms", Label: "pdftoppm"},
	{Pkg: "app/pdfrender/pdfium", Bench: "PanA1", Ours: "viewport-uncached-ms", Ref: "pdftoppm-crop-ms", Label: "pdftoppm"},
	{Pkg: "app/pdfrender/pdfium", Bench: "RSS500", Ours: "with-500p-doc-RSS-MiB", Ref: "pdftoppm-peak-RSS-MiB", Label: "pdftoppm"},
	{Pkg: "app/pdfrender/pdfium", Bench: "RSS500", Ours: "with-500p-doc-RSS-MiB", Ref: "mutool-peak-RSS-MiB", Label: "mutool"},
}

// derivedUnits are ratios a benchmark computed itself; the table computes
// its own from the two figures, so these are left out.
var derivedUnits = map[string]bool{"time-ratio": true, "no-cache/disk-cache": true, "frames": true}

// ignoredUnits are not figures of speed or size the table compares.
var ignoredUnits = map[string]bool{"B/op": true, "allocs/op": true}

// Row is one line of the table: a figure, and its reference when it has
// one (a figure with two references has two rows).
type Row struct {
	Pkg, Bench, Unit string
	Ours             float64
	HasRef           bool
	Ref              float64
	RefName          string // a key of References, or budgetLabel
	// Ratio is how many times the reference's cost ours pays: ours/ref for
	// times and sizes, ref/ours for rates (units ending in /s); 1 is
	// parity, above 1 ours is slower or larger. NaN without a reference
	// or when either side is 0.
	Ratio float64
}

// RefLabel describes the reference for the table.
func (r Row) RefLabel() string {
	if d, ok := References[r.RefName]; ok {
		return d
	}
	return r.RefName
}

// IsRate reports whether larger values of unit are better.
func IsRate(unit string) bool { return strings.HasSuffix(unit, "/s") }

// CostRatio is the ratio of Row.Ratio.
func CostRatio(unit string, ours, ref float64) float64 {
	if ours == 0 || ref == 0 || math.IsNaN(ours) || math.IsNaN(ref) {
		return math.NaN()
	}
	if IsRate(unit) {
		return ref / ours
	}
	return ours / ref
}

// refPrefix splits a unit "<ref>-<rest>" naming a reference's figure.
func refPrefix(unit string) (ref, rest string, ok bool) {
	ref, rest, ok = strings.Cut(unit, "-")
	if !ok || rest == "" {
		return "", "", false
	}
	_, known := References[ref]
	return ref, rest, known
}

// refBench splits a benchmark name "X_<ref>" or "X_<ref>/sub" into "X" or
// "X/sub" and the reference.
func refBench(name string) (base, ref string, ok bool) {
	top, sub, hasSub := strings.Cut(name, "/")
	i := strings.LastIndex(top, "_")
	if i < 0 {
		return "", "", false
	}
	if _, known := References[top[i+1:]]; !known {
		return "", "", false
	}
	base = top[:i]
	if hasSub {
		base += "/" + sub
	}
	return base, top[i+1:], true
}

func isDerived(unit string) bool {
	if derivedUnits[unit] || strings.Contains(unit, "ratio") {
		return true
	}
	// page/pdftoppm, ours/mutool, outbox/direct, tile/pdftoppm-crop
	if i := strings.LastIndex(unit, "/"); i >= 0 {
		den := unit[i+1:]
		for ref := range References {
			if den == ref || strings.HasPrefix(den, ref+"-") {
				return true
			}
		}
	}
	return false
}

// repeatsMs reports whether m is the ns/op of a benchmark that reports
// the same time in milliseconds as well (msPer(b.Elapsed(), b.N)): one
// row is enough.
func repeatsMs(r *Result, m Metric) bool {
	if m.Unit != "ns/op" {
		return false
	}
	ms, ok := r.Metric("ms")
	return ok && math.Abs(ms*1e6-m.Value) <= 0.01*m.Value
}

func pkgHasSuffix(pkg, suffix string) bool {
	return pkg == suffix || strings.HasSuffix(pkg, "/"+suffix)
}

type key struct{ pkg, name string }

// Rows pairs every figure of the run with its references, in the order
// the benchmarks ran.
func Rows(run *Run) []Row {
	byName := map[key]*Result{}
	for i := range run.Results {
		r := &run.Results[i]
		byName[key{r.Pkg, r.Name}] = r
	}
	type used struct {
		pkg, name, unit string
	}
	consumed := map[used]bool{}
	pairs := map[used][]Row{} // ours figure → its rows with references

	add := func(r *Result, unit string, ours float64, refRes *Result, refUnit string, ref float64, name string) {
		u := used{r.Pkg, r.Name, unit}
		for _, p := range pairs[u] {
			if p.RefName == name && p.Ref == ref {
				return // two rules found the same reference
			}
		}
		pairs[u] = append(pairs[u], Row{Pkg: r.Pkg, Bench: r.Name, Unit: unit, Ours: ours, HasRef: true, Ref: ref,
			RefName: name, Ratio: CostRatio(unit, ours, ref)})
		if refRes != nil {
			consumed[used{refRes.Pkg, refRes.Name, refUnit}] = true
		}
	}

	for i := range run.Results {
		r := &run.Results[i]
		if _, _, isRef := refBench(r.Name); isRef {
			continue // paired from its base below
		}
		for _, m := range r.Metrics {
			if ignoredUnits[m.Unit] || isDerived(m.Unit) {
				continue
			}
			if _, _, isRefUnit := refPrefix(m.Unit); isRefUnit {
				continue
			}
			// 1. Aliases.
			for _, a := range Aliases {
				if a.Ours != m.Unit || !pkgHasSuffix(r.Pkg, a.Pkg) {
					continue
				}
				if ok, _ := path.Match(a.Bench, r.Name); !ok {
					continue
				}
				switch {
				case a.Ref != "":
					if v, ok := r.Metric(a.Ref); ok {
						add(r, m.Unit, m.Value, r, a.Ref, v, a.Label)
					}
				case a.FromRatio != "":
					if q, ok := r.Metric(a.FromRatio); ok && q != 0 {
						add(r, m.Unit, m.Value, nil, "", m.Value/q, a.Label)
					}
				}
			}
			// 2. "<ref>-<unit>" or "<ref>-<rest>" beside "ours-<rest>".
			for _, o := range r.Metrics {
				ref, rest, ok := refPrefix(o.Unit)
				if ok && (rest == m.Unit || "ours-"+rest == m.Unit) {
					add(r, m.Unit, m.Value, r, o.Unit, o.Value, ref)
				}
			}
			// 3. BenchmarkX_<ref> beside BenchmarkX.
			for j := range run.Results {
				o := &run.Results[j]
				base, ref, ok := refBench(o.Name)
				if !ok || o.Pkg != r.Pkg || base != r.Name {
					continue
				}
				if v, ok := o.Metric(m.Unit); ok {
					add(r, m.Unit, m.Value, o, m.Unit, v, ref)
				}
			}
			// 4. The UI's frame budget.
			if m.Unit == "ms" {
				if f, ok := r.Metric("frames"); ok && f > 0 {
					add(r, m.Unit, m.Value, nil, "", m.Value/f, budgetLabel)
				}
			}
		}
	}

	var rows []Row
	for i := range run.Results {
		r := &run.Results[i]
		for _, m := range r.Metrics {
			u := used{r.Pkg, r.Name, m.Unit}
			if ignoredUnits[m.Unit] || isDerived(m.Unit) || consumed[u] || repeatsMs(r, m) {
				continue
			}
			if p := pairs[u]; len(p) > 0 {
				rows = append(rows, p...)
				continue
			}
			rows = append(rows, Row{Pkg: r.Pkg, Bench: r.Name, Unit: m.Unit, Ours: m.Value, Ratio: math.NaN()})
		}
	}
	return rows
}
