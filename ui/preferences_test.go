package ui

import (
	"context"
	"slices"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// prefsFake adds the server's notification preferences to fakeBackend,
// checked by the client's own validation as Workspace.SetPreferences does.
type prefsFake struct {
	*fakeBackend
	stored  []wire.Preference
	loads   int
	saves   int
	saveErr error
}

func newPrefsFake() *prefsFake {
	f := &prefsFake{fakeBackend: newFakeBackend(wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant})}
	for _, k := range wire.AllNotificationKinds {
		p := wire.Preference{Kind: k, InApp: true, Desktop: true, Email: true, EmailMode: wire.EmailInstant}
		if k == wire.NotifyMessage {
			p.EmailMode = wire.EmailDaily
		}
		f.stored = append(f.stored, p)
	}
	return f
}

func (f *prefsFake) Preferences(context.Context) ([]wire.Preference, error) {
	f.loads++
	return slices.Clone(f.stored), nil
}

func (f *prefsFake) SetPreferences(_ context.Context, ps []wire.Preference) ([]wire.Preference, error) {
	f.saves++
	ps, err := app.ValidatePreferences(ps)
	if err != nil {
		return nil, err
	}
	if f.saveErr != nil {
		return nil, f.saveErr
	}
	f.stored = ps
	return slices.Clone(ps), nil
}

var _ prefsBackend = (*prefsFake)(nil)

func (v *preferencesView) row(k wire.NotificationKind) prefRow {
	return v.rows[slices.IndexFunc(v.rows, func(r prefRow) bool { return r.kind == k })]
}

// stored returns one kind's preference as the fake server keeps it.
func (f *prefsFake) pref(k wire.NotificationKind) wire.Preference {
	return f.stored[slices.IndexFunc(f.stored, func(p wire.Preference) bool { return p.Kind == k })]
}

func newPrefsMain(t *testing.T) (*env, *prefsFake, *mainScreen) {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(1280, 800))
	be := newPrefsFake()
	m := newMainScreen(e, be, func() {})
	show(e, m.content(), fyne.NewSize(1280, 800))
	t.Cleanup(m.close)
	return e, be, m
}

func TestPreferencesToggleSaveReopen(t *testing.T) {
	e, be, m := newPrefsMain(t)
	m.showNotes()
	if !m.notes.prefs.Visible() {
		t.Fatal("the feed offers no way to the preferences")
	}
	test.Tap(m.notes.prefs)
	if m.prefs == nil || m.body.Objects[0] != m.prefs.content() || m.navNotes.Importance != widget.HighImportance {
		t.Fatal("the preferences are not shown under Уведомления")
	}
	v := m.prefs
	chat, deadline := v.row(wire.NotifyMessage), v.row(wire.NotifyDeadline)
	if be.loads != 1 || !chat.desktop.Checked || chat.mode.Selected != "ежедневная сводка" || v.save.Disabled() {
		t.Fatalf("loaded %d times; chat desktop %v, mode %q; save disabled %v", be.loads, chat.desktop.Checked, chat.mode.Selected, v.save.Disabled())
	}

	// Chat off the desktop; deadlines by e-mail weekly; assignments not by
	// e-mail at all, which takes the mode away.
	test.Tap(chat.desktop)
	deadline.mode.SetSelected("еженедельная сводка")
	assigned := v.row(wire.NotifyAssigned)
	test.Tap(assigned.email)
	if !assigned.mode.Disabled() {
		t.Errorf("the e-mail mode stays offered with e-mail off")
	}
	test.Tap(v.save)
	if be.saves != 1 || v.status.Text != "Настройки уведомлений сохранены" {
		t.Fatalf("saves %d, status %q", be.saves, v.status.Text)
	}
	if p := be.pref(wire.NotifyMessage); p.Desktop || !p.InApp {
		t.Errorf("chat stored as %+v, want off the desktop and in the app", p)
	}
	if p := be.pref(wire.NotifyDeadline); p.EmailMode != wire.EmailWeekly || !p.Email {
		t.Errorf("deadlines stored as %+v, want a weekly digest", p)
	}
	if p := be.pref(wire.NotifyAssigned); p.Email {
		t.Errorf("assignments stored as %+v, want no e-mail", p)
	}
	if e.win.Canvas().Overlays().Top() != nil {
		t.Errorf("a dialog is shown after a successful save")
	}

	// Reopened from Настройки: read again, showing what was saved.
	test.Tap(m.navSettings)
	if !m.settings.notes.Visible() {
		t.Fatal("the settings offer no way to the preferences")
	}
	test.Tap(m.settings.notesOpen)
	v = m.prefs
	if be.loads != 2 || m.body.Objects[0] != v.content() {
		t.Fatalf("reopening loaded %d times", be.loads)
	}
	if v.row(wire.NotifyMessage).desktop.Checked || v.row(wire.NotifyDeadline).mode.Selected != "еженедельная сводка" ||
		v.row(wire.NotifyAssigned).email.Checked || !v.row(wire.NotifyAssigned).mode.Disabled() {
		t.Errorf("reopened preferences do not show the saved values")
	}
}

