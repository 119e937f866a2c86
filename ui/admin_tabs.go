package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// --- «Организации» ---

type adminOrgsTab struct {
	v      *adminView
	search *widget.Entry
	edit   *widget.Button
	table  *widget.Table
	status *widget.Label
	root   fyne.CanvasObject
	rows   []wire.OrganisationSummary
	sel    int
	// editing is the open edit form, for tests.
	editing *orgForm
}

type orgForm struct {
	dlg                                        *dialog.FormDialog
	name, short, ogrn, kpp, addr, email, phone *field
	general                                    *widget.Label
	submit                                     func()
}

func newAdminOrgsTab(v *adminView) *adminOrgsTab {
	t := &adminOrgsTab{v: v, sel: -1}
	t.search = widget.NewEntry()
	t.search.SetPlaceHolder(lang.L("admin.orgs.search"))
	t.search.OnSubmitted = func(string) { t.load() }
	t.edit = widget.NewButtonWithIcon(lang.L("admin.orgs.edit"), theme.DocumentCreateIcon(), t.openEdit)
	t.edit.Disable()
	titles := []string{"admin.orgs.col.name", "admin.orgs.col.inn", "admin.orgs.col.ogrn", "admin.orgs.col.kpp", "admin.orgs.col.members", "admin.orgs.col.apps"}
	t.table = headerTable(func() int { return len(t.rows) }, len(titles), func(c int) string { return lang.L(titles[c]) }, func(row, col int, l *widget.Label) {
		if row >= len(t.rows) {
			return
		}
		o := t.rows[row]
		l.SetText([]string{o.Name, o.INN, o.OGRN, o.KPP, fmt.Sprint(o.Members), fmt.Sprint(o.Applications)}[col])
	}, []float32{360, 130, 150, 110, 110, 110})
	t.table.OnSelected = func(id widget.TableCellID) { t.sel = id.Row; t.edit.Enable() }
	t.status = widget.NewLabel("")
	t.root = container.NewBorder(container.NewBorder(nil, nil, nil, container.NewHBox(widget.NewButtonWithIcon(lang.L("audit.find"), theme.SearchIcon(), t.load), t.edit), t.search),
		t.status, nil, nil, t.table)
	return t
}

func (t *adminOrgsTab) load() {
	text := strings.TrimSpace(t.search.Text)
	call(t.v.env, "list organisations", func(ctx context.Context) ([]wire.OrganisationSummary, error) {
		return t.v.be.Organisations(ctx, text)
	}, func(os []wire.OrganisationSummary, err error) {
		if err != nil {
			t.v.env.showError(err)
			return
		}
		t.rows, t.sel = os, -1
		t.edit.Disable()
		t.table.UnselectAll()
		t.table.Refresh()
		t.status.SetText(lang.L("admin.orgs.count", map[string]any{"Count": len(os)}))
	})
}

