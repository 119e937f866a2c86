package ui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// reportsBackend is what the «Отчёты» screen uses of app.Workspace. The
// main window shows the screen when its backend has these and the user's
// role sees reports.
type reportsBackend interface {
	Me() wire.User
	LoadReport(ctx context.Context, kind wire.ReportKind, q wire.ReportQuery, expertName string) (app.Report, error)
	ReportExperts(ctx context.Context) ([]wire.User, error)
}

var _ reportsBackend = (*app.Workspace)(nil)

// reportsView is the «Отчёты» screen: a report, its period and expert
// filters, its chart as an image and its table below, and the exports.
type reportsView struct {
	env *env
	be  reportsBackend

	kindSel   *widget.Select
	fromDate  *widget.DateEntry
	toDate    *widget.DateEntry
	stepSel   *widget.Select // the status timeline only
	expertSel *widget.Select // managers and administrators only
	showBtn   *widget.Button
	exportCSV *widget.Button
	exportPDF *widget.Button
	status    *widget.Label
	chart     *canvas.Image
	table     *widget.Table
	root      fyne.CanvasObject

	experts       []wire.User // the expert filter's choices after «Все эксперты»
	expertsLoaded bool
	report        app.Report
	tab           app.ReportTable
	loaded        bool
}

func newReportsView(e *env, be reportsBackend) *reportsView {
	v := &reportsView{env: e, be: be}
	v.kindSel = widget.NewSelect(reportKindLabels(), func(string) { v.kindChanged() })
	v.fromDate, v.toDate = widget.NewDateEntry(), widget.NewDateEntry()
	v.fromDate.SetPlaceHolder(lang.L("reports.from"))
	v.toDate.SetPlaceHolder(lang.L("reports.to"))
	v.stepSel = widget.NewSelect([]string{lang.L("reports.step.day"), lang.L("reports.step.week")}, nil)
	v.stepSel.SetSelectedIndex(0)
	v.expertSel = widget.NewSelect([]string{lang.L("reports.expert.all")}, nil)
	v.expertSel.SetSelectedIndex(0)
	if !app.CanFilterByExpert(be.Me().Role) {
		v.expertSel.Hide()
	}
	v.showBtn = widget.NewButtonWithIcon(lang.L("reports.show"), theme.ViewRefreshIcon(), v.load)
	v.showBtn.Importance = widget.HighImportance
	v.exportCSV = widget.NewButtonWithIcon(lang.L("reports.export_csv"), theme.DocumentSaveIcon(), v.chooseCSV)
	v.exportPDF = widget.NewButtonWithIcon(lang.L("reports.export_pdf"), theme.DocumentPrintIcon(), v.choosePDF)
	v.status = widget.NewLabel(lang.L("reports.pick"))
	v.status.Wrapping = fyne.TextWrapWord
	v.chart = canvas.NewImageFromImage(nil)
	v.chart.FillMode = canvas.ImageFillContain
	v.chart.ScaleMode = canvas.ImageScaleSmooth
	v.chart.SetMinSize(fyne.NewSize(app.ReportChartWidth/2, app.ReportChartHeight/2))
	v.chart.Hide()
	v.table = widget.NewTable(
		func() (int, int) { return len(v.tab.Rows), len(v.tab.Columns) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) { v.updateCell(id, o.(*widget.Label)) },
	)
	v.table.ShowHeaderRow = true
	v.table.CreateHeader = func() fyne.CanvasObject {
		l := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		l.Truncation = fyne.TextTruncateEllipsis
		return l
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 && id.Col < len(v.tab.Columns) {
			o.(*widget.Label).SetText(v.tab.Columns[id.Col])
		}
	}
	v.kindSel.SetSelectedIndex(0)

	dates := container.NewGridWithColumns(2, v.fromDate, v.toDate)
	filters := container.NewHBox(container.New(minWidth{330}, v.kindSel), widget.NewLabel(lang.L("reports.period")),
		container.New(minWidth{300}, dates), container.New(minWidth{130}, v.stepSel), container.New(minWidth{220}, v.expertSel), v.showBtn)
	actions := container.NewHBox(v.exportCSV, v.exportPDF)
	top := container.NewVBox(filters, container.NewBorder(nil, nil, nil, actions, v.status))
	split := container.NewVSplit(container.NewPadded(v.chart), v.table)
	split.Offset = 0.5
	v.root = container.NewBorder(top, nil, nil, nil, split)
	v.refreshButtons()
	return v
}

func (v *reportsView) content() fyne.CanvasObject { return v.root }

// reportKindLabels names the reports in the picker, in wire order.
func reportKindLabels() []string {
	out := make([]string, len(wire.AllReportKinds))
	for i, k := range wire.AllReportKinds {
		out[i] = reportKindLabel(k)
	}
	return out
}

func reportKindLabel(k wire.ReportKind) string {
	switch k {
	case wire.ReportWorkload:
		return lang.L("reports.kind.workload")
	case wire.ReportDeadlines:
		return lang.L("reports.kind.deadlines")
	case wire.ReportStatusTimeline:
		return lang.L("reports.kind.timeline")
	case wire.ReportStageTimes:
		return lang.L("reports.kind.stages")
	}
	return string(k)
}

// kind is the report picked.
func (v *reportsView) kind() wire.ReportKind {
	if i := v.kindSel.SelectedIndex(); i >= 0 {
		return wire.AllReportKinds[i]
	}
	return wire.ReportWorkload
}

// kindChanged shows the step only for the timeline.
func (v *reportsView) kindChanged() {
	if v.stepSel == nil {
		return // during construction
	}
	if v.kind() == wire.ReportStatusTimeline {
		v.stepSel.Show()
	} else {
		v.stepSel.Hide()
	}
}

