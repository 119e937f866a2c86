package pdfdoc

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
)

const (
	mm = 72 / 25.4 // points per millimetre

	a4Width  = 595.28 // points
	a4Height = 841.89

	leading     = 1.25 // line height as a multiple of the font size
	cellPadding = 2.5  // points between a cell's border and its text
	ruleWidth   = 0.4  // points, table borders

	defaultTextSize  = 10.0
	defaultTableSize = 8.0
	titleSize        = 14.0
	subtitleSize     = 11.0
	metaSize         = 9.0
	footerSize       = 8.0

	// Resource names of the two fonts in the page content streams.
	resRegular = "F1"
	resBold    = "F2"

	// checkEvery is how many table rows are laid out between checks of
	// the context, so a cancelled export of a long list stops promptly.
	checkEvery = 256
)

// footerLabels are the words pdfdoc adds itself.
type footerLabels struct {
	page       string // fmt format with the page number and the page count
	generated  string // fmt format with the formatted time
	timeLayout string
}

func labelsFor(l Lang) (footerLabels, error) {
	switch l {
	case "", LangRU:
		return footerLabels{page: "Страница %d из %d", generated: "Сформировано %s", timeLayout: "02.01.2006 15:04"}, nil
	case LangEN:
		return footerLabels{page: "Page %d of %d", generated: "Generated %s", timeLayout: "2006-01-02 15:04"}, nil
	}
	return footerLabels{}, fmt.Errorf("document language %q is not supported: use %q or %q", l, LangRU, LangEN)
}

// geometry is a page and its writable area in points (PDF coordinates: y
// grows upwards from the bottom edge).
type geometry struct {
	width, height float64
	left, right   float64 // x of the area's edges
	top, bottom   float64 // y of the area's edges
	footerY       float64 // baseline of the footer
}

func geometryFor(d *Document) (geometry, error) {
	m := d.Margins
	if m == (Margins{}) {
		m = defaultMargins()
	}
	for _, v := range []float64{m.Top, m.Right, m.Bottom, m.Left} {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return geometry{}, fmt.Errorf("margins must be zero or more millimetres, got %+v", m)
		}
	}
	g := geometry{width: a4Width, height: a4Height}
	if d.Landscape {
		g.width, g.height = g.height, g.width
	}
	g.left, g.right = m.Left*mm, g.width-m.Right*mm
	g.top, g.bottom = g.height-m.Top*mm, m.Bottom*mm
	if !d.NoFooter {
		// The footer needs a line inside the bottom margin; a margin too
		// small for it pushes the text area up instead.
		g.footerY = max(g.bottom/2-footerSize/3, 10)
		g.bottom = max(g.bottom, g.footerY+footerSize*2)
	}
	if g.right-g.left < 100 || g.top-g.bottom < 100 {
		return geometry{}, fmt.Errorf("margins %+v leave less than 100×100 points of the page for text", m)
	}
	return g, nil
}

// typesetter lays a document out into page content streams.
type typesetter struct {
	ctx      context.Context
	regular  *face
	bold     *face
	geo      geometry
	pages    []*bytes.Buffer
	page     *bytes.Buffer
	y        float64                    // top of the free space on the current page
	used     map[string]map[uint16]bool // glyphs drawn, per font name, for subsetting
	rowsLaid int
	numBuf   []byte
	images   []placedImage // Image blocks drawn, in order (image.go)
}

func newTypesetter(ctx context.Context, regular, bold *face, geo geometry) *typesetter {
	ts := &typesetter{
		ctx: ctx, regular: regular, bold: bold, geo: geo,
		used: map[string]map[uint16]bool{regular.name: {}, bold.name: {}},
	}
	ts.newPage()
	return ts
}

func (ts *typesetter) newPage() {
	ts.page = &bytes.Buffer{}
	ts.pages = append(ts.pages, ts.page)
	ts.y = ts.geo.top
}

// fits reports whether h points fit above the bottom of the text area.
func (ts *typesetter) fits(h float64) bool { return ts.y-h >= ts.geo.bottom-0.01 }

// atTop reports whether nothing has been placed on the current page yet.
func (ts *typesetter) atTop() bool { return ts.y >= ts.geo.top-0.01 }

func (ts *typesetter) num(v float64) {
	ts.numBuf = strconv.AppendFloat(ts.numBuf[:0], v, 'f', 2, 64)
	// Trailing zeros only cost bytes.
	b := ts.numBuf
	if bytes.IndexByte(b, '.') >= 0 {
		b = bytes.TrimRight(b, "0")
		b = bytes.TrimSuffix(b, []byte("."))
	}
	ts.page.Write(b)
}

