package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLSMode says whether the connection to the SMTP server is upgraded with
// STARTTLS (RFC 3207).
type TLSMode string

const (
	// TLSRequired refuses to send unless the server offers STARTTLS and the
	// handshake (with certificate verification) succeeds: nothing ever goes
	// out in clear. The default.
	TLSRequired TLSMode = "required"
	// TLSOpportunistic upgrades when the server offers STARTTLS and sends
	// in clear otherwise.
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSNone never upgrades (a relay on the same host).
	TLSNone TLSMode = "none"
)

// ParseTLSMode accepts required, opportunistic and none.
func ParseTLSMode(s string) (TLSMode, error) {
	switch TLSMode(s) {
	case TLSRequired, TLSOpportunistic, TLSNone:
		return TLSMode(s), nil
	}
	return "", fmt.Errorf("STARTTLS mode %q: use required, opportunistic or none", s)
}

// SMTPConfig configures the SMTP client.
type SMTPConfig struct {
	Addr     string  // host:port of the submission server
	TLSMode  TLSMode // "" means TLSRequired
	Username string  // empty: no AUTH
	Password string  // never logged; see LoadPassword
	From     string  // "Экспертиза <noreply@expertiza.example>"
	HELO     string  // name sent in EHLO; default the machine's host name
	// Timeout bounds the connection and each SMTP command; default 30 s.
	Timeout time.Duration
	// TLS replaces the TLS settings (a private CA in tests or on premises);
	// nil verifies the server against the system roots. ServerName defaults
	// to the host of Addr.
	TLS *tls.Config
}

// SMTP sends messages through one SMTP server, one connection per message:
// notification volumes are small and a fresh connection keeps the failure
// of one message from touching the next.
type SMTP struct {
	cfg  SMTPConfig
	host string
	port int
	from *mail.Address
}

// NewSMTP checks cfg and returns a sender.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	host, portStr, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("SMTP address %q: want host:port, e.g. smtp.example.ru:587", cfg.Addr)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("SMTP address %q: port must be 1–65535", cfg.Addr)
	}
	if cfg.TLSMode == "" {
		cfg.TLSMode = TLSRequired
	}
	if _, err := ParseTLSMode(string(cfg.TLSMode)); err != nil {
		return nil, err
	}
	if cfg.Username != "" && cfg.TLSMode == TLSNone {
		return nil, errors.New("SMTP AUTH with STARTTLS mode none would send the password in clear: use required (or opportunistic)")
	}
	if cfg.Username == "" && cfg.Password != "" {
		return nil, errors.New("an SMTP password was given without a user name")
	}
	if cfg.From == "" {
		return nil, errors.New("no sender address: set the From address (e.g. noreply@expertiza.example)")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("From address %q: %w", cfg.From, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.TLS == nil {
		cfg.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	} else {
		cfg.TLS = cfg.TLS.Clone()
	}
	if cfg.TLS.ServerName == "" {
		cfg.TLS.ServerName = host
	}
	return &SMTP{cfg: cfg, host: host, port: port, from: from}, nil
}

// FromDomain is the domain of the From address, used to make Message-IDs.
func (s *SMTP) FromDomain() string {
	if i := strings.LastIndexByte(s.from.Address, '@'); i >= 0 {
		return s.from.Address[i+1:]
	}
	return "localhost"
}

// String describes the sender without the password.
func (s *SMTP) String() string {
	auth := "no AUTH"
	if s.cfg.Username != "" {
		auth = "AUTH as " + s.cfg.Username
	}
	return fmt.Sprintf("smtp://%s (STARTTLS %s, %s)", net.JoinHostPort(s.host, strconv.Itoa(s.port)), s.cfg.TLSMode, auth)
}

// Send delivers m. A message the server accepted counts as sent even when
// closing the session afterwards fails: sending it again would duplicate it.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return err
	}
	policy := gomail.TLSMandatory
	switch s.cfg.TLSMode {
	case TLSOpportunistic:
		policy = gomail.TLSOpportunistic
	case TLSNone:
		policy = gomail.NoTLS
	}
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSPolicy(policy), gomail.WithTLSConfig(s.cfg.TLS)}
	if s.cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.cfg.HELO))
	}
	if s.cfg.Username != "" {
		// Auto-discovery picks the strongest mechanism offered and never
		// PLAIN or LOGIN on an unencrypted connection.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("SMTP client for %s: %w", s.cfg.Addr, err)
	}
	err = c.DialAndSendWithContext(ctx, msg)
	if msg.IsDelivered() {
		return nil
	}
	if err == nil {
		return errors.New("SMTP server did not confirm the message")
	}
	return fmt.Errorf("send to %s via %s: %w", m.To, s.cfg.Addr, err)
}

func (s *SMTP) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(s.from)
	if err := msg.AddToFormat(m.ToName, m.To); err != nil {
		return nil, fmt.Errorf("recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	msg.SetUserAgent("Expertiza")
	// RFC 3834: machine-generated, so vacation responders stay quiet.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// LoadPassword reads the SMTP password from file (trailing newline
// removed) or, when file is empty, from the environment variable env.
// Files keep secrets out of process listings and shell history.
func LoadPassword(file, env string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("SMTP password file: %w", err)
		}
		p := strings.TrimRight(string(b), "\r\n")
		if p == "" {
			return "", fmt.Errorf("SMTP password file %s is empty", file)
		}
		return p, nil
	}
	return os.Getenv(env), nil
}
