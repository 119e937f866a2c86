package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/sync/wire"
)

// The «Отчёты» screen's core: loading the office reports, the table each
// is shown and exported as, its chart (report_charts.go), and the CSV and
// PDF exports. Reports are read online only: they are aggregates the
// server computes over the whole office, not something the cache holds.

// CanSeeReports reports whether the role has the reports screen: staff of
// the expert organisation. Experts see their own work only (the server
// narrows every report to them).
func CanSeeReports(r wire.Role) bool {
	return r == wire.RoleManager || r == wire.RoleAdmin || r == wire.RoleExpert
}

// CanFilterByExpert reports whether the role chooses whose work a report
// covers; an expert's reports are always about themselves.
func CanFilterByExpert(r wire.Role) bool { return r == wire.RoleManager || r == wire.RoleAdmin }

// Report is one loaded report: exactly one of the four bodies is set, the
// one of Kind. Its Query is the one the server answered for, with the
// default period filled in.
type Report struct {
	Kind       wire.ReportKind
	Query      wire.ReportQuery
	ExpertName string // the expert the report is narrowed to, "" for the office
	Workload   *wire.WorkloadReport
	Deadlines  *wire.DeadlinesReport
	Timeline   *wire.StatusTimelineReport
	Stages     *wire.StageTimesReport
}

// LoadReport asks the server for a report. expertName, when the query
// names an expert, is printed on exports.
func (w *Workspace) LoadReport(ctx context.Context, kind wire.ReportKind, q wire.ReportQuery, expertName string) (Report, error) {
	c, err := w.sess.client()
	if err != nil {
		return Report{}, err
	}
	r := Report{Kind: kind, ExpertName: expertName}
	switch kind {
	case wire.ReportWorkload:
		var v wire.WorkloadReport
		if v, err = c.WorkloadReport(ctx, q); err == nil {
			r.Workload, r.Query = &v, wire.ReportQuery{From: v.From, To: v.To, ExpertID: v.ExpertID}
		}
	case wire.ReportDeadlines:
		var v wire.DeadlinesReport
		if v, err = c.DeadlinesReport(ctx, q); err == nil {
			r.Deadlines, r.Query = &v, wire.ReportQuery{From: v.From, To: v.To, ExpertID: v.ExpertID}
		}
	case wire.ReportStatusTimeline:
		var v wire.StatusTimelineReport
		if v, err = c.StatusTimelineReport(ctx, q); err == nil {
			r.Timeline, r.Query = &v, wire.ReportQuery{From: v.From, To: v.To, ExpertID: v.ExpertID, Step: v.Step}
		}
	case wire.ReportStageTimes:
		var v wire.StageTimesReport
		if v, err = c.StageTimesReport(ctx, q); err == nil {
			r.Stages, r.Query = &v, wire.ReportQuery{From: v.From, To: v.To, ExpertID: v.ExpertID}
		}
	default:
		return Report{}, fmt.Errorf("unknown report %q", kind)
	}
	if err != nil {
		return Report{}, fmt.Errorf("report %s: %w", kind, err)
	}
	if r.Query.ExpertID == w.Me().ID && r.ExpertName == "" {
		r.ExpertName = w.Me().FullName
	}
	return r, nil
}

// ReportExperts lists the experts a report may be narrowed to: every
// expert for managers and administrators, none for others.
func (w *Workspace) ReportExperts(ctx context.Context) ([]wire.User, error) {
	if !CanFilterByExpert(w.Me().Role) {
		return nil, nil
	}
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	us, err := c.Users(ctx, wire.RoleExpert)
	if err != nil {
		return nil, fmt.Errorf("experts: %w", err)
	}
	return us, nil
}

// ReportTable is a report as rows of text, in Russian: what the screen's
// table, the CSV file and the PDF show. Numeric columns are right-aligned.
type ReportTable struct {
	Columns []string
	Numeric []bool
	Widths  []float64 // relative widths for the PDF
	Rows    [][]string
}

