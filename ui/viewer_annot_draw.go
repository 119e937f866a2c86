package ui

import (
	"image"
	"image/color"
	"math"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"

	"github.com/expertiza/expertiza/sync/wire"
)

// Drawing of the experts' annotations over the pages. Every shape is an
// overlay object in viewport units: rectangles, highlights and notes are
// canvas rectangles, lines and arrows canvas lines; an ellipse, a cloud's
// scalloped border and ink strokes are polylines painted by a small raster
// clipped to the viewport (Fyne draws no ellipse — its Circle is a rounded
// rectangle — and no curve). Nothing is ever drawn into the page tiles.

// unitPt is a point in viewport units.
type unitPt struct{ X, Y float32 }

// parseColour reads "#rrggbb"; anything else is the default red.
func parseColour(s string) color.NRGBA {
	if len(s) == 7 && s[0] == '#' {
		if v, err := strconv.ParseUint(s[1:], 16, 32); err == nil {
			return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
		}
	}
	return color.NRGBA{R: 0xff, A: 0xff}
}

func withAlpha(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// selectionLine outlines the selected annotation; handles are filled
// squares of handleSize units.
var (
	selectionLine = color.NRGBA{R: 0x1e, G: 0x6f, B: 0xd9, A: 0xff}
	handleFill    = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
)

const handleSize = 8

// ellipsePolyline approximates the ellipse inscribed in the box a–b.
func ellipsePolyline(a, b unitPt) []unitPt {
	cx, cy := (a.X+b.X)/2, (a.Y+b.Y)/2
	rx, ry := (b.X-a.X)/2, (b.Y-a.Y)/2
	const n = 72
	out := make([]unitPt, 0, n+1)
	for i := 0; i <= n; i++ {
		t := 2 * math.Pi * float64(i) / n
		out = append(out, unitPt{cx + rx*float32(math.Cos(t)), cy + ry*float32(math.Sin(t))})
	}
	return out
}

// cloudPolyline is a cloud border around the box a–b: semicircular bumps
// bulging outwards along every edge, clockwise.
func cloudPolyline(a, b unitPt) []unitPt {
	w, h := b.X-a.X, b.Y-a.Y
	r := min(max(min(w, h)/8, 4), 12)
	corners := []unitPt{a, {b.X, a.Y}, b, {a.X, b.Y}, a}
	var out []unitPt
	for e := 0; e < 4; e++ {
		p, q := corners[e], corners[e+1]
		dx, dy := q.X-p.X, q.Y-p.Y
		l := float32(math.Hypot(float64(dx), float64(dy)))
		n := max(1, int(math.Round(float64(l/(2*r)))))
		// Clockwise on screen (y down) the outward normal is (dy, −dx)/l.
		nx, ny := dy/l, -dx/l
		for i := 0; i < n; i++ {
			s := unitPt{p.X + dx*float32(i)/float32(n), p.Y + dy*float32(i)/float32(n)}
			t := unitPt{p.X + dx*float32(i+1)/float32(n), p.Y + dy*float32(i+1)/float32(n)}
			cx, cy := (s.X+t.X)/2, (s.Y+t.Y)/2
			rr := l / float32(n) / 2
			ux, uy := (s.X-cx)/rr, (s.Y-cy)/rr // unit vector to the chord's start
			const steps = 10
			for k := 0; k <= steps; k++ {
				// From the start through the outward normal to the end.
				th := math.Pi * float64(k) / steps
				c, sn := float32(math.Cos(th)), float32(math.Sin(th))
				out = append(out, unitPt{cx + rr*(ux*c+nx*sn), cy + rr*(uy*c+ny*sn)})
			}
		}
	}
	return out
}

// strokeRaster paints polylines (viewport units) with width units in
// colour, on a raster covering their bounds clipped to the viewport port.
// ok is false when nothing of them is in view.
func strokeRaster(lines [][]unitPt, width float32, col color.NRGBA, port fyne.Size) (fyne.CanvasObject, bool) {
	minX, minY := float32(math.MaxFloat32), float32(math.MaxFloat32)
	maxX, maxY := float32(-math.MaxFloat32), float32(-math.MaxFloat32)
	for _, l := range lines {
		for _, p := range l {
			minX, minY, maxX, maxY = min(minX, p.X), min(minY, p.Y), max(maxX, p.X), max(maxY, p.Y)
		}
	}
	pad := width + 1
	x0, y0 := max(minX-pad, 0), max(minY-pad, 0)
	x1, y1 := min(maxX+pad, port.Width), min(maxY+pad, port.Height)
	if x1 <= x0 || y1 <= y0 {
		return nil, false
	}
	r := canvas.NewRaster(func(pw, ph int) image.Image {
		img := image.NewNRGBA(image.Rect(0, 0, pw, ph))
		sx, sy := float64(pw)/float64(x1-x0), float64(ph)/float64(y1-y0)
		half := float64(width) * sx / 2
		for _, l := range lines {
			for i := 1; i < len(l); i++ {
				ax, ay := float64(l[i-1].X-x0)*sx, float64(l[i-1].Y-y0)*sy
				bx, by := float64(l[i].X-x0)*sx, float64(l[i].Y-y0)*sy
				paintSegment(img, ax, ay, bx, by, half, col)
			}
		}
		return img
	})
	r.Move(fyne.NewPos(x0, y0))
	r.Resize(fyne.NewSize(x1-x0, y1-y0))
	return r, true
}

// paintSegment sets the pixels within half of the segment a–b, with a
// soft edge of one pixel.
func paintSegment(img *image.NRGBA, ax, ay, bx, by, half float64, col color.NRGBA) {
	b := img.Bounds()
	px0, py0 := max(int(math.Floor(min(ax, bx)-half-1)), b.Min.X), max(int(math.Floor(min(ay, by)-half-1)), b.Min.Y)
	px1, py1 := min(int(math.Ceil(max(ax, bx)+half+1)), b.Max.X-1), min(int(math.Ceil(max(ay, by)+half+1)), b.Max.Y-1)
	dx, dy := bx-ax, by-ay
	l2 := dx*dx + dy*dy
	for y := py0; y <= py1; y++ {
		for x := px0; x <= px1; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			t := 0.0
			if l2 > 0 {
				t = min(max(((fx-ax)*dx+(fy-ay)*dy)/l2, 0), 1)
			}
			d := math.Hypot(fx-(ax+t*dx), fy-(ay+t*dy))
			cover := min(max(half+0.5-d, 0), 1)
			if cover <= 0 {
				continue
			}
			a := uint8(float64(col.A) * cover)
			if old := img.NRGBAAt(x, y); old.A >= a {
				continue
			}
			img.SetNRGBA(x, y, color.NRGBA{R: col.R, G: col.G, B: col.B, A: a})
		}
	}
}

