package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
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
	prefs   *widget.Button // opens the preferences; hidden until linked
	unread  *widget.Label
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
			// A dot marks an unread item at a glance, besides its bold title.
			dot := canvas.NewCircle(theme.Color(theme.ColorNamePrimary))
			return container.NewBorder(nil, nil, container.NewCenter(container.NewGridWrap(fyne.NewSquareSize(10), dot)), when,
				container.NewVBox(title, body))
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
	v.prefs = widget.NewButtonWithIcon(lang.L("prefs.open"), theme.SettingsIcon(), nil)
	v.prefs.Hide()
	title := widget.NewLabelWithStyle(lang.L("nav.notifications"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.unread = widget.NewLabel("")
	v.unread.Importance = widget.HighImportance
	v.root = container.NewBorder(container.NewHBox(title, v.unread, v.markAll, layout.NewSpacer(), v.prefs), nil, nil, nil,
		container.NewStack(v.list, container.NewCenter(v.empty)))
	v.refresh()
	v.unwatch = e.watch(be.Store(), v.refresh)
	return v
}

func (v *notificationsView) content() fyne.CanvasObject { return v.root }

func (v *notificationsView) close() { v.unwatch() }

// linkPreferences shows the button that opens the preferences.
func (v *notificationsView) linkPreferences(open func()) {
	v.prefs.OnTapped = open
	v.prefs.Show()
}

func (v *notificationsView) updateItem(n wire.Notification, o *fyne.Container) {
	// Border puts the centre object first, then the leading and the
	// trailing ones.
	box := o.Objects[0].(*fyne.Container)
	title, body := box.Objects[0].(*widget.Label), box.Objects[1].(*widget.Label)
	dot := o.Objects[1].(*fyne.Container).Objects[0].(*fyne.Container).Objects[0].(*canvas.Circle)
	when := o.Objects[2].(*widget.Label)
	dot.Hidden = n.Read
	dot.FillColor = theme.Color(theme.ColorNamePrimary)
	dot.Refresh()
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
	if n := v.be.Store().Unread(); n == 0 {
		v.unread.Hide()
		v.markAll.Disable()
	} else {
		v.unread.SetText(lang.L("notes.unread", map[string]any{"Count": n}))
		v.unread.Show()
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