// openEdit edits the selected organisation's details at the version seen.
func (t *adminOrgsTab) openEdit() {
	if t.sel < 0 || t.sel >= len(t.rows) {
		return
	}
	o := t.rows[t.sel]
	mk := func(s string) *field {
		f := newField(widget.NewEntry(), nil)
		f.entry.SetText(s)
		return f
	}
	f := &orgForm{name: mk(o.Name), short: mk(o.ShortName), ogrn: mk(o.OGRN), kpp: mk(o.KPP), addr: mk(o.Address), email: mk(o.Email), phone: mk(o.Phone),
		general: widget.NewLabel("")}
	f.general.Importance = widget.DangerImportance
	f.general.Wrapping = fyne.TextWrapWord
	byField := map[string]*field{"name": f.name, "short_name": f.short, "ogrn": f.ogrn, "kpp": f.kpp, "address": f.addr, "email": f.email, "phone": f.phone}
	f.submit = func() {
		txt := func(x *field) *string { s := strings.TrimSpace(x.entry.Text); return &s }
		r := wire.UpdateOrganisationRequest{Version: o.Version, Name: txt(f.name), ShortName: txt(f.short), OGRN: txt(f.ogrn), KPP: txt(f.kpp),
			Address: txt(f.addr), Email: txt(f.email), Phone: txt(f.phone)}
		for _, x := range byField {
			x.say("")
		}
		f.general.SetText("")
		call(t.v.env, "save organisation", func(ctx context.Context) (wire.Organisation, error) {
			return t.v.be.UpdateOrganisation(ctx, o.ID, r)
		}, func(got wire.Organisation, err error) {
			if err != nil {
				if we, ok := wire.AsError(err); ok && byField[we.Field] != nil {
					byField[we.Field].say(message(err))
				} else {
					f.general.SetText(message(err))
				}
				f.dlg.Show()
				return
			}
			f.dlg.Hide()
			t.editing = nil
			t.status.SetText(lang.L("admin.orgs.saved", map[string]any{"Name": got.Name}))
			t.load()
		})
	}
	f.dlg = dialog.NewForm(lang.L("admin.orgs.edit")+" — "+o.INN, lang.L("admin.save"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("admin.orgs.col.name"), f.name.box),
		widget.NewFormItem(lang.L("admin.orgs.short"), f.short.box),
		widget.NewFormItem(lang.L("admin.orgs.col.ogrn"), f.ogrn.box),
		widget.NewFormItem(lang.L("admin.orgs.col.kpp"), f.kpp.box),
		widget.NewFormItem(lang.L("admin.orgs.address"), f.addr.box),
		widget.NewFormItem(lang.L("admin.users.email"), f.email.box),
		widget.NewFormItem(lang.L("admin.users.phone"), f.phone.box),
		widget.NewFormItem("", f.general),
	}, func(ok bool) {
		if ok {
			f.submit()
		}
	}, t.v.env.win)
	f.dlg.Resize(fyne.NewSize(600, 520))
	t.editing = f
	f.dlg.Show()
}

// --- «Назначения» ---

// adminAssignTab picks an application and sets its lead and section
// experts, each offered with the work they already hold. Managers save;
// administrators see it (the server lets only managers assign).
type adminAssignTab struct {
	v        *adminView
	appSel   *widget.Select
	apps     []wire.Application
	lead     *widget.Select
	sections map[string]*widget.Select
	save     *widget.Button
	note     *widget.Label
	loads    []wire.ExpertLoad
	root     fyne.CanvasObject
}

// assignSections are the documentation sections experts review.
func assignSections() []wire.Section {
	var out []wire.Section
	for _, s := range wire.Sections {
		if strings.HasPrefix(s.Code, "06.") || strings.HasPrefix(s.Code, "07.") {
			out = append(out, s)
		}
	}
	return out
}

func newAdminAssignTab(v *adminView) *adminAssignTab {
	t := &adminAssignTab{v: v, sections: map[string]*widget.Select{}}
	t.appSel = widget.NewSelect(nil, func(string) { t.showApp() })
	t.appSel.PlaceHolder = lang.L("admin.assign.pick")
	t.lead = widget.NewSelect(nil, nil)
	form := widget.NewForm(widget.NewFormItem(lang.L("admin.assign.lead"), t.lead))
	for _, s := range assignSections() {
		sel := widget.NewSelect(nil, nil)
		t.sections[s.Code] = sel
		form.Append(s.Code+" "+s.Short, sel)
	}
	t.save = widget.NewButtonWithIcon(lang.L("admin.save"), theme.DocumentSaveIcon(), t.store)
	t.save.Disable()
	t.note = widget.NewLabel("")
	t.note.Wrapping = fyne.TextWrapWord
	if v.be.Me().Role != wire.RoleManager {
		t.note.SetText(lang.L("admin.assign.manager_only"))
	}
	t.root = container.NewBorder(container.NewVBox(t.appSel, t.note), t.save, nil, nil, container.NewVScroll(form))
	return t
}

// expertChoice names an expert with their load for the selects.
func expertChoice(l wire.ExpertLoad) string {
	return lang.L("admin.assign.expert", map[string]any{"Name": l.FullName, "Apps": l.Applications, "Lead": l.Lead})
}