// text draws s with its baseline starting at (x, y).
func (ts *typesetter) text(f *face, size, x, y float64, s string) {
	if s == "" {
		return
	}
	res := resRegular
	if f == ts.bold {
		res = resBold
	}
	used := ts.used[f.name]
	p := ts.page
	p.WriteString("BT /")
	p.WriteString(res)
	p.WriteByte(' ')
	ts.num(size)
	p.WriteString(" Tf ")
	ts.num(x)
	p.WriteByte(' ')
	ts.num(y)
	p.WriteString(" Td <")
	const hexDigits = "0123456789ABCDEF"
	for _, r := range s {
		g, _ := f.glyph(r)
		used[g] = true
		p.WriteByte(hexDigits[g>>12])
		p.WriteByte(hexDigits[g>>8&0xF])
		p.WriteByte(hexDigits[g>>4&0xF])
		p.WriteByte(hexDigits[g&0xF])
	}
	p.WriteString("> Tj ET\n")
}

// alignedX returns where a line of width w starts in the box [x0, x1].
func alignedX(a Align, x0, x1, w float64) float64 {
	switch a {
	case AlignRight:
		return x1 - w
	case AlignCenter:
		return x0 + (x1-x0-w)/2
	}
	return x0
}

// lines draws wrapped text line by line from the current position,
// starting new pages as needed. gray is the text colour, 0 for black.
func (ts *typesetter) lines(f *face, size float64, a Align, gray float64, text string) {
	lead := size * leading
	width := ts.geo.right - ts.geo.left
	// The colour is graphics state, which every page's content stream
	// starts afresh.
	setGray := func(g float64) {
		if gray != 0 {
			ts.num(g)
			ts.page.WriteString(" g\n")
		}
	}
	setGray(gray)
	for _, line := range wrap(f, text, size, width) {
		if !ts.fits(lead) && !ts.atTop() {
			setGray(0)
			ts.newPage()
			setGray(gray)
		}
		w := float64(f.width(line)) * size / 1000
		baseline := ts.y - (lead-size)/2 - f.ascent*size
		ts.text(f, size, alignedX(a, ts.geo.left, ts.geo.right, w), baseline, line)
		ts.y -= lead
	}
	setGray(0)
}

func (ts *typesetter) space(h float64) {
	if h <= 0 {
		return
	}
	ts.y = max(ts.y-h, ts.geo.bottom)
}

func (ts *typesetter) titleBlock(d *Document) {
	if d.Title != "" {
		ts.lines(ts.bold, titleSize, AlignCenter, 0, d.Title)
		ts.space(4)
	}
	if d.Subtitle != "" {
		ts.lines(ts.regular, subtitleSize, AlignCenter, 0, d.Subtitle)
		ts.space(4)
	}
	for _, m := range d.Meta {
		ts.lines(ts.regular, metaSize, AlignLeft, 0.3, m)
	}
	if d.Title != "" || d.Subtitle != "" || len(d.Meta) > 0 {
		ts.space(8)
	}
}

func (ts *typesetter) paragraph(p Paragraph) {
	size := p.Size
	if size == 0 {
		size = defaultTextSize
	}
	f := ts.regular
	if p.Bold {
		f = ts.bold
	}
	ts.lines(f, size, p.Align, 0, p.Text)
	switch {
	case p.SpaceAfter > 0:
		ts.space(p.SpaceAfter)
	case p.SpaceAfter == 0:
		ts.space(size / 2)
	}
}

// column is a table column placed on the page.
type column struct {
	x0, x1 float64 // cell edges
	align  Align
}

// row is a table row wrapped into lines, one slice per cell.
type row [][]string

func (r row) height() int {
	n := 1
	for _, c := range r {
		n = max(n, len(c))
	}
	return n
}

