package ui

import (
	"context"
	"image"
	"image/color"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/pdfium"
	"github.com/expertiza/expertiza/app/pdfrender/samples"
	"github.com/expertiza/expertiza/sync/wire"
)

// One real renderer for the package's tests; its compilation cache is the
// one app/pdfrender's tests keep between runs, so only a machine's first
// run compiles PDFium (seconds).
var (
	viewerRendererOnce sync.Once
	viewerRenderer     *pdfium.Renderer
	viewerRendererErr  error
)

func testRenderers(t *testing.T) *app.Renderers {
	t.Helper()
	viewerRendererOnce.Do(func() {
		viewerRenderer, viewerRendererErr = pdfium.New(context.Background(), pdfium.Options{
			CacheDir:       filepath.Join(os.TempDir(), "expertiza-test-wazero-cache"),
			TileCacheBytes: 64 << 20,
		})
	})
	if viewerRendererErr != nil {
		t.Fatal(viewerRendererErr)
	}
	return app.NewRenderersWith(slog.New(slog.DiscardHandler), func(context.Context) (pdfrender.Renderer, error) {
		return viewerRenderer, nil
	})
}

// postQueue stands in for fyne.Do: the loader's goroutines are real, so
// what they hand to the UI waits here until the test runs it on its own
// goroutine.
type postQueue struct {
	mu  sync.Mutex
	fns []func()
}

func (q *postQueue) post(fn func()) {
	q.mu.Lock()
	q.fns = append(q.fns, fn)
	q.mu.Unlock()
}

func (q *postQueue) drain() {
	for {
		q.mu.Lock()
		fns := q.fns
		q.fns = nil
		q.mu.Unlock()
		if len(fns) == 0 {
			return
		}
		for _, f := range fns {
			f()
		}
	}
}

