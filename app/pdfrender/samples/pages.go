package samples

import "github.com/expertiza/expertiza/app/pdfrender/internal/testpdf"

// PageSpec describes one page for Pages: size in points (A4 when zero),
// text lines from the top and filled black boxes (page points, top-left
// origin, y down).
type PageSpec = testpdf.PageSpec

// Rect is a box in page points, top-left origin, y down.
type Rect = testpdf.Rect

// Pages builds a document from specs, so tests can write two versions of
// a file that differ in known places.
func Pages(specs []PageSpec) []byte { return testpdf.Pages(specs) }

// Where Pages puts line j: baseline LineTop + j·LineStep below the top,
// LineLeft from the left, LineSize points tall.
const (
	LineTop  = testpdf.LineTop
	LineStep = testpdf.LineStep
	LineLeft = testpdf.LineLeft
	LineSize = testpdf.LineSize
)
