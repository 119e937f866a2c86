package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

// buttonText finds the button under o showing text.
func buttonText(o fyne.CanvasObject, text string) *widget.Button {
	for _, x := range test.LaidOutObjects(o) {
		if b, ok := x.(*widget.Button); ok && b.Text == text {
			return b
		}
	}
	return nil
}

// chosenNames are the labels of the files chosen for the next message.
func chosenNames(f *chatFiles) []string {
	var out []string
	for _, row := range f.list.Objects {
		for _, x := range row.(*fyne.Container).Objects {
			if l, ok := x.(*widget.Label); ok {
				out = append(out, l.Text)
			}
		}
	}
	return out
}

// dropButton is the «×» of a chosen file's row.
func dropButton(t *testing.T, f *chatFiles, label string) *widget.Button {
	t.Helper()
	for _, row := range f.list.Objects {
		c := row.(*fyne.Container)
		if containsText(c, label) {
			for _, x := range c.Objects {
				if b, ok := x.(*widget.Button); ok && b.Text == "×" {
					return b
				}
			}
		}
	}
	t.Fatalf("no «×» for %q", label)
	return nil
}

// TestChatFilesChooseSendSave: the applicant picks two files with the
// paperclip, drops one with «×», sends the message with the other; the
// upload's bar ran to the end, the chosen list and the entry are cleared,
// and the message shows the file as «📎 name (size)», which saves where
// the save dialog says.
func TestChatFilesChooseSendSave(t *testing.T) {
	applicant := wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant}
	e, be, c := openCard(t, applicant, 3, wire.Actor{Role: wire.RoleApplicant, Member: true})
	c.tabs.SelectIndex(4)
	p := c.chats[wire.ChannelApplicant]
	f := p.files
	if !containsObject(p.root, f.clip) {
		t.Fatal("no paperclip beside «Отправить»")
	}
	f.pickFiles = func(done func([]string)) {
		done([]string{"/home/u/Ответ на замечания.pdf", "/home/u/Схема.png"})
	}
	test.Tap(f.clip)
	f.pickFiles = func(done func([]string)) { done([]string{"/home/u/Ответ на замечания.pdf"}) } // chosen again
	test.Tap(f.clip)
	if got, want := chosenNames(f), []string{"📎 Ответ на замечания.pdf", "📎 Схема.png"}; !slices.Equal(got, want) {
		t.Fatalf("chosen %v, want %v", got, want)
	}
	if !f.list.Visible() {
		t.Error("the chosen files are not shown")
	}
	test.Tap(dropButton(t, f, "📎 Схема.png"))
	if got := chosenNames(f); !slices.Equal(got, []string{"📎 Ответ на замечания.pdf"}) {
		t.Fatalf("after «×»: %v", got)
	}

	test.Type(p.entry, "Ответ во вложении")
	test.Tap(p.send)
	if want := [][]string{{"/home/u/Ответ на замечания.pdf"}}; len(be.sentFiles) != 1 || !slices.Equal(be.sentFiles[0], want[0]) {
		t.Fatalf("sent files %v, want %v", be.sentFiles, want)
	}
	if len(be.posted) != 0 {
		t.Errorf("a message with files also went by the text-only path: %v", be.posted)
	}
	if f.bar.Value != 1 || f.progress.Visible() {
		t.Errorf("progress bar at %v, visible %v; want 1 and hidden after sending", f.bar.Value, f.progress.Visible())
	}
	if p.entry.Text != "" || len(f.chosen) != 0 || f.list.Visible() {
		t.Errorf("after sending: entry %q, chosen %v, list visible %v", p.entry.Text, f.chosen, f.list.Visible())
	}
	if !containsText(p.list, "Ответ во вложении") {
		t.Error("the sent message's text is not shown")
	}
	btn := buttonText(p.list, "📎 Ответ на замечания.pdf (2.0 МБ)")
	if btn == nil {
		t.Fatal("the message does not show its file as «📎 name (size)»")
	}

	var asked string
	f.saveFile = func(name string, done func(string)) { asked = name; done("/home/u/Загрузки/Ответ.pdf") }
	test.Tap(btn)
	if asked != "Ответ на замечания.pdf" {
		t.Errorf("save dialog proposed %q, want the file's name", asked)
	}
	if got := be.saved["/home/u/Загрузки/Ответ.pdf"]; got.FileName != "Ответ на замечания.pdf" || got.SHA256 == "" {
		t.Errorf("saved %+v", be.saved)
	}
	if top := e.win.Canvas().Overlays().Top(); top == nil || !containsText(top, "Файл сохранён: /home/u/Загрузки/Ответ.pdf") {
		t.Error("the user is not told where the file was saved")
	}
}