func TestPreferencesSaveErrorsInADialog(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(be *prefsFake)
		edit    func(v *preferencesView)
		want    string
		wantSet int // saves that reached the fake's store
	}{
		{
			name: "e-mail turned on without a mode",
			setup: func(be *prefsFake) {
				i := slices.IndexFunc(be.stored, func(p wire.Preference) bool { return p.Kind == wire.NotifyRemark })
				be.stored[i].Email, be.stored[i].EmailMode = false, ""
			},
			edit: func(v *preferencesView) { test.Tap(v.row(wire.NotifyRemark).email) },
			want: "«Замечания и ответы»: письма включены — выберите, как их присылать: сразу, ежедневной или еженедельной сводкой",
		},
		{
			name:  "no network",
			setup: func(be *prefsFake) { be.saveErr = client.ErrNetwork },
			edit:  func(v *preferencesView) { test.Tap(v.row(wire.NotifyStatus).inApp) },
			want:  "Нет связи с сервером. Проверьте адрес сервера и подключение к сети.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, be, m := newPrefsMain(t)
			tt.setup(be)
			before := slices.Clone(be.stored)
			m.showPrefs()
			tt.edit(m.prefs)
			test.Tap(m.prefs.save)
			top := e.win.Canvas().Overlays().Top()
			if top == nil || !containsText(top, tt.want) {
				t.Fatalf("no dialog saying %q", tt.want)
			}
			if !slices.Equal(be.stored, before) {
				t.Errorf("the refused choices were stored")
			}
			if m.prefs.save.Disabled() || m.prefs.status.Text == "Настройки уведомлений сохранены" {
				t.Errorf("after a refusal the form is not left to be corrected")
			}
		})
	}
}

func TestPreferencesLoadFailureOffersRetry(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1000, 640))
	be := &failingPrefs{prefsFake: newPrefsFake(), err: client.ErrNetwork}
	v := newPreferencesView(e, be, nil, nil)
	show(e, v.content(), fyne.NewSize(1000, 640))
	v.load()
	if !v.save.Disabled() || !v.retry.Visible() || v.status.Text != "Настройки не загружены" || e.win.Canvas().Overlays().Top() == nil {
		t.Fatalf("a failed load: save disabled %v, retry %v, status %q", v.save.Disabled(), v.retry.Visible(), v.status.Text)
	}
	e.win.Canvas().Overlays().Top().Hide()
	e.win.Canvas().Overlays().Remove(e.win.Canvas().Overlays().Top())
	be.err = nil
	test.Tap(v.retry)
	if v.save.Disabled() || v.retry.Visible() || v.status.Text != "" {
		t.Errorf("the retry did not load: save disabled %v, retry %v, status %q", v.save.Disabled(), v.retry.Visible(), v.status.Text)
	}
}

type failingPrefs struct {
	*prefsFake
	err error
}

func (f *failingPrefs) Preferences(ctx context.Context) ([]wire.Preference, error) {
	if f.err != nil {
		return nil, f.err
	}
	return f.prefsFake.Preferences(ctx)
}

func TestPreferencesMarkup(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1000, 640))
	be := newPrefsFake()
	v := newPreferencesView(e, be, nil, nil)
	show(e, v.content(), fyne.NewSize(1000, 640))
	v.load()
	test.Tap(v.row(wire.NotifyMessage).email)
	settle(e.win)
	test.AssertRendersToMarkup(t, "preferences.xml", e.win.Canvas())
}

// live takes the fake's store through a first load, as the stream does.
func live(be *fakeBackend) {
	be.store.SetReloader(func(context.Context) error { return nil })
	be.store.State(client.StateOnline, nil)
}

