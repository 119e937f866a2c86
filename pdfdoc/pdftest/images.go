package pdftest

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ImageInfo is an image pdfimages -list finds on a page.
type ImageInfo struct {
	Page          int
	Width, Height int // pixels
	Color         string
}

// Images lists the images drawn on the pages.
func Images(t testing.TB, pdf []byte) []ImageInfo {
	t.Helper()
	var out []ImageInfo
	lines := strings.Split(run(t, "pdfimages", "-list", file(t, pdf)), "\n")
	for _, line := range lines[min(2, len(lines)):] { // a header and a rule
		f := strings.Fields(line)
		if len(f) < 6 || f[2] == "smask" {
			continue // an image's alpha channel is listed as its own row
		}
		page, err1 := strconv.Atoi(f[0])
		w, err2 := strconv.Atoi(f[3])
		h, err3 := strconv.Atoi(f[4])
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatalf("pdfimages -list row %q", line)
		}
		out = append(out, ImageInfo{Page: page, Width: w, Height: h, Color: f[5]})
	}
	return out
}

// Render rasterises one page (from 1) with pdftoppm at dpi; at 72 a pixel
// is a point.
func Render(t testing.TB, pdf []byte, page, dpi int) image.Image {
	t.Helper()
	dir := t.TempDir()
	p := strconv.Itoa(page)
	run(t, "pdftoppm", "-png", "-r", strconv.Itoa(dpi), "-f", p, "-l", p, "-singlefile", file(t, pdf), filepath.Join(dir, "page"))
	b, err := os.ReadFile(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
