package pdfium

import (
	"context"
	"image"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/internal/testpdf"
)

// approx compares positions in points within half a point: pdfium keeps
// annotation rectangles as float32.
var approx = cmpopts.EquateApprox(0, 0.5)

// occurrences counts query in the page's source lines, ignoring case: the
// expected number of hits comes from the same strings the PDF was made of.
func occurrences(lines []string, query string) int {
	n := 0
	for _, l := range lines {
		n += strings.Count(strings.ToLower(l), strings.ToLower(query))
	}
	return n
}

func TestSearch(t *testing.T) {
	ctx := context.Background()
	d := open(t, textPDF(t))
	page1 := append([]string{testpdf.TextDocHeading}, testpdf.TextDocLines...)
	tests := []struct {
		query string
		page  int
		want  int
	}{
		{"ПРОЕКТ", 0, occurrences(page1, "проект")},
		{"проект", 0, occurrences(page1, "проект")},
		{"ПрОеКт", 0, occurrences(page1, "проект")},
		{"документации", 0, occurrences(page1, "документации")},
		{"expertiza", 0, 1},
		{"проект", 1, 1},
		{"чертёж", 2, 1},
		{"нет такого слова", 0, 0},
		{"   ", 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if tt.want == 0 && tt.query == "ПРОЕКТ" {
				t.Fatal("the fixture has no occurrence to find")
			}
			hits, err := shared.SearchPage(ctx, d.ID, tt.page, tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if len(hits) != tt.want {
				t.Fatalf("%d hits, want %d: %+v", len(hits), tt.want, hits)
			}
			p := d.Pages[tt.page]
			for _, h := range hits {
				if h.Page != tt.page || len(h.Rects) == 0 {
					t.Errorf("hit %+v: wrong page or no rectangle", h)
				}
				for _, r := range h.Rects {
					if r.Empty() || r.X0 < 0 || r.Y0 < 0 || r.X1 > p.Width || r.Y1 > p.Height {
						t.Errorf("hit rectangle %+v outside page %vx%v", r, p.Width, p.Height)
					}
				}
			}
		})
	}

	// The heading's hit lies where the heading is drawn.
	hits, err := shared.SearchPage(ctx, d.ID, 0, "ПРОЕКТ")
	if err != nil {
		t.Fatal(err)
	}
	r := hits[0].Rects[0]
	if r.X0 < testpdf.TextDocHeadingX-1 || r.X0 > testpdf.TextDocHeadingX+5 || math.Abs(r.Y1-testpdf.TextDocHeadingBaseline) > 2 || r.Y1-r.Y0 < 15 {
		t.Errorf("heading hit at %+v, want from x %v, bottom near baseline %v, glyph-tall", r, testpdf.TextDocHeadingX, testpdf.TextDocHeadingBaseline)
	}

	// Every hit, on the plain and on the rotated page, covers dark glyph
	// pixels in the rendered page: hit rectangles and pixels agree.
	all, err := shared.Search(ctx, d.ID, "проект")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != occurrences(page1, "проект")+1 {
		t.Fatalf("whole document: %d hits", len(all))
	}
	for _, rot := range []pdfrender.Rotation{0, 1} {
		v := pdfrender.View{Zoom: 2, Rotation: rot}
		imgs := map[int]*image.RGBA{}
		for _, h := range all {
			if imgs[h.Page] == nil {
				if imgs[h.Page], err = shared.RenderPage(ctx, d.ID, h.Page, v); err != nil {
					t.Fatal(err)
				}
			}
			for _, hr := range h.Rects {
				px := v.RectToPixels(d.Pages[h.Page], hr)
				box := image.Rect(int(px.X0), int(px.Y0), int(px.X1), int(px.Y1))
				if dark := testpdf.Dark(imgs[h.Page], box); dark < box.Dx()*box.Dy()/10 {
					t.Errorf("rotation %d page %d hit %+v: %d dark pixels of %d", rot, h.Page+1, hr, dark, box.Dx()*box.Dy())
				}
			}
		}
	}
}

