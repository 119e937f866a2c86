package ui

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// expertiseKinds are the kinds offered in the filter, in the design's order.
var expertiseKinds = []wire.ExpertiseKind{wire.KindProjectDocs, wire.KindSurveys, wire.KindProjectDocsAndSurvey, wire.KindEstimate}

// Columns of the applications table. Status and deadline come right after
// the number so they stay in sight when the card beside takes the room.
const (
	colNumber = iota
	colStatus
	colDeadline
	colObject
	colOrg
	colExperts
	colCount
)

// columnTitle is the header of a column.
func columnTitle(col int) string {
	switch col {
	case colNumber:
		return lang.L("apps.col.number")
	case colObject:
		return lang.L("apps.col.object")
	case colOrg:
		return lang.L("apps.col.org")
	case colExperts:
		return lang.L("apps.col.experts")
	case colStatus:
		return lang.L("apps.col.status")
	case colDeadline:
		return lang.L("apps.col.deadline")
	}
	return ""
}

// applicationsView is the list of applications with the card of the
// selected one beside it. The list follows the Store live; the selection
// follows the application, not the row, when rows move.
type applicationsView struct {
	env *env
	be  backend

	rows     []wire.Application // the Store's applications as filtered and sorted
	filter   appFilter
	selected int64 // id of the application whose card is open
	selCol   int
	syncing  bool // the table is being re-selected by refresh, not by the user

	table     *widget.Table
	count     *widget.Label
	search    *widget.Entry
	statusSel *widget.Select
	kindSel   *widget.Select
	fromDate  *widget.DateEntry
	toDate    *widget.DateEntry
	export    *widget.Button
	exportPDF *widget.Button
	newApp    *widget.Button
	cardBox   *fyne.Container
	card      *applicationCard
	root      fyne.CanvasObject
	unwatch   func()
}

func newApplicationsView(e *env, be backend) *applicationsView {
	v := &applicationsView{env: e, be: be, filter: appFilter{sortCol: -1}}
	v.table = widget.NewTable(
		func() (int, int) { return len(v.rows), colCount },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) { v.updateCell(id, o.(*widget.Label)) },
	)
	v.table.ShowHeaderRow = true
	v.table.CreateHeader = func() fyne.CanvasObject {
		b := widget.NewButton("", nil)
		b.Alignment = widget.ButtonAlignLeading
		b.IconPlacement = widget.ButtonIconTrailingText
		b.Importance = widget.LowImportance
		return b
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) { v.updateHeader(id.Col, o.(*widget.Button)) }
	for i, w := range [colCount]float32{150, 230, 250, 260, 200, 240} {
		v.table.SetColumnWidth(i, w)
	}
	v.table.OnSelected = func(id widget.TableCellID) {
		if v.syncing || id.Row < 0 || id.Row >= len(v.rows) {
			return
		}
		v.selCol = id.Col
		v.open(v.rows[id.Row].ID)
	}
	v.count = widget.NewLabel("")
	reload := widget.NewButtonWithIcon(lang.L("apps.reload"), theme.ViewRefreshIcon(), v.reload)
	v.export = widget.NewButtonWithIcon(lang.L("apps.export"), theme.DocumentSaveIcon(), v.chooseExportFile)
	v.exportPDF = widget.NewButtonWithIcon(lang.L("apps.export_pdf"), theme.DocumentPrintIcon(), v.chooseExportPDF)
	v.newApp = widget.NewButtonWithIcon(lang.L("apps.new"), theme.ContentAddIcon(), func() { askNewApplication(e, be, v.open) })
	v.newApp.Importance = widget.HighImportance
	v.search = widget.NewEntry()
	v.search.SetPlaceHolder(lang.L("apps.search"))
	v.search.OnChanged = func(q string) {
		v.filter.query = q
		v.refresh()
	}
	statuses := []string{lang.L("apps.filter.any_status")}
	for _, s := range wire.AllStatuses {
		statuses = append(statuses, statusLabel(s))
	}
	v.statusSel = widget.NewSelect(statuses, nil)
	v.statusSel.SetSelectedIndex(0)
	v.statusSel.OnChanged = func(string) {
		v.filter.status = ""
		if i := v.statusSel.SelectedIndex(); i > 0 {
			v.filter.status = wire.AllStatuses[i-1]
		}
		v.refresh()
	}
	kinds := []string{lang.L("apps.filter.any_kind")}
	for _, k := range expertiseKinds {
		kinds = append(kinds, expertiseLabel(k))
	}
	v.kindSel = widget.NewSelect(kinds, nil)
	v.kindSel.SetSelectedIndex(0)
	v.kindSel.OnChanged = func(string) {
		v.filter.kind = ""
		if i := v.kindSel.SelectedIndex(); i > 0 {
			v.filter.kind = expertiseKinds[i-1]
		}
		v.refresh()
	}
	v.fromDate, v.toDate = widget.NewDateEntry(), widget.NewDateEntry()
	v.fromDate.SetPlaceHolder(lang.L("apps.filter.from"))
	v.toDate.SetPlaceHolder(lang.L("apps.filter.to"))
	v.fromDate.OnChanged = func(t *time.Time) { v.filter.from = dateOfEntry(t); v.refresh() }
	v.toDate.OnChanged = func(t *time.Time) { v.filter.to = dateOfEntry(t); v.refresh() }
	v.cardBox = container.NewStack(container.NewCenter(widget.NewLabel(lang.L("apps.pick"))))
	tools := container.NewVBox(
		// The search gets a row of its own: beside the two selects it was
		// squeezed to a few characters in the list pane.
		v.search,
		container.NewGridWithColumns(2, v.statusSel, v.kindSel),
		container.NewBorder(nil, nil, widget.NewLabel(lang.L("apps.filter.filed")), nil,
			container.NewGridWithColumns(2, v.fromDate, v.toDate)),
		container.NewHBox(reload, v.export, v.exportPDF, v.count),
	)
	if be.Me().Role == wire.RoleApplicant {
		tools.Objects = append([]fyne.CanvasObject{container.NewHBox(v.newApp)}, tools.Objects...)
	}
	list := container.NewBorder(tools, nil, nil, nil, v.table)
	split := container.NewHSplit(list, v.cardBox)
	split.Offset = 0.55
	v.root = split
	v.refresh()
	v.unwatch = e.watch(be.Store(), v.refresh)
	return v
}