// shapeObjects draws one annotation whose points are already in viewport
// units: box a–b for box kinds, pts for lines, strokes for ink, quads as
// boxes for highlights. alpha dims a pending one.
type shapeIn struct {
	kind    wire.AnnotationKind
	a, b    unitPt     // bounds (box kinds)
	pts     []unitPt   // line, arrow
	strokes [][]unitPt // ink
	boxes   [][2]unitPt
	text    string
	colour  color.NRGBA
	width   float32 // stroke width in units
	dim     bool
}

func shapeObjects(s shapeIn, port fyne.Size) []fyne.CanvasObject {
	col := s.colour
	if s.dim {
		col = withAlpha(col, 0x70)
	}
	rect := func(a, b unitPt, fill, stroke color.Color, w float32) fyne.CanvasObject {
		r := canvas.NewRectangle(fill)
		r.StrokeColor, r.StrokeWidth = stroke, w
		r.Move(fyne.NewPos(a.X, a.Y))
		r.Resize(fyne.NewSize(b.X-a.X, b.Y-a.Y))
		return r
	}
	line := func(a, b unitPt) fyne.CanvasObject {
		l := canvas.NewLine(col)
		l.StrokeWidth = s.width
		l.Position1, l.Position2 = fyne.NewPos(a.X, a.Y), fyne.NewPos(b.X, b.Y)
		return l
	}
	var out []fyne.CanvasObject
	switch s.kind {
	case wire.AnnotRect:
		out = append(out, rect(s.a, s.b, color.Transparent, col, s.width))
	case wire.AnnotNote:
		out = append(out, rect(s.a, s.b, withAlpha(color.NRGBA{R: 0xff, G: 0xf5, B: 0x9d}, 0xd0), col, s.width))
		if t := firstLine(s.text); t != "" {
			txt := canvas.NewText(t, color.NRGBA{A: 0xff})
			txt.TextSize = min(max((s.b.Y-s.a.Y)/3, 8), 14)
			txt.Move(fyne.NewPos(s.a.X+3, s.a.Y+2))
			out = append(out, txt)
		}
	case wire.AnnotHighlight:
		for _, bx := range s.boxes {
			out = append(out, rect(bx[0], bx[1], withAlpha(col, 0x60), color.Transparent, 0))
		}
	case wire.AnnotLine, wire.AnnotArrow:
		if len(s.pts) == 2 {
			out = append(out, line(s.pts[0], s.pts[1]))
			if s.kind == wire.AnnotArrow {
				a, b := s.pts[0], s.pts[1]
				ang := math.Atan2(float64(b.Y-a.Y), float64(b.X-a.X))
				head := float64(max(8, 4*s.width))
				for _, d := range []float64{math.Pi * 5 / 6, -math.Pi * 5 / 6} {
					out = append(out, line(b, unitPt{b.X + float32(head*math.Cos(ang+d)), b.Y + float32(head*math.Sin(ang+d))}))
				}
			}
		}
	case wire.AnnotEllipse, wire.AnnotCloud, wire.AnnotInk:
		var lines [][]unitPt
		switch s.kind {
		case wire.AnnotEllipse:
			lines = [][]unitPt{ellipsePolyline(s.a, s.b)}
		case wire.AnnotCloud:
			lines = [][]unitPt{cloudPolyline(s.a, s.b)}
		default:
			lines = s.strokes
		}
		if r, ok := strokeRaster(lines, s.width, col, port); ok {
			out = append(out, r)
		}
	}
	return out
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}
