package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

// notificationsView is the user's feed, newest first; choosing an item
// about an application opens its card.
type notificationsView struct {
	env    *env
	be     backend
	openFn func(appID int64)

	items   []wire.Notification
	list    *widget.List
	empty   *widget.Label
	markAll *widget.Button
	root    fyne.CanvasObject
	unwatch func()
}

func newNotificationsView(e *env, be backend, open func(appID int64)) *notificationsView {
	v := &notificationsView{env: e, be: be, openFn: open}
	v.list = widget.NewList(
		func() int { return len(v.items) },
		func() fyne.CanvasObject {
			title := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
			title.Truncation = fyne.TextTruncateEllipsis
			body := widget.NewLabel("")
			body.Truncation = fyne.TextTruncateEllipsis
			when := widget.NewLabel("")
			when.SizeName = theme.SizeNameCaptionText
			return container.NewBorder(nil, nil, nil, when, container.NewVBox(title, body))
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < 0 || id >= len(v.items) {
				return
			}
			v.updateItem(v.items[id], o.(*fyne.Container))
		},
	)
	v.list.OnSelected = func(id widget.ListItemID) {
		v.list.UnselectAll()
		if id >= 0 && id < len(v.items) && v.items[id].AppID != 0 {
			v.openFn(v.items[id].AppID)
		}
	}
	v.empty = widget.NewLabel(lang.L("notes.empty"))
	v.markAll = widget.NewButtonWithIcon(lang.L("notes.mark_all"), theme.ConfirmIcon(), v.doMarkAll)
	title := widget.NewLabelWithStyle(lang.L("nav.notifications"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.root = container.NewBorder(container.NewHBox(title, v.markAll), nil, nil, nil, container.NewStack(v.list, container.NewCenter(v.empty)))
	v.refresh()
	v.unwatch = e.watch(be.Store(), v.refresh)
	return v
}

func (v *notificationsView) content() fyne.CanvasObject { return v.root }

func (v *notificationsView) close() { v.unwatch() }

func (v *notificationsView) updateItem(n wire.Notification, o *fyne.Container) {
	// Border puts the centre object first, then the trailing one.
	box := o.Objects[0].(*fyne.Container)
	title, body := box.Objects[0].(*widget.Label), box.Objects[1].(*widget.Label)
	when := o.Objects[1].(*widget.Label)
	title.Text = n.Title
	title.TextStyle.Bold = !n.Read
	title.Importance = widget.MediumImportance
	if !n.Read {
		title.Importance = widget.HighImportance
	}
	title.Refresh()
	body.SetText(n.Body)
	when.SetText(timeText(n.CreatedAt))
}

func (v *notificationsView) refresh() {
	v.items = v.be.Store().Notifications()
	v.empty.Hidden = len(v.items) > 0
	v.empty.Refresh()
	if v.be.Store().Unread() == 0 {
		v.markAll.Disable()
	} else {
		v.markAll.Enable()
	}
	v.list.Refresh()
}

func (v *notificationsView) doMarkAll() {
	v.markAll.Disable()
	call(v.env, "mark notifications read", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, v.be.MarkNotificationsRead(ctx)
	}, func(_ struct{}, err error) {
		v.env.showError(err)
		v.refresh()
	})
}
