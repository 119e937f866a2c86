package pdfdoc

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/expertiza/expertiza/pdfdoc/pdftest"
)

// twoColours is a w×h PNG, red on the left half and blue on the right.
func twoColours(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{R: 220, A: 255}
			if x >= w/2 {
				c = color.RGBA{B: 220, A: 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func near(c color.Color, r, g, b uint8) bool {
	cr, cg, cb, _ := c.RGBA()
	d := func(x uint32, y uint8) bool { v := int(x>>8) - int(y); return v > -40 && v < 40 }
	return d(cr, r) && d(cg, g) && d(cb, b)
}

// TestImageBlock: a picture is embedded with its pixels, drawn at the width
// asked for between the text before and after it, and the PDF is valid.
func TestImageBlock(t *testing.T) {
	e := engine(t)
	pic := twoColours(t, 400, 200)
	pdf := render(t, e, &Document{
		Title: "Отчёт с графиком",
		Blocks: []Block{
			Paragraph{Text: "До рисунка"},
			Image{Data: pic, Width: 200, Align: AlignCenter},
			Paragraph{Text: "После рисунка"},
		},
		Margins: Margins{Top: 20, Right: 20, Bottom: 20, Left: 20},
	})
	pdftest.Validate(t, pdf, model.ValidationStrict)
	imgs := pdftest.Images(t, pdf)
	if len(imgs) != 1 || imgs[0].Width != 400 || imgs[0].Height != 200 || imgs[0].Page != 1 {
		t.Fatalf("images %+v, want one of 400×200 on page 1", imgs)
	}
	var before, after pdftest.Word
	for _, w := range pdftest.Words(t, pdf) {
		switch w.Text {
		case "До":
			before = w
		case "После":
			after = w
		}
	}
	// 200 points wide, so 100 high, centred on the 595-point page.
	page := pdftest.Render(t, pdf, 1, 72)
	top := int(before.YMax) + 1
	redX, blueX := 595/2-50, 595/2+50
	var redRows, blueRows int
	for y := top; y < int(after.YMin); y++ {
		if near(page.At(redX, y), 220, 0, 0) {
			redRows++
		}
		if near(page.At(blueX, y), 0, 0, 220) {
			blueRows++
		}
	}
	if redRows < 98 || redRows > 101 || blueRows < 98 || blueRows > 101 {
		t.Errorf("between the paragraphs (y %d–%.0f) %d red and %d blue rows, want 100 of each", top, after.YMin, redRows, blueRows)
	}
	for _, x := range []int{595/2 - 110, 595/2 + 110} { // outside the 200 points
		for y := top; y < int(after.YMin); y++ {
			if !near(page.At(x, y), 255, 255, 255) {
				t.Fatalf("x %d, y %d is %v: the picture is wider than 200 points", x, y, page.At(x, y))
			}
		}
	}
}

// TestImagesFlowOverPages: a picture that does not fit below moves to the
// next page; one taller than a page shrinks to the text area.
func TestImagesFlowOverPages(t *testing.T) {
	e := engine(t)
	wide, tall := twoColours(t, 600, 500), twoColours(t, 100, 3000)
	pdf := render(t, e, &Document{Blocks: []Block{
		Image{Data: wide}, // the text width, 5/6 as high: more than half the page
		Image{Data: wide}, // no room left: page 2
		Image{Data: tall}, // taller than a page: page 3, scaled down
	}})
	var pages []int
	for _, im := range pdftest.Images(t, pdf) {
		pages = append(pages, im.Page)
	}
	if !slices.Equal(pages, []int{1, 2, 3}) {
		t.Fatalf("images on pages %v, want 1, 2, 3", pages)
	}
	if n := pdftest.PageCount(t, pdf); n != 3 {
		t.Fatalf("%d pages, want 3", n)
	}
	// The tall one fills the text area's height (842 − 2×20 mm, less the
	// footer's room) and no more: the page's top and bottom margins stay
	// white at its centre column.
	page := pdftest.Render(t, pdf, 3, 72)
	b := page.Bounds()
	var coloured []int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := page.At(x, y); near(c, 220, 0, 0) || near(c, 0, 0, 220) {
				coloured = append(coloured, y)
				break
			}
		}
	}
	if len(coloured) == 0 {
		t.Fatal("page 3 shows no picture")
	}
	first, last := coloured[0], coloured[len(coloured)-1]
	marginMM := 20.0
	margin := int(marginMM * mm)
	if first < margin-1 || last > 842-margin+1 || last-first < 600 {
		t.Errorf("the tall picture spans y %d–%d; want it within the margins and most of the page", first, last)
	}
}

func TestBadImagesAreRefused(t *testing.T) {
	e := engine(t)
	for _, tc := range []struct {
		name string
		im   Image
		want string
	}{
		{"no data", Image{}, "no data"},
		{"not a picture", Image{Data: []byte("%PDF-1.7")}, "not a PNG or JPEG"},
		{"negative width", Image{Data: twoColours(t, 4, 4), Width: -1}, "image width -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.Write(context.Background(), &bytes.Buffer{}, &Document{Blocks: []Block{Paragraph{Text: "x"}, tc.im}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "block 2") {
				t.Errorf("error %v, want one about block 2 saying %q", err, tc.want)
			}
		})
	}
}
