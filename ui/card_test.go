package ui

import (
	"slices"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/test"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/sync/wire"
)

func cardSize() fyne.Size { return fyne.NewSize(900, 700) }

// openCard opens the card of sample application id for user me, with the
// moves the server would allow that user.
func openCard(t *testing.T, me wire.User, id int64, actor wire.Actor) (*env, *fakeBackend, *applicationCard) {
	t.Helper()
	e := newTestEnv(t, cardSize())
	be := newFakeBackend(me)
	be.store.ReplaceApplications(0, sampleApps())
	a, _ := be.store.Application(id)
	be.transitions = wire.AllowedTransitions(a.Status, actor)
	be.card = app.Card{
		Channels: app.Channels(me.Role),
		History: []wire.StatusChange{{ID: 1, AppID: id, From: wire.StatusDraft, To: wire.StatusSubmitted, ActorName: "Иванов И. И.",
			At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}},
		Messages: map[wire.Channel][]wire.Message{wire.ChannelApplicant: {{ID: 1, AppID: id, Channel: wire.ChannelApplicant,
			AuthorName: "Иванов И. И.", Body: "Прошу принять заявление", CreatedAt: time.Date(2026, 3, 2, 9, 5, 0, 0, time.UTC)}}},
	}
	// The loaded message was read on an earlier visit.
	be.store.SetReadMarks(id, []wire.ReadMark{{AppID: id, Channel: wire.ChannelApplicant, LastReadID: 1}})
	c := newApplicationCard(e, be, id)
	// Closed at the end: a timer of the Store (typing fades) must not reach a
	// card of a finished test, whose UI calls are not serialised in tests.
	t.Cleanup(c.close)
	show(e, c.content(), cardSize())
	c.load()
	return e, be, c
}

func buttonStatuses(c *applicationCard) []wire.Status {
	var out []wire.Status
	for s := range c.buttons {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b wire.Status) int {
		return slices.Index(wire.AllStatuses, a) - slices.Index(wire.AllStatuses, b)
	})
	return out
}

func TestCardButtonsMatchTransitions(t *testing.T) {
	manager := wire.User{ID: 10, FullName: "Смирнова А. В.", Role: wire.RoleManager}
	applicant := wire.User{ID: 20, FullName: "Иванов И. И.", Role: wire.RoleApplicant}
	lead := wire.User{ID: 30, FullName: "Петров П. П.", Role: wire.RoleExpert}
	tests := []struct {
		name  string
		me    wire.User
		actor wire.Actor
		id    int64
		want  []wire.Status
	}{
		{"manager at completeness check", manager, wire.Actor{Role: wire.RoleManager}, 3,
			[]wire.Status{wire.StatusNeedsCorrection, wire.StatusReturned, wire.StatusAwaitingContract}},
		{"applicant at completeness check", applicant, wire.Actor{Role: wire.RoleApplicant, Member: true}, 3,
			[]wire.Status{wire.StatusWithdrawn}},
		{"lead expert in review", lead, wire.Actor{Role: wire.RoleExpert, Assigned: true, Lead: true}, 2,
			[]wire.Status{wire.StatusRemarksIssued, wire.StatusConclusion}},
		{"nobody moves a finished one but to the archive", manager, wire.Actor{Role: wire.RoleManager}, 1,
			[]wire.Status{wire.StatusArchived}},
		{"applicant with a finished one has no buttons", applicant, wire.Actor{Role: wire.RoleApplicant, Member: true}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, be, c := openCard(t, tt.me, tt.id, tt.actor)
			slices.SortFunc(tt.want, func(a, b wire.Status) int {
				return slices.Index(wire.AllStatuses, a) - slices.Index(wire.AllStatuses, b)
			})
			if got := buttonStatuses(c); !slices.Equal(got, tt.want) {
				t.Fatalf("buttons for %v, want %v", got, tt.want)
			}
			if !slices.Equal(buttonStatuses(c), be.transitions) {
				t.Errorf("buttons %v differ from what the server allowed %v", buttonStatuses(c), be.transitions)
			}
			if len(c.actions.Objects) != len(tt.want) {
				t.Errorf("%d objects in the action bar, want %d", len(c.actions.Objects), len(tt.want))
			}
			for to, b := range c.buttons {
				if want := transitionLabel(c.app.Status, to); b.Text != want {
					t.Errorf("button for %s says %q, want %q", to, b.Text, want)
				}
			}
		})
	}
}

