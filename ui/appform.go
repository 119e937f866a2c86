package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

var (
	worksKinds = []wire.WorksKind{wire.WorksConstruction, wire.WorksReconstruction, wire.WorksOverhaul}
	financings = []wire.Financing{wire.FinancingBudget, wire.FinancingNonBudget, wire.FinancingMixed}
)

// choice is a select over a fixed list of codes with their labels, with a
// hint under it like a field.
type choice[T comparable] struct {
	sel   *widget.Select
	codes []T
	hint  *widget.Label
	box   *fyne.Container
}

func newChoice[T comparable](codes []T, label func(T) string) *choice[T] {
	c := &choice[T]{codes: codes}
	labels := make([]string, len(codes))
	for i, k := range codes {
		labels[i] = label(k)
	}
	c.sel = widget.NewSelect(labels, nil)
	c.sel.PlaceHolder = lang.L("form.choose")
	c.hint = widget.NewLabel("")
	c.hint.Wrapping = fyne.TextWrapWord
	c.hint.Importance = widget.DangerImportance
	c.hint.Hide()
	c.box = container.NewVBox(c.sel, c.hint)
	return c
}

func (c *choice[T]) value() *T {
	i := c.sel.SelectedIndex()
	if i < 0 {
		return nil
	}
	v := c.codes[i]
	return &v
}

func (c *choice[T]) set(v T) {
	for i, k := range c.codes {
		if k == v {
			c.sel.SetSelectedIndex(i)
			return
		}
	}
	c.sel.ClearSelected()
}

func (c *choice[T]) say(text string) {
	c.hint.SetText(text)
	c.hint.Hidden = text == ""
	c.hint.Refresh()
}

// appForm is the application's form (Сведения): the same fields when an
// applicant files a new application and when a draft or a returned one is
// corrected. It checks itself with the server's own rules
// (wire.ApplicationInputErrors) and shows every fault under its field.
type appForm struct {
	object, address, contact, phone, email *field
	works                                  *choice[wire.WorksKind]
	kind                                   *choice[wire.ExpertiseKind]
	financing                              *choice[wire.Financing]
	form                                   *widget.Form
	orig                                   wire.ApplicationInput // as loaded, to send only changes
}

func newAppForm() *appForm {
	f := &appForm{}
	plain := func() *field { return newField(widget.NewEntry(), nil) }
	f.object = newField(widget.NewMultiLineEntry(), nil)
	f.object.entry.Wrapping = fyne.TextWrapWord
	f.object.entry.SetMinRowsVisible(2)
	f.address = plain()
	f.contact, f.phone = plain(), plain()
	f.email = newField(widget.NewEntry(), func(s string) error { return wire.ValidEmail("applicant_email", s) })
	f.works = newChoice(worksKinds, worksLabel)
	f.kind = newChoice(expertiseKinds, expertiseLabel)
	f.financing = newChoice(financings, financingLabel)
	f.form = widget.NewForm(
		widget.NewFormItem(lang.L("card.object"), f.object.box),
		widget.NewFormItem(lang.L("card.address"), f.address.box),
		widget.NewFormItem(lang.L("card.works"), f.works.box),
		widget.NewFormItem(lang.L("card.expertise"), f.kind.box),
		widget.NewFormItem(lang.L("card.financing"), f.financing.box),
		widget.NewFormItem(lang.L("card.contact"), f.contact.box),
		widget.NewFormItem(lang.L("card.phone"), f.phone.box),
		widget.NewFormItem(lang.L("card.email"), f.email.box),
	)
	return f
}

// load fills the form from an application.
func (f *appForm) load(a wire.Application) {
	f.object.entry.SetText(a.ObjectName)
	f.address.entry.SetText(a.ObjectAddress)
	f.works.set(a.WorksKind)
	f.kind.set(a.ExpertiseKind)
	f.financing.set(a.Financing)
	f.contact.entry.SetText(a.ApplicantName)
	f.phone.entry.SetText(a.ApplicantPhone)
	f.email.entry.SetText(a.ApplicantEmail)
	f.orig = f.all()
	f.clearHints()
}

// all is every field as typed.
func (f *appForm) all() wire.ApplicationInput {
	s := func(fl *field) *string { v := strings.TrimSpace(fl.entry.Text); return &v }
	return wire.ApplicationInput{
		ObjectName: s(f.object), ObjectAddress: s(f.address),
		WorksKind: f.works.value(), ExpertiseKind: f.kind.value(), Financing: f.financing.value(),
		ApplicantName: s(f.contact), ApplicantPhone: s(f.phone), ApplicantEmail: s(f.email),
	}
}

