package app

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// reloadTimeout bounds the HTTP reload the stream waits for after a resync.
const reloadTimeout = 30 * time.Second

type chatKey struct {
	app int64
	ch  wire.Channel
}

// Store is the client's in-memory state: what the screens show. It is fed
// by HTTP loads and by the event stream (it is the stream's client.Handler)
// and tells listeners after every change. It is safe for concurrent use;
// listeners run on the goroutine that made the change, outside the lock.
type Store struct {
	log *slog.Logger

	mu       sync.RWMutex
	me       wire.User
	apps     map[int64]wire.Application
	appList  []wire.Application // apps newest first, nil when stale
	appsGen  uint64             // counts changes of apps, to keep appList honest
	touched  map[int64]uint64   // tick of the last event that changed an application
	tick     uint64             // counts applied events, to order loads against events
	history  map[int64][]wire.StatusChange
	messages map[chatKey][]wire.Message
	docs     map[int64][]wire.Document
	notes    []wire.Notification // newest first
	revoked  []int64             // sessions of this user ended elsewhere
	state    client.State
	stateErr error
	synced   bool // the lists were loaded after the stream went live

	// seq is the last event sequence the state includes (hasSeq false:
	// none known); while resyncing the lists are being reloaded, so the
	// state is not yet that of seq and the cache saves no position.
	seq       int64
	hasSeq    bool
	resyncing bool
	dirty     dirtySet   // what changed since the cache last wrote
	cl        *cacheLink // the disk cache, nil when none
	out       outboxState
	chat      chatState
	review    reviewState
	annot     annotState // annotations and viewer presence (annotations.go)
	concl     conclusionState
	pay       map[int64]wire.PaymentInfo // the «Оплата» side by application (contract.go)

	lmu       sync.Mutex
	listeners map[int]func()
	nextL     int

	// reload fetches the lists over HTTP; the stream calls it after a
	// resync and when it first goes live.
	reload func(context.Context) error
}

// NewStore returns an empty store.
func NewStore(log *slog.Logger) *Store {
	s := &Store{log: log, listeners: map[int]func(){}, state: client.StateOffline}
	s.reset()
	return s
}

func (s *Store) reset() {
	s.me = wire.User{}
	s.apps = map[int64]wire.Application{}
	s.appsChanged()
	s.touched = map[int64]uint64{}
	s.history = map[int64][]wire.StatusChange{}
	s.messages = map[chatKey][]wire.Message{}
	s.docs = map[int64][]wire.Document{}
	s.notes = nil
	s.revoked = nil
	s.state, s.stateErr, s.synced = client.StateOffline, nil, false
	s.seq, s.hasSeq, s.resyncing = 0, false, false
	s.dirty = dirtySet{all: true}
	s.chat.init()
	s.review.init()
	s.annot.init()
	s.concl.init()
	s.pay = map[int64]wire.PaymentInfo{}
}

// Clear forgets everything (at logout), so the next user sees nothing of
// the previous one.
func (s *Store) Clear() {
	s.mu.Lock()
	s.reset()
	s.mu.Unlock()
	s.changed()
}

// OnChange registers fn to be called after every change; the returned
// function unregisters it.
func (s *Store) OnChange(fn func()) (cancel func()) {
	s.lmu.Lock()
	id := s.nextL
	s.nextL++
	s.listeners[id] = fn
	s.lmu.Unlock()
	return func() {
		s.lmu.Lock()
		delete(s.listeners, id)
		s.lmu.Unlock()
	}
}

func (s *Store) changed() {
	s.lmu.Lock()
	fns := make([]func(), 0, len(s.listeners))
	for _, fn := range s.listeners {
		fns = append(fns, fn)
	}
	s.lmu.Unlock()
	s.kickCache()
	for _, fn := range fns {
		fn()
	}
}

// appsChanged drops the sorted list of applications (under the lock).
func (s *Store) appsChanged() {
	s.appList = nil
	s.appsGen++
}

// --- reading ---

// Me is the signed-in user as last seen.
func (s *Store) Me() wire.User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.me
}

