package pdfannot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/pdfium"
	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/expertiza/expertiza/sync/wire"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// The tests read every exported file back with readers that share no code
// with pdfannot: PDFium (through the app's renderer, which maps rectangles
// to the displayed page itself), MuPDF (`mutool run`), and check pixels
// drawn by poppler (`pdftoppm`) and MuPDF (`mutool draw`). Expectations are
// written in the displayed-page frame of wire.Geometry; the readers do
// the rotation and box offsets on their own.

// fontDir is shared by the tests of the binary: pdfcpu's font registry is
// one per process anyway.
var fontDir = sync.OnceValue(func() string {
	d, err := os.MkdirTemp("", "pdfannot-fonts-")
	if err != nil {
		panic(err)
	}
	return d
})

// fixturePage is a test page and its size as displayed.
type fixturePage struct {
	testPage
	w, h float64
}

// fixturePages covers the frames a page can have: inherited A4, a quarter
// turn, media and crop boxes away from the origin, a landscape sheet
// turned three quarters with a crop box, and a half turn with a negative
// origin.
var fixturePages = []fixturePage{
	{testPage{content: "BT /F1 10 Tf 40 810 Td (Page one) Tj ET"}, 595, 842},
	{testPage{media: "[0 0 595 842]", rotate: 90, content: "BT /F1 10 Tf 40 40 Td (Page two) Tj ET"}, 842, 595},
	{testPage{media: "[100 200 712 992]", crop: "[120 230 700 980]", content: "BT /F1 10 Tf 130 960 Td (Page three) Tj ET"}, 580, 750},
	{testPage{media: "[0 0 842 595]", crop: "[20 30 800 580]", rotate: 270}, 550, 780},
	{testPage{media: "[-50 -50 545 792]", rotate: 180}, 595, 842},
}

// Existing annotations of page 1: a green square with its own appearance
// (and a pop-up), a black one carrying the /NM of the rectangle exported
// now (an earlier export: it must be replaced), and a link.
const (
	staleID     = 1 // the rectangle on page 1 gets id 1
	existingNM  = "existing-square"
	existingRGB = "0 0.6 0"
)

func inputPDF() []byte {
	pages := make([]testPage, len(fixturePages))
	for i, p := range fixturePages {
		pages[i] = p.testPage
	}
	pages[0].annots = []string{
		fmt.Sprintf("<< /Type /Annot /Subtype /Square /Rect [450 700 550 780] /NM (%s) /C [0 0.6 0] /Contents (kept) /AP << /N @0 >> /Popup #1 >>", existingNM),
		"<< /Type /Annot /Subtype /Popup /Rect [450 600 550 700] /Parent #0 >>",
		fmt.Sprintf("<< /Type /Annot /Subtype /Square /Rect [450 600 550 680] /NM (%s) /C [0 0 0] /AP << /N @1 >> >>", NM(staleID)),
		"<< /Type /Annot /Subtype /Link /Rect [40 760 200 790] /Border [0 0 0] /A << /S /URI /URI (https://example.org/) >> >>",
	}
	pages[0].extra = []string{
		formStream("[0 0 100 80]", existingRGB+" rg 0 0 100 80 re f"),
		formStream("[0 0 100 80]", "0 g 0 0 100 80 re f"),
	}
	return makePDF(pages)
}

// kindColours gives every kind its own colour, so a pixel tells which
// annotation drew it.
var kindColours = map[wire.AnnotationKind]string{
	wire.AnnotRect: "#e00000", wire.AnnotCloud: "#0000e0", wire.AnnotEllipse: "#00a000",
	wire.AnnotArrow: "#d000d0", wire.AnnotLine: "#00a0a0", wire.AnnotNote: "#1030a0",
	wire.AnnotInk: "#804000", wire.AnnotHighlight: "#ffe000",
}

var created = time.Date(2026, 3, 4, 9, 30, 0, 0, time.UTC)

