package ui

import (
	"context"
	"errors"
	"fmt"
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

// applicationCard shows one application: its details, history and chat,
// and a button for each move the server says the user may make now.
type applicationCard struct {
	env *env
	be  backend
	id  int64

	// app is the application as shown; its Version is the one a
	// transition names, so a change made meanwhile by someone else comes
	// back as a conflict instead of being overwritten.
	app    wire.Application
	loaded bool

	title    *widget.Label
	status   *widget.Label
	actions  *fyne.Container
	buttons  map[wire.Status]*widget.Button
	errText  *widget.Label
	details  *fyne.Container
	history  *fyne.Container
	histLen  int
	docs     *fyne.Container // the list of files, inside files
	files    *documentsView
	remarks  *remarksView
	concl    *conclusionView // appends its own tab when the user may read it
	payment  *paymentView
	docsSeen string // fingerprint of the files shown, to redraw only on change
	tabs     *container.AppTabs
	chats    map[wire.Channel]*chatPane
	pending  *pendingBox
	form     *appForm // the editable form, when the user may edit
	formFor  int64    // version the form was loaded from
	saveBtn  *widget.Button
	delBtn   *widget.Button
	offline  *widget.Label
	root     fyne.CanvasObject
	unwatch  func()
	busy     bool
	closed   bool
	lastAsk  dialog.Dialog // the comment or confirmation dialog last shown
	askEntry *widget.Entry // the comment entry of lastAsk, if it has one
}

func newApplicationCard(e *env, be backend, id int64) *applicationCard {
	c := &applicationCard{env: e, be: be, id: id, buttons: map[wire.Status]*widget.Button{}, chats: map[wire.Channel]*chatPane{}}
	c.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.title.Wrapping = fyne.TextWrapWord
	c.status = widget.NewLabel("")
	c.actions = container.NewHBox()
	c.errText = widget.NewLabel("")
	c.errText.Wrapping = fyne.TextWrapWord
	c.errText.Importance = widget.DangerImportance
	c.errText.Hide()
	c.details = container.NewStack()
	c.history = container.NewVBox()
	c.files = newDocumentsView(e, be, id)
	c.docs = c.files.list
	c.remarks = newRemarksView(e, be, id)
	c.tabs = container.NewAppTabs(
		container.NewTabItem(lang.L("card.tab.details"), container.NewVScroll(c.details)),
		documentsTab(c.files),
		container.NewTabItem(lang.L("card.tab.remarks"), c.remarks.content()),
		container.NewTabItem(lang.L("card.tab.history"), container.NewVScroll(c.history)),
	)
	c.payment = newPaymentView(e, be, id, c.tabs)
	c.concl = newConclusionView(e, be, id, c.tabs)
	if a, ok := be.Store().Application(id); ok {
		c.app = a
		c.renderHeader()
	} else {
		c.title.SetText(lang.L("common.loading"))
	}
	c.pending = newPendingBox(e, be, id)
	c.offline = widget.NewLabel(lang.L("card.offline"))
	c.offline.Wrapping = fyne.TextWrapWord
	c.offline.Importance = widget.WarningImportance
	c.offline.Hide()
	top := container.NewVBox(c.title, c.status, container.NewHScroll(c.actions), c.offline, c.pending.content(), c.errText, widget.NewSeparator())
	c.root = container.NewBorder(top, nil, nil, nil, c.tabs)
	c.tabs.OnSelected = func(*container.TabItem) {
		for _, p := range c.chats {
			p.refresh()
		}
	}
	c.unwatch = e.watch(be.Store(), c.storeChanged)
	return c
}

func (c *applicationCard) content() fyne.CanvasObject { return c.root }

func (c *applicationCard) close() {
	c.closed = true
	c.unwatch()
}

// load reads the application afresh from the server.
func (c *applicationCard) load() {
	call(c.env, "open application", func(ctx context.Context) (app.Card, error) {
		return c.be.OpenApplication(ctx, c.id)
	}, func(card app.Card, err error) {
		if c.closed {
			return
		}
		if err != nil {
			c.showError(message(err))
			return
		}
		c.showError("")
		c.set(card)
	})
}

func (c *applicationCard) set(card app.Card) {
	c.loaded = true
	c.app = card.App
	c.offline.Hidden = !card.Offline
	c.offline.Refresh()
	c.renderHeader()
	c.renderDetails()
	c.setTransitions(card.Transitions)
	c.renderHistory(c.be.Store().History(c.id))
	c.refreshDocuments()
	c.remarks.refresh()
	c.concl.load()
	canPost := app.CanPost(c.be.Me().Role)
	for _, ch := range card.Channels {
		if _, ok := c.chats[ch]; ok {
			continue
		}
		p := newChatPane(c.env, c.be, c.id, ch, canPost)
		c.chats[ch] = p
		p.tabs = c.tabs
		p.tab = container.NewTabItem(channelLabel(ch), p.content())
		c.tabs.Append(p.tab)
	}
	for _, p := range c.chats {
		p.refresh()
	}
	c.payment.load()
}

// storeChanged follows events: a new version re-reads the allowed moves,
// new history rows and messages are shown.
func (c *applicationCard) storeChanged() {
	if c.closed || !c.loaded {
		return
	}
	st := c.be.Store()
	a, ok := st.Application(c.id)
	if !ok {
		c.showError(lang.L("card.gone"))
		c.setTransitions(nil)
		return
	}
	if a.Version != c.app.Version || a.Status != c.app.Status {
		c.app = a
		c.renderHeader()
		c.renderDetails()
		c.reloadTransitions()
	}
	if h := st.History(c.id); len(h) != c.histLen {
		c.renderHistory(h)
	}
	c.refreshDocuments()
	c.remarks.refresh()
	c.payment.refresh()
	c.concl.refresh()
	c.pending.refresh()
	for _, p := range c.chats {
		p.refresh()
	}
}

// refreshDocuments redraws the files tab when what it shows changed.
func (c *applicationCard) refreshDocuments() {
	docs := c.be.Store().Documents(c.id)
	var fp strings.Builder
	for _, d := range docs {
		for _, v := range d.Versions {
			fmt.Fprintf(&fp, "%d.%d.%d;", v.ID, v.Version, len(v.Signatures))
		}
	}
	if fp.String() == c.docsSeen && c.docsSeen != "" {
		return
	}
	c.docsSeen = fp.String()
	c.files.render(docs)
}

func (c *applicationCard) reloadTransitions() {
	seen := c.app.Version
	call(c.env, "transitions", func(ctx context.Context) ([]wire.Status, error) {
		return c.be.Transitions(ctx, c.id)
	}, func(ts []wire.Status, err error) {
		if c.closed || c.app.Version != seen {
			return // a later change has asked again
		}
		if err != nil {
			c.showError(message(err))
			return
		}
		c.setTransitions(ts)
	})
}

func (c *applicationCard) showError(text string) {
	c.errText.SetText(text)
	c.errText.Hidden = text == ""
	c.errText.Refresh()
}

func (c *applicationCard) renderHeader() {
	c.title.SetText(c.app.Number + " · " + c.app.ObjectName)
	text := statusLabel(c.app.Status)
	if days, ok := c.be.DaysLeft(c.app); ok {
		text += " · " + daysLeftText(days)
	}
	c.status.Text = text
	c.status.Importance = statusImportance(c.app.Status)
	c.status.Refresh()
}

// setTransitions shows one button for each allowed move, and nothing else.
func (c *applicationCard) setTransitions(ts []wire.Status) {
	c.buttons = map[wire.Status]*widget.Button{}
	objs := make([]fyne.CanvasObject, 0, len(ts))
	for _, to := range ts {
		b := widget.NewButton(transitionLabel(c.app.Status, to), func() { c.ask(to) })
		b.Importance = widget.HighImportance
		if app.StatusTone(to) == app.ToneFailure || to == wire.StatusNeedsCorrection || to == wire.StatusRemarksIssued {
			b.Importance = widget.WarningImportance
		}
		if c.busy {
			b.Disable()
		}
		c.buttons[to] = b
		objs = append(objs, b)
	}
	c.actions.Objects = objs
	c.actions.Refresh()
}

func (c *applicationCard) setBusy(busy bool) {
	c.busy = busy
	for _, b := range c.buttons {
		if busy {
			b.Disable()
		} else {
			b.Enable()
		}
	}
}

// ask confirms a move; moves that need reasons ask for a comment.
func (c *applicationCard) ask(to wire.Status) {
	action := transitionLabel(c.app.Status, to)
	if wire.CommentRequired(to) {
		entry := widget.NewMultiLineEntry()
		entry.SetMinRowsVisible(5)
		entry.Wrapping = fyne.TextWrapWord
		entry.SetPlaceHolder(lang.L("transition.comment_placeholder"))
		entry.Validator = func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New(lang.L("transition.comment_required"))
			}
			return nil
		}
		d := dialog.NewForm(action, lang.L("transition.do"), lang.L("dialog.cancel"),
			[]*widget.FormItem{widget.NewFormItem(lang.L("transition.comment"), entry)},
			func(ok bool) {
				if ok {
					c.move(to, entry.Text)
				}
			}, c.env.win)
		d.Resize(fyne.NewSize(560, 320))
		c.lastAsk, c.askEntry = d, entry
		d.Show()
		c.env.win.Canvas().Focus(entry)
		return
	}
	d := dialog.NewConfirm(action,
		lang.L("transition.confirm", map[string]any{"Number": c.app.Number, "Status": statusLabel(to)}),
		func(ok bool) {
			if ok {
				c.move(to, "")
			}
		}, c.env.win)
	d.SetConfirmText(lang.L("transition.do"))
	d.SetDismissText(lang.L("dialog.cancel"))
	c.lastAsk, c.askEntry = d, nil
	d.Show()
}