// pump runs what was posted until cond holds.
func (q *postQueue) pump(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		q.drain()
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// settled reports whether every picture the view wants has arrived.
func settled(vw *viewerWindow) func() bool {
	return func() bool {
		s := vw.sheet
		if vw.loader.Pending() > 0 {
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

type viewerFixture struct {
	vw *viewerWindow
	be *fakeBackend
	q  *postQueue
	e  *env
}

func openTestViewer(t *testing.T, pdf []byte) viewerFixture {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(400, 300))
	e.renderers = testRenderers(t)
	be := newFakeBackend(wire.User{ID: 30, Role: wire.RoleExpert})
	p := filepath.Join(t.TempDir(), "ПЗ.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	be.viewFiles = map[int64]string{11: p}
	q := &postQueue{}
	vw := openViewerWith(e, be, wire.DocumentVersion{ID: 11, FileName: "ПЗ.pdf", Kind: "pdf"}, q.post)
	q.drain()
	if vw.v == nil {
		t.Fatal("the viewer did not start")
	}
	vw.win.Resize(fyne.NewSize(1200, 860))
	t.Cleanup(func() { vw.win.Close() })
	q.pump(t, "the first screen", settled(vw))
	return viewerFixture{vw: vw, be: be, q: q, e: e}
}

func shortcut(vw *viewerWindow, k fyne.KeyName, mod fyne.KeyModifier) {
	vw.win.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: mod})
}

func TestViewerNavigationAndZoom(t *testing.T) {
	f := openTestViewer(t, samples.TextDoc())
	vw, q := f.vw, f.q
	s := vw.sheet
	if vw.pageTotal.Text != "из 3" || vw.pageEntry.Text != "1" {
		t.Fatalf("page field %q %q, want 1 из 3", vw.pageEntry.Text, vw.pageTotal.Text)
	}
	z, fit := vw.v.Zoom()
	if fit != app.FitWidth || vw.zoomLabel.Text != percent(z) {
		t.Errorf("opened at zoom %v (fit %d) labelled %q, want fit width", z, fit, vw.zoomLabel.Text)
	}
	if len(s.tiles) == 0 || len(s.previews) == 0 {
		t.Fatalf("nothing arrived: %d tiles, %d previews", len(s.tiles), len(s.previews))
	}

	// At fit page, Page Down turns one page.
	test.Tap(vw.fitPageBtn)
	q.pump(t, "fit page", settled(vw))
	steps := []struct {
		name string
		do   func()
		page string
	}{
		{"Page Down", func() { vw.typedKey(&fyne.KeyEvent{Name: fyne.KeyPageDown}) }, "2"},
		{"End", func() { vw.typedKey(&fyne.KeyEvent{Name: fyne.KeyEnd}) }, "3"},
		{"Home", func() { vw.typedKey(&fyne.KeyEvent{Name: fyne.KeyHome}) }, "1"},
		{"page typed in the field", func() { vw.pageEntry.SetText("2"); vw.pageEntry.OnSubmitted("2") }, "2"},
		{"a page that does not exist", func() { vw.pageEntry.SetText("9"); vw.pageEntry.OnSubmitted("9") }, "2"},
		{"Page Up", func() { vw.typedKey(&fyne.KeyEvent{Name: fyne.KeyPageUp}) }, "1"},
	}
	for _, st := range steps {
		st.do()
		q.drain()
		if vw.pageEntry.Text != st.page {
			t.Errorf("%s: page field %q, want %q", st.name, vw.pageEntry.Text, st.page)
		}
	}
	if !strings.Contains(vw.status.Text, "от 1 до 3") {
		t.Errorf("status after page 9: %q", vw.status.Text)
	}

	// Zoom in: the label follows and the tiles asked for are at the new
	// zoom; once they arrive none of the old zoom is kept.
	zooms := []struct {
		name string
		do   func()
		want func(before float64) float64
	}{
		{"zoom in button", func() { test.Tap(vw.zoomInBtn) }, nextStep},
		{"Ctrl+plus", func() { shortcut(vw, fyne.KeyEqual, fyne.KeyModifierShortcutDefault) }, nextStep},
		{"Ctrl+minus", func() { shortcut(vw, fyne.KeyMinus, fyne.KeyModifierShortcutDefault) }, prevStep},
		{"Ctrl+wheel", func() {
			vw.mods = func() fyne.KeyModifier { return fyne.KeyModifierControl }
			defer func() { vw.mods = func() fyne.KeyModifier { return 0 } }()
			s.Scrolled(&fyne.ScrollEvent{PointEvent: fyne.PointEvent{Position: s.offset.Add(fyne.NewPos(200, 200))}, Scrolled: fyne.NewDelta(0, 25)})
		}, func(b float64) float64 { return b * 1.1 }},
		{"Ctrl+0 fits the page", func() { shortcut(vw, fyne.Key0, fyne.KeyModifierShortcutDefault) }, func(float64) float64 {
			p := vw.v.Doc().Pages[vw.v.Page()]
			return min((float64(s.port.Width)-2*app.ViewerGap)/p.Width, (float64(s.port.Height)-2*app.ViewerGap)/p.Height)
		}},
	}
	for _, zt := range zooms {
		before, _ := vw.v.Zoom()
		zt.do()
		z, _ := vw.v.Zoom()
		if want := zt.want(before); z < want-0.001 || z > want+0.001 {
			t.Errorf("%s: zoom %.3f → %.3f, want %.3f", zt.name, before, z, want)
		}
		if vw.zoomLabel.Text != percent(z) {
			t.Errorf("%s: label %q at zoom %v", zt.name, vw.zoomLabel.Text, z)
		}
		for _, r := range s.wanted {
			if !r.Preview && r.View.Zoom != z*float64(s.scale) {
				t.Errorf("%s: tile %v asked at zoom %v, want %v", zt.name, r, r.View.Zoom, z)
			}
		}
		q.pump(t, zt.name+" tiles", settled(vw))
		n := 0
		for k := range s.tiles {
			if k.View.Zoom != z*float64(s.scale) {
				t.Errorf("%s: a tile of zoom %v kept", zt.name, k.View.Zoom)
			}
			n++
		}
		if n == 0 {
			t.Errorf("%s: no tile at the new zoom", zt.name)
		}
	}

	// The wheel without Ctrl scrolls.
	y := s.offset.Y
	test.Scroll(vw.win.Canvas(), fyne.NewPos(600, 400), 0, -100)
	if s.offset.Y <= y {
		t.Errorf("wheel did not scroll: offset %v → %v", y, s.offset.Y)
	}

	// Rotation turns the pages: page 1 becomes landscape.
	test.Tap(vw.rotateBtn)
	if r := s.lay.PageRect(0); r.Dx() <= r.Dy() || vw.v.Rotation() != 1 {
		t.Errorf("after rotating page 1 is %v", r)
	}
	q.pump(t, "rotated tiles", settled(vw))
}

func percent(z float64) string { return formatZoom(z) }

func nextStep(z float64) float64 {
	for _, s := range []float64{0.10, 0.25, 0.33, 0.50, 0.67, 0.75, 1, 1.25, 1.50, 2, 3, 4, 6, 8} {
		if s > z*1.001 {
			return s
		}
	}
	return 8
}

func prevStep(z float64) float64 {
	steps := []float64{0.10, 0.25, 0.33, 0.50, 0.67, 0.75, 1, 1.25, 1.50, 2, 3, 4, 6, 8}
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i] < z/1.001 {
			return steps[i]
		}
	}
	return 0.1
}

