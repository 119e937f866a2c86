package ui

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/sync/wire"
)

// viewerWindow is the PDF viewer. Each document opens in a window of its
// own, as in desktop PDF tools: an expert keeps the card (remarks, chat)
// beside the drawing, on a second screen if there is one, and compares
// two volumes side by side. The page view (pageSheet) is in the middle,
// the toolbar above it, bookmarks, page thumbnails and the annotations
// stored in the file in a side panel, and a status line below.
//
// Annotations stored in the file are drawn by the renderer in the tiles,
// as the author's PDF tool made them (stamps, notes: they are part of the
// document as received); the viewer adds a thin outline over each, shows
// its author and text in the status line when the pointer is over it, and
// lists the page's annotations in the side panel. The client's own
// annotations, search hits and the selection are overlays, never in tiles.
type viewerWindow struct {
	env   *env
	win   fyne.Window
	v     *app.Viewer
	be    backend
	appID int64 // the version's application (0: unknown, no annotations)

	ctx    context.Context // ends when the window closes
	cancel context.CancelFunc
	// post runs a function on the UI goroutine (env.onMain; tests queue
	// it and run it themselves, since the loader's goroutines are real).
	post func(func())
	// mods reports the keyboard modifiers held (Ctrl+wheel zooms).
	mods func() fyne.KeyModifier

	loader      *app.TileLoader
	thumbLoader *app.TileLoader

	sheet  *pageSheet
	scroll *container.Scroll
	page   int // shown in the page field

	pageEntry   *widget.Entry
	pageTotal   *widget.Label
	zoomLabel   *widget.Label
	zoomInBtn   *widget.Button
	zoomOutBtn  *widget.Button
	fitWidthBtn *widget.Button
	fitPageBtn  *widget.Button
	rotateBtn   *widget.Button
	sideBtn     *widget.Button

	searchEntry  *widget.Entry
	hitsLabel    *widget.Label
	prevHitBtn   *widget.Button
	nextHitBtn   *widget.Button
	searchCancel context.CancelFunc
	searchQuery  string
	jumpedToHit  bool

	side         *container.AppTabs
	split        *container.Split
	body         *fyne.Container
	outlineNodes map[widget.TreeNodeID]pdfrender.OutlineItem
	outlineKids  map[widget.TreeNodeID][]widget.TreeNodeID
	outlineTree  *widget.Tree
	outlineBox   *fyne.Container
	thumbs       map[int]*image.RGBA
	thumbRecent  []int
	thumbList    *widget.List
	annotBox     *fyne.Container
	status       *widget.Label
	annots       *annotLayer // the experts' annotations; nil for applicants

	selText string
	closed  bool

	// focus is a place to show when the document is open (a remark's
	// anchor), outlined until the window closes; focused: shown once.
	focus   *viewerFocus
	focused bool
}

// viewerFocus is a place on a page, in wire's frame (bottom-left, y up).
type viewerFocus struct {
	page int // 1-based, as remarks count pages
	rect *wire.Rect
}

// openViewerAt opens a version and scrolls to a place on one of its
// pages, outlined: how a remark shows where it points.
func openViewerAt(e *env, be backend, appID int64, ver wire.DocumentVersion, page int, rect *wire.Rect) *viewerWindow {
	return openViewerFocus(e, be, appID, ver, e.onMain, &viewerFocus{page: page, rect: rect})
}

// focusRect is the focus in the viewer's page frame, or false when there
// is none or it names no page of the document.
func (vw *viewerWindow) focusRect() (int, pdfrender.Rect, bool) {
	f := vw.focus
	if f == nil || vw.v == nil || f.page < 1 || f.page > vw.v.PageCount() {
		return 0, pdfrender.Rect{}, false
	}
	p := vw.v.Doc().Pages[f.page-1]
	if f.rect == nil {
		return f.page - 1, pdfrender.Rect{X0: 0, Y0: 0, X1: p.Width, Y1: p.Height}, true
	}
	return f.page - 1, app.RectFromWire(p, *f.rect), true
}

// showFocus scrolls the focus into view once the view has its size.
func (vw *viewerWindow) showFocus() {
	if vw.focused {
		return
	}
	page, r, ok := vw.focusRect()
	if !ok {
		return
	}
	vw.focused = true
	vw.showHit(pdfrender.Hit{Page: page, Rects: []pdfrender.Rect{r}})
}