// Table lays the report out as a table.
func (r Report) Table() ReportTable {
	switch {
	case r.Workload != nil:
		t := ReportTable{
			Columns: []string{"Эксперт", "Заявлений", "Ведущий", "Разделов", "Открытых замечаний", "Заявления по статусам"},
			Numeric: []bool{false, true, true, true, true, false},
			Widths:  []float64{3, 1.2, 1.2, 1.2, 1.9, 5},
		}
		for _, row := range r.Workload.Rows {
			var by []string
			for _, sc := range row.ByStatus {
				by = append(by, sc.Status.Label()+": "+strconv.Itoa(sc.Count))
			}
			t.Rows = append(t.Rows, []string{row.ExpertName, strconv.Itoa(row.Applications), strconv.Itoa(row.Lead),
				strconv.Itoa(row.Sections), strconv.Itoa(row.OpenRemarks), strings.Join(by, ", ")})
		}
		return t
	case r.Deadlines != nil:
		t := ReportTable{
			Columns: []string{"Номер", "Объект", "Статус", "Этап", "Срок", "Рабочих дней", "Ведущий эксперт"},
			Numeric: []bool{false, false, false, false, false, true, false},
			Widths:  []float64{2, 3, 2.4, 2, 1.3, 2.8, 2.3},
		}
		for _, row := range r.Deadlines.Rows {
			days := "осталось " + workingDays(row.DaysLeft)
			if row.Overdue {
				days = "просрочено на " + workingDays(-row.DaysLeft)
			}
			t.Rows = append(t.Rows, []string{row.Number, row.ObjectName, row.Status.Label(), stageName(row.Stage),
				ruDate(row.Due), days, row.LeadExpertName})
		}
		return t
	case r.Timeline != nil:
		t := ReportTable{Columns: []string{"Дата"}, Numeric: []bool{false}, Widths: []float64{1.3}}
		for _, st := range r.Timeline.Statuses {
			t.Columns = append(t.Columns, st.Label())
			t.Numeric = append(t.Numeric, true)
			t.Widths = append(t.Widths, 1.4)
		}
		t.Columns, t.Numeric, t.Widths = append(t.Columns, "Всего"), append(t.Numeric, true), append(t.Widths, 1)
		for _, p := range r.Timeline.Points {
			row := []string{ruDate(p.Day)}
			for _, n := range p.Counts {
				row = append(row, strconv.Itoa(n))
			}
			t.Rows = append(t.Rows, append(row, strconv.Itoa(p.Total)))
		}
		return t
	case r.Stages != nil:
		t := ReportTable{
			Columns: []string{"Этап", "Предмет экспертизы", "Прохождений", "В среднем, раб. дн.", "Меньше всего", "Больше всего"},
			Numeric: []bool{false, false, true, true, true, true},
			Widths:  []float64{2.6, 3.4, 1.3, 1.4, 1.3, 1.3},
		}
		for _, row := range r.Stages.Rows {
			kind := "Все"
			if row.Kind != "" {
				kind = expertiseName(row.Kind)
			}
			t.Rows = append(t.Rows, []string{row.Stage.Label(), kind, strconv.Itoa(row.Count), ruDecimal(row.AverageDays),
				strconv.Itoa(row.MinDays), strconv.Itoa(row.MaxDays)})
		}
		return t
	}
	return ReportTable{}
}

// Empty reports whether the report has no rows to show.
func (r Report) Empty() bool { return len(r.Table().Rows) == 0 }

// Describe is the report's period and scope in Russian, as exports print
// them under the title.
func (r Report) Describe() []string {
	var out []string
	q := r.Query
	switch {
	case !q.From.IsZero() && !q.To.IsZero() && r.Kind == wire.ReportDeadlines:
		out = append(out, "Сроки с "+ruDate(q.From)+" по "+ruDate(q.To))
	case !q.From.IsZero() && !q.To.IsZero():
		out = append(out, "Период: с "+ruDate(q.From)+" по "+ruDate(q.To))
	case !q.From.IsZero():
		out = append(out, "Сроки с "+ruDate(q.From))
	case !q.To.IsZero():
		out = append(out, "Сроки по "+ruDate(q.To))
	}
	if r.Deadlines != nil {
		out = append(out, fmt.Sprintf("На %s: под угрозой %d, просрочено %d (под угрозой — не больше %d рабочих дней до срока)",
			ruDate(r.Deadlines.Today), r.Deadlines.AtRisk, r.Deadlines.Overdue, wire.DeadlineRiskDays))
	}
	if r.Timeline != nil && r.Timeline.Step == wire.StepWeek {
		out = append(out, "Шаг: неделя (на конец каждого воскресенья и последнего дня)")
	}
	if q.ExpertID != 0 {
		name := r.ExpertName
		if name == "" {
			name = "№ " + strconv.FormatInt(q.ExpertID, 10)
		}
		out = append(out, "Эксперт: "+name)
	} else {
		out = append(out, "Все эксперты")
	}
	return out
}