func (v *applicationsView) content() fyne.CanvasObject { return v.root }

// dateOfEntry is the calendar date a date entry holds (zero when empty).
// The entry parses the typed day as midnight UTC; its fields are the day.
func dateOfEntry(t *time.Time) wire.Date {
	if t == nil {
		return wire.Date{}
	}
	return wire.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

func (v *applicationsView) close() {
	v.unwatch()
	if v.card != nil {
		v.card.close()
	}
}

func (v *applicationsView) updateCell(id widget.TableCellID, l *widget.Label) {
	if id.Row < 0 || id.Row >= len(v.rows) {
		return
	}
	a := v.rows[id.Row]
	text, imp := cellText(a, id.Col, v.be)
	l.Text, l.Importance = text, imp
	l.Refresh()
}

// cellText is what one cell of the table shows.
func cellText(a wire.Application, col int, be backend) (string, widget.Importance) {
	switch col {
	case colNumber:
		return a.Number, widget.MediumImportance
	case colObject:
		return a.ObjectName, widget.MediumImportance
	case colOrg:
		return a.OrgName, widget.MediumImportance
	case colExperts:
		return expertsText(a), widget.MediumImportance
	case colStatus:
		return statusLabel(a.Status), statusImportance(a.Status)
	case colDeadline:
		if days, ok := be.DaysLeft(a); ok {
			return daysLeftText(days), deadlineImportance(days)
		}
		return "—", widget.MediumImportance
	}
	return "", widget.MediumImportance
}

// updateHeader shows a column's title, with an arrow on the sorted one;
// tapping it sorts by the column, and tapping again reverses the order.
func (v *applicationsView) updateHeader(col int, b *widget.Button) {
	b.Text, b.Icon = columnTitle(col), nil
	if v.filter.sortCol == col {
		b.Icon = theme.MoveDownIcon()
		if v.filter.desc {
			b.Icon = theme.MoveUpIcon()
		}
	}
	b.OnTapped = func() { v.sortBy(col) }
	b.Refresh()
}

// sortBy sorts the list by col, or reverses the order when it already is.
func (v *applicationsView) sortBy(col int) {
	if v.filter.sortCol == col {
		v.filter.desc = !v.filter.desc
	} else {
		v.filter.sortCol, v.filter.desc = col, false
	}
	v.refresh()
}

// refresh re-reads the Store and keeps the open application selected
// wherever its row moved.
func (v *applicationsView) refresh() {
	all := v.be.Store().Applications()
	v.rows = v.filter.apply(all, v.be.DaysLeft)
	if len(v.rows) == len(all) {
		v.count.SetText(lang.L("apps.count", map[string]any{"Count": len(v.rows)}))
	} else {
		v.count.SetText(lang.L("apps.count_filtered", map[string]any{"Count": len(v.rows), "Total": len(all)}))
	}
	v.syncing = true
	if row := v.rowOf(v.selected); row >= 0 {
		v.table.Select(widget.TableCellID{Row: row, Col: v.selCol})
	} else {
		v.table.UnselectAll()
	}
	v.syncing = false
	v.table.Refresh()
}

func (v *applicationsView) rowOf(id int64) int {
	if id == 0 {
		return -1
	}
	for i, a := range v.rows {
		if a.ID == id {
			return i
		}
	}
	return -1
}

// open shows the card of application id.
func (v *applicationsView) open(id int64) {
	if v.card != nil && v.selected == id {
		return
	}
	if v.card != nil {
		v.card.close()
	}
	v.selected = id
	if row := v.rowOf(id); row >= 0 {
		v.syncing = true
		v.table.Select(widget.TableCellID{Row: row, Col: v.selCol})
		v.syncing = false
	}
	v.card = newApplicationCard(v.env, v.be, id)
	v.cardBox.Objects = []fyne.CanvasObject{v.card.content()}
	v.cardBox.Refresh()
	v.card.load()
}

func (v *applicationsView) reload() {
	call(v.env, "load applications", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, v.be.LoadApplications(ctx)
	}, func(_ struct{}, err error) { v.env.showError(err) })
}

