package ui

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

// numbers lists the numbers of the rows the table shows, top to bottom.
func numbers(v *applicationsView) []string {
	rows, _ := v.table.Length()
	var out []string
	for r := range rows {
		l := v.table.CreateCell().(*widget.Label)
		v.table.UpdateCell(widget.TableCellID{Row: r, Col: colNumber}, l)
		out = append(out, l.Text)
	}
	return out
}

// header returns the header button of a column as the table shows it.
func header(t *testing.T, v *applicationsView, col int) *widget.Button {
	t.Helper()
	for _, o := range test.LaidOutObjects(v.table) {
		if b, ok := o.(*widget.Button); ok && strings.HasPrefix(b.Text, columnTitle(col)) && b.Visible() {
			return b
		}
	}
	t.Fatalf("no header for column %d", col)
	return nil
}

func TestApplicationsSearchNarrowsRows(t *testing.T) {
	e, _, v := newAppsFixture(t)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"ГГЭ-2026-000003", "ГГЭ-2026-000002", "ГГЭ-2026-000001"}},
		{"000002", []string{"ГГЭ-2026-000002"}},
		{"ШКОЛА", []string{"ГГЭ-2026-000002"}},  // object, any case
		{"770708", []string{"ГГЭ-2026-000003"}}, // ИНН
		{"медстрой", []string{"ГГЭ-2026-000001"}},
		{"нет такого", nil},
	}
	for _, tt := range tests {
		v.search.SetText("")
		e.win.Canvas().Focus(v.search)
		test.Type(v.search, tt.query)
		if got := numbers(v); !slices.Equal(got, tt.want) {
			t.Errorf("search %q shows %v, want %v", tt.query, got, tt.want)
		}
	}
	if v.count.Text != "Показано: 0 из 3" {
		t.Errorf("count = %q", v.count.Text)
	}
}

func TestApplicationsFilterByStatusAndKind(t *testing.T) {
	_, _, v := newAppsFixture(t)
	v.statusSel.SetSelected(statusLabel(wire.StatusInReview))
	if got := numbers(v); !slices.Equal(got, []string{"ГГЭ-2026-000002"}) {
		t.Errorf("status filter shows %v", got)
	}
	v.statusSel.SetSelectedIndex(0)
	v.kindSel.SetSelected(expertiseLabel(wire.KindProjectDocs))
	if got := numbers(v); !slices.Equal(got, []string{"ГГЭ-2026-000003"}) {
		t.Errorf("kind filter shows %v", got)
	}
	v.kindSel.SetSelectedIndex(0)
	if got := numbers(v); len(got) != 3 || v.count.Text != "Всего: 3" {
		t.Errorf("without filters shows %v, count %q", got, v.count.Text)
	}
}

func TestApplicationsHeaderSorts(t *testing.T) {
	_, _, v := newAppsFixture(t)
	steps := []struct {
		col  int
		want []string
	}{
		{colNumber, []string{"ГГЭ-2026-000001", "ГГЭ-2026-000002", "ГГЭ-2026-000003"}},
		{colNumber, []string{"ГГЭ-2026-000003", "ГГЭ-2026-000002", "ГГЭ-2026-000001"}},
		// Least time left first: −3, 2, 17.
		{colDeadline, []string{"ГГЭ-2026-000001", "ГГЭ-2026-000003", "ГГЭ-2026-000002"}},
		{colDeadline, []string{"ГГЭ-2026-000002", "ГГЭ-2026-000003", "ГГЭ-2026-000001"}},
		// Lifecycle order: submitted, in review, completed.
		{colStatus, []string{"ГГЭ-2026-000003", "ГГЭ-2026-000002", "ГГЭ-2026-000001"}},
		{colObject, []string{"ГГЭ-2026-000003", "ГГЭ-2026-000001", "ГГЭ-2026-000002"}},
		{colOrg, []string{"ГГЭ-2026-000002", "ГГЭ-2026-000001", "ГГЭ-2026-000003"}},
	}
	for i, s := range steps {
		test.Tap(header(t, v, s.col))
		if got := numbers(v); !slices.Equal(got, s.want) {
			t.Errorf("step %d (column %d): rows %v, want %v", i, s.col, got, s.want)
		}
	}
	if b := header(t, v, colOrg); b.Icon == nil {
		t.Errorf("the sorted column shows no arrow")
	}
	if b := header(t, v, colNumber); b.Icon != nil {
		t.Errorf("an unsorted column shows an arrow")
	}
}

