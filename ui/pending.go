package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/client"
)

// syncLabel is the connection indicator's text: the connection, and what
// waits in the outbox.
func syncLabel(s app.SyncState) string {
	switch {
	case s.Conn == client.StateStopped:
		return connectionLabel(s.Conn)
	case s.Conn == client.StateOnline && s.Syncing:
		return lang.L("sync.syncing")
	case s.Conn == client.StateOnline && s.Queued > 0:
		return lang.XN("sync.online_queued", "Online · {{.Count}} waiting", s.Queued, map[string]any{"Count": s.Queued})
	case s.Conn != client.StateOnline && s.Queued > 0:
		return lang.XN("sync.offline_queued", "Offline · {{.Count}} queued", s.Queued, map[string]any{"Count": s.Queued})
	}
	return connectionLabel(s.Conn)
}

// commandText says in words what a queued command does.
func commandText(p app.PendingCommand) string {
	switch {
	case p.Transition != nil:
		return lang.L("pending.transition", map[string]any{"Status": statusLabel(p.Transition.To)})
	case p.RemarkCreate != nil:
		return lang.L("pending.remark_create", map[string]any{"Text": shortText(p.RemarkCreate.Text, 60)})
	case p.RemarkAnswer != nil:
		return lang.L("pending.remark_answer", map[string]any{"Text": shortText(p.RemarkAnswer.Text, 60)})
	case p.RemarkStatus != nil:
		return lang.L("pending.remark_status", map[string]any{"Status": remarkStatusLabel(p.RemarkStatus.Status)})
	case p.Annot != nil:
		return annotationCommandText(p.Annot)
	case p.Message != nil:
		body := strings.TrimSpace(p.Message.Body)
		if r := []rune(body); len(r) > 60 {
			body = string(r[:60]) + "…"
		}
		return lang.L("pending.message", map[string]any{"Text": body})
	}
	return p.Kind
}

// refusalText is a refused command with the server's reason.
func refusalText(p app.PendingCommand) string {
	reason := ""
	if p.Err != nil {
		reason = message(p.Err)
	}
	return lang.L("pending.refused", map[string]any{"Action": commandText(p), "Reason": reason})
}

// pendingBox lists an application's queued and refused commands on its
// card: queued ones may be cancelled, refused ones dismissed once read.
type pendingBox struct {
	env   *env
	be    backend
	appID int64
	box   *fyne.Container
	seen  string
}

func newPendingBox(e *env, be backend, appID int64) *pendingBox {
	p := &pendingBox{env: e, be: be, appID: appID, box: container.NewVBox()}
	p.refresh()
	return p
}

func (p *pendingBox) content() fyne.CanvasObject { return p.box }

func (p *pendingBox) refresh() {
	st := p.be.Store()
	pending := st.PendingFor(p.appID)
	var refused []app.PendingCommand
	for _, r := range st.Refused() {
		if r.AppID == p.appID {
			refused = append(refused, r)
		}
	}
	var fp strings.Builder
	for _, c := range pending {
		fmt.Fprintf(&fp, "p%d.%d;", c.ID, c.Attempts)
	}
	for _, c := range refused {
		fmt.Fprintf(&fp, "r%d;", c.ID)
	}
	if fp.String() == p.seen {
		return
	}
	p.seen = fp.String()
	var objs []fyne.CanvasObject
	for _, c := range pending {
		if c.Transition == nil {
			continue // queued messages show in their chat
		}
		id := c.ID
		l := widget.NewLabel(lang.L("pending.waiting", map[string]any{"Action": commandText(c)}))
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.WarningImportance
		cancel := widget.NewButtonWithIcon(lang.L("pending.cancel"), theme.CancelIcon(), func() { p.discard(id) })
		objs = append(objs, container.NewBorder(nil, nil, widget.NewIcon(theme.HistoryIcon()), cancel, l))
	}
	for _, c := range refused {
		id := c.ID
		l := widget.NewLabel(refusalText(c))
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.DangerImportance
		ok := widget.NewButton(lang.L("pending.dismiss"), func() { p.dismiss(id) })
		objs = append(objs, container.NewBorder(nil, nil, widget.NewIcon(theme.ErrorIcon()), ok, l))
	}
	p.box.Objects = objs
	p.box.Refresh()
}

func (p *pendingBox) discard(id uint64) {
	call(p.env, "discard queued command", func(context.Context) (bool, error) {
		return p.be.DiscardPending(id)
	}, func(gone bool, err error) {
		if err != nil {
			p.env.showError(err)
			return
		}
		if !gone {
			dialog.ShowInformation(lang.L("pending.title"), lang.L("pending.already_sent"), p.env.win)
		}
	})
}

func (p *pendingBox) dismiss(id uint64) {
	call(p.env, "dismiss refusal", func(context.Context) (struct{}, error) {
		return struct{}{}, p.be.DismissRefused(id)
	}, func(_ struct{}, err error) {
		if err != nil {
			p.env.showError(err)
		}
	})
}

// showRefusals lists every refused command, of all applications, with a
// button to dismiss each: the main window's way to them when no card is
// open.
func showRefusals(e *env, be backend, open func(appID int64)) {
	list := container.NewVBox()
	var d dialog.Dialog
	var fill func()
	fill = func() {
		list.Objects = nil
		for _, c := range be.Store().Refused() {
			id, appID := c.ID, c.AppID
			number := fmt.Sprint(appID)
			if a, ok := be.Store().Application(appID); ok {
				number = a.Number
			}
			l := widget.NewLabel(number + ": " + refusalText(c))
			l.Wrapping = fyne.TextWrapWord
			openB := widget.NewButton(lang.L("pending.open"), func() {
				d.Hide()
				open(appID)
			})
			ok := widget.NewButton(lang.L("pending.dismiss"), func() {
				call(e, "dismiss refusal", func(context.Context) (struct{}, error) {
					return struct{}{}, be.DismissRefused(id)
				}, func(_ struct{}, err error) {
					if err != nil {
						e.showError(err)
						return
					}
					fill()
				})
			})
			list.Add(container.NewBorder(nil, widget.NewSeparator(), nil, container.NewHBox(openB, ok), l))
		}
		if len(list.Objects) == 0 {
			list.Add(widget.NewLabel(lang.L("pending.none_refused")))
		}
		list.Refresh()
	}
	fill()
	scroll := container.NewVScroll(list)
	scroll.SetMinSize(fyne.NewSize(560, 260))
	d = dialog.NewCustom(lang.L("pending.refused_title"), lang.L("dialog.close"), scroll, e.win)
	d.Show()
}
