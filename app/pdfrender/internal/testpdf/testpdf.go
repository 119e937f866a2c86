// Package testpdf writes the PDFs the renderer's tests and benchmarks use:
// a Cyrillic text document with an outline and annotations, an A1 vector
// drawing of tens of thousands of segments, a scanned page (one large
// JPEG) and a long document. Text uses the Go font embedded as a CID
// TrueType font with a ToUnicode map, as real Russian documents do, so it
// renders and is searchable. Every geometry the tests check is exported.
package testpdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf16"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// writer assembles a PDF: objects by number, written in any order.
type writer struct {
	b    bytes.Buffer
	offs map[int]int
	next int
}

func newWriter() *writer {
	w := &writer{offs: map[int]int{}, next: 1}
	w.b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	return w
}

func (w *writer) reserve() int { w.next++; return w.next - 1 }

func (w *writer) obj(n int, body string) {
	w.offs[n] = w.b.Len()
	fmt.Fprintf(&w.b, "%d 0 obj\n%s\nendobj\n", n, body)
}

// stream writes a Flate-compressed stream with the extra dict entries.
func (w *writer) stream(n int, dict string, data []byte) {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(data)
	zw.Close()
	w.offs[n] = w.b.Len()
	fmt.Fprintf(&w.b, "%d 0 obj\n<< %s /Filter /FlateDecode /Length %d >>\nstream\n", n, dict, z.Len())
	w.b.Write(z.Bytes())
	w.b.WriteString("\nendstream\nendobj\n")
}

// raw writes a stream as is (a JPEG keeps its own compression).
func (w *writer) raw(n int, dict string, data []byte) {
	w.offs[n] = w.b.Len()
	fmt.Fprintf(&w.b, "%d 0 obj\n<< %s /Length %d >>\nstream\n", n, dict, len(data))
	w.b.Write(data)
	w.b.WriteString("\nendstream\nendobj\n")
}

func (w *writer) finish(root int) []byte {
	xref := w.b.Len()
	fmt.Fprintf(&w.b, "xref\n0 %d\n0000000000 65535 f \n", w.next)
	for i := 1; i < w.next; i++ {
		fmt.Fprintf(&w.b, "%010d 00000 n \n", w.offs[i])
	}
	fmt.Fprintf(&w.b, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", w.next, root, xref)
	return w.b.Bytes()
}

// Text is a PDF text string in UTF-16BE with a byte-order mark.
func Text(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", r)
	}
	b.WriteString(">")
	return b.String()
}

// cidFont embeds the Go font with Identity-H encoding: text is written as
// glyph ids, /W carries their widths and /ToUnicode maps them back.
type cidFont struct {
	f    *sfnt.Font
	buf  sfnt.Buffer
	upem fixed.Int26_6
	used map[sfnt.GlyphIndex]rune
	adv  map[sfnt.GlyphIndex]int // in 1/1000 em
}

func newFont() *cidFont {
	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		panic(err) // the embedded font always parses
	}
	return &cidFont{f: f, upem: fixed.Int26_6(f.UnitsPerEm()), used: map[sfnt.GlyphIndex]rune{}, adv: map[sfnt.GlyphIndex]int{}}
}

func (c *cidFont) glyph(r rune) sfnt.GlyphIndex {
	g, err := c.f.GlyphIndex(&c.buf, r)
	if err != nil || g == 0 {
		panic(fmt.Sprintf("the Go font has no glyph for %q", r))
	}
	if _, ok := c.used[g]; !ok {
		c.used[g] = r
		a, err := c.f.GlyphAdvance(&c.buf, g, c.upem, font.HintingNone)
		if err != nil {
			panic(err)
		}
		c.adv[g] = int(a) * 1000 / int(c.upem)
	}
	return g
}

// hex is s as a hex string of glyph ids for Tj.
func (c *cidFont) hex(s string) string {
	var b strings.Builder
	b.WriteString("<")
	for _, r := range s {
		fmt.Fprintf(&b, "%04X", c.glyph(r))
	}
	b.WriteString(">")
	return b.String()
}

// Width of s at size points.
func (c *cidFont) width(s string, size float64) float64 {
	w := 0
	for _, r := range s {
		w += c.adv[c.glyph(r)]
	}
	return float64(w) * size / 1000
}