// load offers the applications in work and reads the experts' load.
func (t *adminAssignTab) load() {
	t.apps = t.apps[:0]
	for _, a := range t.v.be.Store().Applications() {
		if a.Status != wire.StatusDraft && !a.Status.Terminal() {
			t.apps = append(t.apps, a)
		}
	}
	names := make([]string, len(t.apps))
	for i, a := range t.apps {
		names[i] = a.Number + " — " + a.ObjectName
	}
	t.appSel.SetOptions(names)
	call(t.v.env, "experts' load", func(ctx context.Context) ([]wire.ExpertLoad, error) {
		return t.v.be.ExpertLoads(ctx)
	}, func(ls []wire.ExpertLoad, err error) {
		if err != nil {
			t.v.env.showError(err)
			return
		}
		t.loads = ls
		opts := []string{"—"}
		for _, l := range ls {
			opts = append(opts, expertChoice(l))
		}
		t.lead.SetOptions(opts[1:])
		for _, s := range t.sections {
			s.SetOptions(opts)
		}
		t.showApp()
	})
}

// showApp puts the chosen application's experts in the selects.
func (t *adminAssignTab) showApp() {
	i := t.appSel.SelectedIndex()
	if i < 0 || i >= len(t.apps) || t.loads == nil {
		t.save.Disable()
		return
	}
	a := t.apps[i]
	pick := func(sel *widget.Select, id int64, none string) {
		sel.ClearSelected()
		if none != "" {
			sel.SetSelected(none)
		}
		for _, l := range t.loads {
			if l.ExpertID == id {
				sel.SetSelected(expertChoice(l))
			}
		}
	}
	pick(t.lead, a.LeadExpertID, "")
	for code, sel := range t.sections {
		var id int64
		for _, as := range a.Assignments {
			if as.Section == code {
				id = as.ExpertID
			}
		}
		pick(sel, id, "—")
	}
	if t.v.be.Me().Role == wire.RoleManager {
		t.save.Enable()
	}
}

// store sends the lead and the section experts shown.
func (t *adminAssignTab) store() {
	i := t.appSel.SelectedIndex()
	if i < 0 || i >= len(t.apps) {
		return
	}
	a := t.apps[i]
	var lead int64
	if j := t.lead.SelectedIndex(); j >= 0 && j < len(t.loads) {
		lead = t.loads[j].ExpertID
	}
	var as []wire.Assignment
	for _, s := range assignSections() {
		if j := t.sections[s.Code].SelectedIndex(); j > 0 && j-1 < len(t.loads) {
			as = append(as, wire.Assignment{Section: s.Code, ExpertID: t.loads[j-1].ExpertID})
		}
	}
	call(t.v.env, "assign experts", func(ctx context.Context) (wire.Application, error) {
		return t.v.be.AssignExperts(ctx, a.ID, a.Version, lead, as)
	}, func(got wire.Application, err error) {
		if err != nil {
			t.v.env.showError(err)
			return
		}
		t.note.SetText(lang.L("admin.assign.saved", map[string]any{"Number": got.Number}))
		t.load()
	})
}

// --- «Тарифы» ---

type adminTariffTab struct {
	v      *adminView
	cur    wire.Tariff
	table  *widget.Table
	edit   *widget.Button
	status *widget.Label
	sel    int
	root   fyne.CanvasObject
	// editing is the open row form, for tests.
	editing *tariffForm
}

type tariffForm struct {
	dlg        *dialog.FormDialog
	base, rate *field
	submit     func()
}

