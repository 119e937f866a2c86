// Package pdfdoc typesets business documents — notice letters, contracts,
// invoices, conclusions, reports, exported lists — as PDF with an embedded
// Cyrillic font (DejaVu Sans from assets.Fonts, subset to the glyphs used).
//
// A Document is plain data: a title block, then blocks (paragraphs,
// tables, images, spacers, page breaks) that flow over as many pages as
// they need. Text is wrapped to the width it is given; a word wider than
// that width is broken between characters rather than drawn past the edge.
// Table rows move to the next page when they do not fit, the header row is
// repeated on every page, and a row taller than a page is split between
// pages. Every page has a footer with the generation time and «Страница N из M».
//
// An Engine renders documents; create one per process with New and share
// it, it is safe for concurrent use:
//
//	eng, err := pdfdoc.New(ctx, cacheDir)
//	...
//	err = eng.Write(ctx, w, &pdfdoc.Document{
//		Title: "Реестр заявлений",
//		Blocks: []pdfdoc.Block{
//			pdfdoc.Table{Columns: cols, Rows: rows},
//		},
//	})
//
// The PDF objects are built and written with github.com/pdfcpu/pdfcpu; the
// page content streams are generated here, because pdfcpu's create-from-JSON
// path neither wraps table cells nor splits tables over pages.
package pdfdoc

import "time"

// Align places a line of text within its box.
type Align int

const (
	AlignLeft Align = iota
	AlignCenter
	AlignRight
)

// Lang selects the language of the text pdfdoc adds itself (page numbers,
// generation time). The document's own text is the caller's.
type Lang string

const (
	LangRU Lang = "ru" // the default
	LangEN Lang = "en"
)

// Margins are page margins in millimetres. The footer sits inside the
// bottom margin. A zero Margins means 20 mm top and bottom, 15 mm right
// and 30 mm left for binding, as ГОСТ Р 7.0.97 has for office documents.
type Margins struct {
	Top, Right, Bottom, Left float64
}

func defaultMargins() Margins { return Margins{Top: 20, Right: 15, Bottom: 20, Left: 30} }

// Document is one PDF to typeset.
type Document struct {
	// Title is printed in bold at the top of the first page and stored as
	// the PDF's title.
	Title string
	// Subtitle, if set, is printed under the title.
	Subtitle string
	// Meta lines are printed small under the title: filters applied,
	// document number, addressee.
	Meta []string
	// Blocks are the content, in order.
	Blocks []Block

	// Landscape turns the A4 page sideways (842×595 pt instead of 595×842).
	Landscape bool
	// Margins of zero mean the defaults described at Margins.
	Margins Margins
	// Lang is the language of the footer; LangRU by default.
	Lang Lang
	// Generated, if not zero, is printed in every page's footer in its own
	// location («Сформировано 02.01.2006 15:04»).
	Generated time.Time
	// Author is stored in the PDF's document information.
	Author string
	// NoFooter leaves out page numbers and the generation time.
	NoFooter bool
}

// Block is a piece of a document's content: Paragraph, Table, Image,
// Spacer or PageBreak.
type Block interface{ block() }

// Paragraph is text wrapped to the width of the page. A "\n" in Text starts
// a new line.
type Paragraph struct {
	Text string
	// Size is the font size in points; 10 if zero.
	Size  float64
	Bold  bool
	Align Align
	// SpaceAfter is the gap after the paragraph in points; half the font
	// size if zero, none if negative.
	SpaceAfter float64
}

// Table is a grid with a header row repeated on every page it spans.
type Table struct {
	Columns []Column
	// Rows hold one string per column; a shorter row leaves the last cells
	// empty. A "\n" in a cell starts a new line.
	Rows [][]string
	// Size is the font size of the cells in points; 8 if zero.
	Size float64
	// SpaceAfter is the gap after the table in points; 6 if zero, none if
	// negative.
	SpaceAfter float64
}

// Column is one column of a Table.
type Column struct {
	Header string
	// Width is relative to the other columns' widths: columns of widths
	// 1, 2, 1 take a quarter, a half and a quarter of the page width.
	Width float64
	Align Align
}

// Image is a raster picture — a chart, a scan — in PNG or JPEG. It is
// drawn Width points wide (the text width if zero or wider) at its own
// aspect ratio, moved to the next page whole when it does not fit below
// what comes before it, and scaled down to the text area when it is taller
// than a page. The pixels are embedded as they are: give the picture the
// resolution it should print at (e.g. 2× its width in points).
type Image struct {
	// Data is the encoded PNG or JPEG.
	Data  []byte
	Width float64
	Align Align
	// SpaceAfter is the gap after the picture in points; 6 if zero, none
	// if negative.
	SpaceAfter float64
}

// Spacer is vertical space, in points. It does not carry over to the next
// page.
type Spacer struct{ Height float64 }

// PageBreak starts a new page.
type PageBreak struct{}

func (Paragraph) block() {}
func (Table) block()     {}
func (Image) block()     {}
func (Spacer) block()    {}
func (PageBreak) block() {}
