package ui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

// personalDataView is the account screen's block of personal data: the
// СНИЛС and passport number, masked; «Показать» reveals them (the server
// journals it) until «Скрыть»; «Изменить» edits them with the same live
// checks as the ИНН at registration.
type personalDataView struct {
	env *env
	be  auditBackend

	pd                   wire.PersonalData
	snils, passport      *widget.Label
	edit, reveal         *widget.Button
	dlg                  *dialog.FormDialog // the last edit dialog, for tests
	snilsF, passportF    *field
	clearSNILS, clearPas *widget.Check
	root                 fyne.CanvasObject
}

func newPersonalDataView(e *env, be auditBackend) *personalDataView {
	v := &personalDataView{env: e, be: be}
	v.snils, v.passport = widget.NewLabel(""), widget.NewLabel("")
	v.edit = widget.NewButtonWithIcon(lang.L("pd.edit"), theme.DocumentCreateIcon(), v.askEdit)
	v.reveal = widget.NewButtonWithIcon(lang.L("pd.reveal"), theme.VisibilityIcon(), v.toggleReveal)
	v.show()
	form := widget.NewForm(widget.NewFormItem(lang.L("pd.snils"), v.snils), widget.NewFormItem(lang.L("pd.passport"), v.passport))
	title := widget.NewLabelWithStyle(lang.L("pd.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	note := widget.NewLabel(lang.L("pd.note"))
	note.Importance = widget.LowImportance
	note.Wrapping = fyne.TextWrapWord
	v.root = container.NewVBox(container.NewHBox(title, v.edit, v.reveal), form, note)
	return v
}

func (v *personalDataView) content() fyne.CanvasObject { return v.root }

// show puts the values held on screen.
func (v *personalDataView) show() {
	none := lang.L("pd.none")
	v.snils.SetText(orText(v.pd.SNILS, none))
	v.passport.SetText(orText(v.pd.Passport, none))
	if v.pd.Revealed {
		v.reveal.SetText(lang.L("pd.hide"))
		v.reveal.SetIcon(theme.VisibilityOffIcon())
	} else {
		v.reveal.SetText(lang.L("pd.reveal"))
		v.reveal.SetIcon(theme.VisibilityIcon())
	}
	if v.pd.SNILS == "" && v.pd.Passport == "" && !v.pd.Revealed {
		v.reveal.Disable()
	} else {
		v.reveal.Enable()
	}
}

func orText(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// load reads the masked values.
func (v *personalDataView) load() {
	call(v.env, "load personal data", func(ctx context.Context) (wire.PersonalData, error) {
		return v.be.PersonalData(ctx)
	}, func(pd wire.PersonalData, err error) {
		if err != nil {
			v.env.showError(err)
			return
		}
		v.pd = pd
		v.show()
	})
}

// toggleReveal asks the server for the full values, or masks them again
// on screen without a call.
func (v *personalDataView) toggleReveal() {
	if v.pd.Revealed {
		v.pd.SNILS, v.pd.Passport, v.pd.Revealed = wire.MaskSNILS(digits(v.pd.SNILS)), wire.MaskPassport(digits(v.pd.Passport)), false
		v.show()
		return
	}
	call(v.env, "reveal personal data", func(ctx context.Context) (wire.PersonalData, error) {
		return v.be.RevealPersonalData(ctx)
	}, func(pd wire.PersonalData, err error) {
		if err != nil {
			v.env.showError(err)
			return
		}
		v.pd = pd
		v.show()
	})
}

// digits keeps the digits of a formatted value.
func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

// askEdit edits the values: an empty field keeps what is stored, «удалить»
// clears it. Each field is checked as it is typed; a refusal from the
// server is shown under its field and the dialog stays.
func (v *personalDataView) askEdit() {
	snils := widget.NewEntry()
	snils.SetPlaceHolder("123-456-789 01")
	passport := widget.NewEntry()
	passport.SetPlaceHolder("45 06 123456")
	v.snilsF, v.passportF = newField(snils, wire.ValidateSNILS), newField(passport, wire.ValidatePassport)
	v.clearSNILS = widget.NewCheck(lang.L("pd.clear"), nil)
	v.clearPas = widget.NewCheck(lang.L("pd.clear"), nil)
	if v.pd.SNILS == "" {
		v.clearSNILS.Hide()
	}
	if v.pd.Passport == "" {
		v.clearPas.Hide()
	}
	byField := map[string]*field{"snils": v.snilsF, "passport": v.passportF}
	hint := widget.NewLabel(lang.L("pd.edit_hint"))
	hint.Wrapping = fyne.TextWrapWord
	hint.Importance = widget.LowImportance
	var d *dialog.FormDialog
	d = dialog.NewForm(lang.L("pd.title"), lang.L("pd.save"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("pd.snils"), container.NewVBox(v.snilsF.box, v.clearSNILS)),
		widget.NewFormItem(lang.L("pd.passport"), container.NewVBox(v.passportF.box, v.clearPas)),
		widget.NewFormItem("", hint),
	}, func(ok bool) {
		if !ok {
			return
		}
		r := editRequest(snils.Text, v.clearSNILS.Checked, passport.Text, v.clearPas.Checked)
		call(v.env, "save personal data", func(ctx context.Context) (wire.PersonalData, error) {
			return v.be.SetPersonalData(ctx, r)
		}, func(pd wire.PersonalData, err error) {
			for _, f := range byField {
				f.say("")
			}
			if err != nil {
				if we, ok := wire.AsError(err); ok && byField[we.Field] != nil {
					byField[we.Field].say(message(err))
					d.Show()
					return
				}
				v.env.showError(err)
				return
			}
			v.pd = pd
			v.show()
		})
	}, v.env.win)
	d.Resize(fyne.NewSize(520, 340))
	v.dlg = d
	d.Show()
}

// editRequest turns the dialog into a request: a typed value sets it,
// «удалить» clears it, an empty field leaves it alone.
func editRequest(snils string, clearSNILS bool, passport string, clearPassport bool) wire.SetPersonalDataRequest {
	var r wire.SetPersonalDataRequest
	pick := func(text string, clear bool) *string {
		text = strings.TrimSpace(text)
		switch {
		case text != "":
			return &text
		case clear:
			empty := ""
			return &empty
		}
		return nil
	}
	r.SNILS, r.Passport = pick(snils, clearSNILS), pick(passport, clearPassport)
	return r
}
