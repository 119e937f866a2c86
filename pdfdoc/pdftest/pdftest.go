// Package pdftest checks generated PDFs in tests with the tools readers
// use: poppler (pdftotext, pdffonts, pdfinfo, from poppler-utils, which
// `make deps` installs) and pdfcpu's validator.
package pdftest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// file writes pdf to a temporary file for the poppler tools.
func file(t testing.TB, pdf []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(t testing.TB, tool string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s not found: install poppler-utils (make deps)", tool)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(tool, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		// poppler reports broken files on stderr even when it exits 0.
		t.Fatalf("%s %s: %v\n%s", tool, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// Pages returns the text of each page as `pdftotext -layout` extracts it.
func Pages(t testing.TB, pdf []byte) []string {
	t.Helper()
	out := run(t, "pdftotext", "-layout", "-enc", "UTF-8", file(t, pdf), "-")
	pages := strings.Split(out, "\f")
	if n := len(pages); n > 0 && strings.TrimSpace(pages[n-1]) == "" {
		pages = pages[:n-1] // pdftotext ends every page with a form feed
	}
	return pages
}

// Info returns what pdfinfo prints, by field: "Pages", "Page size",
// "Title"...
func Info(t testing.TB, pdf []byte) map[string]string {
	t.Helper()
	info := map[string]string{}
	for line := range strings.SplitSeq(run(t, "pdfinfo", file(t, pdf)), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			info[k] = strings.TrimSpace(v)
		}
	}
	return info
}

// PageCount returns the page count pdfinfo reads.
func PageCount(t testing.TB, pdf []byte) int {
	t.Helper()
	v := Info(t, pdf)["Pages"]
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("pdfinfo page count %q: %v", v, err)
	}
	return n
}

// Font is one line of pdffonts' table.
type Font struct {
	Name                        string // with the subset prefix, "ABCDEF+DejaVuSans"
	Type                        string
	Embedded, Subset, ToUnicode bool
}

// Fonts lists the fonts pdffonts finds.
func Fonts(t testing.TB, pdf []byte) []Font {
	t.Helper()
	var fonts []Font
	lines := strings.Split(run(t, "pdffonts", file(t, pdf)), "\n")
	for _, line := range lines[min(2, len(lines)):] { // a header and a rule
		f := strings.Fields(line)
		if len(f) < 7 {
			continue
		}
		// name type... encoding emb sub uni object-id generation
		n := len(f)
		fonts = append(fonts, Font{
			Name: f[0], Type: strings.Join(f[1:n-6], " "),
			Embedded: f[n-5] == "yes", Subset: f[n-4] == "yes", ToUnicode: f[n-3] == "yes",
		})
	}
	return fonts
}

// Word is a word pdftotext -bbox finds, with its box in points from the top
// left corner of the page.
type Word struct {
	Page                   int // from 1
	Text                   string
	XMin, YMin, XMax, YMax float64
}

// Words lists every word with its bounding box.
func Words(t testing.TB, pdf []byte) []Word {
	t.Helper()
	out := run(t, "pdftotext", "-bbox", "-enc", "UTF-8", file(t, pdf), "-")
	var doc struct {
		Pages []struct {
			Words []struct {
				XMin float64 `xml:"xMin,attr"`
				YMin float64 `xml:"yMin,attr"`
				XMax float64 `xml:"xMax,attr"`
				YMax float64 `xml:"yMax,attr"`
				Text string  `xml:",chardata"`
			} `xml:"word"`
		} `xml:"body>doc>page"`
	}
	dec := xml.NewDecoder(strings.NewReader(out))
	dec.Strict = false // pdftotext writes an XHTML doctype
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("parse pdftotext -bbox output: %v", err)
	}
	var words []Word
	for i, p := range doc.Pages {
		for _, w := range p.Words {
			words = append(words, Word{Page: i + 1, Text: w.Text, XMin: w.XMin, YMin: w.YMin, XMax: w.XMax, YMax: w.YMax})
		}
	}
	return words
}

// Validate runs pdfcpu's validator over pdf in the given mode
// (model.ValidationStrict or model.ValidationRelaxed).
func Validate(t testing.TB, pdf []byte, mode int) {
	t.Helper()
	if font.UserFontDir == "" {
		// pdfcpu has not been pointed at a configuration directory (by
		// pdfdoc.New); keep it from creating one in ~/.config.
		api.DisableConfigDir()
	}
	conf := model.NewDefaultConfiguration()
	conf.ValidationMode = mode
	conf.Cmd = model.VALIDATE
	if err := api.Validate(bytes.NewReader(pdf), conf); err != nil {
		t.Fatalf("pdfcpu validation (mode %d): %v", mode, err)
	}
}

// Line returns the first line of text that contains every one of parts in
// that order, or "".
func Line(text string, parts ...string) string {
	for line := range strings.SplitSeq(text, "\n") {
		rest, ok := line, true
		for _, p := range parts {
			i := strings.Index(rest, p)
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(p):]
		}
		if ok {
			return line
		}
	}
	return ""
}

// Describe shortens a page's text for a failure message.
func Describe(page string) string {
	if len(page) > 1500 {
		page = page[:1500] + "…"
	}
	return fmt.Sprintf("%q", page)
}
