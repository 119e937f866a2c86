package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/sync/wire"
)

// supportFake is the server behind the «Поддержка» screen.
type supportFake struct {
	me       wire.User
	reqs     []wire.SupportRequest
	lists    []string // "mine status" of each list call
	replies  []string
	moves    []wire.SupportStatusRequest
	createEr error
}

func (f *supportFake) SupportRequests(_ context.Context, mine bool, status wire.SupportStatus) ([]wire.SupportRequest, error) {
	f.lists = append(f.lists, fmt.Sprint(mine, " ", status))
	var out []wire.SupportRequest
	for _, r := range f.reqs {
		if status == "" || r.Status == status {
			r.Messages = nil
			out = append(out, r)
		}
	}
	return out, nil
}
func (f *supportFake) CreateSupportRequest(_ context.Context, subject, body string) (wire.SupportRequest, error) {
	if err := (wire.CreateSupportRequest{Subject: subject, Body: body}).Validate(); err != nil {
		return wire.SupportRequest{}, err
	}
	r := wire.SupportRequest{ID: int64(len(f.reqs) + 1), Number: fmt.Sprintf("ПОД-2026-%06d", len(f.reqs)+1), Subject: subject, Status: wire.SupportNew, Version: 1,
		AuthorID: f.me.ID, AuthorName: f.me.FullName, Messages: []wire.SupportMessage{{ID: 1, AuthorID: f.me.ID, AuthorName: f.me.FullName, Body: body}}}
	f.reqs = append(f.reqs, r)
	return r, nil
}
func (f *supportFake) find(id int64) *wire.SupportRequest {
	for i := range f.reqs {
		if f.reqs[i].ID == id {
			return &f.reqs[i]
		}
	}
	return nil
}
func (f *supportFake) SupportRequest(_ context.Context, id int64) (wire.SupportRequest, error) {
	if r := f.find(id); r != nil {
		return *r, nil
	}
	return wire.SupportRequest{}, wire.E(wire.CodeNotFound, "", "Не найдено", "Not found")
}
func (f *supportFake) ReplySupport(_ context.Context, id int64, body string) (wire.SupportRequest, error) {
	if err := (wire.SupportReplyRequest{Body: body}).Validate(); err != nil {
		return wire.SupportRequest{}, err
	}
	r := f.find(id)
	f.replies = append(f.replies, body)
	staff := f.me.Role == wire.RoleAdmin && f.me.ID != r.AuthorID
	r.Messages = append(r.Messages, wire.SupportMessage{ID: int64(len(r.Messages) + 1), AuthorID: f.me.ID, AuthorName: f.me.FullName, Staff: staff, Body: body})
	r.Status = wire.SupportAfterReply(r.Status, staff)
	r.Version++
	return *r, nil
}
func (f *supportFake) SetSupportStatus(_ context.Context, id, seen int64, to wire.SupportStatus) (wire.SupportRequest, error) {
	f.moves = append(f.moves, wire.SupportStatusRequest{Version: seen, Status: to})
	r := f.find(id)
	r.Status = to
	r.Version++
	return *r, nil
}

func newSupportFixture(t *testing.T, me wire.User) (*supportFake, *supportView) {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(1100, 650))
	fs := &supportFake{me: me}
	be := &adminBackendFake{fakeBackend: newFakeBackend(me), adminFake: &adminFake{}, supportFake: fs}
	v := newSupportView(e, be)
	show(e, v.content(), fyne.NewSize(1100, 650))
	return fs, v
}

