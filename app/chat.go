package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// typingTTL is how long "X is typing" stays after the last typing signal:
// a client repeats the signal every typingEvery while its user types, so a
// signal lost or a user who stopped fades within a few seconds.
const (
	typingTTL   = 6 * time.Second
	typingEvery = 3 * time.Second
)

// chatState is the Store's part for chats beyond the messages: read marks
// and who is typing now. Neither is cached on disk.
type chatState struct {
	reads  map[chatKey]int64               // last message read by this user
	typing map[chatKey]map[int64]typist    // user id → until when
	now    func() time.Time                // the clock of typing expiry
	after  func(time.Duration, func()) any // schedules the expiry refresh
}

type typist struct {
	name  string
	until time.Time
}

func (c *chatState) init() {
	c.reads = map[chatKey]int64{}
	c.typing = map[chatKey]map[int64]typist{}
	if c.now == nil {
		c.now = time.Now
	}
	if c.after == nil {
		c.after = func(d time.Duration, f func()) any { return time.AfterFunc(d, f) }
	}
}

// SetReadMarks installs the read marks loaded with an application; a mark
// only moves forward.
func (s *Store) SetReadMarks(appID int64, marks []wire.ReadMark) {
	s.mu.Lock()
	for _, m := range marks {
		if m.AppID == 0 {
			m.AppID = appID
		}
		s.noteRead(m)
	}
	s.mu.Unlock()
	s.changed()
}

func (s *Store) noteRead(m wire.ReadMark) {
	k := chatKey{m.AppID, m.Channel}
	s.chat.reads[k] = max(s.chat.reads[k], m.LastReadID)
}

// LastRead is the last message of a chat this user has read.
func (s *Store) LastRead(appID int64, ch wire.Channel) int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.chat.reads[chatKey{appID, ch}]
}

// ChatUnread counts the messages of a chat others wrote after this user's
// read mark.
func (s *Store) ChatUnread(appID int64, ch wire.Channel) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k := chatKey{appID, ch}
	mark, n := s.chat.reads[k], 0
	for _, m := range s.messages[k] {
		if m.ID > mark && m.AuthorID != s.me.ID {
			n++
		}
	}
	return n
}

// Typing names the others typing in a chat now, sorted.
func (s *Store) Typing(appID int64, ch wire.Channel) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.chat.now()
	var names []string
	for _, t := range s.chat.typing[chatKey{appID, ch}] {
		if now.Before(t.until) {
			names = append(names, t.name)
		}
	}
	slices.Sort(names)
	return names
}

// Ephemeral implements client.Handler: typing signals of others are kept
// until they fade; presence is for the document viewer.
func (s *Store) Ephemeral(e wire.Ephemeral) {
	if e.Kind == wire.FramePresence {
		s.notePresence(e)
		return
	}
	if e.Kind != wire.FrameTyping || e.UserID == 0 {
		return
	}
	s.mu.Lock()
	if e.UserID == s.me.ID {
		s.mu.Unlock()
		return
	}
	k := chatKey{e.AppID, e.Channel}
	if s.chat.typing[k] == nil {
		s.chat.typing[k] = map[int64]typist{}
	}
	s.chat.typing[k][e.UserID] = typist{name: e.UserName, until: s.chat.now().Add(typingTTL)}
	after := s.chat.after
	s.mu.Unlock()
	s.changed()
	// Tell the screens again when the signal has faded.
	after(typingTTL+50*time.Millisecond, s.changed)
}

// stopTyping forgets a user's typing in a chat when their message arrives.
func (s *Store) stopTyping(k chatKey, userID int64) {
	if t := s.chat.typing[k]; t != nil {
		delete(t, userID)
	}
}

// MarkChatRead moves the user's read mark of a chat to its last message.
// Offline it does nothing: the mark moves the next time the chat is read.
func (w *Workspace) MarkChatRead(ctx context.Context, appID int64, ch wire.Channel) error {
	ms := w.store.Messages(appID, ch)
	if len(ms) == 0 {
		return nil
	}
	last := ms[len(ms)-1].ID
	if last <= w.store.LastRead(appID, ch) {
		return nil
	}
	if st, _ := w.store.Connection(); st != client.StateOnline {
		return nil
	}
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	m, err := c.MarkRead(ctx, appID, wire.MarkReadRequest{Channel: ch, LastReadID: last})
	if err != nil {
		return fmt.Errorf("mark %s chat of application %d read: %w", ch, appID, err)
	}
	w.store.SetReadMarks(appID, []wire.ReadMark{m})
	return nil
}

// Typing tells the others in a chat that the user is typing, at most
// once per typingEvery; offline it does nothing.
func (w *Workspace) Typing(appID int64, ch wire.Channel) {
	w.omu.Lock()
	st := w.stream
	k := chatKey{appID, ch}
	last := w.typedAt[k]
	now := w.now()
	if st == nil || now.Sub(last) < typingEvery {
		w.omu.Unlock()
		return
	}
	w.typedAt[k] = now
	w.omu.Unlock()
	if err := st.Send(wire.FrameTyping, wire.Ephemeral{Kind: wire.FrameTyping, AppID: appID, Channel: ch}); err != nil {
		w.log.Debug("typing signal not sent", "err", err)
	}
}
