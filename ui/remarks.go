package ui

import (
	"bytes"
	"context"
	"fmt"
	"strings"
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

// remarksView is the card's Замечания tab: the notices sent, the register
// of remarks with their answers, and the actions the user may take — an
// expert writes drafts and judges answers, the lead expert publishes, the
// applicant answers.
type remarksView struct {
	env   *env
	be    backend
	appID int64

	notices *fyne.Container
	list    *fyne.Container
	tools   *fyne.Container
	add     *widget.Button
	publish *widget.Button
	csv     *widget.Button
	pdf     *widget.Button
	// saveFile stands for the system save dialog (tests replace it).
	saveFile func(name string, done func(path string))
	root     fyne.CanvasObject
	seen     string

	// The dialog last shown and its inputs, for tests.
	lastDialog dialog.Dialog
	lastText   *widget.Entry
	lastNorm   *widget.Entry
	lastCrit   *widget.RadioGroup
	lastSect   *widget.Select
	lastChecks *widget.CheckGroup

	// showPlace opens the viewer at a remark's place (tests replace it).
	showPlace func(e *env, be backend, appID int64, ver wire.DocumentVersion, page int, rect *wire.Rect)
}

func newRemarksView(e *env, be backend, appID int64) *remarksView {
	v := &remarksView{env: e, be: be, appID: appID, notices: container.NewVBox(), list: container.NewVBox(), tools: container.NewHBox()}
	v.add = widget.NewButtonWithIcon(lang.L("remarks.new"), theme.ContentAddIcon(), v.askNew)
	v.publish = widget.NewButtonWithIcon(lang.L("remarks.publish"), theme.MailSendIcon(), v.askPublish)
	v.publish.Importance = widget.HighImportance
	v.csv = widget.NewButtonWithIcon(lang.L("apps.export"), theme.DocumentSaveIcon(), func() { v.export(false) })
	v.pdf = widget.NewButtonWithIcon(lang.L("apps.export_pdf"), theme.DocumentPrintIcon(), func() { v.export(true) })
	v.saveFile = func(name string, done func(string)) { systemSave(e, name, done) }
	v.showPlace = func(e *env, be backend, appID int64, ver wire.DocumentVersion, page int, rect *wire.Rect) {
		openViewerAt(e, be, appID, ver, page, rect)
	}
	v.root = container.NewBorder(container.NewVBox(v.tools, v.notices), nil, nil, nil, container.NewVScroll(v.list))
	return v
}

func (v *remarksView) content() fyne.CanvasObject { return v.root }

// refresh redraws the tab when the remarks, notices or queue changed.
func (v *remarksView) refresh() {
	st := v.be.Store()
	a, _ := st.Application(v.appID)
	rs, ns := st.Remarks(v.appID), st.Notices(v.appID)
	var queued []app.PendingCommand
	for _, p := range st.PendingFor(v.appID) {
		if p.RemarkCreate != nil || p.RemarkAnswer != nil || p.RemarkStatus != nil {
			queued = append(queued, p)
		}
	}
	var fp strings.Builder
	fmt.Fprintf(&fp, "%d/%s/%d;", a.Version, a.Status, a.LeadExpertID)
	for _, r := range rs {
		fmt.Fprintf(&fp, "%d.%d;", r.ID, r.Version)
	}
	for _, n := range ns {
		fmt.Fprintf(&fp, "n%d;", n.ID)
	}
	for _, p := range queued {
		fmt.Fprintf(&fp, "q%d;", p.ID)
	}
	if fp.String() == v.seen {
		return
	}
	v.seen = fp.String()
	me := v.be.Me()
	v.tools.Objects = nil
	if me.Role == wire.RoleExpert {
		v.tools.Add(v.add)
	}
	if len(rs) > 0 {
		v.tools.Add(v.csv)
		v.tools.Add(v.pdf)
	}
	if me.Role == wire.RoleExpert && a.LeadExpertID == me.ID && len(publishable(rs)) > 0 {
		v.tools.Add(v.publish)
	}
	v.tools.Refresh()
	v.notices.Objects = nil
	for _, n := range ns {
		l := widget.NewLabel(lang.L("remarks.notice", map[string]any{"Number": n.Number, "Date": timeText(n.PublishedAt),
			"Count": len(n.RemarkIDs), "Lead": n.PublishedByName}))
		l.Wrapping = fyne.TextWrapWord
		var right fyne.CanvasObject
		if n.LetterSHA256 != "" {
			n := n
			right = widget.NewButtonWithIcon(lang.L("remarks.letter"), theme.DownloadIcon(), func() { v.saveLetter(n) })
		} else {
			wait := widget.NewLabel(lang.L("remarks.letter_pending"))
			wait.Importance = widget.LowImportance
			right = wait
		}
		v.notices.Add(container.NewBorder(nil, nil, nil, right, l))
	}
	if len(ns) > 0 {
		v.notices.Add(widget.NewSeparator())
	}
	v.notices.Refresh()

	objs := make([]fyne.CanvasObject, 0, len(rs)*2+len(queued))
	for _, r := range rs {
		objs = append(objs, v.remarkBox(r, a, me), widget.NewSeparator())
	}
	for _, p := range queued {
		l := widget.NewLabel(lang.L("pending.waiting", map[string]any{"Action": commandText(p)}))
		l.Wrapping = fyne.TextWrapWord
		l.Importance = widget.WarningImportance
		objs = append(objs, l)
	}
	if len(objs) == 0 {
		objs = append(objs, widget.NewLabel(lang.L("remarks.empty")))
	}
	v.list.Objects = objs
	v.list.Refresh()
}

// publishable are the remarks the lead may send in a notice.
func publishable(rs []wire.Remark) []wire.Remark {
	var out []wire.Remark
	for _, r := range rs {
		if r.Status == wire.RemarkDraft || r.Status == wire.RemarkReopened {
			out = append(out, r)
		}
	}
	return out
}

func criticalityLabel(c wire.Criticality) string { return lang.X("remarks.crit."+string(c), string(c)) }

func remarkStatusLabel(s wire.RemarkStatus) string {
	return lang.X("remarks.status."+string(s), string(s))
}

func remarkImportance(s wire.RemarkStatus) widget.Importance {
	switch s {
	case wire.RemarkPublished, wire.RemarkReopened:
		return widget.WarningImportance
	case wire.RemarkAccepted, wire.RemarkClosed:
		return widget.SuccessImportance
	case wire.RemarkAnswered:
		return widget.HighImportance
	}
	return widget.LowImportance
}

// remarkTitle is the remark's heading line: number (or draft), section,
// criticality.
func remarkTitle(r wire.Remark) string {
	num := lang.L("remarks.draft")
	if r.Number != 0 {
		num = lang.L("remarks.number", map[string]any{"Number": r.Number})
	}
	return num + " · " + sectionText(r.Section) + " · " + criticalityLabel(r.Criticality)
}

func (v *remarksView) remarkBox(r wire.Remark, a wire.Application, me wire.User) fyne.CanvasObject {
	head := widget.NewLabelWithStyle(remarkTitle(r), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	status := widget.NewLabel(remarkStatusLabel(r.Status))
	status.Importance = remarkImportance(r.Status)
	text := widget.NewLabel(r.Text)
	text.Wrapping = fyne.TextWrapWord
	text.Selectable = true
	box := container.NewVBox(container.NewBorder(nil, nil, nil, status, head), text)
	meta := []string{}
	if r.NormRef != "" {
		meta = append(meta, lang.L("remarks.norm", map[string]any{"Norm": r.NormRef}))
	}
	if r.Anchor != nil && r.Anchor.Page > 0 {
		meta = append(meta, lang.L("remarks.page", map[string]any{"Page": r.Anchor.Page}))
	}
	meta = append(meta, lang.L("remarks.author", map[string]any{"Name": r.AuthorName}))
	m := widget.NewLabel(strings.Join(meta, " · "))
	m.Importance = widget.LowImportance
	m.Wrapping = fyne.TextWrapWord
	box.Add(m)
	for _, an := range r.Answers {
		l := widget.NewLabel(lang.L("remarks.answer", map[string]any{"Name": an.AuthorName, "Date": timeText(an.CreatedAt), "Text": an.Text}))
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
		if len(an.VersionIDs) > 0 {
			box.Add(widget.NewLabel(lang.L("remarks.corrected", map[string]any{"Files": v.versionNames(an.VersionIDs)})))
		}
	}
	if r.Resolution != "" {
		l := widget.NewLabelWithStyle(lang.L("remarks.resolution", map[string]any{"Text": r.Resolution}), fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
	}
	actions := container.NewHBox()
	if ver, ok := v.anchorVersion(r); ok {
		r := r
		b := widget.NewButtonWithIcon(lang.L("remarks.show_place"), theme.VisibilityIcon(), func() {
			v.showPlace(v.env, v.be, v.appID, ver, r.Anchor.Page, r.Anchor.Rect)
		})
		b.Importance = widget.LowImportance
		actions.Add(b)
	}
	for _, to := range app.RemarkMoves(r, a, me) {
		r, to := r, to
		label := lang.L("remarks.move." + string(to))
		if to == wire.RemarkAnswered {
			if a.Status != wire.StatusRemarksIssued {
				continue // answers are taken while remarks are issued
			}
			label = lang.L("remarks.do_answer")
		}
		b := widget.NewButton(label, func() { v.act(r, to) })
		if to == wire.RemarkReopened {
			b.Importance = widget.WarningImportance
		}
		actions.Add(b)
	}
	if len(actions.Objects) > 0 {
		box.Add(actions)
	}
	return box
}

// anchorVersion is the PDF version a remark points into, when it names a
// page of one the card knows.
func (v *remarksView) anchorVersion(r wire.Remark) (wire.DocumentVersion, bool) {
	if r.VersionID == 0 || r.Anchor == nil || r.Anchor.Page < 1 {
		return wire.DocumentVersion{}, false
	}
	for _, d := range v.be.Store().Documents(v.appID) {
		for _, ver := range d.Versions {
			if ver.ID == r.VersionID && app.IsPDF(ver) {
				return ver, true
			}
		}
	}
	return wire.DocumentVersion{}, false
}

// versionNames names document versions of the application by file.
func (v *remarksView) versionNames(ids []int64) string {
	names := map[int64]string{}
	for _, d := range v.be.Store().Documents(v.appID) {
		for _, ver := range d.Versions {
			names[ver.ID] = fmt.Sprintf("%s (%s %d)", ver.FileName, lang.L("docs.version"), ver.Number)
		}
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if n, ok := names[id]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("#%d", id))
		}
	}
	return strings.Join(out, ", ")
}

// act performs a move on a remark, asking for what it needs first.
func (v *remarksView) act(r wire.Remark, to wire.RemarkStatus) {
	switch to {
	case wire.RemarkAnswered:
		v.askAnswer(r)
	case wire.RemarkReopened:
		entry := widget.NewMultiLineEntry()
		entry.Wrapping = fyne.TextWrapWord
		entry.SetMinRowsVisible(4)
		d := dialog.NewForm(lang.L("remarks.move.reopened"), lang.L("transition.do"), lang.L("dialog.cancel"),
			[]*widget.FormItem{widget.NewFormItem(lang.L("remarks.reopen_why"), entry)}, func(ok bool) {
				if ok {
					v.setStatus(r, to, entry.Text)
				}
			}, v.env.win)
		d.Resize(fyne.NewSize(560, 300))
		v.lastDialog, v.lastText = d, entry
		d.Show()
	default:
		v.setStatus(r, to, "")
	}
}

func (v *remarksView) setStatus(r wire.Remark, to wire.RemarkStatus, comment string) {
	call(v.env, "remark status", func(ctx context.Context) (wire.Remark, error) {
		return v.be.SetRemarkStatus(ctx, r, to, comment)
	}, func(_ wire.Remark, err error) { v.done(err) })
}

// done shows a refusal; a queued command shows as pending instead.
func (v *remarksView) done(err error) {
	if err != nil && !app.IsQueued(err) {
		v.env.showError(err)
	}
	v.seen = ""
	v.refresh()
}

// askAnswer asks for the answer's text and the corrected versions.
func (v *remarksView) askAnswer(r wire.Remark) {
	entry := widget.NewMultiLineEntry()
	entry.Wrapping = fyne.TextWrapWord
	entry.SetMinRowsVisible(5)
	var labels []string
	var ids []int64
	for _, d := range v.be.Store().Documents(v.appID) {
		for _, ver := range d.Versions {
			labels = append(labels, fmt.Sprintf("%s · %s (%s %d)", sectionText(d.Section), ver.FileName, lang.L("docs.version"), ver.Number))
			ids = append(ids, ver.ID)
		}
	}
	checks := widget.NewCheckGroup(labels, nil)
	items := []*widget.FormItem{widget.NewFormItem(lang.L("remarks.answer_text"), entry)}
	if len(labels) > 0 {
		items = append(items, widget.NewFormItem(lang.L("remarks.corrected_files"), container.NewVScroll(checks)))
	}
	d := dialog.NewForm(lang.L("remarks.do_answer")+" — "+remarkTitle(r), lang.L("remarks.send"), lang.L("dialog.cancel"), items, func(ok bool) {
		if !ok {
			return
		}
		var chosen []int64
		for _, s := range checks.Selected {
			for i, l := range labels {
				if l == s {
					chosen = append(chosen, ids[i])
				}
			}
		}
		text := entry.Text
		call(v.env, "answer remark", func(ctx context.Context) (wire.Remark, error) {
			return v.be.AnswerRemark(ctx, r, text, chosen)
		}, func(_ wire.Remark, err error) { v.done(err) })
	}, v.env.win)
	d.Resize(fyne.NewSize(640, 460))
	v.lastDialog, v.lastText, v.lastChecks = d, entry, checks
	d.Show()
}

// askNew asks an expert for a draft remark about a section.
func (v *remarksView) askNew() {
	labels, codes := sectionOptions()
	sect := widget.NewSelect(labels, nil)
	sect.PlaceHolder = lang.L("docs.choose_section")
	text := widget.NewMultiLineEntry()
	text.Wrapping = fyne.TextWrapWord
	text.SetMinRowsVisible(5)
	norm := widget.NewEntry()
	norm.SetPlaceHolder(lang.L("remarks.norm_placeholder"))
	crit := widget.NewRadioGroup([]string{criticalityLabel(wire.CriticalityCritical), criticalityLabel(wire.CriticalityOrdinary)}, nil)
	crit.Horizontal = true
	crit.SetSelected(criticalityLabel(wire.CriticalityOrdinary))
	d := dialog.NewForm(lang.L("remarks.new"), lang.L("remarks.save_draft"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("docs.section"), sect),
		widget.NewFormItem(lang.L("remarks.text"), text),
		widget.NewFormItem(lang.L("remarks.norm_field"), norm),
		widget.NewFormItem(lang.L("remarks.criticality"), crit),
	}, func(ok bool) {
		if !ok {
			return
		}
		i := sect.SelectedIndex()
		if i < 0 {
			v.env.showError(wire.E(wire.CodeInvalid, "section", "Выберите раздел документации", "Choose a documentation section"))
			return
		}
		c := wire.CriticalityOrdinary
		if crit.Selected == criticalityLabel(wire.CriticalityCritical) {
			c = wire.CriticalityCritical
		}
		req := wire.CreateRemarkRequest{Section: codes[i], Text: strings.TrimSpace(text.Text), NormRef: strings.TrimSpace(norm.Text), Criticality: c}
		call(v.env, "create remark", func(ctx context.Context) (wire.Remark, error) {
			return v.be.CreateRemark(ctx, v.appID, req)
		}, func(_ wire.Remark, err error) { v.done(err) })
	}, v.env.win)
	d.Resize(fyne.NewSize(640, 480))
	v.lastDialog, v.lastText, v.lastNorm, v.lastCrit, v.lastSect = d, text, norm, crit, sect
	d.Show()
}