// The page shows its preview until tiles arrive, then the tiles.
func TestViewerPreviewThenTiles(t *testing.T) {
	f := openTestViewer(t, samples.TextDoc())
	s := f.vw.sheet
	s.tiles = map[app.TileReq]*image.RGBA{}
	s.previews = map[app.TileReq]*image.RGBA{}
	r0 := s.lay.PageRect(0)
	vp := s.viewportPx()
	// A point inside page 1, in frame pixels.
	at := image.Pt(r0.Min.X+20-vp.Min.X, r0.Min.Y+20-vp.Min.Y)
	w, h := vp.Dx(), vp.Dy()
	pixel := func() color.RGBA { return s.compose(w, h).(*image.RGBA).RGBAAt(at.X, at.Y) }
	if got := pixel(); got != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("a page with nothing yet is %v, want blank paper", got)
	}
	grey := image.NewRGBA(image.Rect(0, 0, 181, 256))
	for i := range grey.Pix {
		grey.Pix[i] = 0x80
	}
	previewKey := app.TileReq{Page: 0, View: pdfrender.View{Rotation: s.lay.View.Rotation}, Preview: true}
	s.arrived(app.TileResult{Req: previewKey, Image: grey})
	if got := pixel(); got.R < 0x70 || got.R > 0x90 {
		t.Errorf("with the preview only the page shows %v, want the preview's grey", got)
	}
	red := image.NewRGBA(image.Rect(0, 0, pdfrender.TileSize, pdfrender.TileSize))
	for i := 0; i < len(red.Pix); i += 4 {
		red.Pix[i], red.Pix[i+3] = 0xff, 0xff
	}
	tileKey := app.TileReq{Page: 0, View: s.lay.View}
	s.arrived(app.TileResult{Req: tileKey, Image: red})
	if got := pixel(); got != (color.RGBA{0xff, 0, 0, 0xff}) {
		t.Errorf("with the tile the page shows %v, want the tile", got)
	}
	// A tile of another zoom (a late answer) is not drawn.
	stale := tileKey
	stale.View.Zoom *= 2
	s.arrived(app.TileResult{Req: stale, Image: grey})
	if _, ok := s.tiles[stale]; ok {
		t.Error("a tile of a zoom no longer shown was kept")
	}
	// The desk shows between the pages.
	gap := image.Pt(r0.Min.X-vp.Min.X-2, at.Y)
	if got := s.compose(w, h).(*image.RGBA).RGBAAt(gap.X, gap.Y); got != (color.RGBA{deskColour.R, deskColour.G, deskColour.B, 0xff}) {
		t.Errorf("the gap shows %v", got)
	}
}

