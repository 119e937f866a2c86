package ui

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestNewApplicationForm(t *testing.T) {
	e := newTestEnv(t, appsSize())
	be := newFakeBackend(wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant, OrgID: 7})
	v := newApplicationsView(e, be)
	show(e, v.content(), appsSize())
	if !containsObject(v.root, v.newApp) {
		t.Fatal("an applicant has no «Новое заявление»")
	}
	d := askNewApplication(e, be, v.open)
	d.dlg.Confirm() // everything empty
	if len(be.created) != 0 {
		t.Fatalf("created from an empty form: %+v", be.created)
	}
	for _, want := range []string{"Укажите наименование объекта капитального строительства", "Укажите адрес (местоположение) объекта",
		"Выберите вид работ: строительство, реконструкция или капитальный ремонт", "Выберите источник финансирования"} {
		if !containsText(d.form.form, want) {
			t.Errorf("the form does not say %q", want)
		}
	}
	test.Type(d.form.object.entry, "Детская поликлиника на 600 посещений")
	test.Type(d.form.address.entry, "г. Кострома, ул. Советская, 5")
	d.form.works.sel.SetSelectedIndex(0)
	d.form.kind.sel.SetSelectedIndex(0)
	d.form.financing.sel.SetSelectedIndex(0)
	test.Type(d.form.email.entry, "почта")
	if !containsText(d.form.form, "Укажите адрес электронной почты вида name@example.ru") {
		t.Errorf("a bad e-mail is not flagged as typed")
	}
	d.form.email.entry.SetText("pto@stroy.ru")
	d.dlg.Confirm()
	if len(be.created) != 1 || *be.created[0].ObjectName != "Детская поликлиника на 600 посещений" || *be.created[0].WorksKind != wire.WorksConstruction {
		t.Fatalf("created %+v", be.created)
	}
	if v.selected != 50 || v.card == nil {
		t.Errorf("the new draft's card is not open (selected %d)", v.selected)
	}
}

func TestStaffHaveNoNewApplication(t *testing.T) {
	_, _, v := newAppsFixture(t)
	if containsObject(v.root, v.newApp) {
		t.Error("a manager is offered to file an application")
	}
}

func draftCard(t *testing.T) (*env, *fakeBackend, *applicationCard) {
	t.Helper()
	me := wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant, OrgID: 7}
	e := newTestEnv(t, cardSize())
	be := newFakeBackend(me)
	be.store.ReplaceApplications(0, []wire.Application{{ID: 9, Number: "ГГЭ-2026-000009", OrgID: 7, Status: wire.StatusDraft, Version: 4,
		ObjectName: "Склад", ObjectAddress: "г. Тула", WorksKind: wire.WorksConstruction, ExpertiseKind: wire.KindProjectDocs,
		Financing: wire.FinancingBudget}})
	be.transitions = []wire.Status{wire.StatusSubmitted}
	be.card = app.Card{Channels: app.Channels(me.Role)}
	c := newApplicationCard(e, be, 9)
	// Closed at the end: a timer of the Store (typing fades) must not reach a
	// card of a finished test, whose UI calls are not serialised in tests.
	t.Cleanup(c.close)
	show(e, c.content(), cardSize())
	c.load()
	return e, be, c
}

func TestDraftFormSavesChangesOnly(t *testing.T) {
	e, be, c := draftCard(t)
	if c.form == nil {
		t.Fatal("a draft of the user's organisation is not editable")
	}
	c.form.email.entry.SetText("плохой")
	test.Tap(c.saveBtn)
	if len(be.updates) != 0 || !containsText(c.form.form, "Укажите адрес электронной почты вида name@example.ru") {
		t.Fatalf("a bad e-mail was sent (%d) or not shown", len(be.updates))
	}
	c.form.email.entry.SetText("gip@proekt.ru")
	c.form.object.entry.SetText("Склад готовой продукции")
	test.Tap(c.saveBtn)
	if len(be.updates) != 1 {
		t.Fatalf("updates %+v", be.updates)
	}
	u := be.updates[0]
	if u.id != 9 || u.seen != 4 || *u.in.ObjectName != "Склад готовой продукции" || *u.in.ApplicantEmail != "gip@proekt.ru" ||
		u.in.ObjectAddress != nil || u.in.WorksKind != nil {
		t.Errorf("sent %+v (want only the two changed fields at version 4)", u)
	}
	if c.app.Version != 5 {
		t.Errorf("card at version %d after saving, want 5", c.app.Version)
	}
	// Nothing changed: nothing sent.
	test.Tap(c.saveBtn)
	if len(be.updates) != 1 {
		t.Errorf("an unchanged form was sent")
	}
	if top := e.win.Canvas().Overlays().Top(); top == nil || !containsText(top, "Изменений нет") {
		t.Errorf("no «Изменений нет»")
	}
}

func TestDraftFormConflictIsShown(t *testing.T) {
	e, be, c := draftCard(t)
	be.updateErr = wire.E(wire.CodeConflict, "version", "Заявление уже изменено другим пользователем — обновите карточку и повторите", "changed")
	c.form.object.entry.SetText("Склад №2")
	test.Tap(c.saveBtn)
	if top := e.win.Canvas().Overlays().Top(); top == nil || !containsText(top, "Заявление уже изменено другим пользователем — обновите карточку и повторите") {
		t.Errorf("the conflict is not shown")
	}
	if be.opens != 2 {
		t.Errorf("card read %d times, want a re-read after the conflict", be.opens)
	}
}

func TestDeleteDraft(t *testing.T) {
	_, be, c := draftCard(t)
	test.Tap(c.delBtn)
	c.lastAsk.(*dialog.ConfirmDialog).Confirm()
	if !slices.Equal(be.deleted, [][2]int64{{9, 4}}) {
		t.Errorf("deleted %v", be.deleted)
	}
}

func TestSubmittedFormIsReadOnly(t *testing.T) {
	me := wire.User{ID: 20, Role: wire.RoleApplicant, OrgID: 7}
	a := wire.Application{ID: 9, OrgID: 7, Status: wire.StatusSubmitted}
	if canEditForm(a, me) {
		t.Error("a submitted application is editable")
	}
	a.Status = wire.StatusNeedsCorrection
	if !canEditForm(a, me) {
		t.Error("an application returned for correction is not editable")
	}
	if canEditForm(a, wire.User{ID: 21, Role: wire.RoleApplicant, OrgID: 8}) {
		t.Error("another organisation's application is editable")
	}
	if canEditForm(a, wire.User{ID: 1, Role: wire.RoleManager}) {
		t.Error("a manager edits the applicant's form")
	}
}

func TestExportPDFWritesTheRowsShown(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	e, _, v := newAppsFixture(t)
	e.dataDir = t.TempDir()
	test.Type(v.search, "Школа")
	path := filepath.Join(t.TempDir(), "Заявления.pdf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	v.exportPDFTo(f)
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := string(out)
	for _, want := range []string{"Реестр заявлений", "Отбор: поиск «Школа»", "ГГЭ-2026-000002", "Школа на 1100 мест"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	if strings.Contains(text, "ГГЭ-2026-000003") {
		t.Error("the PDF has a row the filter hides")
	}
}