func TestChars(t *testing.T) {
	ctx := context.Background()
	d := open(t, textPDF(t))
	chars, err := shared.Chars(ctx, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, c := range chars {
		text.WriteRune(c.Rune)
	}
	got := text.String()
	for _, want := range append([]string{testpdf.TextDocHeading}, testpdf.TextDocLines...) {
		if !strings.Contains(strings.Join(strings.Fields(got), " "), want) {
			t.Errorf("page text lacks %q:\n%s", want, got)
		}
	}
	// The heading's letters sit left to right on the heading's baseline.
	heading := []rune(testpdf.TextDocHeading)
	prev := 0.0
	for i, c := range chars[:len(heading)] {
		if c.Rune != heading[i] {
			t.Fatalf("char %d is %q, want %q", i, c.Rune, heading[i])
		}
		if c.Rune == ' ' {
			continue
		}
		// Capitals 28 pt tall stand on the baseline (Д and Ц reach below it).
		if c.Box.Empty() || c.Box.X0 < prev || c.Box.Y0 > testpdf.TextDocHeadingBaseline-18 || c.Box.Y1 < testpdf.TextDocHeadingBaseline-1 {
			t.Errorf("char %d %q box %+v: not after x %v on baseline %v", i, c.Rune, c.Box, prev, testpdf.TextDocHeadingBaseline)
		}
		prev = c.Box.X1 - 0.5
	}
	// Characters of the rotated page come out in displayed coordinates:
	// the line reads left to right across the landscape page.
	rot, err := shared.Chars(ctx, d.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	var boxes []pdfrender.Rect
	for _, c := range rot {
		if !c.Box.Empty() {
			boxes = append(boxes, c.Box)
		}
	}
	if len(boxes) < 10 {
		t.Fatalf("rotated page: %d boxed characters", len(boxes))
	}
	first, last := boxes[0], boxes[len(boxes)-1]
	if last.X0 <= first.X0+100 || math.Abs(last.Y1-first.Y1) > 3 || first.Y1 > 305 || first.Y1 < 295 {
		t.Errorf("rotated page: first char %+v, last %+v; want one line near y 300 running right", first, last)
	}
}

func TestTextInRect(t *testing.T) {
	ctx := context.Background()
	d := open(t, textPDF(t))
	// A selection snapped to the characters of the second line's first
	// word, as the viewer does it: the union of their boxes.
	chars, err := shared.Chars(ctx, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]rune, len(chars))
	for i, c := range chars {
		all[i] = c.Rune
	}
	at := strings.Index(string(all), testpdf.TextDocLines[1])
	if at < 0 {
		t.Fatalf("second line not in the page's characters")
	}
	start := len([]rune(string(all)[:at]))
	var word pdfrender.Rect
	for _, c := range chars[start : start+len([]rune("Проект"))] {
		word = word.Union(c.Box)
	}
	tests := []struct {
		name string
		page int
		rect pdfrender.Rect
		want string
	}{
		// Body lines have baselines at 142, 160, 178, 196 (842 − 700 + 18k).
		{"second line", 0, pdfrender.Rect{X0: 60, Y0: 150, X1: 560, Y1: 163}, testpdf.TextDocLines[1]},
		{"first two lines", 0, pdfrender.Rect{X0: 60, Y0: 132, X1: 560, Y1: 163}, testpdf.TextDocLines[0] + "\n" + testpdf.TextDocLines[1]},
		{"a word snapped to its characters", 0, word, "Проект"},
		{"rotated page", 1, pdfrender.Rect{X0: 60, Y0: 280, X1: 400, Y1: 305}, testpdf.TextDocRotatedLine},
		{"empty margin", 0, pdfrender.Rect{X0: 5, Y0: 300, X1: 50, Y1: 600}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := shared.TextInRect(ctx, d.ID, tt.page, tt.rect)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestOutline(t *testing.T) {
	ctx := context.Background()
	d := open(t, textPDF(t))
	got, err := shared.Outline(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []pdfrender.OutlineItem{
		{Title: "1. Пояснительная записка", Page: 0, Children: []pdfrender.OutlineItem{
			{Title: "1.1 Общие сведения", Page: 0},
			{Title: "1.2 Повёрнутый лист", Page: 1},
		}},
		{Title: "2. Чертежи", Page: 2},
		{Title: "Внешняя ссылка", Page: -1},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("outline mismatch (-want +got):\n%s", diff)
	}

	// A looping outline ends at the bound instead of hanging.
	loop := open(t, fixture(t, "cycle.pdf", testpdf.CyclicOutline))
	items, err := shared.Outline(ctx, loop.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) == 0 || len(items) > maxOutlineItems || items[0].Title != "A" || items[1].Title != "B" {
		t.Errorf("looping outline: %d items starting %+v", len(items), items[:min(2, len(items))])
	}
}

func TestAnnotations(t *testing.T) {
	ctx := context.Background()
	d := open(t, textPDF(t))
	got, err := shared.Annotations(ctx, d.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Rectangles are in page points: the note at user (540, 800)-(560, 820)
	// is 22..42 from the top of the 842-point page.
	want := []pdfrender.Annotation{
		{Subtype: "Text", Rect: pdfrender.Rect{X0: 540, Y0: 22, X1: 560, Y1: 42}, Contents: "Проверить сечение балки", Author: "Иванов И. И.", Modified: "D:20250301120000+03'00'"},
		{Subtype: "Square", Rect: pdfrender.Rect{X0: 300, Y0: 482, X1: 400, Y1: 542}, Contents: "Замечание 1", Author: "Петров П. П."},
	}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("annotations mismatch (-want +got):\n%s", diff)
	}
	none, err := shared.Annotations(ctx, d.ID, 2)
	if err != nil || len(none) != 0 {
		t.Errorf("page 3: %v %+v, want no annotations", err, none)
	}
	// The square stored in the file is drawn in the tile (red border).
	v := pdfrender.View{Zoom: 1}
	img, err := shared.RenderPage(ctx, d.ID, 0, v)
	if err != nil {
		t.Fatal(err)
	}
	c := img.RGBAAt(350, 483)
	if c.R < 200 || c.G > 80 || c.B > 80 {
		t.Errorf("square annotation border pixel %v, want red", c)
	}
}
