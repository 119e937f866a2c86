package ui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// reportsFake is the reports' server: it answers every report kind with
// the report given (its Kind set to the one asked) and records the queries.
type reportsFake struct {
	experts []wire.User
	answer  map[wire.ReportKind]app.Report
	err     error
	calls   []reportCall
}

type reportCall struct {
	kind       wire.ReportKind
	q          wire.ReportQuery
	expertName string
}

func (f *fakeBackend) LoadReport(_ context.Context, kind wire.ReportKind, q wire.ReportQuery, expertName string) (app.Report, error) {
	f.rep.calls = append(f.rep.calls, reportCall{kind, q, expertName})
	if f.rep.err != nil {
		return app.Report{}, f.rep.err
	}
	r := f.rep.answer[kind]
	r.Kind, r.ExpertName = kind, expertName
	r.Query.ExpertID = q.ExpertID
	return r, nil
}

func (f *fakeBackend) ReportExperts(context.Context) ([]wire.User, error) { return f.rep.experts, nil }

func mar(day int) wire.Date { return wire.Date{Year: 2026, Month: time.March, Day: day} }

func reportAnswers() map[wire.ReportKind]app.Report {
	return map[wire.ReportKind]app.Report{
		wire.ReportWorkload: {Query: wire.ReportQuery{From: mar(1), To: mar(30)}, Workload: &wire.WorkloadReport{From: mar(1), To: mar(30), Rows: []wire.WorkloadRow{
			{ExpertID: 31, ExpertName: "Абрамов А. А.", Applications: 3, Lead: 2, Sections: 2, OpenRemarks: 2,
				ByStatus: []wire.StatusCount{{Status: wire.StatusInReview, Count: 3}}},
			{ExpertID: 32, ExpertName: "Борисова Б. Б.", Applications: 5, Lead: 1, Sections: 4, OpenRemarks: 1,
				ByStatus: []wire.StatusCount{{Status: wire.StatusRemarksIssued, Count: 5}}},
		}}},
		wire.ReportDeadlines: {Deadlines: &wire.DeadlinesReport{Today: mar(16), AtRisk: 0, Overdue: 1, Rows: []wire.DeadlineRow{
			{AppID: 4, Number: "ГГЭ-2026-000004", ObjectName: "Мост", Status: wire.StatusSubmitted, Stage: wire.StageCompleteness, Due: mar(12), DaysLeft: -2, Overdue: true},
		}}},
		wire.ReportStatusTimeline: {Query: wire.ReportQuery{From: mar(1), To: mar(2)}, Timeline: &wire.StatusTimelineReport{From: mar(1), To: mar(2), Step: wire.StepWeek,
			Statuses: []wire.Status{wire.StatusSubmitted}, Points: []wire.TimelinePoint{{Day: mar(1), Counts: []int{1}, Total: 1}, {Day: mar(2), Counts: []int{2}, Total: 2}}}},
		wire.ReportStageTimes: {Query: wire.ReportQuery{From: mar(1), To: mar(30)}, Stages: &wire.StageTimesReport{}},
	}
}

func newReportsFixture(t *testing.T, role wire.Role) (*env, *fakeBackend, *mainScreen) {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(1400, 900))
	be := newFakeBackend(wire.User{ID: 31, FullName: "Абрамов А. А.", Role: role})
	be.rep.experts = []wire.User{{ID: 31, FullName: "Абрамов А. А."}, {ID: 32, FullName: "Борисова Б. Б."}}
	be.rep.answer = reportAnswers()
	m := newMainScreen(e, be, func() {})
	t.Cleanup(m.close)
	show(e, m.content(), fyne.NewSize(1400, 900))
	return e, be, m
}

// TestReportsNavigation: «Отчёты» is there for staff, not for applicants.
func TestReportsNavigation(t *testing.T) {
	for _, tc := range []struct {
		role wire.Role
		want bool
	}{{wire.RoleManager, true}, {wire.RoleAdmin, true}, {wire.RoleExpert, true}, {wire.RoleApplicant, false}} {
		_, _, m := newReportsFixture(t, tc.role)
		if got := m.navReports != nil; got != tc.want {
			t.Errorf("%s: «Отчёты» in the navigation %v, want %v", tc.role, got, tc.want)
		}
		if tc.want && (m.navReports.Text != "Отчёты" || !containsObject(m.content(), m.navReports)) {
			t.Errorf("%s: the button is %q, laid out %v", tc.role, m.navReports.Text, containsObject(m.content(), m.navReports))
		}
	}
}