// fixtureAnnotations puts one annotation of each kind on every fixture
// page, at the same places of the displayed page.
func fixtureAnnotations() []wire.Annotation {
	var out []wire.Annotation
	id := int64(1)
	for p := range fixturePages {
		add := func(k wire.AnnotationKind, g wire.Geometry) {
			txt := fmt.Sprintf("Замечание №%d (%s): ёмкость щита — Ъ", id, k)
			if k == wire.AnnotNote {
				txt = fmt.Sprintf("Замечание №%d: проверить высоту этажа и толщину перекрытия в осях 1–3, ёмкость щита ЩР-1", id)
			}
			out = append(out, wire.Annotation{ID: id, Page: p + 1, Kind: k, Geometry: g, Color: kindColours[k], Text: txt,
				Status: wire.AnnotOpen, AuthorName: "Эксперт Ёлкин", CreatedAt: created.Add(time.Duration(id) * time.Minute),
				UpdatedAt: created.Add(time.Hour)})
			id++
		}
		add(wire.AnnotRect, wire.Geometry{Rect: &wire.Rect{X1: 40, Y1: 40, X2: 140, Y2: 110}})
		add(wire.AnnotCloud, wire.Geometry{Rect: &wire.Rect{X1: 190, Y1: 40, X2: 320, Y2: 120}})
		add(wire.AnnotEllipse, wire.Geometry{Rect: &wire.Rect{X1: 370, Y1: 40, X2: 490, Y2: 120}})
		add(wire.AnnotArrow, wire.Geometry{Points: []wire.Point{{X: 40, Y: 180}, {X: 190, Y: 280}}})
		add(wire.AnnotLine, wire.Geometry{Points: []wire.Point{{X: 240, Y: 180}, {X: 390, Y: 280}}})
		add(wire.AnnotNote, wire.Geometry{Rect: &wire.Rect{X1: 40, Y1: 330, X2: 260, Y2: 430}})
		add(wire.AnnotInk, wire.Geometry{Ink: [][]wire.Point{{{X: 300, Y: 330}, {X: 350, Y: 420}, {X: 400, Y: 330}}}})
		add(wire.AnnotHighlight, wire.Geometry{Quads: []wire.Quad{{290, 480, 440, 480, 290, 460, 440, 460}}})
	}
	out[0].Replies = []wire.AnnotationReply{{AuthorName: "Ведущий Щукин", Text: "Согласен, направить заявителю", CreatedAt: created.Add(2 * time.Hour)}}
	out[1].Status = wire.AnnotResolved
	return out
}

// expectedRect is the /Rect an annotation must get, in the displayed
// frame: the geometry, grown by the documented pad of its kind.
func expectedRect(a wire.Annotation) wire.Rect {
	b, _ := a.Geometry.Bounds()
	pad := map[wire.AnnotationKind]float64{wire.AnnotCloud: cloudPad, wire.AnnotArrow: arrowPad, wire.AnnotLine: linePad, wire.AnnotInk: inkPad}[a.Kind]
	return wire.Rect{X1: b.X1 - pad, Y1: b.Y1 - pad, X2: b.X2 + pad, Y2: b.Y2 + pad}
}

var subtypes = map[wire.AnnotationKind]string{
	wire.AnnotHighlight: "Highlight", wire.AnnotRect: "Square", wire.AnnotCloud: "Square", wire.AnnotEllipse: "Circle",
	wire.AnnotArrow: "Line", wire.AnnotLine: "Line", wire.AnnotNote: "FreeText", wire.AnnotInk: "Ink",
}