func (ts *typesetter) table(t Table) error {
	size := t.Size
	if size == 0 {
		size = defaultTableSize
	}
	lead := size * leading
	total := 0.0
	for _, c := range t.Columns {
		total += c.Width
	}
	cols := make([]column, len(t.Columns))
	x := ts.geo.left
	for i, c := range t.Columns {
		w := (ts.geo.right - ts.geo.left) * c.Width / total
		cols[i] = column{x0: x, x1: x + w, align: c.Align}
		x += w
	}
	wrapRow := func(f *face, cells []string) row {
		r := make(row, len(cols))
		for i := range cols {
			text := ""
			if i < len(cells) {
				text = cells[i]
			}
			r[i] = wrap(f, text, size, cols[i].x1-cols[i].x0-2*cellPadding)
		}
		return r
	}
	headers := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		headers[i] = c.Header
	}
	header := wrapRow(ts.bold, headers)
	headerH := float64(header.height())*lead + 2*cellPadding
	if ts.geo.top-ts.geo.bottom < headerH+lead+2*cellPadding {
		return fmt.Errorf("the table header (%d lines of %g pt) leaves no room on the page for a row: shorten the headers or widen their columns", header.height(), size)
	}
	drawHeader := func() {
		ts.fragment(cols, header, 0, header.height(), ts.bold, size, true)
	}
	// The lines of a row a page holds below the header.
	pageLines := int((ts.geo.top - ts.geo.bottom - headerH - 2*cellPadding + 0.01) / lead)
	// Start on a new page unless the header and a line of the first row
	// fit: a header alone at the foot of a page is no use.
	if !ts.fits(headerH+lead+2*cellPadding) && !ts.atTop() {
		ts.newPage()
	}
	drawHeader()

	for i, cells := range t.Rows {
		if ts.rowsLaid++; ts.rowsLaid%checkEvery == 0 {
			if err := ts.ctx.Err(); err != nil {
				return err
			}
		}
		if len(cells) > len(cols) {
			return fmt.Errorf("table row %d has %d cells, the table has %d columns", i+1, len(cells), len(cols))
		}
		r := wrapRow(ts.regular, cells)
		n := r.height()
		// A row that fits on an empty page is never split: it moves to
		// the next page whole. A taller one fills what is left of this
		// page and continues on the next.
		for from := 0; from < n; {
			fit := int((ts.y - ts.geo.bottom - 2*cellPadding + 0.01) / lead)
			switch {
			case fit >= n-from:
				ts.fragment(cols, r, from, n, ts.regular, size, false)
				from = n
			case fit < 1 || (from == 0 && n <= pageLines):
				ts.newPage()
				drawHeader()
			default:
				ts.fragment(cols, r, from, from+fit, ts.regular, size, false)
				from += fit
				ts.newPage()
				drawHeader()
			}
		}
	}
	switch {
	case t.SpaceAfter > 0:
		ts.space(t.SpaceAfter)
	case t.SpaceAfter == 0:
		ts.space(6)
	}
	return nil
}

// fragment draws lines [from, to) of every cell of r as one band of bordered
// cells below the current position.
func (ts *typesetter) fragment(cols []column, r row, from, to int, f *face, size float64, header bool) {
	lead := size * leading
	h := float64(to-from)*lead + 2*cellPadding
	top := ts.y
	p := ts.page
	if header {
		p.WriteString("0.9 g\n")
		for _, c := range cols {
			ts.rect(c.x0, top-h, c.x1-c.x0, h)
		}
		p.WriteString("f 0 g\n")
	}
	for i, c := range cols {
		for k := from; k < to && k < len(r[i]); k++ {
			line := r[i][k]
			w := float64(f.width(line)) * size / 1000
			x := alignedX(c.align, c.x0+cellPadding, c.x1-cellPadding, w)
			baseline := top - cellPadding - float64(k-from)*lead - (lead-size)/2 - f.ascent*size
			ts.text(f, size, x, baseline, line)
		}
	}
	ts.num(ruleWidth)
	p.WriteString(" w\n")
	for _, c := range cols {
		ts.rect(c.x0, top-h, c.x1-c.x0, h)
	}
	p.WriteString("S\n")
	ts.y -= h
}

func (ts *typesetter) rect(x, y, w, h float64) {
	ts.num(x)
	ts.page.WriteByte(' ')
	ts.num(y)
	ts.page.WriteByte(' ')
	ts.num(w)
	ts.page.WriteByte(' ')
	ts.num(h)
	ts.page.WriteString(" re\n")
}

// footers adds the generation time and page numbers once the page count
// is known.
func (ts *typesetter) footers(d *Document, l footerLabels) {
	if d.NoFooter {
		return
	}
	generated := ""
	if !d.Generated.IsZero() {
		generated = fmt.Sprintf(l.generated, d.Generated.Format(l.timeLayout))
	}
	for i, p := range ts.pages {
		ts.page = p
		p.WriteString("0.3 g\n")
		if generated != "" {
			ts.text(ts.regular, footerSize, ts.geo.left, ts.geo.footerY, generated)
		}
		label := fmt.Sprintf(l.page, i+1, len(ts.pages))
		w := float64(ts.regular.width(label)) * footerSize / 1000
		ts.text(ts.regular, footerSize, ts.geo.right-w, ts.geo.footerY, label)
		p.WriteString("0 g\n")
	}
}

