package ui

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
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

// compareWindow shows two versions of a document against each other: the
// old one left of the new one with one scroll and one zoom, page pairs on
// one row (an inserted page gets a row of its own, so the later pages stay
// side by side), or the new page alone with what changed coloured. The
// changed places found by the pixel comparison are outlined in orange, the
// remarks made on the old version in blue on both pages, and the side list
// «Замечания на изменённых местах» says which remarks have a change under
// them and jumps to them.
type compareWindow struct {
	env   *env
	be    backend
	win   fyne.Window
	appID int64
	c     *app.Compare

	ctx    context.Context
	cancel context.CancelFunc
	post   func(func())

	loaders [2]*app.TileLoader
	sheet   *compareSheet
	scroll  *container.Scroll
	row     int

	mode       *widget.RadioGroup
	zoomLabel  *widget.Label
	zoomInBtn  *widget.Button
	zoomOutBtn *widget.Button
	fitBtn     *widget.Button
	nextBtn    *widget.Button
	rowLabel   *widget.Label
	legend     *widget.Label
	status     *widget.Label

	remarks    []app.RemarkOnNew
	remarkList *widget.List
	remarkBox  *fyne.Container
	selected   int // index into remarks, -1 when none

	// lastChange is the change «Следующее изменение» showed last and the
	// scroll offset it left: pressed again without scrolling, the search
	// continues after it.
	lastChange struct {
		key [2]int // row, region
		at  fyne.Position
		ok  bool
	}

	closed bool
}

// openCompare opens the comparison of old with new (two versions of one
// document of application appID) in a window of its own.
func openCompare(e *env, be backend, appID int64, old, new wire.DocumentVersion) *compareWindow {
	return openCompareWith(e, be, appID, old, new, e.onMain)
}