// export runs Write over the fixture and returns the file's path.
func export(t testing.TB, in []byte, anns []wire.Annotation, opt Options) (string, []byte) {
	t.Helper()
	opt.FontCacheDir = fontDir()
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	var out bytes.Buffer
	if err := Write(context.Background(), bytes.NewReader(in), &out, anns, opt); err != nil {
		t.Fatalf("Write: %v", err)
	}
	p := filepath.Join(t.TempDir(), "export.pdf")
	if err := os.WriteFile(p, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, out.Bytes()
}

// --- MuPDF's view of the annotations ---

type muAnnot struct {
	Page     int       `json:"page"`
	Type     string    `json:"type"`
	NM       string    `json:"nm"`
	Rect     []float64 `json:"rect"`
	Bound    []float64 `json:"bound"`
	Contents string    `json:"contents"`
	Author   string    `json:"author"`
}

type muDoc struct {
	Pages []struct {
		W, H      float64
		HasAnnots bool `json:"hasAnnots"`
	} `json:"pages"`
	Annots []muAnnot `json:"annots"`
}

func mupdfRead(t testing.TB, path string) muDoc {
	t.Helper()
	out, err := exec.Command("mutool", "run", filepath.Join("testdata", "annots.js"), path).Output()
	if err != nil {
		t.Fatalf("mutool run: %v", err)
	}
	var d muDoc
	if err := json.Unmarshal(out, &d); err != nil {
		t.Fatalf("mutool output: %v\n%s", err, out)
	}
	return d
}

// --- PDFium's view, through the app's renderer ---

var renderer = sync.OnceValues(func() (*pdfium.Renderer, error) {
	return pdfium.New(context.Background(), pdfium.Options{
		// The directory the renderer's own tests warm, so the wasm is
		// compiled once per machine.
		CacheDir:  filepath.Join(os.TempDir(), "expertiza-test-wazero-cache"),
		Instances: 1,
	})
})

func pdfiumRead(t testing.TB, path string) (*pdfrender.Document, [][]pdfrender.Annotation) {
	t.Helper()
	r, err := renderer()
	if err != nil {
		t.Fatalf("start pdfium: %v", err)
	}
	ctx := context.Background()
	d, err := r.Open(ctx, path, pdfrender.OpenOptions{})
	if err != nil {
		t.Fatalf("pdfium open: %v", err)
	}
	defer r.CloseDoc(ctx, d.ID)
	out := make([][]pdfrender.Annotation, len(d.Pages))
	for i := range d.Pages {
		if out[i], err = r.Annotations(ctx, d.ID, i); err != nil {
			t.Fatalf("pdfium annotations of page %d: %v", i+1, err)
		}
	}
	return d, out
}

// --- pixels ---

const dpi = 100

// raster is one page rendered at dpi, with the page's height in points to
// map displayed-page points (bottom-left origin) to pixels.
type raster struct {
	img  image.Image
	h    float64
	tool string
}

func loadPNG(t testing.TB, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", p, err)
	}
	return img
}

// renderAll renders every page with poppler and with MuPDF.
func renderAll(t testing.TB, path string, pages []fixturePage) map[string][]raster {
	t.Helper()
	dir := t.TempDir()
	out := map[string][]raster{}
	for i, pg := range pages {
		n := fmt.Sprint(i + 1)
		pp := filepath.Join(dir, "poppler-"+n)
		if b, err := exec.Command("pdftoppm", "-r", fmt.Sprint(dpi), "-cropbox", "-png", "-singlefile", "-f", n, "-l", n, path, pp).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v\n%s", err, b)
		}
		mp := filepath.Join(dir, "mupdf-"+n+".png")
		if b, err := exec.Command("mutool", "draw", "-q", "-r", fmt.Sprint(dpi), "-o", mp, path, n).CombinedOutput(); err != nil {
			t.Fatalf("mutool draw: %v\n%s", err, b)
		}
		out["poppler"] = append(out["poppler"], raster{loadPNG(t, pp+".png"), pg.h, "poppler"})
		out["mupdf"] = append(out["mupdf"], raster{loadPNG(t, mp), pg.h, "mupdf"})
	}
	return out
}

func rgbOf(s string) [3]float64 {
	c, err := parseColour(s)
	if err != nil {
		panic(err)
	}
	return [3]float64{c[0] * 255, c[1] * 255, c[2] * 255}
}

func (r raster) at(x, y float64) [3]float64 {
	px, py := int(math.Floor(x*dpi/72)), int(math.Floor((r.h-y)*dpi/72))
	c := r.img.At(px, py)
	cr, cg, cb, _ := c.RGBA()
	return [3]float64{float64(cr >> 8), float64(cg >> 8), float64(cb >> 8)}
}

func near(a, b [3]float64, tol float64) bool {
	return math.Abs(a[0]-b[0]) <= tol && math.Abs(a[1]-b[1]) <= tol && math.Abs(a[2]-b[2]) <= tol
}

// has reports whether a pixel within 1.5 pt of (x, y) has colour c.
func (r raster) has(x, y float64, c [3]float64) bool {
	for dx := -1.5; dx <= 1.5; dx += 0.5 {
		for dy := -1.5; dy <= 1.5; dy += 0.5 {
			if near(r.at(x+dx, y+dy), c, 48) {
				return true
			}
		}
	}
	return false
}

