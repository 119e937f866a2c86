package app

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/samples"
	"github.com/expertiza/expertiza/sync/wire"
)

// openBench opens a generated PDF in the shared test renderer.
func openBench(b *testing.B, name string, pdf []byte, id int64) *Viewer {
	b.Helper()
	v, err := OpenViewer(context.Background(), testRenderer(b), writePDF(b, name, pdf), wire.DocumentVersion{ID: id, FileName: name})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close(context.Background()) })
	return v
}

// BenchmarkCompareDiffA1 is the visual diff of an A1 drawing of 46,000
// segments against its next version with 40 more: both sheets rendered at
// 60 DPI (1987×1403 px) on the two PDFium instances in parallel, then
// compared. The sub-benchmark "compare only" is the pixel work alone.
func BenchmarkCompareDiffA1(b *testing.B) {
	old := openBench(b, "a1-old.pdf", samples.Drawing(46_000), 1)
	new := openBench(b, "a1-new.pdf", samples.Drawing(46_040), 2)
	ctx := context.Background()
	b.Run("render and compare", func(b *testing.B) {
		for b.Loop() {
			c := NewCompare(old, new, DiffOptions{}) // a fresh cache each time
			d, err := c.Diff(ctx, 0, 0)
			if err != nil {
				b.Fatal(err)
			}
			if !d.Changed() {
				b.Fatal("the 40 added segments were not found")
			}
		}
	})
	b.Run("compare only", func(b *testing.B) {
		v := pdfrender.View{Zoom: 60.0 / 72}
		io, err := old.Renderer().RenderPage(ctx, old.Doc().ID, 0, v)
		if err != nil {
			b.Fatal(err)
		}
		in, err := new.Renderer().RenderPage(ctx, new.Doc().ID, 0, v)
		if err != nil {
			b.Fatal(err)
		}
		var regions int
		for b.Loop() {
			regions = len(DiffPages(io, in, new.Doc().Pages[0], DiffOptions{}).Regions)
		}
		b.ReportMetric(float64(regions), "regions")
	})
}

// BenchmarkCompareAlign500 aligns two 500-page volumes whose texts differ
// page to page, the new one with a page inserted at 100, one removed at
// 300 and one corrected at 400: the alignment from fingerprints (the
// similarity table of the differing middle, 300×300 pages).
func BenchmarkCompareAlign500(b *testing.B) {
	var old, new []PageFingerprint
	for i := range 500 {
		old = append(old, textFP(i))
	}
	for i := range 500 {
		switch i {
		case 100:
			new = append(new, textFP(10_000))
		case 300:
			continue
		case 400:
			l := pageLines(i, 12)
			l[3] = "исправлено по замечанию"
			new = append(new, TextFingerprint(strings.Join(l, "\n")))
			continue
		}
		new = append(new, textFP(i))
	}
	var rows []PagePair
	for b.Loop() {
		rows = AlignPages(old, new)
	}
	if !slices.Contains(rows, PagePair{Old: 499, New: 499, Score: 1}) || !slices.ContainsFunc(rows, func(p PagePair) bool { return p.Old == 300 && p.New == -1 }) {
		b.Fatalf("alignment lost the pages: %v", pairsString(rows[295:305]))
	}
}

// BenchmarkCompareFingerprints500 reads the text of a 500-page volume
// for its fingerprints: the part of Align that talks to PDFium.
func BenchmarkCompareFingerprints500(b *testing.B) {
	specs := make([]samples.PageSpec, 500)
	for i := range specs {
		specs[i] = samples.PageSpec{Lines: pageLines(i, 14)}
	}
	v := openBench(b, "long.pdf", samples.Pages(specs), 1)
	for b.Loop() {
		fps, err := Fingerprints(context.Background(), v, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(fps) != 500 || fps[0].TextHash == 0 {
			b.Fatal("no text read")
		}
	}
}
