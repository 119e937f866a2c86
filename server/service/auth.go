package service

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expertiza/expertiza/server/auth"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// ClientMeta says where a request came from.
type ClientMeta struct {
	IP, UserAgent, DeviceID, DeviceName string
}

// touchEvery throttles last_seen writes; idle expiry is accurate to it.
const touchEvery = 30 * time.Second

func errBadCredentials() error {
	// One answer for unknown user, wrong password, wrong code, locked or
	// disabled account, so none of them can be told apart.
	return wire.E(wire.CodeInvalidCredentials, "",
		"Неверный логин, пароль или код подтверждения. После 5 неудачных попыток вход блокируется на 15 минут.",
		"Wrong login, password or code. After 5 failed attempts sign-in is locked for 15 minutes.")
}

func errSession() error {
	return wire.E(wire.CodeUnauthenticated, "", "Сеанс завершён или истёк — войдите снова", "The session ended or expired — sign in again")
}

func validLogin(login string) error {
	if n := utf8.RuneCountInString(login); n < 3 || n > 64 || strings.ContainsAny(login, " \t\r\n") {
		return wire.E(wire.CodeInvalid, "login", "Логин: от 3 до 64 символов без пробелов", "Login: 3 to 64 characters without spaces")
	}
	return nil
}

func validEmail(field, email string) error { return wire.ValidEmail(field, email) }

func required(field, value, ru, en string) error {
	if strings.TrimSpace(value) == "" {
		return wire.E(wire.CodeInvalid, field, ru, en)
	}
	return nil
}

// Register creates an applicant together with their organisation.
func (s *Service) Register(ctx context.Context, r wire.RegisterRequest, meta ClientMeta) (wire.User, error) {
	o := r.Organisation
	o.Name, o.INN, o.OGRN, o.KPP = strings.TrimSpace(o.Name), strings.TrimSpace(o.INN), strings.TrimSpace(o.OGRN), strings.TrimSpace(o.KPP)
	if err := errors.Join(
		validLogin(r.Login),
		required("full_name", r.FullName, "Укажите фамилию, имя и отчество", "Enter your full name"),
		validEmail("email", r.Email),
		required("organisation.name", o.Name, "Укажите полное наименование организации", "Enter the organisation's full name"),
		required("organisation.address", o.Address, "Укажите юридический адрес организации", "Enter the organisation's legal address"),
		prefixField("organisation.", wire.ValidateINN(o.INN)),
		prefixField("organisation.", wire.ValidateOGRN(o.OGRN)),
	); err != nil {
		return wire.User{}, firstWireError(err)
	}
	if o.KPP != "" {
		if err := wire.ValidateKPP(o.KPP); err != nil {
			return wire.User{}, prefixField("organisation.", err)
		}
	}
	if err := s.cfg.Policy.Check(r.Password, r.Login, r.FullName, r.Email, o.INN); err != nil {
		return wire.User{}, err
	}
	hash, err := s.cfg.Hasher.Hash(r.Password)
	if err != nil {
		return wire.User{}, err
	}
	return write(ctx, s, nil, func(tx *store.Tx) (wire.User, error) {
		orgID, err := tx.InsertOrganisation(ctx, o)
		if err != nil {
			return wire.User{}, err
		}
		id, err := tx.InsertUser(ctx, store.NewUser{Login: strings.TrimSpace(r.Login), FullName: strings.TrimSpace(r.FullName),
			Email: strings.TrimSpace(r.Email), Phone: r.Phone, Role: wire.RoleApplicant, PasswordHash: hash})
		if err != nil {
			return wire.User{}, err
		}
		if err := tx.AddMembership(ctx, id, orgID); err != nil {
			return wire.User{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: id, ActorLogin: r.Login, IP: meta.IP, Device: deviceLabel(meta.DeviceName, meta.DeviceID), Action: "register", ObjectType: "organisation", ObjectID: itoa(orgID)})
		u, err := tx.UserByIDForUpdate(ctx, id)
		if err != nil {
			return wire.User{}, err
		}
		return u.User, nil
	})
}