// count is the number of pixels in the displayed-page box b close to c.
func (r raster) count(b wire.Rect, c [3]float64, tol float64) int {
	n := 0
	for y := b.Y1; y < b.Y2; y += 72.0 / dpi {
		for x := b.X1; x < b.X2; x += 72.0 / dpi {
			if near(r.at(x, y), c, tol) {
				n++
			}
		}
	}
	return n
}

var white = [3]float64{255, 255, 255}

// probe is a point where an annotation must (or must not) have drawn.
type probe struct {
	what string
	x, y float64
	want bool // true: the annotation's colour; false: page white
}

// probes lists, for one annotation of the fixture, the points that show
// its appearance stream really draws its shape.
func probes(a wire.Annotation) []probe {
	g := a.Geometry
	switch a.Kind {
	case wire.AnnotRect:
		r := g.Rect
		return []probe{{"left edge", r.X1 + 1, (r.Y1 + r.Y2) / 2, true}, {"top edge", (r.X1 + r.X2) / 2, r.Y2 - 1, true}, {"inside", (r.X1 + r.X2) / 2, (r.Y1 + r.Y2) / 2, false}}
	case wire.AnnotEllipse:
		r := g.Rect
		return []probe{{"leftmost point", r.X1 + 1, (r.Y1 + r.Y2) / 2, true}, {"top point", (r.X1 + r.X2) / 2, r.Y2 - 1, true},
			{"corner (outside the ellipse)", r.X1 + 4, r.Y2 - 4, false}, {"centre", (r.X1 + r.X2) / 2, (r.Y1 + r.Y2) / 2, false}}
	case wire.AnnotCloud:
		// Scallops on the bottom edge: equal pieces no longer than
		// 2·cloudRadius, each a half circle outwards; the tops reach
		// below the edge, the valleys between them do not.
		r := g.Rect
		l := r.X2 - r.X1
		n := math.Ceil(l / (2 * cloudRadius))
		s := l / n / 2
		return []probe{
			{"first scallop's top", r.X1 + s, r.Y1 - s, true},
			{"third scallop's top", r.X1 + 5*s, r.Y1 - s, true},
			{"valley between scallops", r.X1 + 2*s, r.Y1 - s, false},
			{"inside", (r.X1 + r.X2) / 2, (r.Y1 + r.Y2) / 2, false},
		}
	case wire.AnnotArrow, wire.AnnotLine:
		s, e := g.Points[0], g.Points[1]
		l := math.Hypot(e.X-s.X, e.Y-s.Y)
		ux, uy := (e.X-s.X)/l, (e.Y-s.Y)/l
		base := func(k float64) (float64, float64) { return e.X - ux*k, e.Y - uy*k }
		bx, by := base(arrowLength - 1)
		side := probe{"beside the shaft at the head's base", bx - uy*3.5, by + ux*3.5, a.Kind == wire.AnnotArrow}
		tx, ty := base(4)
		return []probe{{"middle", (s.X + e.X) / 2, (s.Y + e.Y) / 2, true}, {"near the tip", tx, ty, true}, side}
	case wire.AnnotNote:
		r := g.Rect
		return []probe{{"left frame", r.X1 + 0.5, (r.Y1 + r.Y2) / 2, true}, {"top frame", (r.X1 + r.X2) / 2, r.Y2 - 0.5, true}}
	case wire.AnnotInk:
		st := g.Ink[0]
		return []probe{{"apex", st[1].X, st[1].Y - 1, true}, {"first stroke", (st[0].X + st[1].X) / 2, (st[0].Y + st[1].Y) / 2, true},
			{"between the strokes", st[1].X, st[0].Y + 10, false}}
	case wire.AnnotHighlight:
		q := g.Quads[0]
		return []probe{{"centre", (q[0] + q[2]) / 2, (q[1] + q[5]) / 2, true}, {"above", (q[0] + q[2]) / 2, q[1] + 4, false}}
	}
	return nil
}