// openViewer opens version ver of a document in a new viewer window: the
// window appears at once with "opening…", the file is fetched into the
// local cache if needed and opened off the UI goroutine.
func openViewer(e *env, be backend, appID int64, ver wire.DocumentVersion) *viewerWindow {
	return openViewerFor(e, be, appID, ver, e.onMain)
}

// openViewerWith opens a version whose application the Store knows from
// its documents.
func openViewerWith(e *env, be backend, ver wire.DocumentVersion, post func(func())) *viewerWindow {
	return openViewerFor(e, be, versionApp(be.Store(), ver.ID), ver, post)
}

// versionApp finds the application a version belongs to among the
// documents the Store holds (0 when none).
func versionApp(st *app.Store, versionID int64) int64 {
	for _, a := range st.Applications() {
		for _, d := range st.Documents(a.ID) {
			for _, v := range d.Versions {
				if v.ID == versionID {
					return a.ID
				}
			}
		}
	}
	return 0
}

func openViewerFor(e *env, be backend, appID int64, ver wire.DocumentVersion, post func(func())) *viewerWindow {
	return openViewerFocus(e, be, appID, ver, post, nil)
}

func openViewerFocus(e *env, be backend, appID int64, ver wire.DocumentVersion, post func(func()), focus *viewerFocus) *viewerWindow {
	w := e.app.NewWindow(ver.FileName)
	vw := &viewerWindow{env: e, win: w, be: be, appID: appID, post: post, mods: currentModifiers, page: -1, focus: focus}
	vw.ctx, vw.cancel = context.WithCancel(e.ctx)
	w.SetContent(container.NewCenter(widget.NewLabel(lang.L("viewer.opening", map[string]any{"Name": ver.FileName}))))
	w.Resize(fyne.NewSize(1200, 860))
	w.SetOnClosed(vw.close)
	w.Show()
	e.spawn(func() {
		v, err := vw.open(be, ver)
		post(func() {
			if vw.closed {
				if v != nil {
					e.spawn(func() { _ = v.Close(context.Background()) })
				}
				return
			}
			if err != nil {
				l := widget.NewLabel(message(err))
				l.Wrapping = fyne.TextWrapWord
				l.Importance = widget.DangerImportance
				w.SetContent(container.NewPadded(l))
				return
			}
			vw.start(v)
		})
	})
	return vw
}

func (vw *viewerWindow) open(be backend, ver wire.DocumentVersion) (*app.Viewer, error) {
	if vw.env.renderers == nil {
		return nil, errors.New("viewer: no PDF renderer in this environment")
	}
	r, err := vw.env.renderers.Get(vw.ctx)
	if err != nil {
		return nil, err
	}
	return be.OpenVersion(vw.ctx, r, ver)
}

// currentModifiers asks the desktop driver which modifier keys are held.
func currentModifiers() fyne.KeyModifier {
	if d, ok := fyne.CurrentApp().Driver().(desktop.Driver); ok {
		return d.CurrentKeyModifiers()
	}
	return 0
}

// close ends everything the window started: the searches, the loaders
// (waiting for a render in progress) and the document, off the UI
// goroutine.
func (vw *viewerWindow) close() {
	if vw.closed {
		return
	}
	vw.closed = true
	if vw.annots != nil {
		vw.annots.close()
	}
	vw.cancel()
	loaders := []*app.TileLoader{vw.loader, vw.thumbLoader}
	v := vw.v
	vw.env.spawn(func() {
		for _, l := range loaders {
			if l != nil {
				l.Close()
			}
		}
		if v != nil {
			if err := v.Close(context.Background()); err != nil {
				vw.env.log.Warn("close document", "err", err)
			}
		}
	})
}

// viewerCall runs work off the UI goroutine for this window and hands the
// result to done on the UI goroutine, unless the window closed meanwhile.
func viewerCall[T any](vw *viewerWindow, what string, work func(context.Context) (T, error), done func(T, error)) {
	parent := vw.ctx
	vw.env.spawn(func() {
		ctx, cancel := context.WithTimeout(parent, callTimeout)
		defer cancel()
		v, err := work(ctx)
		if err != nil && parent.Err() == nil {
			vw.env.log.Warn("viewer call failed", "what", what, "err", err)
		}
		vw.post(func() {
			if !vw.closed {
				done(v, err)
			}
		})
	})
}

