package ui

import (
	"context"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// adminFake is the server behind the «Администрирование» screen.
type adminFake struct {
	users      []wire.AdminUser
	queries    []wire.UserQuery
	createErr  error
	created    []app.NewUserForm
	actions    []string
	roles      []wire.Role
	orgs       []wire.OrganisationSummary
	orgUpdates []wire.UpdateOrganisationRequest
	loads      []wire.ExpertLoad
	assigned   []wire.AssignRequest
	tariff     wire.Tariff
	setTariffs []wire.Tariff
	days       []wire.CalendarDay
	setDays    []wire.CalendarDay
	status     wire.ServerStatus
}

func (f *adminFake) SearchUsers(_ context.Context, q wire.UserQuery) ([]wire.AdminUser, error) {
	f.queries = append(f.queries, q)
	return slices.Clone(f.users), nil
}
func (f *adminFake) CreateUser(_ context.Context, u app.NewUserForm) (wire.AdminUser, error) {
	if err := u.Validate(); err != nil {
		return wire.AdminUser{}, err
	}
	if f.createErr != nil {
		err := f.createErr
		f.createErr = nil
		return wire.AdminUser{}, err
	}
	f.created = append(f.created, u)
	return wire.AdminUser{User: wire.User{ID: 99, Login: u.Login, FullName: u.FullName, Role: u.Role}}, nil
}
func (f *adminFake) ApplyUserAction(_ context.Context, id int64, a app.UserAction) (wire.AdminUser, error) {
	f.actions = append(f.actions, string(a))
	for i := range f.users {
		if f.users[i].ID == id {
			switch a {
			case app.UserDisable:
				f.users[i].Disabled = true
			case app.UserEnable:
				f.users[i].Disabled = false
			case app.UserUnlock:
				f.users[i].LockedUntil, f.users[i].FailedLogins = nil, 0
			case app.UserResetTOTP:
				f.users[i].TOTPEnabled = false
			}
			return f.users[i], nil
		}
	}
	return wire.AdminUser{}, wire.E(wire.CodeNotFound, "", "нет", "none")
}
func (f *adminFake) SetUserRole(_ context.Context, id int64, role wire.Role) (wire.AdminUser, error) {
	f.roles = append(f.roles, role)
	for i := range f.users {
		if f.users[i].ID == id {
			f.users[i].Role = role
			return f.users[i], nil
		}
	}
	return wire.AdminUser{}, wire.E(wire.CodeNotFound, "", "нет", "none")
}
func (f *adminFake) Organisations(context.Context, string) ([]wire.OrganisationSummary, error) {
	return f.orgs, nil
}
func (f *adminFake) UpdateOrganisation(_ context.Context, id int64, r wire.UpdateOrganisationRequest) (wire.Organisation, error) {
	if err := r.Validate(); err != nil {
		return wire.Organisation{}, err
	}
	f.orgUpdates = append(f.orgUpdates, r)
	return wire.Organisation{ID: id, Name: *r.Name, Version: r.Version + 1}, nil
}
func (f *adminFake) ExpertLoads(context.Context) ([]wire.ExpertLoad, error) { return f.loads, nil }
func (f *adminFake) AssignExperts(_ context.Context, appID, seen, lead int64, as []wire.Assignment) (wire.Application, error) {
	f.assigned = append(f.assigned, wire.AssignRequest{Version: seen, LeadExpertID: lead, Assignments: as})
	return wire.Application{ID: appID, Number: "ГГЭ-2026-000007"}, nil
}
func (f *adminFake) Tariff(context.Context) (wire.Tariff, error) { return f.tariff, nil }
func (f *adminFake) SetTariff(_ context.Context, t wire.Tariff) (wire.Tariff, error) {
	f.setTariffs = append(f.setTariffs, t)
	t.Version++
	f.tariff = t
	return t, nil
}
func (f *adminFake) CalendarDays(context.Context) ([]wire.CalendarDay, error) { return f.days, nil }
func (f *adminFake) SetCalendarDay(_ context.Context, day wire.Date, working bool, note string) ([]wire.CalendarDay, error) {
	d := wire.CalendarDay{Day: day, Working: working, Note: note}
	f.setDays = append(f.setDays, d)
	f.days = append(f.days, d)
	return f.days, nil
}
func (f *adminFake) ServerStatus(context.Context) (wire.ServerStatus, error) { return f.status, nil }

// adminBackendFake is the main window's backend with administration and
// support.
type adminBackendFake struct {
	*fakeBackend
	*adminFake
	*supportFake
}

func sampleAdminUsers(now time.Time) []wire.AdminUser {
	locked := now.Add(10 * time.Minute)
	last := time.Date(2026, 3, 2, 9, 15, 0, 0, time.Local)
	return []wire.AdminUser{
		{User: wire.User{ID: 1, Login: "admin", FullName: "Администратор Системы", Role: wire.RoleAdmin, TOTPEnabled: true}, LastLoginAt: &last},
		{User: wire.User{ID: 7, Login: "sidorova", FullName: "Сидорова Анна Викторовна", Role: wire.RoleExpert, TOTPEnabled: true}, LockedUntil: &locked, FailedLogins: 5},
		{User: wire.User{ID: 9, Login: "ivanov", FullName: "Иванов Иван Иванович", Role: wire.RoleApplicant, OrgID: 3}, OrgName: "ООО «Застройщик»"},
		{User: wire.User{ID: 12, Login: "petrov", FullName: "Петров Пётр", Role: wire.RoleManager, Disabled: true, TOTPEnabled: true}},
	}
}

func newAdminFixture(t *testing.T, role wire.Role) (*env, *adminFake, *adminView) {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(1200, 700))
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)
	fa := &adminFake{users: sampleAdminUsers(now)}
	be := &adminBackendFake{fakeBackend: newFakeBackend(wire.User{ID: 1, Login: "admin", FullName: "Администратор Системы", Role: role}), adminFake: fa, supportFake: &supportFake{}}
	v := newAdminView(e, be)
	v.confirm = func(_, _ string, ok func()) { ok() }
	if v.users != nil {
		v.users.now = func() time.Time { return now }
	}
	if v.status != nil {
		v.status.every = 0
	}
	show(e, v.content(), fyne.NewSize(1200, 700))
	return e, fa, v
}

