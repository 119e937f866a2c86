package service

import (
	"context"
	"strings"

	"github.com/expertiza/expertiza/server/auth"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// NewUserInput creates a user from the CLI or the admin screen.
type NewUserInput struct {
	Login, Password, FullName, Email, Phone string
	Role                                    wire.Role
	OrgID                                   int64 // applicants: their organisation
	// TOTP, when true, enrols a second factor at once and returns its
	// otpauth URL (the CLI prints it for the new user's phone).
	TOTP bool
}

// NewUserResult is the created user and, with TOTP, the enrolment URL.
type NewUserResult struct {
	User       wire.User
	OTPAuthURL string
	TOTPSecret string
}

// AddUser creates a user. by is nil for the server's own CLI.
func (s *Service) AddUser(ctx context.Context, by *Principal, in NewUserInput) (NewUserResult, error) {
	if by != nil {
		if err := requireFull(by); err != nil {
			return NewUserResult{}, err
		}
		if by.Role != wire.RoleAdmin {
			return NewUserResult{}, errForbidden("Пользователей создаёт администратор", "Only administrators create users")
		}
	}
	if !in.Role.Valid() {
		return NewUserResult{}, wire.E(wire.CodeInvalid, "role", "Роль: applicant, expert, manager или admin", "Role: applicant, expert, manager or admin")
	}
	if err := validLogin(in.Login); err != nil {
		return NewUserResult{}, err
	}
	if strings.TrimSpace(in.FullName) == "" {
		return NewUserResult{}, wire.E(wire.CodeInvalid, "full_name", "Укажите ФИО", "Enter the full name")
	}
	if in.Email != "" {
		if err := validEmail("email", in.Email); err != nil {
			return NewUserResult{}, err
		}
	}
	if in.Role == wire.RoleApplicant && in.OrgID == 0 {
		return NewUserResult{}, wire.E(wire.CodeInvalid, "org_id", "Заявитель должен быть сотрудником организации: укажите её", "An applicant belongs to an organisation: give it")
	}
	if err := s.cfg.Policy.Check(in.Password, in.Login, in.FullName, in.Email); err != nil {
		return NewUserResult{}, err
	}
	hash, err := s.cfg.Hasher.Hash(in.Password)
	if err != nil {
		return NewUserResult{}, err
	}
	var res NewUserResult
	if in.TOTP {
		if res.TOTPSecret, res.OTPAuthURL, err = auth.NewTOTPSecret(s.cfg.Issuer, in.Login); err != nil {
			return NewUserResult{}, err
		}
	}
	actor := &Principal{Login: "cli"}
	if by != nil {
		actor = by
	}
	res.User, err = write(ctx, s, nil, func(tx *store.Tx) (wire.User, error) {
		id, err := tx.InsertUser(ctx, store.NewUser{Login: strings.TrimSpace(in.Login), FullName: strings.TrimSpace(in.FullName), Email: in.Email,
			Phone: in.Phone, Role: in.Role, PasswordHash: hash, TOTPSecret: res.TOTPSecret, TOTPEnabled: in.TOTP})
		if err != nil {
			return wire.User{}, err
		}
		if in.OrgID != 0 {
			if _, err := tx.Organisation(ctx, in.OrgID); err != nil {
				return wire.User{}, wire.E(wire.CodeInvalid, "org_id", "Организация не найдена", "Organisation not found")
			}
			if err := tx.AddMembership(ctx, id, in.OrgID); err != nil {
				return wire.User{}, err
			}
		}
		tx.Audit(store.AuditEntry{ActorID: actor.UserID, ActorLogin: actor.Login, IP: actor.IP, Action: "user_add", ObjectType: "user", ObjectID: itoa(id),
			Details: map[string]any{"login": in.Login, "role": in.Role}})
		u, err := tx.UserByID(ctx, id)
		if err != nil {
			return wire.User{}, err
		}
		return u.User, nil
	})
	return res, err
}

// SetUserDisabled disables (revoking every session and closing its
// sockets) or re-enables a user.
func (s *Service) SetUserDisabled(ctx context.Context, by *Principal, userID int64, disabled bool) error {
	if by != nil {
		if err := requireFull(by); err != nil {
			return err
		}
		if by.Role != wire.RoleAdmin {
			return errForbidden("Блокирует пользователей администратор", "Only administrators disable users")
		}
	} else {
		by = &Principal{Login: "cli"}
	}
	_, err := write(ctx, s, nil, func(tx *store.Tx) (struct{}, error) {
		if _, err := tx.UserByIDForUpdate(ctx, userID); err != nil {
			return struct{}{}, err
		}
		if err := tx.SetDisabled(ctx, userID, disabled); err != nil {
			return struct{}{}, err
		}
		action := "user_enable"
		if disabled {
			action = "user_disable"
			ids, err := tx.RevokeUserSessions(ctx, userID, 0)
			if err != nil {
				return struct{}{}, err
			}
			for _, id := range ids {
				tx.Emit(store.EventRow{Kind: wire.EventSessionRevoked, UserID: userID, Payload: mustJSON(map[string]int64{"session_id": id})})
			}
		}
		tx.Audit(store.AuditEntry{ActorID: by.UserID, ActorLogin: by.Login, IP: by.IP, Action: action, ObjectType: "user", ObjectID: itoa(userID)})
		return struct{}{}, nil
	})
	return err
}