// start builds the viewer around an open document.
func (vw *viewerWindow) start(v *app.Viewer) {
	vw.v = v
	vw.loader = app.NewTileLoader(v.Renderer(), v.Doc().ID, 2, func(r app.TileResult) {
		vw.post(func() {
			if !vw.closed {
				vw.sheet.arrived(r)
			}
		})
	})
	vw.thumbLoader = app.NewTileLoader(v.Renderer(), v.Doc().ID, 1, func(r app.TileResult) {
		vw.post(func() {
			if !vw.closed {
				vw.thumbArrived(r)
			}
		})
	})
	vw.sheet = newPageSheet(vw)
	vw.scroll = container.NewScroll(vw.sheet)
	vw.scroll.OnScrolled = func(p fyne.Position) {
		vw.sheet.offset = p
		vw.sheet.update()
	}
	view := container.New(&viewportLayout{resized: vw.viewportResized}, vw.scroll)

	vw.pageEntry = widget.NewEntry()
	vw.pageEntry.OnSubmitted = vw.jumpTyped
	vw.pageTotal = widget.NewLabel(lang.L("viewer.page_of", map[string]any{"N": v.PageCount()}))
	vw.zoomLabel = widget.NewLabel("")
	vw.zoomOutBtn = widget.NewButtonWithIcon("", theme.ZoomOutIcon(), vw.zoomOut)
	vw.zoomInBtn = widget.NewButtonWithIcon("", theme.ZoomInIcon(), vw.zoomIn)
	vw.fitWidthBtn = widget.NewButtonWithIcon(lang.L("viewer.fit_width"), theme.ViewFullScreenIcon(), func() { vw.fit(app.FitWidth) })
	vw.fitPageBtn = widget.NewButtonWithIcon(lang.L("viewer.fit_page"), theme.ViewRestoreIcon(), func() { vw.fit(app.FitPage) })
	vw.rotateBtn = widget.NewButtonWithIcon(lang.L("viewer.rotate"), theme.ViewRefreshIcon(), vw.rotate)
	vw.sideBtn = widget.NewButtonWithIcon(lang.L("viewer.panel"), theme.MenuIcon(), vw.toggleSide)
	vw.searchEntry = widget.NewEntry()
	vw.searchEntry.SetPlaceHolder(lang.L("viewer.search_placeholder"))
	vw.searchEntry.OnSubmitted = vw.runSearch
	vw.hitsLabel = widget.NewLabel("")
	vw.prevHitBtn = widget.NewButtonWithIcon("", theme.MoveUpIcon(), func() { vw.stepHit(-1) })
	vw.nextHitBtn = widget.NewButtonWithIcon("", theme.MoveDownIcon(), func() { vw.stepHit(1) })
	for _, b := range []*widget.Button{vw.zoomOutBtn, vw.zoomInBtn, vw.fitWidthBtn, vw.fitPageBtn, vw.rotateBtn, vw.sideBtn, vw.prevHitBtn, vw.nextHitBtn} {
		b.Importance = widget.LowImportance
	}
	entryH := vw.pageEntry.MinSize().Height
	toolbar := container.NewHBox(
		vw.sideBtn, widget.NewSeparator(),
		container.NewGridWrap(fyne.NewSize(64, entryH), vw.pageEntry), vw.pageTotal, widget.NewSeparator(),
		vw.zoomOutBtn, container.NewGridWrap(fyne.NewSize(64, entryH), vw.zoomLabel), vw.zoomInBtn,
		vw.fitWidthBtn, vw.fitPageBtn, vw.rotateBtn,
		layout.NewSpacer(),
		container.NewGridWrap(fyne.NewSize(240, entryH), vw.searchEntry), vw.prevHitBtn, vw.nextHitBtn, vw.hitsLabel,
	)
	vw.status = widget.NewLabel(lang.L("viewer.hint"))
	vw.status.Truncation = fyne.TextTruncateEllipsis

	vw.outlineBox = container.NewStack(widget.NewLabel(lang.L("common.loading")))
	vw.thumbs = map[int]*image.RGBA{}
	vw.thumbList = widget.NewList(v.PageCount, vw.newThumbItem, vw.updateThumbItem)
	vw.thumbList.OnSelected = func(id widget.ListItemID) { vw.goToPage(id) }
	vw.annotBox = container.NewVBox()
	vw.side = container.NewAppTabs(
		container.NewTabItem(lang.L("viewer.tab.outline"), vw.outlineBox),
		container.NewTabItem(lang.L("viewer.tab.pages"), vw.thumbList),
		container.NewTabItem(lang.L("viewer.tab.annots"), container.NewVScroll(vw.annotBox)),
	)
	vw.annots = newAnnotLayer(vw, vw.be, vw.appID)
	top := container.NewVBox(toolbar)
	if vw.annots != nil {
		vw.side.Append(container.NewTabItem(lang.L("viewer.tab.marks"), vw.annots.panel))
		toolbar.Objects = slices.Insert(toolbar.Objects, 4, fyne.CanvasObject(vw.annots.presence)) // beside «из N»
		if vw.annots.toolbar != nil {
			top.Add(container.NewHScroll(vw.annots.toolbar))
		}
	}
	vw.split = container.NewHSplit(vw.side, view)
	vw.split.Offset = 0.2
	vw.body = container.NewStack(vw.split)
	top.Add(widget.NewSeparator())
	vw.win.SetContent(container.NewBorder(top, vw.status, nil, nil, vw.body))
	vw.addShortcuts()
	vw.showZoom()
	vw.loadOutline()
	if vw.annots != nil {
		vw.annots.startPresence()
	}
}

