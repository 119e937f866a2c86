package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

// Columns of the login history.
const (
	logColTime = iota
	logColIP
	logColDevice
	logColResult
	logColNewDevice
	logColCount
)

// accountView shows where the user is signed in, lets them end the other
// sessions, and lists recent logins so a stranger's shows up.
type accountView struct {
	password               *widget.Button
	pwDialog               *dialog.FormDialog // the last password dialog, for tests
	pwOld, pwNew, pwRepeat *field
	env                    *env
	be                     backend

	sessions []wire.Session
	logins   []wire.LoginEvent
	revoked  int // sessions ended elsewhere already accounted for

	sessList *widget.List
	logTable *widget.Table
	status   *widget.Label
	root     fyne.CanvasObject
	unwatch  func()
	// pd and mine are the personal data and the user's own journal rows
	// (personal_data.go, audit.go); nil when the backend has neither.
	pd   *personalDataView
	mine *auditView
}

func newAccountView(e *env, be backend) *accountView {
	v := &accountView{env: e, be: be, revoked: len(be.Store().RevokedSessions())}
	v.sessList = widget.NewList(
		func() int { return len(v.sessions) },
		func() fyne.CanvasObject {
			device := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			device.Truncation = fyne.TextTruncateEllipsis
			detail := widget.NewLabel("")
			detail.Truncation = fyne.TextTruncateEllipsis
			end := widget.NewButtonWithIcon(lang.L("account.end"), theme.CancelIcon(), nil)
			current := widget.NewLabel(lang.L("account.current"))
			current.Importance = widget.SuccessImportance
			return container.NewBorder(nil, nil, nil, container.NewStack(end, current), container.NewVBox(device, detail))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= 0 && id < len(v.sessions) {
				v.updateSession(v.sessions[id], o.(*fyne.Container))
			}
		},
	)
	v.logTable = widget.NewTable(
		func() (int, int) { return len(v.logins), logColCount },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) { v.updateLogin(id, o.(*widget.Label)) },
	)
	v.logTable.ShowHeaderRow = true
	v.logTable.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	v.logTable.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		o.(*widget.Label).SetText(loginColumnTitle(id.Col))
	}
	for i, w := range [logColCount]float32{160, 150, 260, 120, 180} {
		v.logTable.SetColumnWidth(i, w)
	}
	v.status = widget.NewLabel("")
	reload := widget.NewButtonWithIcon(lang.L("apps.reload"), theme.ViewRefreshIcon(), v.load)
	bold := fyne.TextStyle{Bold: true}
	sessions := container.NewBorder(widget.NewLabelWithStyle(lang.L("account.sessions"), fyne.TextAlignLeading, bold), nil, nil, nil, v.sessList)
	logins := container.NewBorder(widget.NewLabelWithStyle(lang.L("account.logins"), fyne.TextAlignLeading, bold), nil, nil, nil, v.logTable)
	var history fyne.CanvasObject = logins
	var top fyne.CanvasObject
	if ab, ok := be.(auditBackend); ok {
		v.pd, v.mine = newPersonalDataView(e, ab), newAuditView(e, ab, true)
		history = container.NewAppTabs(container.NewTabItem(lang.L("account.logins"), v.logTable),
			container.NewTabItem(lang.L("audit.mine"), v.mine.content()))
		top = container.NewVBox(v.pd.content(), widget.NewSeparator())
	}
	split := container.NewVSplit(sessions, history)
	split.Offset = 0.4
	v.password = widget.NewButtonWithIcon(lang.L("account.password"), theme.AccountIcon(), v.askPassword)
	v.root = container.NewBorder(container.NewVBox(container.NewHBox(reload, v.password, v.status), top), nil, nil, nil, split)
	v.unwatch = e.watch(be.Store(), v.storeChanged)
	return v
}

func (v *accountView) content() fyne.CanvasObject { return v.root }

// askPassword changes the password: the current one, the new one twice.
// A refusal is shown under the field it is about; the dialog stays.
func (v *accountView) askPassword() {
	old, nw, rep := newField(widget.NewPasswordEntry(), nil), newField(widget.NewPasswordEntry(), nil), newField(widget.NewPasswordEntry(), nil)
	byField := map[string]*field{"old": old, "new": nw, "password": nw, "repeat": rep}
	var d *dialog.FormDialog
	d = dialog.NewForm(lang.L("account.password"), lang.L("account.password_do"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("account.password_old"), old.box),
		widget.NewFormItem(lang.L("account.password_new"), nw.box),
		widget.NewFormItem(lang.L("account.password_repeat"), rep.box),
	}, func(ok bool) {
		if !ok {
			return
		}
		o, n, r := old.entry.Text, nw.entry.Text, rep.entry.Text
		call(v.env, "change password", func(ctx context.Context) (struct{}, error) {
			return struct{}{}, v.be.ChangePassword(ctx, o, n, r)
		}, func(_ struct{}, err error) {
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
			dialog.ShowInformation(lang.L("account.password"), lang.L("account.password_done"), v.env.win)
			v.load()
		})
	}, v.env.win)
	d.Resize(fyne.NewSize(520, 320))
	v.pwDialog, v.pwOld, v.pwNew, v.pwRepeat = d, old, nw, rep
	d.Show()
}