// askPublish lets the lead choose the remarks to send as one notice.
func (v *remarksView) askPublish() {
	rs := publishable(v.be.Store().Remarks(v.appID))
	labels := make([]string, len(rs))
	for i, r := range rs {
		labels[i] = remarkTitle(r) + ": " + shortText(r.Text, 80)
	}
	checks := widget.NewCheckGroup(labels, nil)
	checks.SetSelected(labels)
	comment := widget.NewEntry()
	comment.SetPlaceHolder(lang.L("remarks.publish_comment"))
	d := dialog.NewForm(lang.L("remarks.publish"), lang.L("remarks.send"), lang.L("dialog.cancel"), []*widget.FormItem{
		widget.NewFormItem(lang.L("remarks.to_send"), container.NewVScroll(checks)),
		widget.NewFormItem(lang.L("transition.comment"), comment),
	}, func(ok bool) {
		if !ok {
			return
		}
		var ids []int64
		for _, s := range checks.Selected {
			for i, l := range labels {
				if l == s {
					ids = append(ids, rs[i].ID)
				}
			}
		}
		a, _ := v.be.Store().Application(v.appID)
		text := comment.Text
		call(v.env, "publish remarks", func(ctx context.Context) (wire.Notice, error) {
			return v.be.PublishRemarks(ctx, a, ids, text)
		}, func(n wire.Notice, err error) {
			if err != nil {
				v.env.showError(err)
				return
			}
			dialog.ShowInformation(lang.L("remarks.publish"), lang.L("remarks.published", map[string]any{"Number": n.Number, "Count": len(n.RemarkIDs)}), v.env.win)
		})
	}, v.env.win)
	d.Resize(fyne.NewSize(700, 460))
	v.lastDialog, v.lastChecks = d, checks
	d.Show()
}