// checkPixels asserts every probe of every annotation, and that the note's
// text has pixels of its colour, on every page in both renderers.
func checkPixels(t *testing.T, ras map[string][]raster, anns []wire.Annotation) {
	t.Helper()
	for tool, pages := range ras {
		for _, a := range anns {
			r := pages[a.Page-1]
			col := rgbOf(a.Color)
			for _, p := range probes(a) {
				want := col
				if !p.want {
					want = white
				}
				if p.want && !r.has(p.x, p.y, want) || !p.want && !near(r.at(p.x, p.y), white, 40) {
					t.Errorf("%s, page %d, %s %d: %s at (%.1f, %.1f) is %v, want %v", tool, a.Page, a.Kind, a.ID, p.what, p.x, p.y, r.at(p.x, p.y), want)
				}
			}
			if a.Kind == wire.AnnotNote {
				inner := *a.Geometry.Rect
				inner.X1, inner.Y1, inner.X2, inner.Y2 = inner.X1+3, inner.Y1+3, inner.X2-3, inner.Y2-3
				if n := r.count(inner, col, 60); n < 200 {
					t.Errorf("%s, page %d: the note's text has %d pixels of its colour, want the text drawn", tool, a.Page, n)
				}
			}
		}
	}
}

// pink is the stamp's red at its opacity over white.
var pink = [3]float64{255 - stampOpacity*(255-204), 255 * (1 - stampOpacity), 255 * (1 - stampOpacity)}

// stamped counts the pixels in b that are white in base (the export
// without a stamp) and the stamp's pink in r.
func stamped(r, base raster, b wire.Rect) int {
	n := 0
	for y := b.Y1; y < b.Y2; y += 72.0 / dpi {
		for x := b.X1; x < b.X2; x += 72.0 / dpi {
			if near(r.at(x, y), pink, 30) && near(base.at(x, y), white, 10) {
				n++
			}
		}
	}
	return n
}

func TestWriteReadBackByPDFiumAndMuPDF(t *testing.T) {
	in := inputPDF()
	anns := fixtureAnnotations()
	path, pdf := export(t, in, anns, Options{})
	pdftest.Validate(t, pdf, model.ValidationRelaxed)

	// PDFium: subtype, rectangle on the displayed page, contents, author.
	doc, pa := pdfiumRead(t, path)
	for i, pg := range fixturePages {
		if got := doc.Pages[i]; math.Abs(got.Width-pg.w) > 0.01 || math.Abs(got.Height-pg.h) > 0.01 {
			t.Fatalf("pdfium: page %d is %vx%v, fixture says %vx%v", i+1, got.Width, got.Height, pg.w, pg.h)
		}
	}
	for _, a := range anns {
		pg := fixturePages[a.Page-1]
		var found []pdfrender.Annotation
		for _, x := range pa[a.Page-1] {
			if strings.HasPrefix(x.Contents, a.Text) {
				found = append(found, x)
			}
		}
		if len(found) != 1 {
			t.Errorf("pdfium, page %d: %d annotations with the text of %s %d, want 1", a.Page, len(found), a.Kind, a.ID)
			continue
		}
		x := found[0]
		want := expectedRect(a)
		// PDFium reports the displayed page from the top-left corner.
		wantTop := pdfrender.Rect{X0: want.X1, Y0: pg.h - want.Y2, X1: want.X2, Y1: pg.h - want.Y1}
		if x.Subtype != subtypes[a.Kind] || x.Author != a.AuthorName || !rectNear(x.Rect, wantTop, 0.5) {
			t.Errorf("pdfium, page %d, %s %d: %s by %q at %+v; want %s by %q at %+v", a.Page, a.Kind, a.ID,
				x.Subtype, x.Author, x.Rect, subtypes[a.Kind], a.AuthorName, wantTop)
		}
		if x.Modified != "D:20260304103000Z" {
			t.Errorf("pdfium, %s %d: /M %q", a.Kind, a.ID, x.Modified)
		}
	}
	if n := len(pa[0]); n != 8+2 {
		t.Errorf("pdfium: page 1 has %d annotations (pop-ups aside), want the 8 new, the kept square and the link", n)
	}

	// MuPDF: /NM once per row, the same rectangles, Cyrillic intact.
	md := mupdfRead(t, path)
	byNM := map[string][]muAnnot{}
	for _, x := range md.Annots {
		byNM[x.NM] = append(byNM[x.NM], x)
	}
	for _, a := range anns {
		xs := byNM[NM(a.ID)]
		if len(xs) != 1 {
			t.Errorf("mupdf: %d annotations with /NM %s, want 1", len(xs), NM(a.ID))
			continue
		}
		x := xs[0]
		want := expectedRect(a)
		h := fixturePages[a.Page-1].h
		if x.Page != a.Page || x.Type != subtypes[a.Kind] || !rectNear(pdfrender.Rect{X0: x.Bound[0], Y0: x.Bound[1], X1: x.Bound[2], Y1: x.Bound[3]},
			pdfrender.Rect{X0: want.X1, Y0: h - want.Y2, X1: want.X2, Y1: h - want.Y1}, 0.5) {
			t.Errorf("mupdf: %s %d is %s on page %d at %v, want %s on page %d at %+v", a.Kind, a.ID, x.Type, x.Page, x.Bound, subtypes[a.Kind], a.Page, want)
		}
		if !strings.HasPrefix(x.Contents, a.Text) || x.Author != a.AuthorName {
			t.Errorf("mupdf: %s %d: contents %q by %q", a.Kind, a.ID, x.Contents, x.Author)
		}
	}
	if want := "Замечание №1 (rect): ёмкость щита — Ъ\n— Ведущий Щукин, 04.03.2026 11:30: Согласен, направить заявителю"; byNM[NM(1)][0].Contents != want {
		t.Errorf("contents with a reply: %q, want %q", byNM[NM(1)][0].Contents, want)
	}
	if got := byNM[NM(2)][0].Contents; !strings.HasSuffix(got, "\n[Статус: устранена]") {
		t.Errorf("contents of a resolved annotation: %q", got)
	}
	if len(byNM[existingNM]) != 1 {
		t.Errorf("mupdf: the existing square is gone: %+v", byNM[existingNM])
	}

	ras := renderAll(t, path, fixturePages)
	checkPixels(t, ras, anns)
	for tool, pages := range ras {
		r := pages[0]
		if !r.has(500, 740, rgbOf("#009900")) {
			t.Errorf("%s: the existing square's appearance is not drawn", tool)
		}
		if !near(r.at(500, 640), white, 40) {
			t.Errorf("%s: the earlier export of annotation %d still draws: %v", tool, staleID, r.at(500, 640))
		}
	}
}

