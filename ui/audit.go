package ui

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// auditBackend is what the journal and the personal-data block use of
// app.Workspace. It is separate from backend so those screens can be
// added without touching every stand-in of the main window.
type auditBackend interface {
	Me() wire.User
	AuditEntries(ctx context.Context, q wire.AuditQuery) (wire.AuditPage, error)
	ExportAuditEntries(ctx context.Context, f app.AuditFilter, loc *time.Location) ([]byte, error)
	PersonalData(ctx context.Context) (wire.PersonalData, error)
	SetPersonalData(ctx context.Context, r wire.SetPersonalDataRequest) (wire.PersonalData, error)
	RevealPersonalData(ctx context.Context) (wire.PersonalData, error)
}

var _ auditBackend = (*app.Workspace)(nil)

// Columns of the journal table.
const (
	auditColTime = iota
	auditColActor
	auditColAction
	auditColObject
	auditColIP
	auditColDevice
	auditColDetails
	auditColCount
)

// auditView is the «Журнал» screen: the audit journal rows the user may
// read, newest first, with a period, an action, a text to look for, more
// pages on demand and a CSV export of everything that matches.
type auditView struct {
	env *env
	be  auditBackend
	// own limits the rows to the user's own actions (the account screen's
	// «Мои действия»); otherwise the server's scope for the role applies.
	own bool

	fromDate, toDate *widget.DateEntry
	actionSel        *widget.Select
	actions          []string // codes in actionSel's order; "" is every action
	text             *widget.Entry
	find, more, csv  *widget.Button
	scope, status    *widget.Label
	table            *widget.Table

	rows []wire.AuditEntry
	next int64 // cursor of the next page, 0 when none
	// saveFile stands for the system save dialog (tests replace it).
	saveFile func(name string, done func(path string))
	root     fyne.CanvasObject
}

func newAuditView(e *env, be auditBackend, own bool) *auditView {
	v := &auditView{env: e, be: be, own: own}
	v.saveFile = func(name string, done func(string)) { systemSave(e, name, done) }
	v.fromDate, v.toDate = widget.NewDateEntry(), widget.NewDateEntry()
	v.fromDate.SetPlaceHolder(lang.L("audit.from"))
	v.toDate.SetPlaceHolder(lang.L("audit.to"))
	v.actions = append([]string{""}, app.AuditActions()...)
	labels := make([]string, len(v.actions))
	for i, a := range v.actions {
		labels[i] = auditActionLabel(a)
	}
	v.actionSel = widget.NewSelect(labels, nil)
	v.actionSel.SetSelectedIndex(0)
	v.text = widget.NewEntry()
	v.text.SetPlaceHolder(lang.L("audit.search"))
	v.text.OnSubmitted = func(string) { v.load() }
	v.find = widget.NewButtonWithIcon(lang.L("audit.find"), theme.SearchIcon(), v.load)
	v.more = widget.NewButtonWithIcon(lang.L("audit.more"), theme.MoreVerticalIcon(), v.loadMore)
	v.more.Disable()
	v.csv = widget.NewButtonWithIcon(lang.L("audit.export"), theme.DocumentSaveIcon(), v.chooseExport)
	v.scope = widget.NewLabel(v.scopeText())
	v.scope.Importance = widget.LowImportance
	v.status = widget.NewLabel("")
	v.table = widget.NewTable(
		func() (int, int) { return len(v.rows), auditColCount },
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
		o.(*widget.Label).SetText(auditColumnTitle(id.Col))
	}
	for i, w := range [auditColCount]float32{150, 150, 230, 190, 120, 180, 300} {
		v.table.SetColumnWidth(i, w)
	}
	dates := container.NewGridWithColumns(2, v.fromDate, v.toDate)
	filters := container.NewBorder(nil, nil, container.NewHBox(container.New(minWidth{300}, dates), container.New(minWidth{260}, v.actionSel)),
		container.NewHBox(v.find, v.csv), v.text)
	bottom := container.NewHBox(v.more, v.status)
	v.root = container.NewBorder(container.NewVBox(v.scope, filters), bottom, nil, nil, v.table)
	return v
}

func (v *auditView) content() fyne.CanvasObject { return v.root }

// scopeText says whose rows the screen shows.
func (v *auditView) scopeText() string {
	if v.own {
		return lang.L("audit.scope.own")
	}
	switch v.be.Me().Role {
	case wire.RoleAdmin:
		return lang.L("audit.scope.all")
	case wire.RoleManager:
		return lang.L("audit.scope.manager")
	}
	return lang.L("audit.scope.own")
}

// filter is what the controls say.
func (v *auditView) filter() app.AuditFilter {
	f := app.AuditFilter{From: dateOfEntry(v.fromDate.Date), To: dateOfEntry(v.toDate.Date), Text: strings.TrimSpace(v.text.Text)}
	if i := v.actionSel.SelectedIndex(); i > 0 {
		f.Action = v.actions[i]
	}
	if v.own {
		f.ActorID = v.be.Me().ID
	}
	return f
}

