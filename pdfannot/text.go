package pdfannot

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/sync/wire"
	"github.com/pdfcpu/pdfcpu/pkg/font"
)

// fontName is the font pdfdoc.New installs for pdfcpu: DejaVu Sans, which
// covers Cyrillic.
const fontName = "DejaVuSans"

// face is what text layout needs of the font.
type face struct {
	chars    map[uint32]uint16
	widths   []int   // advance per glyph id, 1/1000 em
	ascent   float64 // em
	descent  float64 // em, positive
	capH     float64 // em
	fallback uint16
	used     map[uint16]bool // glyphs drawn, for the subset
}

func loadFace() (*face, error) {
	m, ok, err := font.UserFont(fontName)
	if err != nil || !ok {
		return nil, fmt.Errorf("pdfannot: font %s is not installed for pdfcpu (%v)", fontName, err)
	}
	// pdfcpu has scaled the metrics to 1000 units per em.
	f := &face{chars: m.Chars, widths: m.GlyphWidths, ascent: float64(m.Ascent) / 1000,
		descent: -float64(m.Descent) / 1000, capH: float64(m.CapHeight) / 1000, used: map[uint16]bool{}}
	if f.capH <= 0 {
		f.capH = 0.73
	}
	f.fallback = f.chars['?']
	return f, nil
}

// glyph is r's glyph id and advance (1/1000 em); a character the font
// lacks is drawn as '?'.
func (f *face) glyph(r rune) (uint16, int) {
	g, ok := f.chars[uint32(r)]
	if !ok {
		g = f.fallback
	}
	switch {
	case len(f.widths) == 0:
		return g, 0
	case int(g) < len(f.widths):
		return g, f.widths[g]
	}
	return g, f.widths[len(f.widths)-1] // glyphs past hmtx's long metrics share the last advance
}

func (f *face) width(s string) int {
	w := 0
	for _, r := range s {
		_, gw := f.glyph(r)
		w += gw
	}
	return w
}

// hex writes s as a hex string of glyph ids (Identity-H) and marks the
// glyphs used.
func (f *face) hex(st *stream, s string) {
	const digits = "0123456789ABCDEF"
	st.WriteByte('<')
	for _, r := range s {
		g, _ := f.glyph(r)
		f.used[g] = true
		st.WriteByte(digits[g>>12])
		st.WriteByte(digits[g>>8&0xF])
		st.WriteByte(digits[g>>4&0xF])
		st.WriteByte(digits[g&0xF])
	}
	st.WriteByte('>')
}

// wrap breaks text into lines no wider than width at size; a word wider
// than the line is cut between characters.
func (f *face) wrap(text string, size, width float64) []string {
	limit := int(math.Floor(width * 1000 / size))
	_, space := f.glyph(' ')
	var out []string
	for para := range strings.SplitSeq(text, "\n") {
		para = strings.Map(func(r rune) rune {
			switch {
			case r == '\t':
				return ' '
			case unicode.IsControl(r):
				return -1
			}
			return r
		}, para)
		var line strings.Builder
		lineW := 0
		for _, word := range strings.Split(para, " ") {
			if word == "" {
				continue
			}
			ww := f.width(word)
			if line.Len() > 0 {
				if lineW+space+ww <= limit {
					line.WriteByte(' ')
					line.WriteString(word)
					lineW += space + ww
					continue
				}
				out = append(out, line.String())
				line.Reset()
				lineW = 0
			}
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
		out = append(out, line.String())
	}
	return out
}

// noteLayout fits text into a w×h box (points, inside the padding):
// the largest size from noteFontSize down to noteMinFontSize at which all
// lines fit, or the smallest size with the lines that fit and the last of
// them ending in "…".
func (f *face) noteLayout(text string, w, h float64) (size float64, lines []string) {
	for size = noteFontSize; ; size -= 0.5 {
		lines = f.wrap(text, size, w)
		fit := int(math.Floor((h - (f.ascent+f.descent)*size) / (size * noteLeading)))
		fit = max(fit+1, 1)
		if len(lines) <= fit {
			return size, lines
		}
		if size <= noteMinFontSize {
			lines = lines[:fit]
			last := []rune(lines[fit-1])
			for len(last) > 0 && float64(f.width(string(last)+"…"))*size/1000 > w {
				last = last[:len(last)-1]
			}
			lines[fit-1] = string(last) + "…"
			return size, lines
		}
	}
}

// labels are the words Write adds to /Contents and the stamp.
type labels struct {
	stamp    string
	status   string
	statuses map[wire.AnnotationStatus]string
	dateFmt  string
}

func labelsFor(l pdfdoc.Lang) (labels, error) {
	switch l {
	case "", pdfdoc.LangRU:
		return labels{stamp: "КОПИЯ", status: "Статус", dateFmt: "02.01.2006 15:04",
			statuses: map[wire.AnnotationStatus]string{wire.AnnotOpen: "открыта", wire.AnnotResolved: "устранена", wire.AnnotRejected: "отклонена"}}, nil
	case pdfdoc.LangEN:
		return labels{stamp: "COPY", status: "Status", dateFmt: "2006-01-02 15:04",
			statuses: map[wire.AnnotationStatus]string{wire.AnnotOpen: "open", wire.AnnotResolved: "resolved", wire.AnnotRejected: "rejected"}}, nil
	}
	return labels{}, fmt.Errorf("pdfannot: unknown language %q: use %q or %q", l, pdfdoc.LangRU, pdfdoc.LangEN)
}

// contents is the annotation's /Contents: its text, its status when it is
// not open, and the replies, oldest first, each as «— author, time: text».
func (l labels) contents(a wire.Annotation, loc *time.Location) string {
	var b strings.Builder
	b.WriteString(a.Text)
	sep := func() {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
	}
	if a.Status != "" && a.Status != wire.AnnotOpen {
		sep()
		st, ok := l.statuses[a.Status]
		if !ok {
			st = string(a.Status)
		}
		b.WriteString("[" + l.status + ": " + st + "]")
	}
	for _, r := range a.Replies {
		sep()
		b.WriteString("— " + r.AuthorName)
		if !r.CreatedAt.IsZero() {
			b.WriteString(", " + r.CreatedAt.In(loc).Format(l.dateFmt))
		}
		b.WriteString(": " + r.Text)
	}
	return b.String()
}
