package app

import (
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

func TestTypingFadesAndEndsWithTheMessage(t *testing.T) {
	s := NewStore(slog.New(slog.DiscardHandler))
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var scheduled []time.Duration
	s.chat.now = func() time.Time { return now }
	s.chat.after = func(d time.Duration, _ func()) any { scheduled = append(scheduled, d); return nil }
	s.SetMe(wire.User{ID: 1, FullName: "Я"})
	typing := func(user int64, name string, ch wire.Channel) {
		s.Ephemeral(wire.Ephemeral{Kind: wire.FrameTyping, AppID: 7, UserID: user, UserName: name, Channel: ch})
	}
	typing(2, "Петров П. П.", wire.ChannelApplicant)
	typing(3, "Иванов И. И.", wire.ChannelApplicant)
	typing(1, "Я", wire.ChannelApplicant)          // my own echo: not shown
	typing(4, "Сидорова А. В.", wire.ChannelStaff) // another channel
	s.Ephemeral(wire.Ephemeral{Kind: wire.FramePresence, AppID: 7, UserID: 5, UserName: "Кто-то"})
	if got := s.Typing(7, wire.ChannelApplicant); !slices.Equal(got, []string{"Иванов И. И.", "Петров П. П."}) {
		t.Fatalf("typing %v", got)
	}
	if len(scheduled) != 3 || scheduled[0] <= typingTTL {
		t.Errorf("expiry refreshes scheduled %v, want one per shown signal after the TTL", scheduled)
	}
	// Petrov's message arrives: he is no longer typing.
	data, _ := json.Marshal(wire.Message{ID: 10, AppID: 7, Channel: wire.ChannelApplicant, AuthorID: 2, Body: "Готово"})
	if err := s.Apply(wire.Event{Seq: 1, Kind: wire.EventMessage, AppID: 7, Data: data}); err != nil {
		t.Fatal(err)
	}
	if got := s.Typing(7, wire.ChannelApplicant); !slices.Equal(got, []string{"Иванов И. И."}) {
		t.Errorf("after the message: %v", got)
	}
	now = now.Add(typingTTL + time.Millisecond)
	if got := s.Typing(7, wire.ChannelApplicant); len(got) != 0 {
		t.Errorf("typing did not fade: %v", got)
	}
}

func TestChatUnreadFollowsReadMarks(t *testing.T) {
	s := NewStore(slog.New(slog.DiscardHandler))
	s.SetMe(wire.User{ID: 1})
	s.SetMessages(7, wire.ChannelApplicant, []wire.Message{
		{ID: 10, AppID: 7, Channel: wire.ChannelApplicant, AuthorID: 2},
		{ID: 11, AppID: 7, Channel: wire.ChannelApplicant, AuthorID: 1}, // mine: never unread
		{ID: 12, AppID: 7, Channel: wire.ChannelApplicant, AuthorID: 3},
	})
	tests := []struct {
		name string
		mark wire.ReadMark
		want int
	}{
		{"nothing read", wire.ReadMark{}, 2},
		{"read up to 10", wire.ReadMark{AppID: 7, Channel: wire.ChannelApplicant, LastReadID: 10}, 1},
		{"a stale mark does not go back", wire.ReadMark{AppID: 7, Channel: wire.ChannelApplicant, LastReadID: 5}, 1},
		{"another channel's mark", wire.ReadMark{AppID: 7, Channel: wire.ChannelStaff, LastReadID: 99}, 1},
		{"all read, by event", wire.ReadMark{AppID: 7, Channel: wire.ChannelApplicant, LastReadID: 12}, 0},
	}
	for i, tt := range tests {
		if tt.mark.LastReadID != 0 {
			data, _ := json.Marshal(tt.mark)
			if err := s.Apply(wire.Event{Seq: int64(i + 1), Kind: wire.EventMessageRead, AppID: 7, Data: data}); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.ChatUnread(7, wire.ChannelApplicant); got != tt.want {
			t.Errorf("%s: %d unread, want %d", tt.name, got, tt.want)
		}
	}
}