// viewportLayout fills its container with the scroll view and reports
// the viewport's size whenever it changes: a window resize re-fits the
// zoom and asks for the tiles the new area shows.
type viewportLayout struct {
	resized func(fyne.Size)
	last    fyne.Size
}

func (l *viewportLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(120, 120) }

func (l *viewportLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
	if size != l.last {
		l.last = size
		l.resized(size)
	}
}

func (vw *viewerWindow) canvasScale() float32 {
	if s := vw.win.Canvas().Scale(); s > 0 {
		return s
	}
	return 1
}

func (vw *viewerWindow) viewportResized(size fyne.Size) {
	s := vw.sheet
	s.port = size
	vw.zoomTo(func() float64 { return vw.v.ApplyFit(float64(size.Width), float64(size.Height)) }, fyne.NewPos(0, 0))
	if size.Width > 0 && size.Height > 0 {
		vw.showFocus()
	}
}

// zoomTo applies a change of zoom or rotation and keeps the page point
// that was under anchor (viewport units) under it; in a gap it keeps the
// current page's top at the top.
func (vw *viewerWindow) zoomTo(apply func() float64, anchor fyne.Position) {
	s := vw.sheet
	page, x, y, ok := s.pagePoint(s.offset.Add(anchor))
	if s.lay == nil {
		page, ok = 0, false
	} else if !ok {
		page = max(vw.page, 0)
	}
	apply()
	s.relayout()
	var target fyne.Position
	if ok {
		r := s.lay.FromPage(page, pdfrender.Rect{X0: x, Y0: y, X1: x, Y1: y})
		target = fyne.NewPos(float32(r.X0)/s.scale-anchor.X, float32(r.Y0)/s.scale-anchor.Y)
	} else {
		target = fyne.NewPos(s.offset.X, vw.pageTop(page))
	}
	vw.scrollTo(target)
	vw.showZoom()
}

// pageTop is the scroll offset (units) that shows page i at the top with
// the gap above it.
func (vw *viewerWindow) pageTop(i int) float32 {
	s := vw.sheet
	return float32(s.lay.PageRect(i).Min.Y)/s.scale - app.ViewerGap
}

// scrollTo moves the view to p (units), clamped to the document.
func (vw *viewerWindow) scrollTo(p fyne.Position) {
	s := vw.sheet
	content := s.MinSize().Max(vw.scroll.Size())
	s.Resize(content)
	p.X = min(max(p.X, 0), max(content.Width-s.port.Width, 0))
	p.Y = min(max(p.Y, 0), max(content.Height-s.port.Height, 0))
	vw.scroll.Offset = p
	vw.scroll.Refresh()
	s.offset = vw.scroll.Offset
	s.update()
}