func (v *auditView) query() wire.AuditQuery { return v.filter().Query(time.Local) }

// load reads the first page for the filter shown.
func (v *auditView) load() { v.fetch(v.query(), false) }

// loadMore appends the next, older page.
func (v *auditView) loadMore() {
	if v.next == 0 {
		return
	}
	q := v.query()
	q.Before = v.next
	v.fetch(q, true)
}

func (v *auditView) fetch(q wire.AuditQuery, appendRows bool) {
	v.status.SetText(lang.L("common.loading"))
	call(v.env, "read audit journal", func(ctx context.Context) (wire.AuditPage, error) {
		return v.be.AuditEntries(ctx, q)
	}, func(page wire.AuditPage, err error) {
		v.status.SetText("")
		if err != nil {
			v.env.showError(err)
			return
		}
		if appendRows {
			v.rows = append(v.rows, page.Items...)
		} else {
			v.rows = page.Items
			v.table.ScrollToTop()
		}
		v.next = page.NextBefore
		if v.next == 0 {
			v.more.Disable()
		} else {
			v.more.Enable()
		}
		v.status.SetText(lang.XN("audit.shown", "{{.Count}} rows shown", len(v.rows), map[string]any{"Count": len(v.rows)}))
		v.table.Refresh()
	})
}

// chooseExport asks where to save every row matching the filter as CSV.
func (v *auditView) chooseExport() {
	name := lang.L("audit.export_file") + " " + time.Now().Format("2006-01-02") + ".csv"
	v.saveFile(name, func(path string) { v.exportTo(path) })
}

// exportTo reads every matching row (not only the pages shown) and writes
// them to path.
func (v *auditView) exportTo(path string) {
	f := v.filter()
	v.status.SetText(lang.L("audit.exporting"))
	call(v.env, "export audit journal", func(ctx context.Context) (struct{}, error) {
		data, err := v.be.ExportAuditEntries(ctx, f, time.Local)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, writeFileAtomic(path, data)
	}, func(_ struct{}, err error) {
		v.status.SetText("")
		if err != nil {
			v.env.showError(err)
			return
		}
		v.status.SetText(lang.L("audit.exported", map[string]any{"Path": path}))
	})
}

func auditColumnTitle(col int) string {
	switch col {
	case auditColTime:
		return lang.L("audit.col.time")
	case auditColActor:
		return lang.L("audit.col.actor")
	case auditColAction:
		return lang.L("audit.col.action")
	case auditColObject:
		return lang.L("audit.col.object")
	case auditColIP:
		return lang.L("audit.col.ip")
	case auditColDevice:
		return lang.L("audit.col.device")
	case auditColDetails:
		return lang.L("audit.col.details")
	}
	return ""
}

// auditActionLabel names an action in the interface language; "" is the
// filter's «every action».
func auditActionLabel(action string) string {
	if action == "" {
		return lang.L("audit.action.any")
	}
	return lang.X("audit.action."+action, app.AuditActionName(action))
}

// auditObjectText shows the object of a row: its type and id, and the
// application it concerns.
func auditObjectText(e wire.AuditEntry) string {
	var parts []string
	if e.ObjectType != "" {
		parts = append(parts, lang.X("audit.object."+e.ObjectType, e.ObjectType)+" "+e.ObjectID)
	}
	if e.AppID != 0 && e.ObjectType != "application" {
		parts = append(parts, lang.L("audit.object.in_app", map[string]any{"ID": strconv.FormatInt(e.AppID, 10)}))
	}
	return strings.TrimSpace(strings.Join(parts, " · "))
}

// auditDetailsText writes the details as key=value pairs in a stable
// order, for one line of the table.
func auditDetailsText(d map[string]any) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		val := d[k]
		var s string
		switch x := val.(type) {
		case string:
			s = x
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		default:
			b, _ := json.Marshal(x) // decoded from JSON: encodes again
			s = string(b)
		}
		parts = append(parts, k+"="+s)
	}
	return strings.Join(parts, ", ")
}

func (v *auditView) updateCell(id widget.TableCellID, l *widget.Label) {
	if id.Row < 0 || id.Row >= len(v.rows) {
		return
	}
	e := v.rows[id.Row]
	text, imp := "", widget.MediumImportance
	switch id.Col {
	case auditColTime:
		text = timeText(e.At)
	case auditColActor:
		text = orDash(e.ActorLogin)
	case auditColAction:
		text = auditActionLabel(e.Action)
		switch e.Action {
		case wire.AuditLoginFailed:
			imp = widget.DangerImportance
		case wire.AuditPersonalDataReveal, wire.AuditPersonalDataView, wire.AuditUserRole, wire.AuditTOTPReset, wire.AuditUserDisable:
			imp = widget.WarningImportance
		}
	case auditColObject:
		text = orDash(auditObjectText(e))
	case auditColIP:
		text = orDash(e.IP)
	case auditColDevice:
		text = orDash(e.Device)
	case auditColDetails:
		text = auditDetailsText(e.Details)
	}
	l.Text, l.Importance = text, imp
	l.Refresh()
}