func openCompareWith(e *env, be backend, appID int64, old, new wire.DocumentVersion, post func(func())) *compareWindow {
	w := e.app.NewWindow(lang.L("compare.title", map[string]any{"Old": versionName(old), "New": versionName(new)}))
	cw := &compareWindow{env: e, be: be, win: w, appID: appID, post: post, row: -1, selected: -1}
	cw.ctx, cw.cancel = context.WithCancel(e.ctx)
	w.SetContent(container.NewCenter(widget.NewLabel(lang.L("compare.opening", map[string]any{"Old": old.Number, "New": new.Number}))))
	w.Resize(fyne.NewSize(1400, 900))
	w.SetOnClosed(cw.close)
	w.Show()
	e.spawn(func() {
		c, err := cw.open(old, new)
		post(func() {
			if cw.closed {
				if c != nil {
					e.spawn(func() { _ = c.Close(context.Background()) })
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
			cw.start(c)
		})
	})
	return cw
}

func versionName(v wire.DocumentVersion) string {
	return fmt.Sprintf("%s %d", lang.L("docs.version"), v.Number)
}

// open opens both versions in the one renderer.
func (cw *compareWindow) open(old, new wire.DocumentVersion) (*app.Compare, error) {
	if cw.env.renderers == nil {
		return nil, errors.New("compare: no PDF renderer in this environment")
	}
	r, err := cw.env.renderers.Get(cw.ctx)
	if err != nil {
		return nil, err
	}
	vo, err := cw.be.OpenVersion(cw.ctx, r, old)
	if err != nil {
		return nil, err
	}
	vn, err := cw.be.OpenVersion(cw.ctx, r, new)
	if err != nil {
		_ = vo.Close(context.Background())
		return nil, err
	}
	return app.NewCompare(vo, vn, app.DiffOptions{}), nil
}

func (cw *compareWindow) close() {
	if cw.closed {
		return
	}
	cw.closed = true
	cw.cancel()
	loaders, c := cw.loaders, cw.c
	cw.env.spawn(func() {
		for _, l := range loaders {
			if l != nil {
				l.Close()
			}
		}
		if c != nil {
			if err := c.Close(context.Background()); err != nil {
				cw.env.log.Warn("close compared documents", "err", err)
			}
		}
	})
}

// call runs work off the UI goroutine and hands the result to done on it,
// unless the window closed meanwhile.
func compareCall[T any](cw *compareWindow, what string, work func(context.Context) (T, error), done func(T, error)) {
	parent := cw.ctx
	cw.env.spawn(func() {
		v, err := work(parent)
		if err != nil && parent.Err() == nil {
			cw.env.log.Warn("compare call failed", "what", what, "err", err)
		}
		cw.post(func() {
			if !cw.closed {
				done(v, err)
			}
		})
	})
}

func (cw *compareWindow) start(c *app.Compare) {
	cw.c = c
	for side, v := range []*app.Viewer{c.Old, c.New} {
		cw.loaders[side] = app.NewTileLoader(v.Renderer(), v.Doc().ID, 2, func(r app.TileResult) {
			cw.post(func() {
				if !cw.closed {
					cw.sheet.arrived(side, r)
				}
			})
		})
	}
	cw.sheet = newCompareSheet(cw)
	cw.scroll = container.NewScroll(cw.sheet)
	cw.scroll.OnScrolled = func(p fyne.Position) {
		cw.sheet.offset = p
		cw.sheet.update()
	}
	view := container.New(&viewportLayout{resized: cw.viewportResized}, cw.scroll)

	cw.mode = widget.NewRadioGroup([]string{lang.L("compare.side_by_side"), lang.L("compare.overlay")}, func(s string) {
		m := app.CompareSideBySide
		if s == lang.L("compare.overlay") {
			m = app.CompareOverlay
		}
		cw.setMode(m)
	})
	cw.mode.Horizontal = true
	cw.mode.Required = true
	cw.mode.Selected = lang.L("compare.side_by_side")
	cw.zoomLabel = widget.NewLabel("")
	cw.zoomOutBtn = widget.NewButtonWithIcon("", theme.ZoomOutIcon(), cw.zoomOut)
	cw.zoomInBtn = widget.NewButtonWithIcon("", theme.ZoomInIcon(), cw.zoomIn)
	cw.fitBtn = widget.NewButtonWithIcon(lang.L("viewer.fit_width"), theme.ViewFullScreenIcon(), cw.fitWidth)
	cw.nextBtn = widget.NewButtonWithIcon(lang.L("compare.next_change"), theme.MoveDownIcon(), cw.nextChange)
	for _, b := range []*widget.Button{cw.zoomOutBtn, cw.zoomInBtn, cw.fitBtn, cw.nextBtn} {
		b.Importance = widget.LowImportance
	}
	cw.rowLabel = widget.NewLabel("")
	cw.legend = widget.NewLabel(lang.L("compare.legend"))
	cw.legend.Hide()
	entryH := widget.NewEntry().MinSize().Height
	toolbar := container.NewHBox(
		cw.mode, widget.NewSeparator(),
		cw.zoomOutBtn, container.NewGridWrap(fyne.NewSize(64, entryH), cw.zoomLabel), cw.zoomInBtn, cw.fitBtn,
		widget.NewSeparator(), cw.nextBtn, cw.legend,
		layout.NewSpacer(), cw.rowLabel,
	)
	cw.status = widget.NewLabel(lang.L("compare.aligning"))
	cw.status.Truncation = fyne.TextTruncateEllipsis

	cw.remarkList = widget.NewList(func() int { return len(cw.remarks) }, cw.newRemarkItem, cw.updateRemarkItem)
	cw.remarkList.OnSelected = func(id widget.ListItemID) { cw.jumpToRemark(id) }
	cw.remarkBox = container.NewStack(widget.NewLabel(lang.L("compare.remarks_loading")))
	side := container.NewBorder(widget.NewLabelWithStyle(lang.L("compare.remarks"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, nil, nil, cw.remarkBox)
	split := container.NewHSplit(view, side)
	split.Offset = 0.75
	cw.win.SetContent(container.NewBorder(container.NewVBox(toolbar, widget.NewSeparator()), cw.status, nil, nil, split))
	cw.addShortcuts()
	cw.showZoom()
	cw.align()
}

// align pairs the pages by their text in the background, then carries
// the remarks over; until then pages are paired by number.
func (cw *compareWindow) align() {
	c := cw.c
	compareCall(cw, "align pages", c.Align, func(_ []app.PagePair, err error) {
		if err != nil {
			cw.status.SetText(lang.L("compare.by_index", map[string]any{"Reason": message(err)}))
		} else {
			cw.status.SetText(lang.L("compare.aligned"))
		}
		cw.relayoutKeeping()
		cw.mapRemarks()
	})
}

func (cw *compareWindow) mapRemarks() {
	c := cw.c
	remarks := cw.be.Store().Remarks(cw.appID)
	compareCall(cw, "map remarks", func(ctx context.Context) ([]app.RemarkOnNew, error) {
		return c.MapRemarks(ctx, remarks)
	}, func(list []app.RemarkOnNew, err error) {
		if err != nil {
			l := widget.NewLabel(message(err))
			l.Wrapping = fyne.TextWrapWord
			cw.remarkBox.Objects = []fyne.CanvasObject{l}
			cw.remarkBox.Refresh()
			return
		}
		cw.setRemarks(list)
	})
}

func (cw *compareWindow) setRemarks(list []app.RemarkOnNew) {
	cw.remarks, cw.selected = list, -1
	if len(list) == 0 {
		l := widget.NewLabel(lang.L("compare.no_remarks"))
		l.Wrapping = fyne.TextWrapWord
		cw.remarkBox.Objects = []fyne.CanvasObject{l}
	} else {
		cw.remarkBox.Objects = []fyne.CanvasObject{cw.remarkList}
	}
	cw.remarkBox.Refresh()
	cw.remarkList.Refresh()
	cw.sheet.refreshOverlay()
}

func (cw *compareWindow) newRemarkItem() fyne.CanvasObject {
	head := widget.NewLabel("")
	head.TextStyle.Bold = true
	text := widget.NewLabel("")
	text.Truncation = fyne.TextTruncateEllipsis
	return container.NewVBox(head, text)
}

// remarkHead is a list item's first line: number, pages and the flag.
func remarkHead(m app.RemarkOnNew) (string, widget.Importance) {
	num := fmt.Sprint(m.Remark.Number)
	if m.Remark.Number == 0 {
		num = lang.L("compare.draft")
	}
	var s string
	if m.NewPage < 0 {
		s = lang.L("compare.remark_line_removed", map[string]any{"Number": num, "Old": m.OldPage + 1})
	} else {
		s = lang.L("compare.remark_line", map[string]any{"Number": num, "Old": m.OldPage + 1, "New": m.NewPage + 1})
	}
	switch {
	case m.NewPage < 0:
		return s + " · " + lang.L("compare.page_removed"), widget.DangerImportance
	case m.Changed:
		return s + " · " + lang.L("compare.changed"), widget.WarningImportance
	}
	return s + " · " + lang.L("compare.unchanged"), widget.SuccessImportance
}

func (cw *compareWindow) updateRemarkItem(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(cw.remarks) {
		return
	}
	m := cw.remarks[id]
	box := o.(*fyne.Container)
	head, imp := remarkHead(m)
	h := box.Objects[0].(*widget.Label)
	h.Importance = imp
	h.SetText(head)
	box.Objects[1].(*widget.Label).SetText(m.Remark.Text)
}

// jumpToRemark scrolls the remark's place (or its page) into view on both
// versions and draws it stronger.
func (cw *compareWindow) jumpToRemark(i int) {
	if i < 0 || i >= len(cw.remarks) {
		return
	}
	cw.selected = i
	m := cw.remarks[i]
	s := cw.sheet
	side, page, r := app.SideNew, m.NewPage, m.NewRect
	if m.NewPage < 0 {
		side, page, r = app.SideOld, m.OldPage, m.OldRect
	}
	row := s.lay.RowOf(side, page)
	if row < 0 {
		return
	}
	var px pdfrender.Rect
	if m.HasRect() {
		px = s.lay.FromPage(row, side, r)
		if side == app.SideNew && s.lay.Mode == app.CompareSideBySide && m.NewPage >= 0 {
			// Both versions' places in view: the union of the two.
			px = px.Union(s.lay.FromPage(row, app.SideOld, m.OldRect))
		}
	} else {
		rr := s.lay.RowRect(row)
		px = pdfrender.Rect{X0: float64(rr.Min.X), Y0: float64(rr.Min.Y), X1: float64(rr.Max.X), Y1: float64(rr.Min.Y) + 1}
	}
	cw.showRect(px)
	cw.status.SetText(m.Remark.Text)
}

// showRect scrolls so the strip rectangle r (layout pixels) is in view: a
// third of the way down, centred across when it does not fit.
func (cw *compareWindow) showRect(r pdfrender.Rect) {
	s := cw.sheet
	x0, y0 := float32(r.X0)/s.scale, float32(r.Y0)/s.scale
	x1, y1 := float32(r.X1)/s.scale, float32(r.Y1)/s.scale
	o, port := s.offset, s.port
	target := o
	if x0 < o.X || x1 > o.X+port.Width {
		target.X = (x0+x1)/2 - port.Width/2
	}
	if y0 < o.Y || y1 > o.Y+port.Height {
		target.Y = y0 - port.Height/3
	}
	cw.scrollTo(target)
	s.refreshOverlay()
}

// nextChange scrolls to the next changed place: the first below the line
// a third down the view (where a jump puts a change), or, right after a
// jump, the first after the change it showed (the view may not have been
// able to put it there at the end of the document). Diffs not yet
// computed are computed on the way.
func (cw *compareWindow) nextChange() {
	s := cw.sheet
	line := float64((s.offset.Y+s.port.Height/3)*s.scale) + 2
	after := [2]int{-1, -1}
	if cw.lastChange.ok && cw.lastChange.at == s.offset {
		after = cw.lastChange.key
	}
	c, lay := cw.c, s.lay
	from := max(lay.RowAt(int(float64(s.offset.Y*s.scale))), 0)
	if after[0] >= 0 {
		from = after[0]
	}
	type found struct {
		key [2]int
		px  pdfrender.Rect
	}
	compareCall(cw, "next change", func(ctx context.Context) (found, error) {
		for i := from; i < lay.Rows(); i++ {
			r := lay.Row(i)
			if r.Old < 0 || r.New < 0 {
				continue
			}
			d, err := c.Diff(ctx, r.Old, r.New)
			if err != nil {
				return found{}, err
			}
			for k, g := range d.Regions {
				px := lay.FromPage(i, app.SideNew, g.Rect)
				if after[0] >= 0 && (i > after[0] || i == after[0] && k > after[1]) || after[0] < 0 && px.Y0 > line {
					return found{[2]int{i, k}, px}, nil
				}
			}
		}
		return found{}, errNoMoreChanges
	}, func(f found, err error) {
		if err != nil {
			if errors.Is(err, errNoMoreChanges) {
				cw.status.SetText(lang.L("compare.no_more_changes"))
			} else {
				cw.status.SetText(message(err))
			}
			return
		}
		if cw.sheet.lay != lay {
			return // laid out again meanwhile: the place is stale
		}
		cw.scrollTo(fyne.NewPos(cw.sheet.offset.X, float32(f.px.Y0)/cw.sheet.scale-cw.sheet.port.Height/3))
		cw.lastChange.key, cw.lastChange.at, cw.lastChange.ok = f.key, cw.sheet.offset, true
	})
}

var errNoMoreChanges = errors.New("no more changes")

func (cw *compareWindow) setMode(m app.CompareMode) {
	if cw.c.Mode() == m {
		return
	}
	cw.c.SetMode(m)
	if m == app.CompareOverlay {
		cw.legend.Show()
	} else {
		cw.legend.Hide()
	}
	// A fitted zoom follows the number of columns.
	port := cw.sheet.port
	cw.zoomTo(func() float64 { return cw.c.ApplyFit(float64(port.Width), float64(port.Height)) })
}

func (cw *compareWindow) canvasScale() float32 {
	if s := cw.win.Canvas().Scale(); s > 0 {
		return s
	}
	return 1
}

func (cw *compareWindow) viewportResized(size fyne.Size) {
	cw.sheet.port = size
	cw.zoomTo(func() float64 { return cw.c.ApplyFit(float64(size.Width), float64(size.Height)) })
}

// zoomTo applies a change of zoom or mode and keeps the row in view at
// the same place: its top where it was, proportionally.
func (cw *compareWindow) zoomTo(apply func() float64) {
	s := cw.sheet
	row, frac := 0, float32(0)
	if s.lay != nil && s.lay.Rows() > 0 {
		vp := s.viewportPx()
		row = max(s.lay.CurrentRow(vp), 0)
		rr := s.lay.RowRect(row)
		if rr.Dy() > 0 {
			frac = float32(vp.Min.Y-rr.Min.Y) / float32(rr.Dy())
		}
	}
	apply()
	s.relayout()
	var y float32
	if row < s.lay.Rows() {
		rr := s.lay.RowRect(row)
		y = (float32(rr.Min.Y) + frac*float32(rr.Dy())) / s.scale
	}
	cw.scrollTo(fyne.NewPos(s.offset.X, y))
	cw.showZoom()
}

// relayoutKeeping lays out again after the alignment changed the rows.
func (cw *compareWindow) relayoutKeeping() {
	cw.zoomTo(func() float64 { z, _ := cw.c.Zoom(); return z })
}

func (cw *compareWindow) scrollTo(p fyne.Position) {
	s := cw.sheet
	content := s.MinSize().Max(cw.scroll.Size())
	s.Resize(content)
	p.X = min(max(p.X, 0), max(content.Width-s.port.Width, 0))
	p.Y = min(max(p.Y, 0), max(content.Height-s.port.Height, 0))
	cw.scroll.Offset = p
	cw.scroll.Refresh()
	s.offset = cw.scroll.Offset
	s.update()
}

func (cw *compareWindow) showZoom() {
	z, _ := cw.c.Zoom()
	cw.zoomLabel.SetText(formatZoom(z))
}

func (cw *compareWindow) zoomIn()  { cw.zoomTo(cw.c.ZoomIn) }
func (cw *compareWindow) zoomOut() { cw.zoomTo(cw.c.ZoomOut) }
func (cw *compareWindow) fitWidth() {
	cw.c.SetFit(app.FitWidth)
	port := cw.sheet.port
	cw.zoomTo(func() float64 { return cw.c.ApplyFit(float64(port.Width), float64(port.Height)) })
}

// rowInView is told the row under the viewport's middle.
func (cw *compareWindow) rowInView(row int) {
	if row == cw.row || row < 0 {
		return
	}
	cw.row = row
	cw.showRow()
}

// showRow says which pages the current row pairs and what changed.
func (cw *compareWindow) showRow() {
	if cw.row < 0 || cw.row >= cw.sheet.lay.Rows() {
		return
	}
	r := cw.sheet.lay.Row(cw.row)
	var s string
	switch {
	case r.Old < 0:
		s = lang.L("compare.row_added", map[string]any{"New": r.New + 1})
	case r.New < 0:
		s = lang.L("compare.row_removed", map[string]any{"Old": r.Old + 1})
	default:
		s = lang.L("compare.row", map[string]any{"Old": r.Old + 1, "New": r.New + 1})
		if d, ok := cw.c.CachedDiff(r.Old, r.New); ok {
			if d.Changed() {
				s += " · " + lang.L("compare.regions", map[string]any{"N": len(d.Regions)})
			} else {
				s += " · " + lang.L("compare.no_changes")
			}
		}
	}
	cw.rowLabel.SetText(s)
}

func (cw *compareWindow) typedKey(ev *fyne.KeyEvent) {
	if cw.sheet == nil {
		return
	}
	page := cw.sheet.port.Height * 0.9
	switch ev.Name {
	case fyne.KeyPageDown, fyne.KeySpace:
		cw.scrollTo(cw.sheet.offset.Add(fyne.NewDelta(0, page)))
	case fyne.KeyPageUp:
		cw.scrollTo(cw.sheet.offset.Add(fyne.NewDelta(0, -page)))
	case fyne.KeyDown:
		cw.scrollTo(cw.sheet.offset.Add(fyne.NewDelta(0, 40)))
	case fyne.KeyUp:
		cw.scrollTo(cw.sheet.offset.Add(fyne.NewDelta(0, -40)))
	}
}

func (cw *compareWindow) addShortcuts() {
	c := cw.win.Canvas()
	c.SetOnTypedKey(cw.typedKey)
	ctrl := fyne.KeyModifierShortcutDefault
	bind := func(k fyne.KeyName, mod fyne.KeyModifier, fn func()) {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: k, Modifier: mod}, func(fyne.Shortcut) { fn() })
	}
	for _, k := range []fyne.KeyName{fyne.KeyEqual, fyne.KeyPlus} {
		bind(k, ctrl, cw.zoomIn)
		bind(k, ctrl|fyne.KeyModifierShift, cw.zoomIn)
	}
	bind(fyne.KeyMinus, ctrl, cw.zoomOut)
	bind(fyne.Key0, ctrl, cw.fitWidth)
}

// compareVersion is the Документы tab's «Сравнить с предыдущей».
func (v *documentsView) compareVersion(d wire.Document, ver wire.DocumentVersion) {
	prev, ok := app.PreviousVersion(d, ver)
	if !ok {
		return
	}
	openCompare(v.env, v.be, v.appID, prev, ver)
}
