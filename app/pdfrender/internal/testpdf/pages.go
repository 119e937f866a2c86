package testpdf

import "fmt"

// PageSpec describes one page of a document built by Pages: its size in
// points (A4 portrait when zero), lines of Cyrillic-capable text from the
// top and filled black boxes. Geometry is in page points, origin top-left,
// y down, like everything the renderer reports.
type PageSpec struct {
	W, H  float64
	Lines []string
	Boxes []Rect
}

// Line placement of Pages: the first baseline LineTop points below the
// top edge, LineStep points between baselines, at LineLeft from the left,
// in LineSize-point type.
const (
	LineTop  = 90.0
	LineStep = 18.0
	LineLeft = 72.0
	LineSize = 12.0
)

// Pages builds a document page by page from specs, so a test can write two
// versions of a file and know exactly what differs between them: a moved
// box, a changed line, an inserted page.
func Pages(specs []PageSpec) []byte {
	w := newWriter()
	c := newFont()
	pages := make([]*page, len(specs))
	for i, s := range specs {
		pw, ph := s.W, s.H
		if pw == 0 || ph == 0 {
			pw, ph = A4W, A4H
		}
		p := newPage(w, pw, ph)
		for j, l := range s.Lines {
			p.text(c, LineSize, LineLeft, ph-LineTop-float64(j)*LineStep, l)
		}
		for _, b := range s.Boxes {
			fmt.Fprintf(&p.content, "0 g %g %g %g %g re f\n", b.X0, ph-b.Y1, b.X1-b.X0, b.Y1-b.Y0)
		}
		pages[i] = p
	}
	return doc(w, c, pages, "", "")
}