// TestChatFilesFailureKeepsTheDraft: a refused upload shows the reason and
// keeps the text and the files, so the user can send again; a message of
// files alone (no text) can be sent.
func TestChatFilesFailureKeepsTheDraft(t *testing.T) {
	expert := wire.User{ID: 30, FullName: "Петров П. П.", Role: wire.RoleExpert}
	e, be, c := openCard(t, expert, 3, wire.Actor{Role: wire.RoleExpert})
	p := c.chats[wire.ChannelStaff]
	f := p.files
	f.pickFiles = func(done func([]string)) { done([]string{"/srv/Записка.docx"}) }
	test.Tap(f.clip)
	test.Type(p.entry, "Служебная записка")
	be.filesErr = wire.E(wire.CodeConflict, "files", "Нет связи с сервером: файлы отправляются только при подключении.", "offline")
	test.Tap(p.send)
	if top := e.win.Canvas().Overlays().Top(); top == nil || !containsText(top, "Нет связи с сервером: файлы отправляются только при подключении.") {
		t.Error("the refusal is not shown")
	}
	if p.entry.Text != "Служебная записка" || !slices.Equal(f.chosen, []string{"/srv/Записка.docx"}) || p.send.Disabled() || f.clip.Disabled() {
		t.Errorf("after a failure: entry %q, chosen %v, send disabled %v, clip disabled %v", p.entry.Text, f.chosen, p.send.Disabled(), f.clip.Disabled())
	}

	be.filesErr = nil
	p.entry.SetText("")
	test.Tap(p.send)
	if len(be.sentFiles) != 2 {
		t.Fatalf("files-only message not sent: %v", be.sentFiles)
	}
	ms := be.store.Messages(3, wire.ChannelStaff)
	if len(ms) != 1 || ms[0].Body != "" || len(ms[0].Files) != 1 {
		t.Fatalf("staff messages %+v", ms)
	}
	if buttonText(p.list, "📎 Записка.docx (2.0 МБ)") == nil {
		t.Error("the files-only message does not show its file")
	}
}

// TestChatFilesOfOthersForReaders: a message with files arriving by event
// shows a button per file also to a reader who may not post (an
// administrator), who can save them.
func TestChatFilesOfOthersForReaders(t *testing.T) {
	admin := wire.User{ID: 40, FullName: "Админ", Role: wire.RoleAdmin}
	_, be, c := openCard(t, admin, 3, wire.Actor{Role: wire.RoleAdmin})
	p := c.chats[wire.ChannelApplicant]
	if containsObject(p.root, p.files.clip) {
		t.Error("a reader who may not post sees the paperclip")
	}
	m := wire.Message{ID: 7, AppID: 3, Channel: wire.ChannelApplicant, AuthorID: 20, AuthorName: "Иванов И. И.", Body: "Смотрите схему",
		Attachments: []string{"ab"}, Files: []wire.Attachment{{SHA256: "ab", FileName: "Схема.png", Size: 1536}}, CreatedAt: time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)}
	if err := be.store.Apply(mustEvent(t, wire.EventMessage, 3, m)); err != nil {
		t.Fatal(err)
	}
	p.refresh()
	b := buttonText(p.list, "📎 Схема.png (2 КБ)")
	if b == nil {
		t.Fatal("no file button on a message from the event")
	}
	p.files.saveFile = func(name string, done func(string)) { done("/tmp/" + name) }
	test.Tap(b)
	if got := be.saved["/tmp/Схема.png"]; got.SHA256 != "ab" {
		t.Errorf("saved %+v", be.saved)
	}
}
