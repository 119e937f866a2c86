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
	"fyne.io/fyne/v2/widget"
	xdraw "golang.org/x/image/draw"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/app/pdfrender"
)

// Colours of the comparison's overlay.
var (
	changeLine     = color.NRGBA{R: 0xff, G: 0x7a, B: 0x00, A: 0xe0}
	changeFill     = color.NRGBA{R: 0xff, G: 0x7a, B: 0x00, A: 0x18}
	remarkLine     = color.NRGBA{R: 0x1e, G: 0x6f, B: 0xd9, A: 0xd0}
	remarkSelFill  = color.NRGBA{R: 0x1e, G: 0x6f, B: 0xd9, A: 0x30}
	addedPageLine  = color.NRGBA{R: 0x10, G: 0xa0, B: 0x20, A: 0xff}
	removedPageLin = color.NRGBA{R: 0xd0, G: 0x10, B: 0x10, A: 0xff}
)

// compareSheet is the content of the comparison's scroll container: the
// whole strip of page pairs, drawing only the viewport from the tiles of
// both versions at the one zoom, like the viewer's pageSheet (one raster
// at the scroll offset, an overlay of the few rectangles in view). In
// overlay mode a tile of the new page and the same tile of the old page
// are composed into one, what changed coloured.
type compareSheet struct {
	widget.BaseWidget
	cw *compareWindow

	lay    *app.CompareLayout
	scale  float32
	offset fyne.Position
	port   fyne.Size

	tiles    map[app.CompareTileReq]*image.RGBA
	previews map[app.CompareTileReq]*image.RGBA
	wanted   []app.CompareTileReq
	asked    map[[2]int]bool // page pairs whose diff was requested

	raster  *canvas.Raster
	overlay *fyne.Container
	frame   *image.RGBA
	mixed   *image.RGBA // reused for the overlay of one tile
}

func newCompareSheet(cw *compareWindow) *compareSheet {
	s := &compareSheet{cw: cw, scale: 1,
		tiles: map[app.CompareTileReq]*image.RGBA{}, previews: map[app.CompareTileReq]*image.RGBA{}, asked: map[[2]int]bool{}}
	s.raster = canvas.NewRaster(s.compose)
	s.raster.ScaleMode = canvas.ImageScalePixels
	s.overlay = container.NewWithoutLayout()
	s.ExtendBaseWidget(s)
	return s
}

func (s *compareSheet) MinSize() fyne.Size {
	if s.lay == nil {
		return fyne.NewSize(1, 1)
	}
	w, h := s.lay.Size()
	return fyne.NewSize(float32(w)/s.scale, float32(h)/s.scale)
}

func (s *compareSheet) CreateRenderer() fyne.WidgetRenderer { return &compareRenderer{s: s} }

type compareRenderer struct{ s *compareSheet }

func (r *compareRenderer) Layout(fyne.Size) {
	s := r.s
	s.raster.Move(s.offset)
	s.raster.Resize(s.port)
	s.overlay.Move(s.offset)
	s.overlay.Resize(s.port)
}
func (r *compareRenderer) MinSize() fyne.Size { return r.s.MinSize() }
func (r *compareRenderer) Refresh() {
	r.Layout(r.s.Size())
	canvas.Refresh(r.s.raster)
	r.s.overlay.Refresh()
}
func (r *compareRenderer) Objects() []fyne.CanvasObject {
	return []fyne.CanvasObject{r.s.raster, r.s.overlay}
}
func (r *compareRenderer) Destroy() {}

func (s *compareSheet) relayout() {
	s.scale = s.cw.canvasScale()
	s.lay = s.cw.c.Layout(float64(s.scale), int(math.Ceil(float64(s.port.Width*s.scale))))
	// Tiles of another zoom or mode are dropped by update.
}

func (s *compareSheet) viewportPx() image.Rectangle {
	x, y := int(math.Round(float64(s.offset.X*s.scale))), int(math.Round(float64(s.offset.Y*s.scale)))
	return image.Rect(x, y, x+int(math.Ceil(float64(s.port.Width*s.scale))), y+int(math.Ceil(float64(s.port.Height*s.scale))))
}