func TestViewerSearchOutlineSelection(t *testing.T) {
	f := openTestViewer(t, samples.TextDoc())
	vw, q := f.vw, f.q
	s := vw.sheet
	total := samples.TextDocOccurrences("проект")

	// Search: the hit count shows, the hits are drawn over the page.
	vw.win.Canvas().(fyne.Shortcutable).TypedShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault})
	if vw.win.Canvas().Focused() != vw.searchEntry {
		t.Error("Ctrl+F did not focus the search box")
	}
	test.Type(vw.searchEntry, "проект")
	vw.searchEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	q.drain()
	if want := "1 из " + strconv.Itoa(total); vw.hitsLabel.Text != want {
		t.Fatalf("hits label %q, want %q", vw.hitsLabel.Text, want)
	}
	if n := overlayFilled(s, hitFill) + overlayFilled(s, currentHitFill); n == 0 {
		t.Error("no hit highlighted")
	}
	test.Tap(vw.nextHitBtn)
	if want := "2 из " + strconv.Itoa(total); vw.hitsLabel.Text != want {
		t.Errorf("after next: %q, want %q", vw.hitsLabel.Text, want)
	}
	test.Tap(vw.prevHitBtn)
	test.Tap(vw.prevHitBtn)
	if want := strconv.Itoa(total) + " из " + strconv.Itoa(total); vw.hitsLabel.Text != want {
		t.Errorf("back past the first: %q, want %q", vw.hitsLabel.Text, want)
	}
	if vw.pageEntry.Text != "2" {
		t.Errorf("the last hit (page 2) is not in view: page %q", vw.pageEntry.Text)
	}
	vw.searchEntry.SetText("несуществующее")
	vw.searchEntry.TypedKey(&fyne.KeyEvent{Name: fyne.KeyReturn})
	q.drain()
	if vw.hitsLabel.Text != "Не найдено" || overlayFilled(s, hitFill)+overlayFilled(s, currentHitFill) != 0 {
		t.Errorf("nothing found: label %q", vw.hitsLabel.Text)
	}

	// Outline: the bookmarks are listed; one takes the view to its page.
	want := []string{"1. Пояснительная записка", "1.1 Общие сведения", "1.2 Повёрнутый лист", "2. Чертежи", "Внешняя ссылка"}
	if got := vw.outlineTitles(); !slices.Equal(got, want) {
		t.Fatalf("outline %v, want %v", got, want)
	}
	if !containsObject(vw.outlineBox, vw.outlineTree) {
		t.Error("the outline tree is not in the panel")
	}
	vw.outlineTree.Select("/1")
	q.drain()
	if vw.pageEntry.Text != "3" {
		t.Errorf("bookmark «2. Чертежи» led to page %q", vw.pageEntry.Text)
	}

	// Annotations stored in page 1 are outlined and listed; the one under
	// the pointer shows its text in the status line.
	vw.goToPage(0)
	q.pump(t, "page 1's annotations", func() bool { return len(s.annots[0]) == 2 })
	if overlayStroked(s, annotationLine) < 2 {
		t.Error("the annotations are not outlined")
	}
	if !strings.Contains(labelTexts(vw.annotBox), "Text · Иванов И. И.: Проверить сечение балки") {
		t.Errorf("annotations panel: %q", labelTexts(vw.annotBox))
	}
	sq := s.annots[0][1]
	r := s.lay.FromPage(0, sq.Rect)
	s.MouseMoved(&desktop.MouseEvent{PointEvent: fyne.PointEvent{Position: fyne.NewPos(float32(r.X0+r.X1)/2/s.scale, float32(r.Y0+r.Y1)/2/s.scale)}})
	if vw.status.Text != "Square · Петров П. П.: Замечание 1" {
		t.Errorf("status over the square: %q", vw.status.Text)
	}

	// Selecting by drag over the heading and Ctrl+C copies its text.
	hr := s.lay.FromPage(0, pdfrender.Rect{X0: 60, Y0: 50, X1: 500, Y1: 88})
	from := fyne.NewPos(float32(hr.X0)/s.scale, float32(hr.Y0)/s.scale)
	to := fyne.NewPos(float32(hr.X1)/s.scale, float32(hr.Y1)/s.scale)
	abs := fyne.CurrentApp().Driver().AbsolutePositionForObject(s)
	s.MouseDown(&desktop.MouseEvent{})
	test.Drag(vw.win.Canvas(), abs.Add(to), to.X-from.X, to.Y-from.Y)
	q.drain()
	if s.selPage != 0 || s.sel.Empty() || overlayFilled(s, selectionFill) != 1 {
		t.Fatalf("selection on page %d: %+v", s.selPage+1, s.sel)
	}
	if !strings.Contains(vw.selText, samples.TextDocHeading) {
		t.Fatalf("selected text %q, want the heading %q", vw.selText, samples.TextDocHeading)
	}
	vw.win.Canvas().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutCopy{})
	if got := f.e.app.Clipboard().Content(); got != vw.selText {
		t.Errorf("clipboard %q, want %q", got, vw.selText)
	}
	// A click elsewhere drops the selection.
	s.MouseDown(&desktop.MouseEvent{})
	if s.selPage != -1 || overlayFilled(s, selectionFill) != 0 || vw.selText != "" {
		t.Error("the selection survived a click")
	}
}