// layout typesets d into page content streams.
func layout(ctx context.Context, regular, bold *face, d *Document) (*typesetter, error) {
	geo, err := geometryFor(d)
	if err != nil {
		return nil, err
	}
	labels, err := labelsFor(d.Lang)
	if err != nil {
		return nil, err
	}
	if err := validate(d); err != nil {
		return nil, err
	}
	ts := newTypesetter(ctx, regular, bold, geo)
	ts.titleBlock(d)
	for i, b := range d.Blocks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch b := b.(type) {
		case Paragraph:
			ts.paragraph(b)
		case *Paragraph:
			ts.paragraph(*b)
		case Table:
			err = ts.table(b)
		case *Table:
			err = ts.table(*b)
		case Image:
			err = ts.image(b)
		case *Image:
			err = ts.image(*b)
		case Spacer:
			ts.space(b.Height)
		case *Spacer:
			ts.space(b.Height)
		case PageBreak, *PageBreak:
			if !ts.atTop() {
				ts.newPage()
			}
		default:
			err = fmt.Errorf("unknown block type %T", b)
		}
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", i+1, err)
		}
	}
	ts.footers(d, labels)
	return ts, nil
}

// validate reports the first value in d that cannot be typeset.
func validate(d *Document) error {
	badSize := func(s float64) bool { return s < 0 || s > 200 || math.IsNaN(s) }
	for i, b := range d.Blocks {
		var t *Table
		switch b := b.(type) {
		case nil:
			return fmt.Errorf("block %d is nil", i+1)
		case Paragraph:
			if badSize(b.Size) {
				return fmt.Errorf("block %d: paragraph font size %g is not between 0 and 200 points", i+1, b.Size)
			}
		case *Paragraph:
			if b == nil || badSize(b.Size) {
				return fmt.Errorf("block %d: nil paragraph or font size not between 0 and 200 points", i+1)
			}
		case Image:
			if err := validateImage(b); err != nil {
				return fmt.Errorf("block %d: %w", i+1, err)
			}
		case *Image:
			if b == nil {
				return fmt.Errorf("block %d is a nil image", i+1)
			}
			if err := validateImage(*b); err != nil {
				return fmt.Errorf("block %d: %w", i+1, err)
			}
		case Table:
			t = &b
		case *Table:
			if b == nil {
				return fmt.Errorf("block %d is a nil table", i+1)
			}
			t = b
		}
		if t == nil {
			continue
		}
		if len(t.Columns) == 0 {
			return fmt.Errorf("block %d: the table has no columns", i+1)
		}
		if badSize(t.Size) {
			return fmt.Errorf("block %d: table font size %g is not between 0 and 200 points", i+1, t.Size)
		}
		for j, c := range t.Columns {
			if !(c.Width > 0) || math.IsInf(c.Width, 0) {
				return fmt.Errorf("block %d: column %d (%q) has width %g; widths must be positive", i+1, j+1, c.Header, c.Width)
			}
		}
	}
	return nil
}

// wrap breaks text into lines no wider than width points at the given size.
// Lines break at spaces; "\n" forces a break; a word wider than a line is
// cut between characters, at least one per line, so that nothing is drawn
// past the edge and the loop always advances. A no-break space (U+00A0)
// does not break.
func wrap(f *face, text string, size, width float64) []string {
	limit := int(math.Floor(width * 1000 / size))
	_, space := f.glyph(' ')
	var out []string
	for para := range strings.SplitSeq(text, "\n") {
		para = strings.TrimRight(para, "\r")
		var line strings.Builder
		lineW := 0
		flush := func() {
			out = append(out, line.String())
			line.Reset()
			lineW = 0
		}
		for _, word := range splitWords(para) {
			ww := f.width(word)
			if line.Len() > 0 {
				if lineW+space+ww <= limit {
					line.WriteByte(' ')
					line.WriteString(word)
					lineW += space + ww
					continue
				}
				flush()
			}
			if ww <= limit {
				line.WriteString(word)
				lineW = ww
				continue
			}
			// Cut an over-long word; its last piece starts the next line
			// so the following words can join it.
			start, w := 0, 0
			for i, r := range word {
				_, gw := f.glyph(r)
				if w+gw > limit && i > start {
					out = append(out, word[start:i])
					start, w = i, 0
				}
				w += gw
			}
			line.WriteString(word[start:])
			lineW = w
		}
		flush()
	}
	return out
}

// splitWords splits at spaces and tabs, not at U+00A0 as strings.Fields
// would.
func splitWords(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' })
}
