package ui

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/samples"
	"github.com/expertiza/expertiza/sync/wire"
)

// compareText is a page's worth of lines that differ from page to page.
func compareText(seed int) []string {
	words := strings.Fields("проект здание фундамент стена перекрытие кровля лестница колонна балка плита арматура бетон кирпич окно дверь шахта лифт вентиляция")
	lines := make([]string, 14)
	for i := range lines {
		var ws []string
		for k := range 6 {
			ws = append(ws, words[(seed*7+i*5+k*3+seed*i)%len(words)])
		}
		lines[i] = strings.Join(ws, " ")
	}
	return lines
}

// The compared versions: the new one has a page inserted after the first
// and, on its last page, the box widened (changedBox is what was added).
var (
	baseBox    = samples.Rect{X0: 80, Y0: 500, X1: 200, Y1: 560}
	changedBox = pdfrender.Rect{X0: 200, Y0: 500, X1: 300, Y1: 560}
)

func compareVersions() (old, new []byte) {
	var o, n []samples.PageSpec
	for i := range 3 {
		o = append(o, samples.PageSpec{Lines: compareText(i + 1), Boxes: []samples.Rect{baseBox}})
	}
	n = append(n, o[0], samples.PageSpec{Lines: compareText(40)}, o[1], o[2])
	n[3].Boxes = []samples.Rect{{X0: 80, Y0: 500, X1: 300, Y1: 560}}
	return samples.Pages(o), samples.Pages(n)
}

type compareFixture struct {
	cw *compareWindow
	be *fakeBackend
	q  *postQueue
}

// compareSettled reports whether every picture the view wants is there.
func compareSettled(cw *compareWindow) func() bool {
	return func() bool {
		s := cw.sheet
		if cw.loaders[0].Pending() > 0 || cw.loaders[1].Pending() > 0 {
			return false
		}
		for _, r := range s.wanted {
			if r.Preview && s.previews[r] == nil || !r.Preview && s.tiles[r] == nil {
				return false
			}
		}
		return true
	}
}

func openTestCompare(t *testing.T) compareFixture {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(400, 300))
	e.renderers = testRenderers(t)
	be := newFakeBackend(wire.User{ID: 30, Role: wire.RoleExpert})
	oldPDF, newPDF := compareVersions()
	dir := t.TempDir()
	po, pn := filepath.Join(dir, "АР-1.pdf"), filepath.Join(dir, "АР-2.pdf")
	for p, b := range map[string][]byte{po: oldPDF, pn: newPDF} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	be.viewFiles = map[int64]string{21: po, 22: pn}
	pi := pdfrender.PageInfo{Width: 595, Height: 842}
	over := app.RectToWire(pi, pdfrender.Rect{X0: 190, Y0: 490, X1: 290, Y1: 570})
	calm := app.RectToWire(pi, pdfrender.Rect{X0: 300, Y0: 700, X1: 400, Y1: 760})
	be.store.SetRemarks(7, []wire.Remark{
		{ID: 1, AppID: 7, Number: 1, VersionID: 21, Text: "Увеличить сечение", Anchor: &wire.RemarkAnchor{Page: 3, Rect: &over}},
		{ID: 2, AppID: 7, Number: 2, VersionID: 21, Text: "Уточнить отметку", Anchor: &wire.RemarkAnchor{Page: 1, Rect: &calm}},
		{ID: 3, AppID: 7, Number: 3, VersionID: 99, Text: "Другой файл", Anchor: &wire.RemarkAnchor{Page: 1}},
	})
	q := &postQueue{}
	cw := openCompareWith(e, be, 7, wire.DocumentVersion{ID: 21, Number: 1, FileName: "АР-1.pdf", Kind: "pdf", Review: wire.ReviewPending},
		wire.DocumentVersion{ID: 22, Number: 2, FileName: "АР-2.pdf", Kind: "pdf"}, q.post)
	q.drain()
	if cw.c == nil {
		t.Fatal("the comparison did not start")
	}
	cw.win.Resize(fyne.NewSize(1400, 900))
	t.Cleanup(func() { cw.win.Close() })
	q.pump(t, "alignment and remarks", func() bool { return cw.c.Aligned() && len(cw.remarks) > 0 })
	q.pump(t, "the first screen", compareSettled(cw))
	return compareFixture{cw: cw, be: be, q: q}
}

