package app

import (
	"image"
	"math"
	"sort"

	"github.com/expertiza/expertiza/app/pdfrender"
)

// PreviewSide is the longest side in pixels of the low-resolution page
// picture shown while a page's tiles are on their way: small enough to
// render in milliseconds, large enough to read the page's shape.
const PreviewSide = 256

// ThumbSide is the longest side in pixels of a page in the viewer's
// thumbnails panel (kept on disk by the renderer).
const ThumbSide = 128

// TileReq names one picture the viewer wants from the renderer: either
// tile (TX, TY) of a page's raster at View, or (Preview) the whole page
// fitted into PreviewSide pixels at View.Rotation, or (Thumb) the page's
// thumbnail of ThumbSide pixels. It is comparable and serves as the key of
// what is shown and what is in flight.
type TileReq struct {
	Page    int
	View    pdfrender.View
	Preview bool
	Thumb   bool
	TX, TY  int
}

// Layout places the pages one under the other, centred, with a gap
// between them and around them: the continuous vertical layout of the
// viewer. Everything is in layout pixels at View (zoom already multiplied
// by the screen's pixel density), with the origin at the top-left corner
// of the whole strip.
type Layout struct {
	View  pdfrender.View
	pages []pdfrender.PageInfo
	rects []image.Rectangle
	w, h  int
	gap   int
}

// NewLayout lays out pages at v with gap pixels between and around them.
// The strip is at least minWidth wide (the viewport's width), so narrow
// pages sit in the middle of the window.
func NewLayout(pages []pdfrender.PageInfo, v pdfrender.View, gap, minWidth int) *Layout {
	l := &Layout{View: v, pages: pages, rects: make([]image.Rectangle, len(pages)), gap: gap}
	maxW := 0
	for _, p := range pages {
		w, _ := v.RasterSize(p)
		maxW = max(maxW, w)
	}
	l.w = max(maxW+2*gap, minWidth)
	y := gap
	for i, p := range pages {
		w, h := v.RasterSize(p)
		x := (l.w - w) / 2
		l.rects[i] = image.Rect(x, y, x+w, y+h)
		y += h + gap
	}
	l.h = y
	return l
}

// Size is the whole strip in layout pixels.
func (l *Layout) Size() (w, h int) { return l.w, l.h }

// Pages is the number of pages laid out.
func (l *Layout) Pages() int { return len(l.rects) }

// PageRect is where page i lies in the strip.
func (l *Layout) PageRect(i int) image.Rectangle {
	if i < 0 || i >= len(l.rects) {
		return image.Rectangle{}
	}
	return l.rects[i]
}

// PageAt is the page at height y of the strip: the page whose rectangle
// or the gap above it holds y (the last page below the strip's end).
func (l *Layout) PageAt(y int) int {
	if len(l.rects) == 0 {
		return -1
	}
	// The first page whose bottom edge (plus the gap after it) is below y.
	i := sort.Search(len(l.rects), func(i int) bool { return l.rects[i].Max.Y+l.gap > y })
	return min(i, len(l.rects)-1)
}

// CurrentPage is the page the user is reading in viewport vp: the one
// under the viewport's middle, as the "page N of M" field shows it.
func (l *Layout) CurrentPage(vp image.Rectangle) int {
	return l.PageAt((vp.Min.Y + vp.Max.Y) / 2)
}

// ToPage maps a point of the strip to page points; ok is false in a gap.
func (l *Layout) ToPage(x, y float64) (page int, px, py float64, ok bool) {
	page = l.PageAt(int(math.Floor(y)))
	if page < 0 {
		return -1, 0, 0, false
	}
	r := l.rects[page]
	if x < float64(r.Min.X) || x > float64(r.Max.X) || y < float64(r.Min.Y) || y > float64(r.Max.Y) {
		return page, 0, 0, false
	}
	px, py = l.View.PixelToPoint(l.pages[page], x-float64(r.Min.X), y-float64(r.Min.Y))
	return page, px, py, true
}

