package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// allPrefs is a valid full set: everything on, e-mail at once.
func allPrefs() []wire.Preference {
	var ps []wire.Preference
	for _, k := range wire.AllNotificationKinds {
		ps = append(ps, wire.Preference{Kind: k, InApp: true, Desktop: true, Email: true, EmailMode: wire.EmailInstant})
	}
	return ps
}

func TestValidatePreferences(t *testing.T) {
	tests := []struct {
		name      string
		edit      func(ps []wire.Preference) []wire.Preference
		wantField string
		wantRU    string
		check     func(t *testing.T, got []wire.Preference)
	}{
		{name: "full set", edit: func(ps []wire.Preference) []wire.Preference { return ps }},
		{name: "any order comes back in the kinds' order", edit: func(ps []wire.Preference) []wire.Preference {
			slices.Reverse(ps)
			return ps
		}, check: func(t *testing.T, got []wire.Preference) {
			for i, p := range got {
				if p.Kind != wire.AllNotificationKinds[i] {
					t.Errorf("row %d is %s, want %s", i, p.Kind, wire.AllNotificationKinds[i])
				}
			}
		}},
		{name: "e-mail off keeps its mode", edit: func(ps []wire.Preference) []wire.Preference {
			ps[1].Email, ps[1].EmailMode = false, wire.EmailWeekly
			return ps
		}, check: func(t *testing.T, got []wire.Preference) {
			if got[1].EmailMode != wire.EmailWeekly || got[1].Email {
				t.Errorf("got %+v, want e-mail off with the weekly mode kept", got[1])
			}
		}},
		{name: "e-mail off without a mode is sent as at once", edit: func(ps []wire.Preference) []wire.Preference {
			ps[2].Email, ps[2].EmailMode = false, ""
			return ps
		}, check: func(t *testing.T, got []wire.Preference) {
			if got[2].EmailMode != wire.EmailInstant {
				t.Errorf("mode %q, want instant", got[2].EmailMode)
			}
		}},
		{name: "e-mail on needs a mode", edit: func(ps []wire.Preference) []wire.Preference {
			ps[1].EmailMode = ""
			return ps
		}, wantField: "preferences.email_mode",
			wantRU: "«Сообщения в чате»: письма включены — выберите, как их присылать: сразу, ежедневной или еженедельной сводкой"},
		{name: "unknown mode", edit: func(ps []wire.Preference) []wire.Preference {
			ps[0].EmailMode = "hourly"
			return ps
		}, wantField: "preferences.email_mode",
			wantRU: "«Статус заявления и файлы»: неизвестный режим писем «hourly»; выберите «сразу», «ежедневная сводка» или «еженедельная сводка»"},
		{name: "a kind missing", edit: func(ps []wire.Preference) []wire.Preference {
			return slices.DeleteFunc(ps, func(p wire.Preference) bool { return p.Kind == wire.NotifyDeadline })
		}, wantField: "preferences", wantRU: "Нет настроек для вида «Сроки»: сохраняются все виды уведомлений сразу"},
		{name: "a kind twice", edit: func(ps []wire.Preference) []wire.Preference {
			return append(ps, ps[3])
		}, wantField: "preferences.kind", wantRU: "Вид уведомлений «Сроки» указан дважды: оставьте одну строку"},
		{name: "unknown kind", edit: func(ps []wire.Preference) []wire.Preference {
			return append(ps, wire.Preference{Kind: "weather", EmailMode: wire.EmailDaily})
		}, wantField: "preferences.kind", wantRU: "Неизвестный вид уведомлений «weather»"},
		{name: "empty", edit: func([]wire.Preference) []wire.Preference { return nil },
			wantField: "preferences", wantRU: "Нет настроек для вида «Статус заявления и файлы»: сохраняются все виды уведомлений сразу"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ValidatePreferences(tt.edit(allPrefs()))
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if len(got) != len(wire.AllNotificationKinds) {
					t.Fatalf("%d rows, want %d", len(got), len(wire.AllNotificationKinds))
				}
				if tt.check != nil {
					tt.check(t, got)
				}
				return
			}
			we, ok := wire.AsError(err)
			if !ok || we.Code != wire.CodeInvalid || we.Field != tt.wantField || we.Message != tt.wantRU || we.MessageEN == "" {
				t.Fatalf("error %#v, want invalid on %q saying %q with an English text", err, tt.wantField, tt.wantRU)
			}
		})
	}
}

func TestKindNamesCoverEveryKind(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range wire.AllNotificationKinds {
		for _, en := range []bool{false, true} {
			name := KindName(k, en)
			if name == string(k) || seen[name] {
				t.Errorf("kind %s (english %v) has no name of its own: %q", k, en, name)
			}
			seen[name] = true
		}
	}
}