// opened is called when the screen is shown: the expert list is read once.
func (v *reportsView) opened() {
	if v.expertsLoaded || !app.CanFilterByExpert(v.be.Me().Role) {
		return
	}
	call(v.env, "report experts", v.be.ReportExperts, func(us []wire.User, err error) {
		if err != nil {
			v.status.SetText(message(err))
			return
		}
		v.expertsLoaded, v.experts = true, us
		opts := []string{lang.L("reports.expert.all")}
		for _, u := range us {
			opts = append(opts, u.FullName)
		}
		v.expertSel.SetOptions(opts)
		v.expertSel.SetSelectedIndex(0)
	})
}

// query is the filter shown.
func (v *reportsView) query() (wire.ReportQuery, string) {
	q := wire.ReportQuery{From: dateOfEntry(v.fromDate.Date), To: dateOfEntry(v.toDate.Date)}
	if v.kind() == wire.ReportStatusTimeline && v.stepSel.SelectedIndex() == 1 {
		q.Step = wire.StepWeek
	}
	name := ""
	if i := v.expertSel.SelectedIndex(); i > 0 && i-1 < len(v.experts) {
		q.ExpertID, name = v.experts[i-1].ID, v.experts[i-1].FullName
	}
	return q, name
}

// load asks for the report shown by the filters and draws it.
func (v *reportsView) load() {
	kind := v.kind()
	q, name := v.query()
	v.showBtn.Disable()
	v.status.SetText(lang.L("reports.loading"))
	type loaded struct {
		r     app.Report
		chart image.Image
	}
	call(v.env, "load report", func(ctx context.Context) (loaded, error) {
		r, err := v.be.LoadReport(ctx, kind, q, name)
		if err != nil {
			return loaded{}, err
		}
		png, err := app.RenderReportChart(r, app.ReportChartWidth, app.ReportChartHeight, 1)
		if err != nil || png == nil {
			return loaded{r: r}, err
		}
		img, err := decodePNGImage(png)
		return loaded{r: r, chart: img}, err
	}, func(l loaded, err error) {
		v.showBtn.Enable()
		if err != nil {
			v.status.SetText(message(err))
			return
		}
		v.show(l.r, l.chart)
	})
}

func decodePNGImage(b []byte) (image.Image, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("decode chart: %w", err)
	}
	return img, nil
}

// show puts a loaded report on the screen.
func (v *reportsView) show(r app.Report, chart image.Image) {
	v.report, v.tab, v.loaded = r, r.Table(), true
	v.chart.Image = chart
	if chart != nil {
		v.chart.Show()
	} else {
		v.chart.Hide()
	}
	v.chart.Refresh()
	for i, w := range v.tab.Widths {
		v.table.SetColumnWidth(i, float32(w)*100)
	}
	v.table.Refresh()
	text := reportKindLabel(r.Kind)
	for _, line := range r.Describe() {
		text += " · " + line
	}
	if r.Empty() {
		text += " — " + lang.L("reports.empty")
	}
	v.status.SetText(text)
	v.refreshButtons()
}

func (v *reportsView) refreshButtons() {
	if v.loaded {
		v.exportCSV.Enable()
		v.exportPDF.Enable()
	} else {
		v.exportCSV.Disable()
		v.exportPDF.Disable()
	}
}

func (v *reportsView) updateCell(id widget.TableCellID, l *widget.Label) {
	if id.Row < 0 || id.Row >= len(v.tab.Rows) || id.Col < 0 || id.Col >= len(v.tab.Columns) {
		return
	}
	row := v.tab.Rows[id.Row]
	text := ""
	if id.Col < len(row) {
		text = row[id.Col]
	}
	l.Alignment = fyne.TextAlignLeading
	if v.tab.Numeric[id.Col] {
		l.Alignment = fyne.TextAlignTrailing
	}
	l.Importance = widget.MediumImportance
	if r := v.report.Deadlines; r != nil && id.Row < len(r.Rows) && r.Rows[id.Row].Overdue {
		l.Importance = widget.DangerImportance
	}
	l.SetText(text)
}

// chooseCSV asks where to save the report shown as CSV.
func (v *reportsView) chooseCSV() {
	v.saveAs(".csv", v.writeCSV)
}

// choosePDF asks where to save the report shown as PDF.
func (v *reportsView) choosePDF() {
	v.saveAs(".pdf", v.writePDF)
}

func (v *reportsView) saveAs(ext string, write func(io.WriteCloser)) {
	if !v.loaded {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			v.env.showError(err)
			return
		}
		if w != nil {
			write(w)
		}
	}, v.env.win)
	d.SetFileName(app.ReportFileName(v.report) + ext)
	d.Show()
}

// writeCSV writes the report shown to w off the UI goroutine and closes it.
func (v *reportsView) writeCSV(w io.WriteCloser) {
	data := app.ExportReportCSV(v.report)
	call(v.env, "export report to CSV", func(context.Context) (struct{}, error) {
		_, err := w.Write(data)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("write CSV: %w", err)
		}
		return struct{}{}, err
	}, func(_ struct{}, err error) { v.env.showError(err) })
}

// writePDF typesets the report shown, with its chart, to w off the UI
// goroutine and closes it.
func (v *reportsView) writePDF(w io.WriteCloser) {
	r := v.report
	call(v.env, "export report to PDF", func(ctx context.Context) (struct{}, error) {
		eng, err := v.env.pdf.get(ctx, v.env.dataDir)
		if err == nil {
			err = app.ExportReportPDF(ctx, eng, w, r, time.Now())
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			err = fmt.Errorf("write PDF: %w", err)
		}
		return struct{}{}, err
	}, func(_ struct{}, err error) { v.env.showError(err) })
}
