package ui

import (
	"context"
	"fmt"
	"image"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/sync/wire"
)

// annotLayer is the experts' annotations in the viewer: drawn over the
// pages from the Store (live for everyone on the same version), made and
// changed with the tools of a second toolbar row, listed in the «Пометки»
// side panel, discussed in a small dialog. Staff only: an applicant's
// viewer has none (the server refuses them anyway). Administrators see
// the marks but get no tools.
type annotLayer struct {
	vw      *viewerWindow
	be      backend
	appID   int64
	version int64
	ed      *app.AnnotationEditor
	me      wire.User
	tools   bool // may draw and edit at all

	tool     string // toolSelect or an annotation kind
	colour   string
	items    []app.AnnotationItem
	selected string // AnnotationItem.Key
	g        gesture
	others   []app.Presence
	status   string // the last outcome, also in the status line
	unwatch  func()
	ticker   *time.Ticker

	toolbar   *fyne.Container
	toolBtns  map[string]*widget.Button
	colourSel *widget.Select
	swatch    *canvas.Rectangle
	undoBtn   *widget.Button
	redoBtn   *widget.Button
	deleteBtn *widget.Button
	textBtn   *widget.Button
	threadBtn *widget.Button
	presence  *widget.Label

	panel        *fyne.Container
	list         *fyne.Container
	viewers      *widget.Label
	pageFilter   *widget.Select
	authorFilter *widget.Select
	statusFilter *widget.Select

	dlg      dialog.Dialog // the dialog last shown (tests read it)
	dlgEntry *widget.Entry
	dlgSend  func()
	dlgBox   *fyne.Container
}

const toolSelect = "select"

// gesture is a drag in progress over the pages.
type gestureMode int

const (
	gestNone gestureMode = iota
	gestDraw
	gestInk
	gestMove
	gestResize
	gestText // a text-selection drag: the sheet's own
)

type gesture struct {
	mode   gestureMode
	page   int
	fx, fy float64 // where it started, page points (renderer frame)
	handle int
	orig   app.AnnotationItem
	origG  wire.Geometry // orig's geometry in the renderer frame
	draft  wire.Geometry // the shape being drawn or changed (renderer frame)
	ink    []wire.Point
}

// annotColours are the palette of the colour picker, by label key.
var annotColours = []struct{ key, hex string }{
	{"annot.colour.red", "#e53935"},
	{"annot.colour.orange", "#fb8c00"},
	{"annot.colour.yellow", "#fdd835"},
	{"annot.colour.green", "#43a047"},
	{"annot.colour.blue", "#1e88e5"},
	{"annot.colour.violet", "#8e24aa"},
	{"annot.colour.black", "#212121"},
}

func toolLabel(t string) string { return lang.L("annot.tool." + t) }

func annotKindLabel(k wire.AnnotationKind) string { return lang.L("annot.kind." + string(k)) }

func annotStatusLabel(s wire.AnnotationStatus) string { return lang.L("annot.status." + string(s)) }

// newAnnotLayer makes the layer for a viewer showing version of
// application appID; nil when the user may not see annotations or the
// version's application is unknown.
func newAnnotLayer(vw *viewerWindow, be backend, appID int64) *annotLayer {
	me := be.Me()
	if !me.Role.Staff() || appID == 0 {
		return nil
	}
	l := &annotLayer{vw: vw, be: be, appID: appID, version: vw.v.Version().ID, me: me, tools: app.CanAnnotate(me),
		tool: toolSelect, colour: annotColours[0].hex, toolBtns: map[string]*widget.Button{}}
	l.ed = app.NewAnnotationEditor(be, appID, l.version)
	l.build()
	l.unwatch = vw.env.watch(be.Store(), l.storeChanged)
	l.refresh()
	v := l.version
	viewerCall(vw, "annotations", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, be.LoadAnnotations(ctx, v)
	}, func(_ struct{}, err error) {
		if err != nil {
			l.say(lang.L("annot.load_failed", map[string]any{"Reason": message(err)}))
		}
	})
	return l
}

