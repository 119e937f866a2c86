package pdfannot

import (
	"math"

	"github.com/expertiza/expertiza/sync/wire"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// matrix is a PDF transformation [a b c d e f]: x' = a·x + c·y + e,
// y' = b·x + d·y + f.
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

func (m matrix) apply(x, y float64) (float64, float64) {
	return m[0]*x + m[2]*y + m[4], m[1]*x + m[3]*y + m[5]
}

// then is m followed by n (a point goes through m first).
func (m matrix) then(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// rotated maps a w×h box shown turned by rot quarter turns clockwise back
// onto the unturned box: from coordinates of the box as shown (origin
// bottom-left, y up) to coordinates of the box as stored, both relative to
// its lower-left corner. w and h are the stored box's width and height.
// A page with /Rotate 90 is shown turned clockwise, so its stored left
// edge is shown at the top.
func rotated(rot int, w, h float64) matrix {
	switch rot {
	case 1:
		return matrix{0, 1, -1, 0, w, 0}
	case 2:
		return matrix{-1, 0, 0, -1, w, h}
	case 3:
		return matrix{0, -1, 1, 0, 0, h}
	}
	return identity
}

// pageGeom is where a page shows on screen: its visible box in user space
// and its rotation.
type pageGeom struct {
	llx, lly, w, h float64 // visible box (crop ∩ media), user space
	rot            int     // /Rotate in clockwise quarter turns, 0..3
	toUser         matrix  // displayed page points → user space
}

// newPageGeom computes a page's geometry as the server's validator and
// the viewers do: the crop box clipped to the media box (a crop box
// outside it is ignored), /Rotate rounded to quarter turns.
func newPageGeom(media, crop *types.Rectangle, rotate int) pageGeom {
	norm := func(r *types.Rectangle) (x0, y0, x1, y1 float64) {
		return math.Min(r.LL.X, r.UR.X), math.Min(r.LL.Y, r.UR.Y), math.Max(r.LL.X, r.UR.X), math.Max(r.LL.Y, r.UR.Y)
	}
	x0, y0, x1, y1 := 0.0, 0.0, 612.0, 792.0 // a page without a media box: US Letter, as pdfium assumes
	if media != nil {
		x0, y0, x1, y1 = norm(media)
	}
	if crop != nil {
		cx0, cy0, cx1, cy1 := norm(crop)
		ix0, iy0, ix1, iy1 := math.Max(x0, cx0), math.Max(y0, cy0), math.Min(x1, cx1), math.Min(y1, cy1)
		if ix1 > ix0 && iy1 > iy0 {
			x0, y0, x1, y1 = ix0, iy0, ix1, iy1
		}
	}
	rot := ((int(math.Round(float64(rotate)/90)) % 4) + 4) % 4
	g := pageGeom{llx: x0, lly: y0, w: x1 - x0, h: y1 - y0, rot: rot}
	g.toUser = rotated(rot, g.w, g.h).then(matrix{1, 0, 0, 1, x0, y0})
	return g
}

// size is the page's size as displayed, the frame of wire.Geometry.
func (g pageGeom) size() wire.PageSize {
	if g.rot%2 == 1 {
		return wire.PageSize{W: g.h, H: g.w}
	}
	return wire.PageSize{W: g.w, H: g.h}
}

// user maps a displayed point to user space.
func (g pageGeom) user(p wire.Point) (float64, float64) { return g.toUser.apply(p.X, p.Y) }

// box is an axis-aligned rectangle in user space.
type box struct{ x0, y0, x1, y1 float64 }

func emptyBox() box { return box{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)} }

func (b *box) add(x, y float64) {
	b.x0, b.y0 = math.Min(b.x0, x), math.Min(b.y0, y)
	b.x1, b.y1 = math.Max(b.x1, x), math.Max(b.y1, y)
}

func (b box) grow(d float64) box { return box{b.x0 - d, b.y0 - d, b.x1 + d, b.y1 + d} }

func (b box) w() float64 { return b.x1 - b.x0 }
func (b box) h() float64 { return b.y1 - b.y0 }

func (b box) array() types.Array {
	return types.Array{num(b.x0), num(b.y0), num(b.x1), num(b.y1)}
}

// num rounds a coordinate to 1/1000 pt for the file: finer than any
// viewer draws, and it keeps float noise out of the output.
func num(f float64) types.Float { return types.Float(math.Round(f*1000) / 1000) }
