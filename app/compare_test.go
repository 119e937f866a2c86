package app

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/samples"
	"github.com/expertiza/expertiza/sync/wire"
)

var compareWords = strings.Fields("проект здание фундамент стена перекрытие кровля лестница " +
	"колонна балка плита арматура бетон кирпич окно дверь шахта лифт вентиляция отопление " +
	"водопровод канализация электроснабжение освещение пожарный выход эвакуация площадь " +
	"высота отметка узел разрез фасад план этаж помещение нагрузка расчёт сечение")

// pageLines are n lines of words that differ from page to page (seed), as
// the pages of a real volume do.
func pageLines(seed, n int) []string {
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	lines := make([]string, n)
	for i := range lines {
		ws := make([]string, 7)
		for k := range ws {
			ws[k] = compareWords[rng.IntN(len(compareWords))]
		}
		lines[i] = strings.Join(ws, " ")
	}
	return lines
}

// textFP is a page's fingerprint from generated lines.
func textFP(seed int) PageFingerprint {
	return TextFingerprint(strings.Join(pageLines(seed, 12), "\n"))
}

func pairsString(ps []PagePair) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "%d:%d ", p.Old, p.New)
	}
	return strings.TrimSpace(b.String())
}

func TestAlignPages(t *testing.T) {
	fps := func(seeds ...int) []PageFingerprint {
		out := make([]PageFingerprint, len(seeds))
		for i, s := range seeds {
			out[i] = textFP(s)
		}
		return out
	}
	// edited is page seed with one line changed: the same page, corrected.
	edited := func(seed int) PageFingerprint {
		l := pageLines(seed, 12)
		l[5] = "исправлено по замечанию эксперта сечение балки увеличено"
		return TextFingerprint(strings.Join(l, "\n"))
	}
	blank := PageFingerprint{}
	tests := []struct {
		name     string
		old, new []PageFingerprint
		want     string
	}{
		{"identical", fps(1, 2, 3), fps(1, 2, 3), "0:0 1:1 2:2"},
		{"page inserted in the middle", fps(1, 2, 3, 4), fps(1, 2, 99, 3, 4), "0:0 1:1 -1:2 2:3 3:4"},
		{"page inserted first", fps(1, 2, 3), fps(99, 1, 2, 3), "-1:0 0:1 1:2 2:3"},
		{"page removed", fps(1, 2, 3, 4), fps(1, 3, 4), "0:0 1:-1 2:1 3:2"},
		{"a page corrected in place", fps(1, 2, 3), []PageFingerprint{textFP(1), edited(2), textFP(3)}, "0:0 1:1 2:2"},
		{"a page rewritten beyond recognition stays paired", fps(1, 2, 3), fps(1, 50, 3), "0:0 1:1 2:2"},
		{"rewritten page and an inserted one", fps(1, 2, 3, 4), []PageFingerprint{textFP(1), edited(2), textFP(99), textFP(3), textFP(4)}, "0:0 1:1 -1:2 2:3 3:4"},
		{"two pages swapped keep one pair", fps(1, 2, 3), fps(2, 1, 3), "0:-1 1:0 -1:1 2:2"},
		{"pages without text pair by position", []PageFingerprint{blank, blank}, []PageFingerprint{blank, blank, blank}, "0:0 1:1 -1:2"},
		{"empty old version", nil, fps(1, 2), "-1:0 -1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pairsString(AlignPages(tt.old, tt.new)); got != tt.want {
				t.Errorf("pairs %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAlignPagesIgnoresPageNumbers(t *testing.T) {
	// Sheet numbers shift by one after an inserted page; the alignment
	// must still pair each sheet with its old self.
	page := func(seed, no, total int) PageFingerprint {
		return TextFingerprint(fmt.Sprintf("Лист %d из %d\n%s", no, total, strings.Join(pageLines(seed, 12), "\n")))
	}
	var old, new []PageFingerprint
	for i := range 6 {
		old = append(old, page(i, i+1, 6))
	}
	for i, s := range []int{0, 1, 2, 77, 3, 4, 5} {
		new = append(new, page(s, i+1, 7))
	}
	if got, want := pairsString(AlignPages(old, new)), "0:0 1:1 2:2 -1:3 3:4 4:5 5:6"; got != want {
		t.Errorf("pairs %s, want %s", got, want)
	}
}

func TestVisualFingerprintTellsDrawingsApart(t *testing.T) {
	sheet := func(box image.Rectangle) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, 64, 45))
		draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
		draw.Draw(img, box, image.Black, image.Point{}, draw.Src)
		return img
	}
	a := PageFingerprint{Visual: VisualFingerprint(sheet(image.Rect(4, 4, 30, 20)))}
	a2 := PageFingerprint{Visual: VisualFingerprint(sheet(image.Rect(4, 4, 30, 21)))}
	b := PageFingerprint{Visual: VisualFingerprint(sheet(image.Rect(34, 24, 60, 40)))}
	if s := PageSimilarity(a, a2); s < 0.9 {
		t.Errorf("nearly the same sheet: similarity %.2f, want ≥ 0.9", s)
	}
	if s := PageSimilarity(a, b); s >= MatchThreshold {
		t.Errorf("different sheets: similarity %.2f, want < %.2f", s, MatchThreshold)
	}
	if got := pairsString(AlignPages([]PageFingerprint{a, b}, []PageFingerprint{b})); got != "0:-1 1:0" {
		t.Errorf("a removed drawing: pairs %s, want 0:-1 1:0", got)
	}
}

