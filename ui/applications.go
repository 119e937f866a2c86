package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

// Columns of the applications table. Status and deadline come right after
// the number so they stay in sight when the card beside takes the room.
const (
	colNumber = iota
	colStatus
	colDeadline
	colObject
	colOrg
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

	rows     []wire.Application
	selected int64 // id of the application whose card is open
	selCol   int
	syncing  bool // the table is being re-selected by refresh, not by the user

	table   *widget.Table
	count   *widget.Label
	cardBox *fyne.Container
	card    *applicationCard
	root    fyne.CanvasObject
	unwatch func()
}

func newApplicationsView(e *env, be backend) *applicationsView {
	v := &applicationsView{env: e, be: be}
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
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	v.table.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		o.(*widget.Label).SetText(columnTitle(id.Col))
	}
	for i, w := range [colCount]float32{150, 230, 250, 260, 200} {
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
	v.cardBox = container.NewStack(container.NewCenter(widget.NewLabel(lang.L("apps.pick"))))
	list := container.NewBorder(container.NewHBox(reload, v.count), nil, nil, nil, v.table)
	split := container.NewHSplit(list, v.cardBox)
	split.Offset = 0.55
	v.root = split
	v.refresh()
	v.unwatch = e.watch(be.Store(), v.refresh)
	return v
}

func (v *applicationsView) content() fyne.CanvasObject { return v.root }

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

// refresh re-reads the Store and keeps the open application selected
// wherever its row moved.
func (v *applicationsView) refresh() {
	v.rows = v.be.Store().Applications()
	v.count.SetText(lang.L("apps.count", map[string]any{"Count": len(v.rows)}))
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