// write emits the font objects under the reserved number n.
func (c *cidFont) write(w *writer, n int) {
	gids := make([]int, 0, len(c.used))
	for g := range c.used {
		gids = append(gids, int(g))
	}
	slices.Sort(gids)
	var widths, cmap strings.Builder
	for _, g := range gids {
		fmt.Fprintf(&widths, "%d [%d] ", g, c.adv[sfnt.GlyphIndex(g)])
	}
	cmap.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(gids); i += 100 {
		chunk := gids[i:min(i+100, len(gids))]
		fmt.Fprintf(&cmap, "%d beginbfchar\n", len(chunk))
		for _, g := range chunk {
			fmt.Fprintf(&cmap, "<%04X> <%04X>\n", g, c.used[sfnt.GlyphIndex(g)])
		}
		cmap.WriteString("endbfchar\n")
	}
	cmap.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	desc, file, cid, uni := w.reserve(), w.reserve(), w.reserve(), w.reserve()
	w.obj(n, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /GoRegular /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", cid, uni))
	w.obj(cid, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /GoRegular /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW 600 /W [%s] /CIDToGIDMap /Identity >>", desc, widths.String()))
	w.obj(desc, fmt.Sprintf("<< /Type /FontDescriptor /FontName /GoRegular /Flags 32 /FontBBox [-200 -250 1200 950] /ItalicAngle 0 /Ascent 930 /Descent -220 /CapHeight 720 /StemV 80 /FontFile2 %d 0 R >>", file))
	w.stream(file, fmt.Sprintf("/Length1 %d", len(goregular.TTF)), goregular.TTF)
	w.stream(uni, "", []byte(cmap.String()))
}

// page is a page being assembled.
type page struct {
	n, contents int
	box         string
	extra       string // more page dict entries (/Rotate, /Annots)
	content     strings.Builder
}

// text draws s with its baseline at (x, y) in user space.
func (p *page) text(c *cidFont, size, x, y float64, s string) {
	fmt.Fprintf(&p.content, "BT /F1 %g Tf %g %g Td %s Tj ET\n", size, x, y, c.hex(s))
}

// doc writes pages under one page tree, with optional catalog entries.
func doc(w *writer, c *cidFont, pages []*page, catalog string, resources string) []byte {
	root, tree, fontN := w.reserve(), w.reserve(), w.reserve()
	kids := make([]string, len(pages))
	for i, p := range pages {
		kids[i] = fmt.Sprintf("%d 0 R", p.n)
		w.obj(p.n, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox %s /Resources << /Font << /F1 %d 0 R >> %s >> /Contents %d 0 R %s >>", tree, p.box, fontN, resources, p.contents, p.extra))
		w.stream(p.contents, "", []byte(p.content.String()))
	}
	w.obj(tree, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages)))
	w.obj(root, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R %s >>", tree, catalog))
	c.write(w, fontN)
	return w.finish(root)
}

func newPage(w *writer, width, height float64) *page {
	return &page{n: w.reserve(), contents: w.reserve(), box: fmt.Sprintf("[0 0 %g %g]", width, height)}
}

// Sizes in points.
const (
	A4W, A4H = 595.0, 842.0
	A3W, A3H = 842.0, 1191.0
	A1W, A1H = 2384.0, 1684.0 // landscape, as drawings are issued
)

// Rect is a box in page points: origin top-left, y down.
type Rect struct{ X0, Y0, X1, Y1 float64 }

// TextDocLines are the body lines of page 1 of TextDoc, top to bottom.
var TextDocLines = []string{
	"Раздел 1. Пояснительная записка к проекту.",
	"Проект организации строительства жилого дома.",
	"Expertiza test page: проект, Проект, ПРОЕКТ.",
	"Сведения о проектной документации.",
}

// TextDoc facts the tests check.
const (
	TextDocHeading     = "ПРОЕКТНАЯ ДОКУМЕНТАЦИЯ"
	TextDocRotatedLine = "Повёрнутый лист: проект"
	TextDocSheetLine   = "Лист 3. Чертёж"
)

var (
	// TextDocBox is the black box on page 1.
	TextDocBox = Rect{400, 662, 520, 742}
	// TextDocHeadingBaseline is where the heading's baseline starts on
	// page 1 (page points); it is 28 pt tall.
	TextDocHeadingX, TextDocHeadingBaseline = 72.0, 82.0
	// TextDocRotatedBox is the black box on page 2 (stored /Rotate 90), in
	// page points of the page as displayed (842×595).
	TextDocRotatedBox = Rect{50, 72, 100, 172}
)

// TextDoc is a three-page document: page 1 A4 with a Cyrillic heading,
// body text, a black box and two annotations (a note and a square); page 2
// A4 stored with /Rotate 90; page 3 A3 landscape. Its outline has two
// chapters, one with two children (one reached through a GoTo action), and
// an external link that leads to no page.
func TextDoc() []byte {
	w := newWriter()
	c := newFont()
	p1, p2, p3 := newPage(w, A4W, A4H), newPage(w, A4W, A4H), newPage(w, A3H, A3W)

	p1.text(c, 28, TextDocHeadingX, A4H-TextDocHeadingBaseline, TextDocHeading)
	for i, l := range TextDocLines {
		p1.text(c, 12, 72, 700-float64(i)*18, l)
	}
	b := TextDocBox
	fmt.Fprintf(&p1.content, "0 g %g %g %g %g re f\n", b.X0, A4H-b.Y1, b.X1-b.X0, b.Y1-b.Y0)
	note, square := w.reserve(), w.reserve()
	w.obj(note, fmt.Sprintf("<< /Type /Annot /Subtype /Text /Rect [540 800 560 820] /Contents %s /T %s /M (D:20250301120000+03'00') /Name /Comment >>",
		Text("Проверить сечение балки"), Text("Иванов И. И.")))
	w.obj(square, fmt.Sprintf("<< /Type /Annot /Subtype /Square /Rect [300 300 400 360] /C [1 0 0] /Border [0 0 2] /Contents %s /T %s >>",
		Text("Замечание 1"), Text("Петров П. П.")))
	p1.extra = fmt.Sprintf("/Annots [%d 0 R %d 0 R]", note, square)

	// Page 2 is portrait in the file and displayed landscape. In user space
	// the text runs up the page; displayed, it reads left to right.
	p2.extra = "/Rotate 90"
	fmt.Fprintf(&p2.content, "BT /F1 16 Tf 0 1 -1 0 300 72 Tm %s Tj ET\n", c.hex(TextDocRotatedLine))
	// Displayed (x, y) = (user y, user x) for /Rotate 90 of a 595-wide page:
	// displayed x = user y, displayed y = user x.
	rb := TextDocRotatedBox
	fmt.Fprintf(&p2.content, "0 g %g %g %g %g re f\n", rb.Y0, rb.X0, rb.Y1-rb.Y0, rb.X1-rb.X0)

	p3.text(c, 24, 72, A3W-100, TextDocSheetLine)

	// Outline.
	outlines, ch1, ch11, ch12, ch2, ext := w.reserve(), w.reserve(), w.reserve(), w.reserve(), w.reserve(), w.reserve()
	w.obj(outlines, fmt.Sprintf("<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count 5 >>", ch1, ext))
	w.obj(ch1, fmt.Sprintf("<< /Title %s /Parent %d 0 R /Next %d 0 R /First %d 0 R /Last %d 0 R /Count 2 /Dest [%d 0 R /XYZ 0 842 0] >>",
		Text("1. Пояснительная записка"), outlines, ch2, ch11, ch12, p1.n))
	w.obj(ch11, fmt.Sprintf("<< /Title %s /Parent %d 0 R /Next %d 0 R /Dest [%d 0 R /Fit] >>", Text("1.1 Общие сведения"), ch1, ch12, p1.n))
	w.obj(ch12, fmt.Sprintf("<< /Title %s /Parent %d 0 R /Prev %d 0 R /A << /S /GoTo /D [%d 0 R /Fit] >> >>", Text("1.2 Повёрнутый лист"), ch1, ch11, p2.n))
	w.obj(ch2, fmt.Sprintf("<< /Title %s /Parent %d 0 R /Prev %d 0 R /Next %d 0 R /Dest [%d 0 R /Fit] >>", Text("2. Чертежи"), outlines, ch1, ext, p3.n))
	w.obj(ext, fmt.Sprintf("<< /Title %s /Parent %d 0 R /Prev %d 0 R /A << /S /URI /URI (https://example.org/) >> >>", Text("Внешняя ссылка"), outlines, ch2))

	return doc(w, c, []*page{p1, p2, p3}, fmt.Sprintf("/Outlines %d 0 R /PageMode /UseOutlines", outlines), "")
}

// DrawingBox is the black box on the A1 drawing and DrawingClear the area
// around it that no segment crosses (page points).
var (
	DrawingBox   = Rect{100, 100, 300, 300}
	DrawingClear = Rect{0, 0, 400, 400}
)

// Drawing is an A1 landscape sheet of n short line segments (a floor plan's
// worth of geometry), a frame, a title block with Cyrillic text and a black
// box in a clear corner.
func Drawing(n int) []byte {
	w := newWriter()
	c := newFont()
	p := newPage(w, A1W, A1H)
	rng := rand.New(rand.NewPCG(1, 2))
	ct := &p.content
	ct.WriteString("0 G 0.4 w 1 J\n")
	drawn := 0
	for drawn < n {
		x, y := rng.Float64()*(A1W-40)+20, rng.Float64()*(A1H-40)+20
		dx, dy := (rng.Float64()-0.5)*80, (rng.Float64()-0.5)*80
		// Keep the clear corner clear (page y is A1H − user y).
		cl := DrawingClear
		if min(x, x+dx) < cl.X1 && A1H-max(y, y+dy) < cl.Y1 {
			continue
		}
		fmt.Fprintf(ct, "%.2f %.2f m %.2f %.2f l S\n", x, y, x+dx, y+dy)
		drawn++
	}
	ct.WriteString("2 w 20 20 m 2364 20 l 2364 1664 l 20 1664 l h S\n")
	b := DrawingBox
	fmt.Fprintf(ct, "0 g %g %g %g %g re f\n", b.X0, A1H-b.Y1, b.X1-b.X0, b.Y1-b.Y0)
	p.text(c, 18, A1W-700, 60, "Лист 1. План этажа. Проект")
	return doc(w, c, []*page{p}, "", "")
}

// ScanDark is the dark rectangle on the scanned page, in page points.
var ScanDark = Rect{72, 72, 216, 144}

// Scan is one A4 page holding a single RGB JPEG at dpi: a grey, noisy
// background like a scanned sheet, with a dark rectangle at ScanDark.
func Scan(dpi float64) []byte {
	pw, ph := int(A4W*dpi/72), int(A4H*dpi/72)
	img := image.NewRGBA(image.Rect(0, 0, pw, ph))
	rng := rand.New(rand.NewPCG(3, 4))
	d := ScanDark
	for y := range ph {
		for x := range pw {
			v := uint8(225 + rng.IntN(20))
			px, py := float64(x)*72/dpi, float64(y)*72/dpi
			if px >= d.X0 && px < d.X1 && py >= d.Y0 && py < d.Y1 {
				v = uint8(20 + rng.IntN(20))
			}
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = v, v, v-10, 255
		}
	}
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, img, &jpeg.Options{Quality: 80}); err != nil {
		panic(err)
	}
	w := newWriter()
	c := newFont()
	p := newPage(w, A4W, A4H)
	im := w.reserve()
	w.raw(im, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8 /Filter /DCTDecode", pw, ph), jb.Bytes())
	fmt.Fprintf(&p.content, "q %g 0 0 %g 0 0 cm /Im1 Do Q\n", A4W, A4H)
	return doc(w, c, []*page{p}, "", fmt.Sprintf("/XObject << /Im1 %d 0 R >>", im))
}

// Long is an n-page A4 document, each page a title, a dozen lines of
// Cyrillic text and a small drawing of segments, like a bound volume of
// project documentation.
func Long(n int) []byte {
	w := newWriter()
	c := newFont()
	pages := make([]*page, n)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range pages {
		p := newPage(w, A4W, A4H)
		p.text(c, 16, 72, 780, fmt.Sprintf("Том 1. Лист %d из %d", i+1, n))
		for l := range 12 {
			p.text(c, 11, 72, 740-float64(l)*16, "Проектные решения по разделу, расчёты и обоснования принятых решений.")
		}
		p.content.WriteString("0 G 0.3 w\n")
		for range 300 {
			x, y := 72+rng.Float64()*450, 80+rng.Float64()*420
			fmt.Fprintf(&p.content, "%.1f %.1f m %.1f %.1f l S\n", x, y, x+rng.Float64()*40, y+rng.Float64()*40)
		}
		pages[i] = p
	}
	return doc(w, c, pages, "", "")
}

// Gray is the mean luminance (0 black … 255 white) of r in img.
func Gray(img *image.RGBA, r image.Rectangle) float64 {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return -1
	}
	var sum, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := img.RGBAAt(x, y)
			sum += 0.299*float64(c.R) + 0.587*float64(c.G) + 0.114*float64(c.B)
			n++
		}
	}
	return sum / n
}