func rectNear(a, b pdfrender.Rect, tol float64) bool {
	return math.Abs(a.X0-b.X0) <= tol && math.Abs(a.Y0-b.Y0) <= tol && math.Abs(a.X1-b.X1) <= tol && math.Abs(a.Y1-b.Y1) <= tol
}

func TestFlattenAndStamp(t *testing.T) {
	in := inputPDF()
	anns := fixtureAnnotations()
	basePath, _ := export(t, in, anns, Options{})
	base := renderAll(t, basePath, fixturePages)
	tests := []struct {
		name           string
		opt            Options
		stamp, flatten bool
	}{
		{"flattened", Options{Flatten: true}, false, true},
		{"stamped", Options{StampCopy: true}, true, false},
		{"flattened and stamped", Options{Flatten: true, StampCopy: true}, true, true},
		{"stamped in English", Options{StampCopy: true, Lang: "en"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, pdf := export(t, in, anns, tt.opt)
			pdftest.Validate(t, pdf, model.ValidationRelaxed)
			md := mupdfRead(t, path)
			_, pa := pdfiumRead(t, path)
			if tt.flatten {
				if len(md.Annots) != 0 {
					t.Errorf("after flattening MuPDF reads %+v, want none", md.Annots)
				}
				// Only the link stays: it draws nothing and keeps its target.
				if len(pa[0]) != 1 || pa[0][0].Subtype != "Link" || !md.Pages[0].HasAnnots {
					t.Errorf("after flattening PDFium reads %+v on page 1, want only the link", pa[0])
				}
				for i, p := range md.Pages[1:] {
					if p.HasAnnots || len(pa[i+1]) != 0 {
						t.Errorf("page %d still has /Annots: %+v", i+2, pa[i+1])
					}
				}
			} else if len(md.Annots) != len(anns)+1 {
				t.Errorf("MuPDF reads %d annotations, want the %d new and the kept square", len(md.Annots), len(anns))
			}
			// The notes' text, flattened or in their appearance streams,
			// extracts as Cyrillic through the subset font's ToUnicode map.
			for i, page := range pdftest.Pages(t, pdf) {
				if note := fmt.Sprintf("Замечание №%d: проверить высоту", 6+8*i); !strings.Contains(page, note) {
					t.Errorf("page %d text lacks %q:\n%s", i+1, note, page)
				}
			}
			ras := renderAll(t, path, fixturePages)
			if !tt.stamp {
				checkPixels(t, ras, anns)
				for tool, pages := range ras {
					if !pages[0].has(500, 740, rgbOf("#009900")) {
						t.Errorf("%s: the existing square was not burnt in", tool)
					}
				}
			}
			for tool, pages := range ras {
				for i, pg := range fixturePages {
					all := wire.Rect{X1: 0, Y1: 0, X2: pg.w, Y2: pg.h}
					centre := wire.Rect{X1: pg.w/2 - 60, Y1: pg.h/2 - 60, X2: pg.w/2 + 60, Y2: pg.h/2 + 60}
					n, c := stamped(pages[i], base[tool][i], all), stamped(pages[i], base[tool][i], centre)
					switch {
					case tt.stamp && (n < 5000 || c < 300):
						// Its letters cover thousands of pixels and it
						// runs through the page's centre.
						t.Errorf("%s: page %d has %d stamp pixels, %d of them at the centre; want the stamp", tool, i+1, n, c)
					case !tt.stamp && n > 20:
						t.Errorf("%s: page %d has %d stamp pixels without a stamp", tool, i+1, n)
					}
				}
			}
		})
	}
}