func (c *applicationCard) move(to wire.Status, comment string) {
	seen := c.app.Version
	c.setBusy(true)
	call(c.env, "transition", func(ctx context.Context) (wire.Application, error) {
		return c.be.Transition(ctx, c.id, seen, to, comment)
	}, func(_ wire.Application, err error) {
		c.setBusy(false)
		if c.closed {
			return
		}
		if app.IsQueued(err) {
			// Offline: the move waits in the outbox and shows as
			// pending on the card; nothing to reload yet.
			c.pending.refresh()
			return
		}
		if err != nil {
			c.env.showError(err)
			if !app.IsConflict(err) {
				return
			}
		}
		// After a move, and after a conflict, show what the server holds
		// now; the user decides again on fresh data.
		c.load()
	})
}

func (c *applicationCard) renderDetails() {
	if canEditForm(c.app, c.be.Me()) {
		c.renderForm()
		return
	}
	c.form = nil
	a := c.app
	ro := func(s string) fyne.CanvasObject {
		if strings.TrimSpace(s) == "" {
			s = "—"
		}
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		l.Selectable = true
		return l
	}
	item := func(key, value string) *widget.FormItem { return widget.NewFormItem(lang.L(key), ro(value)) }
	deadline := dateText(a.Deadline)
	if days, ok := c.be.DaysLeft(a); ok && a.Deadline != nil {
		deadline += " (" + daysLeftText(days) + ")"
	}
	var experts []string
	for _, as := range a.Assignments {
		name := as.Section
		if s, ok := wire.SectionByCode(as.Section); ok {
			name += " " + s.Short
		}
		line := name + " — " + as.ExpertName
		if as.ExpertID == a.LeadExpertID && a.LeadExpertID != 0 {
			line += " " + lang.L("card.lead")
		}
		experts = append(experts, line)
	}
	submitted, paid := "", ""
	if a.SubmittedAt != nil {
		submitted = timeText(*a.SubmittedAt)
	}
	if a.PaidAt != nil {
		paid = timeText(*a.PaidAt)
	}
	form := widget.NewForm(
		item("card.number", a.Number),
		item("card.status", statusLabel(a.Status)),
		item("card.object", a.ObjectName),
		item("card.address", a.ObjectAddress),
		item("card.works", worksLabel(a.WorksKind)),
		item("card.expertise", expertiseLabel(a.ExpertiseKind)),
		item("card.financing", financingLabel(a.Financing)),
		item("card.org", strings.TrimSpace(a.OrgName+" "+innText(a.OrgINN))),
		item("card.contact", a.ApplicantName),
		item("card.phone", a.ApplicantPhone),
		item("card.email", a.ApplicantEmail),
		item("card.submitted", submitted),
		item("card.paid", paid),
		item("card.deadline", deadline),
		item("card.experts", strings.Join(experts, "\n")),
	)
	c.details.Objects = []fyne.CanvasObject{form}
	c.details.Refresh()
}

