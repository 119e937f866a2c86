package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/99designs/keyring"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// DefaultServerURL is where a fresh installation looks for the sync server.
const DefaultServerURL = "http://127.0.0.1:8443"

// Credentials is what the login screen collects.
type Credentials struct {
	Server   string
	Login    string
	Password string
	// TOTPCode is sent only once the server has answered CodeTOTPRequired.
	TOTPCode string
}

// SignedIn describes a successful login.
type SignedIn struct {
	User wire.User
	// Enrolment is true for a session that may only enrol a second factor
	// (staff without TOTP yet): the UI must show the enrolment screen.
	Enrolment bool
}

// Session is the signed-in state of this client: the server it talks to,
// the token (in memory, and in the keyring if SaveToken was called) and
// the user.
type Session struct {
	log        *slog.Logger
	deviceID   string
	deviceName string

	mu    sync.RWMutex
	kr    keyring.Keyring // where SaveToken keeps the token; nil: nowhere
	c     *client.Client
	user  wire.User
	scope string
}

// NewSession returns a signed-out session. deviceID identifies this
// installation across restarts (the UI keeps it in its preferences), so the
// server can tell a new device from a known one.
func NewSession(log *slog.Logger, deviceID, deviceName string) *Session {
	return &Session{log: log, deviceID: deviceID, deviceName: deviceName}
}

// NewDeviceID returns a random identifier for a new installation.
func NewDeviceID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// NormalizeServerURL checks a server address typed by a user and returns it
// as scheme://host[:port] without a trailing slash. A bare host gets https,
// since plain http is only for a server on this machine or in tests.
func NormalizeServerURL(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", wire.E(wire.CodeInvalid, "server", "Укажите адрес сервера", "Enter the server address")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", wire.E(wire.CodeInvalid, "server",
			"Адрес сервера указывается в виде https://сервер:порт",
			"The server address looks like https://host:port")
	}
	return u.Scheme + "://" + u.Host + strings.TrimRight(u.Path, "/"), nil
}

// Login signs in. When the server wants a one-time code the error satisfies
// IsTOTPRequired and the caller asks for the code and calls Login again.
func (s *Session) Login(ctx context.Context, cr Credentials) (SignedIn, error) {
	server, err := NormalizeServerURL(cr.Server)
	if err != nil {
		return SignedIn{}, err
	}
	if strings.TrimSpace(cr.Login) == "" || cr.Password == "" {
		return SignedIn{}, wire.E(wire.CodeInvalid, "login", "Введите логин и пароль", "Enter your login and password")
	}
	c := s.newClient(server)
	resp, err := c.Login(ctx, wire.LoginRequest{
		Login:      strings.TrimSpace(cr.Login),
		Password:   cr.Password,
		TOTPCode:   strings.TrimSpace(cr.TOTPCode),
		DeviceName: s.deviceName,
	})
	if err != nil {
		return SignedIn{}, fmt.Errorf("login to %s: %w", server, err)
	}
	s.mu.Lock()
	s.c, s.user, s.scope = c, resp.User, resp.Scope
	s.mu.Unlock()
	s.log.Info("signed in", "server", server, "user_id", resp.User.ID, "scope", resp.Scope)
	return SignedIn{User: resp.User, Enrolment: resp.Scope == wire.ScopeEnrol}, nil
}

// Register creates an applicant account with a new organisation on server.
// The user signs in afterwards like everyone else.
func (s *Session) Register(ctx context.Context, server string, r wire.RegisterRequest) (wire.User, error) {
	server, err := NormalizeServerURL(server)
	if err != nil {
		return wire.User{}, err
	}
	if err := ValidateRegistration(r); err != nil {
		return wire.User{}, err
	}
	u, err := client.New(server, client.WithDeviceID(s.deviceID)).Register(ctx, r)
	if err != nil {
		return wire.User{}, fmt.Errorf("register on %s: %w", server, err)
	}
	return u, nil
}