func (l *annotLayer) build() {
	l.presence = widget.NewLabel("")
	l.presence.Importance = widget.HighImportance
	l.viewers = widget.NewLabel("")
	l.viewers.Wrapping = fyne.TextWrapWord
	l.list = container.NewVBox()
	l.pageFilter = widget.NewSelect([]string{lang.L("annot.filter.all_pages"), lang.L("annot.filter.this_page")}, nil)
	l.pageFilter.SetSelectedIndex(0)
	statuses := []string{lang.L("annot.filter.all_statuses")}
	for _, s := range wire.AllAnnotationStatuses {
		statuses = append(statuses, annotStatusLabel(s))
	}
	l.statusFilter = widget.NewSelect(statuses, nil)
	l.statusFilter.SetSelectedIndex(0)
	l.authorFilter = widget.NewSelect([]string{lang.L("annot.filter.all_authors")}, nil)
	l.authorFilter.SetSelectedIndex(0)
	for _, sel := range []*widget.Select{l.pageFilter, l.statusFilter, l.authorFilter} {
		sel.OnChanged = func(string) { l.showList() }
	}
	l.panel = container.NewBorder(container.NewVBox(l.viewers, l.pageFilter, l.authorFilter, l.statusFilter, widget.NewSeparator()), nil, nil, nil,
		container.NewVScroll(l.list))
	if !l.tools {
		return
	}
	row := []fyne.CanvasObject{}
	for _, t := range append([]string{toolSelect}, kindsOf(wire.AllAnnotationKinds)...) {
		b := widget.NewButton(toolLabel(t), func() { l.setTool(t) })
		l.toolBtns[t] = b
		row = append(row, b)
	}
	var labels []string
	for _, c := range annotColours {
		labels = append(labels, lang.L(c.key))
	}
	l.swatch = canvas.NewRectangle(parseColour(l.colour))
	l.swatch.SetMinSize(fyne.NewSize(18, 18))
	l.colourSel = widget.NewSelect(labels, func(s string) {
		if i := slices.Index(labels, s); i >= 0 {
			l.setColour(annotColours[i].hex)
		}
	})
	l.colourSel.SetSelectedIndex(0)
	l.undoBtn = widget.NewButtonWithIcon("", theme.ContentUndoIcon(), l.undo)
	l.redoBtn = widget.NewButtonWithIcon("", theme.ContentRedoIcon(), l.redo)
	l.deleteBtn = widget.NewButtonWithIcon(lang.L("annot.delete"), theme.DeleteIcon(), l.deleteSelected)
	l.textBtn = widget.NewButtonWithIcon(lang.L("annot.text"), theme.DocumentCreateIcon(), l.editText)
	l.threadBtn = widget.NewButtonWithIcon(lang.L("annot.thread"), theme.MailReplyIcon(), func() {
		if it, ok := l.selectedItem(); ok {
			l.openThread(it)
		}
	})
	for _, b := range []*widget.Button{l.undoBtn, l.redoBtn, l.deleteBtn, l.textBtn, l.threadBtn} {
		b.Importance = widget.LowImportance
	}
	row = append(row, widget.NewSeparator(), container.NewCenter(l.swatch), l.colourSel, widget.NewSeparator(),
		l.undoBtn, l.redoBtn, l.deleteBtn, l.textBtn, l.threadBtn)
	l.toolbar = container.NewHBox(row...)
	l.setTool(toolSelect)
}

func kindsOf(ks []wire.AnnotationKind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

// close tells the others the document is closed and stops listening.
func (l *annotLayer) close() {
	if l.unwatch != nil {
		l.unwatch()
	}
	if l.ticker != nil {
		l.ticker.Stop()
	}
	be, appID, v := l.be, l.appID, l.version
	l.vw.env.spawn(func() { be.SendPresence(appID, v, 0) })
}

// startPresence announces the page now and every app.PresenceEvery.
func (l *annotLayer) startPresence() {
	l.pageChanged()
	l.ticker = time.NewTicker(app.PresenceEvery)
	t, ctx := l.ticker, l.vw.ctx
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				l.vw.post(func() {
					if !l.vw.closed {
						l.pageChanged()
					}
				})
			}
		}
	}()
}

// pageChanged is told the page in view changed (and repeats presence).
func (l *annotLayer) pageChanged() {
	if l.vw.page >= 0 {
		be, appID, v, p := l.be, l.appID, l.version, l.vw.page+1
		l.vw.env.spawn(func() { be.SendPresence(appID, v, p) })
	}
	l.showPresence()
	if l.pageFilter.SelectedIndex() == 1 {
		l.showList()
	}
}

func (l *annotLayer) storeChanged() {
	if l.vw.closed {
		return
	}
	l.refresh()
	l.vw.sheet.refreshOverlay()
}

// refresh rereads the items and presence from the Store.
func (l *annotLayer) refresh() {
	st := l.be.Store()
	l.items = st.AnnotationItems(l.version)
	l.others = st.Presence(l.version)
	if _, ok := l.selectedItem(); !ok {
		l.selected = ""
	}
	authors := []string{lang.L("annot.filter.all_authors")}
	for _, it := range l.items {
		if it.AuthorName != "" && !slices.Contains(authors, it.AuthorName) {
			authors = append(authors, it.AuthorName)
		}
	}
	if !slices.Equal(authors, l.authorFilter.Options) {
		sel := l.authorFilter.Selected
		l.authorFilter.Options = authors
		if !slices.Contains(authors, sel) {
			sel = authors[0]
		}
		l.authorFilter.SetSelected(sel)
	}
	l.showList()
	l.showPresence()
	l.showButtons()
}

// showPresence puts the initials of the others on this page beside the
// page field, and everyone viewing in the panel.
func (l *annotLayer) showPresence() {
	var here, all []string
	for _, p := range l.others {
		if p.Page == l.vw.page+1 {
			here = append(here, initials(p.Name))
		}
		all = append(all, lang.L("annot.viewer_on_page", map[string]any{"Name": p.Name, "Page": p.Page}))
	}
	l.presence.SetText(strings.Join(here, " "))
	if len(all) == 0 {
		l.viewers.SetText("")
	} else {
		l.viewers.SetText(lang.L("annot.viewing_now") + " " + strings.Join(all, ", "))
	}
}

