package ui

import (
	"context"
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

// conclFake is what the fake backend keeps for the conclusion tab.
type conclFake struct {
	loadErr   error
	saved     []wire.SaveConclusionRequest
	proposed  []wire.SaveConclusionRequest
	downloads []string // kind:dst
	signed    []string
	saveErr   error
}

func (f *fakeBackend) LoadConclusion(_ context.Context, appID int64) (wire.Conclusion, error) {
	if f.concl.loadErr != nil {
		return wire.Conclusion{}, f.concl.loadErr
	}
	c, _ := f.store.Conclusion(appID)
	return c, nil
}

func (f *fakeBackend) SaveConclusion(_ context.Context, appID int64, r wire.SaveConclusionRequest) (wire.Conclusion, error) {
	f.concl.saved = append(f.concl.saved, r)
	if f.concl.saveErr != nil {
		return wire.Conclusion{}, f.concl.saveErr
	}
	c, _ := f.store.Conclusion(appID)
	c.AppID, c.Version, c.ContractNumber, c.Findings, c.Verdict, c.Justification = appID, c.Version+1, r.ContractNumber, r.Findings, r.Verdict, r.Justification
	f.store.SetConclusion(c)
	return c, nil
}

func (f *fakeBackend) ProposeConclusion(ctx context.Context, appID int64, r wire.SaveConclusionRequest) (wire.Application, error) {
	f.concl.proposed = append(f.concl.proposed, r)
	a, _ := f.store.Application(appID)
	a.ProposedVerdict, a.Version = r.Verdict, a.Version+1
	f.store.UpsertApplication(a)
	return a, nil
}

func (f *fakeBackend) DownloadConclusion(_ context.Context, c wire.Conclusion, kind, dst string) error {
	f.concl.downloads = append(f.concl.downloads, kind+":"+dst)
	return nil
}

func (f *fakeBackend) AddConclusionSignature(_ context.Context, appID int64, path string) (wire.Conclusion, error) {
	f.concl.signed = append(f.concl.signed, path)
	c, _ := f.store.Conclusion(appID)
	return c, nil
}

var conclManager = wire.User{ID: 40, FullName: "Менеджерова М. М.", Role: wire.RoleManager}

// conclusionCard opens application 9 (lead remarksLead, 07.03 assigned to
// remarksExpert, files АР v1 and v2) for me in status, with c stored.
func conclusionCard(t *testing.T, me wire.User, status wire.Status, c *wire.Conclusion, loadErr error) (*fakeBackend, *applicationCard) {
	t.Helper()
	e := newTestEnv(t, cardSize())
	be := newFakeBackend(me)
	be.store.ReplaceApplications(0, []wire.Application{{ID: 9, Number: "ГГЭ-2026-000009", OrgID: 7, Status: status, Version: 6,
		LeadExpertID: remarksLead.ID, Assignments: []wire.Assignment{{Section: "07.03", ExpertID: remarksExpert.ID}}}})
	be.card = app.Card{Channels: app.Channels(me.Role), Documents: []wire.Document{{ID: 1, AppID: 9, Section: "07.03", Name: "АР",
		Versions: []wire.DocumentVersion{{ID: 41, Number: 2, FileName: "АР изм.1.pdf"}, {ID: 40, Number: 1, FileName: "АР.pdf"}}}}}
	be.store.SetRemarks(9, []wire.Remark{{ID: 3, AppID: 9, Number: 1, Section: "07.03", Text: "Нет разреза 2-2", NormRef: "ГОСТ Р 21.101-2020",
		Criticality: wire.CriticalityCritical, Status: wire.RemarkAccepted, Version: 4, Answers: []wire.RemarkAnswer{{Text: "Разрез добавлен"}}}})
	if c != nil {
		be.store.SetConclusion(*c)
	}
	be.concl.loadErr = loadErr
	card := newApplicationCard(e, be, 9)
	t.Cleanup(card.close)
	show(e, card.content(), cardSize())
	card.load()
	return be, card
}

func draftConclusion() *wire.Conclusion {
	at := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	return &wire.Conclusion{AppID: 9, State: wire.ConclusionDraft, Version: 2, ApplicationNumber: "ГГЭ-2026-000009", ObjectName: "Школа", WorksKind: wire.WorksConstruction,
		Findings: []wire.ConclusionFinding{{Section: "07.03", Text: "Соответствует заданию"}}, Verdict: wire.StatusCompletedPositive,
		Documents:     []wire.ConclusionDocument{{VersionID: 41, Section: "07.03", Name: "АР", FileName: "АР изм.1.pdf", Number: 2}},
		Justification: "Замечания устранены", UpdatedAt: &at, UpdatedBy: remarksLead.FullName,
		Experts: []wire.ConclusionExpert{{ExpertID: 30, Name: remarksLead.FullName, Lead: true}}, Signatures: []wire.Signature{}}
}

func TestConclusionTabLeadEditsAndSaves(t *testing.T) {
	be, card := conclusionCard(t, remarksLead, wire.StatusInReview, draftConclusion(), nil)
	v := card.concl
	if v.tab == nil || !slices.Contains(card.tabs.Items, v.tab) {
		t.Fatal("the lead has no «Заключение» tab")
	}
	card.tabs.Select(v.tab)
	if !containsObject(v.root, v.save) || containsObject(v.root, v.propose) {
		t.Fatalf("in review: «Сохранить» shown %v, «Предложить вердикт» shown %v", containsObject(v.root, v.save), containsObject(v.root, v.propose))
	}
	if v.findings["07.03"].Text != "Соответствует заданию" || !slices.Equal(v.docs.Selected, []string{"07.03 АР · АР изм.1.pdf · Версия 2"}) {
		t.Fatalf("the form was not filled: %q, %v", v.findings["07.03"].Text, v.docs.Selected)
	}
	v.findings["07.03"].SetText("Соответствует заданию и нормам")
	v.docs.SetSelected(v.docs.Options) // both versions
	v.verdict.SetSelected("Отрицательное заключение")
	test.Type(v.contract, "Д-9")
	test.Tap(v.save)
	if len(be.concl.saved) != 1 {
		t.Fatalf("saves %v", be.concl.saved)
	}
	r := be.concl.saved[0]
	if r.Version != 2 || r.ContractNumber != "Д-9" || !slices.Equal(r.DocumentIDs, []int64{40, 41}) || r.Verdict != wire.StatusCompletedNegative ||
		len(r.Findings) != 1 || r.Findings[0].Text != "Соответствует заданию и нормам" || r.Justification != "Замечания устранены" {
		t.Fatalf("saved %+v", r)
	}
	// The new version is shown and the form follows it.
	if v.formFor != 3 || v.dirty() {
		t.Errorf("after the save: form of version %d, dirty %v", v.formFor, v.dirty())
	}
	if !containsText(v.root, "Проект заключения, версия 3 (Петров П. П.)") {
		t.Error("the state line does not show the new version")
	}
}

func TestConclusionTabLeadProposes(t *testing.T) {
	be, card := conclusionCard(t, remarksLead, wire.StatusConclusion, draftConclusion(), nil)
	v := card.concl
	if !containsObject(v.root, v.propose) {
		t.Fatal("in conclusion the lead has no «Предложить вердикт»")
	}
	v.doPropose(v.request())
	if len(be.concl.proposed) != 1 || be.concl.proposed[0].Verdict != wire.StatusCompletedPositive || be.concl.proposed[0].Version != 2 {
		t.Fatalf("proposed %+v", be.concl.proposed)
	}
}

func TestConclusionTabManagerReadsOnly(t *testing.T) {
	c := draftConclusion()
	c.Proposed = true
	_, card := conclusionCard(t, conclManager, wire.StatusConclusion, c, nil)
	v := card.concl
	if v.tab == nil {
		t.Fatal("the manager has no «Заключение» tab")
	}
	if containsObject(v.root, v.save) || containsObject(v.root, v.propose) || v.contract != nil {
		t.Fatal("the manager got the lead's form")
	}
	for _, want := range []string{"Вывод предложен: Положительное заключение — ожидает утверждения менеджером", "Соответствует заданию",
		"Положительное заключение", "Замечания устранены", "Ответ заявителя: Разрез добавлен"} {
		if !containsText(v.root, want) {
			t.Errorf("the manager does not see %q", want)
		}
	}
	if containsObject(v.root, v.pdfBtn) {
		t.Error("downloads offered before rendering")
	}
}

func TestConclusionTabApplicant(t *testing.T) {
	// Before completion there is no tab and nothing is asked of the server.
	be, card := conclusionCard(t, remarksApplicant, wire.StatusConclusion, nil, wire.E(wire.CodeForbidden, "", "нет", "no"))
	if card.concl.tab != nil {
		t.Fatal("the applicant sees the tab before completion")
	}
	// Completed: the tab appears by itself, with the files to download.
	ready := draftConclusion()
	at := time.Date(2026, 4, 20, 9, 0, 0, 0, time.UTC)
	ready.State, ready.Number, ready.ApprovedAt, ready.ApprovedBy, ready.Version = wire.ConclusionReady, "ГГЭ-З-2026-000001", &at, "Менеджерова М. М.", 5
	ready.PDFSHA256, ready.XMLSHA256 = "aa", "bb"
	be.concl.loadErr = nil
	be.store.SetConclusion(*ready)
	a, _ := be.store.Application(9)
	a.Status, a.Version = wire.StatusCompletedPositive, 8
	be.store.UpsertApplication(a)
	card.storeChanged()
	v := card.concl
	if v.tab == nil || !containsObject(v.root, v.pdfBtn) || !containsObject(v.root, v.xmlBtn) {
		t.Fatal("the completed conclusion offers no downloads to the applicant")
	}
	if containsObject(v.root, v.signBtn) {
		t.Error("the applicant may sign")
	}
	v.saveFile = func(name string, done func(string)) { done("/tmp/" + name) }
	test.Tap(v.pdfBtn)
	test.Tap(v.xmlBtn)
	want := []string{"pdf:/tmp/Заключение ГГЭ-З-2026-000001.pdf", "xml:/tmp/Заключение ГГЭ-З-2026-000001.xml"}
	if !slices.Equal(be.concl.downloads, want) {
		t.Fatalf("downloads %v, want %v", be.concl.downloads, want)
	}
	if !containsText(v.root, "Подписей пока нет") {
		t.Error("no signatures line")
	}
}

func TestConclusionTabRefusalShown(t *testing.T) {
	_, card := conclusionCard(t, conclManager, wire.StatusInReview, nil, wire.E(wire.CodeNotFound, "", "нет", "no"))
	if !containsText(card.concl.root, "Заключение будет доступно после его утверждения.") {
		t.Fatal("the refusal is not explained")
	}
}