func (vw *viewerWindow) scrollBy(dx, dy float32) {
	vw.scrollTo(vw.sheet.offset.Add(fyne.NewDelta(dx, dy)))
}

func (vw *viewerWindow) showZoom() {
	z, _ := vw.v.Zoom()
	vw.zoomLabel.SetText(formatZoom(z))
}

func formatZoom(z float64) string { return fmt.Sprintf("%d %%", int(math.Round(z*100))) }

func (vw *viewerWindow) centre() fyne.Position {
	return fyne.NewPos(vw.sheet.port.Width/2, vw.sheet.port.Height/2)
}

func (vw *viewerWindow) zoomIn()  { vw.zoomTo(vw.v.ZoomIn, vw.centre()) }
func (vw *viewerWindow) zoomOut() { vw.zoomTo(vw.v.ZoomOut, vw.centre()) }

func (vw *viewerWindow) fit(f app.Fit) {
	vw.v.SetFit(f)
	port := vw.sheet.port
	vw.zoomTo(func() float64 { return vw.v.ApplyFit(float64(port.Width), float64(port.Height)) }, vw.centre())
}

func (vw *viewerWindow) rotate() {
	port := vw.sheet.port
	vw.zoomTo(func() float64 {
		vw.v.Rotate()
		return vw.v.ApplyFit(float64(port.Width), float64(port.Height))
	}, vw.centre())
}

func (vw *viewerWindow) toggleSide() {
	if vw.side.Visible() {
		vw.side.Hide()
		vw.body.Objects = []fyne.CanvasObject{vw.split.Trailing}
	} else {
		vw.side.Show()
		vw.split.Trailing = vw.body.Objects[0]
		vw.body.Objects = []fyne.CanvasObject{vw.split}
		vw.split.Refresh()
	}
	vw.body.Refresh()
}

// pageInView is told the page under the viewport's middle.
func (vw *viewerWindow) pageInView(p int) {
	if p == vw.page {
		return
	}
	vw.page = vw.v.SetPage(p)
	if vw.win.Canvas().Focused() != vw.pageEntry {
		vw.pageEntry.SetText(strconv.Itoa(vw.page + 1))
	}
	vw.showAnnotations()
	if vw.annots != nil {
		vw.annots.pageChanged()
	}
}

func (vw *viewerWindow) goToPage(p int) {
	p = min(max(p, 0), vw.v.PageCount()-1)
	vw.scrollTo(fyne.NewPos(vw.sheet.offset.X, vw.pageTop(p)))
}

// jumpTyped goes to the page number typed in the page field.
func (vw *viewerWindow) jumpTyped(s string) {
	p, err := vw.v.ParsePage(s)
	if err != nil {
		vw.setStatus(message(err))
		vw.pageEntry.SetText(strconv.Itoa(vw.page + 1))
		return
	}
	vw.goToPage(p)
	vw.win.Canvas().Unfocus()
}

func (vw *viewerWindow) setStatus(s string) { vw.status.SetText(s) }

func (vw *viewerWindow) pageFailed(page int, err error) {
	vw.setStatus(lang.L("viewer.page_failed", map[string]any{"N": page + 1, "Reason": message(err)}))
}

// typedKey scrolls with the keyboard when no field has the focus.
func (vw *viewerWindow) typedKey(ev *fyne.KeyEvent) {
	if vw.sheet == nil {
		return
	}
	page := vw.sheet.port.Height * 0.9
	const step = 40
	switch ev.Name {
	case fyne.KeyPageDown, fyne.KeySpace:
		vw.scrollBy(0, page)
	case fyne.KeyPageUp:
		vw.scrollBy(0, -page)
	case fyne.KeyDown:
		vw.scrollBy(0, step)
	case fyne.KeyUp:
		vw.scrollBy(0, -step)
	case fyne.KeyRight:
		vw.scrollBy(step, 0)
	case fyne.KeyLeft:
		vw.scrollBy(-step, 0)
	case fyne.KeyHome:
		vw.scrollTo(fyne.NewPos(vw.sheet.offset.X, 0))
	case fyne.KeyEnd:
		vw.scrollTo(fyne.NewPos(vw.sheet.offset.X, vw.sheet.MinSize().Height))
	case fyne.KeyDelete:
		if vw.annots != nil {
			vw.annots.deleteSelected()
		}
	case fyne.KeyEscape:
		if vw.annots != nil {
			vw.annots.cancel()
		}
	}
}