// initials of «Иванов Иван Иванович» or «Иванов И. И.» are «ИИ».
func initials(name string) string {
	var out []rune
	for _, w := range strings.Fields(name) {
		r := []rune(w)
		if len(r) > 0 && len(out) < 2 {
			out = append(out, r[0])
		}
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

func (l *annotLayer) say(s string) {
	l.status = s
	l.vw.setStatus(s)
}

// outcome reports a command's result: queued is fine (drawn pending), a
// refusal is shown — a conflict in a dialog, since the user's change was
// not made.
func (l *annotLayer) outcome(err error, done string) {
	switch {
	case err == nil:
		l.say(done)
	case app.IsQueued(err):
		l.say(lang.L("annot.queued"))
	case app.IsConflict(err):
		l.say(message(err))
		l.dlg = dialog.NewInformation(lang.L("annot.conflict_title"), message(err), l.vw.win)
		l.dlg.Show()
	default:
		l.say(message(err))
	}
	l.refresh()
	l.vw.sheet.refreshOverlay()
}

func (l *annotLayer) setTool(t string) {
	l.tool = t
	for k, b := range l.toolBtns {
		if k == t {
			b.Importance = widget.HighImportance
		} else {
			b.Importance = widget.LowImportance
		}
		b.Refresh()
	}
	if t != toolSelect {
		l.selected = ""
		l.showButtons()
		l.vw.sheet.refreshOverlay()
		l.say(lang.L("annot.hint_draw", map[string]any{"Tool": toolLabel(t)}))
	}
}

// setColour picks the colour of new marks and recolours the selected one.
func (l *annotLayer) setColour(hex string) {
	l.colour = hex
	if l.swatch != nil {
		l.swatch.FillColor = parseColour(hex)
		l.swatch.Refresh()
	}
	it, ok := l.selectedItem()
	if !ok || it.Color == hex || !l.rights(it).Edit {
		return
	}
	c := hex
	l.update(it, app.AnnotationChange{Color: &c}, lang.L("annot.recoloured"))
}

func (l *annotLayer) rights(it app.AnnotationItem) app.AnnotationPermissions {
	if !l.tools {
		return app.AnnotationPermissions{}
	}
	a, _ := l.be.Store().Application(l.appID)
	return app.AnnotationRights(it.Annotation, a, l.me)
}

func (l *annotLayer) selectedItem() (app.AnnotationItem, bool) {
	if l.selected == "" {
		return app.AnnotationItem{}, false
	}
	for _, it := range l.items {
		if it.Key() == l.selected {
			return it, true
		}
	}
	return app.AnnotationItem{}, false
}

// showButtons shows the actions the selection allows: delete and text
// only to its author or a manager (hidden otherwise, not just disabled).
func (l *annotLayer) showButtons() {
	if !l.tools {
		return
	}
	it, ok := l.selectedItem()
	r := l.rights(it)
	show := func(b *widget.Button, on bool) {
		if on {
			b.Show()
		} else {
			b.Hide()
		}
	}
	show(l.deleteBtn, ok && r.Edit)
	show(l.textBtn, ok && r.Edit && it.Pending != app.PendingDelete)
	show(l.threadBtn, ok)
	if l.ed.CanUndo() {
		l.undoBtn.Enable()
	} else {
		l.undoBtn.Disable()
	}
	if l.ed.CanRedo() {
		l.redoBtn.Enable()
	} else {
		l.redoBtn.Disable()
	}
}

func (l *annotLayer) selectItem(key string) {
	l.selected = key
	l.showButtons()
	l.vw.sheet.refreshOverlay()
	if it, ok := l.selectedItem(); ok {
		l.say(annotSummary(it))
	}
}

// annotSummary is one line about a mark: page, kind, author, status.
func annotSummary(it app.AnnotationItem) string {
	s := lang.L("annot.summary", map[string]any{"Page": it.Page, "Kind": annotKindLabel(it.Kind), "Author": it.AuthorName, "Status": annotStatusLabel(it.Status)})
	if it.Pending != app.NotPending || it.PendingReplies > 0 {
		s += " · " + lang.L("annot.pending")
	}
	if t := firstLine(it.Text); t != "" {
		s += ": " + t
	}
	return s
}

// --- geometry between the sheet and the pages ---

// pageInfo is page i's size as displayed.
func (l *annotLayer) pageInfo(i int) pdfrender.PageInfo { return l.vw.v.Doc().Pages[i] }

// toPage maps a sheet position (units) to page points of page, not
// clamped (a drag may leave the page).
func (l *annotLayer) toPage(page int, p fyne.Position) (x, y float64) {
	s := l.vw.sheet
	r := s.lay.PageRect(page)
	return s.lay.View.PixelToPoint(l.pageInfo(page), float64(p.X*s.scale)-float64(r.Min.X), float64(p.Y*s.scale)-float64(r.Min.Y))
}

// toUnits maps a page point to the overlay (units, relative to the
// viewport vp in layout pixels).
func (l *annotLayer) toUnits(page int, x, y float64, vp image.Rectangle) unitPt {
	s := l.vw.sheet
	r := s.lay.PageRect(page)
	px, py := s.lay.View.PointToPixel(l.pageInfo(page), x, y)
	return unitPt{float32(px+float64(r.Min.X)-float64(vp.Min.X)) / s.scale, float32(py+float64(r.Min.Y)-float64(vp.Min.Y)) / s.scale}
}

// ptsPerUnit is how many page points one unit of the screen spans.
func (l *annotLayer) ptsPerUnit() float64 {
	s := l.vw.sheet
	return float64(s.scale) / s.lay.View.Zoom
}

// viewGeometry is an item's geometry in the renderer's frame.
func (l *annotLayer) viewGeometry(it app.AnnotationItem) wire.Geometry {
	return app.GeometryToView(l.pageInfo(it.Page-1), it.Geometry)
}

// --- drawing ---

// objects are the overlay objects of the marks on the pages in view.
func (l *annotLayer) objects(vp image.Rectangle) []fyne.CanvasObject {
	s := l.vw.sheet
	var out []fyne.CanvasObject
	width := float32(max(1.5, min(4, s.lay.View.Zoom/float64(s.scale)*1.5)))
	first := max(s.lay.PageAt(vp.Min.Y), 0)
	for _, it := range l.items {
		page := it.Page - 1
		if page < first || page >= s.lay.Pages() || !s.lay.PageRect(page).Overlaps(vp) {
			continue
		}
		g := l.viewGeometry(it)
		if l.g.mode != gestNone && l.g.mode != gestText && l.g.orig.Key() == it.Key() && (l.g.mode == gestMove || l.g.mode == gestResize) {
			g = l.g.draft
		}
		out = append(out, shapeObjects(l.shape(page, it.Kind, g, it.Color, it.Text, it.Pending != app.NotPending, width, vp), s.port)...)
		if it.Key() == l.selected {
			out = append(out, l.selectionObjects(page, it.Kind, g, vp)...)
		}
	}
	if l.g.mode == gestDraw || l.g.mode == gestInk {
		g := l.g.draft
		if l.g.mode == gestInk {
			g = wire.Geometry{Ink: [][]wire.Point{l.g.ink}}
		}
		out = append(out, shapeObjects(l.shape(l.g.page, wire.AnnotationKind(l.tool), g, l.colour, "", true, width, vp), s.port)...)
	}
	return out
}

// shape converts a renderer-frame geometry of page to overlay units.
func (l *annotLayer) shape(page int, kind wire.AnnotationKind, g wire.Geometry, colour, text string, dim bool, width float32, vp image.Rectangle) shapeIn {
	in := shapeIn{kind: kind, colour: parseColour(colour), text: text, width: width, dim: dim}
	u := func(x, y float64) unitPt { return l.toUnits(page, x, y, vp) }
	if b, ok := g.Bounds(); ok {
		a, c := u(b.X1, b.Y1), u(b.X2, b.Y2)
		in.a, in.b = unitPt{min(a.X, c.X), min(a.Y, c.Y)}, unitPt{max(a.X, c.X), max(a.Y, c.Y)}
	}
	for _, p := range g.Points {
		in.pts = append(in.pts, u(p.X, p.Y))
	}
	for _, st := range g.Ink {
		var line []unitPt
		for _, p := range st {
			line = append(line, u(p.X, p.Y))
		}
		in.strokes = append(in.strokes, line)
	}
	for _, q := range g.Quads {
		b, _ := wire.Geometry{Quads: []wire.Quad{q}}.Bounds()
		a, c := u(b.X1, b.Y1), u(b.X2, b.Y2)
		in.boxes = append(in.boxes, [2]unitPt{{min(a.X, c.X), min(a.Y, c.Y)}, {max(a.X, c.X), max(a.Y, c.Y)}})
	}
	return in
}

// handles are the grips of a selected shape in page points (renderer
// frame): the ends of a line, or the corners then the edge middles of its
// box (top-left, top-right, bottom-right, bottom-left, top, right, bottom,
// left). Highlights follow the text and have none.
func handles(kind wire.AnnotationKind, g wire.Geometry) []wire.Point {
	switch kind {
	case wire.AnnotHighlight:
		return nil
	case wire.AnnotLine, wire.AnnotArrow:
		return slices.Clone(g.Points)
	}
	b, ok := g.Bounds()
	if !ok {
		return nil
	}
	mx, my := (b.X1+b.X2)/2, (b.Y1+b.Y2)/2
	return []wire.Point{{X: b.X1, Y: b.Y1}, {X: b.X2, Y: b.Y1}, {X: b.X2, Y: b.Y2}, {X: b.X1, Y: b.Y2},
		{X: mx, Y: b.Y1}, {X: b.X2, Y: my}, {X: mx, Y: b.Y2}, {X: b.X1, Y: my}}
}

func (l *annotLayer) selectionObjects(page int, kind wire.AnnotationKind, g wire.Geometry, vp image.Rectangle) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	if b, ok := g.Bounds(); ok {
		a, c := l.toUnits(page, b.X1, b.Y1, vp), l.toUnits(page, b.X2, b.Y2, vp)
		r := canvas.NewRectangle(withAlpha(selectionLine, 0x18))
		r.StrokeColor, r.StrokeWidth = selectionLine, 1
		r.Move(fyne.NewPos(min(a.X, c.X)-2, min(a.Y, c.Y)-2))
		r.Resize(fyne.NewSize(max(a.X, c.X)-min(a.X, c.X)+4, max(a.Y, c.Y)-min(a.Y, c.Y)+4))
		out = append(out, r)
	}
	if it, ok := l.selectedItem(); !ok || !l.rights(it).Edit {
		return out
	}
	for _, h := range handles(kind, g) {
		p := l.toUnits(page, h.X, h.Y, vp)
		r := canvas.NewRectangle(handleFill)
		r.StrokeColor, r.StrokeWidth = selectionLine, 1
		r.Move(fyne.NewPos(p.X-handleSize/2, p.Y-handleSize/2))
		r.Resize(fyne.NewSize(handleSize, handleSize))
		out = append(out, r)
	}
	return out
}

// --- pointer ---

// hit finds the topmost mark under page point (x, y) of page.
func (l *annotLayer) hit(page int, x, y float64) (app.AnnotationItem, bool) {
	tol := 4 * l.ptsPerUnit()
	for i := len(l.items) - 1; i >= 0; i-- {
		it := l.items[i]
		if it.Page-1 == page && app.HitGeometry(it.Kind, l.viewGeometry(it), x, y, tol) {
			return it, true
		}
	}
	return app.AnnotationItem{}, false
}

// handleAt is the index of the selected mark's handle under (x, y), or -1.
func (l *annotLayer) handleAt(it app.AnnotationItem, x, y float64) int {
	tol := (handleSize/2 + 2) * l.ptsPerUnit()
	for i, h := range handles(it.Kind, l.viewGeometry(it)) {
		if x >= h.X-tol && x <= h.X+tol && y >= h.Y-tol && y <= h.Y+tol {
			return i
		}
	}
	return -1
}

// tapped selects the mark under the pointer (with the select tool).
func (l *annotLayer) tapped(p fyne.Position) bool {
	page, x, y, ok := l.vw.sheet.pagePoint(p)
	if !ok {
		if l.selected != "" {
			l.selectItem("")
		}
		return false
	}
	if l.tool != toolSelect {
		return true
	}
	if it, ok := l.hit(page, x, y); ok {
		l.selectItem(it.Key())
		return true
	}
	if l.selected != "" {
		l.selectItem("")
	}
	return false
}

// dragStart decides what a drag that began at p (sheet units) does; false
// leaves it to the text selection.
func (l *annotLayer) dragStart(p fyne.Position) bool {
	s := l.vw.sheet
	page, x, y, ok := s.pagePoint(p)
	if !ok {
		l.g = gesture{mode: gestText}
		return false
	}
	if l.tool != toolSelect {
		if !l.tools {
			return false
		}
		l.g = gesture{mode: gestDraw, page: page, fx: x, fy: y}
		if l.tool == string(wire.AnnotInk) {
			l.g.mode, l.g.ink = gestInk, []wire.Point{{X: x, Y: y}}
		}
		return true
	}
	if it, ok := l.selectedItem(); ok && it.Page-1 == page && l.rights(it).Edit && it.Pending != app.PendingDelete {
		if h := l.handleAt(it, x, y); h >= 0 {
			l.g = gesture{mode: gestResize, page: page, fx: x, fy: y, handle: h, orig: it, origG: l.viewGeometry(it)}
			l.g.draft = l.g.origG
			return true
		}
	}
	if it, ok := l.hit(page, x, y); ok && it.Kind != wire.AnnotHighlight && l.rights(it).Edit && it.Pending != app.PendingDelete {
		l.selectItem(it.Key())
		l.g = gesture{mode: gestMove, page: page, fx: x, fy: y, orig: it, origG: l.viewGeometry(it)}
		l.g.draft = l.g.origG
		return true
	}
	l.g = gesture{mode: gestText}
	return false
}

// dragged follows the pointer at p (sheet units).
func (l *annotLayer) dragged(p fyne.Position) {
	x, y := l.toPage(l.g.page, p)
	pi := l.pageInfo(l.g.page)
	x, y = min(max(x, 0), pi.Width), min(max(y, 0), pi.Height)
	switch l.g.mode {
	case gestDraw:
		if l.tool == string(wire.AnnotHighlight) {
			r := wire.Rect{X1: min(l.g.fx, x), Y1: min(l.g.fy, y), X2: max(l.g.fx, x), Y2: max(l.g.fy, y)}
			l.g.draft = wire.Geometry{Rect: &r}
			// Drawn as the drag box until the text is snapped.
			l.g.draft = wire.Geometry{Quads: []wire.Quad{{r.X1, r.Y1, r.X2, r.Y1, r.X1, r.Y2, r.X2, r.Y2}}}
		} else if g, ok := app.ShapeFromDrag(wire.AnnotationKind(l.tool), l.g.fx, l.g.fy, x, y); ok {
			l.g.draft = g
		}
	case gestInk:
		l.g.ink = append(l.g.ink, wire.Point{X: x, Y: y})
	case gestMove:
		// The whole shape stops at the page's edge instead of squashing.
		ob, _ := l.g.origG.Bounds()
		dx := min(max(x-l.g.fx, -ob.X1), pi.Width-ob.X2)
		dy := min(max(y-l.g.fy, -ob.Y1), pi.Height-ob.Y2)
		l.g.draft = app.MoveGeometry(l.g.origG, dx, dy)
	case gestResize:
		l.g.draft = resizeByHandle(l.g.orig.Kind, l.g.origG, l.g.handle, x-l.g.fx, y-l.g.fy)
	}
	l.vw.sheet.refreshOverlay()
}

// resizeByHandle moves handle h of g by (dx, dy).
func resizeByHandle(kind wire.AnnotationKind, g wire.Geometry, h int, dx, dy float64) wire.Geometry {
	if kind == wire.AnnotLine || kind == wire.AnnotArrow {
		out := wire.Geometry{Points: slices.Clone(g.Points)}
		if h < len(out.Points) {
			out.Points[h].X += dx
			out.Points[h].Y += dy
		}
		return out
	}
	b, ok := g.Bounds()
	if !ok {
		return g
	}
	left, top, right, bottom := b.X1, b.Y1, b.X2, b.Y2
	switch h {
	case 0:
		left, top = left+dx, top+dy
	case 1:
		right, top = right+dx, top+dy
	case 2:
		right, bottom = right+dx, bottom+dy
	case 3:
		left, bottom = left+dx, bottom+dy
	case 4:
		top += dy
	case 5:
		right += dx
	case 6:
		bottom += dy
	case 7:
		left += dx
	}
	to := wire.Rect{X1: min(left, right), Y1: min(top, bottom), X2: max(left, right), Y2: max(top, bottom)}
	if to.X2-to.X1 < app.MinShapeSize {
		to.X2 = to.X1 + app.MinShapeSize
	}
	if to.Y2-to.Y1 < app.MinShapeSize {
		to.Y2 = to.Y1 + app.MinShapeSize
	}
	return app.ResizeGeometry(g, to)
}

// dragEnd commits the gesture.
func (l *annotLayer) dragEnd() {
	g := l.g
	l.g = gesture{}
	switch g.mode {
	case gestDraw:
		l.finishDraw(g)
	case gestInk:
		pts := app.SimplifyStroke(g.ink, 0.75*l.ptsPerUnit())
		if len(pts) < 2 {
			l.vw.sheet.refreshOverlay()
			return
		}
		l.create(g.page, wire.AnnotInk, wire.Geometry{Ink: [][]wire.Point{pts}}, "")
	case gestMove, gestResize:
		if sameGeometry(g.draft, g.origG) {
			l.vw.sheet.refreshOverlay()
			return
		}
		wg := app.ClampGeometry(l.pageInfo(g.page), app.GeometryToWire(l.pageInfo(g.page), g.draft))
		l.update(g.orig, app.AnnotationChange{Geometry: &wg}, lang.L("annot.moved"))
	}
}

func sameGeometry(a, b wire.Geometry) bool {
	ab, _ := a.Bounds()
	bb, _ := b.Bounds()
	return ab == bb && len(a.Points) == len(b.Points) && (len(a.Points) == 0 || a.Points[0] == b.Points[0] && a.Points[1] == b.Points[1])
}

func (l *annotLayer) finishDraw(g gesture) {
	kind := wire.AnnotationKind(l.tool)
	if kind == wire.AnnotHighlight {
		if len(g.draft.Quads) == 0 {
			l.vw.sheet.refreshOverlay()
			return
		}
		q := g.draft.Quads[0]
		drag := pdfrender.Rect{X0: q[0], Y0: q[1], X1: q[6], Y1: q[7]}
		v, page := l.vw.v, g.page
		viewerCall(l.vw, "characters", func(ctx context.Context) ([]pdfrender.Char, error) {
			return v.Chars(ctx, page)
		}, func(chars []pdfrender.Char, err error) {
			if err != nil {
				l.outcome(err, "")
				return
			}
			lines := app.SnapHighlight(chars, drag)
			if len(lines) == 0 {
				l.say(lang.L("annot.no_text"))
				l.vw.sheet.refreshOverlay()
				return
			}
			l.createWire(page, kind, app.HighlightGeometry(l.pageInfo(page), lines), "")
		})
		return
	}
	if g.draft.Rect == nil && len(g.draft.Points) == 0 {
		l.vw.sheet.refreshOverlay()
		return
	}
	if kind == wire.AnnotNote {
		l.askText(lang.L("annot.new_note"), "", func(text string) { l.create(g.page, kind, g.draft, text) })
		l.vw.sheet.refreshOverlay()
		return
	}
	l.create(g.page, kind, g.draft, "")
}

// create makes a mark from a renderer-frame geometry of page.
func (l *annotLayer) create(page int, kind wire.AnnotationKind, g wire.Geometry, text string) {
	pi := l.pageInfo(page)
	l.createWire(page, kind, app.ClampGeometry(pi, app.GeometryToWire(pi, g)), text)
}

func (l *annotLayer) createWire(page int, kind wire.AnnotationKind, g wire.Geometry, text string) {
	req := wire.CreateAnnotationRequest{Page: page + 1, Kind: kind, Geometry: g, Color: l.colour, Text: text}
	ed := l.ed
	viewerCall(l.vw, "create annotation", func(ctx context.Context) (app.AnnotationItem, error) {
		return ed.Create(ctx, req)
	}, func(it app.AnnotationItem, err error) {
		l.refresh()
		if err == nil && it.Key() != "q0" {
			l.selected = it.Key()
		}
		l.outcome(err, lang.L("annot.created", map[string]any{"Kind": annotKindLabel(kind)}))
	})
}

func (l *annotLayer) update(it app.AnnotationItem, ch app.AnnotationChange, done string) {
	ed := l.ed
	viewerCall(l.vw, "update annotation", func(ctx context.Context) (app.AnnotationItem, error) {
		return ed.Update(ctx, it, ch)
	}, func(_ app.AnnotationItem, err error) { l.outcome(err, done) })
}

func (l *annotLayer) deleteSelected() {
	it, ok := l.selectedItem()
	if !ok || !l.rights(it).Edit {
		return
	}
	l.selected = ""
	ed := l.ed
	viewerCall(l.vw, "delete annotation", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, ed.Delete(ctx, it)
	}, func(_ struct{}, err error) { l.outcome(err, lang.L("annot.deleted")) })
}

