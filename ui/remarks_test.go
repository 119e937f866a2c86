package ui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

var (
	remarksLead      = wire.User{ID: 30, FullName: "Петров П. П.", Role: wire.RoleExpert}
	remarksExpert    = wire.User{ID: 31, FullName: "Сидорова А. В.", Role: wire.RoleExpert}
	remarksApplicant = wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant, OrgID: 7}
)

func remarksCard(t *testing.T, me wire.User, status wire.Status, rs []wire.Remark) (*fakeBackend, *remarksView) {
	_, be, c := remarksCardEnv(t, me, status, rs)
	return be, c.remarks
}

func remarksCardEnv(t *testing.T, me wire.User, status wire.Status, rs []wire.Remark) (*env, *fakeBackend, *applicationCard) {
	t.Helper()
	e := newTestEnv(t, cardSize())
	be := newFakeBackend(me)
	be.store.ReplaceApplications(0, []wire.Application{{ID: 9, Number: "ГГЭ-2026-000009", OrgID: 7, Status: status, Version: 6,
		LeadExpertID: remarksLead.ID, Assignments: []wire.Assignment{{Section: "07.03", ExpertID: remarksExpert.ID}}}})
	be.card = app.Card{Channels: app.Channels(me.Role), Documents: []wire.Document{{ID: 1, AppID: 9, Section: "07.03", Name: "АР",
		Versions: []wire.DocumentVersion{{ID: 40, Number: 1, FileName: "АР.pdf"}, {ID: 41, Number: 2, FileName: "АР изм.1.pdf"}}}}}
	be.store.SetRemarks(9, rs)
	c := newApplicationCard(e, be, 9)
	// Closed at the end: a timer of the Store (typing fades) must not reach a
	// card of a finished test, whose UI calls are not serialised in tests.
	t.Cleanup(c.close)
	show(e, c.content(), cardSize())
	c.load()
	return e, be, c
}

func TestExpertWritesADraftRemark(t *testing.T) {
	be, v := remarksCard(t, remarksExpert, wire.StatusInReview, nil)
	if !containsObject(v.root, v.add) || containsObject(v.root, v.publish) {
		t.Fatalf("an assigned expert: «Новое замечание» shown %v, «Направить» shown %v", containsObject(v.root, v.add), containsObject(v.root, v.publish))
	}
	test.Tap(v.add)
	v.lastSect.SetSelectedIndex(7) // 07.03 АР
	test.Type(v.lastText, "Высота этажа не соответствует заданию")
	test.Type(v.lastNorm, "СП 54.13330.2022 п. 5.3")
	v.lastCrit.SetSelected("существенное")
	v.lastDialog.(*dialog.FormDialog).Submit()
	if !slices.Equal(be.remarkCalls, []string{"create:Высота этажа не соответствует заданию"}) {
		t.Fatalf("calls %v", be.remarkCalls)
	}
	rs := be.store.Remarks(9)
	if len(rs) != 1 || rs[0].Criticality != wire.CriticalityCritical || rs[0].Section != "07.03" {
		t.Fatalf("remarks %+v", rs)
	}
	if !containsText(v.list, "Черновик (видят автор и ведущий эксперт)") {
		t.Errorf("the draft is not marked private")
	}
}

func TestLeadPublishes(t *testing.T) {
	drafts := []wire.Remark{
		{ID: 1, AppID: 9, Section: "07.03", Text: "Нет разреза 2-2", NormRef: "ГОСТ Р 21.101-2020", Criticality: wire.CriticalityOrdinary, AuthorID: 31, Status: wire.RemarkDraft, Version: 1},
		{ID: 2, AppID: 9, Section: "07.03", Text: "Эвакуационные выходы", NormRef: "СП 1.13130.2020", Criticality: wire.CriticalityCritical, AuthorID: 30, Status: wire.RemarkDraft, Version: 1},
	}
	be, v := remarksCard(t, remarksLead, wire.StatusInReview, drafts)
	if !containsObject(v.root, v.publish) {
		t.Fatal("the lead has no «Направить заявителю»")
	}
	test.Tap(v.publish)
	v.lastChecks.SetSelected(v.lastChecks.Options[1:]) // only the second
	v.lastDialog.(*dialog.FormDialog).Submit()
	if !slices.Equal(be.remarkCalls, []string{"publish:6:[2]"}) {
		t.Errorf("calls %v", be.remarkCalls)
	}
}