// canvasWith is a white w×h picture with black boxes.
func canvasWith(w, h int, boxes ...image.Rectangle) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for _, b := range boxes {
		draw.Draw(img, b, image.Black, image.Point{}, draw.Src)
	}
	return img
}

func TestDiffImages(t *testing.T) {
	base := []image.Rectangle{image.Rect(10, 10, 60, 30), image.Rect(100, 100, 180, 120)}
	grey := canvasWith(200, 200, base...)
	draw.Draw(grey, image.Rect(150, 10, 151, 11), image.NewUniform(color.Gray{Y: 0}), image.Point{}, draw.Src)
	tests := []struct {
		name          string
		old, new      *image.RGBA
		want          []image.Rectangle
		removed, adds []bool // whether each region has removed / added pixels
	}{
		{"identical", canvasWith(200, 200, base...), canvasWith(200, 200, base...), nil, nil, nil},
		{"one box added", canvasWith(200, 200, base...), canvasWith(200, 200, append(base, image.Rect(20, 150, 40, 170))...),
			[]image.Rectangle{image.Rect(20, 150, 40, 170)}, []bool{false}, []bool{true}},
		{"one box removed", canvasWith(200, 200, base...), canvasWith(200, 200, base[0]),
			[]image.Rectangle{image.Rect(100, 100, 180, 120)}, []bool{true}, []bool{false}},
		{"a symbol moved a little is one region", canvasWith(200, 200, image.Rect(50, 50, 60, 60)), canvasWith(200, 200, image.Rect(54, 50, 64, 60)),
			[]image.Rectangle{image.Rect(50, 50, 64, 60)}, []bool{true}, []bool{true}},
		{"a large box moved is its two edges", canvasWith(200, 200, image.Rect(50, 50, 90, 70)), canvasWith(200, 200, image.Rect(55, 50, 95, 70)),
			[]image.Rectangle{image.Rect(50, 50, 55, 70), image.Rect(90, 50, 95, 70)}, []bool{true, false}, []bool{false, true}},
		{"two distant changes are two regions", canvasWith(200, 200), canvasWith(200, 200, image.Rect(5, 5, 15, 15), image.Rect(170, 170, 190, 190)),
			[]image.Rectangle{image.Rect(5, 5, 15, 15), image.Rect(170, 170, 190, 190)}, []bool{false, false}, []bool{true, true}},
		{"one stray pixel is noise", canvasWith(200, 200, base...), grey, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rem, add, _ := DiffImages(tt.old, tt.new, DiffOptions{})
			slices.SortFunc(got, func(a, b image.Rectangle) int { return a.Min.X - b.Min.X })
			if !slices.Equal(got, tt.want) {
				t.Fatalf("regions %v, want %v", got, tt.want)
			}
			for i := range got {
				if (rem[i] > 0) != tt.removed[i] || (add[i] > 0) != tt.adds[i] {
					t.Errorf("region %v: removed %d added %d, want removed %v added %v", got[i], rem[i], add[i], tt.removed[i], tt.adds[i])
				}
			}
		})
	}
}

