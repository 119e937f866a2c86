package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// conclusionView is the card's «Заключение» tab. The lead expert edits
// the structured draft (findings per section, reviewed documents, verdict,
// justification) and proposes the verdict; everyone else who may read it
// sees it read-only (the manager approves with the card's transition
// buttons); once rendered, «Скачать PDF» / «Скачать XML» and the
// signatures. The tab appears for staff once the review has started and
// for applicants once the application is completed: before that there is
// nothing they may read.
type conclusionView struct {
	env   *env
	be    backend
	appID int64
	tabs  *container.AppTabs
	tab   *container.TabItem

	body    *fyne.Container
	root    fyne.CanvasObject
	loaded  bool  // a load was asked for (again after a refusal only on a status change)
	loadErr error // the last load's refusal
	loadFor wire.Status
	seen    string // fingerprint of what is shown

	// The form, while the user edits it; formFor is the conclusion
	// version it was filled from.
	contract      *widget.Entry
	docs          *widget.CheckGroup
	docIDs        map[string]int64 // check label → version id
	findings      map[string]*widget.Entry
	findingOrder  []string
	verdict       *widget.RadioGroup
	justification *widget.Entry
	save, propose *widget.Button
	formFor       int64
	formOrig      string // the request the form was filled with, to tell edits

	pdfBtn, xmlBtn, signBtn *widget.Button

	// pickFile and saveFile stand for the system file dialogs (tests
	// replace them).
	pickFile func(done func(path string))
	saveFile func(name string, done func(path string))
}

func newConclusionView(e *env, be backend, appID int64, tabs *container.AppTabs) *conclusionView {
	v := &conclusionView{env: e, be: be, appID: appID, tabs: tabs, body: container.NewVBox()}
	v.root = container.NewVScroll(v.body)
	v.save = widget.NewButtonWithIcon(lang.L("conclusion.save"), theme.DocumentSaveIcon(), v.doSave)
	v.propose = widget.NewButtonWithIcon(lang.L("conclusion.propose"), theme.ConfirmIcon(), v.askPropose)
	v.propose.Importance = widget.HighImportance
	v.pdfBtn = widget.NewButtonWithIcon(lang.L("conclusion.download_pdf"), theme.DownloadIcon(), func() { v.download(client.ConclusionPDF) })
	v.xmlBtn = widget.NewButtonWithIcon(lang.L("conclusion.download_xml"), theme.DownloadIcon(), func() { v.download(client.ConclusionXML) })
	v.signBtn = widget.NewButtonWithIcon(lang.L("conclusion.sign"), theme.ContentAddIcon(), v.askSign)
	v.pickFile = v.systemPick
	v.saveFile = func(name string, done func(string)) { systemSave(e, name, done) }
	return v
}

// visible reports whether the user may read the conclusion of a now.
func conclusionVisible(a wire.Application, me wire.User) bool {
	switch a.Status {
	case wire.StatusCompletedPositive, wire.StatusCompletedNegative, wire.StatusArchived:
		return true
	case wire.StatusInReview, wire.StatusRemarksIssued, wire.StatusConclusion:
		return me.Role.Staff()
	}
	return false
}

// load reads the conclusion (the card calls it when it opens).
func (v *conclusionView) load() {
	a, _ := v.be.Store().Application(v.appID)
	if !conclusionVisible(a, v.be.Me()) {
		return
	}
	v.ensureTab()
	v.loaded, v.loadFor = true, a.Status
	call(v.env, "load conclusion", func(ctx context.Context) (wire.Conclusion, error) {
		return v.be.LoadConclusion(ctx, v.appID)
	}, func(_ wire.Conclusion, err error) {
		v.loadErr = err
		v.seen = ""
		v.refresh()
	})
}

func (v *conclusionView) ensureTab() {
	if v.tab != nil {
		return
	}
	v.tab = container.NewTabItem(lang.L("card.tab.conclusion"), v.root)
	v.tabs.Append(v.tab)
}

// refresh follows the Store: a new status may show the tab (and read the
// conclusion), a new version of the conclusion redraws it unless the lead
// is in the middle of editing.
func (v *conclusionView) refresh() {
	st := v.be.Store()
	a, _ := st.Application(v.appID)
	me := v.be.Me()
	if !conclusionVisible(a, me) {
		return
	}
	if !v.loaded || (v.loadErr != nil && a.Status != v.loadFor) {
		v.load()
		return
	}
	c, have := st.Conclusion(v.appID)
	editable := app.ConclusionEditable(a, me) && c.ApprovedAt == nil
	var fp strings.Builder
	fmt.Fprintf(&fp, "%d/%s/%s/%d/%v/%v;", a.Version, a.Status, a.ProposedVerdict, c.Version, have, v.loadErr != nil)
	if editable {
		for _, d := range st.Documents(v.appID) {
			for _, ver := range d.Versions {
				fmt.Fprintf(&fp, "d%d;", ver.ID)
			}
		}
	}
	if c.ApprovedAt == nil {
		for _, r := range st.Remarks(v.appID) {
			fmt.Fprintf(&fp, "r%d.%d;", r.ID, r.Version)
		}
	}
	if fp.String() == v.seen {
		return
	}
	if editable && v.formFor != 0 && v.dirty() {
		return // keep what the lead typed; saving meets the conflict if any
	}
	v.seen = fp.String()
	v.render(a, me, c, have, editable)
}