// export saves the register as shown (all remarks the user may see) as
// CSV or a PDF register.
func (v *remarksView) export(pdf bool) {
	st := v.be.Store()
	a, _ := st.Application(v.appID)
	rs, docs := st.Remarks(v.appID), st.Documents(v.appID)
	ext := ".csv"
	if pdf {
		ext = ".pdf"
	}
	v.saveFile(lang.L("remarks.export_file", map[string]any{"Number": a.Number})+ext, func(dst string) {
		call(v.env, "export remarks", func(ctx context.Context) (struct{}, error) {
			if !pdf {
				return struct{}{}, writeFileAtomic(dst, app.ExportRemarksCSV(rs, docs))
			}
			eng, err := v.env.pdf.get(ctx, v.env.dataDir)
			if err != nil {
				return struct{}{}, err
			}
			var b bytes.Buffer
			if err := app.ExportRemarksPDF(ctx, eng, &b, a, rs, docs, time.Now()); err != nil {
				return struct{}{}, err
			}
			return struct{}{}, writeFileAtomic(dst, b.Bytes())
		}, func(_ struct{}, err error) { v.env.showError(err) })
	})
}

// saveLetter saves a notice's PDF letter, verified by its SHA-256.
func (v *remarksView) saveLetter(n wire.Notice) {
	v.saveFile(lang.L("remarks.letter_file", map[string]any{"Number": n.Number})+".pdf", func(dst string) {
		call(v.env, "notice letter", func(ctx context.Context) (struct{}, error) {
			return struct{}{}, v.be.DownloadNoticeLetter(ctx, n, dst)
		}, func(_ struct{}, err error) { v.env.showError(err) })
	})
}

func shortText(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}