func TestOverlayColours(t *testing.T) {
	old := canvasWith(40, 10, image.Rect(0, 0, 10, 10), image.Rect(20, 0, 30, 10))
	new := canvasWith(40, 10, image.Rect(0, 0, 10, 10), image.Rect(10, 0, 20, 10))
	dst := image.NewRGBA(new.Bounds())
	OverlayInto(dst, old, new)
	for _, tt := range []struct {
		x    int
		want color.RGBA
	}{
		{5, color.RGBA{R: 102, G: 102, B: 102, A: 255}}, // both: grey
		{15, OverlayAdded},
		{25, OverlayRemoved},
		{35, color.RGBA{R: 255, G: 255, B: 255, A: 255}},
	} {
		if got := dst.RGBAAt(tt.x, 5); got != tt.want {
			t.Errorf("pixel %d: %v, want %v", tt.x, got, tt.want)
		}
	}
}

func TestMapRect(t *testing.T) {
	a4 := pdfrender.PageInfo{Width: 595, Height: 842}
	a3 := pdfrender.PageInfo{Width: 842, Height: 1191}
	r := pdfrender.Rect{X0: 100, Y0: 200, X1: 300, Y1: 400}
	if got := MapRect(r, a4, a4); got != r {
		t.Errorf("same size: %v", got)
	}
	got := MapRect(r, a4, a3)
	want := pdfrender.Rect{X0: 100 * 842.0 / 595, Y0: 200 * 1191.0 / 842, X1: 300 * 842.0 / 595, Y1: 400 * 1191.0 / 842}
	if math.Abs(got.X0-want.X0) > 1e-9 || math.Abs(got.Y1-want.Y1) > 1e-9 {
		t.Errorf("A4 → A3: %v, want %v", got, want)
	}
}