func (v *conclusionView) render(a wire.Application, me wire.User, c wire.Conclusion, have, editable bool) {
	objs := []fyne.CanvasObject{}
	if v.loadErr != nil && !have {
		text := message(v.loadErr)
		if wire.ErrorCode(v.loadErr) == wire.CodeForbidden || wire.ErrorCode(v.loadErr) == wire.CodeNotFound {
			text = lang.L("conclusion.not_yet")
		}
		l := widget.NewLabel(text)
		l.Wrapping = fyne.TextWrapWord
		v.body.Objects = []fyne.CanvasObject{l}
		v.body.Refresh()
		return
	}
	if !have {
		v.body.Objects = []fyne.CanvasObject{widget.NewLabel(lang.L("common.loading"))}
		v.body.Refresh()
		return
	}
	objs = append(objs, v.stateLine(a, c))
	if c.State == wire.ConclusionReady {
		objs = append(objs, container.NewHBox(v.pdfBtn, v.xmlBtn))
	}
	heading := func(key string) fyne.CanvasObject {
		return widget.NewLabelWithStyle(lang.L(key), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	text := func(s string) *widget.Label {
		l := widget.NewLabel(s)
		l.Wrapping = fyne.TextWrapWord
		l.Selectable = true
		return l
	}
	objs = append(objs, heading("conclusion.object"),
		text(c.ObjectName+" · "+c.ObjectAddress+" · "+worksLabel(c.WorksKind)),
		heading("conclusion.basis"),
		text(lang.L("conclusion.application", map[string]any{"Number": c.ApplicationNumber})))
	if editable {
		v.fillForm(a, c)
		objs = append(objs, widget.NewForm(widget.NewFormItem(lang.L("conclusion.contract"), v.contract)),
			heading("conclusion.documents"), v.docs, heading("conclusion.findings"))
		for _, sec := range v.findingOrder {
			objs = append(objs, widget.NewLabel(sectionText(sec)), v.findings[sec])
		}
	} else {
		objs = append(objs, text(lang.L("conclusion.contract")+": "+dash(c.ContractNumber)), heading("conclusion.documents"))
		for _, d := range c.Documents {
			objs = append(objs, text(fmt.Sprintf("%s · %s · %s %d", sectionText(d.Section), d.FileName, lang.L("docs.version"), d.Number)))
		}
		if len(c.Documents) == 0 {
			objs = append(objs, text("—"))
		}
		objs = append(objs, heading("conclusion.findings"))
		for _, f := range c.Findings {
			objs = append(objs, widget.NewLabelWithStyle(sectionText(f.Section), fyne.TextAlignLeading, fyne.TextStyle{Italic: true}), text(f.Text))
		}
		if len(c.Findings) == 0 {
			objs = append(objs, text("—"))
		}
	}
	objs = append(objs, heading("conclusion.remarks"))
	remarks := c.Remarks
	if c.ApprovedAt == nil {
		remarks = wire.ConclusionRemarks(v.be.Store().Remarks(v.appID)) // the register as it is now
	}
	for _, r := range remarks {
		line := fmt.Sprintf("№ %d · %s · %s · %s", r.Number, sectionText(r.Section), criticalityLabel(r.Criticality), remarkStatusLabel(r.Status))
		l := text(line + "\n" + r.Text + " (" + r.NormRef + ")")
		l.Importance = remarkImportance(r.Status)
		objs = append(objs, l)
		if r.Answer != "" {
			objs = append(objs, text(lang.L("conclusion.answer")+": "+r.Answer))
		}
	}
	if len(remarks) == 0 {
		objs = append(objs, text(lang.L("conclusion.no_remarks")))
	}
	objs = append(objs, heading("conclusion.experts"))
	for _, e := range c.Experts {
		var secs []string
		for _, s := range e.Sections {
			secs = append(secs, sectionText(s))
		}
		line := e.Name
		if len(secs) > 0 {
			line += " — " + strings.Join(secs, ", ")
		}
		if e.Lead {
			line += " " + lang.L("card.lead")
		}
		objs = append(objs, text(line))
	}
	objs = append(objs, heading("conclusion.verdict"))
	if editable {
		objs = append(objs, v.verdict, widget.NewLabel(lang.L("conclusion.justification")), v.justification)
		buttons := container.NewHBox(v.save)
		if a.Status == wire.StatusConclusion {
			buttons.Add(v.propose)
		}
		objs = append(objs, buttons)
	} else {
		objs = append(objs, text(verdictText(c.Verdict)), text(dash(c.Justification)))
	}
	if c.State == wire.ConclusionReady {
		objs = append(objs, heading("conclusion.signatures"))
		for _, sg := range c.Signatures {
			for _, s := range app.Signers(sg) {
				l := text(sg.FileName + ": " + signerText(s))
				l.Importance = verdictImportance(s.Verdict)
				objs = append(objs, l)
			}
		}
		if len(c.Signatures) == 0 {
			objs = append(objs, text(lang.L("conclusion.no_signatures")))
		}
		if app.ConclusionSignable(c, me) {
			objs = append(objs, container.NewHBox(v.signBtn))
		}
	}
	v.body.Objects = objs
	v.body.Refresh()
}

// stateLine says where the conclusion stands.
func (v *conclusionView) stateLine(a wire.Application, c wire.Conclusion) fyne.CanvasObject {
	var s string
	imp := widget.MediumImportance
	switch {
	case c.State == wire.ConclusionReady:
		s = lang.L("conclusion.state.ready", map[string]any{"Number": c.Number, "Date": timeText(*c.ApprovedAt), "By": c.ApprovedBy})
		imp = widget.SuccessImportance
	case c.State == wire.ConclusionRendering:
		s = lang.L("conclusion.state.rendering", map[string]any{"Number": c.Number})
	case a.Status == wire.StatusConclusion && c.Proposed:
		s = lang.L("conclusion.state.proposed", map[string]any{"Verdict": verdictText(c.Verdict)})
		imp = widget.HighImportance
	case c.Version == 0:
		s = lang.L("conclusion.state.empty")
	default:
		s = lang.L("conclusion.state.draft", map[string]any{"Version": c.Version, "By": c.UpdatedBy})
	}
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.Wrapping = fyne.TextWrapWord
	l.Importance = imp
	return l
}

func verdictText(v wire.Status) string {
	switch v {
	case wire.StatusCompletedPositive:
		return lang.L("conclusion.verdict.positive")
	case wire.StatusCompletedNegative:
		return lang.L("conclusion.verdict.negative")
	}
	return lang.L("conclusion.verdict.none")
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// fillForm (re)builds the lead's form from c when it is a new version.
func (v *conclusionView) fillForm(a wire.Application, c wire.Conclusion) {
	docs := v.be.Store().Documents(v.appID)
	if v.formFor == c.Version && v.contract != nil && c.Version != 0 {
		return
	}
	v.contract = widget.NewEntry()
	v.contract.SetText(c.ContractNumber)
	v.docIDs = map[string]int64{}
	var labels, checked []string
	for _, d := range docs {
		for _, ver := range d.Versions {
			label := fmt.Sprintf("%s · %s · %s %d", sectionText(d.Section), ver.FileName, lang.L("docs.version"), ver.Number)
			labels = append(labels, label)
			v.docIDs[label] = ver.ID
			if slices.ContainsFunc(c.Documents, func(x wire.ConclusionDocument) bool { return x.VersionID == ver.ID }) {
				checked = append(checked, label)
			}
		}
	}
	v.docs = widget.NewCheckGroup(labels, nil)
	v.docs.SetSelected(checked)
	v.findings = map[string]*widget.Entry{}
	v.findingOrder = app.FindingSections(a, docs, c)
	for _, sec := range v.findingOrder {
		e := widget.NewMultiLineEntry()
		e.Wrapping = fyne.TextWrapWord
		e.SetMinRowsVisible(3)
		e.SetPlaceHolder(lang.L("conclusion.finding_placeholder"))
		for _, f := range c.Findings {
			if f.Section == sec {
				e.SetText(f.Text)
			}
		}
		v.findings[sec] = e
	}
	v.verdict = widget.NewRadioGroup([]string{lang.L("conclusion.verdict.positive"), lang.L("conclusion.verdict.negative")}, nil)
	v.verdict.Horizontal = true
	if c.Verdict != "" {
		v.verdict.SetSelected(verdictText(c.Verdict))
	}
	v.justification = widget.NewMultiLineEntry()
	v.justification.Wrapping = fyne.TextWrapWord
	v.justification.SetMinRowsVisible(4)
	v.justification.SetText(c.Justification)
	v.formFor = c.Version
	v.formOrig = fmt.Sprint(v.formState())
	if c.Version == 0 {
		v.formFor = -1 // no draft yet: any refresh may rebuild until typed in
	}
}

// dirty reports whether the lead changed the form since it was filled.
func (v *conclusionView) dirty() bool {
	return v.contract != nil && fmt.Sprint(v.formState()) != v.formOrig
}

// request is the draft as the form holds it, naming the version shown.
func (v *conclusionView) request() wire.SaveConclusionRequest {
	r := v.formState()
	if c, ok := v.be.Store().Conclusion(v.appID); ok {
		r.Version = c.Version
	}
	return r
}

// formState is what the form holds, without the version.
func (v *conclusionView) formState() wire.SaveConclusionRequest {
	r := wire.SaveConclusionRequest{ContractNumber: strings.TrimSpace(v.contract.Text), DocumentIDs: []int64{},
		Findings: []wire.ConclusionFinding{}, Justification: strings.TrimSpace(v.justification.Text)}
	for _, label := range v.docs.Selected {
		r.DocumentIDs = append(r.DocumentIDs, v.docIDs[label])
	}
	slices.Sort(r.DocumentIDs)
	for _, sec := range v.findingOrder {
		if t := strings.TrimSpace(v.findings[sec].Text); t != "" {
			r.Findings = append(r.Findings, wire.ConclusionFinding{Section: sec, Text: t})
		}
	}
	switch v.verdict.Selected {
	case lang.L("conclusion.verdict.positive"):
		r.Verdict = wire.StatusCompletedPositive
	case lang.L("conclusion.verdict.negative"):
		r.Verdict = wire.StatusCompletedNegative
	}
	return r
}

func (v *conclusionView) setBusy(busy bool) {
	for _, b := range []*widget.Button{v.save, v.propose} {
		if busy {
			b.Disable()
		} else {
			b.Enable()
		}
	}
}

// done handles a command's answer: a conflict reloads (the lead saw an
// old draft), anything else is shown.
func (v *conclusionView) done(err error) {
	v.setBusy(false)
	if err != nil {
		v.env.showError(err)
		if we, ok := wire.AsError(err); ok && we.Code == wire.CodeConflict && we.Field == "version" {
			v.formFor = 0
			v.loaded = false
			v.refresh()
		}
		return
	}
	v.formFor, v.seen = 0, ""
	v.refresh()
}

func (v *conclusionView) doSave() {
	r := v.request()
	v.setBusy(true)
	call(v.env, "save conclusion", func(ctx context.Context) (wire.Conclusion, error) {
		return v.be.SaveConclusion(ctx, v.appID, r)
	}, func(_ wire.Conclusion, err error) { v.done(err) })
}

// askPropose confirms the proposal: it is what the manager approves.
func (v *conclusionView) askPropose() {
	r := v.request()
	if r.Verdict == "" {
		dialog.ShowInformation(lang.L("conclusion.propose"), lang.L("conclusion.choose_verdict"), v.env.win)
		return
	}
	d := dialog.NewConfirm(lang.L("conclusion.propose"), lang.L("conclusion.propose_confirm", map[string]any{"Verdict": verdictText(r.Verdict)}),
		func(ok bool) {
			if ok {
				v.doPropose(r)
			}
		}, v.env.win)
	d.SetConfirmText(lang.L("conclusion.propose"))
	d.SetDismissText(lang.L("dialog.cancel"))
	d.Show()
}

func (v *conclusionView) doPropose(r wire.SaveConclusionRequest) {
	v.setBusy(true)
	call(v.env, "propose verdict", func(ctx context.Context) (wire.Application, error) {
		return v.be.ProposeConclusion(ctx, v.appID, r)
	}, func(_ wire.Application, err error) { v.done(err) })
}

func (v *conclusionView) download(kind string) {
	c, ok := v.be.Store().Conclusion(v.appID)
	if !ok {
		return
	}
	name := "Заключение " + c.Number + "." + kind
	v.saveFile(name, func(dst string) {
		call(v.env, "download conclusion", func(ctx context.Context) (struct{}, error) {
			return struct{}{}, v.be.DownloadConclusion(ctx, c, kind, dst)
		}, func(_ struct{}, err error) {
			if err != nil {
				v.env.showError(err)
				return
			}
			dialog.ShowInformation(lang.L("docs.download"), lang.L("docs.saved", map[string]any{"Path": dst}), v.env.win)
		})
	})
}

func (v *conclusionView) askSign() {
	v.pickFile(func(path string) {
		call(v.env, "sign conclusion", func(ctx context.Context) (wire.Conclusion, error) {
			return v.be.AddConclusionSignature(ctx, v.appID, path)
		}, func(_ wire.Conclusion, err error) {
			if err != nil {
				v.env.showError(err)
			}
		})
	})
}

func (v *conclusionView) systemPick(done func(string)) {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		_ = r.Close()
		done(r.URI().Path())
	}, v.env.win)
	d.SetFilter(storage.NewExtensionFileFilter([]string{".sig", ".SIG", ".p7s", ".P7S"}))
	d.Resize(fyne.NewSize(800, 560))
	d.Show()
}
