package pdfannot

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/types"
)

// NM is the /NM an exported annotation carries: the row id, so a reader of
// the file (and a later export of it) knows which row it came from.
func NM(id int64) string { return "expertiza-annotation-" + strconv.FormatInt(id, 10) }

// drawn is one annotation ready to be added: its dictionary (without /AP,
// /P), its rectangle, and its appearance stream's content and needs.
type drawn struct {
	dict     types.Dict
	rect     box
	ap       []byte // content, coordinates relative to rect's lower-left corner
	font     bool   // uses the note font
	multiply bool   // uses the Multiply blend
	noteFill bool   // uses the note's translucent fill
}

// pdfDate formats t as a PDF date in UTC.
func pdfDate(t time.Time) types.StringLiteral {
	return types.StringLiteral(t.UTC().Format("D:20060102150405Z"))
}

// text is a PDF text string: UTF-16BE with a byte order mark, in hex so no
// byte needs escaping.
func text(s string) types.HexLiteral {
	return types.NewHexLiteral([]byte(types.EncodeUTF16String(s)))
}

func colourArray(c rgb) types.Array { return types.Array{num(c[0]), num(c[1]), num(c[2])} }

// invalid is a refusal naming the annotation.
func invalid(a wire.Annotation, ru, en string) error {
	return wire.E(wire.CodeInvalid, "annotations",
		fmt.Sprintf("Пометка %d (страница %d): %s", a.ID, a.Page, ru),
		fmt.Sprintf("Annotation %d (page %d): %s", a.ID, a.Page, en))
}

