package service

import (
	"context"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Permission changes an administrator makes on user accounts. Each ends
// the user's sessions where it changes what they may do, and each appends
// an audit row with the before and after.

// requireAdmin refuses everyone but administrators with full sessions;
// nil is the server's own CLI.
func requireAdmin(by *Principal, ru, en string) (*Principal, error) {
	if by == nil {
		return &Principal{Login: "cli"}, nil
	}
	if err := requireFull(by); err != nil {
		return nil, err
	}
	if by.Role != wire.RoleAdmin {
		return nil, errForbidden(ru, en)
	}
	return by, nil
}

// endSessions revokes every session of userID and tells its sockets.
func endSessions(ctx context.Context, tx *store.Tx, userID int64) error {
	ids, err := tx.RevokeUserSessions(ctx, userID, 0)
	if err != nil {
		return err
	}
	for _, id := range ids {
		tx.Emit(store.EventRow{Kind: wire.EventSessionRevoked, UserID: userID, Payload: mustJSON(map[string]int64{"session_id": id})})
	}
	return nil
}

// SetUserRole gives a user another role. Their sessions end, so the new
// role (and, for staff, the second factor it requires) applies from their
// next sign-in. An administrator cannot change their own role, so the
// last administrator cannot lock everyone out by accident.
func (s *Service) SetUserRole(ctx context.Context, by *Principal, userID int64, role wire.Role) (wire.User, error) {
	by, err := requireAdmin(by, "Роли назначает администратор", "Only administrators change roles")
	if err != nil {
		return wire.User{}, err
	}
	if !role.Valid() {
		return wire.User{}, wire.E(wire.CodeInvalid, "role", "Роль: applicant, expert, manager или admin", "Role: applicant, expert, manager or admin")
	}
	if userID == by.UserID {
		return wire.User{}, wire.E(wire.CodeConflict, "role", "Свою роль изменить нельзя — попросите другого администратора", "You cannot change your own role — ask another administrator")
	}
	return write(ctx, s, nil, func(tx *store.Tx) (wire.User, error) {
		u, err := tx.UserByIDForUpdate(ctx, userID)
		if err != nil {
			return wire.User{}, err
		}
		if role == wire.RoleApplicant && len(u.OrgIDs) == 0 {
			return wire.User{}, wire.E(wire.CodeInvalid, "role", "Заявитель должен состоять в организации, а этот пользователь ни в одной", "An applicant belongs to an organisation, and this user is in none")
		}
		if u.Role == role {
			return u.User, nil
		}
		if err := tx.SetUserRole(ctx, userID, string(role)); err != nil {
			return wire.User{}, err
		}
		if err := endSessions(ctx, tx, userID); err != nil {
			return wire.User{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: by.UserID, ActorLogin: by.Login, IP: by.IP, Device: by.Device, Action: wire.AuditUserRole,
			ObjectType: "user", ObjectID: itoa(userID), Details: map[string]any{"login": u.Login, "from": u.Role, "to": role}})
		out, err := tx.UserByID(ctx, userID)
		if err != nil {
			return wire.User{}, err
		}
		tx.Emit(store.EventRow{Kind: wire.EventUser, UserID: userID, Payload: mustJSON(out.User)})
		return out.User, nil
	})
}

// ResetTOTP removes a user's second factor (a lost phone): their sessions
// end and their next sign-in enrols a new one.
func (s *Service) ResetTOTP(ctx context.Context, by *Principal, userID int64) (wire.User, error) {
	by, err := requireAdmin(by, "Двухфакторную аутентификацию сбрасывает администратор", "Only administrators reset two-factor authentication")
	if err != nil {
		return wire.User{}, err
	}
	return write(ctx, s, nil, func(tx *store.Tx) (wire.User, error) {
		u, err := tx.UserByIDForUpdate(ctx, userID)
		if err != nil {
			return wire.User{}, err
		}
		if err := tx.ResetTOTP(ctx, userID); err != nil {
			return wire.User{}, err
		}
		if err := endSessions(ctx, tx, userID); err != nil {
			return wire.User{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: by.UserID, ActorLogin: by.Login, IP: by.IP, Device: by.Device, Action: wire.AuditTOTPReset,
			ObjectType: "user", ObjectID: itoa(userID), Details: map[string]any{"login": u.Login, "was_enabled": u.TOTPEnabled}})
		out, err := tx.UserByID(ctx, userID)
		if err != nil {
			return wire.User{}, err
		}
		tx.Emit(store.EventRow{Kind: wire.EventUser, UserID: userID, Payload: mustJSON(out.User)})
		return out.User, nil
	})
}