func (l *annotLayer) undo() {
	ed := l.ed
	viewerCall(l.vw, "undo annotation", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, ed.Undo(ctx)
	}, func(_ struct{}, err error) { l.outcome(err, lang.L("annot.undone")) })
}

func (l *annotLayer) redo() {
	ed := l.ed
	viewerCall(l.vw, "redo annotation", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, ed.Redo(ctx)
	}, func(_ struct{}, err error) { l.outcome(err, lang.L("annot.redone")) })
}

// cancel ends a drawing tool or drops the selection (Escape).
func (l *annotLayer) cancel() {
	if l.tool != toolSelect && l.tools {
		l.setTool(toolSelect)
	}
	l.g = gesture{}
	l.selectItem("")
}

// editText edits the selected mark's text (a note's words, or a comment
// on any other mark).
func (l *annotLayer) editText() {
	it, ok := l.selectedItem()
	if !ok || !l.rights(it).Edit {
		return
	}
	l.askText(lang.L("annot.edit_text"), it.Text, func(text string) {
		l.update(it, app.AnnotationChange{Text: &text}, lang.L("annot.text_saved"))
	})
}

// askText asks for a text in a small dialog.
func (l *annotLayer) askText(title, text string, done func(string)) {
	e := widget.NewMultiLineEntry()
	e.Wrapping = fyne.TextWrapWord
	e.SetMinRowsVisible(4)
	e.SetText(text)
	d := dialog.NewForm(title, lang.L("annot.save"), lang.L("dialog.cancel"), []*widget.FormItem{widget.NewFormItem(lang.L("annot.text_field"), e)}, func(ok bool) {
		if ok {
			done(strings.TrimSpace(e.Text))
		}
	}, l.vw.win)
	d.Resize(fyne.NewSize(480, 260))
	l.dlg, l.dlgEntry = d, e
	d.Show()
	l.vw.win.Canvas().Focus(e)
}

