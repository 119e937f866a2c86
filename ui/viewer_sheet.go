package ui

import (
	"context"
	"image"
	"image/color"
	"image/draw"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
	xdraw "golang.org/x/image/draw"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/app/pdfrender"
)

// Colours of the page view: the desk around the pages, and the overlay.
var (
	deskColour     = color.NRGBA{R: 0x6b, G: 0x6e, B: 0x73, A: 0xff}
	hitFill        = color.NRGBA{R: 0xff, G: 0xd5, B: 0x00, A: 0x60}
	currentHitFill = color.NRGBA{R: 0xff, G: 0x8c, B: 0x00, A: 0x80}
	currentHitLine = color.NRGBA{R: 0xe0, G: 0x60, B: 0x00, A: 0xff}
	selectionFill  = color.NRGBA{R: 0x1e, G: 0x6f, B: 0xd9, A: 0x40}
	// The place a remark points at: outlined red over a light tint.
	focusFill       = color.NRGBA{R: 0xd9, G: 0x1e, B: 0x1e, A: 0x20}
	focusLine       = color.NRGBA{R: 0xd9, G: 0x1e, B: 0x1e, A: 0xff}
	annotationLine  = color.NRGBA{R: 0x1e, G: 0x6f, B: 0xd9, A: 0xc0}
	annotationHover = color.NRGBA{R: 0x1e, G: 0x6f, B: 0xd9, A: 0x30}
)

// pageSheet is the content of the viewer's scroll container: as tall as
// the whole document laid out page under page, so the scroll bar and a
// jump are instant, yet it draws only the viewport — one raster the size
// of the window, placed at the scroll offset and composed from the tiles
// of the current zoom (the page's preview stretched where tiles have not
// arrived) — and an overlay of the few rectangles in view: search hits,
// the text selection and the annotations stored in the file. Per
// FINDINGS.md, Fyne's painter draws off-screen objects too, so no object
// exists per page.
//
// Every method runs on the UI goroutine; tiles come back through the
// window's post function.
type pageSheet struct {
	widget.BaseWidget
	vw *viewerWindow

	lay    *app.Layout
	scale  float32       // pixels per unit
	offset fyne.Position // the scroll offset, in units
	port   fyne.Size     // the viewport, in units

	tiles    map[app.TileReq]*image.RGBA // at lay.View, in or near the view
	previews map[app.TileReq]*image.RGBA
	failed   map[int]error // pages the renderer refused
	annots   map[int][]pdfrender.Annotation
	asked    map[int]bool // annotations requested
	wanted   []app.TileReq

	raster  *canvas.Raster
	overlay *fyne.Container
	frame   *image.RGBA // reused between frames

	// The text selection: the drag's start and end in sheet units, and
	// the page rectangle it covers.
	dragging       bool
	dragFrom       fyne.Position
	selPage        int
	sel            pdfrender.Rect
	hoverPage      int
	hoverAnnot     int // index into annots[hoverPage], -1 when none
	composedFrames int
}

func newPageSheet(vw *viewerWindow) *pageSheet {
	s := &pageSheet{vw: vw, scale: 1, selPage: -1, hoverAnnot: -1,
		tiles: map[app.TileReq]*image.RGBA{}, previews: map[app.TileReq]*image.RGBA{},
		failed: map[int]error{}, annots: map[int][]pdfrender.Annotation{}, asked: map[int]bool{}}
	s.raster = canvas.NewRaster(s.compose)
	s.raster.ScaleMode = canvas.ImageScalePixels
	s.overlay = container.NewWithoutLayout()
	s.ExtendBaseWidget(s)
	return s
}

// MinSize is the whole document at the current zoom.
func (s *pageSheet) MinSize() fyne.Size {
	if s.lay == nil {
		return fyne.NewSize(1, 1)
	}
	w, h := s.lay.Size()
	return fyne.NewSize(float32(w)/s.scale, float32(h)/s.scale)
}