// prefixField moves a validation error under a nested field name.
func prefixField(prefix string, err error) error {
	if e, ok := wire.AsError(err); ok {
		c := *e
		c.Field = prefix + c.Field
		return &c
	}
	return err
}

// firstWireError picks the first protocol error out of errors.Join, so the
// client gets one clear message and field to fix.
func firstWireError(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if e != nil {
				return e
			}
		}
	}
	return err
}

// Login checks the password (and the second factor) and opens a session.
func (s *Service) Login(ctx context.Context, r wire.LoginRequest, meta ClientMeta) (wire.LoginResponse, error) {
	now := s.now()
	var outcome error
	resp, err := write(ctx, s, nil, func(tx *store.Tx) (wire.LoginResponse, error) {
		outcome = nil
		u, err := tx.UserByLogin(ctx, strings.TrimSpace(r.Login))
		if wire.ErrorCode(err) == wire.CodeNotFound {
			s.cfg.Hasher.DummyVerify(r.Password)
			outcome = errBadCredentials()
			tx.Audit(store.AuditEntry{ActorLogin: truncateLogin(r.Login), IP: meta.IP, Device: deviceLabel(meta.DeviceName, meta.DeviceID),
				Action: wire.AuditLoginFailed, ObjectType: "user", Details: map[string]any{"reason": "unknown_login"}})
			return wire.LoginResponse{}, tx.InsertLogin(ctx, store.LoginRecord{IP: meta.IP, DeviceID: meta.DeviceID,
				DeviceName: meta.DeviceName, UA: meta.UserAgent, Reason: "unknown_login"})
		}
		if err != nil {
			return wire.LoginResponse{}, err
		}
		if u, err = tx.UserByIDForUpdate(ctx, u.ID); err != nil {
			return wire.LoginResponse{}, err
		}
		fail := func(reason string, count bool) (wire.LoginResponse, error) {
			outcome = errBadCredentials()
			if count {
				if err := s.recordFailure(ctx, tx, u, now); err != nil {
					return wire.LoginResponse{}, err
				}
			}
			tx.Audit(store.AuditEntry{ActorID: u.ID, ActorLogin: u.Login, IP: meta.IP, Device: deviceLabel(meta.DeviceName, meta.DeviceID),
				Action: "login_failed", ObjectType: "user", ObjectID: itoa(u.ID), Details: map[string]any{"reason": reason}})
			return wire.LoginResponse{}, tx.InsertLogin(ctx, store.LoginRecord{UserID: u.ID, IP: meta.IP, DeviceID: meta.DeviceID,
				DeviceName: meta.DeviceName, UA: meta.UserAgent, Reason: reason})
		}
		// Verify before looking at lock or disable so every refusal costs
		// the same time.
		ok, _, verr := s.cfg.Hasher.Verify(u.PasswordHash, r.Password)
		switch {
		case u.LockedUntil != nil && u.LockedUntil.After(now):
			return fail("locked", false)
		case u.Disabled:
			return fail("disabled", false)
		case verr != nil || !ok:
			return fail("wrong_password", true)
		}
		if u.TOTPEnabled {
			if strings.TrimSpace(r.TOTPCode) == "" {
				outcome = wire.E(wire.CodeTOTPRequired, "totp_code", "Введите код из приложения-аутентификатора", "Enter the code from your authenticator app")
				return wire.LoginResponse{}, nil
			}
			step, err := auth.VerifyTOTP(u.TOTPSecret, strings.TrimSpace(r.TOTPCode), now, u.TOTPLastStep)
			if err != nil {
				return fail("wrong_totp", true)
			}
			if err := tx.SetTOTPLastStep(ctx, u.ID, step); err != nil {
				return wire.LoginResponse{}, err
			}
		}
		if err := tx.ResetLoginFailures(ctx, u.ID); err != nil {
			return wire.LoginResponse{}, err
		}
		scope := wire.ScopeFull
		if u.Role.RequiresTOTP() && !u.TOTPEnabled {
			scope = wire.ScopeEnrol
		}
		return s.openSession(ctx, tx, u, scope, meta, now)
	})
	if err != nil {
		return wire.LoginResponse{}, err
	}
	if outcome != nil {
		return wire.LoginResponse{}, outcome
	}
	return resp, nil
}