func TestApplicantAnswersWithCorrectedFiles(t *testing.T) {
	published := []wire.Remark{{ID: 3, AppID: 9, Number: 1, Section: "07.03", Text: "Нет разреза 2-2", NormRef: "ГОСТ Р 21.101-2020",
		Criticality: wire.CriticalityOrdinary, AuthorID: 31, AuthorName: "Сидорова А. В.", Status: wire.RemarkPublished, Version: 2,
		Anchor: &wire.RemarkAnchor{Page: 12}}}
	be, v := remarksCard(t, remarksApplicant, wire.StatusRemarksIssued, published)
	if containsObject(v.root, v.add) {
		t.Error("an applicant may write remarks")
	}
	for _, want := range []string{"Замечание № 1 · 07.03 АР · несущественное", "Нет разреза 2-2", "Норматив: ГОСТ Р 21.101-2020 · стр. 12 · Эксперт: Сидорова А. В."} {
		if !containsText(v.list, want) {
			t.Errorf("the register lacks %q", want)
		}
	}
	answer := findButton(v.list, "Ответить")
	if answer == nil {
		t.Fatal("no «Ответить»")
	}
	test.Tap(answer)
	test.Type(v.lastText, "Разрез добавлен, лист 14")
	for _, o := range v.lastChecks.Options {
		if strings.Contains(o, "АР изм.1.pdf") {
			v.lastChecks.SetSelected([]string{o})
		}
	}
	v.lastDialog.(*dialog.FormDialog).Submit()
	if !slices.Equal(be.remarkCalls, []string{"answer:3:Разрез добавлен, лист 14:[41]"}) {
		t.Fatalf("calls %v", be.remarkCalls)
	}
	if !containsText(v.list, "Исправленные файлы: АР изм.1.pdf (Версия 2)") {
		t.Errorf("the corrected file is not named")
	}
}

func TestOfflineAnswerIsPending(t *testing.T) {
	published := []wire.Remark{{ID: 3, AppID: 9, Number: 1, Section: "07.03", Text: "Нет разреза", NormRef: "ГОСТ",
		Criticality: wire.CriticalityOrdinary, Status: wire.RemarkPublished, Version: 2}}
	be, v := remarksCard(t, remarksApplicant, wire.StatusRemarksIssued, published)
	be.offline = true
	test.Tap(findButton(v.list, "Ответить"))
	test.Type(v.lastText, "Исправлено")
	v.lastDialog.(*dialog.FormDialog).Submit()
	if !containsText(v.list, "Ожидает отправки: ответ на замечание «Исправлено». Будет отправлено при подключении к серверу.") {
		t.Errorf("the queued answer is not shown as pending")
	}
}

func TestExpertJudgesAnswer(t *testing.T) {
	answered := []wire.Remark{{ID: 4, AppID: 9, Number: 2, Section: "07.03", Text: "Нет разреза", NormRef: "ГОСТ", Criticality: wire.CriticalityOrdinary,
		AuthorID: remarksExpert.ID, Status: wire.RemarkAnswered, Version: 3,
		Answers: []wire.RemarkAnswer{{Text: "Добавлен", AuthorName: "Иванов И. И.", CreatedAt: time.Date(2026, 3, 5, 10, 0, 0, 0, time.UTC)}}}}
	be, v := remarksCard(t, remarksExpert, wire.StatusInReview, answered)
	if findButton(v.list, "Принять ответ") == nil || findButton(v.list, "Вернуть на доработку") == nil {
		t.Fatal("the author cannot judge the answer")
	}
	test.Tap(findButton(v.list, "Вернуть на доработку"))
	test.Type(v.lastText, "Разрез без отметок")
	v.lastDialog.(*dialog.FormDialog).Submit()
	if !slices.Equal(be.remarkCalls, []string{"status:4:reopened:Разрез без отметок"}) {
		t.Errorf("calls %v", be.remarkCalls)
	}
	// Another expert, neither author nor lead, may not judge it.
	_, other := remarksCard(t, wire.User{ID: 99, Role: wire.RoleExpert}, wire.StatusInReview, answered)
	if findButton(other.list, "Принять ответ") != nil {
		t.Error("an expert who is neither author nor lead may accept")
	}
}