// ExportReportCSV writes the report's table for Excel as ExportCSV does:
// UTF-8 with a byte order mark, ';' between fields, CRLF line ends; a
// comment-free first line of column names.
func ExportReportCSV(r Report) []byte {
	t := r.Table()
	var b bytes.Buffer
	b.WriteString(utf8BOM)
	w := csv.NewWriter(&b)
	w.Comma = ';'
	w.UseCRLF = true
	_ = w.Write(t.Columns) // writes to a bytes.Buffer cannot fail
	for _, row := range t.Rows {
		_ = w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// Chart sizes of the PDF export: rendered at twice the screen's pixels
// (reportChartScale) so it prints sharp, drawn across landscape A4.
const (
	ReportChartWidth  = 960 // pixels on screen
	ReportChartHeight = 420
	reportChartScale  = 2
)

// ExportReportPDF writes the report on landscape A4: its title, period and
// scope, the chart (when the report has one and data), then the table,
// whose header repeats on every page.
func ExportReportPDF(ctx context.Context, eng *pdfdoc.Engine, w io.Writer, r Report, now time.Time) error {
	t := r.Table()
	cols := make([]pdfdoc.Column, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = pdfdoc.Column{Header: c, Width: t.Widths[i]}
		if t.Numeric[i] {
			cols[i].Align = pdfdoc.AlignRight
		}
	}
	var blocks []pdfdoc.Block
	chart, err := RenderReportChart(r, ReportChartWidth*reportChartScale, ReportChartHeight*reportChartScale, reportChartScale)
	if err != nil {
		return fmt.Errorf("export report %s to PDF: %w", r.Kind, err)
	}
	if chart != nil {
		blocks = append(blocks, pdfdoc.Image{Data: chart, Align: pdfdoc.AlignCenter, SpaceAfter: 10})
	}
	if len(t.Rows) == 0 {
		blocks = append(blocks, pdfdoc.Paragraph{Text: "Нет данных за выбранный период."})
	} else {
		blocks = append(blocks, pdfdoc.Table{Columns: cols, Rows: t.Rows})
	}
	meta := append([]string{"По состоянию на " + now.Format("02.01.2006 15:04")}, r.Describe()...)
	err = eng.Write(ctx, w, &pdfdoc.Document{
		Title:     r.Kind.Label(),
		Meta:      meta,
		Blocks:    blocks,
		Landscape: true,
		Margins:   pdfMargins,
		Generated: now,
	})
	if err != nil {
		return fmt.Errorf("export report %s to PDF: %w", r.Kind, err)
	}
	return nil
}

// ReportFileName is the name offered when saving a report: its title and
// period, e.g. «Загрузка экспертов 01.03.2026–31.03.2026».
func ReportFileName(r Report) string {
	name := r.Kind.Label()
	if !r.Query.From.IsZero() && !r.Query.To.IsZero() {
		name += " " + ruDate(r.Query.From) + "–" + ruDate(r.Query.To)
	}
	return name
}

func stageName(s string) string {
	switch s {
	case wire.StageCompleteness:
		return "Проверка комплектности"
	case wire.StageReview:
		return "Экспертиза"
	}
	return s
}

func ruDate(d wire.Date) string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year)
}

// ruDecimal prints one decimal with a comma, as Russian Excel reads it,
// rounding halves away from zero as people do (1,25 → 1,3).
func ruDecimal(v float64) string {
	return strings.Replace(strconv.FormatFloat(math.Round(v*10)/10, 'f', 1, 64), ".", ",", 1)
}
