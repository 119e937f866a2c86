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

// SetMailLanguage tells the server which language ("ru" or "en") to write
// the user's notification e-mail in: the client sends its interface
// language.
func (w *Workspace) SetMailLanguage(ctx context.Context, lang string) error {
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	if err := c.SetLanguage(ctx, lang); err != nil {
		return fmt.Errorf("set e-mail language: %w", err)
	}
	return nil
}

// ChangePassword replaces the user's password; the server checks the old
// one and its policy (length, common passwords, personal data) and ends
// the user's other sessions. The two copies of the new password are
// compared here, so a typo never reaches the server.
func (w *Workspace) ChangePassword(ctx context.Context, old, new, repeat string) error {
	switch {
	case old == "":
		return wire.E(wire.CodeInvalid, "old", "Введите текущий пароль", "Enter the current password")
	case new == "":
		return wire.E(wire.CodeInvalid, "new", "Введите новый пароль", "Enter the new password")
	case new != repeat:
		return wire.E(wire.CodeInvalid, "repeat", "Новый пароль и повтор не совпадают", "The new password and its repeat differ")
	case new == old:
		return wire.E(wire.CodeInvalid, "new", "Новый пароль совпадает с текущим", "The new password is the same as the current one")
	}
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	if err := c.ChangePassword(ctx, old, new); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	return nil
}