func userCell(tab *adminUsersTab, row, col int) *widget.Label {
	l := tab.table.CreateCell().(*widget.Label)
	tab.table.UpdateCell(widget.TableCellID{Row: row, Col: col}, l)
	return l
}

// TestAdminUsersTab: the search, the table, the actions offered per row
// and what they send.
func TestAdminUsersTab(t *testing.T) {
	_, fa, v := newAdminFixture(t, wire.RoleAdmin)
	u := v.users
	v.opened()
	test.Type(u.search, "ов")
	u.roleSel.SetSelected("эксперт")
	test.Tap(u.find)
	if n := len(fa.queries); n != 2 || fa.queries[1] != (wire.UserQuery{Text: "ов", Role: wire.RoleExpert}) {
		t.Fatalf("queries %+v", fa.queries)
	}
	if rows, _ := u.table.Length(); rows != 4 {
		t.Fatalf("%d rows", rows)
	}
	for _, tc := range []struct {
		row  int
		text string
		imp  widget.Importance
	}{
		{0, "Активна", widget.SuccessImportance},
		{1, "Вход заблокирован до 02.03 10:10", widget.WarningImportance},
		{3, "Отключена", widget.DangerImportance},
	} {
		if l := userCell(u, tc.row, userColState); l.Text != tc.text || l.Importance != tc.imp {
			t.Errorf("row %d state %q (%v), want %q", tc.row, l.Text, l.Importance, tc.text)
		}
	}
	if l := userCell(u, 2, userColOrg); l.Text != "ООО «Застройщик»" {
		t.Errorf("organisation %q", l.Text)
	}

	enabled := func() []app.UserAction {
		var out []app.UserAction
		for _, a := range []app.UserAction{app.UserDisable, app.UserEnable, app.UserUnlock, app.UserResetTOTP} {
			if !u.actions[a].Disabled() {
				out = append(out, a)
			}
		}
		return out
	}
	u.table.Select(widget.TableCellID{Row: 0, Col: 0}) // oneself
	if got := enabled(); len(got) != 0 || !u.role.Disabled() {
		t.Errorf("actions on oneself: %v, role enabled %v", got, !u.role.Disabled())
	}
	u.table.Select(widget.TableCellID{Row: 1, Col: 0})
	if got := enabled(); !slices.Equal(got, []app.UserAction{app.UserDisable, app.UserUnlock, app.UserResetTOTP}) {
		t.Errorf("actions on a locked expert: %v", got)
	}
	test.Tap(u.actions[app.UserUnlock])
	if !slices.Equal(fa.actions, []string{"unlock"}) || userCell(u, 1, userColState).Text != "Активна" {
		t.Errorf("after unlock: %v, state %q", fa.actions, userCell(u, 1, userColState).Text)
	}
	if u.status.Text != "sidorova: блокировка входа снята" {
		t.Errorf("status %q", u.status.Text)
	}
	if !u.actions[app.UserUnlock].Disabled() {
		t.Error("unlock still offered after it")
	}
	u.table.Select(widget.TableCellID{Row: 3, Col: 0})
	test.Tap(u.actions[app.UserEnable])
	if fa.actions[1] != "enable" || userCell(u, 3, userColState).Text != "Активна" || !u.actions[app.UserEnable].Disabled() || u.actions[app.UserDisable].Disabled() {
		t.Errorf("after enable: %v", fa.actions)
	}
	u.setRole(fa.users[3], wire.RoleExpert)
	if !slices.Equal(fa.roles, []wire.Role{wire.RoleExpert}) || userCell(u, 3, userColRole).Text != "эксперт" {
		t.Errorf("role change: %v, cell %q", fa.roles, userCell(u, 3, userColRole).Text)
	}
}