func (s *pageSheet) CreateRenderer() fyne.WidgetRenderer { return &sheetRenderer{s: s} }

type sheetRenderer struct{ s *pageSheet }

func (r *sheetRenderer) Layout(fyne.Size) {
	s := r.s
	s.raster.Move(s.offset)
	s.raster.Resize(s.port)
	s.overlay.Move(s.offset)
	s.overlay.Resize(s.port)
}
func (r *sheetRenderer) MinSize() fyne.Size { return r.s.MinSize() }
func (r *sheetRenderer) Refresh() {
	r.Layout(r.s.Size())
	canvas.Refresh(r.s.raster)
	r.s.overlay.Refresh()
}
func (r *sheetRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.s.raster, r.s.overlay}
}
func (r *sheetRenderer) Destroy() {}

// relayout lays the document out again after a change of zoom, rotation,
// pixel density or viewport width.
func (s *pageSheet) relayout() {
	s.scale = s.vw.canvasScale()
	s.lay = s.vw.v.Layout(float64(s.scale), int(math.Ceil(float64(s.port.Width*s.scale))))
}

// viewportPx is the viewport in layout pixels.
func (s *pageSheet) viewportPx() image.Rectangle {
	x, y := int(math.Round(float64(s.offset.X*s.scale))), int(math.Round(float64(s.offset.Y*s.scale)))
	return image.Rect(x, y, x+int(math.Ceil(float64(s.port.Width*s.scale))), y+int(math.Ceil(float64(s.port.Height*s.scale))))
}

// update asks for what the viewport now shows (and half a screen around
// it), forgets pictures that left it, and redraws.
func (s *pageSheet) update() {
	if s.lay == nil || s.port.Width <= 0 || s.port.Height <= 0 {
		return
	}
	vp := s.viewportPx()
	reqs := s.lay.Visible(vp, vp.Dy()/2)
	keep := make(map[app.TileReq]bool, len(reqs))
	missing := reqs[:0:0]
	for _, r := range reqs {
		keep[r] = true
		if s.failed[r.Page] != nil {
			continue
		}
		if r.Preview && s.previews[r] == nil || !r.Preview && s.tiles[r] == nil {
			missing = append(missing, r)
		}
	}
	for k := range s.tiles {
		if !keep[k] {
			delete(s.tiles, k)
		}
	}
	for k := range s.previews {
		if !keep[k] {
			delete(s.previews, k)
		}
	}
	s.wanted = missing
	s.vw.loader.Want(missing)
	for i := s.lay.PageAt(vp.Min.Y); i >= 0 && i < s.lay.Pages() && s.lay.PageRect(i).Min.Y < vp.Max.Y; i++ {
		s.loadAnnotations(i)
	}
	s.vw.pageInView(s.lay.CurrentPage(vp))
	s.refreshOverlay()
	s.Refresh()
}

// arrived takes a picture from the loader; one for a zoom or rotation no
// longer shown is dropped.
func (s *pageSheet) arrived(res app.TileResult) {
	if s.lay == nil {
		return
	}
	if res.Err != nil {
		s.vw.env.log.Warn("page not rendered", "page", res.Req.Page+1, "err", res.Err)
		s.failed[res.Req.Page] = res.Err
		s.vw.pageFailed(res.Req.Page, res.Err)
		return
	}
	switch {
	case res.Req.Preview:
		if res.Req.View.Rotation != s.lay.View.Rotation {
			return
		}
		s.previews[res.Req] = res.Image
	case res.Req.View == s.lay.View:
		s.tiles[res.Req] = res.Image
	default:
		return
	}
	canvas.Refresh(s.raster)
}

// tileRange is the tiles of page i that cover in (layout pixels).
func (s *pageSheet) tileRange(i int, in image.Rectangle) (tx0, ty0, tx1, ty1 int) {
	r := s.lay.PageRect(i)
	cols, rows := s.lay.View.TileGrid(s.vw.v.Doc().Pages[i])
	return (in.Min.X - r.Min.X) / pdfrender.TileSize, (in.Min.Y - r.Min.Y) / pdfrender.TileSize,
		min((in.Max.X-1-r.Min.X)/pdfrender.TileSize, cols-1), min((in.Max.Y-1-r.Min.Y)/pdfrender.TileSize, rows-1)
}