func (s *Service) recordFailure(ctx context.Context, tx *store.Tx, u *store.UserRow, now time.Time) error {
	count := u.FailedLogins + 1
	if u.LockedUntil != nil && !u.LockedUntil.After(now) {
		count = 1 // the previous lock has run out: start counting afresh
	}
	var lock *time.Time
	if count >= s.cfg.MaxFailedLogins {
		t := now.Add(s.cfg.LockFor)
		lock = &t
	}
	return tx.SetLoginFailures(ctx, u.ID, count, lock)
}

func (s *Service) openSession(ctx context.Context, tx *store.Tx, u *store.UserRow, scope string, meta ClientMeta, now time.Time) (wire.LoginResponse, error) {
	token, hash, err := auth.NewToken()
	if err != nil {
		return wire.LoginResponse{}, err
	}
	expires := now.Add(s.cfg.AbsoluteTimeout)
	sid, err := tx.InsertSession(ctx, store.NewSession{UserID: u.ID, TokenHash: hash, Scope: scope, DeviceID: meta.DeviceID,
		DeviceName: meta.DeviceName, IP: meta.IP, UA: meta.UserAgent, ExpiresAt: expires})
	if err != nil {
		return wire.LoginResponse{}, err
	}
	newDevice := false
	if meta.DeviceID != "" {
		known, err := tx.KnownDevice(ctx, u.ID, meta.DeviceID)
		if err != nil {
			return wire.LoginResponse{}, err
		}
		newDevice = !known
	}
	if err := tx.InsertLogin(ctx, store.LoginRecord{UserID: u.ID, IP: meta.IP, DeviceID: meta.DeviceID, DeviceName: meta.DeviceName,
		UA: meta.UserAgent, Success: true, NewDevice: newDevice}); err != nil {
		return wire.LoginResponse{}, err
	}
	if newDevice {
		// Skip the very first login ever: a new account has no old devices.
		if n, err := tx.CountSuccessfulLogins(ctx, u.ID); err != nil {
			return wire.LoginResponse{}, err
		} else if n > 1 {
			device := meta.DeviceName
			if device == "" {
				device = meta.UserAgent
			}
			if err := s.notifyUsers(ctx, tx, []int64{u.ID}, 0, wire.Notification{Kind: wire.NotifyNewDevice,
				Title: "Вход с нового устройства",
				Body:  "Выполнен вход с устройства «" + device + "», IP " + meta.IP + ". Если это были не вы, завершите сеанс и смените пароль."}); err != nil {
				return wire.LoginResponse{}, err
			}
		}
	}
	tx.Audit(store.AuditEntry{ActorID: u.ID, ActorLogin: u.Login, IP: meta.IP, Device: deviceLabel(meta.DeviceName, meta.DeviceID), Action: "login", ObjectType: "session", ObjectID: itoa(sid),
		Details: map[string]any{"scope": scope, "device": meta.DeviceName}})
	_ = sid
	return wire.LoginResponse{Token: token, Scope: scope, ExpiresAt: expires, User: u.User}, nil
}

// Authenticate resolves a bearer token to a principal, enforcing the idle
// and absolute limits, revocation and disabled accounts.
func (s *Service) Authenticate(ctx context.Context, token string, ip string) (*Principal, error) {
	if token == "" {
		return nil, errSession()
	}
	q := s.st.Read()
	sess, err := q.SessionByTokenHash(ctx, auth.HashToken(token))
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, errSession()
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeen) > s.cfg.IdleTimeout {
		return nil, errSession()
	}
	u, err := q.UserByID(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errSession()
	}
	if now.Sub(sess.LastSeen) > touchEvery {
		if err := q.TouchSession(ctx, sess.ID, now); err != nil {
			return nil, err
		}
	}
	return &Principal{UserID: u.ID, Login: u.Login, Name: u.FullName, Role: u.Role, OrgIDs: u.OrgIDs,
		SessionID: sess.ID, Scope: sess.Scope, ExpiresAt: sess.ExpiresAt, IP: ip, Device: deviceLabel(sess.DeviceName, sess.DeviceID)}, nil
}

