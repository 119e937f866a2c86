package ui

import (
	"context"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

func loginSize() fyne.Size { return fyne.NewSize(560, 520) }

func TestLoginOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		answer      error
		enrolment   bool
		wantCode    bool   // the code field is on the form
		wantNote    string // neutral text above the form
		wantError   string // red text under the form
		wantSignIn  bool
		wantEnrolOK bool
	}{
		{
			name:     "TOTP required shows the code field",
			answer:   wire.E(wire.CodeTOTPRequired, "totp_code", "Введите код из приложения-аутентификатора", "Enter the code"),
			wantCode: true, wantNote: "Введите код из приложения-аутентификатора",
		},
		{
			name:      "wrong password says so in Russian and asks for no code",
			answer:    wire.E(wire.CodeInvalidCredentials, "", "Неверный логин или пароль", "Wrong login or password"),
			wantError: "Неверный логин или пароль",
		},
		{name: "success signs in", wantSignIn: true},
		{name: "staff without a second factor go to enrolment", enrolment: true, wantSignIn: true, wantEnrolOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, loginSize())
			var got []app.Credentials
			var signedIn *app.SignedIn
			s := newLoginScreen(e, loginDeps{
				server: "http://127.0.0.1:8443",
				signIn: func(_ context.Context, cr app.Credentials) (app.SignedIn, error) {
					got = append(got, cr)
					if tt.answer != nil {
						return app.SignedIn{}, tt.answer
					}
					return app.SignedIn{User: wire.User{ID: 1}, Enrolment: tt.enrolment}, nil
				},
				onSignedIn: func(_ app.Credentials, in app.SignedIn) { signedIn = &in },
				onRegister: func(string) {},
			})
			show(e, s.content(), loginSize())
			test.Type(s.login, "ivanov")
			test.Type(s.password, "секрет")
			test.Tap(s.submit)

			if len(got) != 1 || got[0].Login != "ivanov" || got[0].Password != "секрет" || got[0].TOTPCode != "" {
				t.Fatalf("signIn got %+v", got)
			}
			if s.codeOn != tt.wantCode || (len(s.form.Items) == 4) != tt.wantCode {
				t.Errorf("code field shown = %v (%d form items), want %v", s.codeOn, len(s.form.Items), tt.wantCode)
			}
			if tt.wantCode && s.form.Items[3].Widget != s.code {
				t.Errorf("the fourth form item is not the code entry")
			}
			if got := visibleText(s.info.Text, s.info.Visible()); got != tt.wantNote {
				t.Errorf("note = %q, want %q", got, tt.wantNote)
			}
			if got := visibleText(s.errText.Text, s.errText.Visible()); got != tt.wantError {
				t.Errorf("error = %q, want %q", got, tt.wantError)
			}
			if (signedIn != nil) != tt.wantSignIn || signedIn != nil && signedIn.Enrolment != tt.wantEnrolOK {
				t.Errorf("signed in = %+v, want signed in %v, enrolment %v", signedIn, tt.wantSignIn, tt.wantEnrolOK)
			}
			if s.submit.Disabled() {
				t.Errorf("submit stays disabled after the answer")
			}
		})
	}
}

func TestLoginSendsCodeOnSecondAttempt(t *testing.T) {
	e := newTestEnv(t, loginSize())
	var got []app.Credentials
	signedIn := false
	s := newLoginScreen(e, loginDeps{
		server: "http://127.0.0.1:8443",
		login:  "petrova",
		signIn: func(_ context.Context, cr app.Credentials) (app.SignedIn, error) {
			got = append(got, cr)
			if cr.TOTPCode == "" {
				return app.SignedIn{}, wire.E(wire.CodeTOTPRequired, "totp_code", "Введите код", "Enter the code")
			}
			return app.SignedIn{User: wire.User{ID: 2, Role: wire.RoleExpert}}, nil
		},
		onSignedIn: func(app.Credentials, app.SignedIn) { signedIn = true },
		onRegister: func(string) {},
	})
	show(e, s.content(), loginSize())
	test.Type(s.password, "пароль эксперта")
	test.Tap(s.submit)
	test.Type(s.code, "123456")
	test.Tap(s.submit)
	if len(got) != 2 || got[1].TOTPCode != "123456" || got[1].Login != "petrova" {
		t.Fatalf("attempts %+v, want a second one with the code", got)
	}
	if !signedIn {
		t.Errorf("not signed in after the code")
	}
}

func TestLoginScreenMarkup(t *testing.T) {
	e := newTestEnv(t, loginSize())
	s := newLoginScreen(e, loginDeps{
		server: "http://127.0.0.1:8443", login: "ivanov",
		signIn: func(context.Context, app.Credentials) (app.SignedIn, error) {
			return app.SignedIn{}, wire.E(wire.CodeTOTPRequired, "totp_code", "Введите код из приложения-аутентификатора", "")
		},
		onSignedIn: func(app.Credentials, app.SignedIn) {},
		onRegister: func(string) {},
	})
	show(e, s.content(), loginSize())
	test.AssertRendersToMarkup(t, "login.xml", e.win.Canvas())
	test.Tap(s.submit)
	settle(e.win)
	test.AssertRendersToMarkup(t, "login_totp.xml", e.win.Canvas())
}

func visibleText(text string, visible bool) string {
	if !visible {
		return ""
	}
	return text
}