func TestDesktopNotificationsFromTheMainScreen(t *testing.T) {
	e, be, m := newPrefsMain(t)
	be.store.SetNotifications([]wire.Notification{{ID: 1, Kind: wire.NotifyStatus, Title: "Старое", Desktop: true}})
	live(be.fakeBackend)
	if be.loads != 1 {
		t.Errorf("the notifier read the preferences %d times on going live, want 1", be.loads)
	}
	arrive := func(n wire.Notification) func() {
		return func() {
			if err := be.store.Apply(mustEvent(t, wire.EventNotification, n.AppID, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	msg := wire.Notification{ID: 2, Kind: wire.NotifyMessage, AppID: 3, Title: "Сообщение по заявлению ГГЭ-2026-000003",
		Body: "Петров: Добрый день", Desktop: true}
	test.AssertNotificationSent(t, fyne.NewNotification("Сообщения в чате", "Сообщение по заявлению ГГЭ-2026-000003\nПетров: Добрый день"), arrive(msg))
	test.AssertNotificationSent(t, nil, arrive(msg))

	// Chat off the desktop, saved on the preferences screen: applies at once.
	m.showPrefs()
	test.Tap(m.prefs.row(wire.NotifyMessage).desktop)
	test.Tap(m.prefs.save)
	test.AssertNotificationSent(t, nil, arrive(wire.Notification{ID: 3, Kind: wire.NotifyMessage, AppID: 3, Title: "Ещё", Desktop: true}))
	test.AssertNotificationSent(t, fyne.NewNotification("Сроки", "Срок истёк"),
		arrive(wire.Notification{ID: 4, Kind: wire.NotifyDeadline, AppID: 3, Title: "Срок истёк", Desktop: true}))

	// Off on this computer: nothing, and the choice is kept.
	test.Tap(m.prefs.device)
	if e.app.Preferences().BoolWithFallback(prefDesktopNotify, true) {
		t.Errorf("the device switch is not kept")
	}
	test.AssertNotificationSent(t, nil, arrive(wire.Notification{ID: 5, Kind: wire.NotifyDeadline, AppID: 3, Title: "Снова", Desktop: true}))

	// The next main screen starts with it off.
	m2 := newMainScreen(e, be, func() {})
	defer m2.close()
	if m2.notifier.Enabled() {
		t.Errorf("a new main screen ignores the device switch")
	}
}

func TestFeedMarksUnread(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1280, 800))
	be := newFakeBackend(wire.User{ID: 20, Role: wire.RoleApplicant})
	be.store.SetNotifications([]wire.Notification{
		{ID: 1, Kind: wire.NotifyStatus, Title: "Прочитанное", Read: true},
		{ID: 2, Kind: wire.NotifyStatus, Title: "Новое"},
	})
	v := newNotificationsView(e, be, func(int64) {})
	defer v.close()
	show(e, v.content(), fyne.NewSize(1000, 600))
	if v.prefs.Visible() {
		t.Errorf("the preferences button shows with nothing to open")
	}
	if !v.unread.Visible() || v.unread.Text != "Непрочитанных: 1" {
		t.Errorf("unread count %q (visible %v)", v.unread.Text, v.unread.Visible())
	}
	dots := map[string]bool{}
	for i := range v.items {
		o := v.list.CreateItem()
		v.list.UpdateItem(i, o)
		c := o.(*fyne.Container)
		title := c.Objects[0].(*fyne.Container).Objects[0].(*widget.Label)
		dots[title.Text] = c.Objects[1].(*fyne.Container).Objects[0].(*fyne.Container).Objects[0].Visible()
		if title.TextStyle.Bold == (v.items[i].Read) {
			t.Errorf("%q: bold %v, read %v", title.Text, title.TextStyle.Bold, v.items[i].Read)
		}
	}
	if !dots["Новое"] || dots["Прочитанное"] {
		t.Errorf("unread dots %v, want only on the unread one", dots)
	}
	test.Tap(v.markAll)
	if v.unread.Visible() {
		t.Errorf("the unread count stays after marking all read")
	}
}

func TestKindLabelsMatchTheCore(t *testing.T) {
	// The validation messages name kinds as app does; the screen must use
	// the same words, in both languages.
	ru, en := readTranslation(t, "ru.json"), readTranslation(t, "en.json")
	for _, k := range wire.AllNotificationKinds {
		if got := ru["notify.kind."+string(k)]; got != app.KindName(k, false) {
			t.Errorf("ru notify.kind.%s = %q, want %q", k, got, app.KindName(k, false))
		}
		if got := en["notify.kind."+string(k)]; got != app.KindName(k, true) {
			t.Errorf("en notify.kind.%s = %q, want %q", k, got, app.KindName(k, true))
		}
	}
	for _, m := range app.EmailModes() {
		for name, tr := range map[string]map[string]any{"ru.json": ru, "en.json": en} {
			if _, ok := tr["email.mode."+string(m)]; !ok {
				t.Errorf("%s lacks email.mode.%s", name, m)
			}
		}
	}
}