// changes is what differs from what was loaded (nil fields are kept).
func (f *appForm) changes() (wire.ApplicationInput, bool) {
	now, was := f.all(), f.orig
	var out wire.ApplicationInput
	changed := false
	diffS := func(a, b *string) *string {
		if (a == nil) != (b == nil) || (a != nil && *a != *b) {
			changed = true
			return a
		}
		return nil
	}
	out.ObjectName = diffS(now.ObjectName, was.ObjectName)
	out.ObjectAddress = diffS(now.ObjectAddress, was.ObjectAddress)
	out.ApplicantName = diffS(now.ApplicantName, was.ApplicantName)
	out.ApplicantPhone = diffS(now.ApplicantPhone, was.ApplicantPhone)
	out.ApplicantEmail = diffS(now.ApplicantEmail, was.ApplicantEmail)
	if !samePtr(now.WorksKind, was.WorksKind) {
		out.WorksKind, changed = now.WorksKind, true
	}
	if !samePtr(now.ExpertiseKind, was.ExpertiseKind) {
		out.ExpertiseKind, changed = now.ExpertiseKind, true
	}
	if !samePtr(now.Financing, was.Financing) {
		out.Financing, changed = now.Financing, true
	}
	return out, changed
}

func samePtr[T comparable](a, b *T) bool {
	return (a == nil && b == nil) || (a != nil && b != nil && *a == *b)
}

func (f *appForm) clearHints() {
	for _, fl := range []*field{f.object, f.address, f.contact, f.phone, f.email} {
		fl.say("")
	}
	f.works.say("")
	f.kind.say("")
	f.financing.say("")
}

// show marks the faults under their fields; it reports whether any was
// for a field of this form (an error about something else is the
// caller's to show).
func (f *appForm) show(errs []*wire.Error) bool {
	f.clearHints()
	shown := false
	for _, e := range errs {
		text := message(e)
		switch e.Field {
		case "object_name":
			f.object.say(text)
		case "object_address":
			f.address.say(text)
		case "works_kind":
			f.works.say(text)
		case "expertise_kind":
			f.kind.say(text)
		case "financing":
			f.financing.say(text)
		case "applicant_name":
			f.contact.say(text)
		case "applicant_phone":
			f.phone.say(text)
		case "applicant_email":
			f.email.say(text)
		default:
			continue
		}
		shown = true
	}
	return shown
}

// askNewApplication shows the form for a new application and files it;
// open is called with the new draft.
func askNewApplication(e *env, be backend, open func(id int64)) *appFormDialog {
	f := newAppForm()
	d := &appFormDialog{form: f}
	scroll := container.NewVScroll(f.form)
	scroll.SetMinSize(fyne.NewSize(640, 480))
	d.dlg = dialog.NewCustomConfirm(lang.L("apps.new"), lang.L("apps.create"), lang.L("dialog.cancel"), scroll, func(ok bool) {
		if !ok {
			return
		}
		d.submit(e, be, open)
	}, e.win)
	d.dlg.Resize(fyne.NewSize(700, 600))
	d.dlg.Show()
	return d
}

// appFormDialog is the new-application dialog; it stays open with the
// faults marked until the form is right.
type appFormDialog struct {
	form *appForm
	dlg  *dialog.ConfirmDialog
}

func (d *appFormDialog) submit(e *env, be backend, open func(id int64)) {
	in := d.form.all()
	if errs := wire.ApplicationInputErrors(in, true); len(errs) > 0 {
		d.form.show(errs)
		d.dlg.Show() // the confirm button closed it: open it again with the hints
		return
	}
	call(e, "create application", func(ctx context.Context) (wire.Application, error) {
		return be.CreateApplication(ctx, in)
	}, func(a wire.Application, err error) {
		if err != nil {
			if we, ok := wire.AsError(err); ok && d.form.show([]*wire.Error{we}) {
				d.dlg.Show()
				return
			}
			e.showError(err)
			return
		}
		open(a.ID)
	})
}

// canEditForm reports whether the card offers the editable form.
func canEditForm(a wire.Application, me wire.User) bool { return app.CanEdit(a, me) }
