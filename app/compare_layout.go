package app

import (
	"image"
	"math"
	"sort"

	"github.com/expertiza/expertiza/app/pdfrender"
)

// Sides of a comparison.
const (
	SideOld = 0
	SideNew = 1
)

// CompareTileReq is a picture a comparison view wants: a TileReq of the
// old (Side 0) or new (Side 1) version.
type CompareTileReq struct {
	Side int
	TileReq
}

// CompareLayout places the page pairs of a comparison one row under the
// other in one strip, so one scroll moves both versions and a pair always
// sits on one row. Side by side, the old page is in the left column and
// the new in the right, each centred in its column and both at the top of
// their row; in overlay mode there is one column, and the old page of a
// pair is laid over the new one (stretched to it when the sizes differ).
// Everything is in layout pixels at View, origin at the strip's top-left.
type CompareLayout struct {
	View       pdfrender.View
	Mode       CompareMode
	rows       []PagePair
	oldP, newP []pdfrender.PageInfo
	cells      [][2]image.Rectangle
	w, h, gap  int
}

// NewCompareLayout lays out rows at v with gap pixels between and around
// them, at least minWidth wide.
func NewCompareLayout(rows []PagePair, oldPages, newPages []pdfrender.PageInfo, v pdfrender.View, gap, minWidth int, mode CompareMode) *CompareLayout {
	l := &CompareLayout{View: v, Mode: mode, rows: rows, oldP: oldPages, newP: newPages, cells: make([][2]image.Rectangle, len(rows)), gap: gap}
	size := func(side, page int) (int, int) {
		if page < 0 {
			return 0, 0
		}
		if side == SideOld {
			return v.RasterSize(oldPages[page])
		}
		return v.RasterSize(newPages[page])
	}
	var colW [2]int
	for _, r := range rows {
		wo, _ := size(SideOld, r.Old)
		wn, _ := size(SideNew, r.New)
		colW[0], colW[1] = max(colW[0], wo), max(colW[1], wn)
	}
	var x0 [2]int
	if mode == CompareSideBySide {
		content := colW[0] + colW[1] + 3*gap
		l.w = max(content, minWidth)
		left := (l.w - content) / 2
		x0 = [2]int{left + gap, left + 2*gap + colW[0]}
	} else {
		colW[0] = max(colW[0], colW[1])
		colW[1] = colW[0]
		l.w = max(colW[0]+2*gap, minWidth)
		x0 = [2]int{(l.w - colW[0]) / 2, (l.w - colW[0]) / 2}
	}
	y := gap
	for i, r := range rows {
		wo, ho := size(SideOld, r.Old)
		wn, hn := size(SideNew, r.New)
		if mode == CompareSideBySide {
			if r.Old >= 0 {
				x := x0[0] + (colW[0]-wo)/2
				l.cells[i][SideOld] = image.Rect(x, y, x+wo, y+ho)
			}
			if r.New >= 0 {
				x := x0[1] + (colW[1]-wn)/2
				l.cells[i][SideNew] = image.Rect(x, y, x+wn, y+hn)
			}
			y += max(ho, hn) + gap
			continue
		}
		// Overlay: the new page leads; the old one lies on it.
		w, h := wn, hn
		if r.New < 0 {
			w, h = wo, ho
		}
		x := x0[0] + (colW[0]-w)/2
		rect := image.Rect(x, y, x+w, y+h)
		if r.Old >= 0 {
			l.cells[i][SideOld] = rect
		}
		if r.New >= 0 {
			l.cells[i][SideNew] = rect
		}
		y += h + gap
	}
	l.h = y
	return l
}

// Size is the whole strip in layout pixels.
func (l *CompareLayout) Size() (w, h int) { return l.w, l.h }

// Rows is the number of rows.
func (l *CompareLayout) Rows() int { return len(l.rows) }

// Row is the page pair of row i.
func (l *CompareLayout) Row(i int) PagePair { return l.rows[i] }