// compose draws the viewport: the desk, each page in view as its
// preview stretched to size, and the tiles that have arrived over it.
func (s *pageSheet) compose(w, h int) image.Image {
	s.composedFrames++
	if s.frame == nil || s.frame.Bounds().Dx() != w || s.frame.Bounds().Dy() != h {
		s.frame = image.NewRGBA(image.Rect(0, 0, w, h))
	}
	f := s.frame
	draw.Draw(f, f.Bounds(), image.NewUniform(deskColour), image.Point{}, draw.Src)
	if s.lay == nil {
		return f
	}
	vp := s.viewportPx()
	vp.Max = vp.Min.Add(image.Pt(w, h))
	for i := max(s.lay.PageAt(vp.Min.Y), 0); i < s.lay.Pages(); i++ {
		r := s.lay.PageRect(i)
		if r.Min.Y >= vp.Max.Y {
			break
		}
		in := r.Intersect(vp)
		if in.Empty() {
			continue
		}
		tx0, ty0, tx1, ty1 := s.tileRange(i, in)
		covered := true
		for ty := ty0; ty <= ty1 && covered; ty++ {
			for tx := tx0; tx <= tx1; tx++ {
				if s.tiles[app.TileReq{Page: i, View: s.lay.View, TX: tx, TY: ty}] == nil {
					covered = false
					break
				}
			}
		}
		dst := r.Sub(vp.Min)
		if !covered {
			draw.Draw(f, dst, image.White, image.Point{}, draw.Src)
			if p := s.previews[app.TileReq{Page: i, View: pdfrender.View{Rotation: s.lay.View.Rotation}, Preview: true}]; p != nil {
				// Scale clips to the frame: only the part in view is computed.
				xdraw.ApproxBiLinear.Scale(f, dst, p, p.Bounds(), draw.Src, nil)
			}
		}
		for ty := ty0; ty <= ty1; ty++ {
			for tx := tx0; tx <= tx1; tx++ {
				k := app.TileReq{Page: i, View: s.lay.View, TX: tx, TY: ty}
				if img := s.tiles[k]; img != nil {
					draw.Draw(f, s.lay.TileRect(k).Sub(vp.Min), img, image.Point{}, draw.Src)
				}
			}
		}
	}
	return f
}

// loadAnnotations reads the annotations stored on page once.
func (s *pageSheet) loadAnnotations(page int) {
	if s.asked[page] {
		return
	}
	s.asked[page] = true
	v := s.vw.v
	viewerCall(s.vw, "annotations", func(ctx context.Context) ([]pdfrender.Annotation, error) {
		return v.Annotations(ctx, page)
	}, func(a []pdfrender.Annotation, err error) {
		if err != nil {
			return
		}
		s.annots[page] = a
		s.refreshOverlay()
		if page == s.vw.page {
			s.vw.showAnnotations()
		}
	})
}

// unitsRect turns a rectangle of layout pixels into a position and size
// in the overlay (units, relative to the viewport).
func (s *pageSheet) unitsRect(r pdfrender.Rect, vp image.Rectangle) (fyne.Position, fyne.Size) {
	return fyne.NewPos(float32(r.X0-float64(vp.Min.X))/s.scale, float32(r.Y0-float64(vp.Min.Y))/s.scale),
		fyne.NewSize(float32(r.X1-r.X0)/s.scale, float32(r.Y1-r.Y0)/s.scale)
}