func TestPreferencesSignedOut(t *testing.T) {
	w := NewWorkspace(quietLog(), NewSession(quietLog(), "dev", "host"), NewStore(quietLog()))
	if _, err := w.Preferences(context.Background()); wire.ErrorCode(err) != wire.CodeUnauthenticated {
		t.Errorf("Preferences while signed out: %v, want unauthenticated", err)
	}
	// Validation runs before anything is sent.
	bad := allPrefs()[:2]
	if _, err := w.SetPreferences(context.Background(), bad); wire.ErrorCode(err) != wire.CodeInvalid {
		t.Errorf("SetPreferences of an incomplete set: %v, want invalid", err)
	}
	if _, err := w.SetPreferences(context.Background(), allPrefs()); wire.ErrorCode(err) != wire.CodeUnauthenticated {
		t.Errorf("SetPreferences while signed out: %v, want unauthenticated", err)
	}
}

// shown records what a notifier sends.
type shown struct {
	mu   sync.Mutex
	list []string
}

func (s *shown) send(title, body string) {
	s.mu.Lock()
	s.list = append(s.list, title+" | "+body)
	s.mu.Unlock()
}

func (s *shown) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.list
	s.list = nil
	return out
}

func notification(id int64, k wire.NotificationKind, desktop, read bool) wire.Notification {
	return wire.Notification{ID: id, Kind: k, AppID: 1, Title: fmt.Sprintf("Заголовок %d", id), Body: fmt.Sprintf("Текст %d", id), Desktop: desktop, Read: read}
}

// goLive takes the store online with a first load of the feed, as the
// stream and Workspace.Reload do.
func goLive(s *Store, feed []wire.Notification) {
	s.SetReloader(func(context.Context) error {
		s.SetNotifications(feed)
		return nil
	})
	s.State(client.StateConnecting, nil)
	s.State(client.StateOnline, nil)
}

func TestNotifier(t *testing.T) {
	type step struct {
		name string
		do   func(t *testing.T, s *Store, n *Notifier, prefs *[]wire.Preference)
		want []string
	}
	notify := func(seq int64, x wire.Notification) func(*testing.T, *Store, *Notifier, *[]wire.Preference) {
		return func(t *testing.T, s *Store, _ *Notifier, _ *[]wire.Preference) {
			t.Helper()
			if err := s.Apply(event(t, seq, wire.EventNotification, x.AppID, x)); err != nil {
				t.Fatal(err)
			}
		}
	}
	title := func(k wire.NotificationKind) string { return KindName(k, true) }
	steps := []step{
		{name: "the replay of what happened while closed is backlog", do: notify(1, notification(2, wire.NotifyStatus, true, false))},
		{name: "the first load is backlog", do: func(_ *testing.T, s *Store, _ *Notifier, _ *[]wire.Preference) {
			goLive(s, []wire.Notification{notification(2, wire.NotifyStatus, true, false), notification(3, wire.NotifyMessage, true, false)})
		}},
		{name: "a new one is shown in the user's language", do: notify(2, notification(4, wire.NotifyMessage, true, false)),
			want: []string{"Chat messages | Заголовок 4\nТекст 4"}},
		{name: "the same one again is not shown twice", do: notify(3, notification(4, wire.NotifyMessage, true, false))},
		{name: "read marks show nothing", do: func(_ *testing.T, s *Store, _ *Notifier, _ *[]wire.Preference) { s.MarkRead([]int64{4}) }},
		{name: "one already read elsewhere is not shown", do: notify(4, notification(5, wire.NotifyStatus, true, true))},
		{name: "the server said no desktop for it", do: notify(5, notification(6, wire.NotifyStatus, false, false))},
		{name: "the user turned the kind off here", do: func(t *testing.T, s *Store, n *Notifier, _ *[]wire.Preference) {
			ps := allPrefs()
			ps[slices.IndexFunc(ps, func(p wire.Preference) bool { return p.Kind == wire.NotifyRemark })].Desktop = false
			n.UsePreferences(ps)
			notify(6, notification(7, wire.NotifyRemark, true, false))(t, s, n, nil)
			notify(7, notification(8, wire.NotifyDeadline, true, false))(t, s, n, nil)
		}, want: []string{"Deadlines | Заголовок 8\nТекст 8"}},
		{name: "switched off on this computer", do: func(t *testing.T, s *Store, n *Notifier, _ *[]wire.Preference) {
			n.SetEnabled(false)
			notify(8, notification(9, wire.NotifyStatus, true, false))(t, s, n, nil)
			n.SetEnabled(true)
		}},
		{name: "several at once, oldest first; out of order too", do: func(_ *testing.T, s *Store, _ *Notifier, _ *[]wire.Preference) {
			s.SetNotifications([]wire.Notification{notification(12, wire.NotifyStatus, true, false), notification(10, wire.NotifyAssigned, true, false)})
		}, want: []string{"Review assignments | Заголовок 10\nТекст 10", "Application status and files | Заголовок 12\nТекст 12"}},
		{name: "a late one with a lower id is still new", do: notify(9, notification(11, wire.NotifyNewDevice, true, false)),
			want: []string{"Sign-in from a new device | Заголовок 11\nТекст 11"}},
		{name: "a reconnection re-reads the preferences", do: func(t *testing.T, s *Store, n *Notifier, prefs *[]wire.Preference) {
			ps := allPrefs()
			ps[0].Desktop = false // status
			*prefs = ps
			s.State(client.StateOffline, errors.New("dropped"))
			notify(10, notification(13, wire.NotifyStatus, true, false))(t, s, n, nil) // missed while offline, replayed
			s.State(client.StateOnline, nil)
			notify(11, notification(14, wire.NotifyStatus, true, false))(t, s, n, nil)
		}, want: []string{"Application status and files | Заголовок 13\nТекст 13"}},
		{name: "stopped", do: func(t *testing.T, s *Store, n *Notifier, _ *[]wire.Preference) {
			n.Stop()
			notify(12, notification(15, wire.NotifyMessage, true, false))(t, s, n, nil)
		}},
	}

	s := NewStore(quietLog())
	// What the cache held.
	s.SetNotifications([]wire.Notification{notification(1, wire.NotifyStatus, true, false)})
	var out shown
	// Background work runs inline here, so the server's preferences need
	// no lock.
	prefs := allPrefs()
	reads := 0
	n := NewNotifier(NotifierConfig{Store: s, Send: out.send, Title: title, Spawn: func(f func()) { f() },
		Preferences: func(context.Context) ([]wire.Preference, error) {
			reads++
			return slices.Clone(prefs), nil
		}})
	n.Start(context.Background())
	for _, st := range steps {
		st.do(t, s, n, &prefs)
		if diff := cmp.Diff(st.want, out.take()); diff != "" {
			t.Errorf("%s: shown mismatch (-want +got):\n%s", st.name, diff)
		}
	}
	if reads != 2 {
		t.Errorf("preferences read %d times, want 2 (each time the stream went live)", reads)
	}
}

