package ui

import (
	"context"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// prefDesktopNotify keeps whether this computer shows desktop
// notifications at all; it is the device's choice, not the account's.
const prefDesktopNotify = "notify.desktop"

// prefsBackend is what the preferences screen uses of app.Workspace. It is
// apart from backend so that screens that do not need it keep their fakes.
type prefsBackend interface {
	Preferences(context.Context) ([]wire.Preference, error)
	SetPreferences(context.Context, []wire.Preference) ([]wire.Preference, error)
}

var _ prefsBackend = (*app.Workspace)(nil)

// kindLabel names a notification kind in the interface language; Russian
// comes from app so the labels and the validation messages agree.
func kindLabel(k wire.NotificationKind) string {
	return lang.X("notify.kind."+string(k), app.KindName(k, false))
}

func emailModeLabel(m wire.EmailMode) string { return lang.X("email.mode."+string(m), string(m)) }

// newDesktopNotifier starts showing new notifications of the Store as
// desktop notifications, as long as the window lives. The kinds' names are
// looked up here, on the UI goroutine, because the notifier runs on the
// goroutine that changed the Store.
func newDesktopNotifier(e *env, be backend) *app.Notifier {
	titles := map[wire.NotificationKind]string{}
	for _, k := range wire.AllNotificationKinds {
		titles[k] = kindLabel(k)
	}
	cfg := app.NotifierConfig{
		Store: be.Store(),
		Log:   e.log,
		Spawn: e.spawn,
		Title: func(k wire.NotificationKind) string {
			if t, ok := titles[k]; ok {
				return t
			}
			return string(k)
		},
		Send: func(title, body string) {
			e.onMain(func() { e.app.SendNotification(fyne.NewNotification(title, body)) })
		},
	}
	if pb, ok := be.(prefsBackend); ok {
		cfg.Preferences = pb.Preferences
	}
	n := app.NewNotifier(cfg)
	n.SetEnabled(e.app.Preferences().BoolWithFallback(prefDesktopNotify, true))
	n.Start(e.ctx)
	return n
}

// prefRow is one kind's line of the table.
type prefRow struct {
	kind                  wire.NotificationKind
	inApp, desktop, email *widget.Check
	mode                  *widget.Select
}

// preferencesView lets the user choose, for every kind of notification,
// whether it shows in the app, on the desktop and by e-mail (at once or in
// a daily or weekly digest), and switch desktop notifications off on this
// computer.
type preferencesView struct {
	env      *env
	be       prefsBackend
	onPrefs  func([]wire.Preference)
	onDevice func(bool)

	device  *widget.Check
	rows    []prefRow
	save    *widget.Button
	retry   *widget.Button
	status  *widget.Label
	modeOpt []string // the mode select's options, in app.EmailModes order
	root    fyne.CanvasObject
}

// newPreferencesView builds the screen; load fills it. onPrefs receives
// what the server keeps, after each load and save (the notifier follows
// it); onDevice the device switch.
func newPreferencesView(e *env, be prefsBackend, onPrefs func([]wire.Preference), onDevice func(bool)) *preferencesView {
	v := &preferencesView{env: e, be: be, onPrefs: onPrefs, onDevice: onDevice}
	for _, m := range app.EmailModes() {
		v.modeOpt = append(v.modeOpt, emailModeLabel(m))
	}
	p := e.app.Preferences()
	v.device = widget.NewCheck(lang.L("prefs.device"), func(on bool) {
		p.SetBool(prefDesktopNotify, on)
		if v.onDevice != nil {
			v.onDevice(on)
		}
	})
	v.device.Checked = p.BoolWithFallback(prefDesktopNotify, true)
	note := widget.NewLabel(lang.L("prefs.device_note"))
	note.Wrapping = fyne.TextWrapWord
	note.SizeName = theme.SizeNameCaptionText

	head := func(key string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(lang.L(key), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	cells := []fyne.CanvasObject{head("prefs.col.kind"), head("prefs.col.in_app"), head("prefs.col.desktop"), head("prefs.col.email"), head("prefs.col.mode")}
	for _, k := range wire.AllNotificationKinds {
		r := prefRow{kind: k, inApp: widget.NewCheck("", nil), desktop: widget.NewCheck("", nil), email: widget.NewCheck("", nil),
			mode: widget.NewSelect(v.modeOpt, nil)}
		r.email.OnChanged = func(on bool) { v.modeFollowsEmail(r) }
		v.rows = append(v.rows, r)
		cells = append(cells, widget.NewLabel(kindLabel(k)), r.inApp, r.desktop, r.email, r.mode)
	}
	table := container.New(&gridLayout{cols: 5}, cells...)

	v.save = widget.NewButtonWithIcon(lang.L("prefs.save"), theme.DocumentSaveIcon(), v.doSave)
	v.save.Importance = widget.HighImportance
	v.retry = widget.NewButtonWithIcon(lang.L("prefs.retry"), theme.ViewRefreshIcon(), v.load)
	v.retry.Hide()
	v.status = widget.NewLabel("")
	title := widget.NewLabelWithStyle(lang.L("prefs.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	body := container.NewVBox(
		container.New(minWidth{520}, container.NewVBox(v.device, note)),
		widget.NewSeparator(),
		table,
		container.NewHBox(v.save, v.retry, v.status),
	)
	v.root = container.NewBorder(title, nil, nil, nil, container.NewVScroll(body))
	v.setEditable(false)
	return v
}

func (v *preferencesView) content() fyne.CanvasObject { return v.root }

// modeFollowsEmail offers the e-mail mode only while e-mail is on.
func (v *preferencesView) modeFollowsEmail(r prefRow) {
	if r.email.Checked && !r.email.Disabled() {
		r.mode.Enable()
	} else {
		r.mode.Disable()
	}
}

func (v *preferencesView) setEditable(on bool) {
	for _, r := range v.rows {
		for _, c := range []*widget.Check{r.inApp, r.desktop, r.email} {
			if on {
				c.Enable()
			} else {
				c.Disable()
			}
		}
		v.modeFollowsEmail(r)
	}
	if on {
		v.save.Enable()
	} else {
		v.save.Disable()
	}
}

// load reads the preferences from the server.
func (v *preferencesView) load() {
	v.setEditable(false)
	v.retry.Hide()
	v.status.SetText(lang.L("common.loading"))
	call(v.env, "read notification preferences", v.be.Preferences, func(ps []wire.Preference, err error) {
		if err != nil {
			v.status.SetText(lang.L("prefs.load_failed"))
			v.retry.Show()
			v.env.showError(err)
			return
		}
		v.status.SetText("")
		v.fill(ps)
		if v.onPrefs != nil {
			v.onPrefs(ps)
		}
	})
}

// fill shows ps; kinds the server did not send keep the controls as they
// are (the save then fails validation, which names the kind).
func (v *preferencesView) fill(ps []wire.Preference) {
	for _, r := range v.rows {
		i := slices.IndexFunc(ps, func(p wire.Preference) bool { return p.Kind == r.kind })
		if i < 0 {
			continue
		}
		p := ps[i]
		r.inApp.SetChecked(p.InApp)
		r.desktop.SetChecked(p.Desktop)
		r.email.SetChecked(p.Email)
		if j := slices.Index(app.EmailModes(), p.EmailMode); j >= 0 {
			r.mode.SetSelectedIndex(j)
		} else {
			r.mode.ClearSelected()
		}
	}
	v.setEditable(true)
}

// collect reads the table back.
func (v *preferencesView) collect() []wire.Preference {
	out := make([]wire.Preference, 0, len(v.rows))
	for _, r := range v.rows {
		p := wire.Preference{Kind: r.kind, InApp: r.inApp.Checked, Desktop: r.desktop.Checked, Email: r.email.Checked}
		if i := r.mode.SelectedIndex(); i >= 0 {
			p.EmailMode = app.EmailModes()[i]
		}
		out = append(out, p)
	}
	return out
}

func (v *preferencesView) doSave() {
	ps := v.collect()
	v.setEditable(false)
	v.status.SetText("")
	call(v.env, "save notification preferences", func(ctx context.Context) ([]wire.Preference, error) {
		return v.be.SetPreferences(ctx, ps)
	}, func(saved []wire.Preference, err error) {
		if err != nil {
			// The user's choices stay on screen to be corrected.
			v.setEditable(true)
			v.env.showError(err)
			return
		}
		v.fill(saved)
		v.status.SetText(lang.L("prefs.saved"))
		if v.onPrefs != nil {
			v.onPrefs(saved)
		}
	})
}

// gridLayout lays objects out in rows of cols cells: each column as wide as
// its widest cell, each row as tall as its tallest, so labels of any
// length line up with their checkboxes in both languages.
type gridLayout struct{ cols int }

func (g *gridLayout) sizes(objects []fyne.CanvasObject) (widths, heights []float32) {
	widths = make([]float32, g.cols)
	heights = make([]float32, (len(objects)+g.cols-1)/g.cols)
	for i, o := range objects {
		s := o.MinSize()
		widths[i%g.cols] = max(widths[i%g.cols], s.Width)
		heights[i/g.cols] = max(heights[i/g.cols], s.Height)
	}
	return widths, heights
}

func (g *gridLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	widths, heights := g.sizes(objects)
	pad := theme.Padding()
	var s fyne.Size
	for _, w := range widths {
		s.Width += w
	}
	for _, h := range heights {
		s.Height += h
	}
	s.Width += pad * float32(max(len(widths)-1, 0))
	s.Height += pad * float32(max(len(heights)-1, 0))
	return s
}

func (g *gridLayout) Layout(objects []fyne.CanvasObject, _ fyne.Size) {
	widths, heights := g.sizes(objects)
	pad := theme.Padding()
	y := float32(0)
	for row := range heights {
		x := float32(0)
		for col := range widths {
			i := row*g.cols + col
			if i >= len(objects) {
				break
			}
			objects[i].Move(fyne.NewPos(x, y))
			objects[i].Resize(fyne.NewSize(widths[col], heights[row]))
			x += widths[col] + pad
		}
		y += heights[row] + pad
	}
}

// showPrefs opens the preferences under the Уведомления section.
func (m *mainScreen) showPrefs() {
	pb, ok := m.be.(prefsBackend)
	if !ok {
		return
	}
	if m.prefs == nil {
		m.prefs = newPreferencesView(m.env, pb, m.notifier.UsePreferences, m.notifier.SetEnabled)
	}
	m.show(m.prefs.content(), m.navNotes)
	m.prefs.load()
}

// linkPreferences offers the preferences from the feed and from the
// settings, when the backend can store them.
func (m *mainScreen) linkPreferences() {
	if _, ok := m.be.(prefsBackend); !ok {
		return
	}
	m.notes.linkPreferences(m.showPrefs)
	m.settings.linkNotifications(m.showPrefs)
}