func (v *accountView) close() { v.unwatch() }

func loginColumnTitle(col int) string {
	switch col {
	case logColTime:
		return lang.L("account.col.time")
	case logColIP:
		return lang.L("account.col.ip")
	case logColDevice:
		return lang.L("account.col.device")
	case logColResult:
		return lang.L("account.col.result")
	case logColNewDevice:
		return lang.L("account.col.new_device")
	}
	return ""
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (v *accountView) updateSession(s wire.Session, o *fyne.Container) {
	// Border puts the centre object first, then the trailing one.
	box := o.Objects[0].(*fyne.Container)
	device, detail := box.Objects[0].(*widget.Label), box.Objects[1].(*widget.Label)
	right := o.Objects[1].(*fyne.Container)
	end, current := right.Objects[0].(*widget.Button), right.Objects[1].(*widget.Label)
	device.SetText(orDash(s.Device))
	detail.SetText(lang.L("account.session_detail", map[string]any{"IP": orDash(s.IP), "Seen": timeText(s.LastSeen)}))
	end.Hidden, current.Hidden = s.Current, !s.Current
	end.OnTapped = func() { v.confirmEnd(s) }
	end.Refresh()
	current.Refresh()
}

func (v *accountView) updateLogin(id widget.TableCellID, l *widget.Label) {
	if id.Row < 0 || id.Row >= len(v.logins) {
		return
	}
	e := v.logins[id.Row]
	text, imp := "", widget.MediumImportance
	switch id.Col {
	case logColTime:
		text = timeText(e.At)
	case logColIP:
		text = orDash(e.IP)
	case logColDevice:
		text = orDash(e.Device)
	case logColResult:
		text, imp = lang.L("account.login_ok"), widget.SuccessImportance
		if !e.Success {
			text, imp = lang.L("account.login_failed"), widget.DangerImportance
		}
	case logColNewDevice:
		if e.NewDev {
			text, imp = lang.L("account.new_device"), widget.WarningImportance
		}
	}
	l.Text, l.Importance = text, imp
	l.Refresh()
}

// storeChanged reloads when a session of this user was ended elsewhere,
// so the list does not show it any more.
func (v *accountView) storeChanged() {
	n := len(v.be.Store().RevokedSessions())
	if n == v.revoked {
		return
	}
	v.revoked = n
	v.load()
}

type accountData struct {
	sessions []wire.Session
	logins   []wire.LoginEvent
}

// load fetches the sessions and the login history (and the personal data
// and own journal rows).
func (v *accountView) load() {
	if v.pd != nil {
		v.pd.load()
		v.mine.load()
	}
	v.status.SetText(lang.L("common.loading"))
	call(v.env, "load account", func(ctx context.Context) (accountData, error) {
		ss, err := v.be.Sessions(ctx)
		if err != nil {
			return accountData{}, err
		}
		ls, err := v.be.Logins(ctx)
		return accountData{ss, ls}, err
	}, func(d accountData, err error) {
		v.status.SetText("")
		if err != nil {
			v.env.showError(err)
			return
		}
		v.sessions, v.logins = d.sessions, d.logins
		v.sessList.Refresh()
		v.logTable.Refresh()
	})
}

// confirmEnd asks before ending session s.
func (v *accountView) confirmEnd(s wire.Session) {
	msg := lang.L("account.end_confirm", map[string]any{"Device": orDash(s.Device), "IP": orDash(s.IP)})
	d := dialog.NewConfirm(lang.L("account.end"), msg, func(ok bool) {
		if ok {
			v.end(s.ID)
		}
	}, v.env.win)
	d.SetConfirmText(lang.L("account.end"))
	d.SetDismissText(lang.L("dialog.cancel"))
	d.Show()
}

// end ends session id and reloads the list.
func (v *accountView) end(id int64) {
	call(v.env, "end session", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, v.be.EndSession(ctx, id)
	}, func(_ struct{}, err error) {
		if err != nil {
			v.env.showError(err)
		}
		v.load()
	})
}