func TestViewerThumbnailsAndSidePanel(t *testing.T) {
	f := openTestViewer(t, samples.TextDoc())
	vw, q := f.vw, f.q
	vw.side.SelectIndex(1)
	vw.win.Content().Refresh()
	q.pump(t, "thumbnails", func() bool { return len(vw.thumbs) == 3 })
	for p, img := range vw.thumbs {
		if b := img.Bounds(); max(b.Dx(), b.Dy()) != app.ThumbSide {
			t.Errorf("thumbnail of page %d is %v", p+1, b)
		}
	}
	vw.thumbList.Select(2)
	q.drain()
	if vw.pageEntry.Text != "3" {
		t.Errorf("thumbnail 3 led to page %q", vw.pageEntry.Text)
	}
	test.Tap(vw.sideBtn)
	if vw.side.Visible() {
		t.Error("the side panel did not hide")
	}
	test.Tap(vw.sideBtn)
	if !vw.side.Visible() || !containsObject(vw.body, vw.split) {
		t.Error("the side panel did not come back")
	}
}

func TestViewerOpenFailsClearly(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(400, 300))
	e.renderers = testRenderers(t)
	be := newFakeBackend(wire.User{ID: 30, Role: wire.RoleExpert})
	p := filepath.Join(t.TempDir(), "broken.pdf")
	os.WriteFile(p, []byte("%PDF-1.7\nnot really"), 0o600)
	be.viewFiles = map[int64]string{5: p}
	q := &postQueue{}
	vw := openViewerWith(e, be, wire.DocumentVersion{ID: 5, FileName: "broken.pdf"}, q.post)
	q.drain()
	defer vw.win.Close()
	if vw.v != nil {
		t.Fatal("a damaged file opened")
	}
	if txt := labelTexts(vw.win.Content()); !strings.Contains(txt, "повреждён") {
		t.Errorf("window shows %q, want the reason", txt)
	}
}

