package ui

// Benchmarks of the applications table with 10,000 rows on Fyne's headless
// driver: what one live event, one keystroke in the search box, one click
// on a column header and one page of scrolling cost on the UI goroutine.
// Each reports frames, its time over one 60 Hz frame (16.7 ms): below 1
// the step fits in a frame. The headless driver lays out and updates the
// widgets (text measured, cells filled) but does not paint; the GPU's part
// of a frame is not in these figures.
//
//	CGO_ENABLED=0 go test -tags ci,migrated_fynedo -bench . -run '^$' ./ui/

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

const (
	benchRows = 10000
	frame     = time.Second / 60
)

// benchSize is a common laptop window.
func benchSize() fyne.Size { return fyne.NewSize(1600, 900) }

// benchApps are n applications with varied names, organisations, states
// and deadlines, newest first as the Store sorts them.
func benchApps(n int) []wire.Application {
	objects := []string{"Школа", "Детский сад", "Поликлиника", "Жилой дом", "Спортивный комплекс", "Библиотека", "Котельная"}
	orgs := []string{"ООО «СтройПроект»", "АО «Горпроект»", "ООО «Медстрой»", "ГКУ «УКС»", "ООО «Север»"}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	out := make([]wire.Application, n)
	for i := range out {
		id := int64(n - i)
		out[i] = wire.Application{ID: id, Number: fmt.Sprintf("ГГЭ-2026-%06d", id),
			ObjectName: fmt.Sprintf("%s на %d мест, корпус %d", objects[int(id)%len(objects)], 100+id%900, id),
			OrgName:    orgs[int(id)%len(orgs)], OrgINN: fmt.Sprintf("77%08d", id),
			Status: wire.AllStatuses[int(id)%len(wire.AllStatuses)], Version: 1,
			ExpertiseKind: wire.KindProjectDocs, WorksKind: wire.WorksConstruction, Financing: wire.FinancingBudget,
			CreatedAt: at.Add(time.Duration(id) * time.Hour)}
	}
	return out
}

// benchView is the list screen over a fake backend holding benchRows
// applications, shown in a laptop-sized window. updated counts the cells
// the table filled since the last reset.
type benchView struct {
	be      *fakeBackend
	v       *applicationsView
	updated int
	lowRow  int
}

func newBenchView(b *testing.B) *benchView {
	b.Helper()
	a := test.NewTempApp(b)
	w := test.NewTempWindow(b, widget.NewLabel(""))
	e := &env{app: a, win: w, log: slog.New(slog.DiscardHandler), ctx: b.Context(), spawn: func(f func()) { f() }}
	be := newFakeBackend(wire.User{ID: 10, FullName: "Смирнова А. В.", Role: wire.RoleManager})
	apps := benchApps(benchRows)
	be.store.ReplaceApplications(0, apps)
	for _, x := range apps {
		be.days[x.ID] = int(x.ID%60) - 10
	}
	bv := &benchView{be: be, v: newApplicationsView(e, be)}
	b.Cleanup(bv.v.close)
	update := bv.v.table.UpdateCell
	bv.v.table.UpdateCell = func(id widget.TableCellID, o fyne.CanvasObject) {
		bv.updated++
		bv.lowRow = min(bv.lowRow, id.Row)
		update(id, o)
	}
	show(e, bv.v.content(), benchSize())
	settle(w)
	if rows, _ := bv.v.table.Length(); rows != benchRows {
		b.Fatalf("table has %d rows, want %d", rows, benchRows)
	}
	return bv
}

func (bv *benchView) reset() { bv.updated, bv.lowRow = 0, benchRows }

// reportFrames reports the time per op against one 60 Hz frame.
func reportFrames(b *testing.B) {
	per := b.Elapsed() / time.Duration(max(b.N, 1))
	b.ReportMetric(float64(per)/float64(frame), "frames")
	b.ReportMetric(float64(per.Microseconds())/1000, "ms")
}