// --- the panel ---

// showList lists the marks passing the filters; a row jumps to its mark.
func (l *annotLayer) showList() {
	if l.list == nil {
		return
	}
	var objs []fyne.CanvasObject
	st := ""
	if i := l.statusFilter.SelectedIndex(); i > 0 {
		st = string(wire.AllAnnotationStatuses[i-1])
	}
	author := ""
	if l.authorFilter.SelectedIndex() > 0 {
		author = l.authorFilter.Selected
	}
	for _, it := range l.items {
		if l.pageFilter.SelectedIndex() == 1 && it.Page != l.vw.page+1 || st != "" && string(it.Status) != st || author != "" && it.AuthorName != author {
			continue
		}
		b := widget.NewButton(annotSummary(it), func() { l.jumpTo(it) })
		b.Alignment = widget.ButtonAlignLeading
		b.Importance = widget.LowImportance
		if it.Key() == l.selected {
			b.Importance = widget.MediumImportance
		}
		objs = append(objs, b)
	}
	if len(objs) == 0 {
		lb := widget.NewLabel(lang.L("annot.none"))
		lb.Wrapping = fyne.TextWrapWord
		objs = append(objs, lb)
	}
	l.list.Objects = objs
	l.list.Refresh()
}

// jumpTo scrolls a mark into view and selects it.
func (l *annotLayer) jumpTo(it app.AnnotationItem) {
	s := l.vw.sheet
	g := l.viewGeometry(it)
	b, ok := g.Bounds()
	if !ok {
		return
	}
	px := s.lay.FromPage(it.Page-1, pdfrender.Rect{X0: b.X1, Y0: b.Y1, X1: b.X2, Y1: b.Y2})
	y0 := float32(px.Y0) / s.scale
	x0, x1 := float32(px.X0)/s.scale, float32(px.X1)/s.scale
	target := s.offset
	target.Y = y0 - s.port.Height/3
	if x0 < s.offset.X || x1 > s.offset.X+s.port.Width {
		target.X = (x0+x1)/2 - s.port.Width/2
	}
	l.vw.scrollTo(target)
	l.selectItem(it.Key())
}

