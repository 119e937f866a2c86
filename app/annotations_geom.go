package app

import (
	"context"
	"math"
	"slices"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/sync/wire"
)

// Two frames meet in the viewer. The renderer (pdfrender) reports page
// points with the origin at the top-left corner of the page as displayed,
// y down; the protocol (wire) stores annotations in points of the same
// displayed page with the origin at its bottom-left corner, y up. Both
// already include the page's own /Rotate, so going from one to the other
// is a flip of y over the page height; the viewer's extra rotation (the
// Повернуть button) only changes where a page point lands on the screen,
// which Layout handles.
//
// Inside the viewer a shape is kept as a wire.Geometry in the renderer's
// frame ("view geometry"): its Rect has X1,Y1 at the top-left and X2,Y2 at
// the bottom-right corner; its quads keep the corner order of /QuadPoints
// (upper-left, upper-right, lower-left, lower-right as the reader sees
// them), which a flip preserves.

// PageToWire maps a point of the renderer's frame to wire's.
func PageToWire(p pdfrender.PageInfo, x, y float64) wire.Point {
	return wire.Point{X: x, Y: p.Height - y}
}

// WireToPage maps a point of wire's frame to the renderer's.
func WireToPage(p pdfrender.PageInfo, pt wire.Point) (x, y float64) {
	return pt.X, p.Height - pt.Y
}

// RectToWire maps a rectangle of the renderer's frame to wire's
// lower-left / upper-right form.
func RectToWire(p pdfrender.PageInfo, r pdfrender.Rect) wire.Rect {
	return wire.Rect{X1: min(r.X0, r.X1), Y1: p.Height - max(r.Y0, r.Y1), X2: max(r.X0, r.X1), Y2: p.Height - min(r.Y0, r.Y1)}
}

// RectFromWire maps a wire rectangle to the renderer's frame.
func RectFromWire(p pdfrender.PageInfo, r wire.Rect) pdfrender.Rect {
	return pdfrender.Rect{X0: min(r.X1, r.X2), Y0: p.Height - max(r.Y1, r.Y2), X1: max(r.X1, r.X2), Y1: p.Height - min(r.Y1, r.Y2)}
}

// flip maps a geometry between the two frames (the map is its own
// inverse); rectangles stay normalised (X1 ≤ X2, Y1 ≤ Y2).
func flip(p pdfrender.PageInfo, g wire.Geometry) wire.Geometry {
	var out wire.Geometry
	if g.Rect != nil {
		r := wire.Rect{X1: min(g.Rect.X1, g.Rect.X2), Y1: p.Height - max(g.Rect.Y1, g.Rect.Y2), X2: max(g.Rect.X1, g.Rect.X2), Y2: p.Height - min(g.Rect.Y1, g.Rect.Y2)}
		out.Rect = &r
	}
	for _, q := range g.Quads {
		for i := 1; i < 8; i += 2 {
			q[i] = p.Height - q[i]
		}
		out.Quads = append(out.Quads, q)
	}
	for _, pt := range g.Points {
		out.Points = append(out.Points, wire.Point{X: pt.X, Y: p.Height - pt.Y})
	}
	for _, s := range g.Ink {
		st := make([]wire.Point, len(s))
		for i, pt := range s {
			st[i] = wire.Point{X: pt.X, Y: p.Height - pt.Y}
		}
		out.Ink = append(out.Ink, st)
	}
	return out
}

// GeometryToWire maps a view geometry to wire's frame.
func GeometryToWire(p pdfrender.PageInfo, g wire.Geometry) wire.Geometry { return flip(p, g) }

// GeometryToView maps a wire geometry to the renderer's frame.
func GeometryToView(p pdfrender.PageInfo, g wire.Geometry) wire.Geometry { return flip(p, g) }

// StripToWire maps a point of the viewer's strip (layout pixels, at the
// layout's zoom and view rotation) on page to wire's frame.
func (l *Layout) StripToWire(page int, x, y float64) wire.Point {
	r := l.rects[page]
	p := l.pages[page]
	px, py := l.View.PixelToPoint(p, x-float64(r.Min.X), y-float64(r.Min.Y))
	return PageToWire(p, px, py)
}

// WireToStrip maps a wire point of page to the strip.
func (l *Layout) WireToStrip(page int, pt wire.Point) (x, y float64) {
	r := l.rects[page]
	p := l.pages[page]
	px, py := WireToPage(p, pt)
	sx, sy := l.View.PointToPixel(p, px, py)
	return sx + float64(r.Min.X), sy + float64(r.Min.Y)
}

// PageInfo is page i's size as displayed.
func (l *Layout) PageInfo(i int) pdfrender.PageInfo { return l.pages[i] }

