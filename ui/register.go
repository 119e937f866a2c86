package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// registerDeps is what the registration screen needs from outside.
type registerDeps struct {
	server   string
	register func(ctx context.Context, server string, r wire.RegisterRequest) (wire.User, error)
	onDone   func(server string, u wire.User)
	onCancel func()
}

// field is one entry of a form with the reason it is wrong shown under it.
// check (if any) runs as the user types.
type field struct {
	entry *widget.Entry
	hint  *widget.Label
	check func(string) error
	box   *fyne.Container
}

func newField(entry *widget.Entry, check func(string) error) *field {
	f := &field{entry: entry, check: check}
	f.hint = widget.NewLabel("")
	f.hint.Wrapping = fyne.TextWrapWord
	f.hint.Importance = widget.DangerImportance
	f.hint.Hide()
	f.box = container.NewVBox(entry, f.hint)
	if check != nil {
		entry.OnChanged = func(s string) { f.validate(s) }
	}
	return f
}

// validate shows what is wrong with s; an empty value is not judged while
// typing (it is "required", said on submit).
func (f *field) validate(s string) {
	s = strings.TrimSpace(s)
	if s == "" || f.check == nil {
		f.say("")
		return
	}
	if err := f.check(s); err != nil {
		f.say(message(err))
		return
	}
	f.say("")
}

func (f *field) say(text string) {
	f.hint.SetText(text)
	f.hint.Hidden = text == ""
	f.hint.Refresh()
}

// registerScreen registers an applicant together with the organisation.
type registerScreen struct {
	env  *env
	deps registerDeps

	server, login, password, password2, fullName, email, phone *field
	orgName, orgShort, inn, ogrn, kpp, address                 *field
	byName                                                     map[string]*field
	errText                                                    *widget.Label
	submit                                                     *widget.Button
}

func newRegisterScreen(e *env, d registerDeps) *registerScreen {
	s := &registerScreen{env: e, deps: d}
	plain := func() *field { return newField(widget.NewEntry(), nil) }
	s.server = plain()
	s.server.entry.SetText(d.server)
	s.login = plain()
	s.password = newField(widget.NewPasswordEntry(), nil)
	s.password2 = newField(widget.NewPasswordEntry(), nil)
	s.fullName = plain()
	s.email = plain()
	s.phone = plain()
	s.orgName = plain()
	s.orgShort = plain()
	s.inn = newField(widget.NewEntry(), wire.ValidateINN)
	s.inn.entry.SetPlaceHolder(lang.L("register.inn_placeholder"))
	s.ogrn = newField(widget.NewEntry(), wire.ValidateOGRN)
	s.ogrn.entry.SetPlaceHolder(lang.L("register.ogrn_placeholder"))
	s.kpp = newField(widget.NewEntry(), wire.ValidateKPP)
	s.address = plain()
	// Keys are the field names of server refusals, so a refusal is shown
	// under the entry it is about.
	s.byName = map[string]*field{
		"server": s.server, "login": s.login, "password": s.password, "full_name": s.fullName,
		"email": s.email, "phone": s.phone,
		"organisation.name": s.orgName, "organisation.short_name": s.orgShort,
		"organisation.inn": s.inn, "organisation.ogrn": s.ogrn, "organisation.kpp": s.kpp,
		"organisation.address": s.address,
	}
	s.errText = widget.NewLabel("")
	s.errText.Wrapping = fyne.TextWrapWord
	s.errText.Importance = widget.DangerImportance
	s.errText.Hide()
	s.submit = widget.NewButton(lang.L("register.submit"), s.doSubmit)
	s.submit.Importance = widget.HighImportance
	return s
}

func (s *registerScreen) content() fyne.CanvasObject {
	item := func(key string, f *field) *widget.FormItem { return widget.NewFormItem(lang.L(key), f.box) }
	person := widget.NewForm(
		item("login.server", s.server),
		item("register.login", s.login),
		item("register.password", s.password),
		item("register.password2", s.password2),
		item("register.full_name", s.fullName),
		item("register.email", s.email),
		item("register.phone", s.phone),
	)
	org := widget.NewForm(
		item("register.org_name", s.orgName),
		item("register.org_short", s.orgShort),
		item("register.inn", s.inn),
		item("register.ogrn", s.ogrn),
		item("register.kpp", s.kpp),
		item("register.address", s.address),
	)
	heading := func(key string) *widget.Label {
		return widget.NewLabelWithStyle(lang.L(key), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	back := widget.NewButton(lang.L("register.back"), s.deps.onCancel)
	body := container.NewVBox(
		heading("register.title"),
		person,
		heading("register.org_title"),
		org,
		s.errText,
		container.NewGridWithColumns(2, back, s.submit),
	)
	return container.NewVScroll(centred(560, container.NewPadded(body)))
}

func (s *registerScreen) request() wire.RegisterRequest {
	v := func(f *field) string { return strings.TrimSpace(f.entry.Text) }
	return wire.RegisterRequest{
		Login:    v(s.login),
		Password: s.password.entry.Text,
		FullName: v(s.fullName),
		Email:    v(s.email),
		Phone:    v(s.phone),
		Organisation: wire.OrganisationInput{
			Name: v(s.orgName), ShortName: v(s.orgShort),
			INN: v(s.inn), OGRN: v(s.ogrn), KPP: v(s.kpp), Address: v(s.address),
		},
	}
}

// refuse shows err under its field when it names one, else below the form.
func (s *registerScreen) refuse(err error) {
	if we, ok := wire.AsError(err); ok {
		if f, ok := s.byName[we.Field]; ok {
			f.say(message(err))
			s.showError(lang.L("register.fix_fields"))
			return
		}
	}
	s.showError(message(err))
}

func (s *registerScreen) showError(text string) {
	s.errText.SetText(text)
	s.errText.Hidden = text == ""
	s.errText.Refresh()
}

func (s *registerScreen) doSubmit() {
	for _, f := range s.byName {
		f.validate(f.entry.Text)
	}
	s.showError("")
	r := s.request()
	if s.password.entry.Text != s.password2.entry.Text {
		s.password2.say(lang.L("register.password_mismatch"))
		s.showError(lang.L("register.fix_fields"))
		return
	}
	s.password2.say("")
	if err := app.ValidateRegistration(r); err != nil {
		s.refuse(err)
		return
	}
	server := s.server.entry.Text
	s.submit.Disable()
	call(s.env, "register", func(ctx context.Context) (wire.User, error) {
		return s.deps.register(ctx, server, r)
	}, func(u wire.User, err error) {
		s.submit.Enable()
		if err != nil {
			s.refuse(err)
			return
		}
		norm, _ := app.NormalizeServerURL(server)
		s.deps.onDone(norm, u)
	})
}