// --- the thread dialog: replies, status, «Сделать замечанием» ---

func (l *annotLayer) openThread(it app.AnnotationItem) {
	r := l.rights(it)
	box := container.NewVBox(widget.NewLabelWithStyle(annotSummary(it), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
	if strings.TrimSpace(it.Text) != "" {
		t := widget.NewLabel(it.Text)
		t.Wrapping = fyne.TextWrapWord
		box.Add(t)
	}
	box.Add(widget.NewSeparator())
	for _, rep := range it.Replies {
		line := rep.AuthorName + ": " + rep.Text
		if rep.ID == 0 {
			line += " (" + lang.L("annot.pending") + ")"
		}
		lb := widget.NewLabel(line)
		lb.Wrapping = fyne.TextWrapWord
		box.Add(lb)
	}
	if len(it.Replies) == 0 {
		box.Add(widget.NewLabel(lang.L("annot.no_replies")))
	}
	var d dialog.Dialog
	entry := widget.NewMultiLineEntry()
	entry.Wrapping = fyne.TextWrapWord
	entry.SetPlaceHolder(lang.L("annot.reply_placeholder"))
	send := func() {
		text := entry.Text
		be := l.be
		viewerCall(l.vw, "reply annotation", func(ctx context.Context) (wire.AnnotationReply, error) {
			return be.ReplyAnnotation(ctx, it, text)
		}, func(_ wire.AnnotationReply, err error) {
			if err == nil || app.IsQueued(err) {
				d.Hide()
			}
			l.outcome(err, lang.L("annot.replied"))
		})
	}
	if r.Reply && it.ID != 0 {
		box.Add(entry)
		box.Add(widget.NewButtonWithIcon(lang.L("annot.reply"), theme.MailReplyIcon(), send))
	}
	if r.Status && it.ID != 0 {
		labels := make([]string, len(wire.AllAnnotationStatuses))
		for i, s := range wire.AllAnnotationStatuses {
			labels[i] = annotStatusLabel(s)
		}
		sel := widget.NewSelect(labels, nil)
		sel.SetSelected(annotStatusLabel(it.Status))
		sel.OnChanged = func(string) {
			to := wire.AllAnnotationStatuses[sel.SelectedIndex()]
			if to == it.Status {
				return
			}
			be := l.be
			viewerCall(l.vw, "annotation status", func(ctx context.Context) (wire.Annotation, error) {
				return be.SetAnnotationStatus(ctx, it, to)
			}, func(_ wire.Annotation, err error) {
				d.Hide()
				l.outcome(err, lang.L("annot.status_set", map[string]any{"Status": annotStatusLabel(to)}))
			})
		}
		box.Add(widget.NewForm(widget.NewFormItem(lang.L("annot.status_field"), sel)))
	}
	if l.me.Role == wire.RoleExpert && it.ID != 0 {
		box.Add(widget.NewButtonWithIcon(lang.L("annot.make_remark"), theme.DocumentCreateIcon(), func() {
			d.Hide()
			l.askRemark(it)
		}))
	}
	d = dialog.NewCustom(lang.L("annot.thread"), lang.L("annot.close"), container.NewVScroll(box), l.vw.win)
	d.Resize(fyne.NewSize(520, 480))
	l.dlg, l.dlgEntry, l.dlgSend, l.dlgBox = d, entry, send, box
	d.Show()
}

// askRemark makes a draft remark from a mark: its version, page and box
// come from the annotation on the server.
func (l *annotLayer) askRemark(it app.AnnotationItem) {
	text := widget.NewMultiLineEntry()
	text.Wrapping = fyne.TextWrapWord
	text.SetMinRowsVisible(4)
	text.SetText(it.Text)
	norm := widget.NewEntry()
	norm.SetPlaceHolder(lang.L("remarks.norm_placeholder"))
	crit := widget.NewRadioGroup([]string{criticalityLabel(wire.CriticalityCritical), criticalityLabel(wire.CriticalityOrdinary)}, nil)
	crit.Horizontal = true
	crit.SetSelected(criticalityLabel(wire.CriticalityOrdinary))
	var d dialog.Dialog
	d = dialog.NewForm(lang.L("annot.make_remark"), lang.L("remarks.save_draft"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("remarks.text"), text),
		widget.NewFormItem(lang.L("remarks.norm_field"), norm),
		widget.NewFormItem(lang.L("remarks.criticality"), crit),
	}, func(ok bool) {
		if !ok {
			return
		}
		c := wire.CriticalityOrdinary
		if crit.Selected == criticalityLabel(wire.CriticalityCritical) {
			c = wire.CriticalityCritical
		}
		req := wire.CreateRemarkRequest{AnnotationID: it.ID, Text: strings.TrimSpace(text.Text), NormRef: strings.TrimSpace(norm.Text), Criticality: c}
		be, appID := l.be, l.appID
		viewerCall(l.vw, "remark from annotation", func(ctx context.Context) (wire.Remark, error) {
			return be.CreateRemark(ctx, appID, req)
		}, func(_ wire.Remark, err error) { l.outcome(err, lang.L("annot.remark_made")) })
	}, l.vw.win)
	d.Resize(fyne.NewSize(560, 420))
	l.dlg, l.dlgEntry = d, text
	d.Show()
}

// annotationCommandText says in words what a queued annotation command
// does (the outbox list on the card).
func annotationCommandText(p *app.PendingAnnotation) string {
	switch {
	case p.Create != nil:
		return lang.L("pending.annot_create", map[string]any{"Kind": annotKindLabel(p.Create.Kind), "Page": p.Create.Page})
	case p.Update != nil:
		return lang.L("pending.annot_update", map[string]any{"ID": p.AnnotationID})
	case p.Delete:
		return lang.L("pending.annot_delete", map[string]any{"ID": p.AnnotationID})
	case p.Status != nil:
		return lang.L("pending.annot_status", map[string]any{"ID": p.AnnotationID, "Status": annotStatusLabel(p.Status.Status)})
	case p.Reply != nil:
		return lang.L("pending.annot_reply", map[string]any{"Text": shortText(p.Reply.Text, 60)})
	}
	return fmt.Sprint(p.AnnotationID)
}