// SessionDeadline tells when a session ends if nothing else happens: the
// earlier of idle expiry (from the last request) and the absolute limit.
// The WebSocket layer closes sockets at that moment.
func (s *Service) SessionDeadline(ctx context.Context, sessionID int64) (time.Time, error) {
	sess, err := s.st.Read().SessionByID(ctx, sessionID)
	if err != nil {
		return time.Time{}, err
	}
	if sess.RevokedAt != nil {
		return time.Time{}, nil
	}
	d := sess.LastSeen.Add(s.cfg.IdleTimeout)
	if sess.ExpiresAt.Before(d) {
		d = sess.ExpiresAt
	}
	return d, nil
}

// Logout ends the caller's session and closes its sockets.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	_, err := write(ctx, s, nil, func(tx *store.Tx) (struct{}, error) {
		return struct{}{}, s.revoke(ctx, tx, p.UserID, p.SessionID, p, "logout")
	})
	return err
}

func (s *Service) revoke(ctx context.Context, tx *store.Tx, userID, sessionID int64, by *Principal, action string) error {
	ok, err := tx.RevokeSession(ctx, sessionID)
	if err != nil || !ok {
		return err
	}
	tx.Emit(store.EventRow{Kind: wire.EventSessionRevoked, UserID: userID, Payload: mustJSON(map[string]int64{"session_id": sessionID})})
	tx.Audit(store.AuditEntry{ActorID: by.UserID, ActorLogin: by.Login, IP: by.IP, Action: action, ObjectType: "session", ObjectID: itoa(sessionID)})
	return nil
}

// Sessions lists the caller's active sessions.
func (s *Service) Sessions(ctx context.Context, p *Principal) ([]wire.Session, error) {
	ss, err := s.st.Read().ActiveSessions(ctx, p.UserID, s.now(), s.cfg.IdleTimeout)
	for i := range ss {
		ss[i].Current = ss[i].ID == p.SessionID
	}
	return ss, err
}

// EndSession ends one of the caller's own sessions.
func (s *Service) EndSession(ctx context.Context, p *Principal, id int64) error {
	_, err := write(ctx, s, p, func(tx *store.Tx) (struct{}, error) {
		sess, err := tx.SessionByID(ctx, id)
		if err != nil || sess.UserID != p.UserID {
			return struct{}{}, errNotFound("сеанс", "session")
		}
		return struct{}{}, s.revoke(ctx, tx, p.UserID, id, p, "session_end")
	})
	return err
}

// LoginHistory lists the caller's recent sign-ins.
func (s *Service) LoginHistory(ctx context.Context, p *Principal) ([]wire.LoginEvent, error) {
	return s.st.Read().LoginHistory(ctx, p.UserID, 100)
}

// Me returns the caller's own user record.
func (s *Service) Me(ctx context.Context, p *Principal) (wire.User, error) {
	u, err := s.st.Read().UserByID(ctx, p.UserID)
	if err != nil {
		return wire.User{}, err
	}
	return u.User, nil
}

