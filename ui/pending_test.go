package ui

import (
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// findButton returns the first button under o whose text is text.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	var found *widget.Button
	var walk func(fyne.CanvasObject)
	walk = func(x fyne.CanvasObject) {
		if found != nil || x == nil {
			return
		}
		switch v := x.(type) {
		case *widget.Button:
			if v.Text == text {
				found = v
			}
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		case fyne.Widget:
			r := test.WidgetRenderer(v)
			for _, c := range r.Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return found
}

func TestOfflineActionsShowAsPending(t *testing.T) {
	applicant := wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant}
	e, be, c := openCard(t, applicant, 3, wire.Actor{Role: wire.RoleApplicant, Member: true})
	be.offline = true

	p := c.chats[wire.ChannelApplicant]
	test.Type(p.entry, "Ответ без связи")
	test.Tap(p.send)
	if p.entry.Text != "" {
		t.Errorf("the entry keeps %q after the message was queued", p.entry.Text)
	}
	if !containsText(p.list, "Ответ без связи") || !containsText(p.list, "Иванов И. И. · ожидает отправки") {
		t.Errorf("the queued message is not shown as pending")
	}
	if top := e.win.Canvas().Overlays().Top(); top != nil {
		t.Errorf("queuing showed a dialog as if it failed")
	}

	test.Tap(c.buttons[wire.StatusWithdrawn])
	d := c.lastAsk.(*dialog.FormDialog)
	test.Type(c.askEntry, "Передумали")
	d.Submit()
	want := "Ожидает отправки: смена статуса на «Отозвано заявителем». Будет отправлено при подключении к серверу."
	if !containsText(c.pending.content(), want) {
		t.Fatalf("the queued move is not shown on the card")
	}
	if be.opens != 1 {
		t.Errorf("card re-read %d times after a queued move; nothing changed on the server", be.opens-1)
	}

	// The user changes their mind: the queued move is not sent.
	cancel := findButton(c.pending.content(), "Не отправлять")
	if cancel == nil {
		t.Fatal("no way to cancel the queued move")
	}
	test.Tap(cancel)
	if containsText(c.pending.content(), want) || len(be.pending) != 1 {
		t.Errorf("after cancel: %d queued, box still shows the move: %v", len(be.pending), containsText(c.pending.content(), want))
	}

	// A command refused when the queue was sent stays until read.
	be.refused = []app.PendingCommand{{ID: 9, Kind: app.CommandTransition, AppID: 3,
		Transition: &wire.TransitionRequestBody{To: wire.StatusWithdrawn},
		Err:        &wire.Error{Code: wire.CodeConflict, Message: "Заявление уже изменено другим пользователем"}}}
	be.store.SetPending(be.pending, be.refused)
	refusal := "Сервер отклонил смена статуса на «Отозвано заявителем»: Заявление уже изменено другим пользователем"
	if !containsText(c.pending.content(), refusal) {
		t.Fatalf("the refusal is not shown on the card")
	}
	test.Tap(findButton(c.pending.content(), "Понятно"))
	if containsText(c.pending.content(), refusal) || len(be.refused) != 0 {
		t.Errorf("the refusal stays after it was dismissed")
	}
}

func TestIndicatorCountsQueuedActions(t *testing.T) {
	e := newTestEnv(t, fyne.NewSize(1000, 600))
	be := newFakeBackend(wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant})
	m := newMainScreen(e, be, func() {})
	show(e, m.content(), fyne.NewSize(1000, 600))
	queued := func(n int) []app.PendingCommand {
		out := make([]app.PendingCommand, n)
		for i := range out {
			out[i] = app.PendingCommand{ID: uint64(i + 1), Kind: app.CommandMessage, AppID: 3, Message: &wire.PostMessageRequest{Body: "x"}}
		}
		return out
	}
	tests := []struct {
		name    string
		state   client.State
		queued  int
		refused int
		want    string
	}{
		{"offline, nothing queued", client.StateOffline, 0, 0, "Нет связи"},
		{"offline, one queued", client.StateOffline, 1, 0, "Нет связи · 1 действие в очереди"},
		{"offline, three queued", client.StateOffline, 3, 0, "Нет связи · 3 действия в очереди"},
		{"offline, five queued", client.StateOffline, 5, 0, "Нет связи · 5 действий в очереди"},
		{"online with a refusal", client.StateOnline, 0, 1, "В сети"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var refused []app.PendingCommand
			for i := range tt.refused {
				refused = append(refused, app.PendingCommand{ID: uint64(100 + i), AppID: 3, Kind: app.CommandMessage,
					Message: &wire.PostMessageRequest{Body: "x"}, Err: &wire.Error{Code: wire.CodeForbidden, Message: "Нет доступа"}})
			}
			be.store.SetPending(queued(tt.queued), refused)
			be.store.State(tt.state, nil)
			be.store.SetReloader(nil)
			if got := m.connText.Text; got != tt.want {
				t.Errorf("indicator %q, want %q", got, tt.want)
			}
			if m.refused.Visible() != (tt.refused > 0) {
				t.Errorf("refusals button visible=%v with %d refusals", m.refused.Visible(), tt.refused)
			}
		})
	}
}

func TestChatUnreadTypingAndReadMark(t *testing.T) {
	expert := wire.User{ID: 30, FullName: "Петров П. П.", Role: wire.RoleExpert}
	_, be, c := openCard(t, expert, 3, wire.Actor{Role: wire.RoleExpert, Assigned: true})
	p := c.chats[wire.ChannelApplicant]
	// The loaded message (id 1) was read before; two new ones arrive.
	be.store.SetReadMarks(3, []wire.ReadMark{{AppID: 3, Channel: wire.ChannelApplicant, LastReadID: 1}})
	for _, m := range []wire.Message{{ID: 2, AuthorID: 20, AuthorName: "Иванов И. И.", Body: "Загрузили том 3"}, {ID: 3, AuthorID: 20, AuthorName: "Иванов И. И.", Body: "И том 4"}} {
		m.AppID, m.Channel = 3, wire.ChannelApplicant
		if err := be.store.Apply(mustEvent(t, wire.EventMessage, 3, m)); err != nil {
			t.Fatal(err)
		}
	}
	if p.tab.Text != "Чат (2)" {
		t.Errorf("tab %q, want the unread count", p.tab.Text)
	}
	if !containsText(p.list, "Новые сообщения") {
		t.Errorf("no divider before the first unread message")
	}
	if len(be.markedRead) != 0 {
		t.Errorf("marked read while the chat is not on screen")
	}
	be.store.Ephemeral(wire.Ephemeral{Kind: wire.FrameTyping, AppID: 3, Channel: wire.ChannelApplicant, UserID: 20, UserName: "Иванов И. И."})
	if p.typing.Text != "Иванов И. И. печатает…" {
		t.Errorf("typing %q", p.typing.Text)
	}
	// The expert opens the chat: it is read.
	c.tabs.Select(p.tab)
	if len(be.markedRead) != 1 || p.tab.Text != "Чат" {
		t.Errorf("on screen: marked %v, tab %q", be.markedRead, p.tab.Text)
	}
	test.Type(p.entry, "Принято")
	if be.typed == 0 {
		t.Errorf("typing is not signalled")
	}
}