func TestNotifierStartsOnALiveStore(t *testing.T) {
	s := NewStore(quietLog())
	goLive(s, []wire.Notification{notification(1, wire.NotifyStatus, true, false)})
	var out shown
	reads := 0
	n := NewNotifier(NotifierConfig{Store: s, Send: out.send, Spawn: func(f func()) { f() },
		Preferences: func(context.Context) ([]wire.Preference, error) { reads++; return allPrefs(), nil }})
	ctx, cancel := context.WithCancel(context.Background())
	n.Start(ctx)
	if reads != 1 {
		t.Errorf("preferences read %d times at start on a live stream, want 1", reads)
	}
	s.SetNotifications([]wire.Notification{notification(2, wire.NotifyDeadline, true, false)})
	if diff := cmp.Diff([]string{"Сроки | Заголовок 2\nТекст 2"}, out.take()); diff != "" {
		t.Errorf("shown mismatch (-want +got):\n%s", diff)
	}
	// Ending the context stops it.
	cancel()
	waitStopped(t, n)
	s.SetNotifications([]wire.Notification{notification(3, wire.NotifyDeadline, true, false)})
	if got := out.take(); len(got) != 0 {
		t.Errorf("shown after the context ended: %v", got)
	}
}

// waitStopped waits for the context's AfterFunc to unhook the notifier.
func waitStopped(t *testing.T, n *Notifier) {
	t.Helper()
	for range 1000 {
		n.mu.Lock()
		done := n.unwatch == nil
		n.mu.Unlock()
		if done {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the notifier did not stop when its context ended")
}

// BenchmarkNotifierLook measures what every Store change costs with a full
// feed (the server sends up to 500) when nothing new arrived, and when one
// did.
func BenchmarkNotifierLook(b *testing.B) {
	s := NewStore(quietLog())
	var feed []wire.Notification
	for i := range int64(500) {
		feed = append(feed, notification(i+1, wire.NotifyStatus, true, true))
	}
	goLive(s, feed)
	n := NewNotifier(NotifierConfig{Store: s, Send: func(string, string) {}})
	n.Start(context.Background())
	defer n.Stop()
	b.Run("unrelated change", func(b *testing.B) {
		for b.Loop() {
			n.look()
		}
	})
	b.Run("one new notification", func(b *testing.B) {
		id := int64(1000)
		for b.Loop() {
			id++
			s.mu.Lock()
			s.notes = append([]wire.Notification{notification(id, wire.NotifyStatus, true, false)}, s.notes[:500]...)
			s.mu.Unlock()
			n.look()
		}
	})
}
