package ui

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMainScreenIndicatorAndUnread(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1280, 800))
	be := newFakeBackend(wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant})
	m := newMainScreen(e, be, func() {})
	show(e, m.content(), fyne.NewSize(1280, 800))
	defer m.close()

	steps := []struct {
		name      string
		do        func()
		wantConn  string
		wantNotes string
	}{
		{"starts offline", func() {}, "Нет связи", "Уведомления"},
		{"connecting", func() { be.store.State(client.StateConnecting, nil) }, "Подключение…", "Уведомления"},
		{"online", func() { be.store.State(client.StateOnline, nil) }, "В сети", "Уведомления"},
		{"a notification arrives", func() {
			if err := be.store.Apply(mustEvent(t, wire.EventNotification, 3, wire.Notification{ID: 5, Kind: wire.NotifyStatus, AppID: 3, Title: "Статус изменён"})); err != nil {
				t.Fatal(err)
			}
		}, "В сети", "Уведомления (1)"},
		{"dropped", func() { be.store.State(client.StateOffline, errors.New("reset")) }, "Нет связи", "Уведомления (1)"},
		{"mark all read", func() { m.showNotes(); test.Tap(m.notes.markAll) }, "Нет связи", "Уведомления"},
		{"session ended", func() { be.store.State(client.StateStopped, client.ErrTerminal) }, "Сеанс завершён", "Уведомления"},
	}
	for _, s := range steps {
		s.do()
		if m.connText.Text != s.wantConn || m.navNotes.Text != s.wantNotes {
			t.Errorf("%s: indicator %q, navigation %q; want %q, %q", s.name, m.connText.Text, m.navNotes.Text, s.wantConn, s.wantNotes)
		}
	}
	if be.markCalls != 1 {
		t.Errorf("mark all read called %d times", be.markCalls)
	}
	if m.userText.Text != "Иванов И. И. (заявитель)" {
		t.Errorf("user shown as %q", m.userText.Text)
	}
}

func TestNotificationOpensApplication(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1280, 800))
	be := newFakeBackend(wire.User{ID: 20, Role: wire.RoleApplicant})
	be.store.ReplaceApplications(0, sampleApps())
	be.store.SetNotifications([]wire.Notification{{ID: 1, AppID: 2, Title: "Направлены замечания"}})
	m := newMainScreen(e, be, func() {})
	show(e, m.content(), fyne.NewSize(1280, 800))
	defer m.close()
	m.showNotes()
	if m.notes.empty.Visible() || len(m.notes.items) != 1 {
		t.Fatalf("the feed shows %d items (empty note visible: %v)", len(m.notes.items), m.notes.empty.Visible())
	}
	m.notes.list.Select(0)
	if m.apps.card == nil || m.apps.card.id != 2 || m.body.Objects[0] != m.apps.content() {
		t.Errorf("choosing the notification did not open application 2")
	}
}

func testPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 21, 21))
	for i := range img.Pix {
		if i%3 == 0 {
			img.Pix[i] = 255
		}
	}
	img.Set(0, 0, color.Black)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestEnrolScreen(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(560, 640))
	qr := testPNG(t)
	var codes []string
	done := false
	s := newEnrolScreen(e, enrolDeps{
		enrol: func(context.Context) (wire.TOTPEnrolResponse, error) {
			return wire.TOTPEnrolResponse{Secret: "JBSWY3DPEHPK3PXP", OTPAuthURL: "otpauth://totp/x", QRPNG: qr}, nil
		},
		confirm: func(_ context.Context, code string) (wire.User, error) {
			codes = append(codes, code)
			if code != "654321" {
				return wire.User{}, wire.E(wire.CodeInvalid, "code", "Код не подошёл", "Wrong code")
			}
			return wire.User{ID: 1, TOTPEnabled: true}, nil
		},
		onDone:   func() { done = true },
		onLogout: func() {},
	})
	show(e, s.content(), fyne.NewSize(560, 640))
	if !s.confirm.Disabled() {
		t.Errorf("confirm is enabled before the secret arrived")
	}
	s.start()
	if s.qr == nil || !bytes.Equal(s.qr.Resource.Content(), qr) || !containsObject(s.qrBox, s.qr) {
		t.Fatalf("the QR image from the server is not shown")
	}
	if s.secret.Text != "JBSWY3DPEHPK3PXP" {
		t.Errorf("secret shown as %q", s.secret.Text)
	}
	test.Type(s.code, "111111")
	test.Tap(s.confirm)
	if done || !s.errText.Visible() || s.errText.Text != "Код не подошёл" {
		t.Fatalf("a wrong code: done=%v, error %q", done, s.errText.Text)
	}
	test.Type(s.code, "654321")
	test.Tap(s.confirm)
	if !done || len(codes) != 2 || codes[1] != "654321" {
		t.Errorf("codes sent %v, done %v", codes, done)
	}
}