// TestAdminCreateUserDialog: the server's refusal under its field, the
// dialog kept; then the account is created and the list read again.
func TestAdminCreateUserDialog(t *testing.T) {
	_, fa, v := newAdminFixture(t, wire.RoleAdmin)
	fa.orgs = []wire.OrganisationSummary{{Organisation: wire.Organisation{ID: 3, Name: "ООО «Застройщик»", INN: "7701234567"}}}
	u := v.users
	test.Tap(u.create)
	d := u.newUser
	if d == nil || len(d.org.Options) != 1 || d.org.Options[0] != "ООО «Застройщик» (7701234567)" {
		t.Fatalf("dialog %+v", d)
	}
	test.Type(d.login.entry, "smirnova")
	test.Type(d.name.entry, "Смирнова Ольга")
	d.role.SetSelected("эксперт")
	test.Type(d.pass.entry, "a long passphrase")
	test.Type(d.rep.entry, "another")
	d.submit()
	if d.rep.hint.Text != "Пароли не совпадают" || !d.rep.hint.Visible() || len(fa.created) != 0 {
		t.Fatalf("repeat hint %q, created %v", d.rep.hint.Text, fa.created)
	}
	d.rep.entry.SetText("a long passphrase")
	fa.createErr = wire.E(wire.CodeInvalid, "password", "Пароль слишком распространён — выберите другой", "Too common")
	d.submit()
	if d.pass.hint.Text != "Пароль слишком распространён — выберите другой" || d.rep.hint.Visible() {
		t.Fatalf("password hint %q", d.pass.hint.Text)
	}
	before := len(fa.queries)
	d.submit()
	if len(fa.created) != 1 || fa.created[0].Login != "smirnova" || fa.created[0].Role != wire.RoleExpert || fa.created[0].OrgID != 0 {
		t.Fatalf("created %+v", fa.created)
	}
	if u.newUser != nil || len(fa.queries) != before+1 {
		t.Errorf("after creating: dialog %v, %d queries", u.newUser, len(fa.queries)-before)
	}
}