// RowOf is the row showing page of side, -1 when none does.
func (l *CompareLayout) RowOf(side, page int) int {
	for i, r := range l.rows {
		if side == SideOld && r.Old == page || side == SideNew && r.New == page {
			return i
		}
	}
	return -1
}

// PageRect is where the page of side in row i lies (empty when the row
// has no page on that side).
func (l *CompareLayout) PageRect(i, side int) image.Rectangle {
	if i < 0 || i >= len(l.cells) {
		return image.Rectangle{}
	}
	return l.cells[i][side]
}

// RowRect is the union of the row's pages.
func (l *CompareLayout) RowRect(i int) image.Rectangle {
	return l.PageRect(i, SideOld).Union(l.PageRect(i, SideNew))
}

// page is the page info of side's page in row i.
func (l *CompareLayout) page(i, side int) (pdfrender.PageInfo, bool) {
	r := l.rows[i]
	if side == SideOld && r.Old >= 0 {
		return l.oldP[r.Old], true
	}
	if side == SideNew && r.New >= 0 {
		return l.newP[r.New], true
	}
	return pdfrender.PageInfo{}, false
}

// RowAt is the row at height y of the strip.
func (l *CompareLayout) RowAt(y int) int {
	if len(l.cells) == 0 {
		return -1
	}
	i := sort.Search(len(l.cells), func(i int) bool { return l.RowRect(i).Max.Y+l.gap > y })
	return min(i, len(l.cells)-1)
}

// CurrentRow is the row under the viewport's middle.
func (l *CompareLayout) CurrentRow(vp image.Rectangle) int {
	return l.RowAt((vp.Min.Y + vp.Max.Y) / 2)
}

// FromPage maps a rectangle in page points of side's page in row i to
// strip pixels. In overlay mode the old page's points are stretched onto
// the rectangle it shares with the new page.
func (l *CompareLayout) FromPage(i, side int, r pdfrender.Rect) pdfrender.Rect {
	p, ok := l.page(i, side)
	if !ok {
		return pdfrender.Rect{}
	}
	cell := l.cells[i][side]
	w, h := l.View.RasterSize(p)
	sx, sy := float64(cell.Dx())/float64(w), float64(cell.Dy())/float64(h)
	px := l.View.RectToPixels(p, r)
	o := cell.Min
	return pdfrender.Rect{X0: px.X0*sx + float64(o.X), Y0: px.Y0*sy + float64(o.Y), X1: px.X1*sx + float64(o.X), Y1: px.Y1*sy + float64(o.Y)}
}

// ToPage maps a point of the strip to the row, side and page point under
// it; ok is false outside the pages. In overlay mode it names the new page.
func (l *CompareLayout) ToPage(x, y float64) (row, side int, px, py float64, ok bool) {
	row = l.RowAt(int(math.Floor(y)))
	if row < 0 {
		return -1, 0, 0, 0, false
	}
	for _, s := range []int{SideNew, SideOld} {
		c := l.cells[row][s]
		if c.Empty() || x < float64(c.Min.X) || x > float64(c.Max.X) || y < float64(c.Min.Y) || y > float64(c.Max.Y) {
			continue
		}
		p, _ := l.page(row, s)
		w, h := l.View.RasterSize(p)
		fx := (x - float64(c.Min.X)) * float64(w) / float64(c.Dx())
		fy := (y - float64(c.Min.Y)) * float64(h) / float64(c.Dy())
		px, py = l.View.PixelToPoint(p, fx, fy)
		return row, s, px, py, true
	}
	return row, 0, 0, 0, false
}

// Stretched reports whether side's page in row i is drawn at another size
// than its raster (the old page laid over a new one of a different size):
// its tiles are then scaled, and the overlay cannot compare pixels.
func (l *CompareLayout) Stretched(i, side int) bool {
	p, ok := l.page(i, side)
	if !ok {
		return false
	}
	w, h := l.View.RasterSize(p)
	return l.cells[i][side].Dx() != w || l.cells[i][side].Dy() != h
}