// refreshOverlay rebuilds the rectangles drawn over the pages in view.
func (s *pageSheet) refreshOverlay() {
	if s.lay == nil {
		return
	}
	vp := s.viewportPx()
	var objs []fyne.CanvasObject
	add := func(page int, pr pdfrender.Rect, fill, stroke color.Color, width float32) {
		r := s.lay.FromPage(page, pr)
		rect := canvas.NewRectangle(fill)
		rect.StrokeColor, rect.StrokeWidth = stroke, width
		pos, size := s.unitsRect(r, vp)
		rect.Move(pos)
		rect.Resize(size)
		objs = append(objs, rect)
	}
	for i := max(s.lay.PageAt(vp.Min.Y), 0); i < s.lay.Pages() && s.lay.PageRect(i).Min.Y < vp.Max.Y; i++ {
		if !s.lay.PageRect(i).Overlaps(vp) {
			continue
		}
		for j, a := range s.annots[i] {
			fill := color.Color(color.Transparent)
			if i == s.hoverPage && j == s.hoverAnnot {
				fill = annotationHover
			}
			add(i, a.Rect, fill, annotationLine, 1)
		}
		hits, cur := s.vw.v.HitsOn(i)
		for k, h := range hits {
			for _, r := range h.Rects {
				if cur[k] {
					add(i, r, currentHitFill, currentHitLine, 1.5)
				} else {
					add(i, r, hitFill, color.Transparent, 0)
				}
			}
		}
	}
	if s.selPage >= 0 && !s.sel.Empty() {
		add(s.selPage, s.sel, selectionFill, color.Transparent, 0)
	}
	if page, r, ok := s.vw.focusRect(); ok {
		add(page, r, focusFill, focusLine, 2.5)
	}
	if s.vw.annots != nil {
		objs = append(objs, s.vw.annots.objects(vp)...)
	}
	s.overlay.Objects = objs
	s.overlay.Refresh()
}

// Scrolled scrolls the view, or zooms about the pointer with Ctrl held.
func (s *pageSheet) Scrolled(ev *fyne.ScrollEvent) {
	if s.vw.mods()&(fyne.KeyModifierControl|fyne.KeyModifierSuper) != 0 {
		// One wheel notch is 25 units on Linux: 10 % a notch.
		factor := math.Pow(1.1, float64(ev.Scrolled.DY)/25)
		z, _ := s.vw.v.Zoom()
		s.vw.zoomTo(func() float64 { return s.vw.v.SetZoom(z * factor) }, ev.Position.Subtract(s.offset))
		return
	}
	s.vw.scroll.Scrolled(ev)
}

// pagePoint maps a point of the sheet (units) to page points.
func (s *pageSheet) pagePoint(p fyne.Position) (page int, x, y float64, ok bool) {
	if s.lay == nil {
		return -1, 0, 0, false
	}
	return s.lay.ToPage(float64(p.X*s.scale), float64(p.Y*s.scale))
}

// Dragged selects text: the rectangle from where the drag started to
// the pointer, on the page where it started. The real driver's first
// event has Dragged = the distance from the press, so Position − Dragged
// is where the button went down (Fyne's test helper sends one event the
// same way).
func (s *pageSheet) Dragged(ev *fyne.DragEvent) {
	if s.lay == nil {
		return
	}
	if a := s.vw.annots; a != nil {
		// An annotation tool, or a press on a mark the user may move,
		// makes the drag the annotation layer's; otherwise it selects text.
		if !s.dragging && a.g.mode == gestNone && a.dragStart(ev.Position.Subtract(ev.Dragged)) {
			a.dragged(ev.Position)
			return
		}
		if a.g.mode != gestNone && a.g.mode != gestText {
			a.dragged(ev.Position)
			return
		}
	}
	if !s.dragging {
		s.dragging = true
		s.dragFrom = ev.Position.Subtract(ev.Dragged)
		page, _, _, ok := s.pagePoint(s.dragFrom)
		if !ok {
			// Started in a gap: the page below (or above) the press.
			page = s.lay.PageAt(int(s.dragFrom.Y * s.scale))
		}
		s.selPage = page
	}
	to := ev.Position
	if s.selPage < 0 {
		return
	}
	// The drag rectangle in layout pixels, clipped to the page, in points.
	r := s.lay.PageRect(s.selPage)
	x0, x1 := float64(min(s.dragFrom.X, to.X)*s.scale), float64(max(s.dragFrom.X, to.X)*s.scale)
	y0, y1 := float64(min(s.dragFrom.Y, to.Y)*s.scale), float64(max(s.dragFrom.Y, to.Y)*s.scale)
	x0, x1 = max(x0, float64(r.Min.X)), min(x1, float64(r.Max.X))
	y0, y1 = max(y0, float64(r.Min.Y)), min(y1, float64(r.Max.Y))
	if x1 <= x0 || y1 <= y0 {
		s.sel = pdfrender.Rect{}
	} else {
		p := s.vw.v.Doc().Pages[s.selPage]
		ox, oy := float64(r.Min.X), float64(r.Min.Y)
		ax, ay := s.lay.View.PixelToPoint(p, x0-ox, y0-oy)
		bx, by := s.lay.View.PixelToPoint(p, x1-ox, y1-oy)
		s.sel = pdfrender.Rect{X0: min(ax, bx), Y0: min(ay, by), X1: max(ax, bx), Y1: max(ay, by)}
	}
	s.refreshOverlay()
}