// addShortcuts binds the keyboard: Ctrl+plus/minus zoom (Ctrl+= too, and
// with Shift, as keyboards send plus), Ctrl+0 fits the page, Ctrl+F goes
// to the search box, Ctrl+C copies the selected text.
func (vw *viewerWindow) addShortcuts() {
	c := vw.win.Canvas()
	c.SetOnTypedKey(vw.typedKey)
	ctrl := fyne.KeyModifierShortcutDefault
	bind := func(k fyne.KeyName, mod fyne.KeyModifier, fn func()) {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: mod}, func(fyne.Shortcut) { fn() })
	}
	for _, k := range []fyne.KeyName{fyne.KeyEqual, fyne.KeyPlus} {
		bind(k, ctrl, vw.zoomIn)
		bind(k, ctrl|fyne.KeyModifierShift, vw.zoomIn)
	}
	bind(fyne.KeyMinus, ctrl, vw.zoomOut)
	bind(fyne.Key0, ctrl, func() { vw.fit(app.FitPage) })
	bind(fyne.KeyF, ctrl, func() { c.Focus(vw.searchEntry) })
	c.AddShortcut(&fyne.ShortcutCopy{}, func(fyne.Shortcut) { vw.copySelection() })
	if a := vw.annots; a != nil && a.tools {
		// Undo: Ctrl+Z; redo: Ctrl+Y or Ctrl+Shift+Z. Fyne's own
		// undo/redo shortcuts reach a focused entry first, so typing in
		// the search box is not affected.
		bind(fyne.KeyZ, ctrl, a.undo)
		bind(fyne.KeyY, ctrl, a.redo)
		bind(fyne.KeyZ, ctrl|fyne.KeyModifierShift, a.redo)
		c.AddShortcut(&fyne.ShortcutUndo{}, func(fyne.Shortcut) { a.undo() })
		c.AddShortcut(&fyne.ShortcutRedo{}, func(fyne.Shortcut) { a.redo() })
	}
}

// selectionDone reads the text under a finished drag selection.
func (vw *viewerWindow) selectionDone(page int, r pdfrender.Rect) {
	vw.selText = ""
	if page < 0 || r.Empty() {
		return
	}
	v := vw.v
	viewerCall(vw, "text in selection", func(ctx context.Context) (string, error) {
		return v.TextInRect(ctx, page, r)
	}, func(t string, err error) {
		if err != nil {
			vw.setStatus(message(err))
			return
		}
		if strings.TrimSpace(t) == "" {
			vw.setStatus(lang.L("viewer.no_text"))
			return
		}
		vw.selText = t
		vw.setStatus(lang.L("viewer.selected", map[string]any{"N": utf8.RuneCountInString(t)}))
	})
}

func (vw *viewerWindow) copySelection() {
	if vw.selText == "" {
		return
	}
	vw.env.app.Clipboard().SetContent(vw.selText)
	vw.setStatus(lang.L("viewer.copied", map[string]any{"N": utf8.RuneCountInString(vw.selText)}))
}

// runSearch searches the whole document in the background; the count
// grows as pages are searched and the view jumps to the first hit at or
// after the page being read. Enter again on the same words goes to the
// next hit.
func (vw *viewerWindow) runSearch(q string) {
	q = strings.TrimSpace(q)
	if q != "" && q == vw.searchQuery && vw.v.SearchStatus().Done {
		vw.stepHit(1)
		return
	}
	if vw.searchCancel != nil {
		vw.searchCancel()
	}
	ctx, cancel := context.WithCancel(vw.ctx)
	vw.searchCancel = cancel
	vw.searchQuery, vw.jumpedToHit = q, false
	v := vw.v
	vw.env.spawn(func() {
		st, err := v.Search(ctx, q, func(st app.SearchStatus) {
			vw.post(func() { vw.searchProgress(st) })
		})
		vw.post(func() {
			if vw.closed || ctx.Err() != nil && err != nil {
				return
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				vw.setStatus(message(err))
				return
			}
			if err == nil {
				vw.searchProgress(st)
			}
		})
	})
}

