package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func event(t *testing.T, seq int64, kind wire.EventKind, appID int64, data any) wire.Event {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return wire.Event{Seq: seq, Kind: kind, AppID: appID, At: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), Data: b}
}

func application(id, version int64, st wire.Status) wire.Application {
	return wire.Application{ID: id, Number: "ГГЭ-2026-" + string(rune('0'+id)), Version: version, Status: st, ObjectName: "Школа"}
}

// snapshot is the part of the Store the event tests compare.
type snapshot struct {
	Apps     []wire.Application
	History  []wire.StatusChange
	Chat     []wire.Message
	Notes    []wire.Notification
	Unread   int
	Revoked  []int64
	MeName   string
	Notified int
}

func TestStoreApply(t *testing.T) {
	msg := func(id int64, body string) wire.Message {
		return wire.Message{ID: id, AppID: 1, Channel: wire.ChannelApplicant, AuthorName: "Иванов", Body: body}
	}
	note := func(id int64, read bool) wire.Notification {
		return wire.Notification{ID: id, Kind: wire.NotifyStatus, AppID: 1, Title: "Статус", Read: read}
	}
	change := wire.StatusChange{ID: 7, AppID: 1, From: wire.StatusSubmitted, To: wire.StatusNeedsCorrection, Comment: "нет ГПЗУ"}

	tests := []struct {
		name    string
		before  func(s *Store)
		events  func(t *testing.T) []wire.Event
		want    snapshot
		wantErr bool
	}{
		{
			name: "application event inserts",
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{event(t, 1, wire.EventApplication, 1, application(1, 1, wire.StatusDraft))}
			},
			want: snapshot{Apps: []wire.Application{application(1, 1, wire.StatusDraft)}, Notified: 1},
		},
		{
			name:   "newer version replaces",
			before: func(s *Store) { s.UpsertApplication(application(1, 1, wire.StatusDraft)) },
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{event(t, 2, wire.EventApplication, 1, application(1, 2, wire.StatusSubmitted))}
			},
			want: snapshot{Apps: []wire.Application{application(1, 2, wire.StatusSubmitted)}, Notified: 1},
		},
		{
			name:   "older version never overwrites a newer one",
			before: func(s *Store) { s.UpsertApplication(application(1, 5, wire.StatusInReview)) },
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{event(t, 2, wire.EventApplication, 1, application(1, 4, wire.StatusAwaitingPayment))}
			},
			want: snapshot{Apps: []wire.Application{application(1, 5, wire.StatusInReview)}},
		},
		{
			name: "application gone removes it with its history and chat",
			before: func(s *Store) {
				s.UpsertApplication(application(1, 1, wire.StatusDraft))
				s.UpsertApplication(application(2, 1, wire.StatusDraft))
				s.SetHistory(1, []wire.StatusChange{change})
				s.AddMessage(msg(1, "a"))
			},
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{event(t, 3, wire.EventApplicationGone, 1, map[string]int64{"id": 1})}
			},
			want: snapshot{Apps: []wire.Application{application(2, 1, wire.StatusDraft)}, Notified: 1},
		},
		{
			name:   "status change appends history and moves the status",
			before: func(s *Store) { s.UpsertApplication(application(1, 3, wire.StatusSubmitted)) },
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{event(t, 4, wire.EventStatusChanged, 1, change)}
			},
			want: snapshot{
				Apps:     []wire.Application{application(1, 3, wire.StatusNeedsCorrection)},
				History:  []wire.StatusChange{change},
				Notified: 1,
			},
		},
		{
			name:   "late status change does not move a newer status back",
			before: func(s *Store) { s.UpsertApplication(application(1, 4, wire.StatusSubmitted)) },
			events: func(t *testing.T) []wire.Event {
				old := wire.StatusChange{ID: 3, AppID: 1, From: wire.StatusDraft, To: wire.StatusSubmitted}
				return []wire.Event{event(t, 4, wire.EventStatusChanged, 1, old)}
			},
			want: snapshot{
				Apps:     []wire.Application{application(1, 4, wire.StatusSubmitted)},
				History:  []wire.StatusChange{{ID: 3, AppID: 1, From: wire.StatusDraft, To: wire.StatusSubmitted}},
				Notified: 1,
			},
		},
		{
			name:   "messages are kept in id order without duplicates",
			before: func(s *Store) { s.AddMessage(msg(2, "второе")) },
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{
					event(t, 5, wire.EventMessage, 1, msg(3, "третье")),
					event(t, 6, wire.EventMessage, 1, msg(1, "первое")),
					event(t, 7, wire.EventMessage, 1, msg(3, "третье")),
				}
			},
			want: snapshot{Chat: []wire.Message{msg(1, "первое"), msg(2, "второе"), msg(3, "третье")}, Notified: 3},
		},
		{
			name: "notifications newest first, unread counted",
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{
					event(t, 8, wire.EventNotification, 1, note(10, false)),
					event(t, 9, wire.EventNotification, 1, note(11, false)),
				}
			},
			want: snapshot{Notes: []wire.Notification{note(11, false), note(10, false)}, Unread: 2, Notified: 2},
		},
		{
			name: "notification read marks the listed ids",
			before: func(s *Store) {
				s.SetNotifications([]wire.Notification{note(10, false), note(11, false), note(12, false)})
			},
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{event(t, 10, wire.EventNotificationRead, 0, map[string][]int64{"ids": {10, 12}})}
			},
			want: snapshot{Notes: []wire.Notification{note(12, true), note(11, false), note(10, true)}, Unread: 1, Notified: 1},
		},
		{
			name: "session revoked is recorded",
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{event(t, 11, wire.EventSessionRevoked, 0, map[string]int64{"session_id": 42})}
			},
			want: snapshot{Revoked: []int64{42}, Notified: 1},
		},
		{
			name:   "user event updates the signed-in user only",
			before: func(s *Store) { s.SetMe(wire.User{ID: 5, FullName: "Старое имя"}) },
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{
					event(t, 12, wire.EventUser, 0, wire.User{ID: 6, FullName: "Другой"}),
					event(t, 13, wire.EventUser, 0, wire.User{ID: 5, FullName: "Новое имя"}),
				}
			},
			want: snapshot{MeName: "Новое имя", Notified: 1},
		},
		{
			name: "unknown kinds are ignored",
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{event(t, 14, "annotation.future", 1, map[string]int{"x": 1})}
			},
			want: snapshot{},
		},
		{
			name: "malformed data is an error and changes nothing",
			events: func(t *testing.T) []wire.Event {
				return []wire.Event{{Seq: 15, Kind: wire.EventApplication, Data: json.RawMessage(`{"id":"one"}`)}}
			},
			want:    snapshot{},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(quietLog())
			if tt.before != nil {
				tt.before(s)
			}
			notified := 0
			defer s.OnChange(func() { notified++ })()
			var errs []error
			for _, e := range tt.events(t) {
				if err := s.Apply(e); err != nil {
					errs = append(errs, err)
				}
			}
			if (len(errs) > 0) != tt.wantErr {
				t.Fatalf("errors %v, want error: %v", errs, tt.wantErr)
			}
			got := snapshot{
				Apps: s.Applications(), History: s.History(1), Chat: s.Messages(1, wire.ChannelApplicant),
				Notes: s.Notifications(), Unread: s.Unread(), Revoked: s.RevokedSessions(), MeName: s.Me().FullName,
				Notified: notified,
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("store mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReplaceApplicationsKeepsNewerEvents(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, s *Store) uint64 // returns the tick the load started at
		list  []wire.Application
		want  []wire.Application
	}{
		{
			name: "list replaces what no event touched",
			setup: func(t *testing.T, s *Store) uint64 {
				s.UpsertApplication(application(1, 1, wire.StatusDraft))
				s.UpsertApplication(application(2, 1, wire.StatusDraft))
				return s.Tick()
			},
			list: []wire.Application{application(2, 3, wire.StatusSubmitted), application(3, 1, wire.StatusDraft)},
			want: []wire.Application{application(3, 1, wire.StatusDraft), application(2, 3, wire.StatusSubmitted)},
		},
		{
			name: "an application created by an event during the load stays",
			setup: func(t *testing.T, s *Store) uint64 {
				since := s.Tick()
				if err := s.Apply(event(t, 1, wire.EventApplication, 9, application(9, 1, wire.StatusDraft))); err != nil {
					t.Fatal(err)
				}
				return since
			},
			list: []wire.Application{application(1, 1, wire.StatusDraft)},
			want: []wire.Application{application(9, 1, wire.StatusDraft), application(1, 1, wire.StatusDraft)},
		},
		{
			name: "a newer version from an event during the load wins",
			setup: func(t *testing.T, s *Store) uint64 {
				since := s.Tick()
				if err := s.Apply(event(t, 1, wire.EventApplication, 1, application(1, 4, wire.StatusInReview))); err != nil {
					t.Fatal(err)
				}
				return since
			},
			list: []wire.Application{application(1, 3, wire.StatusAwaitingPayment)},
			want: []wire.Application{application(1, 4, wire.StatusInReview)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(quietLog())
			since := tt.setup(t, s)
			s.ReplaceApplications(since, tt.list)
			if diff := cmp.Diff(tt.want, s.Applications()); diff != "" {
				t.Errorf("applications mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStoreHandlerReloads(t *testing.T) {
	tests := []struct {
		name       string
		drive      func(s *Store)
		wantLoads  int
		wantState  client.State
		reloadFail bool
	}{
		{
			name:      "first live connection loads",
			drive:     func(s *Store) { s.State(client.StateConnecting, nil); s.State(client.StateOnline, nil) },
			wantLoads: 1, wantState: client.StateOnline,
		},
		{
			name: "reconnect and resume do not load again",
			drive: func(s *Store) {
				s.State(client.StateOnline, nil)
				s.State(client.StateOffline, errors.New("dropped"))
				s.State(client.StateOnline, nil)
			},
			wantLoads: 1, wantState: client.StateOnline,
		},
		{
			name:      "resync loads",
			drive:     func(s *Store) { s.State(client.StateOnline, nil); s.Resync(100) },
			wantLoads: 2, wantState: client.StateOnline,
		},
		{
			name: "a failed load is retried on the next connection",
			drive: func(s *Store) {
				s.State(client.StateOnline, nil)
				s.State(client.StateOffline, nil)
				s.State(client.StateOnline, nil)
			},
			wantLoads: 2, wantState: client.StateOnline, reloadFail: true,
		},
		{
			name:      "stopped is reported",
			drive:     func(s *Store) { s.State(client.StateStopped, client.ErrTerminal) },
			wantLoads: 0, wantState: client.StateStopped,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewStore(quietLog())
			loads := 0
			s.SetReloader(func(ctx context.Context) error {
				loads++
				if tt.reloadFail {
					return errors.New("server down")
				}
				return nil
			})
			tt.drive(s)
			if loads != tt.wantLoads {
				t.Errorf("loads = %d, want %d", loads, tt.wantLoads)
			}
			if st, _ := s.Connection(); st != tt.wantState {
				t.Errorf("state = %v, want %v", st, tt.wantState)
			}
		})
	}
}

func TestStoreClearAndListeners(t *testing.T) {
	s := NewStore(quietLog())
	calls := 0
	cancel := s.OnChange(func() { calls++ })
	s.UpsertApplication(application(1, 1, wire.StatusDraft))
	s.SetNotifications([]wire.Notification{{ID: 1}})
	s.Clear()
	if n := len(s.Applications()) + len(s.Notifications()); n != 0 {
		t.Errorf("after Clear %d items remain", n)
	}
	cancel()
	s.UpsertApplication(application(2, 1, wire.StatusDraft))
	if calls != 3 {
		t.Errorf("listener called %d times, want 3 (and none after cancel)", calls)
	}
}