// EnrolTOTP starts (or restarts, while not yet enabled) 2FA enrolment.
func (s *Service) EnrolTOTP(ctx context.Context, p *Principal) (wire.TOTPEnrolResponse, error) {
	return write(ctx, s, nil, func(tx *store.Tx) (wire.TOTPEnrolResponse, error) {
		u, err := tx.UserByIDForUpdate(ctx, p.UserID)
		if err != nil {
			return wire.TOTPEnrolResponse{}, err
		}
		if u.TOTPEnabled {
			return wire.TOTPEnrolResponse{}, wire.E(wire.CodeConflict, "", "Двухфакторная аутентификация уже включена; для перевыпуска обратитесь к администратору",
				"Two-factor authentication is already on; ask an administrator to reset it")
		}
		secret, url, err := auth.NewTOTPSecret(s.cfg.Issuer, u.Login)
		if err != nil {
			return wire.TOTPEnrolResponse{}, err
		}
		png, err := auth.QRPNG(url, 256)
		if err != nil {
			return wire.TOTPEnrolResponse{}, err
		}
		if err := tx.SetTOTPSecret(ctx, u.ID, secret); err != nil {
			return wire.TOTPEnrolResponse{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "totp_enrol", ObjectType: "user", ObjectID: itoa(p.UserID)})
		return wire.TOTPEnrolResponse{Secret: secret, OTPAuthURL: url, QRPNG: png}, nil
	})
}

// ConfirmTOTP enables 2FA with a first code and lifts an enrolment-only
// session to a full one.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string) (wire.User, error) {
	return write(ctx, s, nil, func(tx *store.Tx) (wire.User, error) {
		u, err := tx.UserByIDForUpdate(ctx, p.UserID)
		if err != nil {
			return wire.User{}, err
		}
		if u.TOTPSecret == "" || u.TOTPEnabled {
			return wire.User{}, wire.E(wire.CodeConflict, "", "Сначала начните подключение двухфакторной аутентификации", "Start two-factor enrolment first")
		}
		step, err := auth.VerifyTOTP(u.TOTPSecret, strings.TrimSpace(code), s.now(), u.TOTPLastStep)
		if err != nil {
			return wire.User{}, wire.E(wire.CodeInvalid, "code", "Код не подошёл: проверьте время на телефоне и введите свежий код", "The code did not match: check your phone's clock and enter a fresh code")
		}
		if err := tx.EnableTOTP(ctx, u.ID, step); err != nil {
			return wire.User{}, err
		}
		if err := tx.SetSessionScope(ctx, p.SessionID, wire.ScopeFull); err != nil {
			return wire.User{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "totp_enabled", ObjectType: "user", ObjectID: itoa(p.UserID)})
		u.TOTPEnabled = true
		u.Version++
		tx.Emit(store.EventRow{Kind: wire.EventUser, UserID: u.ID, Payload: mustJSON(u.User)})
		return u.User, nil
	})
}

// ChangePassword replaces the caller's password and ends their other sessions.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, r wire.PasswordChangeRequest) error {
	u, err := s.st.Read().UserByID(ctx, p.UserID)
	if err != nil {
		return err
	}
	if ok, _, err := s.cfg.Hasher.Verify(u.PasswordHash, r.Old); err != nil || !ok {
		return wire.E(wire.CodeInvalid, "old", "Текущий пароль введён неверно", "The current password is wrong")
	}
	personal := []string{u.Login, u.FullName, u.Email}
	for _, orgID := range u.OrgIDs {
		if o, err := s.st.Read().Organisation(ctx, orgID); err == nil {
			personal = append(personal, o.INN)
		}
	}
	if err := s.cfg.Policy.Check(r.New, personal...); err != nil {
		return prefixField("new.", err)
	}
	hash, err := s.cfg.Hasher.Hash(r.New)
	if err != nil {
		return err
	}
	_, err = write(ctx, s, nil, func(tx *store.Tx) (struct{}, error) {
		if err := tx.SetPassword(ctx, p.UserID, hash); err != nil {
			return struct{}{}, err
		}
		ids, err := tx.RevokeUserSessions(ctx, p.UserID, p.SessionID)
		if err != nil {
			return struct{}{}, err
		}
		for _, id := range ids {
			tx.Emit(store.EventRow{Kind: wire.EventSessionRevoked, UserID: p.UserID, Payload: mustJSON(map[string]int64{"session_id": id})})
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "password_change", ObjectType: "user", ObjectID: itoa(p.UserID)})
		return struct{}{}, nil
	})
	return err
}