// BenchmarkAppsLiveEvent: one application event from the stream (another
// user moved an application) goes through Store.Apply, and the list
// re-reads, re-filters and re-sorts 10,000 rows and refreshes the table.
func BenchmarkAppsLiveEvent(b *testing.B) {
	bv := newBenchView(b)
	bv.v.table.Select(widget.TableCellID{Row: 5, Col: colObject})
	sel := bv.v.selected
	base, _ := bv.be.store.Application(int64(benchRows / 2))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		a := base
		a.Version = base.Version + int64(i)
		a.Status = wire.AllStatuses[i%len(wire.AllStatuses)]
		data, err := json.Marshal(a)
		if err != nil {
			b.Fatal(err)
		}
		bv.reset()
		if err := bv.be.store.Apply(wire.Event{Seq: int64(i), Kind: wire.EventApplication, AppID: a.ID, Data: data}); err != nil {
			b.Fatal(err)
		}
		if bv.updated == 0 {
			b.Fatal("the event refreshed no cell")
		}
	}
	b.StopTimer()
	if bv.v.selected != sel {
		b.Fatalf("selection moved from %d to %d", sel, bv.v.selected)
	}
	reportFrames(b)
}

// BenchmarkAppsSearchKeystroke: each op is one keystroke in the search
// box while typing "школа" and then clearing it, so the filter runs over
// the 10,000 rows with a query of every length the user passes through.
func BenchmarkAppsSearchKeystroke(b *testing.B) {
	bv := newBenchView(b)
	const word = "школа"
	want := 0
	for _, a := range benchApps(benchRows) {
		if strings.Contains(strings.ToLower(a.ObjectName), word) {
			want++
		}
	}
	steps := []rune(word)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if k := i % (len(steps) + 1); k < len(steps) {
			bv.v.search.TypedRune(steps[k])
		} else {
			if rows, _ := bv.v.table.Length(); rows != want {
				b.Fatalf("%q shows %d rows, want %d", word, rows, want)
			}
			bv.v.search.SetText("") // select all + delete: one keystroke
		}
		i++
	}
	b.StopTimer()
	reportFrames(b)
}

// BenchmarkAppsSort: a click on a column header sorts the 10,000 rows by
// it (each op reverses the order of the same column, so every op sorts).
func BenchmarkAppsSort(b *testing.B) {
	for _, col := range []int{colNumber, colStatus, colDeadline, colObject, colOrg} {
		b.Run(fmt.Sprintf("col%d", col), func(b *testing.B) {
			bv := newBenchView(b)
			b.ReportAllocs()
			for b.Loop() {
				bv.reset()
				bv.v.sortBy(col)
				if bv.updated == 0 {
					b.Fatal("sorting refreshed no cell")
				}
			}
			b.StopTimer()
			if bv.v.filter.sortCol != col {
				b.Fatalf("sorted by %d, want %d", bv.v.filter.sortCol, col)
			}
			reportFrames(b)
		})
	}
}

// BenchmarkAppsScrollPage: the table scrolls down by one page (the
// height it shows) and fills the rows that came into view; at the bottom
// it starts again from the top.
func BenchmarkAppsScrollPage(b *testing.B) {
	bv := newBenchView(b)
	page := bv.v.table.Size().Height
	if page <= 0 {
		b.Fatal("the table has no height")
	}
	// Where the last page starts: rows are the template cell's height
	// apart plus the separator (the table's own layout).
	rowStep := bv.v.table.CreateCell().MinSize().Height + theme.Padding()
	last := float32(benchRows)*rowStep - 2*page
	b.ReportAllocs()
	y := float32(0)
	cells := 0
	for b.Loop() {
		y += page
		if y > last { // at the bottom: start over from the top
			y = 0
		}
		bv.reset()
		bv.v.table.ScrollToOffset(fyne.NewPos(0, y))
		if bv.updated == 0 {
			b.Fatal("scrolling filled no cell")
		}
		cells += bv.updated
	}
	b.StopTimer()
	if bv.lowRow == 0 && y > page {
		b.Fatalf("after scrolling to %v the first filled row is still 0", y)
	}
	b.ReportMetric(float64(cells)/float64(b.N), "cells")
	reportFrames(b)
}
