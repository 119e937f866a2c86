package pdfannot

import (
	"bytes"
	"math"
	"strconv"

	"github.com/expertiza/expertiza/sync/wire"
)

// Drawing constants, in points. The Rect of each annotation follows from
// them (see rectFor), and the tests hold the exported rectangles to it.
const (
	strokeWidth = 2.0 // rect, cloud, ellipse, line, arrow, ink
	noteBorder  = 1.0 // the frame of a free-text note
	cloudRadius = 6.0 // the largest scallop of a cloud; smaller ones fill short edges
	arrowLength = 12.0
	arrowHalf   = 5.0          // half the width of the arrow head's base
	kappa       = 0.5522847498 // Bézier control distance of a quarter circle, per unit radius

	notePadding     = 3.0
	noteFontSize    = 10.0
	noteMinFontSize = 6.0
	noteLeading     = 1.2 // line height as a multiple of the font size
	noteFillOpacity = 0.85
)

// Pads of the annotation rectangle around the geometry, so the whole
// stroke (and a cloud's scallops, an arrow's head) lies inside /Rect:
// viewers clip appearances to it.
const (
	cloudPad = cloudRadius + strokeWidth/2
	linePad  = strokeWidth / 2
	arrowPad = arrowHalf + strokeWidth/2
	inkPad   = strokeWidth / 2
)

// Resource names inside the appearance streams.
const (
	resFont     = "F0"
	resMultiply = "GM" // blend mode Multiply, for highlights
	resNoteFill = "GN" // the translucent fill of a note
)

// rgb is a colour with components in 0..1.
type rgb [3]float64

// parseColour reads a wire colour "#rrggbb".
func parseColour(s string) (rgb, error) {
	if err := wire.ValidateColour(s); err != nil {
		return rgb{}, err
	}
	var c rgb
	for i := range c {
		v, _ := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8) // checked by ValidateColour
		c[i] = float64(v) / 255
	}
	return c, nil
}

// tint mixes c with white: 0 is white, 1 is c.
func (c rgb) tint(f float64) rgb {
	return rgb{1 - f*(1-c[0]), 1 - f*(1-c[1]), 1 - f*(1-c[2])}
}

// stream writes PDF content-stream operators with compact numbers.
type stream struct {
	bytes.Buffer
	nb []byte
}

// n writes numbers, each followed by a space.
func (s *stream) n(vs ...float64) {
	for _, v := range vs {
		v = math.Round(v*1000) / 1000
		if v == 0 {
			v = 0 // no "-0"
		}
		s.nb = strconv.AppendFloat(s.nb[:0], v, 'f', -1, 64)
		s.Write(s.nb)
		s.WriteByte(' ')
	}
}

func (s *stream) op(o string) { s.WriteString(o); s.WriteByte('\n') }

func (s *stream) stroke(c rgb) { s.n(c[0], c[1], c[2]); s.op("RG") }
func (s *stream) fill(c rgb)   { s.n(c[0], c[1], c[2]); s.op("rg") }
func (s *stream) m(x, y float64) {
	s.n(x, y)
	s.op("m")
}
func (s *stream) l(x, y float64) {
	s.n(x, y)
	s.op("l")
}
func (s *stream) c(x1, y1, x2, y2, x3, y3 float64) {
	s.n(x1, y1, x2, y2, x3, y3)
	s.op("c")
}
func (s *stream) cm(m matrix) {
	s.n(m[:]...)
	s.op("cm")
}

// lineStyle sets the width, round caps and joins (a round join keeps an
// arrow's tip and an ink turn inside the pads above).
func (s *stream) lineStyle(w float64) {
	s.n(w)
	s.op("w 1 J 1 j")
}

// ellipse adds an ellipse path centred on (cx, cy).
func (s *stream) ellipse(cx, cy, rx, ry float64) {
	kx, ky := rx*kappa, ry*kappa
	s.m(cx+rx, cy)
	s.c(cx+rx, cy+ky, cx+kx, cy+ry, cx, cy+ry)
	s.c(cx-kx, cy+ry, cx-rx, cy+ky, cx-rx, cy)
	s.c(cx-rx, cy-ky, cx-kx, cy-ry, cx, cy-ry)
	s.c(cx+kx, cy-ry, cx+rx, cy-ky, cx+rx, cy)
	s.op("h")
}

// cloud adds a cloud around the rectangle b: each edge, walked
// counter-clockwise, is cut into equal pieces no longer than
// 2·cloudRadius, and each piece bulges outwards as a half circle over it,
// so the scallops meet on the rectangle's edge and reach at most
// cloudRadius beyond it.
func (s *stream) cloud(b box) {
	corners := [4][2]float64{{b.x0, b.y0}, {b.x1, b.y0}, {b.x1, b.y1}, {b.x0, b.y1}}
	s.m(corners[0][0], corners[0][1])
	for i := range corners {
		px, py := corners[i][0], corners[i][1]
		qx, qy := corners[(i+1)%4][0], corners[(i+1)%4][1]
		length := math.Hypot(qx-px, qy-py)
		if length == 0 {
			continue
		}
		ux, uy := (qx-px)/length, (qy-py)/length
		nx, ny := uy, -ux // outward for a counter-clockwise walk
		pieces := max(1, int(math.Ceil(length/(2*cloudRadius)-1e-9)))
		r := length / float64(pieces) / 2
		for k := range pieces {
			sx, sy := px+ux*2*r*float64(k), py+uy*2*r*float64(k)
			cx, cy := sx+ux*r, sy+uy*r
			tx, ty := cx+nx*r, cy+ny*r
			ex, ey := cx+ux*r, cy+uy*r
			kr := kappa * r
			s.c(sx+nx*kr, sy+ny*kr, tx-ux*kr, ty-uy*kr, tx, ty)
			s.c(tx+ux*kr, ty+uy*kr, ex+nx*kr, ey+ny*kr, ex, ey)
		}
	}
	s.op("h")
}
