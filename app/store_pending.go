package app

import (
	"slices"

	"github.com/expertiza/expertiza/sync/client"
)

// outboxState is the Store's copy of the outbox, for the screens: it is
// not cached (the outbox file is its own record) and not cleared by a
// resync (the queue does not depend on the stream).
type outboxState struct {
	pending  []PendingCommand
	refused  []PendingCommand
	flushing bool
}

// SetPending replaces what the screens show of the outbox (the Workspace
// calls it after every change of the queue).
func (s *Store) SetPending(pending, refused []PendingCommand) {
	s.mu.Lock()
	s.out.pending, s.out.refused = pending, refused
	s.mu.Unlock()
	s.changed()
}

// addPending shows one more queued command without re-reading the outbox.
func (s *Store) addPending(p PendingCommand) {
	s.mu.Lock()
	s.out.pending = append(slices.Clone(s.out.pending), p)
	s.mu.Unlock()
	s.changed()
}

// settlePending takes a sent command off the queue shown; a refusal goes
// to the refused list.
func (s *Store) settlePending(id uint64, refused *PendingCommand) {
	s.mu.Lock()
	s.out.pending = slices.DeleteFunc(slices.Clone(s.out.pending), func(p PendingCommand) bool { return p.ID == id })
	if refused != nil {
		s.out.refused = append(slices.Clone(s.out.refused), *refused)
	}
	s.mu.Unlock()
	s.changed()
}

func (s *Store) setFlushing(on bool) {
	s.mu.Lock()
	s.out.flushing = on
	s.mu.Unlock()
	s.changed()
}

// Pending lists the commands waiting to be sent, oldest first.
func (s *Store) Pending() []PendingCommand {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]PendingCommand(nil), s.out.pending...)
}

// PendingFor lists the waiting commands of one application.
func (s *Store) PendingFor(appID int64) []PendingCommand {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []PendingCommand
	for _, p := range s.out.pending {
		if p.AppID == appID {
			out = append(out, p)
		}
	}
	return out
}

// Refused lists the queued commands the server turned down, until the
// user dismisses them.
func (s *Store) Refused() []PendingCommand {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return append([]PendingCommand(nil), s.out.refused...)
}

// SyncState is what the connection indicator shows.
type SyncState struct {
	Conn    client.State
	Err     error
	Queued  int  // commands waiting in the outbox
	Refused int  // queued commands the server refused
	Syncing bool // the outbox is being sent or the lists reloaded
}

// Sync reports the connection and the outbox at once.
func (s *Store) Sync() SyncState {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return SyncState{
		Conn: s.state, Err: s.stateErr,
		Queued: len(s.out.pending), Refused: len(s.out.refused),
		Syncing: s.out.flushing || s.resyncing || (s.state == client.StateOnline && !s.synced && s.reload != nil),
	}
}