// Applications returns the known applications, newest first.
func (s *Store) Applications() []wire.Application {
	s.mu.RLock()
	if s.appList != nil {
		defer s.mu.RUnlock()
		return slices.Clone(s.appList)
	}
	out := make([]wire.Application, 0, len(s.apps))
	for _, a := range s.apps {
		out = append(out, a)
	}
	gen := s.appsGen
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b wire.Application) int { return cmp.Compare(b.ID, a.ID) })
	// Kept sorted for the next reader (a list of 10,000 is re-read after
	// every event), unless the applications changed meanwhile.
	s.mu.Lock()
	if s.appsGen == gen {
		s.appList = slices.Clone(out)
	}
	s.mu.Unlock()
	return out
}

// Application returns one application.
func (s *Store) Application(id int64) (wire.Application, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.apps[id]
	return a, ok
}

// History returns an application's status changes, oldest first.
func (s *Store) History(id int64) []wire.StatusChange {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.history[id])
}

// Messages returns a chat channel, oldest first.
func (s *Store) Messages(id int64, ch wire.Channel) []wire.Message {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.messages[chatKey{id, ch}])
}

// Notifications returns the feed, newest first.
func (s *Store) Notifications() []wire.Notification {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.notes)
}

// Unread counts unread notifications.
func (s *Store) Unread() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, x := range s.notes {
		if !x.Read {
			n++
		}
	}
	return n
}

// RevokedSessions lists sessions of this user that were ended while this
// client was connected (the current one included, if it was).
func (s *Store) RevokedSessions() []int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.revoked)
}

// Connection is the stream's state for the sync indicator, with the error
// that caused it (nil when none).
func (s *Store) Connection() (client.State, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.state, s.stateErr
}

// --- writing (loads and command results) ---

// SetMe records the signed-in user.
func (s *Store) SetMe(u wire.User) {
	s.mu.Lock()
	s.me = u
	s.dirty.me = true
	s.mu.Unlock()
	s.changed()
}

// Tick is the number of events applied so far; a load notes it before its
// request so that ReplaceApplications can tell which entries are newer.
func (s *Store) Tick() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.tick
}

// ReplaceApplications installs a freshly loaded list taken after event
// tick since. An application an event changed after that tick is kept
// even if the list lacks it or holds an older version: the event is newer
// than the list.
func (s *Store) ReplaceApplications(since uint64, list []wire.Application) {
	s.mu.Lock()
	next := make(map[int64]wire.Application, len(list))
	for _, a := range list {
		next[a.ID] = a
	}
	for id, old := range s.apps {
		if s.touched[id] <= since {
			continue
		}
		if a, ok := next[id]; !ok || a.Version < old.Version {
			next[id] = old
		}
	}
	for id := range s.apps {
		if _, ok := next[id]; !ok {
			s.forget(id)
		}
	}
	for id := range next {
		s.dirty.app(id)
	}
	s.apps = next
	s.appsChanged()
	s.mu.Unlock()
	s.changed()
}

// UpsertApplication stores a that came from a command or a read, unless a
// newer version is already known.
func (s *Store) UpsertApplication(a wire.Application) {
	s.mu.Lock()
	ok := s.upsert(a)
	s.mu.Unlock()
	if ok {
		s.changed()
	}
}

func (s *Store) upsert(a wire.Application) bool {
	if old, ok := s.apps[a.ID]; ok && old.Version > a.Version {
		return false
	}
	s.apps[a.ID] = a
	s.appsChanged()
	s.dirty.app(a.ID)
	return true
}

// forget drops everything about one application; the caller holds mu.
func (s *Store) forget(id int64) {
	delete(s.apps, id)
	s.appsChanged()
	delete(s.touched, id)
	delete(s.history, id)
	delete(s.docs, id)
	s.dirty.app(id)
	s.dirty.hist(id)
	for k := range s.messages {
		if k.app == id {
			delete(s.messages, k)
			s.dirty.chat(k)
		}
	}
}

// SetHistory installs an application's loaded history, keeping changes
// that arrived by event meanwhile.
func (s *Store) SetHistory(id int64, h []wire.StatusChange) {
	s.mu.Lock()
	s.history[id] = mergeByID(s.history[id], h, func(c wire.StatusChange) int64 { return c.ID })
	s.dirty.hist(id)
	s.mu.Unlock()
	s.changed()
}

// SetMessages installs a loaded chat channel, keeping messages that arrived
// by event meanwhile.
func (s *Store) SetMessages(id int64, ch wire.Channel, ms []wire.Message) {
	s.mu.Lock()
	k := chatKey{id, ch}
	s.messages[k] = mergeByID(s.messages[k], ms, func(m wire.Message) int64 { return m.ID })
	s.dirty.chat(k)
	s.mu.Unlock()
	s.changed()
}