// TestSupportAuthor: a user opens a request, replies and closes it; the
// thread shows who wrote, and a closed request takes no more replies.
func TestSupportAuthor(t *testing.T) {
	me := wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant}
	fs, v := newSupportFixture(t, me)
	v.load()
	if !v.mine.Hidden || v.info.Text != "Обращений нет" || v.send.Disabled() == false {
		t.Fatalf("empty screen: mine hidden %v, info %q", v.mine.Hidden, v.info.Text)
	}
	test.Tap(v.create)
	f := v.creating
	f.submit()
	if f.subject.hint.Text != "Укажите тему обращения" || len(fs.reqs) != 0 {
		t.Fatalf("empty subject: %q", f.subject.hint.Text)
	}
	test.Type(f.subject.entry, "Не открывается том 3")
	test.Type(f.body.entry, "Файл ПЗ.pdf не открывается в просмотре")
	f.submit()
	if len(fs.reqs) != 1 || v.creating != nil || v.cur == nil || v.cur.Number != "ПОД-2026-000001" {
		t.Fatalf("created %+v", fs.reqs)
	}
	if v.header.Text != "ПОД-2026-000001 · Не открывается том 3 — Новое (Иванов И. И.)" || len(v.thread.Objects) != 1 {
		t.Errorf("header %q, %d messages", v.header.Text, len(v.thread.Objects))
	}
	if n := len(v.moves.Objects); n != 1 || v.moves.Objects[0].(*widget.Button).Text != "Закрыть" {
		t.Errorf("author's moves: %d", n)
	}
	// An administrator's answer arrives; the author opens it again.
	fs.reqs[0].Messages = append(fs.reqs[0].Messages, wire.SupportMessage{ID: 2, AuthorID: 1, AuthorName: "Администратор", Staff: true, Body: "Пересохраните в PDF/A", CreatedAt: time.Now()})
	fs.reqs[0].Status = wire.SupportAnswered
	v.load()
	v.list.Select(0)
	who := v.thread.Objects[1].(*fyne.Container).Objects[0].(*widget.Label)
	if !strings.HasPrefix(who.Text, "Администратор (поддержка) · ") || who.Importance != widget.HighImportance {
		t.Errorf("staff message shown as %q", who.Text)
	}
	test.Type(v.reply, "Не помогло")
	test.Tap(v.send)
	if !slices.Equal(fs.replies, []string{"Не помогло"}) || v.cur.Status != wire.SupportInProgress || v.reply.Text != "" || v.info.Text != "Сообщение отправлено" {
		t.Fatalf("reply: %v, status %s, info %q", fs.replies, v.cur.Status, v.info.Text)
	}
	test.Tap(v.moves.Objects[0].(*widget.Button))
	if len(fs.moves) != 1 || fs.moves[0] != (wire.SupportStatusRequest{Version: 2, Status: wire.SupportClosed}) {
		t.Fatalf("moves %+v", fs.moves)
	}
	if !v.send.Disabled() || !v.reply.Disabled() || v.info.Text != "Обращение закрыто. Если вопрос остался, создайте новое." || len(v.moves.Objects) != 0 {
		t.Errorf("closed request: send disabled %v, info %q", v.send.Disabled(), v.info.Text)
	}
}

// TestSupportAdministrator: everyone's requests with their authors, the
// «Только мои» and status filters, taking a request.
func TestSupportAdministrator(t *testing.T) {
	me := wire.User{ID: 1, FullName: "Администратор", Role: wire.RoleAdmin}
	fs, v := newSupportFixture(t, me)
	fs.reqs = []wire.SupportRequest{
		{ID: 2, Number: "ПОД-2026-000002", Subject: "Смена телефона", Status: wire.SupportNew, Version: 1, AuthorID: 31, AuthorName: "Сидорова А. В."},
		{ID: 1, Number: "ПОД-2026-000001", Subject: "Том 3", Status: wire.SupportClosed, Version: 5, AuthorID: 20, AuthorName: "Иванов И. И."},
	}
	v.load()
	if v.mine.Hidden || len(v.rows) != 2 {
		t.Fatalf("rows %d, mine hidden %v", len(v.rows), v.mine.Hidden)
	}
	item := v.list.CreateItem()
	v.list.UpdateItem(0, item)
	if l := item.(*fyne.Container).Objects[0].(*widget.Label); l.Text != "ПОД-2026-000002 · Смена телефона · Сидорова А. В." {
		t.Errorf("row %q", l.Text)
	}
	v.statusSel.SetSelected("Новое")
	v.mine.SetChecked(true)
	if last := fs.lists[len(fs.lists)-1]; last != "true new" {
		t.Errorf("list asked %q", last)
	}
	v.open(2)
	var labels []string
	for _, o := range v.moves.Objects {
		labels = append(labels, o.(*widget.Button).Text)
	}
	if !slices.Equal(labels, []string{"Взять в работу", "Закрыть"}) {
		t.Fatalf("admin's moves %v", labels)
	}
	test.Tap(v.moves.Objects[0].(*widget.Button))
	if len(fs.moves) != 1 || fs.moves[0] != (wire.SupportStatusRequest{Version: 1, Status: wire.SupportInProgress}) || v.cur.Status != wire.SupportInProgress {
		t.Fatalf("take: %+v", fs.moves)
	}
	test.Type(v.reply, "Сменили")
	test.Tap(v.send)
	if v.cur.Status != wire.SupportAnswered || !v.cur.Messages[0].Staff {
		t.Errorf("after the answer: %s %+v", v.cur.Status, v.cur.Messages)
	}
}