// The Документы tab offers «Открыть» for PDF versions only, and it opens
// the version through the backend in a window of its own.
func TestDocumentsOpenButton(t *testing.T) {
	box := container.NewVBox()
	var opened []int64
	renderDocuments(box, []wire.Document{{ID: 1, Section: "07.01", Name: "ПЗ", Versions: []wire.DocumentVersion{
		{ID: 11, Number: 2, FileName: "ПЗ.pdf", Kind: "pdf"},
		{ID: 10, Number: 1, FileName: "ПЗ.xlsx", Kind: "xlsx"},
	}}}, versionActions{download: func(wire.DocumentVersion) {}, open: func(v wire.DocumentVersion) { opened = append(opened, v.ID) }})
	if n := countButtons(box, "Открыть"); n != 1 {
		t.Fatalf("%d «Открыть» buttons, want one (the PDF)", n)
	}
	test.Tap(findButton(box, "Открыть"))
	if !slices.Equal(opened, []int64{11}) {
		t.Errorf("opened %v", opened)
	}

	e, be, c := filesCard(t, wire.User{ID: 30, Role: wire.RoleExpert})
	e.renderers = testRenderers(t)
	windows := len(fyne.CurrentApp().Driver().AllWindows())
	test.Tap(findButton(c.files.list, "Открыть"))
	if !slices.Equal(be.viewOpens, []int64{11}) {
		t.Errorf("backend asked to open %v, want version 11", be.viewOpens)
	}
	all := fyne.CurrentApp().Driver().AllWindows()
	if len(all) != windows+1 {
		t.Fatalf("%d windows, want a new viewer window", len(all))
	}
	// The test backend has no file for it: the window says why.
	if txt := labelTexts(all[len(all)-1].Content()); !strings.Contains(txt, "Версия не найдена") {
		t.Errorf("viewer window shows %q", txt)
	}
	all[len(all)-1].Close()
}

func overlayFilled(s *pageSheet, c color.Color) int {
	n := 0
	for _, o := range s.overlay.Objects {
		if r, ok := o.(*canvas.Rectangle); ok && r.FillColor == c {
			n++
		}
	}
	return n
}

func overlayStroked(s *pageSheet, c color.Color) int {
	n := 0
	for _, o := range s.overlay.Objects {
		if r, ok := o.(*canvas.Rectangle); ok && r.StrokeColor == c && r.StrokeWidth > 0 {
			n++
		}
	}
	return n
}

func countButtons(o fyne.CanvasObject, text string) int {
	n := 0
	for _, x := range test.LaidOutObjects(o) {
		if b, ok := x.(*widget.Button); ok && b.Text == text {
			n++
		}
	}
	return n
}

// labelTexts is the text of every label laid out under o.
func labelTexts(o fyne.CanvasObject) string {
	var parts []string
	for _, x := range test.LaidOutObjects(o) {
		if l, ok := x.(*widget.Label); ok {
			parts = append(parts, l.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// A remark's place opens the viewer on its page with the place outlined,
// whatever page the reader was on.
func TestViewerShowsARemarkPlace(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(400, 300))
	e.renderers = testRenderers(t)
	be := newFakeBackend(wire.User{ID: 20, Role: wire.RoleApplicant})
	p := filepath.Join(t.TempDir(), "ПЗ.pdf")
	if err := os.WriteFile(p, samples.TextDoc(), 0o600); err != nil {
		t.Fatal(err)
	}
	be.viewFiles = map[int64]string{11: p}
	q := &postQueue{}
	rect := &wire.Rect{X1: 72, Y1: 500, X2: 300, Y2: 560} // bottom-left frame, as remarks store it
	vw := openViewerFocus(e, be, 0, wire.DocumentVersion{ID: 11, FileName: "ПЗ.pdf", Kind: "pdf"}, q.post, &viewerFocus{page: 3, rect: rect})
	q.drain()
	if vw.v == nil {
		t.Fatal("the viewer did not start")
	}
	vw.win.Resize(fyne.NewSize(1200, 860))
	t.Cleanup(func() { vw.win.Close() })
	q.pump(t, "the first screen", settled(vw))
	if !vw.focused {
		t.Fatal("the place was not shown")
	}
	page, r, ok := vw.focusRect()
	info := vw.v.Doc().Pages[2]
	if !ok || page != 2 || math.Abs(r.Y0-(info.Height-560)) > 0.01 || math.Abs(r.X0-72) > 0.01 {
		t.Fatalf("focus on page %d at %+v (page height %.1f), want page index 2 with y flipped", page, r, info.Height)
	}
	if got := vw.v.Page(); got != 2 {
		t.Errorf("the viewer is on page index %d, want 2", got)
	}
	if overlayStroked(vw.sheet, focusLine) == 0 {
		t.Error("the place is not outlined")
	}
}
