package ui

import (
	"encoding/json"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

func signature(verdict, subject string) wire.Signature {
	rep, _ := json.Marshal(map[string]any{"signers": []map[string]string{{"subject": subject, "verdict": verdict}}})
	return wire.Signature{ID: 1, FileName: "ПЗ.pdf.sig", Report: rep}
}

// TestDocumentsTab: files, versions, review status and signature verdicts
// are shown; a GOST signature reads "structure checked, cryptographic check
// unavailable", never "valid"; a new version arriving by event appears.
func TestDocumentsTab(t *testing.T) {
	me := wire.User{ID: 30, Role: wire.RoleExpert}
	tests := []struct {
		name      string
		sig       wire.Signature
		want, not string
	}{
		{"GOST", signature(app.VerdictDigestOnly, "CN=Иванов Иван"), "структура проверена, криптографическая проверка недоступна", "подпись действительна"},
		{"RSA valid", signature(app.VerdictValid, "CN=Петров Пётр"), "подпись действительна", "недоступна"},
		{"wrong file", signature(app.VerdictMismatch, "CN=Петров Пётр"), "подпись не соответствует этому файлу", "действительна"},
		{"unknown verdict", signature("valid-ish", "CN=X"), "подпись не проверена", "действительна"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, cardSize())
			be := newFakeBackend(me)
			be.store.ReplaceApplications(0, sampleApps())
			be.card = app.Card{Channels: app.Channels(me.Role), Documents: []wire.Document{{ID: 1, AppID: 3, Section: "07.01", Name: "ПЗ",
				Versions: []wire.DocumentVersion{{ID: 11, DocumentID: 1, Number: 1, FileName: "ПЗ.pdf", Size: 3 << 20, Pages: 120,
					Review: wire.ReviewRejected, ReviewComment: "Нет расчёта", Signatures: []wire.Signature{tt.sig}, Version: 2}}}}}
			c := newApplicationCard(e, be, 3)
			// Closed at the end: a timer of the Store (typing fades) must not reach a
			// card of a finished test, whose UI calls are not serialised in tests.
			t.Cleanup(c.close)
			show(e, c.content(), cardSize())
			c.load()
			for _, want := range []string{"07.01 ПЗ · ПЗ", "Версия 1 · ПЗ.pdf · 3.0 МБ · 120 стр.", "Отклонён: Нет расчёта", tt.want} {
				if !labelContains(c.docs, want) {
					t.Errorf("files tab lacks %q", want)
				}
			}
			if labelContains(c.docs, tt.not) {
				t.Errorf("files tab shows %q", tt.not)
			}
			ev, _ := json.Marshal(wire.Document{ID: 1, AppID: 3, Section: "07.01", Name: "ПЗ", Versions: []wire.DocumentVersion{{ID: 12, DocumentID: 1,
				Number: 2, FileName: "ПЗ изм.1.pdf", Size: 2048, Review: wire.ReviewPending, Version: 1, UploadedAt: time.Now()}}})
			if err := be.store.Apply(wire.Event{Seq: 100, Kind: wire.EventDocumentVersion, AppID: 3, Data: ev}); err != nil {
				t.Fatal(err)
			}
			if !labelContains(c.docs, "Версия 2 · ПЗ изм.1.pdf · 2 КБ") || !labelContains(c.docs, "Версия 1 · ПЗ.pdf") {
				t.Errorf("the version that arrived by event is not shown beside the old one")
			}
		})
	}
}

// labelContains reports whether any label under o contains sub.
func labelContains(o fyne.CanvasObject, sub string) bool {
	for _, x := range append([]fyne.CanvasObject{o}, test.LaidOutObjects(o)...) {
		if l, ok := x.(*widget.Label); ok && strings.Contains(l.Text, sub) {
			return true
		}
	}
	return false
}
