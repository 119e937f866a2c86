package pdfannot

import (
	"bytes"
	"fmt"
	"strings"
)

// testPage describes one page of a generated test PDF.
type testPage struct {
	media   string // "[x0 y0 x1 y1]"; "" inherits the page tree's A4 box
	crop    string // "" for none
	rotate  int
	content string   // content stream; "" for a blank page
	annots  []string // raw annotation dictionaries, without /P; "#k" refers to the page's k-th annotation
	extra   []string // raw objects the annotations refer to as "@k" (k-th extra of the page, from 0)
}

// makePDF writes a PDF 1.4 file by hand, so the inputs have exactly the
// boxes, rotations and existing annotations a test needs, independent of
// the library under test. Pages share one Helvetica font resource through
// the page tree (inherited), and the page tree has the A4 media box.
func makePDF(pages []testPage) []byte {
	var b bytes.Buffer
	offs := map[int]int{}
	next := 4 // 1 catalog, 2 pages, 3 font
	type alloc struct{ page, content, first int }
	al := make([]alloc, len(pages))
	for i, p := range pages {
		al[i].page = next
		al[i].content = next + 1
		al[i].first = next + 2
		next += 2 + len(p.annots) + len(p.extra)
	}
	obj := func(n int, s string) {
		offs[n] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", n, s)
	}
	b.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	kids := make([]string, len(pages))
	for i := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", al[i].page)
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> >>",
		strings.Join(kids, " "), len(pages)))
	obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i, p := range pages {
		var d strings.Builder
		d.WriteString("<< /Type /Page /Parent 2 0 R")
		if p.media != "" {
			d.WriteString(" /MediaBox " + p.media)
		}
		if p.crop != "" {
			d.WriteString(" /CropBox " + p.crop)
		}
		if p.rotate != 0 {
			fmt.Fprintf(&d, " /Rotate %d", p.rotate)
		}
		fmt.Fprintf(&d, " /Contents %d 0 R", al[i].content)
		if len(p.annots) > 0 {
			d.WriteString(" /Annots [")
			for k := range p.annots {
				fmt.Fprintf(&d, " %d 0 R", al[i].first+k)
			}
			d.WriteString(" ]")
		}
		d.WriteString(" >>")
		obj(al[i].page, d.String())
		obj(al[i].content, fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(p.content), p.content))
		ref := func(s string) string {
			for k := len(p.extra) - 1; k >= 0; k-- {
				s = strings.ReplaceAll(s, fmt.Sprintf("@%d", k), fmt.Sprintf("%d 0 R", al[i].first+len(p.annots)+k))
			}
			for k := len(p.annots) - 1; k >= 0; k-- {
				s = strings.ReplaceAll(s, fmt.Sprintf("#%d", k), fmt.Sprintf("%d 0 R", al[i].first+k))
			}
			return s
		}
		for k, a := range p.annots {
			obj(al[i].first+k, ref(strings.Replace(a, "<<", fmt.Sprintf("<< /P %d 0 R", al[i].page), 1)))
		}
		for k, e := range p.extra {
			obj(al[i].first+len(p.annots)+k, ref(e))
		}
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", next)
	for n := 1; n < next; n++ {
		fmt.Fprintf(&b, "%010d 00000 n \n", offs[n])
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", next, xref)
	return b.Bytes()
}

// formStream is a raw form XObject with the given box and content.
func formStream(bbox, content string) string {
	return fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox %s /Length %d >>\nstream\n%s\nendstream", bbox, len(content), content)
}