// TestAdminOtherTabs: organisations, tariff, calendar, status and (for a
// manager) assignments.
func TestAdminOtherTabs(t *testing.T) {
	_, fa, v := newAdminFixture(t, wire.RoleAdmin)
	fa.orgs = []wire.OrganisationSummary{{Organisation: wire.Organisation{ID: 3, Name: "ООО «Застройщик»", INN: "7701234567", OGRN: "1027700000001", Version: 4}, Members: 2, Applications: 5}}
	v.orgs.load()
	v.orgs.table.Select(widget.TableCellID{Row: 0, Col: 0})
	test.Tap(v.orgs.edit)
	f := v.orgs.editing
	f.kpp.entry.SetText("12")
	f.submit()
	if f.kpp.hint.Text == "" || len(fa.orgUpdates) != 0 {
		t.Fatalf("bad KPP: hint %q, updates %v", f.kpp.hint.Text, fa.orgUpdates)
	}
	f.kpp.entry.SetText("770101001")
	f.name.entry.SetText("ООО «Новое имя»")
	f.submit()
	if len(fa.orgUpdates) != 1 || fa.orgUpdates[0].Version != 4 || *fa.orgUpdates[0].Name != "ООО «Новое имя»" || *fa.orgUpdates[0].KPP != "770101001" {
		t.Fatalf("update %+v", fa.orgUpdates)
	}

	fa.tariff = wire.Tariff{Version: 2, Rows: []wire.TariffRow{{Kind: wire.KindProjectDocs, BaseKopecks: 15000000, RatePPM: 2500}}}
	v.tariff.load()
	v.tariff.table.Select(widget.TableCellID{Row: 0, Col: 0})
	test.Tap(v.tariff.edit)
	tf := v.tariff.editing
	if tf.base.entry.Text != "150 000,00" || tf.rate.entry.Text != "0,25" {
		t.Fatalf("form shows %q, %q", tf.base.entry.Text, tf.rate.entry.Text)
	}
	tf.rate.entry.SetText("0,3")
	tf.submit()
	if len(fa.setTariffs) != 1 || fa.setTariffs[0].Version != 2 || fa.setTariffs[0].Rows[0].RatePPM != 3000 || fa.setTariffs[0].Rows[0].BaseKopecks != 15000000 {
		t.Fatalf("tariff sent %+v", fa.setTariffs)
	}

	fa.days = []wire.CalendarDay{{Day: wire.Date{Year: v.calendar.year, Month: 1, Day: 1}, Working: false}}
	v.calendar.load()
	jan1 := v.calendar.buttons[wire.Date{Year: v.calendar.year, Month: 1, Day: 1}]
	if jan1 == nil || jan1.Importance != widget.DangerImportance || len(v.calendar.buttons) < 365 {
		t.Fatalf("year view: %d days, 1 January %+v", len(v.calendar.buttons), jan1)
	}
	test.Tap(jan1)
	if len(fa.setDays) != 1 || !fa.setDays[0].Working || v.calendar.buttons[wire.Date{Year: v.calendar.year, Month: 1, Day: 1}].Importance == widget.DangerImportance {
		t.Errorf("toggle sent %+v", fa.setDays)
	}

	fa.status = wire.ServerStatus{Version: "0.1.0", UptimeSec: 90061, Clients: 3, QueuedMax: 700, QueuedTotal: 720, QueueCap: 1024, SlowDrops: 1,
		MailPending: 2, MailFailed: 1, FilesCount: 10, FilesBytes: 3 << 20, DBBytes: 12 << 20, Users: 40, ActiveSessions: 12, OpenSupport: 2, Now: time.Now()}
	v.status.load()
	for k, want := range map[string]string{"uptime": "1 д 01:01", "clients": "3", "queues": "наибольшая 700, всего 720 (предел 1024)",
		"mail": "в очереди 2, не отправлено 1", "files": "10 шт., 3,0 МиБ", "db": "12,0 МиБ"} {
		if got := v.status.values[k].Text; got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if v.status.values["queues"].Importance != widget.WarningImportance || v.status.values["slow_drops"].Importance != widget.WarningImportance {
		t.Error("a filling queue and dropped clients are not marked")
	}
}

// TestAdminAssignTab: a manager picks an application, sees the experts
// with their load and saves the lead and a section.
func TestAdminAssignTab(t *testing.T) {
	_, fa, v := newAdminFixture(t, wire.RoleManager)
	if v.users != nil || len(v.tabs.Items) != 1 {
		t.Fatalf("a manager gets %d tabs", len(v.tabs.Items))
	}
	st := v.be.Store()
	st.UpsertApplication(wire.Application{ID: 5, Number: "ГГЭ-2026-000007", ObjectName: "Школа", Status: wire.StatusSubmitted, Version: 3,
		LeadExpertID: 31, Assignments: []wire.Assignment{{Section: "07.03", ExpertID: 31}}})
	st.UpsertApplication(wire.Application{ID: 6, Number: "ГГЭ-2026-000008", ObjectName: "Черновик", Status: wire.StatusDraft, Version: 1})
	fa.loads = []wire.ExpertLoad{{ExpertID: 31, FullName: "Сидорова А. В.", Applications: 4, Lead: 2}, {ExpertID: 32, FullName: "Кузнецов П. С.", Applications: 1}}
	v.opened()
	a := v.assign
	if len(a.appSel.Options) != 1 || a.appSel.Options[0] != "ГГЭ-2026-000007 — Школа" {
		t.Fatalf("applications offered %v", a.appSel.Options)
	}
	a.appSel.SetSelectedIndex(0)
	if a.lead.Selected != "Сидорова А. В. — в работе 4, ведущий 2" || a.sections["07.03"].Selected != "Сидорова А. В. — в работе 4, ведущий 2" || a.sections["07.04"].Selected != "—" {
		t.Fatalf("shown: lead %q, 07.03 %q, 07.04 %q", a.lead.Selected, a.sections["07.03"].Selected, a.sections["07.04"].Selected)
	}
	a.sections["07.04"].SetSelected("Кузнецов П. С. — в работе 1, ведущий 0")
	test.Tap(a.save)
	want := wire.AssignRequest{Version: 3, LeadExpertID: 31, Assignments: []wire.Assignment{{Section: "07.03", ExpertID: 31}, {Section: "07.04", ExpertID: 32}}}
	if len(fa.assigned) != 1 || fa.assigned[0].Version != want.Version || fa.assigned[0].LeadExpertID != 31 || !slices.Equal(fa.assigned[0].Assignments, want.Assignments) {
		t.Fatalf("sent %+v", fa.assigned)
	}
}

// TestAdminNavigation: «Администрирование» for administrators (and for
// managers, with assignments only), «Поддержка» for everyone.
func TestAdminNavigation(t *testing.T) {
	for _, tc := range []struct {
		role           wire.Role
		admin, support bool
	}{
		{wire.RoleAdmin, true, true}, {wire.RoleManager, true, true}, {wire.RoleExpert, false, true}, {wire.RoleApplicant, false, true},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			e := newTestEnv(t, fyne.NewSize(1200, 700))
			be := &adminBackendFake{fakeBackend: newFakeBackend(wire.User{ID: 1, FullName: "Тест", Role: tc.role}), adminFake: &adminFake{}, supportFake: &supportFake{}}
			m := newMainScreen(e, be, func() {})
			defer m.close()
			if (m.navAdmin != nil) != tc.admin || (m.navSupport != nil) != tc.support {
				t.Fatalf("admin %v, support %v", m.navAdmin != nil, m.navSupport != nil)
			}
			show(e, m.content(), fyne.NewSize(1200, 700))
			if tc.admin {
				test.Tap(m.navAdmin)
				if m.navAdmin.Importance != widget.HighImportance || m.body.Objects[0] != m.admin.content() {
					t.Error("the admin screen is not shown")
				}
			}
			test.Tap(m.navSupport)
			if m.body.Objects[0] != m.support.content() {
				t.Error("the support screen is not shown")
			}
		})
	}
	// A backend without them (every other stand-in) shows neither.
	e := newTestEnv(t, fyne.NewSize(800, 600))
	m := newMainScreen(e, newFakeBackend(wire.User{ID: 1, Role: wire.RoleAdmin}), func() {})
	defer m.close()
	if m.navAdmin != nil || m.navSupport != nil {
		t.Error("navigation without the backend's support")
	}
}

// TestAdminUsersMarkup pins the layout of the accounts tab with a locked
// expert selected.
func TestAdminUsersMarkup(t *testing.T) {
	e, _, v := newAdminFixture(t, wire.RoleAdmin)
	v.opened()
	v.users.table.Select(widget.TableCellID{Row: 1, Col: 0})
	settle(e.win)
	test.AssertRendersToMarkup(t, "admin_users.xml", e.win.Canvas())
}