func TestCompareLayout(t *testing.T) {
	a4 := pdfrender.PageInfo{Width: 595, Height: 842}
	a3l := pdfrender.PageInfo{Width: 1191, Height: 842}
	rows := []PagePair{{Old: 0, New: 0}, {Old: -1, New: 1}, {Old: 1, New: 2}}
	oldP := []pdfrender.PageInfo{a4, a4}
	newP := []pdfrender.PageInfo{a4, a3l, a4}
	v := pdfrender.View{Zoom: 0.5}
	t.Run("side by side", func(t *testing.T) {
		l := NewCompareLayout(rows, oldP, newP, v, 10, 0, CompareSideBySide)
		// Columns: old 298 wide, new 596 wide.
		if w, h := l.Size(); w != 10+298+10+596+10 || h != 10+421+10+421+10+421+10 {
			t.Errorf("size %dx%d", w, h)
		}
		if got, want := l.PageRect(0, SideOld), image.Rect(10, 10, 308, 431); got != want {
			t.Errorf("old page 1 at %v, want %v", got, want)
		}
		if got, want := l.PageRect(0, SideNew), image.Rect(318+149, 10, 318+149+298, 431); got != want {
			t.Errorf("new page 1 at %v, want %v (centred in its column)", got, want)
		}
		if !l.PageRect(1, SideOld).Empty() {
			t.Errorf("an inserted page has an old side: %v", l.PageRect(1, SideOld))
		}
		if l.PageRect(2, SideOld).Min.Y != l.PageRect(2, SideNew).Min.Y {
			t.Errorf("a pair is not on one row: %v %v", l.PageRect(2, SideOld), l.PageRect(2, SideNew))
		}
		r := l.FromPage(2, SideOld, pdfrender.Rect{X0: 100, Y0: 100, X1: 120, Y1: 120})
		row, side, x, y, ok := l.ToPage((r.X0+r.X1)/2, (r.Y0+r.Y1)/2)
		if !ok || row != 2 || side != SideOld || math.Abs(x-110) > 2 || math.Abs(y-110) > 2 {
			t.Errorf("round trip: row %d side %d (%.1f, %.1f) ok=%v", row, side, x, y, ok)
		}
		reqs, rws := l.Visible(image.Rect(0, 0, 924, 440), 0)
		var sides []int
		for k, q := range reqs {
			if rws[k] != 0 {
				t.Errorf("row %d requested for a viewport over row 0 only", rws[k])
			}
			sides = append(sides, q.Side)
		}
		if !slices.Contains(sides, SideOld) || !slices.Contains(sides, SideNew) {
			t.Errorf("the first row's pictures come from one side only: %v", reqs)
		}
	})
	t.Run("overlay", func(t *testing.T) {
		l := NewCompareLayout(rows, oldP, newP, v, 10, 0, CompareOverlay)
		if l.PageRect(0, SideOld) != l.PageRect(0, SideNew) {
			t.Errorf("old page not laid over the new: %v %v", l.PageRect(0, SideOld), l.PageRect(0, SideNew))
		}
		if w, _ := l.Size(); w != 596+20 {
			t.Errorf("width %d, want one column", w)
		}
		if l.Stretched(0, SideOld) {
			t.Error("same-size pages reported stretched")
		}
	})
}