func TestRegisterChecksNumbersAsTyped(t *testing.T) {
	tests := []struct {
		name     string
		field    func(s *registerScreen) *field
		typed    string
		wantHint string
	}{
		{"INN too short", func(s *registerScreen) *field { return s.inn }, "77070",
			"ИНН должен содержать 10 цифр для организации или 12 для ИП/физлица, введено 5"},
		{"INN with a wrong check digit", func(s *registerScreen) *field { return s.inn }, "7707083894",
			"ИНН: неверная контрольная сумма — проверьте цифры"},
		{"valid INN", func(s *registerScreen) *field { return s.inn }, "7707083893", ""},
		{"OGRN with letters", func(s *registerScreen) *field { return s.ogrn }, "10277A",
			"ОГРН должен состоять только из цифр, без пробелов и других знаков"},
		{"valid OGRN", func(s *registerScreen) *field { return s.ogrn }, "1027700132195", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, fyne.NewSize(640, 720))
			s := newRegisterScreen(e, registerDeps{server: "http://127.0.0.1:8443",
				register: func(context.Context, string, wire.RegisterRequest) (wire.User, error) {
					t.Fatal("nothing may be sent")
					return wire.User{}, nil
				},
				onDone: func(string, wire.User) {}, onCancel: func() {}})
			show(e, s.content(), fyne.NewSize(640, 720))
			f := tt.field(s)
			test.Type(f.entry, tt.typed)
			if got := visibleText(f.hint.Text, f.hint.Visible()); got != tt.wantHint {
				t.Errorf("hint %q, want %q", got, tt.wantHint)
			}
		})
	}
}

func TestRegisterSendsAndMapsServerRefusals(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(640, 720))
	var sent []wire.RegisterRequest
	var doneAs string
	s := newRegisterScreen(e, registerDeps{server: "127.0.0.1:8443",
		register: func(_ context.Context, server string, r wire.RegisterRequest) (wire.User, error) {
			sent = append(sent, r)
			if len(sent) == 1 {
				return wire.User{}, wire.E(wire.CodeConflict, "organisation.inn", "Организация с таким ИНН уже зарегистрирована", "exists")
			}
			return wire.User{ID: 9, Login: r.Login}, nil
		},
		onDone: func(server string, u wire.User) { doneAs = server + " " + u.Login }, onCancel: func() {}})
	show(e, s.content(), fyne.NewSize(640, 720))
	for f, v := range map[*field]string{
		s.login: "ivanov", s.password: "длинный пароль 2026", s.password2: "длинный пароль 2026",
		s.fullName: "Иванов Иван Иванович", s.email: "ivanov@example.ru",
		s.orgName: "ООО «Ромашка»", s.inn: "7707083893", s.ogrn: "1027700132195", s.address: "Москва",
	} {
		test.Type(f.entry, v)
	}
	test.Tap(s.submit)
	if len(sent) != 1 || sent[0].Organisation.INN != "7707083893" {
		t.Fatalf("sent %+v", sent)
	}
	if got := visibleText(s.inn.hint.Text, s.inn.hint.Visible()); got != "Организация с таким ИНН уже зарегистрирована" {
		t.Errorf("the refusal is not under the INN: %q", got)
	}
	test.Tap(s.submit)
	if doneAs != "https://127.0.0.1:8443 ivanov" {
		t.Errorf("done as %q", doneAs)
	}
}

func TestCreateShowsLogin(t *testing.T) {
	tests := []struct {
		name, opt, pref, want string
	}{
		{"option wins", "https://gge.example.ru", "https://old.example.ru", "https://gge.example.ru"},
		{"last server used", "", "https://old.example.ru", "https://old.example.ru"},
		{"default", "", "", "http://127.0.0.1:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := test.NewTempApp(t)
			if tt.pref != "" {
				a.Preferences().SetString(prefServer, tt.pref)
			}
			w := test.NewTempWindow(t, nil)
			u := Create(a, w, Options{ServerURL: tt.opt})
			if a.Preferences().String(prefDeviceID) == "" {
				t.Errorf("no device id kept")
			}
			if u.server != tt.want {
				t.Errorf("server %q, want %q", u.server, tt.want)
			}
			if !containsText(w.Content(), "Войти") {
				t.Errorf("the login screen is not shown")
			}
		})
	}
}
