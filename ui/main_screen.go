package ui

import (
	"context"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/pdfannot"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// backend is what the main window uses of app.Workspace. It is an
// interface only so that screen tests can stand in for the server.
type backend interface {
	Store() *app.Store
	Me() wire.User
	DaysLeft(wire.Application) (int, bool)
	LoadApplications(context.Context) error
	OpenApplication(ctx context.Context, id int64) (app.Card, error)
	Transitions(ctx context.Context, id int64) ([]wire.Status, error)
	Transition(ctx context.Context, id, seen int64, to wire.Status, comment string) (wire.Application, error)
	PostMessage(ctx context.Context, id int64, ch wire.Channel, body string) (wire.Message, error)
	PostMessageWithFiles(ctx context.Context, id int64, ch wire.Channel, body string, paths []string, progress func(done, total int64)) (wire.Message, error)
	DownloadAttachment(ctx context.Context, m wire.Message, f wire.Attachment, dst string) error
	MarkNotificationsRead(context.Context) error
	Sessions(context.Context) ([]wire.Session, error)
	EndSession(ctx context.Context, id int64) error
	Logins(context.Context) ([]wire.LoginEvent, error)
	ChangePassword(ctx context.Context, old, new, repeat string) error
	SetMailLanguage(ctx context.Context, lang string) error
	CreateApplication(ctx context.Context, in wire.ApplicationInput) (wire.Application, error)
	UpdateApplication(ctx context.Context, id, seen int64, in wire.ApplicationInput) (wire.Application, error)
	DeleteDraft(ctx context.Context, id, seen int64) error
	Upload(ctx context.Context, r app.UploadRequest, progress func(done, total int64)) (wire.Upload, error)
	Download(ctx context.Context, v wire.DocumentVersion, dst string) error
	ExportAnnotated(ctx context.Context, v wire.DocumentVersion, dst string, opt pdfannot.Options) (int, error)
	OpenVersion(ctx context.Context, r pdfrender.Renderer, v wire.DocumentVersion) (*app.Viewer, error)
	CreateRemark(ctx context.Context, appID int64, r wire.CreateRemarkRequest) (wire.Remark, error)
	AnswerRemark(ctx context.Context, rm wire.Remark, text string, versionIDs []int64) (wire.Remark, error)
	SetRemarkStatus(ctx context.Context, rm wire.Remark, to wire.RemarkStatus, comment string) (wire.Remark, error)
	DownloadNoticeLetter(ctx context.Context, n wire.Notice, dst string) error
	PublishRemarks(ctx context.Context, a wire.Application, ids []int64, comment string) (wire.Notice, error)
	LoadConclusion(ctx context.Context, appID int64) (wire.Conclusion, error)
	SaveConclusion(ctx context.Context, appID int64, r wire.SaveConclusionRequest) (wire.Conclusion, error)
	ProposeConclusion(ctx context.Context, appID int64, r wire.SaveConclusionRequest) (wire.Application, error)
	DownloadConclusion(ctx context.Context, c wire.Conclusion, kind, dst string) error
	AddConclusionSignature(ctx context.Context, appID int64, path string) (wire.Conclusion, error)
	ContractFor(ctx context.Context, appID int64) (wire.PaymentInfo, error)
	SetCost(ctx context.Context, p wire.PaymentInfo, roubles string) (wire.PaymentInfo, error)
	AcceptContract(ctx context.Context, a wire.Application, p wire.PaymentInfo) (wire.PaymentInfo, error)
	RecordPayment(ctx context.Context, appID int64, roubles string, paidOn wire.Date, order string) (wire.PaymentInfo, error)
	DownloadContractDocument(ctx context.Context, d wire.ContractDocument, dst string) error
	MarkChatRead(ctx context.Context, appID int64, ch wire.Channel) error
	Typing(appID int64, ch wire.Channel)
	DiscardPending(id uint64) (bool, error)
	DismissRefused(id uint64) error
	// Annotations in the viewer (viewer_annot.go).
	LoadAnnotations(ctx context.Context, versionID int64) error
	CreateAnnotation(ctx context.Context, appID, versionID int64, r wire.CreateAnnotationRequest) (wire.Annotation, error)
	UpdateAnnotation(ctx context.Context, it app.AnnotationItem, ch app.AnnotationChange) (wire.Annotation, error)
	DeleteAnnotation(ctx context.Context, it app.AnnotationItem) error
	SetAnnotationStatus(ctx context.Context, it app.AnnotationItem, st wire.AnnotationStatus) (wire.Annotation, error)
	ReplyAnnotation(ctx context.Context, it app.AnnotationItem, text string) (wire.AnnotationReply, error)
	SendPresence(appID, versionID int64, page int)
}

var _ backend = (*app.Workspace)(nil)

// mainScreen is the signed-in window: navigation on the left, the chosen
// section in the middle, and the connection state at the top.
type mainScreen struct {
	env *env
	be  backend

	apps     *applicationsView
	notes    *notificationsView
	settings *settingsView
	account  *accountView
	prefs    *preferencesView // made when first opened
	notifier *app.Notifier    // desktop notifications

	// journal is the audit journal (audit.go); nil, and no button, when
	// the backend has none.
	journal    *auditView
	navJournal *widget.Button
	// reports is the «Отчёты» screen (reports.go); nil, and no button,
	// for applicants and backends without reports.
	reports    *reportsView
	navReports *widget.Button

	// adminNav holds «Поддержка» and «Администрирование» (admin_nav.go).
	adminNav

	navApps, navNotes, navAccount, navSettings *widget.Button
	body                                       *fyne.Container
	connDot                                    *canvas.Circle
	connText                                   *widget.Label
	refused                                    *widget.Button
	userText                                   *widget.Label
	unwatch                                    func()
	shortcuts                                  []fyne.Shortcut
	onLogout                                   func()
}

func newMainScreen(e *env, be backend, onLogout func()) *mainScreen {
	m := &mainScreen{env: e, be: be, onLogout: onLogout}
	m.apps = newApplicationsView(e, be)
	m.notes = newNotificationsView(e, be, func(id int64) {
		m.showApps()
		m.apps.open(id)
	})
	m.navApps = widget.NewButtonWithIcon(lang.L("nav.applications"), theme.DocumentIcon(), m.showApps)
	m.navApps.Alignment = widget.ButtonAlignLeading
	m.navNotes = widget.NewButtonWithIcon(lang.L("nav.notifications"), theme.MailComposeIcon(), m.showNotes)
	m.navNotes.Alignment = widget.ButtonAlignLeading
	m.account = newAccountView(e, be)
	m.navAccount = widget.NewButtonWithIcon(lang.L("nav.account"), theme.AccountIcon(), m.showAccount)
	m.navAccount.Alignment = widget.ButtonAlignLeading
	if ab, ok := be.(auditBackend); ok {
		m.journal = newAuditView(e, ab, false)
		m.navJournal = widget.NewButtonWithIcon(lang.L("nav.journal"), theme.ListIcon(), m.showJournal)
		m.navJournal.Alignment = widget.ButtonAlignLeading
	}
	if rb, ok := be.(reportsBackend); ok && app.CanSeeReports(be.Me().Role) {
		m.reports = newReportsView(e, rb)
		m.navReports = widget.NewButtonWithIcon(lang.L("nav.reports"), theme.GridIcon(), m.showReports)
		m.navReports.Alignment = widget.ButtonAlignLeading
	}
	m.setupAdminNav()
	m.settings = newSettingsView(e)
	// E-mail follows the interface language: sent once at sign-in (a change
	// applies at the next start) and again when the user picks another.
	m.settings.onLanguage = func(code string) { sendMailLanguage(e, be, code) }
	sendMailLanguage(e, be, lang.L("lang.code"))
	m.navSettings = widget.NewButtonWithIcon(lang.L("nav.settings"), theme.SettingsIcon(), m.showSettings)
	m.navSettings.Alignment = widget.ButtonAlignLeading
	m.body = container.NewStack()
	m.connDot = canvas.NewCircle(color.Transparent)
	m.connText = widget.NewLabel("")
	m.refused = widget.NewButtonWithIcon("", theme.WarningIcon(), func() {
		showRefusals(e, be, func(id int64) {
			m.showApps()
			m.apps.open(id)
		})
	})
	m.refused.Importance = widget.DangerImportance
	m.refused.Hide()
	m.userText = widget.NewLabel("")
	m.notifier = newDesktopNotifier(e, be)
	m.linkPreferences()
	m.showApps()
	m.refresh()
	m.unwatch = e.watch(be.Store(), m.refresh)
	m.addShortcuts()
	return m
}

func (m *mainScreen) content() fyne.CanvasObject {
	dot := container.NewGridWrap(fyne.NewSize(12, 12), m.connDot)
	logout := widget.NewButtonWithIcon(lang.L("main.logout"), theme.LogoutIcon(), m.onLogout)
	top := container.NewHBox(
		widget.NewLabelWithStyle(lang.L("app.title"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		layout.NewSpacer(),
		container.NewCenter(dot), m.connText, m.refused,
		widget.NewSeparator(),
		m.userText, logout,
	)
	nav := container.NewVBox(m.navApps, m.navNotes, m.navAccount, m.navSettings)
	if m.navJournal != nil {
		nav.Objects = []fyne.CanvasObject{m.navApps, m.navNotes, m.navAccount, m.navJournal, m.navSettings}
	}
	if m.navReports != nil { // before the settings, which stay last
		last := len(nav.Objects) - 1
		nav.Objects = append(append(nav.Objects[:last:last], m.navReports), nav.Objects[last])
	}
	nav.Objects = m.withAdminNav(nav.Objects)
	return container.NewBorder(
		container.NewVBox(top, widget.NewSeparator()), nil,
		container.NewHBox(nav, widget.NewSeparator()), nil,
		m.body,
	)
}

func (m *mainScreen) close() {
	if m.unwatch != nil {
		m.unwatch()
	}
	m.apps.close()
	m.notes.close()
	m.account.close()
	m.closeAdminNav()
	m.notifier.Stop()
	for _, s := range m.shortcuts {
		m.env.win.Canvas().RemoveShortcut(s)
	}
}

// addShortcuts gives the main window the desktop's usual keys: Ctrl+F
// finds in the list, F5 reloads it, Ctrl+N files a new application
// (applicants).
func (m *mainScreen) addShortcuts() {
	c := m.env.win.Canvas()
	add := func(s fyne.Shortcut, f func()) {
		c.AddShortcut(s, func(fyne.Shortcut) { f() })
		m.shortcuts = append(m.shortcuts, s)
	}
	add(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}, func() {
		m.showApps()
		c.Focus(m.apps.search)
	})
	add(&desktop.CustomShortcut{KeyName: fyne.KeyF5}, func() {
		m.showApps()
		m.apps.reload()
	})
	if m.be.Me().Role == wire.RoleApplicant {
		add(&desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}, func() {
			m.showApps()
			m.apps.newApp.OnTapped()
		})
	}
}

func (m *mainScreen) showApps()     { m.show(m.apps.content(), m.navApps) }
func (m *mainScreen) showNotes()    { m.show(m.notes.content(), m.navNotes) }
func (m *mainScreen) showSettings() { m.show(m.settings.content(), m.navSettings) }

// showReports shows the reports screen; the report itself is read when
// asked for.
func (m *mainScreen) showReports() {
	m.show(m.reports.content(), m.navReports)
	m.reports.opened()
}

// showJournal shows the audit journal, read afresh each time.
func (m *mainScreen) showJournal() {
	m.show(m.journal.content(), m.navJournal)
	m.journal.load()
}

// showAccount shows the sessions, read afresh each time.
func (m *mainScreen) showAccount() {
	m.show(m.account.content(), m.navAccount)
	m.account.load()
}

// show puts a section in the body and marks its navigation button.
func (m *mainScreen) show(o fyne.CanvasObject, nav *widget.Button) {
	m.body.Objects = []fyne.CanvasObject{o}
	m.body.Refresh()
	for _, b := range append([]*widget.Button{m.navApps, m.navNotes, m.navAccount, m.navJournal, m.navReports, m.navSettings}, m.adminNavButtons()...) {
		if b == nil {
			continue
		}
		b.Importance = widget.LowImportance
		if b == nav {
			b.Importance = widget.HighImportance
		}
		b.Refresh()
	}
}

// refresh shows the connection state, the user and the unread count.
func (m *mainScreen) refresh() {
	st := m.be.Store()
	sy := st.Sync()
	m.connText.SetText(syncLabel(sy))
	m.connDot.FillColor = connectionColour(sy.Conn)
	if sy.Conn == client.StateOnline && (sy.Syncing || sy.Queued > 0) {
		m.connDot.FillColor = connectionColour(client.StateConnecting)
	}
	m.connDot.Refresh()
	if sy.Refused > 0 {
		m.refused.SetText(lang.L("pending.refused_count", map[string]any{"Count": sy.Refused}))
		m.refused.Show()
	} else {
		m.refused.Hide()
	}
	me := m.be.Me()
	m.userText.SetText(lang.L("main.user", map[string]any{"Name": me.FullName, "Role": roleLabel(me.Role)}))
	text := lang.L("nav.notifications")
	if n := st.Unread(); n > 0 {
		text = lang.L("nav.notifications_unread", map[string]any{"Count": n})
	}
	m.navNotes.SetText(text)
}

func connectionColour(s client.State) color.Color {
	th := fyne.CurrentApp().Settings().Theme()
	v := fyne.CurrentApp().Settings().ThemeVariant()
	switch s {
	case client.StateOnline:
		return th.Color(theme.ColorNameSuccess, v)
	case client.StateConnecting:
		return th.Color(theme.ColorNameWarning, v)
	case client.StateOffline:
		return th.Color(theme.ColorNameError, v)
	}
	return th.Color(theme.ColorNameDisabled, v)
}

// sendMailLanguage tells the server the language for e-mail; a failure is
// only logged (the next start sends it again).
func sendMailLanguage(e *env, be backend, code string) {
	if code != "ru" && code != "en" {
		return
	}
	call(e, "set e-mail language", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, be.SetMailLanguage(ctx, code)
	}, func(struct{}, error) {})
}