// AddMessage stores one message (a command's result or an event).
func (s *Store) AddMessage(m wire.Message) {
	s.SetMessages(m.AppID, m.Channel, []wire.Message{m})
}

// SetNotifications installs the loaded feed, keeping items that arrived by
// event meanwhile.
func (s *Store) SetNotifications(ns []wire.Notification) {
	s.mu.Lock()
	s.notes = mergeByID(s.notes, ns, func(n wire.Notification) int64 { return n.ID })
	slices.Reverse(s.notes)
	s.dirty.notes = true
	s.mu.Unlock()
	s.changed()
}

// MarkRead marks notifications read locally.
func (s *Store) MarkRead(ids []int64) {
	s.mu.Lock()
	s.markRead(ids)
	s.mu.Unlock()
	s.changed()
}

func (s *Store) markRead(ids []int64) {
	s.dirty.notes = true
	for i := range s.notes {
		if slices.Contains(ids, s.notes[i].ID) {
			s.notes[i].Read = true
		}
	}
}

// mergeByID returns old and fresh merged by id, fresh winning, sorted by id
// ascending.
func mergeByID[T any](old, fresh []T, id func(T) int64) []T {
	byID := make(map[int64]T, len(old)+len(fresh))
	for _, x := range old {
		byID[id(x)] = x
	}
	for _, x := range fresh {
		byID[id(x)] = x
	}
	out := make([]T, 0, len(byID))
	for _, x := range byID {
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
	return out
}

// addByID puts x into list, kept ascending by id: a replacement or an
// insertion found by binary search, so an event costs O(log n) plus the
// move of later items (none for the usual newest-last arrival) instead of
// a full merge and sort. Readers get clones, so the in-place change is safe
// under the write lock.
func addByID[T any](list []T, x T, id func(T) int64) []T {
	k := id(x)
	i, found := slices.BinarySearchFunc(list, k, func(e T, k int64) int { return cmp.Compare(id(e), k) })
	if found {
		list[i] = x
		return list
	}
	return slices.Insert(list, i, x)
}

// --- events ---

// Apply applies one event from the stream. Unknown kinds are ignored (a
// newer server may send kinds this client does not know yet); malformed
// data is an error and changes nothing.
func (s *Store) Apply(e wire.Event) error {
	changed, err := s.apply(e)
	if err != nil {
		return fmt.Errorf("apply event %d (%s): %w", e.Seq, e.Kind, err)
	}
	if changed {
		s.changed()
	}
	return nil
}

func (s *Store) apply(e wire.Event) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick++
	if e.Seq > 0 && (e.Seq > s.seq || !s.hasSeq) {
		s.seq, s.hasSeq = e.Seq, true
		s.dirty.seq = true
	}
	switch e.Kind {
	case wire.EventApplication:
		var a wire.Application
		if err := e.Decode(&a); err != nil {
			return false, err
		}
		if a.ID == 0 {
			return false, fmt.Errorf("application without id")
		}
		if !s.upsert(a) {
			return false, nil
		}
		s.touched[a.ID] = s.tick
	case wire.EventApplicationGone:
		var g struct {
			ID int64 `json:"id"`
		}
		if err := e.Decode(&g); err != nil {
			return false, err
		}
		if g.ID == 0 {
			g.ID = e.AppID
		}
		s.forget(g.ID)
	case wire.EventStatusChanged:
		var c wire.StatusChange
		if err := e.Decode(&c); err != nil {
			return false, err
		}
		if c.AppID == 0 {
			c.AppID = e.AppID
		}
		s.history[c.AppID] = mergeByID(s.history[c.AppID], []wire.StatusChange{c}, func(c wire.StatusChange) int64 { return c.ID })
		s.dirty.hist(c.AppID)
		// The application event of the same commit carries the new version;
		// until it arrives show the new status, but only over the status
		// this change started from, so a late event never moves it back.
		if a, ok := s.apps[c.AppID]; ok && a.Status == c.From {
			a.Status = c.To
			s.apps[c.AppID] = a
			s.appsChanged()
			s.dirty.app(c.AppID)
			s.touched[c.AppID] = s.tick
		}
	case wire.EventMessage:
		var m wire.Message
		if err := e.Decode(&m); err != nil {
			return false, err
		}
		k := chatKey{m.AppID, m.Channel}
		s.messages[k] = addByID(s.messages[k], m, func(m wire.Message) int64 { return m.ID })
		s.dirty.chat(k)
		s.stopTyping(k, m.AuthorID)
	case wire.EventMessageRead:
		var m wire.ReadMark
		if err := e.Decode(&m); err != nil {
			return false, err
		}
		if m.AppID == 0 {
			m.AppID = e.AppID
		}
		s.noteRead(m)
	case wire.EventDocumentVersion:
		var d wire.Document
		if err := e.Decode(&d); err != nil {
			return false, err
		}
		if d.AppID == 0 {
			d.AppID = e.AppID
		}
		for _, v := range d.Versions {
			s.mergeVersion(d.AppID, d, v)
		}
	case wire.EventNotification:
		var n wire.Notification
		if err := e.Decode(&n); err != nil {
			return false, err
		}
		// The feed is newest first: the usual new notification goes in front.
		if len(s.notes) == 0 || n.ID > s.notes[0].ID {
			s.notes = slices.Insert(s.notes, 0, n)
		} else {
			s.notes = mergeByID(s.notes, []wire.Notification{n}, func(n wire.Notification) int64 { return n.ID })
			slices.Reverse(s.notes)
		}
		s.dirty.notes = true
	case wire.EventNotificationRead:
		var r struct {
			IDs []int64 `json:"ids"`
		}
		if err := e.Decode(&r); err != nil {
			return false, err
		}
		s.markRead(r.IDs)
	case wire.EventSessionRevoked:
		// If it is this client's session the server also closes the stream
		// with a terminal code, which State reports as StateStopped; the
		// id is kept for a sessions screen.
		var r struct {
			SessionID int64 `json:"session_id"`
		}
		if err := e.Decode(&r); err != nil {
			return false, err
		}
		s.revoked = append(s.revoked, r.SessionID)
	case wire.EventUser:
		var u wire.User
		if err := e.Decode(&u); err != nil {
			return false, err
		}
		if u.ID != s.me.ID {
			return false, nil
		}
		s.me = u
		s.dirty.me = true
	case wire.EventContract:
		return s.applyContract(e)
	default:
		if handled, err := s.applyConclusion(e); handled {
			return err == nil, err
		}
		if handled, err := s.applyAnnotation(e); handled {
			return err == nil, err
		}
		return s.applyReview(e)
	}
	return true, nil
}

