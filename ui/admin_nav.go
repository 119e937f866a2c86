package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// adminNav is the main window's «Поддержка» (everyone) and
// «Администрирование» (administrators; managers for assigning)
// navigation; each is absent when the backend does not offer it.
type adminNav struct {
	support    *supportView
	navSupport *widget.Button
	admin      *adminView
	navAdmin   *widget.Button
}

// setupAdminNav makes the screens the backend and the role allow.
func (m *mainScreen) setupAdminNav() {
	if sb, ok := m.be.(supportBackend); ok {
		m.support = newSupportView(m.env, sb)
		m.navSupport = widget.NewButtonWithIcon(lang.L("nav.support"), theme.HelpIcon(), m.showSupport)
		m.navSupport.Alignment = widget.ButtonAlignLeading
	}
	if ab, ok := m.be.(adminBackend); ok && canAdminister(m.be.Me().Role) {
		m.admin = newAdminView(m.env, ab)
		m.navAdmin = widget.NewButtonWithIcon(lang.L("nav.admin"), theme.SettingsIcon(), m.showAdmin)
		m.navAdmin.Alignment = widget.ButtonAlignLeading
	}
}

// adminNavButtons are the buttons made, in their order.
func (m *mainScreen) adminNavButtons() []*widget.Button {
	var out []*widget.Button
	for _, b := range []*widget.Button{m.navSupport, m.navAdmin} {
		if b != nil {
			out = append(out, b)
		}
	}
	return out
}

// withAdminNav puts the buttons before the last object (the settings).
func (m *mainScreen) withAdminNav(objs []fyne.CanvasObject) []fyne.CanvasObject {
	extra := m.adminNavButtons()
	if len(extra) == 0 || len(objs) == 0 {
		return objs
	}
	last := len(objs) - 1
	out := append([]fyne.CanvasObject{}, objs[:last]...)
	for _, b := range extra {
		out = append(out, b)
	}
	return append(out, objs[last])
}

// showSupport shows the support requests, read afresh.
func (m *mainScreen) showSupport() {
	m.show(m.support.content(), m.navSupport)
	m.support.load()
}

// showAdmin shows the administration, its selected tab read afresh.
func (m *mainScreen) showAdmin() {
	m.show(m.admin.content(), m.navAdmin)
	m.admin.opened()
}

// closeAdminNav stops what those screens run in the background.
func (m *mainScreen) closeAdminNav() {
	if m.admin != nil {
		m.admin.close()
	}
}