func TestTransitionDialogs(t *testing.T) {
	manager := wire.User{ID: 10, FullName: "Смирнова А. В.", Role: wire.RoleManager}
	tests := []struct {
		to          wire.Status
		wantComment bool
	}{
		{wire.StatusNeedsCorrection, true},
		{wire.StatusReturned, true},
		{wire.StatusAwaitingContract, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.to), func(t *testing.T) {
			e, be, c := openCard(t, manager, 3, wire.Actor{Role: wire.RoleManager})
			b, ok := c.buttons[tt.to]
			if !ok {
				t.Fatalf("no button for %s", tt.to)
			}
			test.Tap(b)
			if e.win.Canvas().Overlays().Top() == nil {
				t.Fatalf("no dialog shown")
			}
			if !tt.wantComment {
				d, ok := c.lastAsk.(*dialog.ConfirmDialog)
				if !ok || c.askEntry != nil {
					t.Fatalf("want a plain confirmation, got %T with entry %v", c.lastAsk, c.askEntry != nil)
				}
				d.Confirm()
				if len(be.moves) != 1 || be.moves[0] != (move{3, 2, tt.to, ""}) {
					t.Errorf("moves %+v", be.moves)
				}
				return
			}
			d, ok := c.lastAsk.(*dialog.FormDialog)
			if !ok || c.askEntry == nil {
				t.Fatalf("want a comment dialog, got %T", c.lastAsk)
			}
			d.Submit() // refused: no comment yet
			if len(be.moves) != 0 {
				t.Fatalf("moved without a comment: %+v", be.moves)
			}
			test.Type(c.askEntry, "Нет ГПЗУ")
			d.Submit()
			if len(be.moves) != 1 || be.moves[0] != (move{3, 2, tt.to, "Нет ГПЗУ"}) {
				t.Errorf("moves %+v, want one to %s with the comment at version 2", be.moves, tt.to)
			}
			if be.opens != 2 {
				t.Errorf("card read %d times, want a re-read after the move", be.opens)
			}
		})
	}
}

func TestTransitionConflictIsShownNotOverwritten(t *testing.T) {
	manager := wire.User{ID: 10, FullName: "Смирнова А. В.", Role: wire.RoleManager}
	e, be, c := openCard(t, manager, 3, wire.Actor{Role: wire.RoleManager})
	be.moveErr = wire.E(wire.CodeConflict, "version", "Заявление уже изменено другим пользователем — обновите карточку и повторите", "changed")
	test.Tap(c.buttons[wire.StatusAwaitingContract])
	c.lastAsk.(*dialog.ConfirmDialog).Confirm()
	if len(be.moves) != 1 {
		t.Fatalf("moves %+v, want exactly one attempt", be.moves)
	}
	if be.opens != 2 {
		t.Errorf("card read %d times, want a re-read after the conflict", be.opens)
	}
	top := e.win.Canvas().Overlays().Top()
	if top == nil || !containsText(top, "Заявление уже изменено другим пользователем — обновите карточку и повторите") {
		t.Errorf("the conflict is not shown to the user")
	}
}

func TestCardChatTabs(t *testing.T) {
	tests := []struct {
		name     string
		me       wire.User
		wantTabs []string
		canPost  bool
	}{
		{"applicant", wire.User{ID: 20, Role: wire.RoleApplicant}, []string{"Сведения", "Документы", "Замечания", "История", "Чат"}, true},
		{"expert", wire.User{ID: 30, Role: wire.RoleExpert}, []string{"Сведения", "Документы", "Замечания", "История", "Чат", "Служебный чат"}, true},
		{"admin reads only", wire.User{ID: 40, Role: wire.RoleAdmin}, []string{"Сведения", "Документы", "Замечания", "История", "Чат", "Служебный чат"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, be, c := openCard(t, tt.me, 3, wire.Actor{Role: tt.me.Role})
			var tabs []string
			for _, it := range c.tabs.Items {
				tabs = append(tabs, it.Text)
			}
			if !slices.Equal(tabs, tt.wantTabs) {
				t.Fatalf("tabs %v, want %v", tabs, tt.wantTabs)
			}
			p := c.chats[wire.ChannelApplicant]
			if !containsText(p.list, "Прошу принять заявление") {
				t.Errorf("the loaded message is not shown")
			}
			if !tt.canPost {
				if p.entry.Visible() && containsObject(p.root, p.entry) {
					t.Errorf("a user who may not post sees the message entry")
				}
				return
			}
			test.Type(p.entry, "Документы дополнены")
			test.Tap(p.send)
			if !slices.Equal(be.posted, []string{"Документы дополнены"}) || p.entry.Text != "" {
				t.Errorf("posted %v, entry left with %q", be.posted, p.entry.Text)
			}
			if !containsText(p.list, "Документы дополнены") {
				t.Errorf("the sent message is not shown")
			}
		})
	}
}

func TestCardHistoryFollowsEvents(t *testing.T) {
	manager := wire.User{ID: 10, Role: wire.RoleManager}
	_, be, c := openCard(t, manager, 3, wire.Actor{Role: wire.RoleManager})
	if !containsText(c.history, "«Черновик» → «На проверке комплектности»") {
		t.Fatalf("history does not show the loaded change")
	}
	ev := wire.StatusChange{ID: 2, AppID: 3, From: wire.StatusSubmitted, To: wire.StatusNeedsCorrection, Comment: "Нет ГПЗУ", ActorName: "Смирнова А. В."}
	be.transitions = wire.AllowedTransitions(wire.StatusNeedsCorrection, wire.Actor{Role: wire.RoleManager})
	if err := be.store.Apply(mustEvent(t, wire.EventStatusChanged, 3, ev)); err != nil {
		t.Fatal(err)
	}
	if !containsText(c.history, "«На проверке комплектности» → «Требуется доработка»") || !containsText(c.history, "Нет ГПЗУ") {
		t.Errorf("history does not show the change from the event")
	}
	if len(c.buttons) != 0 {
		t.Errorf("buttons %v remain after the status moved to one the manager cannot move", buttonStatuses(c))
	}
}
