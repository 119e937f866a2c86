package ui

import (
	"context"
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

// Columns of the accounts table.
const (
	userColLogin = iota
	userColName
	userColRole
	userColOrg
	userColState
	userColTOTP
	userColLast
	userColCount
)

// adminUsersTab is «Пользователи»: the search, the accounts table, the
// create dialog and the actions on the selected account.
type adminUsersTab struct {
	v        *adminView
	search   *widget.Entry
	roleSel  *widget.Select
	roles    []wire.Role // in roleSel's order; "" is every role
	find     *widget.Button
	create   *widget.Button
	table    *widget.Table
	selected *widget.Label
	actions  map[app.UserAction]*widget.Button
	role     *widget.Button
	status   *widget.Label
	root     fyne.CanvasObject

	rows []wire.AdminUser
	sel  int // selected row, -1 none
	// now is the clock lockouts are judged by (tests fix it).
	now func() time.Time
	// newUser is the open create dialog, for tests.
	newUser *newUserDialog
}

func newAdminUsersTab(v *adminView) *adminUsersTab {
	t := &adminUsersTab{v: v, sel: -1, now: time.Now, actions: map[app.UserAction]*widget.Button{}}
	t.search = widget.NewEntry()
	t.search.SetPlaceHolder(lang.L("admin.users.search"))
	t.search.OnSubmitted = func(string) { t.load() }
	t.roles = append([]wire.Role{""}, wire.AllRoles...)
	labels := make([]string, len(t.roles))
	for i, r := range t.roles {
		labels[i] = lang.L("admin.users.any_role")
		if r != "" {
			labels[i] = roleLabel(r)
		}
	}
	t.roleSel = widget.NewSelect(labels, func(string) {})
	t.roleSel.SetSelectedIndex(0)
	t.find = widget.NewButtonWithIcon(lang.L("audit.find"), theme.SearchIcon(), t.load)
	t.create = widget.NewButtonWithIcon(lang.L("admin.users.create"), theme.ContentAddIcon(), t.openCreate)
	t.table = headerTable(func() int { return len(t.rows) }, userColCount, userColumnTitle, t.updateCell, []float32{120, 230, 150, 200, 270, 60, 150})
	t.table.OnSelected = func(id widget.TableCellID) { t.choose(id.Row) }
	t.selected = widget.NewLabel(lang.L("admin.users.none_selected"))
	for _, a := range []app.UserAction{app.UserDisable, app.UserEnable, app.UserUnlock, app.UserResetTOTP} {
		a := a
		b := widget.NewButton(lang.L("admin.users.action."+string(a)), func() { t.act(a) })
		b.Disable()
		t.actions[a] = b
	}
	t.role = widget.NewButton(lang.L("admin.users.change_role"), t.askRole)
	t.role.Disable()
	t.status = widget.NewLabel("")
	filters := container.NewBorder(nil, nil, nil, container.NewHBox(container.New(minWidth{180}, t.roleSel), t.find, t.create), t.search)
	bar := container.NewHBox(t.selected, t.actions[app.UserDisable], t.actions[app.UserEnable], t.actions[app.UserUnlock],
		t.actions[app.UserResetTOTP], t.role)
	t.root = container.NewBorder(filters, container.NewVBox(bar, t.status), nil, nil, t.table)
	return t
}

func userColumnTitle(col int) string {
	return lang.L([userColCount]string{"admin.users.col.login", "admin.users.col.name", "admin.users.col.role", "admin.users.col.org",
		"admin.users.col.state", "admin.users.col.totp", "admin.users.col.last"}[col])
}

// userState names an account's state: disabled, locked until, active.
func userState(u wire.AdminUser, now time.Time) (string, widget.Importance) {
	switch {
	case u.Disabled:
		return lang.L("admin.users.state.disabled"), widget.DangerImportance
	case u.Locked(now):
		return lang.L("admin.users.state.locked", map[string]any{"Until": u.LockedUntil.Local().Format("02.01 15:04")}), widget.WarningImportance
	}
	return lang.L("admin.users.state.active"), widget.SuccessImportance
}

func (t *adminUsersTab) updateCell(row, col int, l *widget.Label) {
	if row >= len(t.rows) {
		return
	}
	u := t.rows[row]
	switch col {
	case userColLogin:
		l.SetText(u.Login)
	case userColName:
		l.SetText(u.FullName)
	case userColRole:
		l.SetText(roleLabel(u.Role))
	case userColOrg:
		l.SetText(u.OrgName)
	case userColState:
		text, imp := userState(u, t.now())
		l.Importance = imp
		l.SetText(text)
	case userColTOTP:
		if u.TOTPEnabled {
			l.SetText(lang.L("admin.users.totp_on"))
		} else {
			l.SetText("—")
		}
	case userColLast:
		if u.LastLoginAt != nil {
			l.SetText(timeText(*u.LastLoginAt))
		} else {
			l.SetText("—")
		}
	}
}

// query is what the filters say.
func (t *adminUsersTab) query() wire.UserQuery {
	q := wire.UserQuery{Text: strings.TrimSpace(t.search.Text)}
	if i := t.roleSel.SelectedIndex(); i > 0 {
		q.Role = t.roles[i]
	}
	return q
}

// load reads the accounts matching the filters.
func (t *adminUsersTab) load() {
	q := t.query()
	t.status.SetText(lang.L("common.loading"))
	call(t.v.env, "search accounts", func(ctx context.Context) ([]wire.AdminUser, error) {
		return t.v.be.SearchUsers(ctx, q)
	}, func(us []wire.AdminUser, err error) {
		t.status.SetText("")
		if err != nil {
			t.v.env.showError(err)
			return
		}
		keep := int64(0)
		if t.sel >= 0 && t.sel < len(t.rows) {
			keep = t.rows[t.sel].ID
		}
		t.rows = us
		t.sel = -1
		for i, u := range us {
			if u.ID == keep {
				t.sel = i
			}
		}
		t.status.SetText(lang.L("admin.users.count", map[string]any{"Count": len(us)}))
		t.table.Refresh()
		t.choose(t.sel)
	})
}

// choose makes a row the one the actions apply to.
func (t *adminUsersTab) choose(row int) {
	if row < 0 || row >= len(t.rows) {
		t.sel = -1
		t.selected.SetText(lang.L("admin.users.none_selected"))
		for _, b := range t.actions {
			b.Disable()
		}
		t.role.Disable()
		return
	}
	t.sel = row
	u := t.rows[row]
	t.selected.SetText(u.Login)
	allowed := app.UserActions(u, t.v.be.Me().ID, t.now())
	for a, b := range t.actions {
		b.Disable()
		for _, x := range allowed {
			if x == a {
				b.Enable()
			}
		}
	}
	if u.ID == t.v.be.Me().ID {
		t.role.Disable()
	} else {
		t.role.Enable()
	}
}

// act runs an action on the selected account; the ones that lock someone
// out or end their sessions are confirmed first.
func (t *adminUsersTab) act(a app.UserAction) {
	if t.sel < 0 {
		return
	}
	u := t.rows[t.sel]
	run := func() {
		call(t.v.env, "account action", func(ctx context.Context) (wire.AdminUser, error) {
			return t.v.be.ApplyUserAction(ctx, u.ID, a)
		}, func(got wire.AdminUser, err error) {
			if err != nil {
				t.v.env.showError(err)
				return
			}
			t.replace(got)
			t.status.SetText(lang.L("admin.users.done."+string(a), map[string]any{"Login": got.Login}))
		})
	}
	if a == app.UserDisable || a == app.UserResetTOTP {
		t.v.confirm(lang.L("admin.users.action."+string(a)), lang.L("admin.users.confirm."+string(a), map[string]any{"Login": u.Login}), run)
		return
	}
	run()
}

// replace puts a changed account in its row.
func (t *adminUsersTab) replace(u wire.AdminUser) {
	for i := range t.rows {
		if t.rows[i].ID == u.ID {
			t.rows[i] = u
		}
	}
	t.table.Refresh()
	t.choose(t.sel)
}

// askRole offers the roles; the user's sessions end on a change.
func (t *adminUsersTab) askRole() {
	if t.sel < 0 {
		return
	}
	u := t.rows[t.sel]
	labels := make([]string, len(wire.AllRoles))
	for i, r := range wire.AllRoles {
		labels[i] = roleLabel(r)
	}
	sel := widget.NewSelect(labels, nil)
	sel.SetSelected(roleLabel(u.Role))
	dialog.ShowForm(lang.L("admin.users.change_role"), lang.L("admin.save"), lang.L("dialog.cancel"),
		[]*widget.FormItem{widget.NewFormItem(u.Login, sel), widget.NewFormItem("", widget.NewLabel(lang.L("admin.users.role_note")))},
		func(ok bool) {
			if !ok || sel.SelectedIndex() < 0 {
				return
			}
			t.setRole(u, wire.AllRoles[sel.SelectedIndex()])
		}, t.v.env.win)
}

func (t *adminUsersTab) setRole(u wire.AdminUser, role wire.Role) {
	call(t.v.env, "set role", func(ctx context.Context) (wire.AdminUser, error) {
		return t.v.be.SetUserRole(ctx, u.ID, role)
	}, func(got wire.AdminUser, err error) {
		if err != nil {
			t.v.env.showError(err)
			return
		}
		t.replace(got)
		t.status.SetText(lang.L("admin.users.done.role", map[string]any{"Login": got.Login, "Role": roleLabel(got.Role)}))
	})
}

// newUserDialog is the create-account form: each refusal is shown under
// its field and the dialog stays open.
type newUserDialog struct {
	dlg                                  *dialog.FormDialog
	login, name, email, phone, pass, rep *field
	role, org                            *widget.Select
	orgs                                 []wire.OrganisationSummary
	general                              *widget.Label
	submit                               func()
}

func (t *adminUsersTab) openCreate() {
	d := &newUserDialog{login: newField(widget.NewEntry(), nil), name: newField(widget.NewEntry(), nil), email: newField(widget.NewEntry(), nil),
		phone: newField(widget.NewEntry(), nil), pass: newField(widget.NewPasswordEntry(), nil), rep: newField(widget.NewPasswordEntry(), nil)}
	labels := make([]string, len(wire.AllRoles))
	for i, r := range wire.AllRoles {
		labels[i] = roleLabel(r)
	}
	d.role = widget.NewSelect(labels, nil)
	d.org = widget.NewSelect(nil, nil)
	d.org.PlaceHolder = lang.L("admin.users.org_for_applicants")
	d.general = widget.NewLabel("")
	d.general.Wrapping = fyne.TextWrapWord
	d.general.Importance = widget.DangerImportance
	byField := map[string]*field{"login": d.login, "full_name": d.name, "email": d.email, "phone": d.phone, "password": d.pass, "password_repeat": d.rep}
	d.submit = func() {
		for _, f := range byField {
			f.say("")
		}
		d.general.SetText("")
		form := app.NewUserForm{CreateUserRequest: wire.CreateUserRequest{Login: strings.TrimSpace(d.login.entry.Text), FullName: strings.TrimSpace(d.name.entry.Text),
			Email: strings.TrimSpace(d.email.entry.Text), Phone: strings.TrimSpace(d.phone.entry.Text), Password: d.pass.entry.Text}, Repeat: d.rep.entry.Text}
		if i := d.role.SelectedIndex(); i >= 0 {
			form.Role = wire.AllRoles[i]
		}
		if i := d.org.SelectedIndex(); i >= 0 && i < len(d.orgs) {
			form.OrgID = d.orgs[i].ID
		}
		call(t.v.env, "create account", func(ctx context.Context) (wire.AdminUser, error) {
			return t.v.be.CreateUser(ctx, form)
		}, func(u wire.AdminUser, err error) {
			if err != nil {
				if we, ok := wire.AsError(err); ok && byField[we.Field] != nil {
					byField[we.Field].say(message(err))
				} else {
					d.general.SetText(message(err))
				}
				d.dlg.Show()
				return
			}
			d.dlg.Hide()
			t.newUser = nil
			t.status.SetText(lang.L("admin.users.created", map[string]any{"Login": u.Login}))
			t.load()
		})
	}
	d.dlg = dialog.NewForm(lang.L("admin.users.create"), lang.L("admin.users.create_do"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("admin.users.col.login"), d.login.box),
		widget.NewFormItem(lang.L("admin.users.col.name"), d.name.box),
		widget.NewFormItem(lang.L("admin.users.email"), d.email.box),
		widget.NewFormItem(lang.L("admin.users.phone"), d.phone.box),
		widget.NewFormItem(lang.L("admin.users.col.role"), d.role),
		widget.NewFormItem(lang.L("admin.users.col.org"), d.org),
		widget.NewFormItem(lang.L("account.password_new"), d.pass.box),
		widget.NewFormItem(lang.L("account.password_repeat"), d.rep.box),
		widget.NewFormItem("", widget.NewLabel(lang.L("admin.users.totp_note"))),
		widget.NewFormItem("", d.general),
	}, func(ok bool) {
		if ok {
			d.submit()
		}
	}, t.v.env.win)
	d.dlg.Resize(fyne.NewSize(560, 560))
	t.newUser = d
	d.dlg.Show()
	call(t.v.env, "list organisations", func(ctx context.Context) ([]wire.OrganisationSummary, error) {
		return t.v.be.Organisations(ctx, "")
	}, func(os []wire.OrganisationSummary, err error) {
		if err != nil {
			return // applicants cannot be created then; the server says so
		}
		d.orgs = os
		names := make([]string, len(os))
		for i, o := range os {
			names[i] = o.Name + " (" + o.INN + ")"
		}
		d.org.SetOptions(names)
	})
}
