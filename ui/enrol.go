package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

// enrolDeps is what the enrolment screen needs from outside.
type enrolDeps struct {
	enrol    func(context.Context) (wire.TOTPEnrolResponse, error)
	confirm  func(ctx context.Context, code string) (wire.User, error)
	onDone   func()
	onLogout func()
}

// enrolScreen connects an authenticator app: staff must have a second
// factor before they can do anything else.
type enrolScreen struct {
	env  *env
	deps enrolDeps

	qrBox   *fyne.Container // holds the QR image once it has arrived
	qr      *canvas.Image
	secret  *widget.Label
	code    *widget.Entry
	confirm *widget.Button
	errText *widget.Label
}

func newEnrolScreen(e *env, d enrolDeps) *enrolScreen {
	s := &enrolScreen{env: e, deps: d}
	s.qrBox = container.NewCenter(widget.NewLabel(lang.L("common.loading")))
	s.secret = widget.NewLabel("")
	s.secret.Selectable = true
	s.secret.TextStyle = fyne.TextStyle{Monospace: true}
	s.code = widget.NewEntry()
	s.code.SetPlaceHolder(lang.L("login.code_placeholder"))
	s.code.OnSubmitted = func(string) { s.doConfirm() }
	s.confirm = widget.NewButton(lang.L("enrol.confirm"), s.doConfirm)
	s.confirm.Importance = widget.HighImportance
	s.confirm.Disable() // until the secret has arrived
	s.errText = widget.NewLabel("")
	s.errText.Wrapping = fyne.TextWrapWord
	s.errText.Importance = widget.DangerImportance
	s.errText.Hide()
	return s
}

func (s *enrolScreen) content() fyne.CanvasObject {
	title := widget.NewLabelWithStyle(lang.L("enrol.title"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	explain := widget.NewLabel(lang.L("enrol.explain"))
	explain.Wrapping = fyne.TextWrapWord
	form := widget.NewForm(
		widget.NewFormItem(lang.L("enrol.secret"), s.secret),
		widget.NewFormItem(lang.L("login.code"), s.code),
	)
	logout := widget.NewButton(lang.L("main.logout"), s.deps.onLogout)
	return centred(460, container.NewVBox(
		title, explain, s.qrBox, form, s.errText,
		container.NewGridWithColumns(2, logout, s.confirm),
	))
}

// start asks the server for a new secret.
func (s *enrolScreen) start() {
	call(s.env, "enrol TOTP", s.deps.enrol, func(r wire.TOTPEnrolResponse, err error) {
		if err != nil {
			s.qrBox.Objects = nil
			s.qrBox.Refresh()
			s.showError(message(err))
			return
		}
		s.qr = canvas.NewImageFromResource(fyne.NewStaticResource("totp.png", r.QRPNG))
		s.qr.FillMode = canvas.ImageFillContain
		s.qr.ScaleMode = canvas.ImageScalePixels // a QR code must stay sharp
		s.qr.SetMinSize(fyne.NewSize(220, 220))
		s.qrBox.Objects = []fyne.CanvasObject{s.qr}
		s.qrBox.Refresh()
		s.secret.SetText(r.Secret)
		s.confirm.Enable()
		s.env.win.Canvas().Focus(s.code)
	})
}

func (s *enrolScreen) showError(text string) {
	s.errText.SetText(text)
	s.errText.Hidden = text == ""
	s.errText.Refresh()
}

func (s *enrolScreen) doConfirm() {
	if s.confirm.Disabled() {
		return
	}
	code := s.code.Text
	s.confirm.Disable()
	s.showError("")
	call(s.env, "confirm TOTP", func(ctx context.Context) (wire.User, error) {
		return s.deps.confirm(ctx, code)
	}, func(_ wire.User, err error) {
		s.confirm.Enable()
		if err != nil {
			s.showError(message(err))
			s.code.SetText("")
			return
		}
		s.deps.onDone()
	})
}