// chooseExportFile asks where to save the rows shown, as CSV.
func (v *applicationsView) chooseExportFile() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			v.env.showError(err)
			return
		}
		if w == nil {
			return // cancelled
		}
		v.exportTo(w)
	}, v.env.win)
	d.SetFileName(lang.L("apps.export_file") + ".csv")
	d.Show()
}

// exportTo writes the rows shown, filtered and sorted as on screen, to w
// off the UI goroutine, and closes it.
func (v *applicationsView) exportTo(w io.WriteCloser) {
	data := app.ExportCSV(v.rows, v.be.DaysLeft)
	call(v.env, "export applications", func(context.Context) (struct{}, error) {
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

// listFilter is the filter shown, as the PDF register prints it.
func (v *applicationsView) listFilter() app.ListFilter {
	f := v.filter
	return app.ListFilter{Status: f.status, Kind: f.kind, Query: f.query, From: f.from, To: f.to}
}

// chooseExportPDF asks where to save the rows shown as a PDF register.
func (v *applicationsView) chooseExportPDF() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil {
			v.env.showError(err)
			return
		}
		if w == nil {
			return
		}
		v.exportPDFTo(w)
	}, v.env.win)
	d.SetFileName(lang.L("apps.export_file") + ".pdf")
	d.Show()
}

// exportPDFTo typesets the rows shown, as on screen, off the UI goroutine
// and writes them to w.
func (v *applicationsView) exportPDFTo(w io.WriteCloser) {
	rows, filter := v.rows, v.listFilter()
	call(v.env, "export applications to PDF", func(ctx context.Context) (struct{}, error) {
		eng, err := v.env.pdf.get(ctx, v.env.dataDir)
		if err == nil {
			err = app.ExportPDF(ctx, eng, w, rows, v.be.DaysLeft, filter, time.Now())
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

// expertsText names the application's experts, the lead first and marked.
func expertsText(a wire.Application) string {
	var lead string
	var others []string
	seen := map[int64]bool{}
	for _, as := range a.Assignments {
		if seen[as.ExpertID] {
			continue
		}
		seen[as.ExpertID] = true
		if as.ExpertID == a.LeadExpertID {
			lead = as.ExpertName + " " + lang.L("card.lead")
			continue
		}
		others = append(others, as.ExpertName)
	}
	if lead != "" {
		others = append([]string{lead}, others...)
	}
	if len(others) == 0 {
		return "—"
	}
	return strings.Join(others, ", ")
}
