package ui

import (
	"context"
	"errors"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

func filesCard(t *testing.T, me wire.User) (*env, *fakeBackend, *applicationCard) {
	t.Helper()
	e := newTestEnv(t, cardSize())
	be := newFakeBackend(me)
	be.store.ReplaceApplications(0, sampleApps())
	be.card = app.Card{Channels: app.Channels(me.Role), Documents: []wire.Document{{ID: 1, AppID: 3, Section: "07.01", Name: "ПЗ",
		Versions: []wire.DocumentVersion{{ID: 11, DocumentID: 1, Number: 1, FileName: "ПЗ.pdf", Size: 3 << 20, Review: wire.ReviewPending, Version: 1}}}}}
	c := newApplicationCard(e, be, 3)
	// Closed at the end: a timer of the Store (typing fades) must not reach a
	// card of a finished test, whose UI calls are not serialised in tests.
	t.Cleanup(c.close)
	show(e, c.content(), cardSize())
	c.load()
	return e, be, c
}

func TestUploadFormAndProgress(t *testing.T) {
	applicant := wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant}
	e, be, c := filesCard(t, applicant)
	v := c.files
	v.pickFile = func(done func(string)) { done("/home/user/Проект/Том 3. АР.pdf") }

	test.Tap(v.add)
	if v.lastForm == nil {
		t.Fatal("no upload form")
	}
	// Without a section the form refuses and nothing is sent.
	test.Tap(v.lastChoose)
	if v.lastName.Text != "Том 3. АР" {
		t.Errorf("name from the file: %q", v.lastName.Text)
	}
	v.lastForm.Submit()
	if len(be.uploads) != 0 {
		t.Fatalf("uploaded without a section: %+v", be.uploads)
	}
	if top := e.win.Canvas().Overlays().Top(); top == nil || !containsText(top, "Выберите раздел документации") {
		t.Errorf("the missing section is not explained")
	}
	e.win.Canvas().Overlays().Top().Hide()

	test.Tap(v.add)
	test.Tap(v.lastChoose)
	v.lastSection.SetSelectedIndex(7) // 07.03 АР after the application's own documents
	v.lastForm.Submit()
	if len(be.uploads) != 1 || be.uploads[0] != (app.UploadRequest{AppID: 3, Section: "07.03", Name: "Том 3. АР", Path: "/home/user/Проект/Том 3. АР.pdf"}) {
		t.Fatalf("uploads %+v", be.uploads)
	}
	if len(v.uploads.Objects) != 0 {
		t.Errorf("a finished upload leaves its row")
	}

	// A failed upload stays with the server's reason.
	be.uploadErr = wire.E(wire.CodeInvalid, "file", "Файл повреждён: не удаётся прочитать PDF", "damaged")
	row := v.startUpload(app.UploadRequest{AppID: 3, Section: "07.03", Path: "/tmp/x.pdf"})
	if !row.done || !containsText(v.uploads, "Файл x.pdf не загружен: Файл повреждён: не удаётся прочитать PDF") {
		t.Errorf("the failure is not shown on the row")
	}
	test.Tap(row.stop)
	if len(v.uploads.Objects) != 0 {
		t.Errorf("the failed row cannot be closed")
	}
}

func TestUploadCancel(t *testing.T) {
	applicant := wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant}
	_, be, c := filesCard(t, applicant)
	v := c.files
	var row *uploadRow
	be.atHalf = func() {
		if row.bar.Value != 0.5 {
			t.Errorf("bar at %v after half the bytes", row.bar.Value)
		}
		test.Tap(row.stop) // the user cancels mid-transfer
	}
	row = v.newUploadRow(app.UploadRequest{AppID: 3, Section: "07.03", Path: "/tmp/big.pdf"})
	v.run(row)
	if !row.done {
		t.Fatal("the cancelled upload did not end")
	}
	if !errors.Is(row.err, errCanceled()) || len(v.uploads.Objects) != 0 {
		t.Errorf("after cancel: err %v, %d rows", row.err, len(v.uploads.Objects))
	}
}

func TestDownloadButtons(t *testing.T) {
	expert := wire.User{ID: 30, Role: wire.RoleExpert}
	_, be, c := filesCard(t, expert)
	v := c.files
	if containsObject(v.root, v.add) {
		t.Errorf("an expert is offered to add files")
	}
	v.saveFile = func(name string, done func(string)) {
		if name != "ПЗ.pdf" {
			t.Errorf("suggested name %q", name)
		}
		done("/home/user/ПЗ.pdf")
	}
	b := findButton(v.list, "Скачать")
	if b == nil {
		t.Fatal("no download button")
	}
	test.Tap(b)
	if be.downloads["/home/user/ПЗ.pdf"] != 11 {
		t.Errorf("downloads %v", be.downloads)
	}
}

func errCanceled() error { return context.Canceled }

func TestAnnotatedExportForStaff(t *testing.T) {
	expert := wire.User{ID: 30, Role: wire.RoleExpert}
	_, be, c := filesCard(t, expert)
	v := c.files
	v.saveFile = func(name string, done func(string)) { done("/tmp/" + name) }
	b := findButton(v.list, "С пометками")
	if b == nil {
		t.Fatal("an expert has no «С пометками»")
	}
	test.Tap(b)
	v.lastStamp.SetChecked(true)
	v.lastAnnot.Submit()
	if len(be.annotExports) != 1 || be.annotExports[0] != "11:ПЗ с пометками.pdf:flatten=false:stamp=true" {
		t.Errorf("exports %v", be.annotExports)
	}
	// Applicants never see annotations, so they get no such button.
	_, _, c2 := filesCard(t, wire.User{ID: 20, Role: wire.RoleApplicant})
	if findButton(c2.files.list, "С пометками") != nil {
		t.Error("an applicant is offered the annotated copy")
	}
}