func (vw *viewerWindow) searchProgress(st app.SearchStatus) {
	if vw.closed || st.Query != vw.searchQuery {
		return
	}
	switch {
	case st.Query == "":
		vw.hitsLabel.SetText("")
	case !st.Done:
		vw.hitsLabel.SetText(lang.L("viewer.searching", map[string]any{"Done": st.Searched, "Pages": st.Pages, "Hits": st.Hits}))
	case st.Hits == 0:
		vw.hitsLabel.SetText(lang.L("viewer.no_hits"))
	default:
		vw.hitsLabel.SetText(lang.L("viewer.hits", map[string]any{"N": st.Current + 1, "Total": st.Hits}))
	}
	if !vw.jumpedToHit && st.Current >= 0 {
		if h, ok := vw.v.CurrentHit(); ok {
			vw.jumpedToHit = true
			vw.showHit(h)
			return
		}
	}
	vw.sheet.refreshOverlay()
}

func (vw *viewerWindow) stepHit(d int) {
	var h pdfrender.Hit
	var ok bool
	if d > 0 {
		h, ok = vw.v.NextHit()
	} else {
		h, ok = vw.v.PrevHit()
	}
	if !ok {
		return
	}
	vw.searchProgress(vw.v.SearchStatus())
	vw.showHit(h)
}

// showHit scrolls the hit into view (a third of the way down) when it is
// not already in view, and redraws the highlights.
func (vw *viewerWindow) showHit(h pdfrender.Hit) {
	s := vw.sheet
	var r pdfrender.Rect
	for _, x := range h.Rects {
		r = r.Union(x)
	}
	px := s.lay.FromPage(h.Page, r)
	x0, y0 := float32(px.X0)/s.scale, float32(px.Y0)/s.scale
	x1, y1 := float32(px.X1)/s.scale, float32(px.Y1)/s.scale
	o, port := s.offset, s.port
	if x0 >= o.X && x1 <= o.X+port.Width && y0 >= o.Y && y1 <= o.Y+port.Height {
		s.refreshOverlay()
		return
	}
	target := o
	if x0 < o.X || x1 > o.X+port.Width {
		target.X = (x0+x1)/2 - port.Width/2
	}
	if y0 < o.Y || y1 > o.Y+port.Height {
		target.Y = y0 - port.Height/3
	}
	vw.scrollTo(target)
}

// loadOutline fills the bookmarks panel.
func (vw *viewerWindow) loadOutline() {
	v := vw.v
	viewerCall(vw, "outline", v.Outline, func(items []pdfrender.OutlineItem, err error) {
		if err != nil {
			vw.outlineBox.Objects = []fyne.CanvasObject{widget.NewLabel(message(err))}
			vw.outlineBox.Refresh()
			return
		}
		vw.setOutline(items)
	})
}

func (vw *viewerWindow) setOutline(items []pdfrender.OutlineItem) {
	vw.outlineNodes = map[widget.TreeNodeID]pdfrender.OutlineItem{}
	vw.outlineKids = map[widget.TreeNodeID][]widget.TreeNodeID{}
	var add func(parent widget.TreeNodeID, items []pdfrender.OutlineItem)
	add = func(parent widget.TreeNodeID, items []pdfrender.OutlineItem) {
		for i, it := range items {
			id := parent + "/" + strconv.Itoa(i)
			vw.outlineNodes[id] = it
			vw.outlineKids[parent] = append(vw.outlineKids[parent], id)
			add(id, it.Children)
		}
	}
	add("", items)
	if len(items) == 0 {
		l := widget.NewLabel(lang.L("viewer.no_outline"))
		l.Wrapping = fyne.TextWrapWord
		vw.outlineBox.Objects = []fyne.CanvasObject{l}
		vw.outlineBox.Refresh()
		return
	}
	vw.outlineTree = widget.NewTree(
		func(id widget.TreeNodeID) []widget.TreeNodeID { return vw.outlineKids[id] },
		func(id widget.TreeNodeID) bool { return len(vw.outlineKids[id]) > 0 },
		func(bool) fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TreeNodeID, _ bool, o fyne.CanvasObject) {
			o.(*widget.Label).SetText(vw.outlineNodes[id].Title)
		},
	)
	vw.outlineTree.OnSelected = func(id widget.TreeNodeID) {
		if p := vw.outlineNodes[id].Page; p >= 0 {
			vw.goToPage(p)
		}
	}
	vw.outlineTree.OpenAllBranches()
	vw.outlineBox.Objects = []fyne.CanvasObject{vw.outlineTree}
	vw.outlineBox.Refresh()
}