// draw builds annotation a for a page with geometry g.
func (x *exporter) draw(a wire.Annotation, g pageGeom) (*drawn, error) {
	size := g.size()
	// The page sizes the server validated against came from the same
	// boxes; the slack only forgives float noise at the page's edge.
	if err := wire.ValidateGeometry(a.Kind, a.Geometry, wire.PageSize{W: size.W + 0.01, H: size.H + 0.01}); err != nil {
		return nil, fmt.Errorf("annotation %d (page %d): %w", a.ID, a.Page, err)
	}
	if err := wire.ValidateAnnotationText(a.Kind, a.Text); err != nil {
		return nil, fmt.Errorf("annotation %d (page %d): %w", a.ID, a.Page, err)
	}
	colour := a.Color
	if colour == "" {
		colour = wire.DefaultAnnotationColour
	}
	c, err := parseColour(colour)
	if err != nil {
		return nil, fmt.Errorf("annotation %d (page %d): %w", a.ID, a.Page, err)
	}

	d := types.Dict{
		"Type": types.Name("Annot"),
		"NM":   types.StringLiteral(NM(a.ID)),
		"C":    colourArray(c),
		"F":    types.Integer(4), // Print: the copy prints as it shows
	}
	if a.AuthorName != "" {
		d["T"] = text(a.AuthorName)
	}
	if s := x.labels.contents(a, x.loc); s != "" {
		d["Contents"] = text(s)
	}
	if !a.CreatedAt.IsZero() {
		d["CreationDate"] = pdfDate(a.CreatedAt)
	}
	if m := a.UpdatedAt; !m.IsZero() {
		d["M"] = pdfDate(m)
	} else if !a.CreatedAt.IsZero() {
		d["M"] = pdfDate(a.CreatedAt)
	}
	border := func(w float64) types.Dict {
		return types.Dict{"Type": types.Name("Border"), "W": num(w), "S": types.Name("S")}
	}
	out := &drawn{dict: d}
	var s stream
	pt := func(p wire.Point) (float64, float64) { return g.user(p) }
	// local maps a user-space point to the appearance's coordinates.
	local := func(ux, uy float64) (float64, float64) { return ux - out.rect.x0, uy - out.rect.y0 }

	switch a.Kind {
	case wire.AnnotHighlight:
		d["Subtype"] = types.Name("Highlight")
		b := emptyBox()
		quads := make(types.Array, 0, 8*len(a.Geometry.Quads))
		user := make([][8]float64, len(a.Geometry.Quads))
		for i, q := range a.Geometry.Quads {
			for k := 0; k < 8; k += 2 {
				ux, uy := pt(wire.Point{X: q[k], Y: q[k+1]})
				user[i][k], user[i][k+1] = ux, uy
				b.add(ux, uy)
				quads = append(quads, num(ux), num(uy))
			}
		}
		d["QuadPoints"] = quads
		out.rect = b
		out.multiply = true
		s.op("/" + resMultiply + " gs")
		s.fill(c)
		for _, q := range user {
			// Corners in /QuadPoints order: upper-left, upper-right,
			// lower-left, lower-right; the outline goes round them.
			for k, idx := range []int{0, 2, 6, 4} {
				lx, ly := local(q[idx], q[idx+1])
				if k == 0 {
					s.m(lx, ly)
				} else {
					s.l(lx, ly)
				}
			}
			s.op("h")
		}
		s.op("f")

	case wire.AnnotRect, wire.AnnotEllipse, wire.AnnotCloud, wire.AnnotNote:
		r := a.Geometry.Rect
		b := emptyBox()
		for _, p := range []wire.Point{{X: r.X1, Y: r.Y1}, {X: r.X2, Y: r.Y2}} {
			ux, uy := pt(p)
			b.add(ux, uy)
		}
		out.rect = b
		switch a.Kind {
		case wire.AnnotRect:
			d["Subtype"] = types.Name("Square")
			d["BS"] = border(strokeWidth)
			s.lineStyle(strokeWidth)
			s.stroke(c)
			s.n(strokeWidth/2, strokeWidth/2, b.w()-strokeWidth, b.h()-strokeWidth)
			s.op("re S")
		case wire.AnnotEllipse:
			d["Subtype"] = types.Name("Circle")
			d["BS"] = border(strokeWidth)
			s.lineStyle(strokeWidth)
			s.stroke(c)
			s.ellipse(b.w()/2, b.h()/2, math.Max(b.w()/2-strokeWidth/2, 0.1), math.Max(b.h()/2-strokeWidth/2, 0.1))
			s.op("S")
		case wire.AnnotCloud:
			d["Subtype"] = types.Name("Square")
			d["BS"] = border(strokeWidth)
			// The border effect tells viewers that redraw the
			// appearance to draw a cloud; /RD is how far the cloud
			// reaches beyond the rectangle it was drawn round.
			d["BE"] = types.Dict{"S": types.Name("C"), "I": types.Integer(1)}
			d["RD"] = types.Array{num(cloudPad), num(cloudPad), num(cloudPad), num(cloudPad)}
			out.rect = b.grow(cloudPad)
			s.lineStyle(strokeWidth)
			s.stroke(c)
			s.cloud(box{cloudPad, cloudPad, cloudPad + b.w(), cloudPad + b.h()})
			s.op("S")
		case wire.AnnotNote:
			d["Subtype"] = types.Name("FreeText")
			d["BS"] = border(noteBorder)
			// /DA and /DS say how a viewer that regenerates the
			// appearance (after an edit) should set the text.
			d["DA"] = types.StringLiteral(fmt.Sprintf("/%s %g Tf %s %s %s rg", resFont, noteFontSize,
				strconv.FormatFloat(float64(num(c[0])), 'f', -1, 64), strconv.FormatFloat(float64(num(c[1])), 'f', -1, 64),
				strconv.FormatFloat(float64(num(c[2])), 'f', -1, 64)))
			d["DS"] = types.StringLiteral(fmt.Sprintf("font: DejaVu Sans %gpt; color: %s", noteFontSize, colour))
			x.note(&s, out, a.Text, c, g.rot)
		}

	case wire.AnnotArrow, wire.AnnotLine:
		sx, sy := pt(a.Geometry.Points[0])
		ex, ey := pt(a.Geometry.Points[1])
		b := emptyBox()
		b.add(sx, sy)
		b.add(ex, ey)
		d["Subtype"] = types.Name("Line")
		d["L"] = types.Array{num(sx), num(sy), num(ex), num(ey)}
		d["BS"] = border(strokeWidth)
		pad := linePad
		if a.Kind == wire.AnnotArrow {
			pad = arrowPad
			d["LE"] = types.Array{types.Name("None"), types.Name("ClosedArrow")}
			d["IC"] = colourArray(c)
		} else {
			d["LE"] = types.Array{types.Name("None"), types.Name("None")}
		}
		out.rect = b.grow(pad)
		s.lineStyle(strokeWidth)
		s.stroke(c)
		s.fill(c)
		lsx, lsy := local(sx, sy)
		lex, ley := local(ex, ey)
		if a.Kind == wire.AnnotLine {
			s.m(lsx, lsy)
			s.l(lex, ley)
			s.op("S")
			break
		}
		length := math.Hypot(lex-lsx, ley-lsy)
		ux, uy := (lex-lsx)/length, (ley-lsy)/length
		head := math.Min(arrowLength, length)
		half := arrowHalf * head / arrowLength
		bx, by := lex-ux*head, ley-uy*head
		// The shaft stops at the head's base so its cap does not poke
		// through the tip.
		if head < length {
			s.m(lsx, lsy)
			s.l(bx, by)
			s.op("S")
		}
		s.m(lex, ley)
		s.l(bx-uy*half, by+ux*half)
		s.l(bx+uy*half, by-ux*half)
		s.op("h B")

	case wire.AnnotInk:
		d["Subtype"] = types.Name("Ink")
		d["BS"] = border(strokeWidth)
		b := emptyBox()
		ink := make(types.Array, 0, len(a.Geometry.Ink))
		user := make([][]float64, len(a.Geometry.Ink))
		for i, stroke := range a.Geometry.Ink {
			path := make(types.Array, 0, 2*len(stroke))
			for _, p := range stroke {
				ux, uy := pt(p)
				b.add(ux, uy)
				path = append(path, num(ux), num(uy))
				user[i] = append(user[i], ux, uy)
			}
			ink = append(ink, path)
		}
		d["InkList"] = ink
		out.rect = b.grow(inkPad)
		s.lineStyle(strokeWidth)
		s.stroke(c)
		for _, stroke := range user {
			for k := 0; k < len(stroke); k += 2 {
				lx, ly := local(stroke[k], stroke[k+1])
				if k == 0 {
					s.m(lx, ly)
				} else {
					s.l(lx, ly)
				}
			}
		}
		s.op("S")

	default:
		return nil, invalid(a, "неизвестный вид «"+string(a.Kind)+"»", "unknown kind "+strconv.Quote(string(a.Kind)))
	}
	d["Rect"] = out.rect.array()
	out.ap = s.Bytes()
	return out, nil
}