func newAdminTariffTab(v *adminView) *adminTariffTab {
	t := &adminTariffTab{v: v, sel: -1}
	titles := []string{"admin.tariff.col.kind", "admin.tariff.col.from", "admin.tariff.col.base", "admin.tariff.col.rate"}
	t.table = headerTable(func() int { return len(t.cur.Rows) }, len(titles), func(c int) string { return lang.L(titles[c]) }, func(row, col int, l *widget.Label) {
		if row >= len(t.cur.Rows) {
			return
		}
		r := t.cur.Rows[row]
		l.SetText([]string{expertiseLabel(r.Kind), wire.FormatKopecks(r.CostFromKopecks), wire.FormatKopecks(r.BaseKopecks), app.FormatPercent(r.RatePPM)}[col])
	}, []float32{330, 200, 200, 120})
	t.table.OnSelected = func(id widget.TableCellID) { t.sel = id.Row; t.edit.Enable() }
	t.edit = widget.NewButtonWithIcon(lang.L("admin.tariff.edit"), theme.DocumentCreateIcon(), t.openEdit)
	t.edit.Disable()
	t.status = widget.NewLabel("")
	t.root = container.NewBorder(nil, container.NewHBox(t.edit, t.status), nil, nil, t.table)
	return t
}

func (t *adminTariffTab) load() {
	call(t.v.env, "read tariff", func(ctx context.Context) (wire.Tariff, error) { return t.v.be.Tariff(ctx) }, func(tr wire.Tariff, err error) {
		if err != nil {
			t.v.env.showError(err)
			return
		}
		t.cur, t.sel = tr, -1
		t.edit.Disable()
		t.table.UnselectAll()
		t.table.Refresh()
		t.status.SetText(lang.L("admin.tariff.version", map[string]any{"Version": tr.Version, "By": tr.UpdatedByName}))
	})
}

// openEdit changes the selected bracket's base fee and rate; the whole
// table is saved at the version seen.
func (t *adminTariffTab) openEdit() {
	if t.sel < 0 || t.sel >= len(t.cur.Rows) {
		return
	}
	row := t.cur.Rows[t.sel]
	f := &tariffForm{base: newField(widget.NewEntry(), nil), rate: newField(widget.NewEntry(), nil)}
	f.base.entry.SetText(strings.TrimSuffix(wire.FormatKopecks(row.BaseKopecks), " ₽"))
	f.rate.entry.SetText(strings.TrimSuffix(app.FormatPercent(row.RatePPM), " %"))
	idx := t.sel
	f.submit = func() {
		f.base.say("")
		f.rate.say("")
		base, err := app.ParseRoubles(f.base.entry.Text)
		if err != nil {
			f.base.say(message(err))
			f.dlg.Show()
			return
		}
		rate, err := app.ParsePercent(f.rate.entry.Text)
		if err != nil {
			f.rate.say(message(err))
			f.dlg.Show()
			return
		}
		next := t.cur
		next.Rows = slices.Clone(t.cur.Rows)
		next.Rows[idx].BaseKopecks, next.Rows[idx].RatePPM = base, rate
		call(t.v.env, "save tariff", func(ctx context.Context) (wire.Tariff, error) { return t.v.be.SetTariff(ctx, next) }, func(got wire.Tariff, err error) {
			if err != nil {
				f.rate.say(message(err))
				f.dlg.Show()
				return
			}
			f.dlg.Hide()
			t.editing = nil
			t.cur = got
			t.table.Refresh()
			t.status.SetText(lang.L("admin.tariff.saved"))
		})
	}
	f.dlg = dialog.NewForm(expertiseLabel(row.Kind)+" — "+wire.FormatKopecks(row.CostFromKopecks), lang.L("admin.save"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("admin.tariff.col.base"), f.base.box),
		widget.NewFormItem(lang.L("admin.tariff.col.rate"), f.rate.box),
	}, func(ok bool) {
		if ok {
			f.submit()
		}
	}, t.v.env.win)
	f.dlg.Resize(fyne.NewSize(480, 260))
	t.editing = f
	f.dlg.Show()
}

// --- «Календарь» ---

// adminCalendarTab shows a year month by month; a tap on a day makes it
// working or not.
type adminCalendarTab struct {
	v       *adminView
	yearSel *widget.Select
	year    int
	days    []wire.CalendarDay
	grid    *fyne.Container
	status  *widget.Label
	// buttons are the day buttons of the year shown, by date.
	buttons map[wire.Date]*widget.Button
	loaded  bool // the calendar was read: the year view is drawn
	root    fyne.CanvasObject
}