// renderForm shows the form to edit, keeping what the user typed when
// the application changes underneath (saving then meets a conflict and
// shows it, rather than dropping the typing).
func (c *applicationCard) renderForm() {
	if c.form != nil {
		if _, dirty := c.form.changes(); dirty {
			return
		}
		if c.formFor == c.app.Version {
			return
		}
	}
	if c.form == nil {
		c.form = newAppForm()
		c.saveBtn = widget.NewButtonWithIcon(lang.L("card.save"), theme.DocumentSaveIcon(), c.saveForm)
		c.saveBtn.Importance = widget.HighImportance
		c.delBtn = widget.NewButtonWithIcon(lang.L("card.delete_draft"), theme.DeleteIcon(), c.askDelete)
		c.delBtn.Importance = widget.DangerImportance
	}
	c.form.load(c.app)
	c.formFor = c.app.Version
	buttons := container.NewHBox(c.saveBtn)
	if c.app.Status == wire.StatusDraft {
		buttons.Add(c.delBtn)
	}
	num := widget.NewForm(widget.NewFormItem(lang.L("card.number"), widget.NewLabel(c.app.Number)),
		widget.NewFormItem(lang.L("card.status"), widget.NewLabel(statusLabel(c.app.Status))))
	c.details.Objects = []fyne.CanvasObject{container.NewVBox(num, c.form.form, buttons)}
	c.details.Refresh()
}