// DragEnd reads the selected text for Ctrl+C.
func (s *pageSheet) DragEnd() {
	if a := s.vw.annots; a != nil && a.g.mode != gestNone {
		text := a.g.mode == gestText
		if !text {
			a.dragEnd()
			return
		}
		a.g = gesture{}
	}
	s.dragging = false
	s.vw.selectionDone(s.selPage, s.sel)
}

// Tapped selects the annotation under the pointer.
func (s *pageSheet) Tapped(ev *fyne.PointEvent) {
	if a := s.vw.annots; a != nil && s.lay != nil {
		a.tapped(ev.Position)
	}
}

// MouseDown takes the keyboard from the search box (so Ctrl+C copies the
// page's selection) and drops the old selection.
func (s *pageSheet) MouseDown(*desktop.MouseEvent) {
	if c := s.vw.win.Canvas(); c.Focused() != nil {
		c.Unfocus()
	}
	if s.selPage >= 0 {
		s.selPage, s.sel = -1, pdfrender.Rect{}
		s.vw.selText = ""
		s.refreshOverlay()
	}
}

func (s *pageSheet) MouseUp(*desktop.MouseEvent) {}

func (s *pageSheet) MouseIn(ev *desktop.MouseEvent) { s.MouseMoved(ev) }

// MouseMoved shows the contents of the annotation under the pointer in
// the status line (Fyne has no tooltips).
func (s *pageSheet) MouseMoved(ev *desktop.MouseEvent) {
	page, x, y, ok := s.pagePoint(ev.Position)
	hit := -1
	if ok {
		for j, a := range s.annots[page] {
			if x >= a.Rect.X0 && x <= a.Rect.X1 && y >= a.Rect.Y0 && y <= a.Rect.Y1 {
				hit = j
			}
		}
	}
	if page == s.hoverPage && hit == s.hoverAnnot {
		return
	}
	s.hoverPage, s.hoverAnnot = page, hit
	if hit >= 0 {
		s.vw.setStatus(annotationText(s.annots[page][hit]))
	} else {
		s.vw.setStatus("")
	}
	s.refreshOverlay()
}

func (s *pageSheet) MouseOut() {
	if s.hoverAnnot >= 0 {
		s.hoverAnnot = -1
		s.vw.setStatus("")
		s.refreshOverlay()
	}
}

var (
	_ fyne.Scrollable     = (*pageSheet)(nil)
	_ fyne.Draggable      = (*pageSheet)(nil)
	_ fyne.Tappable       = (*pageSheet)(nil)
	_ desktop.Mouseable   = (*pageSheet)(nil)
	_ desktop.Hoverable   = (*pageSheet)(nil)
	_ fyne.WidgetRenderer = (*sheetRenderer)(nil)
)
