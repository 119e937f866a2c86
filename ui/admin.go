package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// adminBackend is what the «Администрирование» screen uses of
// app.Workspace; separate from backend so the screen is added without
// touching every stand-in of the main window.
type adminBackend interface {
	Me() wire.User
	Store() *app.Store
	SearchUsers(ctx context.Context, q wire.UserQuery) ([]wire.AdminUser, error)
	CreateUser(ctx context.Context, f app.NewUserForm) (wire.AdminUser, error)
	ApplyUserAction(ctx context.Context, userID int64, a app.UserAction) (wire.AdminUser, error)
	SetUserRole(ctx context.Context, userID int64, role wire.Role) (wire.AdminUser, error)
	Organisations(ctx context.Context, text string) ([]wire.OrganisationSummary, error)
	UpdateOrganisation(ctx context.Context, id int64, r wire.UpdateOrganisationRequest) (wire.Organisation, error)
	ExpertLoads(ctx context.Context) ([]wire.ExpertLoad, error)
	AssignExperts(ctx context.Context, appID, seen, lead int64, as []wire.Assignment) (wire.Application, error)
	Tariff(ctx context.Context) (wire.Tariff, error)
	SetTariff(ctx context.Context, t wire.Tariff) (wire.Tariff, error)
	CalendarDays(ctx context.Context) ([]wire.CalendarDay, error)
	SetCalendarDay(ctx context.Context, day wire.Date, working bool, note string) ([]wire.CalendarDay, error)
	ServerStatus(ctx context.Context) (wire.ServerStatus, error)
}

var _ adminBackend = (*app.Workspace)(nil)

// adminView is the «Администрирование» screen. Administrators get every
// tab; managers, who assign experts, only «Назначения» (the server
// refuses them the rest).
type adminView struct {
	env *env
	be  adminBackend

	users    *adminUsersTab
	orgs     *adminOrgsTab
	assign   *adminAssignTab
	tariff   *adminTariffTab
	calendar *adminCalendarTab
	status   *adminStatusTab
	tabs     *container.AppTabs
	// confirm asks before an action that ends sessions or locks someone
	// out (tests answer it themselves).
	confirm func(title, text string, ok func())
}

// canAdminister reports whether a role sees the screen at all.
func canAdminister(r wire.Role) bool { return r == wire.RoleAdmin || r == wire.RoleManager }

func newAdminView(e *env, be adminBackend) *adminView {
	v := &adminView{env: e, be: be}
	v.confirm = func(title, text string, ok func()) {
		dialog.ShowConfirm(title, text, func(yes bool) {
			if yes {
				ok()
			}
		}, e.win)
	}
	v.assign = newAdminAssignTab(v)
	if be.Me().Role != wire.RoleAdmin {
		v.tabs = container.NewAppTabs(container.NewTabItem(lang.L("admin.tab.assign"), v.assign.root))
		return v
	}
	v.users = newAdminUsersTab(v)
	v.orgs = newAdminOrgsTab(v)
	v.tariff = newAdminTariffTab(v)
	v.calendar = newAdminCalendarTab(v)
	v.status = newAdminStatusTab(v)
	v.tabs = container.NewAppTabs(
		container.NewTabItem(lang.L("admin.tab.users"), v.users.root),
		container.NewTabItem(lang.L("admin.tab.orgs"), v.orgs.root),
		container.NewTabItem(lang.L("admin.tab.assign"), v.assign.root),
		container.NewTabItem(lang.L("admin.tab.tariff"), v.tariff.root),
		container.NewTabItem(lang.L("admin.tab.calendar"), v.calendar.root),
		container.NewTabItem(lang.L("admin.tab.status"), v.status.root),
	)
	v.tabs.OnSelected = func(*container.TabItem) { v.opened() }
	return v
}

func (v *adminView) content() fyne.CanvasObject { return v.tabs }

// opened reads what the selected tab shows, afresh.
func (v *adminView) opened() {
	if v.users == nil { // a manager: «Назначения» only
		v.assign.load()
		return
	}
	v.status.stopAuto()
	switch v.tabs.Selected().Content {
	case v.assign.root:
		v.assign.load()
	case v.users.root:
		v.users.load()
	case v.orgs.root:
		v.orgs.load()
	case v.tariff.root:
		v.tariff.load()
	case v.calendar.root:
		v.calendar.load()
	case v.status.root:
		v.status.load()
		v.status.startAuto()
	}
}

// close stops what the screen runs in the background.
func (v *adminView) close() {
	if v.status != nil {
		v.status.stopAuto()
	}
}

// headerTable makes a table of labels with a bold header row.
func headerTable(rows func() int, cols int, title func(int) string, cell func(row, col int, l *widget.Label), widths []float32) *widget.Table {
	t := widget.NewTable(
		func() (int, int) { return rows(), cols },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			l.Importance = widget.MediumImportance
			cell(id.Row, id.Col, l)
		},
	)
	t.ShowHeaderRow = true
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) { o.(*widget.Label).SetText(title(id.Col)) }
	for i, w := range widths {
		t.SetColumnWidth(i, w)
	}
	return t
}