// outlineTitles are the titles of the bookmarks, depth first (for tests
// and the accessibility of the panel's contents).
func (vw *viewerWindow) outlineTitles() []string {
	var out []string
	var walk func(id widget.TreeNodeID)
	walk = func(id widget.TreeNodeID) {
		for _, k := range vw.outlineKids[id] {
			out = append(out, vw.outlineNodes[k].Title)
			walk(k)
		}
	}
	walk("")
	return out
}

func (vw *viewerWindow) newThumbItem() fyne.CanvasObject {
	img := canvas.NewImageFromImage(nil)
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(app.ThumbSide*0.75, app.ThumbSide))
	return container.NewVBox(img, widget.NewLabelWithStyle("", fyne.TextAlignCenter, fyne.TextStyle{}))
}

// updateThumbItem shows page id's thumbnail, asking for it when missing:
// the most recently shown items first, so the ones scrolled past are
// dropped from the wish list.
func (vw *viewerWindow) updateThumbItem(id widget.ListItemID, o fyne.CanvasObject) {
	box := o.(*fyne.Container)
	img := box.Objects[0].(*canvas.Image)
	box.Objects[1].(*widget.Label).SetText(strconv.Itoa(id + 1))
	if t := vw.thumbs[id]; t != nil {
		img.Image = t
		img.Refresh()
		return
	}
	img.Image = nil // a typed nil would reach Fyne as an image
	img.Refresh()
	vw.thumbRecent = append(slices.DeleteFunc(vw.thumbRecent, func(p int) bool { return p == id }), id)
	if n := len(vw.thumbRecent); n > 24 {
		vw.thumbRecent = vw.thumbRecent[n-24:]
	}
	var want []app.TileReq
	for i := len(vw.thumbRecent) - 1; i >= 0; i-- {
		if p := vw.thumbRecent[i]; vw.thumbs[p] == nil {
			want = append(want, app.TileReq{Page: p, Thumb: true})
		}
	}
	vw.thumbLoader.Want(want)
}

func (vw *viewerWindow) thumbArrived(r app.TileResult) {
	if r.Err != nil {
		return
	}
	vw.thumbs[r.Req.Page] = r.Image
	// Keep about a hundred: a 500-page volume's thumbnails are 30 MB.
	if len(vw.thumbs) > 120 {
		for p := range vw.thumbs {
			if p < r.Req.Page-60 || p > r.Req.Page+60 {
				delete(vw.thumbs, p)
			}
		}
	}
	vw.thumbList.RefreshItem(r.Req.Page)
}

// showAnnotations lists the current page's annotations stored in the file.
func (vw *viewerWindow) showAnnotations() {
	if vw.annotBox == nil || vw.page < 0 {
		return
	}
	var objs []fyne.CanvasObject
	for _, a := range vw.sheet.annots[vw.page] {
		l := widget.NewLabel(annotationText(a))
		l.Wrapping = fyne.TextWrapWord
		objs = append(objs, l, widget.NewSeparator())
	}
	if len(objs) == 0 {
		l := widget.NewLabel(lang.L("viewer.no_annots"))
		l.Wrapping = fyne.TextWrapWord
		objs = append(objs, l)
	}
	vw.annotBox.Objects = objs
	vw.annotBox.Refresh()
}

// annotationText is one annotation as the status line and the panel show
// it: its kind, author and text.
func annotationText(a pdfrender.Annotation) string {
	s := a.Subtype
	if a.Author != "" {
		s += " · " + a.Author
	}
	if a.Contents != "" {
		s += ": " + a.Contents
	}
	return s
}

// openVersion is the Документы tab's «Открыть»: the version in the viewer.
func (v *documentsView) openVersion(ver wire.DocumentVersion) {
	openViewer(v.env, v.be, v.appID, ver)
}
