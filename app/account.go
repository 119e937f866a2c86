package app

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/expertiza/expertiza/sync/wire"
)

// Sessions lists the user's active sessions, the current one first, then
// the most recently seen.
func (w *Workspace) Sessions(ctx context.Context) ([]wire.Session, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	list, err := c.Sessions(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	slices.SortStableFunc(list, func(a, b wire.Session) int {
		if a.Current != b.Current {
			if a.Current {
				return -1
			}
			return 1
		}
		return b.LastSeen.Compare(a.LastSeen)
	})
	return list, nil
}

// EndSession ends another session of the user (a device signed in
// elsewhere). The current session ends with Logout instead.
func (w *Workspace) EndSession(ctx context.Context, id int64) error {
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	if err := c.EndSession(ctx, id); err != nil {
		return fmt.Errorf("end session %d: %w", id, err)
	}
	return nil
}

// Logins lists the user's login history, newest first.
func (w *Workspace) Logins(ctx context.Context) ([]wire.LoginEvent, error) {
	c, err := w.sess.client()
	if err != nil {
		return nil, err
	}
	list, err := c.Logins(ctx)
	if err != nil {
		return nil, fmt.Errorf("list logins: %w", err)
	}
	slices.SortStableFunc(list, func(a, b wire.LoginEvent) int { return cmp.Compare(b.At.UnixNano(), a.At.UnixNano()) })
	return list, nil
}