// comparePDFs opens two generated versions in the test renderer.
func comparePDFs(t testing.TB, old, new []samples.PageSpec) *Compare {
	t.Helper()
	r := testRenderer(t)
	ctx := context.Background()
	vo, err := OpenViewer(ctx, r, writePDF(t, "old.pdf", samples.Pages(old)), wire.DocumentVersion{ID: 1, FileName: "old.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	vn, err := OpenViewer(ctx, r, writePDF(t, "new.pdf", samples.Pages(new)), wire.DocumentVersion{ID: 2, FileName: "new.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCompare(vo, vn, DiffOptions{})
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func specs(seeds ...int) []samples.PageSpec {
	out := make([]samples.PageSpec, len(seeds))
	for i, s := range seeds {
		out[i] = samples.PageSpec{Lines: pageLines(s, 14), Boxes: []samples.Rect{{X0: 80, Y0: 500, X1: 200, Y1: 560}}}
	}
	return out
}

func nearRect(a, b pdfrender.Rect, tol float64) bool {
	return math.Abs(a.X0-b.X0) <= tol && math.Abs(a.Y0-b.Y0) <= tol && math.Abs(a.X1-b.X1) <= tol && math.Abs(a.Y1-b.Y1) <= tol
}

func TestCompareVersions(t *testing.T) {
	ctx := context.Background()

	t.Run("identical versions have no changes", func(t *testing.T) {
		c := comparePDFs(t, specs(1, 2, 3), specs(1, 2, 3))
		rows, err := c.Align(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := pairsString(rows); got != "0:0 1:1 2:2" {
			t.Fatalf("pairs %s", got)
		}
		for _, r := range rows {
			d, err := c.Diff(ctx, r.Old, r.New)
			if err != nil {
				t.Fatal(err)
			}
			if d.Changed() || d.ChangedPixels != 0 {
				t.Errorf("page %d: %d regions, %d pixels changed", r.New+1, len(d.Regions), d.ChangedPixels)
			}
		}
	})

	t.Run("one changed box is one region in its place", func(t *testing.T) {
		newer := specs(1, 2)
		box := samples.Rect{X0: 350, Y0: 650, X1: 450, Y1: 700}
		newer[1].Boxes = append(slices.Clone(newer[1].Boxes), box)
		c := comparePDFs(t, specs(1, 2), newer)
		if _, err := c.Align(ctx); err != nil {
			t.Fatal(err)
		}
		if d, _ := c.Diff(ctx, 0, 0); d.Changed() {
			t.Errorf("unchanged page 1 has regions %v", d.Regions)
		}
		d, err := c.Diff(ctx, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Regions) != 1 {
			t.Fatalf("regions %v, want one", d.Regions)
		}
		g := d.Regions[0]
		want := pdfrender.Rect{X0: box.X0, Y0: box.Y0, X1: box.X1, Y1: box.Y1}
		if !nearRect(g.Rect, want, 2.5) {
			t.Errorf("region %v, want %v (±2.5 pt: a pixel at 60 DPI is 1.2 pt)", g.Rect, want)
		}
		if g.Added == 0 || g.Removed != 0 {
			t.Errorf("a box drawn in: added %d, removed %d", g.Added, g.Removed)
		}
	})

	t.Run("a changed line of text", func(t *testing.T) {
		newer := specs(1)
		newer[0].Lines = slices.Clone(newer[0].Lines)
		newer[0].Lines[6] = "сечение балки увеличено до 400 мм"
		c := comparePDFs(t, specs(1), newer)
		d, err := c.Diff(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Regions) != 1 {
			t.Fatalf("regions %v, want one", d.Regions)
		}
		base := samples.LineTop + 6*samples.LineStep
		g := d.Regions[0].Rect
		if g.Y0 < base-samples.LineSize-3 || g.Y1 > base+samples.LineSize/2 || g.X0 < samples.LineLeft-3 {
			t.Errorf("region %v is not on line 7 (baseline %.0f pt from the top)", g, base)
		}
	})

	t.Run("an inserted page keeps the later pages paired", func(t *testing.T) {
		c := comparePDFs(t, specs(1, 2, 3, 4), specs(1, 2, 42, 3, 4))
		if got := pairsString(c.Rows()); got != "0:0 1:1 2:2 3:3 -1:4" {
			t.Errorf("before Align the pages pair by position: %s", got)
		}
		rows, err := c.Align(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := pairsString(rows), "0:0 1:1 -1:2 2:3 3:4"; got != want {
			t.Fatalf("pairs %s, want %s", got, want)
		}
		for _, r := range rows {
			if d, _ := c.Diff(ctx, r.Old, r.New); d.Changed() {
				t.Errorf("pair %d:%d changed %v", r.Old, r.New, d.Regions)
			}
		}
	})

	t.Run("remarks over a change are flagged, others not", func(t *testing.T) {
		newer := specs(1, 2, 3)
		newer[1].Boxes = []samples.Rect{{X0: 80, Y0: 500, X1: 260, Y1: 560}} // the box widened
		// Page 1 is replaced by an inserted page before it: 1 → (42, 1).
		newer = append([]samples.PageSpec{{Lines: pageLines(42, 14)}}, newer...)
		c := comparePDFs(t, specs(1, 2, 3), newer)
		if _, err := c.Align(ctx); err != nil {
			t.Fatal(err)
		}
		h := 842.0
		wr := func(r pdfrender.Rect) *wire.Rect {
			w := RectToWire(pdfrender.PageInfo{Width: 595, Height: h}, r)
			return &w
		}
		remarks := []wire.Remark{
			{ID: 1, VersionID: 1, Anchor: &wire.RemarkAnchor{Page: 2, Rect: wr(pdfrender.Rect{X0: 190, Y0: 490, X1: 280, Y1: 570})}}, // over the widened box
			{ID: 2, VersionID: 1, Anchor: &wire.RemarkAnchor{Page: 2, Rect: wr(pdfrender.Rect{X0: 300, Y0: 700, X1: 400, Y1: 760})}}, // elsewhere on that page
			{ID: 3, VersionID: 1, Anchor: &wire.RemarkAnchor{Page: 3}},                                                               // whole unchanged page
			{ID: 4, VersionID: 1, Anchor: &wire.RemarkAnchor{Page: 2}},                                                               // whole changed page
			{ID: 5, VersionID: 9, Anchor: &wire.RemarkAnchor{Page: 1}},                                                               // another version
			{ID: 6, VersionID: 1}, // the version as a whole
			{ID: 7, VersionID: 1, Anchor: &wire.RemarkAnchor{Page: 1, Rect: wr(pdfrender.Rect{X0: 80, Y0: 500, X1: 200, Y1: 560})}}, // unchanged page 1
		}
		got, err := c.MapRemarks(ctx, remarks)
		if err != nil {
			t.Fatal(err)
		}
		type res struct {
			id               int64
			oldPage, newPage int
			changed          bool
		}
		var have []res
		for _, m := range got {
			have = append(have, res{m.Remark.ID, m.OldPage, m.NewPage, m.Changed})
		}
		want := []res{{1, 1, 2, true}, {2, 1, 2, false}, {3, 2, 3, false}, {4, 1, 2, true}, {7, 0, 1, false}}
		if !slices.Equal(have, want) {
			t.Errorf("remarks %+v, want %+v", have, want)
		}
		if got[0].NewRect != got[0].OldRect {
			t.Errorf("same page size moved the place: %v → %v", got[0].OldRect, got[0].NewRect)
		}
		if !nearRect(got[0].OldRect, pdfrender.Rect{X0: 190, Y0: 490, X1: 280, Y1: 570}, 1e-9) {
			t.Errorf("anchor read back as %v", got[0].OldRect)
		}
	})

	t.Run("a reissued larger sheet maps places by scale", func(t *testing.T) {
		older := []samples.PageSpec{{Lines: pageLines(5, 3), Boxes: []samples.Rect{{X0: 100, Y0: 100, X1: 200, Y1: 200}}}}
		newer := []samples.PageSpec{{W: 842, H: 1191, Lines: pageLines(5, 3), Boxes: []samples.Rect{{X0: 100 * 842 / 595.0, Y0: 100 * 1191 / 842.0, X1: 200 * 842 / 595.0, Y1: 200 * 1191 / 842.0}}}}
		c := comparePDFs(t, older, newer)
		if _, err := c.Align(ctx); err != nil {
			t.Fatal(err)
		}
		d, err := c.Diff(ctx, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Resized {
			t.Error("pages of different sizes not reported resized")
		}
		got, err := c.MapRemarks(ctx, []wire.Remark{{ID: 1, VersionID: 1, Anchor: &wire.RemarkAnchor{Page: 1, Rect: &wire.Rect{X1: 100, Y1: 842 - 200, X2: 200, Y2: 842 - 100}}}})
		if err != nil || len(got) != 1 {
			t.Fatalf("mapped %v, %v", got, err)
		}
		want := pdfrender.Rect{X0: 100 * 842 / 595.0, Y0: 100 * 1191 / 842.0, X1: 200 * 842 / 595.0, Y1: 200 * 1191 / 842.0}
		if !nearRect(got[0].NewRect, want, 1e-6) {
			t.Errorf("place on the A3 sheet %v, want %v", got[0].NewRect, want)
		}
	})
}

func TestPreviousVersion(t *testing.T) {
	d := wire.Document{Versions: []wire.DocumentVersion{{ID: 30, Number: 3}, {ID: 20, Number: 2}, {ID: 10, Number: 1}}}
	tests := []struct {
		id   int64
		want int64
		ok   bool
	}{{30, 20, true}, {20, 10, true}, {10, 0, false}, {99, 0, false}}
	for _, tt := range tests {
		got, ok := PreviousVersion(d, wire.DocumentVersion{ID: tt.id})
		if ok != tt.ok || got.ID != tt.want {
			t.Errorf("before %d: %d %v, want %d %v", tt.id, got.ID, ok, tt.want, tt.ok)
		}
	}
}