func TestRemarksExportAndLetter(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	published := []wire.Remark{{ID: 3, AppID: 9, Number: 1, Section: "07.03", Text: "Нет разреза 2-2", NormRef: "ГОСТ Р 21.101-2020",
		Criticality: wire.CriticalityCritical, Status: wire.RemarkPublished, Version: 2}}
	e, be, c := remarksCardEnv(t, remarksExpert, wire.StatusRemarksIssued, published)
	e.dataDir = t.TempDir()
	v := c.remarks
	dir := t.TempDir()
	v.saveFile = func(name string, done func(string)) { done(filepath.Join(dir, name)) }
	test.Tap(v.csv)
	test.Tap(v.pdf)
	csv, err := os.ReadFile(filepath.Join(dir, "Замечания ГГЭ-2026-000009.csv"))
	if err != nil || !strings.Contains(string(csv), "Нет разреза 2-2") {
		t.Errorf("CSV: %v %q", err, csv)
	}
	out, err := exec.Command("pdftotext", filepath.Join(dir, "Замечания ГГЭ-2026-000009.pdf"), "-").Output()
	if err != nil || !strings.Contains(string(out), "ГОСТ Р 21.101-2020") {
		t.Errorf("PDF: %v %q", err, out)
	}
	// A notice whose letter is rendered offers it; one still rendering says so.
	be.store.SetNotices(9, []wire.Notice{{ID: 1, AppID: 9, Number: 1, RemarkIDs: []int64{3}}, {ID: 2, AppID: 9, Number: 2, LetterSHA256: strings.Repeat("a", 64)}})
	if !containsText(v.notices, "письмо готовится…") {
		t.Error("a pending letter is not marked")
	}
	b := findButton(v.notices, "Письмо (PDF)")
	if b == nil {
		t.Fatal("no letter button")
	}
	test.Tap(b)
	if !slices.Contains(be.remarkCalls, "letter:2:Уведомление о замечаниях № 2.pdf") {
		t.Errorf("calls %v", be.remarkCalls)
	}
}

func TestRemarkShowsItsPlace(t *testing.T) {
	anchored := []wire.Remark{{ID: 3, AppID: 9, Number: 1, Section: "07.03", Text: "Нет разреза 2-2", NormRef: "ГОСТ",
		Criticality: wire.CriticalityOrdinary, Status: wire.RemarkPublished, Version: 2, VersionID: 41,
		Anchor: &wire.RemarkAnchor{Page: 12, Rect: &wire.Rect{X1: 10, Y1: 20, X2: 30, Y2: 40}}}}
	_, v := remarksCard(t, remarksApplicant, wire.StatusRemarksIssued, anchored)
	var shown []string
	v.showPlace = func(_ *env, _ backend, appID int64, ver wire.DocumentVersion, page int, rect *wire.Rect) {
		shown = append(shown, fmt.Sprintf("%d:%d:%d:%v", appID, ver.ID, page, *rect))
	}
	v.seen = ""
	v.refresh()
	b := findButton(v.list, "Показать на странице")
	if b == nil {
		t.Fatal("no «Показать на странице» for an anchored remark")
	}
	test.Tap(b)
	if !slices.Equal(shown, []string{"9:41:12:{10 20 30 40}"}) {
		t.Errorf("shown %v", shown)
	}
}