// Sorting and a live update keep the open application selected.
func TestApplicationsSortKeepsSelection(t *testing.T) {
	_, be, v := newAppsFixture(t)
	v.table.Select(widget.TableCellID{Row: 0, Col: colNumber}) // ГГЭ-2026-000003
	test.Tap(header(t, v, colNumber))                          // 000003 moves to the bottom
	if v.selected != 3 || v.rowOf(3) != 2 {
		t.Fatalf("after sorting application 3 is on row %d (open: %d)", v.rowOf(3), v.selected)
	}
	a, _ := be.store.Application(1)
	a.ObjectName, a.Version = "Поликлиника №2", a.Version+1
	be.store.UpsertApplication(a)
	if v.selected != 3 || v.rowOf(3) != 2 {
		t.Errorf("after an update application 3 is on row %d (open: %d)", v.rowOf(3), v.selected)
	}
}

type bufCloser struct {
	bytes.Buffer
	closed bool
}

func (b *bufCloser) Close() error { b.closed = true; return nil }

func TestApplicationsExportWritesShownRows(t *testing.T) {
	_, _, v := newAppsFixture(t)
	v.search.SetText("ГГЭ-2026-00000")
	test.Tap(header(t, v, colDeadline))
	v.statusSel.SetSelected(statusLabel(wire.StatusCompletedPositive))
	var out bufCloser
	v.exportTo(&out)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\r\n"), "\r\n")
	if !out.closed || len(lines) != 2 || !strings.HasPrefix(lines[1], "ГГЭ-2026-000001;Положительное заключение;-3;") {
		t.Errorf("export (closed %v):\n%s", out.closed, out.String())
	}
}

func TestDateRangeFilter(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 3, d, 10, 0, 0, 0, time.UTC) }
	sub := func(d int) *time.Time { x := day(d); return &x }
	apps := []wire.Application{
		{ID: 4, Number: "N4", CreatedAt: day(1), SubmittedAt: sub(20)},
		{ID: 3, Number: "N3", CreatedAt: day(1), SubmittedAt: sub(10)},
		// A draft counts from its creation; 22:30 UTC on the 4th is the 5th in Moscow.
		{ID: 2, Number: "N2", CreatedAt: time.Date(2026, 3, 4, 22, 30, 0, 0, time.UTC)},
		{ID: 1, Number: "N1", CreatedAt: day(1), SubmittedAt: sub(1)},
	}
	d := func(n int) wire.Date { return wire.Date{Year: 2026, Month: 3, Day: n} }
	tests := []struct {
		name     string
		from, to wire.Date
		want     []string
	}{
		{"open", wire.Date{}, wire.Date{}, []string{"N4", "N3", "N2", "N1"}},
		{"from is inclusive", d(10), wire.Date{}, []string{"N4", "N3"}},
		{"to is inclusive", wire.Date{}, d(10), []string{"N3", "N2", "N1"}},
		{"the draft's Moscow date", d(5), d(5), []string{"N2"}},
		{"not the UTC date", d(4), d(4), nil},
		{"empty range", d(11), d(19), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := appFilter{sortCol: -1, from: tt.from, to: tt.to}
			var got []string
			for _, a := range f.apply(apps, func(wire.Application) (int, bool) { return 0, false }) {
				got = append(got, a.Number)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDateRangeEntriesFilterTheTable(t *testing.T) {
	_, be, v := newAppsFixture(t)
	later := time.Date(2026, 4, 15, 9, 0, 0, 0, time.UTC)
	a, _ := be.store.Application(2)
	a.SubmittedAt = &later
	be.store.UpsertApplication(a)
	from := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	v.fromDate.SetDate(&from)
	if got := numbers(v); !slices.Equal(got, []string{"ГГЭ-2026-000002"}) {
		t.Fatalf("rows from 1 April: %v", got)
	}
	if !strings.Contains(v.count.Text, "1") {
		t.Errorf("count %q", v.count.Text)
	}
	v.fromDate.SetDate(nil)
	if got := numbers(v); len(got) != 3 {
		t.Errorf("rows after clearing the date: %v", got)
	}
}