func newAdminCalendarTab(v *adminView) *adminCalendarTab {
	t := &adminCalendarTab{v: v, buttons: map[wire.Date]*widget.Button{}}
	t.grid = container.NewGridWithColumns(4)
	now := wire.DateOf(time.Now()).Year
	t.year = now
	years := []string{fmt.Sprint(now - 1), fmt.Sprint(now), fmt.Sprint(now + 1)}
	t.yearSel = widget.NewSelect(years, func(s string) {
		fmt.Sscan(s, &t.year)
		t.render()
	})
	t.yearSel.SetSelectedIndex(1)
	t.status = widget.NewLabel(lang.L("admin.calendar.hint"))
	t.root = container.NewBorder(container.NewHBox(widget.NewLabel(lang.L("admin.calendar.year")), t.yearSel), t.status, nil, nil, container.NewVScroll(t.grid))
	return t
}

func (t *adminCalendarTab) load() {
	call(t.v.env, "read calendar", func(ctx context.Context) ([]wire.CalendarDay, error) { return t.v.be.CalendarDays(ctx) }, func(ds []wire.CalendarDay, err error) {
		if err != nil {
			t.v.env.showError(err)
			return
		}
		t.days, t.loaded = ds, true
		t.render()
	})
}

// render lays the year out: twelve months of weeks from Monday.
func (t *adminCalendarTab) render() {
	if !t.loaded {
		return
	}
	cells := app.CalendarYear(t.year, t.days)
	t.buttons = map[wire.Date]*widget.Button{}
	var months []fyne.CanvasObject
	for m := time.January; m <= time.December; m++ {
		week := container.NewGridWithColumns(7)
		for _, wd := range []string{"cal.mo", "cal.tu", "cal.we", "cal.th", "cal.fr", "cal.sa", "cal.su"} {
			week.Add(widget.NewLabelWithStyle(lang.L(wd), fyne.TextAlignCenter, fyne.TextStyle{Bold: true}))
		}
		first := wire.Date{Year: t.year, Month: m, Day: 1}
		for i := 0; i < (int(first.Weekday())+6)%7; i++ {
			week.Add(widget.NewLabel(""))
		}
		for _, c := range cells {
			if c.Day.Month != m {
				continue
			}
			c := c
			b := widget.NewButton(fmt.Sprint(c.Day.Day), func() { t.toggle(c) })
			b.Importance = widget.LowImportance
			if !c.Working {
				b.Importance = widget.DangerImportance
			}
			if c.Set && c.Working {
				b.Importance = widget.SuccessImportance
			}
			t.buttons[c.Day] = b
			week.Add(b)
		}
		months = append(months, widget.NewCard(lang.L(fmt.Sprintf("cal.month.%d", m)), "", week))
	}
	t.grid.Objects = months
	t.grid.Refresh()
}

// toggle makes a working day a holiday and the other way round.
func (t *adminCalendarTab) toggle(c app.CalendarCell) {
	call(t.v.env, "set calendar day", func(ctx context.Context) ([]wire.CalendarDay, error) {
		return t.v.be.SetCalendarDay(ctx, c.Day, !c.Working, "")
	}, func(ds []wire.CalendarDay, err error) {
		if err != nil {
			t.v.env.showError(err)
			return
		}
		t.days = ds
		t.render()
		key := "admin.calendar.now_holiday"
		if !c.Working {
			key = "admin.calendar.now_working"
		}
		t.status.SetText(lang.L(key, map[string]any{"Date": c.Day.String()}))
	})
}

// --- «Состояние сервера» ---

type adminStatusTab struct {
	v       *adminView
	form    *widget.Form
	values  map[string]*widget.Label
	updated *widget.Label
	refresh *widget.Button
	root    fyne.CanvasObject
	// every is the automatic refresh period while the tab is shown (0:
	// only by hand, as in tests).
	every time.Duration
	mu    sync.Mutex
	stop  func()
}