func TestCompareWindowAlignsAndSyncsZoom(t *testing.T) {
	f := openTestCompare(t)
	cw, q := f.cw, f.q
	s := cw.sheet
	if cw.status.Text != "Страницы сопоставлены по тексту" {
		t.Errorf("status %q", cw.status.Text)
	}
	var pairs []string
	for i := range s.lay.Rows() {
		r := s.lay.Row(i)
		pairs = append(pairs, strconv.Itoa(r.Old)+":"+strconv.Itoa(r.New))
	}
	if got := strings.Join(pairs, " "); got != "0:0 -1:1 1:2 2:3" {
		t.Fatalf("rows %s, want the inserted page alone on its row", got)
	}
	if cw.rowLabel.Text != "Было: стр. 1 · Стало: стр. 1 · изменений нет" {
		t.Errorf("row label %q", cw.rowLabel.Text)
	}
	if len(s.tiles) == 0 {
		t.Fatal("no tiles arrived")
	}
	sides := map[int]bool{}
	for k := range s.tiles {
		sides[k.Side] = true
	}
	if !sides[app.SideOld] || !sides[app.SideNew] {
		t.Errorf("tiles of one version only: %v", sides)
	}

	// One zoom for both: every step scales the old and the new page alike,
	// and a pair stays on one row.
	for _, step := range []struct {
		name string
		do   func()
	}{
		{"zoom in", func() { test.Tap(cw.zoomInBtn) }},
		{"zoom in again", func() { test.Tap(cw.zoomInBtn) }},
		{"zoom out", func() { test.Tap(cw.zoomOutBtn) }},
		{"fit width", func() { test.Tap(cw.fitBtn) }},
	} {
		step.do()
		q.pump(t, step.name, compareSettled(cw))
		z, _ := cw.c.Zoom()
		ro, rn := s.lay.PageRect(2, app.SideOld), s.lay.PageRect(2, app.SideNew)
		want := int(math.Ceil(595*z*float64(s.scale) - 1e-6))
		if ro.Dx() != want || rn.Dx() != want || ro.Min.Y != rn.Min.Y {
			t.Errorf("%s: old page %v, new page %v, want both %d px wide on one row", step.name, ro, rn, want)
		}
		if cw.zoomLabel.Text != formatZoom(z) {
			t.Errorf("%s: zoom label %q, want %q", step.name, cw.zoomLabel.Text, formatZoom(z))
		}
		for k := range s.tiles {
			if !k.Preview && k.View != s.lay.View {
				t.Errorf("%s: a tile of another zoom kept: %+v", step.name, k)
			}
		}
	}
	// One scroll moves both: the rows in view are the same for both sides.
	cw.typedKey(&fyne.KeyEvent{Name: fyne.KeyPageDown})
	q.pump(t, "page down", compareSettled(cw))
	if cw.row < 1 {
		t.Errorf("page down left the current row at %d", cw.row)
	}
}