// TestReportsScreenShowsAReport: a manager narrows the workload to an
// expert and a period; the screen asks for exactly that and shows the
// chart (the PNG the core drew, at its size) and the table.
func TestReportsScreenShowsAReport(t *testing.T) {
	_, be, m := newReportsFixture(t, wire.RoleManager)
	test.Tap(m.navReports)
	v := m.reports
	if !containsObject(m.body, v.table) || m.navReports.Importance != widget.HighImportance {
		t.Fatal("the reports screen is not shown")
	}
	if got := v.expertSel.Options; len(got) != 3 || got[2] != "Борисова Б. Б." || !v.expertSel.Visible() {
		t.Fatalf("expert filter %v (visible %v)", got, v.expertSel.Visible())
	}
	if !v.exportCSV.Disabled() || !v.exportPDF.Disabled() {
		t.Error("exports enabled before a report is shown")
	}
	v.expertSel.SetSelectedIndex(2)
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
	v.fromDate.SetDate(&from)
	v.toDate.SetDate(&to)
	test.Tap(v.showBtn)
	want := reportCall{wire.ReportWorkload, wire.ReportQuery{From: mar(1), To: mar(30), ExpertID: 32}, "Борисова Б. Б."}
	if len(be.rep.calls) != 1 || be.rep.calls[0] != want {
		t.Fatalf("calls %+v, want %+v", be.rep.calls, want)
	}
	if v.chart.Image == nil || !v.chart.Visible() || v.chart.Image.Bounds().Dx() != app.ReportChartWidth || v.chart.Image.Bounds().Dy() != app.ReportChartHeight {
		t.Fatalf("chart %v, visible %v", v.chart.Image, v.chart.Visible())
	}
	if rows, cols := v.table.Length(); rows != 2 || cols != 6 {
		t.Fatalf("table %d×%d, want 2×6", rows, cols)
	}
	if v.tab.Rows[1][0] != "Борисова Б. Б." || v.tab.Rows[1][1] != "5" {
		t.Errorf("second row %v", v.tab.Rows[1])
	}
	if !strings.Contains(v.status.Text, "Эксперт: Борисова Б. Б.") || !strings.Contains(v.status.Text, "с 01.03.2026 по 30.03.2026") {
		t.Errorf("status %q", v.status.Text)
	}
	if v.exportCSV.Disabled() || v.exportPDF.Disabled() {
		t.Error("exports disabled with a report shown")
	}
}

// TestReportsScreenForAnExpert: no expert filter; the timeline's step is
// offered for the timeline only and sent; a report with no chart (the
// deadlines) hides the image.
func TestReportsScreenForAnExpert(t *testing.T) {
	_, be, m := newReportsFixture(t, wire.RoleExpert)
	test.Tap(m.navReports)
	v := m.reports
	if v.expertSel.Visible() || v.stepSel.Visible() {
		t.Fatalf("expert filter visible %v, step visible %v", v.expertSel.Visible(), v.stepSel.Visible())
	}
	v.kindSel.SetSelectedIndex(2) // the timeline
	if !v.stepSel.Visible() {
		t.Fatal("no step for the timeline")
	}
	v.stepSel.SetSelectedIndex(1)
	test.Tap(v.showBtn)
	if c := be.rep.calls[len(be.rep.calls)-1]; c.kind != wire.ReportStatusTimeline || c.q != (wire.ReportQuery{Step: wire.StepWeek}) {
		t.Fatalf("call %+v", c)
	}
	if !v.chart.Visible() {
		t.Error("the timeline has no chart")
	}
	v.kindSel.SetSelectedIndex(1) // deadlines
	test.Tap(v.showBtn)
	if v.chart.Visible() || len(v.tab.Rows) != 1 {
		t.Errorf("deadlines: chart visible %v, %d rows", v.chart.Visible(), len(v.tab.Rows))
	}
	if rows := v.tab.Rows[0]; rows[5] != "просрочено на 2 рабочих дня" {
		t.Errorf("deadline row %v", rows)
	}
	v.kindSel.SetSelectedIndex(3) // stage times, none in the period
	test.Tap(v.showBtn)
	if v.chart.Visible() || !strings.Contains(v.status.Text, "нет данных") {
		t.Errorf("empty stage times: chart %v, status %q", v.chart.Visible(), v.status.Text)
	}
	be.rep.err = wire.E(wire.CodeInvalid, "from", "Конец периода раньше начала", "The period ends before it starts")
	test.Tap(v.showBtn)
	if v.status.Text != "Конец периода раньше начала" || v.showBtn.Disabled() {
		t.Errorf("refusal shown as %q (button disabled %v)", v.status.Text, v.showBtn.Disabled())
	}
}

// TestReportsExports writes the report shown as CSV and as PDF: the CSV
// has the table, the PDF the chart and the table.
func TestReportsExports(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext not found: install poppler-utils (make deps)")
	}
	e, _, m := newReportsFixture(t, wire.RoleManager)
	e.dataDir = t.TempDir()
	test.Tap(m.navReports)
	v := m.reports
	test.Tap(v.showBtn)
	dir := t.TempDir()
	csvPath, pdfPath := filepath.Join(dir, "r.csv"), filepath.Join(dir, "r.pdf")
	for path, write := range map[string]func(f *os.File){
		csvPath: func(f *os.File) { v.writeCSV(f) },
		pdfPath: func(f *os.File) { v.writePDF(f) },
	} {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		write(f) // spawn runs inline in tests: written and closed on return
	}
	csv, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(csv), "\ufeffЭксперт;Заявлений;") || !strings.Contains(string(csv), "Борисова Б. Б.;5;1;4;1;Направлены замечания: 5\r\n") {
		t.Errorf("CSV %q", csv)
	}
	out, err := exec.Command("pdftotext", "-layout", pdfPath, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Загрузка экспертов", "Абрамов А. А.", "Борисова Б. Б."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("PDF text lacks %q:\n%s", want, out)
		}
	}
	imgs, err := exec.Command("pdfimages", "-list", pdfPath).Output()
	if err != nil || strings.Count(string(imgs), "\n") < 3 {
		t.Errorf("PDF images: %s %v", imgs, err)
	}
	if got := app.ReportFileName(v.report); got != "Загрузка экспертов 01.03.2026–30.03.2026" {
		t.Errorf("file name %q", got)
	}
}

// TestReportsMarkup pins the screen with a workload report shown (the
// screen alone: the navigation around it belongs to the main window).
func TestReportsMarkup(t *testing.T) {
	e, _, m := newReportsFixture(t, wire.RoleManager)
	test.Tap(m.navReports)
	test.Tap(m.reports.showBtn)
	show(e, m.reports.content(), fyne.NewSize(1400, 900))
	settle(e.win)
	test.AssertRendersToMarkup(t, "reports.xml", e.win.Canvas())
}
