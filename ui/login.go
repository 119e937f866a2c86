package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/assets"
)

// loginDeps is what the login screen needs from outside; signIn is
// app.Session.Login in the program and a fake in screen tests.
type loginDeps struct {
	server, login string
	signIn        func(context.Context, app.Credentials) (app.SignedIn, error)
	onSignedIn    func(app.Credentials, app.SignedIn)
	onRegister    func(server string)
}

// loginScreen asks for the server, login and password, and for a one-time
// code once the server says the account needs one.
type loginScreen struct {
	env  *env
	deps loginDeps

	server   *widget.Entry
	login    *widget.Entry
	password *widget.Entry
	code     *widget.Entry
	form     *widget.Form
	codeOn   bool
	info     *widget.Label // a note from the previous screen
	errText  *widget.Label
	submit   *widget.Button
	register *widget.Button
}

func newLoginScreen(e *env, d loginDeps) *loginScreen {
	s := &loginScreen{env: e, deps: d}
	s.server = widget.NewEntry()
	s.server.SetText(d.server)
	s.server.SetPlaceHolder("https://expertiza.example.ru")
	s.login = widget.NewEntry()
	s.login.SetText(d.login)
	s.password = widget.NewPasswordEntry()
	s.code = widget.NewEntry()
	s.code.SetPlaceHolder(lang.L("login.code_placeholder"))
	for _, en := range []*widget.Entry{s.server, s.login, s.password, s.code} {
		en.OnSubmitted = func(string) { s.doSubmit() }
	}
	s.form = widget.NewForm(
		widget.NewFormItem(lang.L("login.server"), s.server),
		widget.NewFormItem(lang.L("login.login"), s.login),
		widget.NewFormItem(lang.L("login.password"), s.password),
	)
	s.info = widget.NewLabel("")
	s.info.Wrapping = fyne.TextWrapWord
	s.info.Hide()
	s.errText = widget.NewLabel("")
	s.errText.Wrapping = fyne.TextWrapWord
	s.errText.Importance = widget.DangerImportance
	s.errText.Hide()
	s.submit = widget.NewButton(lang.L("login.submit"), s.doSubmit)
	s.submit.Importance = widget.HighImportance
	s.register = widget.NewButton(lang.L("login.register"), func() { d.onRegister(s.server.Text) })
	return s
}

func (s *loginScreen) content() fyne.CanvasObject {
	icon := canvas.NewImageFromResource(fyne.NewStaticResource("icon.png", assets.Icon))
	icon.FillMode = canvas.ImageFillContain
	icon.SetMinSize(fyne.NewSize(72, 72))
	title := widget.NewLabelWithStyle(lang.L("app.title"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	subtitle := widget.NewLabelWithStyle(lang.L("login.subtitle"), fyne.TextAlignCenter, fyne.TextStyle{})
	return centred(440, container.NewVBox(
		container.NewCenter(icon), title, subtitle,
		s.info, s.form, s.errText,
		s.submit, s.register,
	))
}

// note shows why the user is here (session ended, account created).
func (s *loginScreen) note(text string) {
	s.info.SetText(text)
	s.info.Hidden = text == ""
	s.info.Refresh()
}

func (s *loginScreen) focus() {
	target := s.login
	if s.login.Text != "" {
		target = s.password
	}
	s.env.win.Canvas().Focus(target)
}

// showCode adds the one-time code field (once).
func (s *loginScreen) showCode() {
	if !s.codeOn {
		s.codeOn = true
		s.form.AppendItem(widget.NewFormItem(lang.L("login.code"), s.code))
	}
	s.env.win.Canvas().Focus(s.code)
}

func (s *loginScreen) showError(text string) {
	s.errText.SetText(text)
	s.errText.Hidden = text == ""
	s.errText.Refresh()
}

func (s *loginScreen) setBusy(busy bool) {
	if busy {
		s.submit.Disable()
		s.submit.SetText(lang.L("login.busy"))
		return
	}
	s.submit.Enable()
	s.submit.SetText(lang.L("login.submit"))
}

func (s *loginScreen) doSubmit() {
	if s.submit.Disabled() {
		return
	}
	cr := app.Credentials{Server: s.server.Text, Login: s.login.Text, Password: s.password.Text}
	if s.codeOn {
		cr.TOTPCode = s.code.Text
	}
	s.setBusy(true)
	s.showError("")
	call(s.env, "login", func(ctx context.Context) (app.SignedIn, error) {
		return s.deps.signIn(ctx, cr)
	}, func(in app.SignedIn, err error) {
		s.setBusy(false)
		if err != nil {
			if app.IsTOTPRequired(err) {
				// Not a failure: the password was right, a code is next.
				s.showCode()
				s.note(message(err))
				return
			}
			s.showError(message(err))
			return
		}
		s.deps.onSignedIn(cr, in)
	})
}
