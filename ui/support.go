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

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// supportBackend is what the «Поддержка» screen uses of app.Workspace.
type supportBackend interface {
	Me() wire.User
	SupportRequests(ctx context.Context, mine bool, status wire.SupportStatus) ([]wire.SupportRequest, error)
	CreateSupportRequest(ctx context.Context, subject, body string) (wire.SupportRequest, error)
	SupportRequest(ctx context.Context, id int64) (wire.SupportRequest, error)
	ReplySupport(ctx context.Context, id int64, body string) (wire.SupportRequest, error)
	SetSupportStatus(ctx context.Context, id, seen int64, to wire.SupportStatus) (wire.SupportRequest, error)
}

var _ supportBackend = (*app.Workspace)(nil)

// supportView is the «Поддержка» screen: the user's requests (an
// administrator's: everyone's) on the left, the chosen one's thread on
// the right with a reply box and the status moves the user may make.
type supportView struct {
	env *env
	be  supportBackend

	create    *widget.Button
	statusSel *widget.Select
	statuses  []wire.SupportStatus // in statusSel's order; "" is every status
	mine      *widget.Check        // administrators: only their own
	list      *widget.List
	header    *widget.Label
	thread    *fyne.Container
	scroll    *container.Scroll
	reply     *widget.Entry
	send      *widget.Button
	moves     *fyne.Container
	info      *widget.Label
	root      fyne.CanvasObject

	rows []wire.SupportRequest
	cur  *wire.SupportRequest
	// creating is the open new-request form, for tests.
	creating *supportForm
}

type supportForm struct {
	dlg           *dialog.FormDialog
	subject, body *field
	submit        func()
}

func supportStatusLabel(s wire.SupportStatus) string { return lang.L("support.status." + string(s)) }

func supportStatusImportance(s wire.SupportStatus) widget.Importance {
	switch s {
	case wire.SupportNew:
		return widget.WarningImportance
	case wire.SupportAnswered:
		return widget.SuccessImportance
	case wire.SupportClosed:
		return widget.LowImportance
	}
	return widget.MediumImportance
}