// update asks both loaders for what the viewport shows, the diffs of the
// pairs in view, forgets pictures that left it, and redraws.
func (s *compareSheet) update() {
	if s.lay == nil || s.port.Width <= 0 || s.port.Height <= 0 {
		return
	}
	vp := s.viewportPx()
	reqs, rows := s.lay.Visible(vp, vp.Dy()/2)
	keep := make(map[app.CompareTileReq]bool, len(reqs))
	var want [2][]app.TileReq
	s.wanted = s.wanted[:0]
	for k, r := range reqs {
		keep[r] = true
		have := r.Preview && s.previews[r] != nil || !r.Preview && s.tiles[r] != nil
		if !have {
			want[r.Side] = append(want[r.Side], r.TileReq)
			s.wanted = append(s.wanted, r)
		}
		s.askDiff(rows[k])
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
	s.cw.loaders[app.SideOld].Want(want[app.SideOld])
	s.cw.loaders[app.SideNew].Want(want[app.SideNew])
	s.cw.rowInView(s.lay.CurrentRow(vp))
	s.refreshOverlay()
	s.Refresh()
}

// askDiff computes the diff of row's pages once, in the background.
func (s *compareSheet) askDiff(row int) {
	r := s.lay.Row(row)
	key := [2]int{r.Old, r.New}
	if r.Old < 0 || r.New < 0 || s.asked[key] {
		return
	}
	s.asked[key] = true
	c := s.cw.c
	compareCall(s.cw, "page diff", func(ctx context.Context) (app.PageDiff, error) {
		return c.Diff(ctx, r.Old, r.New)
	}, func(_ app.PageDiff, err error) {
		if err != nil {
			s.cw.status.SetText(message(err))
			return
		}
		s.refreshOverlay()
		s.cw.showRow()
	})
}

func (s *compareSheet) arrived(side int, res app.TileResult) {
	if s.lay == nil {
		return
	}
	k := app.CompareTileReq{Side: side, TileReq: res.Req}
	if res.Err != nil {
		s.cw.env.log.Warn("compared page not rendered", "side", side, "page", res.Req.Page+1, "err", res.Err)
		return
	}
	switch {
	case res.Req.Preview:
		s.previews[k] = res.Image
	case res.Req.View == s.lay.View:
		s.tiles[k] = res.Image
	default:
		return
	}
	canvas.Refresh(s.raster)
}

// pageNo is the page of side in row i, -1 when none.
func pageNo(r app.PagePair, side int) int {
	if side == app.SideOld {
		return r.Old
	}
	return r.New
}

// compose draws the viewport: for each page in view its preview
// stretched, then its tiles; in overlay mode, where both versions' tiles
// of a pair have arrived, their composition.
func (s *compareSheet) compose(w, h int) image.Image {
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
	overlay := s.lay.Mode == app.CompareOverlay
	for i := max(s.lay.RowAt(vp.Min.Y), 0); i < s.lay.Rows(); i++ {
		if s.lay.RowRect(i).Min.Y >= vp.Max.Y {
			break
		}
		row := s.lay.Row(i)
		sides := []int{app.SideOld, app.SideNew}
		if overlay && row.New >= 0 {
			sides = []int{app.SideNew} // the old page is mixed into it
		}
		for _, side := range sides {
			p := pageNo(row, side)
			r := s.lay.PageRect(i, side)
			if p < 0 || !r.Overlaps(vp) {
				continue
			}
			dst := r.Sub(vp.Min)
			draw.Draw(f, dst, image.White, image.Point{}, draw.Src)
			if pv := s.previews[app.CompareTileReq{Side: side, TileReq: app.TileReq{Page: p, Preview: true}}]; pv != nil {
				xdraw.ApproxBiLinear.Scale(f, dst, pv, pv.Bounds(), draw.Src, nil)
			}
			mix := overlay && side == app.SideNew && row.Old >= 0 && !s.lay.Stretched(i, app.SideOld)
			s.drawTiles(f, vp, i, side, p, row.Old, mix)
		}
	}
	return f
}

// drawTiles draws the tiles of page p (side) of row i that have arrived;
// with mix, each is composed with the same tile of old page op.
func (s *compareSheet) drawTiles(f *image.RGBA, vp image.Rectangle, i, side, p, op int, mix bool) {
	cols, rows := s.lay.View.TileGrid(s.pageInfo(side, p))
	r := s.lay.PageRect(i, side)
	in := r.Intersect(vp)
	tx0, ty0 := (in.Min.X-r.Min.X)/pdfrender.TileSize, (in.Min.Y-r.Min.Y)/pdfrender.TileSize
	tx1, ty1 := min((in.Max.X-1-r.Min.X)/pdfrender.TileSize, cols-1), min((in.Max.Y-1-r.Min.Y)/pdfrender.TileSize, rows-1)
	for ty := ty0; ty <= ty1; ty++ {
		for tx := tx0; tx <= tx1; tx++ {
			k := app.CompareTileReq{Side: side, TileReq: app.TileReq{Page: p, View: s.lay.View, TX: tx, TY: ty}}
			img := s.tiles[k]
			if img == nil {
				continue
			}
			if mix {
				ko := app.CompareTileReq{Side: app.SideOld, TileReq: app.TileReq{Page: op, View: s.lay.View, TX: tx, TY: ty}}
				if old := s.tiles[ko]; old != nil {
					if s.mixed == nil || s.mixed.Bounds() != img.Bounds() {
						s.mixed = image.NewRGBA(img.Bounds())
					}
					app.OverlayInto(s.mixed, old, img)
					img = s.mixed
				}
			}
			draw.Draw(f, s.lay.TileRect(i, k).Sub(vp.Min), img, image.Point{}, draw.Src)
		}
	}
}

func (s *compareSheet) pageInfo(side, p int) pdfrender.PageInfo {
	if side == app.SideOld {
		return s.cw.c.Old.Doc().Pages[p]
	}
	return s.cw.c.New.Doc().Pages[p]
}

// refreshOverlay rebuilds the rectangles over the pages in view: a frame
// round added (green) and removed (red) pages, the changed places, and
// the remarks' places (the one chosen in the list filled).
func (s *compareSheet) refreshOverlay() {
	if s.lay == nil {
		return
	}
	vp := s.viewportPx()
	var objs []fyne.CanvasObject
	addPx := func(r pdfrender.Rect, fill, stroke color.Color, width float32) {
		rect := canvas.NewRectangle(fill)
		rect.StrokeColor, rect.StrokeWidth = stroke, width
		rect.Move(fyne.NewPos(float32(r.X0-float64(vp.Min.X))/s.scale, float32(r.Y0-float64(vp.Min.Y))/s.scale))
		rect.Resize(fyne.NewSize(float32(r.X1-r.X0)/s.scale, float32(r.Y1-r.Y0)/s.scale))
		objs = append(objs, rect)
	}
	side := s.lay.Mode == app.CompareSideBySide
	c := s.cw.c
	for i := max(s.lay.RowAt(vp.Min.Y), 0); i < s.lay.Rows() && s.lay.RowRect(i).Min.Y < vp.Max.Y; i++ {
		if !s.lay.RowRect(i).Overlaps(vp) {
			continue
		}
		row := s.lay.Row(i)
		switch {
		case row.Old < 0:
			pr := s.lay.PageRect(i, app.SideNew)
			addPx(pdfrender.Rect{X0: float64(pr.Min.X), Y0: float64(pr.Min.Y), X1: float64(pr.Max.X), Y1: float64(pr.Max.Y)}, color.Transparent, addedPageLine, 3)
		case row.New < 0:
			pr := s.lay.PageRect(i, app.SideOld)
			addPx(pdfrender.Rect{X0: float64(pr.Min.X), Y0: float64(pr.Min.Y), X1: float64(pr.Max.X), Y1: float64(pr.Max.Y)}, color.Transparent, removedPageLin, 3)
		default:
			if d, ok := c.CachedDiff(row.Old, row.New); ok {
				np, op := c.New.Doc().Pages[row.New], c.Old.Doc().Pages[row.Old]
				for _, g := range d.Regions {
					addPx(s.lay.FromPage(i, app.SideNew, g.Rect), changeFill, changeLine, 1.5)
					if side {
						addPx(s.lay.FromPage(i, app.SideOld, app.MapRect(g.Rect, np, op)), changeFill, changeLine, 1.5)
					}
				}
			}
		}
	}
	for k, m := range s.cw.remarks {
		fill := color.Color(color.Transparent)
		width := float32(1.5)
		if k == s.cw.selected {
			fill, width = remarkSelFill, 3
		}
		for _, sd := range []int{app.SideOld, app.SideNew} {
			p, r := m.OldPage, m.OldRect
			if sd == app.SideNew {
				p, r = m.NewPage, m.NewRect
			}
			if p < 0 || !m.HasRect() || !side && sd == app.SideOld && m.NewPage >= 0 {
				continue
			}
			row := s.lay.RowOf(sd, p)
			if row < 0 || !s.lay.RowRect(row).Overlaps(vp) {
				continue
			}
			addPx(s.lay.FromPage(row, sd, r), fill, remarkLine, width)
		}
	}
	s.overlay.Objects = objs
	s.overlay.Refresh()
}

// Scrolled zooms with Ctrl held, else scrolls.
func (s *compareSheet) Scrolled(ev *fyne.ScrollEvent) {
	if currentModifiers()&(fyne.KeyModifierControl|fyne.KeyModifierSuper) != 0 {
		z, _ := s.cw.c.Zoom()
		factor := math.Pow(1.1, float64(ev.Scrolled.DY)/25)
		s.cw.zoomTo(func() float64 { return s.cw.c.SetZoom(z * factor) })
		return
	}
	s.cw.scroll.Scrolled(ev)
}

var (
	_ fyne.Scrollable     = (*compareSheet)(nil)
	_ fyne.WidgetRenderer = (*compareRenderer)(nil)
)