func (c *applicationCard) saveForm() {
	in, dirty := c.form.changes()
	if !dirty {
		dialog.ShowInformation(lang.L("card.save"), lang.L("card.no_changes"), c.env.win)
		return
	}
	if errs := wire.ApplicationInputErrors(in, false); len(errs) > 0 {
		c.form.show(errs)
		return
	}
	seen := c.app.Version
	c.saveBtn.Disable()
	call(c.env, "save application", func(ctx context.Context) (wire.Application, error) {
		return c.be.UpdateApplication(ctx, c.id, seen, in)
	}, func(a wire.Application, err error) {
		c.saveBtn.Enable()
		if c.closed {
			return
		}
		if err != nil {
			if we, ok := wire.AsError(err); ok && we.Code == wire.CodeInvalid && c.form.show([]*wire.Error{we}) {
				return
			}
			c.env.showError(err)
			if app.IsConflict(err) {
				// Someone changed it meanwhile: show theirs; the user
				// types the change again on fresh data.
				c.form.orig = c.form.all()
				c.load()
			}
			return
		}
		c.app = a
		c.form.load(a)
		c.formFor = a.Version
		c.renderHeader()
	})
}

func (c *applicationCard) askDelete() {
	seen := c.app.Version
	d := dialog.NewConfirm(lang.L("card.delete_draft"), lang.L("card.delete_confirm", map[string]any{"Number": c.app.Number}), func(ok bool) {
		if !ok {
			return
		}
		call(c.env, "delete draft", func(ctx context.Context) (struct{}, error) {
			return struct{}{}, c.be.DeleteDraft(ctx, c.id, seen)
		}, func(_ struct{}, err error) { c.env.showError(err) })
	}, c.env.win)
	d.SetConfirmText(lang.L("card.delete_draft"))
	d.SetDismissText(lang.L("dialog.cancel"))
	c.lastAsk, c.askEntry = d, nil
	d.Show()
}

func innText(inn string) string {
	if inn == "" {
		return ""
	}
	return lang.L("card.inn", map[string]any{"INN": inn})
}