// --- client.Handler ---

var _ client.Handler = (*Store)(nil)

// Event implements client.Handler.
func (s *Store) Event(e wire.Event) {
	if err := s.Apply(e); err != nil {
		s.log.Warn("event skipped", "err", err)
	}
}

// Resync implements client.Handler: the stream cannot continue from where
// this client was, so the lists are reloaded before later events apply.
func (s *Store) Resync(seq int64) {
	s.log.Info("stream resync", "seq", seq)
	s.mu.Lock()
	s.seq, s.hasSeq, s.resyncing = seq, true, true
	s.dirty.seq = true
	s.mu.Unlock()
	s.runReload()
}

// State implements client.Handler.
func (s *Store) State(st client.State, err error) {
	s.mu.Lock()
	s.state, s.stateErr = st, err
	first := st == client.StateOnline && !s.synced
	s.mu.Unlock()
	s.changed()
	if first {
		// Loading only once the stream is live leaves no gap: events
		// committed meanwhile arrive on the stream and win by version.
		s.runReload()
	}
}

// SetReloader sets what Resync and the first live connection run. It runs
// on the stream's goroutine, so later events wait for it.
func (s *Store) SetReloader(fn func(context.Context) error) {
	s.mu.Lock()
	s.reload = fn
	s.mu.Unlock()
}

func (s *Store) runReload() {
	s.mu.RLock()
	fn := s.reload
	s.mu.RUnlock()
	if fn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	if err := fn(ctx); err != nil {
		s.log.Warn("reload failed", "err", err)
		return
	}
	s.mu.Lock()
	s.synced = true
	if s.resyncing {
		s.resyncing = false
		s.dirty.seq = true
	}
	s.mu.Unlock()
	s.kickCache()
}
