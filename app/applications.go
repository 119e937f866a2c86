package app

import (
	"context"
	"fmt"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// CanEdit reports whether the user may change an application's form now:
// an applicant of its organisation, while it is a draft or returned for
// correction (the server enforces the same).
func CanEdit(a wire.Application, me wire.User) bool {
	return me.Role == wire.RoleApplicant && me.OrgID != 0 && me.OrgID == a.OrgID &&
		(a.Status == wire.StatusDraft || a.Status == wire.StatusNeedsCorrection)
}

// CreateApplication files a new draft. The form is checked here with the
// server's own rules first, so every fault is known before anything is
// sent. It needs the server (the number is given there).
func (w *Workspace) CreateApplication(ctx context.Context, in wire.ApplicationInput) (wire.Application, error) {
	if errs := wire.ApplicationInputErrors(in, true); len(errs) > 0 {
		return wire.Application{}, errs[0]
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Application{}, err
	}
	key := client.NewIdempotencyKey()
	a, err := retryNetwork(ctx, func() (wire.Application, error) { return c.CreateApplication(ctx, in, key) })
	if err != nil {
		return wire.Application{}, fmt.Errorf("create application: %w", err)
	}
	w.store.UpsertApplication(a)
	return a, nil
}

// UpdateApplication saves the changed fields of a form the user saw at
// version seen; a change made meanwhile by someone else comes back as a
// conflict (IsConflict), never overwritten.
func (w *Workspace) UpdateApplication(ctx context.Context, id, seen int64, in wire.ApplicationInput) (wire.Application, error) {
	if errs := wire.ApplicationInputErrors(in, false); len(errs) > 0 {
		return wire.Application{}, errs[0]
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Application{}, err
	}
	key := client.NewIdempotencyKey()
	a, err := retryNetwork(ctx, func() (wire.Application, error) {
		return c.UpdateApplication(ctx, id, wire.UpdateApplicationRequest{Version: seen, ApplicationInput: in}, key)
	})
	if err != nil {
		return wire.Application{}, fmt.Errorf("save application %d: %w", id, err)
	}
	w.store.UpsertApplication(a)
	return a, nil
}

// DeleteDraft deletes a draft the user saw at version seen.
func (w *Workspace) DeleteDraft(ctx context.Context, id, seen int64) error {
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	if err := c.DeleteDraft(ctx, id, seen); err != nil {
		return fmt.Errorf("delete draft %d: %w", id, err)
	}
	w.store.forgetApplication(id)
	return nil
}

// forgetApplication drops a deleted application at once (its gone event
// follows and finds nothing left to do).
func (s *Store) forgetApplication(id int64) {
	s.mu.Lock()
	s.forget(id)
	s.mu.Unlock()
	s.changed()
}
