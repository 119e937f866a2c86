package pdfdoc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/pdfcpu/pdfcpu/pkg/font"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

// testCacheDir is the font cache of this test process; pdfcpu has one font
// directory per process, so every test shares it.
var testCacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pdfdoc-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testCacheDir = filepath.Join(dir, "cache")
	// Where pdfcpu would put its configuration if pdfdoc let it:
	// TestNoUserConfig checks nothing appears there.
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	os.Setenv("HOME", filepath.Join(dir, "home"))
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func engine(t testing.TB) *Engine {
	t.Helper()
	e, err := New(context.Background(), testCacheDir)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func render(t testing.TB, e *Engine, d *Document) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := e.Write(context.Background(), &b, d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var registryColumns = []Column{
	{Header: "№", Width: 0.6, Align: AlignRight},
	{Header: "Объект", Width: 2},
	{Header: "Заявитель", Width: 3},
	{Header: "Статус", Width: 2},
	{Header: "Срок", Width: 1, Align: AlignCenter},
}

// registryRows makes n rows; every seventh has a cell that wraps to three
// lines, so rows differ in height.
func registryRows(n int) [][]string {
	rows := make([][]string, n)
	for i := range rows {
		applicant := "ООО «Горпроект»"
		if i%7 == 3 {
			applicant = "Государственное казённое учреждение «Управление капитального строительства Краснодарского края»"
		}
		rows[i] = []string{
			fmt.Sprint(i + 1), fmt.Sprintf("Объект-%05d", i+1), applicant, "Проведение экспертизы", "03.04.2026",
		}
	}
	return rows
}

func TestTableOfThousandRows(t *testing.T) {
	e := engine(t)
	generated := time.Date(2026, 2, 1, 10, 30, 0, 0, time.UTC)
	d := &Document{
		Title:     "Реестр заявлений",
		Subtitle:  "Государственная экспертиза проектной документации",
		Meta:      []string{"Фильтр: статус «Проведение экспертизы»; поиск «школа»"},
		Landscape: true,
		Generated: generated,
		Author:    "Иванова И. И.",
		Blocks: []Block{
			Paragraph{Text: "Съешь же ещё этих мягких французских булок, да выпей чаю. Ёлка, йод, щука, ЪЫЬЭЮЯ."},
			Table{Columns: registryColumns, Rows: registryRows(1000)},
			Paragraph{Text: "Конец реестра.", Bold: true},
		},
	}
	pdf := render(t, e, d)

	pdftest.Validate(t, pdf, model.ValidationStrict)
	pages := pdftest.Pages(t, pdf)
	if n := pdftest.PageCount(t, pdf); n != len(pages) || n < 20 {
		t.Fatalf("pdfinfo reads %d pages, pdftotext %d; 1000 rows need more than 20", n, len(pages))
	}
	first := pages[0]
	for _, want := range []string{
		"Реестр заявлений", "Государственная экспертиза проектной документации",
		"Фильтр: статус «Проведение экспертизы»; поиск «школа»",
		"Съешь же ещё этих мягких французских булок, да выпей чаю. Ёлка, йод, щука, ЪЫЬЭЮЯ.",
	} {
		if !strings.Contains(first, want) {
			t.Errorf("page 1 lacks %q:\n%s", want, pdftest.Describe(first))
		}
	}
	if !strings.Contains(pages[len(pages)-1], "Конец реестра.") {
		t.Errorf("the paragraph after the table is not on the last page")
	}
	next := 1 // the row expected next
	for i, p := range pages {
		if pdftest.Line(p, "№", "Объект", "Заявитель", "Статус", "Срок") == "" {
			t.Errorf("page %d has no header row:\n%s", i+1, pdftest.Describe(p))
		}
		if pdftest.Line(p, "Сформировано 01.02.2026 10:30", fmt.Sprintf("Страница %d из %d", i+1, len(pages))) == "" {
			t.Errorf("page %d has no footer with the time and «Страница %d из %d»:\n%s", i+1, i+1, len(pages), pdftest.Describe(p))
		}
		// Rows come in order, each once, none lost at a page break.
		for line := range strings.SplitSeq(p, "\n") {
			if !strings.Contains(line, "Объект-") || strings.Contains(line, "Заявитель") {
				continue
			}
			want := fmt.Sprintf("Объект-%05d", next)
			if pdftest.Line(line, fmt.Sprint(next), want, "Проведение экспертизы", "03.04.2026") == "" {
				t.Fatalf("page %d: expected row %d, got line %q", i+1, next, line)
			}
			next++
		}
	}
	if next != 1001 {
		t.Errorf("found rows 1..%d, want 1..1000", next-1)
	}
	// The wrapped applicant is extracted whole, line by line.
	if pdftest.Line(pages[0], "Государственное") == "" || pdftest.Line(pages[0], "Краснодарского края»") == "" {
		t.Errorf("the wrapped cell is not on page 1:\n%s", pdftest.Describe(pages[0]))
	}

	fonts := pdftest.Fonts(t, pdf)
	if len(fonts) != 2 {
		t.Fatalf("pdffonts lists %v, want the regular and bold DejaVu Sans", fonts)
	}
	for _, f := range fonts {
		if !strings.Contains(f.Name, "+DejaVuSans") || !f.Embedded || !f.Subset || !f.ToUnicode {
			t.Errorf("font %+v: want an embedded DejaVuSans subset with a ToUnicode map", f)
		}
	}
	// A subset, not the whole 740 KB font, twice.
	if len(pdf) > 600<<10 {
		t.Errorf("the PDF is %d KB: the fonts are not subset", len(pdf)>>10)
	}
}

func TestLongWordsAreBroken(t *testing.T) {
	e := engine(t)
	word := strings.Repeat("Сверхдлинноеназвание", 5) // 100 letters, ~3 lines of the column
	d := &Document{
		Blocks: []Block{Table{
			Columns: []Column{{Header: "Узкая", Width: 1}, {Header: "Широкая колонка", Width: 4}},
			Rows:    [][]string{{word, "рядом"}},
		}},
	}
	pdf := render(t, e, d)
	pdftest.Validate(t, pdf, model.ValidationStrict)

	geo, err := geometryFor(d)
	if err != nil {
		t.Fatal(err)
	}
	// The first column's right border, in pdftotext's coordinates.
	border := geo.left + (geo.right-geo.left)/5
	var pieces []string
	for _, w := range pdftest.Words(t, pdf) {
		if !strings.HasPrefix(word, w.Text) && !strings.Contains(word, w.Text) {
			continue
		}
		pieces = append(pieces, w.Text)
		if w.XMax > border-cellPadding+0.5 {
			t.Errorf("piece %q ends at x=%.1f, past the column border at %.1f", w.Text, w.XMax, border)
		}
	}
	if len(pieces) < 3 || strings.Join(pieces, "") != word {
		t.Errorf("the word comes out as %q, want it whole in pieces of at least 3 lines", pieces)
	}
}

func TestRowTallerThanAPageIsSplit(t *testing.T) {
	e := engine(t)
	var lines []string
	for i := range 150 {
		lines = append(lines, fmt.Sprintf("Замечание %03d", i+1))
	}
	d := &Document{
		Title: "Сводка замечаний",
		Blocks: []Block{Table{
			Columns: []Column{{Header: "Раздел", Width: 1}, {Header: "Текст замечаний", Width: 3}},
			Rows:    [][]string{{"ПЗ", "первая строка"}, {"АР", strings.Join(lines, "\n")}, {"КР", "последняя строка"}},
			Size:    10,
		}},
	}
	pdf := render(t, e, d)
	pages := pdftest.Pages(t, pdf)
	if len(pages) < 3 {
		t.Fatalf("%d pages; 150 lines at 10 pt need at least 3", len(pages))
	}
	all := strings.Join(pages, "\n")
	pos := 0
	for _, want := range append(append([]string{"первая строка"}, lines...), "последняя строка") {
		i := strings.Index(all[pos:], want)
		if i < 0 {
			t.Fatalf("%q missing or out of order", want)
		}
		pos += i + len(want)
	}
	for i, p := range pages {
		if pdftest.Line(p, "Раздел", "Текст замечаний") == "" {
			t.Errorf("page %d has no header row", i+1)
		}
	}
}

func TestEnglishFooterAndPortrait(t *testing.T) {
	e := engine(t)
	pdf := render(t, e, &Document{
		Title:     "Invoice № 12",
		Lang:      LangEN,
		Generated: time.Date(2026, 3, 9, 8, 5, 0, 0, time.UTC),
		Blocks:    []Block{Paragraph{Text: "Оплатить до 20.03.2026.", Align: AlignRight}},
	})
	pages := pdftest.Pages(t, pdf)
	if len(pages) != 1 || pdftest.Line(pages[0], "Generated 2026-03-09 08:05", "Page 1 of 1") == "" {
		t.Fatalf("want one page with an English footer, got:\n%s", pdftest.Describe(strings.Join(pages, "\f")))
	}
	if fonts := pdftest.Fonts(t, pdf); len(fonts) != 2 {
		t.Errorf("fonts %v: the title is bold, the text regular", fonts)
	}
}

func TestPageBreakAndNoFooter(t *testing.T) {
	e := engine(t)
	pdf := render(t, e, &Document{
		NoFooter: true,
		Blocks:   []Block{Paragraph{Text: "Лист 1"}, PageBreak{}, PageBreak{}, &Paragraph{Text: "Лист 2"}},
	})
	pages := pdftest.Pages(t, pdf)
	if len(pages) != 2 || !strings.Contains(pages[1], "Лист 2") || strings.Contains(strings.Join(pages, ""), "Страница") {
		t.Fatalf("want two pages without footers (a second break on an empty page adds none), got %q", pages)
	}
	if fonts := pdftest.Fonts(t, pdf); len(fonts) != 1 {
		t.Errorf("fonts %v: bold was not used and must not be embedded", fonts)
	}
}

func TestBadDocumentsAreRefused(t *testing.T) {
	e := engine(t)
	cols := []Column{{Header: "A", Width: 1}}
	tests := []struct {
		name string
		doc  *Document
		want string
	}{
		{"nil document", nil, "no document"},
		{"no columns", &Document{Blocks: []Block{Table{}}}, "no columns"},
		{"zero width", &Document{Blocks: []Block{Table{Columns: []Column{{Header: "Сумма"}}}}}, `column 1 ("Сумма") has width 0`},
		{"too many cells", &Document{Blocks: []Block{Table{Columns: cols, Rows: [][]string{{"1"}, {"1", "2"}}}}}, "row 2 has 2 cells, the table has 1 columns"},
		{"negative size", &Document{Blocks: []Block{Paragraph{Text: "x", Size: -1}}}, "font size -1"},
		{"margins", &Document{Margins: Margins{Left: 150, Right: 150}}, "leave less than"},
		{"language", &Document{Lang: "de"}, `language "de"`},
		{"nil block", &Document{Blocks: []Block{nil}}, "block 1 is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.Write(context.Background(), &bytes.Buffer{}, tt.doc)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestCancelledWrite(t *testing.T) {
	e := engine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := e.Write(ctx, &bytes.Buffer{}, &Document{Blocks: []Block{Table{Columns: registryColumns, Rows: registryRows(1000)}}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

// Engines made concurrently write documents concurrently (run with -race).
func TestConcurrentUse(t *testing.T) {
	const n = 6
	var wg sync.WaitGroup
	out := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			e, err := New(context.Background(), testCacheDir)
			if err != nil {
				errs[i] = err
				return
			}
			var b bytes.Buffer
			errs[i] = e.Write(context.Background(), &b, &Document{
				Title:  fmt.Sprintf("Письмо № %d", i),
				Blocks: []Block{Table{Columns: registryColumns, Rows: registryRows(50 + i)}},
			})
			out[i] = b.Bytes()
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("writer %d: %v", i, errs[i])
		}
		pages := pdftest.Pages(t, out[i])
		all := strings.Join(pages, "")
		if !strings.Contains(pages[0], fmt.Sprintf("Письмо № %d", i)) || !strings.Contains(all, fmt.Sprintf("Объект-%05d", 50+i)) {
			t.Errorf("writer %d produced the wrong document:\n%s", i, pdftest.Describe(pages[0]))
		}
	}
}

// A cache cleaner removing the installed fonts does not break the engine:
// they are installed again.
func TestFontsReinstalled(t *testing.T) {
	e := engine(t)
	for _, f := range []embeddedFont{regularFont, boldFont} {
		if err := os.Remove(filepath.Join(font.UserFontDir, f.name+".gob")); err != nil {
			t.Fatal(err)
		}
	}
	pdf := render(t, e, &Document{Title: "После очистки кэша"})
	if !strings.Contains(pdftest.Pages(t, pdf)[0], "После очистки кэша") {
		t.Errorf("the title is not in the PDF")
	}
	if !strings.HasPrefix(font.UserFontDir, testCacheDir) {
		t.Errorf("pdfcpu's font directory is %s, not under the cache directory %s", font.UserFontDir, testCacheDir)
	}
}

// Neither pdfdoc nor later pdfcpu calls in the process write pdfcpu's
// configuration into the user's ~/.config.
func TestNoUserConfig(t *testing.T) {
	e := engine(t)
	render(t, e, &Document{Title: "x"})
	_ = model.NewDefaultConfiguration() // what any other pdfcpu call does first
	cfg, err := os.UserConfigDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg, "pdfcpu")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s/pdfcpu exists (or cannot be checked: %v)", cfg, err)
	}
}

func TestWrap(t *testing.T) {
	e := engine(t)
	f := e.regular
	const size = 10.0
	w := func(s string) float64 { return float64(f.width(s)) * size / 1000 }
	tests := []struct {
		name  string
		text  string
		width float64
		want  []string
	}{
		{"empty", "", 100, []string{""}},
		{"fits", "Договор № 5", 200, []string{"Договор № 5"}},
		{"exact fit", "один два", w("один два"), []string{"один два"}},
		{"one point short", "один два", w("один два") - 1, []string{"один", "два"}},
		{"spaces collapse", "  один   два  ", 200, []string{"один два"}},
		{"newlines", "один\nдва\r\n\nтри", 200, []string{"один", "два", "", "три"}},
		{"no-break space", "ГГЭ-2026\u00a0№\u00a05 конец", w("ГГЭ-2026\u00a0№\u00a05") + 1, []string{"ГГЭ-2026\u00a0№\u00a05", "конец"}},
		{"long word", "шшшшшшшшшш", w("шшш") + 0.1, []string{"шшш", "шшш", "шшш", "ш"}},
		{"long word joins next", "аааааа б", w("аааа") + 0.1, []string{"аааа", "аа б"}},
		{"narrower than a letter", "Шум", 1, []string{"Ш", "у", "м"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrap(f, tt.text, size, tt.width)
			if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.want) {
				t.Errorf("wrap(%q, %.1f) = %q, want %q", tt.text, tt.width, got, tt.want)
			}
			for _, line := range got {
				if w(line) > tt.width && len([]rune(line)) > 1 {
					t.Errorf("line %q is %.1f wide, more than %.1f", line, w(line), tt.width)
				}
			}
		})
	}
}

// BenchmarkWrite measures a landscape registry of rows like the
// applications list, from Document to PDF bytes.
func BenchmarkWrite(b *testing.B) {
	e := engine(b)
	for _, n := range []int{1000, 10000} {
		d := &Document{
			Title: "Реестр заявлений", Landscape: true, Generated: time.Now(),
			Blocks: []Block{Table{Columns: registryColumns, Rows: registryRows(n)}},
		}
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			var size int
			var pages int
			for b.Loop() {
				var buf bytes.Buffer
				if err := e.Write(context.Background(), &buf, d); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			ts, err := layout(context.Background(), e.regular, e.bold, d)
			if err != nil {
				b.Fatal(err)
			}
			pages = len(ts.pages)
			b.ReportMetric(float64(pages), "pages")
			b.ReportMetric(float64(size)/1024, "KB")
		})
	}
}

// BenchmarkNew measures New once the fonts are installed: what every
// start of the program after the first costs.
func BenchmarkNew(b *testing.B) {
	engine(b)
	for b.Loop() {
		if _, err := New(context.Background(), testCacheDir); err != nil {
			b.Fatal(err)
		}
	}
}