// ClampGeometry keeps every point of g on a page of size p (the server
// refuses points outside it): a shape dragged past the edge stops there.
func ClampGeometry(p pdfrender.PageInfo, g wire.Geometry) wire.Geometry {
	cx := func(x float64) float64 { return min(max(x, 0), p.Width) }
	cy := func(y float64) float64 { return min(max(y, 0), p.Height) }
	var out wire.Geometry
	if g.Rect != nil {
		r := wire.Rect{X1: cx(g.Rect.X1), Y1: cy(g.Rect.Y1), X2: cx(g.Rect.X2), Y2: cy(g.Rect.Y2)}
		out.Rect = &r
	}
	for _, q := range g.Quads {
		for i := 0; i < 8; i += 2 {
			q[i], q[i+1] = cx(q[i]), cy(q[i+1])
		}
		out.Quads = append(out.Quads, q)
	}
	for _, pt := range g.Points {
		out.Points = append(out.Points, wire.Point{X: cx(pt.X), Y: cy(pt.Y)})
	}
	for _, s := range g.Ink {
		st := make([]wire.Point, len(s))
		for i, pt := range s {
			st[i] = wire.Point{X: cx(pt.X), Y: cy(pt.Y)}
		}
		out.Ink = append(out.Ink, st)
	}
	return out
}

// mapGeometry applies f to every point of g.
func mapGeometry(g wire.Geometry, f func(x, y float64) (float64, float64)) wire.Geometry {
	var out wire.Geometry
	if g.Rect != nil {
		x1, y1 := f(g.Rect.X1, g.Rect.Y1)
		x2, y2 := f(g.Rect.X2, g.Rect.Y2)
		out.Rect = &wire.Rect{X1: min(x1, x2), Y1: min(y1, y2), X2: max(x1, x2), Y2: max(y1, y2)}
	}
	for _, q := range g.Quads {
		for i := 0; i < 8; i += 2 {
			q[i], q[i+1] = f(q[i], q[i+1])
		}
		out.Quads = append(out.Quads, q)
	}
	for _, pt := range g.Points {
		x, y := f(pt.X, pt.Y)
		out.Points = append(out.Points, wire.Point{X: x, Y: y})
	}
	for _, s := range g.Ink {
		st := make([]wire.Point, len(s))
		for i, pt := range s {
			x, y := f(pt.X, pt.Y)
			st[i] = wire.Point{X: x, Y: y}
		}
		out.Ink = append(out.Ink, st)
	}
	return out
}

// MoveGeometry shifts every point of g by (dx, dy), in g's own frame.
func MoveGeometry(g wire.Geometry, dx, dy float64) wire.Geometry {
	return mapGeometry(g, func(x, y float64) (float64, float64) { return x + dx, y + dy })
}

// ResizeGeometry stretches g so that its bounds become to (both in g's
// frame): the shape keeps its proportions inside its box, as handles on
// the box's corners and edges resize it. A degenerate side (a horizontal
// line has no height) stays where it was.
func ResizeGeometry(g wire.Geometry, to wire.Rect) wire.Geometry {
	from, ok := g.Bounds()
	if !ok {
		return g
	}
	axis := func(v, a0, a1, b0, b1 float64) float64 {
		if a1-a0 < 1e-9 {
			return v + (b0+b1)/2 - (a0+a1)/2
		}
		return b0 + (v-a0)*(b1-b0)/(a1-a0)
	}
	return mapGeometry(g, func(x, y float64) (float64, float64) {
		return axis(x, from.X1, from.X2, to.X1, to.X2), axis(y, from.Y1, from.Y2, to.Y1, to.Y2)
	})
}

// HitGeometry reports whether the point (x, y) touches a shape of kind
// within tol (all in the same frame): inside a box, a highlighted line or
// a note, or near a line, an arrow or an ink stroke.
func HitGeometry(kind wire.AnnotationKind, g wire.Geometry, x, y, tol float64) bool {
	switch kind {
	case wire.AnnotArrow, wire.AnnotLine:
		return len(g.Points) == 2 && segDist(x, y, g.Points[0], g.Points[1]) <= tol
	case wire.AnnotInk:
		for _, s := range g.Ink {
			for i := 1; i < len(s); i++ {
				if segDist(x, y, s[i-1], s[i]) <= tol {
					return true
				}
			}
		}
		return false
	case wire.AnnotHighlight:
		for _, q := range g.Quads {
			b, _ := wire.Geometry{Quads: []wire.Quad{q}}.Bounds()
			if x >= b.X1-tol && x <= b.X2+tol && y >= b.Y1-tol && y <= b.Y2+tol {
				return true
			}
		}
		return false
	}
	b, ok := g.Bounds()
	return ok && x >= b.X1-tol && x <= b.X2+tol && y >= b.Y1-tol && y <= b.Y2+tol
}