// renderHistory shows the status changes as a timeline, newest last.
func (c *applicationCard) renderHistory(h []wire.StatusChange) {
	c.histLen = len(h)
	objs := make([]fyne.CanvasObject, 0, len(h)*2)
	for _, ch := range h {
		head := widget.NewLabelWithStyle(timeText(ch.At)+" · "+actorText(ch.ActorName), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		move := widget.NewLabel("«" + statusLabel(ch.From) + "» → «" + statusLabel(ch.To) + "»")
		move.Importance = statusImportance(ch.To)
		entry := container.NewVBox(head, move)
		if ch.Comment != "" {
			comment := widget.NewLabelWithStyle(ch.Comment, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
			comment.Wrapping = fyne.TextWrapWord
			entry.Add(comment)
		}
		objs = append(objs, entry, widget.NewSeparator())
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel(lang.L("card.history_empty")))
	}
	c.history.Objects = objs
	c.history.Refresh()
}

func actorText(name string) string {
	if name == "" {
		return lang.L("card.system")
	}
	return name
}

// chatPane is one chat channel of an application.
type chatPane struct {
	env   *env
	be    backend
	appID int64
	ch    wire.Channel

	list   *fyne.Container
	scroll *container.Scroll
	entry  *widget.Entry
	send   *widget.Button
	typing *widget.Label
	files  *chatFiles // the paperclip, the chosen files, the files of messages
	shown  string     // fingerprint of what is shown
	root   fyne.CanvasObject
	tabs   *container.AppTabs // the card's tabs, to show the unread count
	tab    *container.TabItem
	asked  int64 // last message a read mark was asked for
}

func newChatPane(e *env, be backend, appID int64, ch wire.Channel, canPost bool) *chatPane {
	p := &chatPane{env: e, be: be, appID: appID, ch: ch}
	p.list = container.NewVBox()
	p.scroll = container.NewVScroll(p.list)
	p.entry = widget.NewMultiLineEntry()
	p.entry.Wrapping = fyne.TextWrapWord
	p.entry.SetMinRowsVisible(2)
	p.entry.SetPlaceHolder(lang.L("chat.placeholder"))
	p.entry.OnSubmitted = func(string) { p.doSend() }
	p.entry.OnChanged = func(string) { p.be.Typing(appID, ch) }
	p.typing = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	p.typing.Importance = widget.LowImportance
	p.send = widget.NewButton(lang.L("chat.send"), p.doSend)
	p.send.Importance = widget.HighImportance
	p.files = newChatFiles(e, be, appID, ch)
	var bottom fyne.CanvasObject
	if canPost {
		bottom = container.NewVBox(p.files.list, p.files.progress,
			container.NewBorder(nil, nil, nil, container.NewHBox(p.files.clip, p.send), p.entry))
	}
	p.root = container.NewBorder(nil, container.NewVBox(p.typing, orNil(bottom)), nil, nil, p.scroll)
	return p
}

func (p *chatPane) content() fyne.CanvasObject { return p.root }

// refresh shows messages that arrived since the last call, a divider
// before the first unread one, then the user's messages still waiting in
// the outbox, marked as such; who is typing; and the unread count on the
// tab. A chat on screen is read: its mark moves to the last message.
func (p *chatPane) refresh() {
	st := p.be.Store()
	p.showTyping(st.Typing(p.appID, p.ch))
	unread := st.ChatUnread(p.appID, p.ch)
	p.showUnread(unread)
	ms := st.Messages(p.appID, p.ch)
	if unread > 0 && p.onScreen() {
		p.markRead(ms[len(ms)-1].ID)
	}
	var queued []app.PendingCommand
	for _, c := range st.PendingFor(p.appID) {
		if c.Message != nil && c.Message.Channel == p.ch {
			queued = append(queued, c)
		}
	}
	mark := st.LastRead(p.appID, p.ch)
	fp := fmt.Sprintf("%d/%d/%d", len(ms), len(queued), mark)
	if len(ms) > 0 {
		fp += fmt.Sprintf("/%d", ms[len(ms)-1].ID)
	}
	for _, c := range queued {
		fp += fmt.Sprintf("/q%d", c.ID)
	}
	if fp == p.shown {
		return
	}
	me := p.be.Me()
	objs := make([]fyne.CanvasObject, 0, len(ms)+len(queued)+1)
	divided := false
	for _, m := range ms {
		if !divided && mark > 0 && m.ID > mark && m.AuthorID != me.ID {
			divided = true
			l := widget.NewLabelWithStyle(lang.L("chat.new_messages"), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
			l.Importance = widget.HighImportance
			objs = append(objs, l)
		}
		head := widget.NewLabelWithStyle(m.AuthorName+" · "+timeText(m.CreatedAt), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		body := widget.NewLabel(m.Body)
		body.Wrapping = fyne.TextWrapWord
		body.Selectable = true
		item := container.NewVBox(head)
		if m.Body != "" || len(m.Files) == 0 {
			item.Add(body)
		}
		for _, b := range p.files.buttons(m) {
			item.Add(b)
		}
		objs = append(objs, item)
	}
	for _, c := range queued {
		head := widget.NewLabelWithStyle(me.FullName+" · "+lang.L("chat.pending"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true, Italic: true})
		head.Importance = widget.WarningImportance
		body := widget.NewLabel(c.Message.Body)
		body.Wrapping = fyne.TextWrapWord
		body.Importance = widget.LowImportance
		item := container.NewVBox(head, body)
		if n := len(c.Message.Attachments); n > 0 {
			item.Add(widget.NewLabel(lang.L("chat.pending_files", map[string]any{"Count": n})))
		}
		objs = append(objs, container.NewBorder(nil, nil, nil, widget.NewIcon(theme.HistoryIcon()), item))
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel(lang.L("chat.empty")))
	}
	p.shown = fp
	p.list.Objects = objs
	p.list.Refresh()
	p.scroll.ScrollToBottom()
}

// onScreen reports whether this chat's tab is the one shown.
func (p *chatPane) onScreen() bool {
	return p.tabs != nil && p.tab != nil && p.tabs.Selected() == p.tab
}

func (p *chatPane) showUnread(n int) {
	if p.tab == nil {
		return
	}
	text := channelLabel(p.ch)
	if n > 0 {
		text = lang.L("chat.tab_unread", map[string]any{"Name": text, "Count": n})
	}
	if p.tab.Text != text {
		p.tab.Text = text
		p.tabs.Refresh()
	}
}

func (p *chatPane) showTyping(names []string) {
	text := ""
	switch len(names) {
	case 0:
	case 1:
		text = lang.L("chat.typing_one", map[string]any{"Name": names[0]})
	default:
		text = lang.L("chat.typing_many", map[string]any{"Names": strings.Join(names, ", ")})
	}
	if p.typing.Text != text {
		p.typing.SetText(text)
	}
}

// markRead asks once per newest message to move the read mark.
func (p *chatPane) markRead(last int64) {
	if last <= p.asked {
		return
	}
	p.asked = last
	call(p.env, "mark chat read", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, p.be.MarkChatRead(ctx, p.appID, p.ch)
	}, func(struct{}, error) {})
}

func (p *chatPane) doSend() {
	body := p.entry.Text
	if len(p.files.chosen) > 0 && !p.send.Disabled() {
		p.files.send(body, p.send, func() {
			p.entry.SetText("")
			p.refresh()
		})
		return
	}
	if strings.TrimSpace(body) == "" || p.send.Disabled() {
		return
	}
	p.send.Disable()
	call(p.env, "post message", func(ctx context.Context) (wire.Message, error) {
		return p.be.PostMessage(ctx, p.appID, p.ch, body)
	}, func(_ wire.Message, err error) {
		p.send.Enable()
		if err != nil && !app.IsQueued(err) {
			p.env.showError(err)
			return
		}
		// Sent, or queued and shown as pending: either way it is kept.
		p.entry.SetText("")
		p.refresh()
	})
}

// orNil turns a nil object into an empty container, for layouts that
// take a list.
func orNil(o fyne.CanvasObject) fyne.CanvasObject {
	if o == nil {
		return container.NewVBox()
	}
	return o
}