func TestCompareWindowOverlayAndRemarks(t *testing.T) {
	f := openTestCompare(t)
	cw, q := f.cw, f.q
	s := cw.sheet

	// The remarks list: only remarks on the old version, flagged.
	if len(cw.remarks) != 2 {
		t.Fatalf("remarks %d, want 2 (the one on another file left out)", len(cw.remarks))
	}
	heads := []string{}
	for _, m := range cw.remarks {
		h, _ := remarkHead(m)
		heads = append(heads, h)
	}
	want := []string{"№1 · стр. 3 → 4 · изменено", "№2 · стр. 1 → 1 · без изменений"}
	if !slices.Equal(heads, want) {
		t.Errorf("list %q, want %q", heads, want)
	}
	item := cw.remarkList.CreateItem()
	cw.remarkList.UpdateItem(0, item)
	if l := item.(*fyne.Container).Objects[0].(*widget.Label); l.Importance != widget.WarningImportance {
		t.Errorf("changed remark shown with importance %v", l.Importance)
	}

	// Choosing the remark brings its place into view on both versions and
	// fills it.
	cw.remarkList.Select(0)
	q.pump(t, "jump to remark 1", compareSettled(cw))
	if cw.selected != 0 || cw.status.Text != "Увеличить сечение" {
		t.Errorf("selected %d, status %q", cw.selected, cw.status.Text)
	}
	vp := s.viewportPx()
	m := cw.remarks[0]
	row := s.lay.RowOf(app.SideNew, m.NewPage)
	for _, side := range []int{app.SideOld, app.SideNew} {
		r := m.NewRect
		if side == app.SideOld {
			r = m.OldRect
		}
		px := s.lay.FromPage(row, side, r)
		if !image.Rect(int(px.X0), int(px.Y0), int(px.X1), int(px.Y1)).In(vp) {
			t.Errorf("side %d: remark place %v outside the view %v", side, px, vp)
		}
	}
	if cw.row != row {
		t.Errorf("current row %d, want %d", cw.row, row)
	}
	filled := 0
	for _, o := range s.overlay.Objects {
		if rc, ok := o.(*canvas.Rectangle); ok && rc.FillColor == remarkSelFill {
			filled++
		}
	}
	if filled != 2 {
		t.Errorf("chosen remark filled on %d pages, want 2 (old and new)", filled)
	}
	changes := 0
	for _, o := range s.overlay.Objects {
		if rc, ok := o.(*canvas.Rectangle); ok && rc.StrokeColor == changeLine {
			changes++
		}
	}
	if changes != 2 {
		t.Errorf("changed place outlined %d times, want 2 (once per side)", changes)
	}

	// Overlay: one column, the old page under the new, the widened part of
	// the box green (only the new version has it).
	cw.mode.SetSelected("Наложение")
	q.pump(t, "overlay", compareSettled(cw))
	if s.lay.Mode != app.CompareOverlay || !cw.legend.Visible() {
		t.Fatalf("mode %d, legend shown %v", s.lay.Mode, cw.legend.Visible())
	}
	if s.lay.PageRect(row, app.SideOld) != s.lay.PageRect(row, app.SideNew) {
		t.Errorf("overlay: old page %v not under the new %v", s.lay.PageRect(row, app.SideOld), s.lay.PageRect(row, app.SideNew))
	}
	cw.jumpToRemark(0)
	q.pump(t, "overlay tiles", compareSettled(cw))
	vp = s.viewportPx()
	frame := s.compose(vp.Dx(), vp.Dy()).(*image.RGBA)
	at := func(r pdfrender.Rect) color.RGBA {
		px := s.lay.FromPage(row, app.SideNew, r)
		return frame.RGBAAt(int((px.X0+px.X1)/2)-vp.Min.X, int((px.Y0+px.Y1)/2)-vp.Min.Y)
	}
	if c := at(changedBox); c != app.OverlayAdded {
		t.Errorf("added part of the box drawn %v, want green %v", c, app.OverlayAdded)
	}
	if c := at(pdfrender.Rect{X0: baseBox.X0, Y0: baseBox.Y0, X1: baseBox.X1, Y1: baseBox.Y1}); c.R != c.G || c.R > 0x80 || c.R < 0x40 {
		t.Errorf("unchanged part of the box drawn %v, want grey", c)
	}

	// Back to side by side: two columns again.
	cw.mode.SetSelected("Рядом")
	q.pump(t, "side by side", compareSettled(cw))
	if s.lay.Mode != app.CompareSideBySide || cw.legend.Visible() {
		t.Errorf("mode %d, legend shown %v", s.lay.Mode, cw.legend.Visible())
	}
	if s.lay.PageRect(row, app.SideOld).Max.X > s.lay.PageRect(row, app.SideNew).Min.X {
		t.Errorf("old page %v not left of the new %v", s.lay.PageRect(row, app.SideOld), s.lay.PageRect(row, app.SideNew))
	}
}

func TestCompareNextChange(t *testing.T) {
	f := openTestCompare(t)
	cw, q := f.cw, f.q
	s := cw.sheet
	test.Tap(cw.nextBtn)
	q.pump(t, "next change", compareSettled(cw))
	// The only change is the widened box on the last page.
	if got := s.lay.CurrentRow(s.viewportPx()); got != 3 {
		t.Errorf("next change went to row %d, want 3", got)
	}
	test.Tap(cw.nextBtn)
	q.pump(t, "no more", compareSettled(cw))
	if cw.status.Text != "Дальше изменений нет" {
		t.Errorf("status %q", cw.status.Text)
	}
}

func TestDocumentsOfferCompare(t *testing.T) {
	box := container.NewVBox()
	var compared []int64
	docs := []wire.Document{{ID: 1, Section: "07.03", Name: "АР", Versions: []wire.DocumentVersion{
		{ID: 22, Number: 2, FileName: "АР-2.pdf", Kind: "pdf", Review: wire.ReviewPending},
		{ID: 21, Number: 1, FileName: "АР-1.pdf", Kind: "pdf", Review: wire.ReviewPending},
	}}}
	renderDocuments(box, docs, versionActions{download: func(wire.DocumentVersion) {}, open: func(wire.DocumentVersion) {}, compare: func(d wire.Document, v wire.DocumentVersion) {
		prev, _ := app.PreviousVersion(d, v)
		compared = append(compared, prev.ID, v.ID)
	}})
	var buttons []*widget.Button
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Сравнить с предыдущей" {
			buttons = append(buttons, b)
		}
		if c, ok := o.(*fyne.Container); ok {
			for _, k := range c.Objects {
				walk(k)
			}
		}
	}
	walk(box)
	if len(buttons) != 1 {
		t.Fatalf("%d compare buttons, want 1 (the first version has nothing before it)", len(buttons))
	}
	test.Tap(buttons[0])
	if !slices.Equal(compared, []int64{21, 22}) {
		t.Errorf("compared %v, want 21 → 22", compared)
	}
}