// segDist is the distance from (x, y) to the segment a–b.
func segDist(x, y float64, a, b wire.Point) float64 {
	dx, dy := b.X-a.X, b.Y-a.Y
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = min(max(((x-a.X)*dx+(y-a.Y)*dy)/l2, 0), 1)
	}
	return math.Hypot(x-(a.X+t*dx), y-(a.Y+t*dy))
}

// MinShapeSize is the smallest side, in points, of a box drawn by drag:
// anything smaller was a click.
const MinShapeSize = 2.0

// ShapeFromDrag is the view geometry of a box or line drawn by dragging
// from (x0, y0) to (x1, y1) (renderer frame); ok is false when the drag
// was too short to be a shape. Highlights come from SnapHighlight, ink
// from the stroke's points.
func ShapeFromDrag(kind wire.AnnotationKind, x0, y0, x1, y1 float64) (wire.Geometry, bool) {
	switch kind {
	case wire.AnnotArrow, wire.AnnotLine:
		if math.Hypot(x1-x0, y1-y0) < MinShapeSize {
			return wire.Geometry{}, false
		}
		return wire.Geometry{Points: []wire.Point{{X: x0, Y: y0}, {X: x1, Y: y1}}}, true
	case wire.AnnotRect, wire.AnnotCloud, wire.AnnotEllipse, wire.AnnotNote:
		r := wire.Rect{X1: min(x0, x1), Y1: min(y0, y1), X2: max(x0, x1), Y2: max(y0, y1)}
		if r.X2-r.X1 < MinShapeSize || r.Y2-r.Y1 < MinShapeSize {
			return wire.Geometry{}, false
		}
		return wire.Geometry{Rect: &r}, true
	}
	return wire.Geometry{}, false
}

// SimplifyStroke thins an ink stroke (renderer frame) to points at least
// minStep apart, keeping the last, so a long freehand line stays within
// the server's limits.
func SimplifyStroke(pts []wire.Point, minStep float64) []wire.Point {
	if len(pts) < 3 {
		return slices.Clone(pts)
	}
	out := []wire.Point{pts[0]}
	for _, p := range pts[1 : len(pts)-1] {
		last := out[len(out)-1]
		if math.Hypot(p.X-last.X, p.Y-last.Y) >= minStep {
			out = append(out, p)
		}
	}
	return append(out, pts[len(pts)-1])
}

// SnapHighlight turns a drag rectangle (renderer frame) into the boxes of
// the text it selects, one per line: a character is selected when its
// box's centre lies in the drag rectangle; characters whose boxes overlap
// vertically share a line, whose box is the union of theirs. Lines come
// top to bottom; none when the rectangle holds no text.
func SnapHighlight(chars []pdfrender.Char, drag pdfrender.Rect) []pdfrender.Rect {
	var lines []pdfrender.Rect
	for _, c := range chars {
		b := c.Box
		if b.Empty() {
			continue
		}
		cx, cy := (b.X0+b.X1)/2, (b.Y0+b.Y1)/2
		if cx < drag.X0 || cx > drag.X1 || cy < drag.Y0 || cy > drag.Y1 {
			continue
		}
		joined := false
		for i, l := range lines {
			// Same line: the character's middle lies within the line's
			// height, or the line's middle within the character's.
			lm := (l.Y0 + l.Y1) / 2
			if cy >= l.Y0 && cy <= l.Y1 || lm >= b.Y0 && lm <= b.Y1 {
				lines[i] = l.Union(b)
				joined = true
				break
			}
		}
		if !joined {
			lines = append(lines, b)
		}
	}
	slices.SortFunc(lines, func(a, b pdfrender.Rect) int {
		switch {
		case a.Y0 < b.Y0:
			return -1
		case a.Y0 > b.Y0:
			return 1
		}
		return 0
	})
	return lines
}

// HighlightGeometry is the wire geometry of highlighted lines (renderer
// frame): one quad per line in /QuadPoints order.
func HighlightGeometry(p pdfrender.PageInfo, lines []pdfrender.Rect) wire.Geometry {
	var g wire.Geometry
	for _, l := range lines {
		top, bottom := p.Height-l.Y0, p.Height-l.Y1
		g.Quads = append(g.Quads, wire.Quad{l.X0, top, l.X1, top, l.X0, bottom, l.X1, bottom})
	}
	return g
}

// Chars are the characters of page with their boxes, for snapping
// highlights.
func (v *Viewer) Chars(ctx context.Context, page int) ([]pdfrender.Char, error) {
	return v.r.Chars(ctx, v.doc.ID, page)
}