// TileRect is where a tile of side lies in the strip (scaled for a
// stretched page).
func (l *CompareLayout) TileRect(row int, t CompareTileReq) image.Rectangle {
	p, ok := l.page(row, t.Side)
	if !ok {
		return image.Rectangle{}
	}
	cell := l.cells[row][t.Side]
	if t.Preview {
		return cell
	}
	x0, y0, x1, y1, ok := l.View.TileBounds(p, t.TX, t.TY)
	if !ok {
		return image.Rectangle{}
	}
	w, h := l.View.RasterSize(p)
	sc := func(v, full, to int) int { return v * to / full }
	return image.Rect(sc(x0, w, cell.Dx()), sc(y0, h, cell.Dy()), sc(x1, w, cell.Dx()), sc(y1, h, cell.Dy())).Add(cell.Min)
}

// Visible is what to fetch for viewport vp, most urgent first: the
// previews of the pages in view, then their tiles (in overlay mode those
// of both versions: the colours need both), then the same within margin
// pixels around the viewport. Rows of pages are returned with the
// requests (Row[k] is the row of reqs[k]).
func (l *CompareLayout) Visible(vp image.Rectangle, margin int) (reqs []CompareTileReq, rows []int) {
	ext := vp.Inset(-margin)
	type cand struct {
		req  CompareTileReq
		row  int
		far  bool
		dist float64
	}
	var previews, tiles []cand
	cx, cy := float64(vp.Min.X+vp.Max.X)/2, float64(vp.Min.Y+vp.Max.Y)/2
	for i := max(l.RowAt(ext.Min.Y), 0); i >= 0 && i < len(l.rows); i++ {
		if l.RowRect(i).Min.Y >= ext.Max.Y {
			break
		}
		for _, side := range []int{SideNew, SideOld} {
			p, ok := l.page(i, side)
			r := l.cells[i][side]
			in := r.Intersect(ext)
			if !ok || in.Empty() {
				continue
			}
			far := !r.Overlaps(vp)
			pageNo := l.rows[i].Old
			if side == SideNew {
				pageNo = l.rows[i].New
			}
			previews = append(previews, cand{req: CompareTileReq{Side: side, TileReq: TileReq{Page: pageNo, Preview: true}}, row: i, far: far})
			if l.Stretched(i, side) {
				continue // shown from its preview only; see Stretched
			}
			cols, rws := l.View.TileGrid(p)
			tx0, tx1 := (in.Min.X-r.Min.X)/pdfrender.TileSize, min((in.Max.X-1-r.Min.X)/pdfrender.TileSize, cols-1)
			ty0, ty1 := (in.Min.Y-r.Min.Y)/pdfrender.TileSize, min((in.Max.Y-1-r.Min.Y)/pdfrender.TileSize, rws-1)
			for ty := ty0; ty <= ty1; ty++ {
				for tx := tx0; tx <= tx1; tx++ {
					t := CompareTileReq{Side: side, TileReq: TileReq{Page: pageNo, View: l.View, TX: tx, TY: ty}}
					tr := l.TileRect(i, t)
					mx, my := float64(tr.Min.X+tr.Max.X)/2, float64(tr.Min.Y+tr.Max.Y)/2
					tiles = append(tiles, cand{req: t, row: i, far: !tr.Overlaps(vp), dist: math.Hypot(mx-cx, my-cy)})
				}
			}
		}
	}
	sort.SliceStable(tiles, func(a, b int) bool {
		if tiles[a].far != tiles[b].far {
			return !tiles[a].far
		}
		return tiles[a].dist < tiles[b].dist
	})
	for _, far := range []bool{false, true} {
		for _, group := range [][]cand{previews, tiles} {
			for _, c := range group {
				if c.far == far {
					reqs = append(reqs, c.req)
					rows = append(rows, c.row)
				}
			}
		}
	}
	return reqs, rows
}