func newSupportView(e *env, be supportBackend) *supportView {
	v := &supportView{env: e, be: be}
	admin := be.Me().Role == wire.RoleAdmin
	v.create = widget.NewButtonWithIcon(lang.L("support.new"), theme.ContentAddIcon(), v.openCreate)
	v.statuses = append([]wire.SupportStatus{""}, wire.AllSupportStatuses...)
	labels := make([]string, len(v.statuses))
	for i, s := range v.statuses {
		labels[i] = lang.L("support.any_status")
		if s != "" {
			labels[i] = supportStatusLabel(s)
		}
	}
	v.statusSel = widget.NewSelect(labels, nil)
	v.statusSel.SetSelectedIndex(0)
	v.statusSel.OnChanged = func(string) { v.load() }
	v.mine = widget.NewCheck(lang.L("support.only_mine"), func(bool) { v.load() })
	if !admin {
		v.mine.Hide()
	}
	v.list = widget.NewList(func() int { return len(v.rows) }, func() fyne.CanvasObject {
		title := widget.NewLabel("")
		title.Truncation = fyne.TextTruncateEllipsis
		st := widget.NewLabel("")
		return container.NewBorder(nil, nil, nil, st, title)
	}, func(i widget.ListItemID, o fyne.CanvasObject) {
		if i >= len(v.rows) {
			return
		}
		r := v.rows[i]
		c := o.(*fyne.Container)
		title, st := c.Objects[0].(*widget.Label), c.Objects[1].(*widget.Label)
		text := r.Number + " · " + r.Subject
		if admin && r.AuthorID != v.be.Me().ID {
			text += " · " + r.AuthorName
		}
		title.SetText(text)
		st.Importance = supportStatusImportance(r.Status)
		st.SetText(supportStatusLabel(r.Status))
	})
	v.list.OnSelected = func(i widget.ListItemID) {
		if i < len(v.rows) {
			v.open(v.rows[i].ID)
		}
	}
	v.header = widget.NewLabelWithStyle(lang.L("support.pick"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.header.Wrapping = fyne.TextWrapWord
	v.thread = container.NewVBox()
	v.scroll = container.NewVScroll(v.thread)
	v.reply = widget.NewMultiLineEntry()
	v.reply.SetPlaceHolder(lang.L("support.reply_hint"))
	v.reply.SetMinRowsVisible(3)
	v.send = widget.NewButtonWithIcon(lang.L("support.send"), theme.MailSendIcon(), v.sendReply)
	v.moves = container.NewHBox()
	v.info = widget.NewLabel("")
	v.info.Wrapping = fyne.TextWrapWord
	v.setThreadEnabled(false)
	left := container.NewBorder(container.NewVBox(container.NewHBox(v.create, v.mine), v.statusSel), nil, nil, nil, v.list)
	right := container.NewBorder(container.NewVBox(v.header, v.moves), container.NewVBox(v.reply, container.NewHBox(v.send, v.info)), nil, nil, v.scroll)
	split := container.NewHSplit(left, right)
	split.Offset = 0.38
	v.root = split
	return v
}

func (v *supportView) content() fyne.CanvasObject { return v.root }

func (v *supportView) setThreadEnabled(on bool) {
	if on {
		v.reply.Enable()
		v.send.Enable()
	} else {
		v.reply.Disable()
		v.send.Disable()
	}
}

// load reads the list for the filters shown.
func (v *supportView) load() {
	status := wire.SupportStatus("")
	if i := v.statusSel.SelectedIndex(); i > 0 {
		status = v.statuses[i]
	}
	mine := v.mine.Checked
	call(v.env, "list support requests", func(ctx context.Context) ([]wire.SupportRequest, error) {
		return v.be.SupportRequests(ctx, mine, status)
	}, func(rs []wire.SupportRequest, err error) {
		if err != nil {
			v.env.showError(err)
			return
		}
		v.rows = rs
		v.list.UnselectAll()
		v.list.Refresh()
		if len(rs) == 0 {
			v.info.SetText(lang.L("support.empty"))
		}
	})
}

// open reads a request's thread.
func (v *supportView) open(id int64) {
	call(v.env, "read support request", func(ctx context.Context) (wire.SupportRequest, error) {
		return v.be.SupportRequest(ctx, id)
	}, func(r wire.SupportRequest, err error) {
		if err != nil {
			v.env.showError(err)
			return
		}
		v.show(r)
	})
}

// show puts a request in the right pane and updates its row.
func (v *supportView) show(r wire.SupportRequest) {
	v.cur = &r
	for i := range v.rows {
		if v.rows[i].ID == r.ID {
			v.rows[i].Status, v.rows[i].Version = r.Status, r.Version
		}
	}
	v.list.Refresh()
	v.header.SetText(lang.L("support.header", map[string]any{"Number": r.Number, "Subject": r.Subject, "Status": supportStatusLabel(r.Status), "Author": r.AuthorName}))
	v.thread.Objects = nil
	for _, m := range r.Messages {
		who := widget.NewLabelWithStyle(m.AuthorName+" · "+timeText(m.CreatedAt), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		if m.Staff {
			who.SetText(lang.L("support.staff", map[string]any{"Name": m.AuthorName}) + " · " + timeText(m.CreatedAt))
			who.Importance = widget.HighImportance
		}
		body := widget.NewLabel(m.Body)
		body.Wrapping = fyne.TextWrapWord
		v.thread.Add(container.NewVBox(who, body, widget.NewSeparator()))
	}
	v.thread.Refresh()
	v.scroll.ScrollToBottom()
	v.moves.Objects = nil
	for _, to := range app.SupportMoves(r, v.be.Me().Role == wire.RoleAdmin) {
		to := to
		v.moves.Add(widget.NewButton(lang.L("support.move."+string(to)), func() { v.move(to) }))
	}
	v.moves.Refresh()
	v.setThreadEnabled(r.Status != wire.SupportClosed)
	v.info.SetText("")
	if r.Status == wire.SupportClosed {
		v.info.SetText(lang.L("support.closed_note"))
	}
}

func (v *supportView) sendReply() {
	if v.cur == nil {
		return
	}
	id, body := v.cur.ID, strings.TrimSpace(v.reply.Text)
	call(v.env, "reply support request", func(ctx context.Context) (wire.SupportRequest, error) {
		return v.be.ReplySupport(ctx, id, body)
	}, func(r wire.SupportRequest, err error) {
		if err != nil {
			v.info.SetText(message(err))
			return
		}
		v.reply.SetText("")
		v.show(r)
		v.info.SetText(lang.L("support.sent"))
	})
}

func (v *supportView) move(to wire.SupportStatus) {
	if v.cur == nil {
		return
	}
	id, seen := v.cur.ID, v.cur.Version
	call(v.env, "move support request", func(ctx context.Context) (wire.SupportRequest, error) {
		return v.be.SetSupportStatus(ctx, id, seen, to)
	}, func(r wire.SupportRequest, err error) {
		if err != nil {
			v.env.showError(err)
			return
		}
		v.show(r)
	})
}

// openCreate asks for a subject and the text of a new request.
func (v *supportView) openCreate() {
	f := &supportForm{subject: newField(widget.NewEntry(), nil), body: newField(widget.NewMultiLineEntry(), nil)}
	f.body.entry.SetMinRowsVisible(6)
	f.body.entry.Wrapping = fyne.TextWrapWord
	byField := map[string]*field{"subject": f.subject, "body": f.body}
	f.submit = func() {
		f.subject.say("")
		f.body.say("")
		subject, body := f.subject.entry.Text, f.body.entry.Text
		call(v.env, "open support request", func(ctx context.Context) (wire.SupportRequest, error) {
			return v.be.CreateSupportRequest(ctx, subject, body)
		}, func(r wire.SupportRequest, err error) {
			if err != nil {
				if we, ok := wire.AsError(err); ok && byField[we.Field] != nil {
					byField[we.Field].say(message(err))
				} else {
					f.body.say(message(err))
				}
				f.dlg.Show()
				return
			}
			f.dlg.Hide()
			v.creating = nil
			v.rows = append([]wire.SupportRequest{r}, v.rows...)
			v.list.Refresh()
			v.show(r)
			v.info.SetText(lang.L("support.created", map[string]any{"Number": r.Number}))
		})
	}
	f.dlg = dialog.NewForm(lang.L("support.new"), lang.L("support.send"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("support.subject"), f.subject.box),
		widget.NewFormItem(lang.L("support.text"), f.body.box),
	}, func(ok bool) {
		if ok {
			f.submit()
		}
	}, v.env.win)
	f.dlg.Resize(fyne.NewSize(600, 420))
	v.creating = f
	f.dlg.Show()
}