func TestWriteRefusals(t *testing.T) {
	in := inputPDF()
	good := fixtureAnnotations()[:1]
	with := func(f func(a *wire.Annotation)) []wire.Annotation {
		a := good[0]
		a.Geometry.Rect = &wire.Rect{X1: 40, Y1: 40, X2: 140, Y2: 110}
		f(&a)
		return []wire.Annotation{a}
	}
	tests := []struct {
		name  string
		in    []byte
		anns  []wire.Annotation
		opt   Options
		field string
	}{
		{"page past the end", in, with(func(a *wire.Annotation) { a.Page = 6 }), Options{}, "annotations"},
		{"page zero", in, with(func(a *wire.Annotation) { a.Page = 0 }), Options{}, "annotations"},
		{"off the page", in, with(func(a *wire.Annotation) { a.Geometry.Rect.X2 = 700 }), Options{}, "geometry"},
		// Page 4 is 550 pt wide as displayed, though its media box is 842.
		{"off a turned page", in, with(func(a *wire.Annotation) { a.Page = 4; a.Geometry.Rect.X2 = 600 }), Options{}, "geometry"},
		{"bad colour", in, with(func(a *wire.Annotation) { a.Color = "red" }), Options{}, "color"},
		{"note without text", in, with(func(a *wire.Annotation) { a.Kind = wire.AnnotNote; a.Text = " " }), Options{}, "text"},
		{"twice", in, append(with(func(*wire.Annotation) {}), with(func(*wire.Annotation) {})...), Options{}, "annotations"},
		{"not a PDF", []byte("%PDF-1.4\nnot really"), good, Options{}, "file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			tt.opt.FontCacheDir = fontDir()
			err := Write(context.Background(), bytes.NewReader(tt.in), &out, tt.anns, tt.opt)
			if wire.ErrorCode(err) != wire.CodeInvalid {
				t.Fatalf("Write: %v, want %s", err, wire.CodeInvalid)
			}
			var we *wire.Error
			if !errors.As(err, &we) || we.Field != tt.field || we.Message == "" || we.MessageEN == "" {
				t.Errorf("error %+v, want field %q with Russian and English text", we, tt.field)
			}
			if out.Len() != 0 {
				t.Errorf("%d bytes written for a refused export", out.Len())
			}
		})
	}
	var out bytes.Buffer
	if err := Write(context.Background(), bytes.NewReader(in), &out, good, Options{Lang: "de", FontCacheDir: fontDir()}); err == nil {
		t.Error("an unknown language was accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Write(ctx, bytes.NewReader(in), &out, good, Options{FontCacheDir: fontDir()}); err == nil {
		t.Error("a cancelled export succeeded")
	}
}