// note draws a free-text note: a translucent pale fill, a thin frame and
// the text wrapped in the box, turned with the page so it reads upright.
func (x *exporter) note(s *stream, out *drawn, txt string, c rgb, rot int) {
	out.font, out.noteFill = true, true
	w, h := out.rect.w(), out.rect.h()
	// The box as shown: a quarter turn swaps its sides.
	sw, sh := w, h
	if rot%2 == 1 {
		sw, sh = h, w
	}
	s.op("q /" + resNoteFill + " gs")
	s.fill(c.tint(0.08))
	s.n(0, 0, w, h)
	s.op("re f Q")
	s.lineStyle(noteBorder)
	s.op("0 j") // a square frame
	s.stroke(c)
	s.n(noteBorder/2, noteBorder/2, w-noteBorder, h-noteBorder)
	s.op("re S")

	inner := func(v float64) float64 { return math.Max(v-2*notePadding, 1) }
	size, lines := x.face.noteLayout(txt, inner(sw), inner(sh))
	s.op("q")
	s.cm(rotated(rot, w, h))
	// Clip to the inside of the frame, so a long word or the last line
	// never spills out of the box.
	s.n(noteBorder, noteBorder, sw-2*noteBorder, sh-2*noteBorder)
	s.op("re W n")
	s.fill(c)
	s.op("BT")
	s.op("/" + resFont + " " + strconv.FormatFloat(size, 'f', -1, 64) + " Tf")
	s.n(size * noteLeading)
	s.op("TL")
	s.n(notePadding, sh-notePadding-x.face.ascent*size)
	s.op("Td")
	for i, line := range lines {
		if i > 0 {
			s.op("T*")
		}
		x.face.hex(s, line)
		s.op(" Tj")
	}
	s.op("ET Q")
}