// Dark counts the pixels of r darker than mid-grey.
func Dark(img *image.RGBA, r image.Rectangle) int {
	r = r.Intersect(img.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if g := color.GrayModel.Convert(img.RGBAAt(x, y)).(color.Gray); g.Y < 128 {
				n++
			}
		}
	}
	return n
}

// CyclicOutline is a one-page document whose outline's sibling chain
// loops (the second item's /Next is the first), as a crafted file may have.
func CyclicOutline() []byte {
	w := newWriter()
	c := newFont()
	p := newPage(w, A4W, A4H)
	p.text(c, 12, 72, 700, "Цикл")
	outlines, a, b := w.reserve(), w.reserve(), w.reserve()
	w.obj(outlines, fmt.Sprintf("<< /Type /Outlines /First %d 0 R /Last %d 0 R /Count 2 >>", a, b))
	w.obj(a, fmt.Sprintf("<< /Title (A) /Parent %d 0 R /Next %d 0 R /Dest [%d 0 R /Fit] >>", outlines, b, p.n))
	w.obj(b, fmt.Sprintf("<< /Title (B) /Parent %d 0 R /Next %d 0 R /Prev %d 0 R /Dest [%d 0 R /Fit] >>", outlines, a, a, p.n))
	return doc(w, c, []*page{p}, fmt.Sprintf("/Outlines %d 0 R", outlines), "")
}
