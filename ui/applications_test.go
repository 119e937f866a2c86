package ui

import (
	"encoding/json"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

func appsSize() fyne.Size { return fyne.NewSize(2000, 360) }

func newAppsFixture(t *testing.T) (*env, *fakeBackend, *applicationsView) {
	t.Helper()
	e := newTestEnv(t, appsSize())
	be := newFakeBackend(wire.User{ID: 10, FullName: "Смирнова А. В.", Role: wire.RoleManager})
	be.store.ReplaceApplications(0, sampleApps())
	be.days[3] = 2  // amber
	be.days[2] = 17 // green
	be.days[1] = -3 // red
	v := newApplicationsView(e, be)
	show(e, v.content(), appsSize())
	return e, be, v
}

func TestApplicationsTableRows(t *testing.T) {
	_, _, v := newAppsFixture(t)
	tests := []struct {
		row        int
		number     string
		status     string
		statusImp  widget.Importance
		deadline   string
		deadlineIm widget.Importance
	}{
		{0, "ГГЭ-2026-000003", "На проверке комплектности", widget.HighImportance, "2 рабочих дня", widget.WarningImportance},
		{1, "ГГЭ-2026-000002", "Проведение экспертизы", widget.HighImportance, "17 рабочих дней", widget.SuccessImportance},
		{2, "ГГЭ-2026-000001", "Положительное заключение", widget.SuccessImportance, "просрочено на 3 рабочих дня", widget.DangerImportance},
	}
	rows, cols := v.table.Length()
	if rows != len(tests) || cols != colCount {
		t.Fatalf("table is %d×%d, want %d×%d", rows, cols, len(tests), colCount)
	}
	cell := func(row, col int) *widget.Label {
		l := v.table.CreateCell().(*widget.Label)
		v.table.UpdateCell(widget.TableCellID{Row: row, Col: col}, l)
		return l
	}
	for _, tt := range tests {
		if got := cell(tt.row, colNumber).Text; got != tt.number {
			t.Errorf("row %d number = %q, want %q", tt.row, got, tt.number)
		}
		st := cell(tt.row, colStatus)
		if st.Text != tt.status || st.Importance != tt.statusImp {
			t.Errorf("row %d status = %q (%v), want %q (%v)", tt.row, st.Text, st.Importance, tt.status, tt.statusImp)
		}
		dl := cell(tt.row, colDeadline)
		if dl.Text != tt.deadline || dl.Importance != tt.deadlineIm {
			t.Errorf("row %d deadline = %q (%v), want %q (%v)", tt.row, dl.Text, dl.Importance, tt.deadline, tt.deadlineIm)
		}
	}
}

func TestApplicationsTableMarkup(t *testing.T) {
	e, _, _ := newAppsFixture(t)
	settle(e.win)
	test.AssertRendersToMarkup(t, "applications.xml", e.win.Canvas())
}

// An event that puts a new application on top must not move the open card
// to another application: the selection follows the application.
func TestApplicationsLiveUpdateKeepsSelection(t *testing.T) {
	_, be, v := newAppsFixture(t)
	v.table.Select(widget.TableCellID{Row: 1, Col: colObject}) // ГГЭ-2026-000002
	if v.selected != 2 || v.card == nil || v.card.id != 2 {
		t.Fatalf("after selecting row 1 the open application is %d", v.selected)
	}
	card := v.card

	data, _ := json.Marshal(wire.Application{ID: 4, Number: "ГГЭ-2026-000004", ObjectName: "Бассейн", Status: wire.StatusDraft, Version: 1})
	if err := be.store.Apply(wire.Event{Seq: 1, Kind: wire.EventApplication, AppID: 4, Data: data}); err != nil {
		t.Fatal(err)
	}
	moved, _ := json.Marshal(wire.Application{ID: 2, Number: "ГГЭ-2026-000002", ObjectName: "Школа на 1100 мест", Status: wire.StatusRemarksIssued, Version: 8})
	if err := be.store.Apply(wire.Event{Seq: 2, Kind: wire.EventApplication, AppID: 2, Data: moved}); err != nil {
		t.Fatal(err)
	}

	if rows, _ := v.table.Length(); rows != 4 {
		t.Fatalf("rows = %d after the event, want 4", rows)
	}
	if v.selected != 2 || v.card != card {
		t.Errorf("open application changed to %d (card replaced: %v)", v.selected, v.card != card)
	}
	if got := v.rowOf(2); got != 2 {
		t.Errorf("application 2 is on row %d, want 2", got)
	}
	st := v.table.CreateCell().(*widget.Label)
	v.table.UpdateCell(widget.TableCellID{Row: 2, Col: colStatus}, st)
	if st.Text != "Направлены замечания" {
		t.Errorf("status of the moved row = %q, want the new one", st.Text)
	}
	if v.card.title.Text != "ГГЭ-2026-000002 · Школа на 1100 мест" {
		t.Errorf("card title = %q", v.card.title.Text)
	}
}

func TestExpertsColumn(t *testing.T) {
	tests := []struct {
		name string
		a    wire.Application
		want string
	}{
		{"none yet", wire.Application{}, "—"},
		{"the lead first and marked, each expert once", wire.Application{LeadExpertID: 7, Assignments: []wire.Assignment{
			{Section: "07.03", ExpertID: 8, ExpertName: "Сидорова А. В."},
			{Section: "07.01", ExpertID: 7, ExpertName: "Петров П. П."},
			{Section: "07.04", ExpertID: 8, ExpertName: "Сидорова А. В."},
		}}, "Петров П. П. (ведущий), Сидорова А. В."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := expertsText(tt.a); got != tt.want {
				t.Errorf("expertsText = %q, want %q", got, tt.want)
			}
		})
	}
}
