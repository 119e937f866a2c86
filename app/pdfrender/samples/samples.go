// Package samples hands the renderer's generated test PDFs to tests outside
// app/pdfrender (the viewer session in app, the viewer window in ui): Go's
// internal rule keeps app/pdfrender/internal/testpdf to app/pdfrender, and
// a second generator would drift from the one the renderer is tested with.
// Only tests and benchmarks import it.
package samples

import (
	"strings"

	"github.com/expertiza/expertiza/app/pdfrender/internal/testpdf"
)

// TextDoc is three pages (A4 with a Cyrillic heading «ПРОЕКТНАЯ
// ДОКУМЕНТАЦИЯ», two annotations stored in the file; A4 stored with
// /Rotate 90; A3 landscape) and an outline of two chapters, one with two
// children, and an external link.
func TextDoc() []byte { return testpdf.TextDoc() }

// Long is an n-page A4 volume of text and small drawings.
func Long(n int) []byte { return testpdf.Long(n) }

// Drawing is an A1 landscape sheet of n line segments.
func Drawing(n int) []byte { return testpdf.Drawing(n) }

// Facts about TextDoc the tests check.
var (
	TextDocHeading = testpdf.TextDocHeading
	// TextDocOutlineTop are the titles of the outline's top level.
	TextDocOutlineTop = []string{"1. Пояснительная записка", "2. Чертежи", "Внешняя ссылка"}
)

// TextDocOccurrences is how many times q occurs in TextDoc's text, ignoring
// case: what a search of the whole document must find.
func TextDocOccurrences(q string) int {
	lines := append([]string{testpdf.TextDocHeading, testpdf.TextDocRotatedLine, testpdf.TextDocSheetLine}, testpdf.TextDocLines...)
	n := 0
	for _, l := range lines {
		n += strings.Count(strings.ToLower(l), strings.ToLower(q))
	}
	return n
}