// FromPage maps a rectangle in page points of page to strip pixels, for
// drawing search hits, selections and annotations over the tiles.
func (l *Layout) FromPage(page int, r pdfrender.Rect) pdfrender.Rect {
	if page < 0 || page >= len(l.rects) {
		return pdfrender.Rect{}
	}
	p := l.View.RectToPixels(l.pages[page], r)
	o := l.rects[page].Min
	return pdfrender.Rect{X0: p.X0 + float64(o.X), Y0: p.Y0 + float64(o.Y), X1: p.X1 + float64(o.X), Y1: p.Y1 + float64(o.Y)}
}

// TileRect is where a tile (or a page's preview) lies in the strip.
func (l *Layout) TileRect(t TileReq) image.Rectangle {
	if t.Page < 0 || t.Page >= len(l.rects) {
		return image.Rectangle{}
	}
	r := l.rects[t.Page]
	if t.Preview {
		return r
	}
	x0, y0, x1, y1, ok := l.View.TileBounds(l.pages[t.Page], t.TX, t.TY)
	if !ok {
		return image.Rectangle{}
	}
	return image.Rect(x0, y0, x1, y1).Add(r.Min)
}

// Visible is what to fetch for viewport vp (strip pixels), most urgent
// first: the previews of the pages in view, the tiles in view from the
// viewport's middle outwards, then the previews and tiles within margin
// pixels around it, so a short scroll finds them ready. Only the tiles
// that intersect are enumerated: an A0 sheet at 800 % has thousands.
func (l *Layout) Visible(vp image.Rectangle, margin int) []TileReq {
	ext := vp.Inset(-margin)
	type cand struct {
		req  TileReq
		far  bool
		dist float64
	}
	var previews, tiles []cand
	cx, cy := float64(vp.Min.X+vp.Max.X)/2, float64(vp.Min.Y+vp.Max.Y)/2
	start := l.PageAt(ext.Min.Y)
	for i := max(start, 0); i >= 0 && i < len(l.rects); i++ {
		r := l.rects[i]
		if r.Min.Y >= ext.Max.Y {
			break
		}
		in := r.Intersect(ext)
		if in.Empty() {
			continue
		}
		far := !r.Overlaps(vp)
		previews = append(previews, cand{req: TileReq{Page: i, View: pdfrender.View{Rotation: l.View.Rotation}, Preview: true}, far: far})
		cols, rows := l.View.TileGrid(l.pages[i])
		tx0, tx1 := (in.Min.X-r.Min.X)/pdfrender.TileSize, min((in.Max.X-1-r.Min.X)/pdfrender.TileSize, cols-1)
		ty0, ty1 := (in.Min.Y-r.Min.Y)/pdfrender.TileSize, min((in.Max.Y-1-r.Min.Y)/pdfrender.TileSize, rows-1)
		for ty := ty0; ty <= ty1; ty++ {
			for tx := tx0; tx <= tx1; tx++ {
				t := TileReq{Page: i, View: l.View, TX: tx, TY: ty}
				tr := l.TileRect(t)
				mx, my := float64(tr.Min.X+tr.Max.X)/2, float64(tr.Min.Y+tr.Max.Y)/2
				tiles = append(tiles, cand{req: t, far: !tr.Overlaps(vp), dist: math.Hypot(mx-cx, my-cy)})
			}
		}
	}
	sort.SliceStable(tiles, func(a, b int) bool {
		if tiles[a].far != tiles[b].far {
			return !tiles[a].far
		}
		return tiles[a].dist < tiles[b].dist
	})
	out := make([]TileReq, 0, len(previews)+len(tiles))
	for _, far := range []bool{false, true} {
		for _, c := range previews {
			if c.far == far {
				out = append(out, c.req)
			}
		}
		for _, c := range tiles {
			if c.far == far {
				out = append(out, c.req)
			}
		}
	}
	return out
}