// ValidateRegistration checks a registration before it is sent, with the
// same validators the server uses, so the user learns of a typo at once.
func ValidateRegistration(r wire.RegisterRequest) error {
	required := []struct{ field, value, ru, en string }{
		{"login", r.Login, "Укажите логин", "Enter a login"},
		{"password", r.Password, "Укажите пароль", "Enter a password"},
		{"full_name", r.FullName, "Укажите ФИО", "Enter your full name"},
		{"email", r.Email, "Укажите адрес электронной почты", "Enter an e-mail address"},
		{"organisation.name", r.Organisation.Name, "Укажите наименование организации", "Enter the organisation's name"},
		{"organisation.address", r.Organisation.Address, "Укажите адрес организации", "Enter the organisation's address"},
	}
	for _, f := range required {
		if strings.TrimSpace(f.value) == "" {
			return wire.E(wire.CodeInvalid, f.field, f.ru, f.en)
		}
	}
	o := r.Organisation
	if err := wire.ValidateINN(strings.TrimSpace(o.INN)); err != nil {
		return orgField(err)
	}
	if err := wire.ValidateOGRN(strings.TrimSpace(o.OGRN)); err != nil {
		return orgField(err)
	}
	if kpp := strings.TrimSpace(o.KPP); kpp != "" {
		if err := wire.ValidateKPP(kpp); err != nil {
			return orgField(err)
		}
	}
	return nil
}

// orgField names the field as the server does ("organisation.inn"), so a
// screen maps local and server refusals to the same entry.
func orgField(err error) error {
	if we, ok := wire.AsError(err); ok && we.Field != "" {
		c := *we
		c.Field = "organisation." + c.Field
		return &c
	}
	return err
}

// EnrolTOTP starts second-factor enrolment: the answer holds the secret and
// its QR code as a PNG.
func (s *Session) EnrolTOTP(ctx context.Context) (wire.TOTPEnrolResponse, error) {
	c, err := s.client()
	if err != nil {
		return wire.TOTPEnrolResponse{}, err
	}
	r, err := c.EnrolTOTP(ctx)
	if err != nil {
		return r, fmt.Errorf("start TOTP enrolment: %w", err)
	}
	return r, nil
}

// ConfirmTOTP finishes enrolment with a first code; the server then turns
// this session into a full one.
func (s *Session) ConfirmTOTP(ctx context.Context, code string) (wire.User, error) {
	c, err := s.client()
	if err != nil {
		return wire.User{}, err
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return wire.User{}, wire.E(wire.CodeInvalid, "code", "Введите код из приложения-аутентификатора", "Enter the code from your authenticator app")
	}
	u, err := c.ConfirmTOTP(ctx, code)
	if err != nil {
		return wire.User{}, fmt.Errorf("confirm TOTP: %w", err)
	}
	s.mu.Lock()
	s.user, s.scope = u, wire.ScopeFull
	s.mu.Unlock()
	return u, nil
}

// Logout ends the session on the server (best effort: a server that cannot
// be reached will expire it) and forgets the token, the keyring's copy
// too.
func (s *Session) Logout(ctx context.Context) error {
	s.mu.Lock()
	c := s.c
	s.c, s.user, s.scope = nil, wire.User{}, ""
	s.mu.Unlock()
	if c == nil {
		return nil
	}
	s.forgetToken(c.BaseURL())
	if err := c.Logout(ctx); err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// SignedIn reports whether the session holds a token.
func (s *Session) SignedIn() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.c != nil
}

// User is the signed-in user.
func (s *Session) User() wire.User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.user
}

// Server is the address of the server signed in to ("" when signed out).
func (s *Session) Server() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return ""
	}
	return s.c.BaseURL()
}

func (s *Session) setUser(u wire.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.user.ID == u.ID {
		s.user = u
	}
}

func (s *Session) newClient(server string) *client.Client {
	return client.New(server, client.WithDeviceID(s.deviceID))
}

// client returns the protocol client of the signed-in session.
func (s *Session) client() (*client.Client, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.c == nil {
		return nil, wire.E(wire.CodeUnauthenticated, "", "Войдите в систему", "Sign in first")
	}
	return s.c, nil
}
