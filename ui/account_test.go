package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

func newAccountFixture(t *testing.T) (*env, *fakeBackend, *accountView) {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(1000, 700))
	be := newFakeBackend(wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleExpert})
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	be.sessions = []wire.Session{
		{ID: 2, Device: "Рабочий ПК", IP: "10.0.0.5", LastSeen: at, Current: true},
		{ID: 5, Device: "Ноутбук", IP: "192.0.2.7", LastSeen: at.Add(-time.Hour)},
	}
	be.logins = []wire.LoginEvent{
		{At: at, IP: "10.0.0.5", Device: "Рабочий ПК", Success: true},
		{At: at.Add(-time.Hour), IP: "203.0.113.9", Device: "Неизвестно", Success: false, NewDev: true},
	}
	v := newAccountView(e, be)
	show(e, v.content(), fyne.NewSize(1000, 700))
	v.load()
	return e, be, v
}

// sessionRow renders one row of the sessions list.
func sessionRow(v *accountView, i int) (device, detail string, end *widget.Button, current *widget.Label) {
	o := v.sessList.CreateItem().(*fyne.Container)
	v.sessList.UpdateItem(i, o)
	box := o.Objects[0].(*fyne.Container)
	right := o.Objects[1].(*fyne.Container)
	return box.Objects[0].(*widget.Label).Text, box.Objects[1].(*widget.Label).Text,
		right.Objects[0].(*widget.Button), right.Objects[1].(*widget.Label)
}

func TestAccountShowsSessionsAndLogins(t *testing.T) {
	_, _, v := newAccountFixture(t)
	if n := v.sessList.Length(); n != 2 {
		t.Fatalf("%d sessions shown", n)
	}
	dev, detail, end, current := sessionRow(v, 0)
	if dev != "Рабочий ПК" || !end.Hidden || current.Hidden {
		t.Errorf("current session: %q, end button hidden %v, mark hidden %v", dev, end.Hidden, current.Hidden)
	}
	if want := "IP 10.0.0.5 · последняя активность " + timeText(v.sessions[0].LastSeen); detail != want {
		t.Errorf("detail %q, want %q", detail, want)
	}
	dev, _, end, current = sessionRow(v, 1)
	if dev != "Ноутбук" || end.Hidden || !current.Hidden || end.Text != "Завершить" {
		t.Errorf("other session: %q, end button %q hidden %v, mark hidden %v", dev, end.Text, end.Hidden, current.Hidden)
	}

	rows, cols := v.logTable.Length()
	if rows != 2 || cols != logColCount {
		t.Fatalf("login history is %d×%d", rows, cols)
	}
	cell := func(row, col int) *widget.Label {
		l := v.logTable.CreateCell().(*widget.Label)
		v.logTable.UpdateCell(widget.TableCellID{Row: row, Col: col}, l)
		return l
	}
	if l := cell(1, logColResult); l.Text != "Отказ" || l.Importance != widget.DangerImportance {
		t.Errorf("failed login shown as %q (%v)", l.Text, l.Importance)
	}
	if l := cell(1, logColNewDevice); l.Text != "Новое устройство" {
		t.Errorf("new device shown as %q", l.Text)
	}
	if l := cell(0, logColResult); l.Text != "Успешно" {
		t.Errorf("successful login shown as %q", l.Text)
	}
	if l := cell(0, logColNewDevice); l.Text != "" {
		t.Errorf("known device marked %q", l.Text)
	}
	if l := cell(1, logColIP); l.Text != "203.0.113.9" {
		t.Errorf("IP shown as %q", l.Text)
	}
}

func TestAccountEndsOtherSession(t *testing.T) {
	e, be, v := newAccountFixture(t)
	_, _, end, _ := sessionRow(v, 1)
	test.Tap(end)
	top := e.win.Canvas().Overlays().Top()
	if top == nil {
		t.Fatal("no confirmation asked")
	}
	var confirm *widget.Button
	for _, o := range test.LaidOutObjects(top) {
		if b, ok := o.(*widget.Button); ok && b.Text == "Завершить" {
			confirm = b
		}
	}
	if confirm == nil {
		t.Fatal("the confirmation has no «Завершить» button")
	}
	test.Tap(confirm)
	if !slices.Equal(be.ended, []int64{5}) {
		t.Errorf("ended sessions %v, want [5]", be.ended)
	}
	if n := v.sessList.Length(); n != 1 {
		t.Errorf("%d sessions shown after ending one", n)
	}
}

// A session ended elsewhere (an event) reloads the list.
func TestAccountReloadsWhenSessionRevoked(t *testing.T) {
	_, be, v := newAccountFixture(t)
	be.sessions = be.sessions[:1]
	if err := be.store.Apply(mustEvent(t, wire.EventSessionRevoked, 0, map[string]int64{"session_id": 5})); err != nil {
		t.Fatal(err)
	}
	if n := v.sessList.Length(); n != 1 {
		t.Errorf("%d sessions shown after one was revoked", n)
	}
}

func TestMainScreenOpensAccount(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1280, 800))
	be := newFakeBackend(wire.User{ID: 20, Role: wire.RoleApplicant})
	be.sessions = []wire.Session{{ID: 1, Device: "ПК", Current: true}}
	m := newMainScreen(e, be, func() {})
	show(e, m.content(), fyne.NewSize(1280, 800))
	defer m.close()
	if m.navAccount.Text != "Сеансы" {
		t.Errorf("navigation item %q", m.navAccount.Text)
	}
	test.Tap(m.navAccount)
	if m.body.Objects[0] != m.account.content() || m.navAccount.Importance != widget.HighImportance {
		t.Errorf("the sessions section is not shown")
	}
	if n := m.account.sessList.Length(); n != 1 {
		t.Errorf("%d sessions loaded on opening", n)
	}
}

func TestPasswordChange(t *testing.T) {
	e, be, v := newAccountFixture(t)
	test.Tap(v.password)
	test.Type(v.pwOld.entry, "старый пароль 1")
	test.Type(v.pwNew.entry, "новый пароль 22")
	test.Type(v.pwRepeat.entry, "новый пароль 23")
	v.pwDialog.Submit()
	if v.pwRepeat.hint.Text != "Новый пароль и повтор не совпадают" || !v.pwRepeat.hint.Visible() {
		t.Errorf("the mismatch is not shown under the repeat: %q", v.pwRepeat.hint.Text)
	}
	v.pwRepeat.entry.SetText("новый пароль 22")
	v.pwDialog.Submit()
	if len(be.pwCalls) != 2 || be.pwCalls[1] != "старый пароль 1→новый пароль 22" {
		t.Fatalf("calls %v", be.pwCalls)
	}
	if top := e.win.Canvas().Overlays().Top(); top == nil || !containsText(top, "Пароль изменён. Остальные сеансы завершены.") {
		t.Errorf("no confirmation")
	}
}