// TestReexportIsIdempotent exports an exported file again with the same
// rows: every row stays one annotation (the earlier export is replaced),
// and the rendering does not change.
func TestReexportIsIdempotent(t *testing.T) {
	anns := fixtureAnnotations()
	_, first := export(t, inputPDF(), anns, Options{})
	anns[0].Color = "#00e000" // edited since
	path, _ := export(t, first, anns, Options{})
	md := mupdfRead(t, path)
	seen := map[string]int{}
	for _, x := range md.Annots {
		seen[x.NM]++
	}
	for _, a := range anns {
		if seen[NM(a.ID)] != 1 {
			t.Errorf("%s appears %d times", NM(a.ID), seen[NM(a.ID)])
		}
	}
	ras := renderAll(t, path, fixturePages[:1])
	for tool, pages := range ras {
		if !pages[0].has(41, 75, rgbOf("#00e000")) || pages[0].has(41, 75, rgbOf("#e00000")) {
			t.Errorf("%s: the rectangle is not redrawn in its new colour alone", tool)
		}
	}
}

func TestContents(t *testing.T) {
	a := wire.Annotation{Text: "Проверить", Status: wire.AnnotRejected, Replies: []wire.AnnotationReply{
		{AuthorName: "Щукин", Text: "Нет", CreatedAt: time.Date(2026, 1, 2, 21, 5, 0, 0, time.UTC)},
		{AuthorName: "Ёлкин", Text: "Да"},
	}}
	msk := time.FixedZone("MSK", 3*3600)
	tests := []struct {
		lang string
		a    wire.Annotation
		want string
	}{
		{"ru", a, "Проверить\n[Статус: отклонена]\n— Щукин, 03.01.2026 00:05: Нет\n— Ёлкин: Да"},
		{"en", a, "Проверить\n[Status: rejected]\n— Щукин, 2026-01-03 00:05: Нет\n— Ёлкин: Да"},
		{"ru", wire.Annotation{Status: wire.AnnotOpen}, ""},
		{"ru", wire.Annotation{Status: wire.AnnotResolved}, "[Статус: устранена]"},
	}
	for _, tt := range tests {
		l, err := labelsFor(pdfdoc.Lang(tt.lang))
		if err != nil {
			t.Fatal(err)
		}
		if got := l.contents(tt.a, msk); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.lang, got, tt.want)
		}
	}
}

// TestConcurrentWrites runs exports side by side (the app may export
// while the server-side letter code uses pdfcpu's font registry too); run
// it with -race.
func TestConcurrentWrites(t *testing.T) {
	in := inputPDF()
	anns := fixtureAnnotations()
	var wg sync.WaitGroup
	outs := make([][]byte, 4)
	errs := make([]error, len(outs))
	for i := range outs {
		wg.Go(func() {
			var b bytes.Buffer
			errs[i] = Write(context.Background(), bytes.NewReader(in), &b, anns, Options{FontCacheDir: fontDir(), StampCopy: i%2 == 0, Flatten: i >= 2})
			outs[i] = b.Bytes()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("export %d: %v", i, err)
		}
		pdftest.Validate(t, outs[i], model.ValidationRelaxed)
	}
}

// BenchmarkWrite500Pages exports 1,000 annotations (every kind, notes
// included) onto a 500-page file.
func BenchmarkWrite500Pages(b *testing.B) {
	pages := make([]testPage, 500)
	for i := range pages {
		pages[i].content = fmt.Sprintf("BT /F1 12 Tf 72 800 Td (Page %d) Tj ET", i+1)
	}
	in := makePDF(pages)
	base := fixtureAnnotations()[:8]
	anns := make([]wire.Annotation, 0, 1000)
	for i := range 1000 {
		a := base[i%8]
		a.ID = int64(i + 1)
		a.Page = i/2 + 1
		anns = append(anns, a)
	}
	for _, bb := range []struct {
		name string
		opt  Options
	}{{"annotate", Options{}}, {"flatten+stamp", Options{Flatten: true, StampCopy: true}}} {
		b.Run(bb.name, func(b *testing.B) {
			opt := bb.opt
			opt.FontCacheDir = fontDir()
			var out bytes.Buffer
			for b.Loop() {
				out.Reset()
				if err := Write(context.Background(), bytes.NewReader(in), &out, anns, opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(out.Len())/1e6, "MB")
		})
	}
}