// statusKeys are the figures shown, in order.
var statusKeys = []string{"version", "uptime", "clients", "queues", "slow_drops", "mail", "letters", "contract_docs", "conclusions",
	"files", "db", "users", "sessions", "support", "last_seq"}

func newAdminStatusTab(v *adminView) *adminStatusTab {
	t := &adminStatusTab{v: v, values: map[string]*widget.Label{}, every: 10 * time.Second}
	t.form = widget.NewForm()
	for _, k := range statusKeys {
		l := widget.NewLabel("—")
		t.values[k] = l
		t.form.Append(lang.L("admin.status."+k), l)
	}
	t.updated = widget.NewLabel("")
	t.refresh = widget.NewButtonWithIcon(lang.L("admin.status.refresh"), theme.ViewRefreshIcon(), t.load)
	t.root = container.NewBorder(nil, container.NewHBox(t.refresh, t.updated), nil, nil, container.NewVScroll(t.form))
	return t
}

func (t *adminStatusTab) load() {
	call(t.v.env, "server status", func(ctx context.Context) (wire.ServerStatus, error) { return t.v.be.ServerStatus(ctx) }, func(st wire.ServerStatus, err error) {
		if err != nil {
			t.updated.SetText(message(err))
			return
		}
		t.show(st)
	})
}

// show puts the figures in their rows.
func (t *adminStatusTab) show(st wire.ServerStatus) {
	en := english()
	set := func(k, s string, imp widget.Importance) {
		t.values[k].Importance = imp
		t.values[k].SetText(s)
	}
	warnIf := func(bad bool) widget.Importance {
		if bad {
			return widget.WarningImportance
		}
		return widget.MediumImportance
	}
	set("version", st.Version, widget.MediumImportance)
	set("uptime", app.FormatUptime(st.UptimeSec), widget.MediumImportance)
	set("clients", fmt.Sprint(st.Clients), widget.MediumImportance)
	set("queues", lang.L("admin.status.queues_value", map[string]any{"Max": st.QueuedMax, "Total": st.QueuedTotal, "Cap": st.QueueCap}), warnIf(st.QueueCap > 0 && st.QueuedMax*2 > st.QueueCap))
	set("slow_drops", fmt.Sprint(st.SlowDrops), warnIf(st.SlowDrops > 0))
	set("mail", lang.L("admin.status.mail_value", map[string]any{"Pending": st.MailPending, "Failed": st.MailFailed}), warnIf(st.MailFailed > 0))
	set("letters", fmt.Sprint(st.LettersPending), warnIf(st.LettersPending > 0))
	set("contract_docs", fmt.Sprint(st.ContractDocsPending), warnIf(st.ContractDocsPending > 0))
	set("conclusions", fmt.Sprint(st.ConclusionsPending), warnIf(st.ConclusionsPending > 0))
	set("files", lang.L("admin.status.files_value", map[string]any{"Count": st.FilesCount, "Size": app.FormatBytes(st.FilesBytes, en)}), widget.MediumImportance)
	set("db", app.FormatBytes(st.DBBytes, en), widget.MediumImportance)
	set("users", fmt.Sprint(st.Users), widget.MediumImportance)
	set("sessions", fmt.Sprint(st.ActiveSessions), widget.MediumImportance)
	set("support", fmt.Sprint(st.OpenSupport), warnIf(st.OpenSupport > 0))
	set("last_seq", fmt.Sprint(st.LastSeq), widget.MediumImportance)
	t.updated.SetText(lang.L("admin.status.updated", map[string]any{"Time": st.Now.Local().Format("15:04:05")}))
}

// startAuto refreshes the figures every period while the tab is shown.
func (t *adminStatusTab) startAuto() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.every <= 0 || t.stop != nil {
		return
	}
	ctx, cancel := context.WithCancel(t.v.env.ctx)
	t.stop = cancel
	go func() {
		tick := time.NewTicker(t.every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				t.v.env.onMain(t.load)
			}
		}
	}()
}

func (t *adminStatusTab) stopAuto() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stop != nil {
		t.stop()
		t.stop = nil
	}
}
