// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp)
// on a loopback port for tests of the mail code: it speaks the protocol
// with STARTTLS and AUTH PLAIN, stores what it accepts, and can be told to
// refuse messages with a 5xx reply. It also parses received messages.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configures a server.
type Options struct {
	// STARTTLS offers STARTTLS with a certificate for 127.0.0.1 signed by
	// a throwaway CA; clients trust it through Server.ClientTLS.
	STARTTLS bool
	// User and Password, when set, make AUTH PLAIN mandatory (offered only
	// after STARTTLS, as real submission servers do).
	User, Password string
	// Reject refuses this many messages at the end of DATA with 554
	// before accepting any.
	Reject int
}

// Received is one accepted message.
type Received struct {
	From     string
	To       []string
	Data     []byte
	TLS      bool   // the session had done STARTTLS
	AuthUser string // who authenticated, "" without AUTH
}

// Server is a running SMTP server.
type Server struct {
	Addr      string
	ClientTLS *tls.Config // trusts the server's certificate

	srv *smtp.Server

	mu       sync.Mutex
	reject   int
	rejected int
	msgs     []Received
	signal   chan struct{}
}

// Start runs a server until the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{reject: o.Reject, signal: make(chan struct{}, 1)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, c: c, opts: o}, nil
	}))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.EnableSMTPUTF8 = true
	if o.STARTTLS {
		serverTLS, clientTLS, err := certificates()
		if err != nil {
			t.Fatalf("smtptest certificate: %v", err)
		}
		srv.TLSConfig, s.ClientTLS = serverTLS, clientTLS
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest listen: %v", err)
	}
	s.Addr, s.srv = ln.Addr().String(), srv
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return s
}

// Messages returns a copy of what was accepted.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// Rejected is how many messages were refused.
func (s *Server) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// SetReject makes the server refuse the next n messages.
func (s *Server) SetReject(n int) {
	s.mu.Lock()
	s.reject = n
	s.mu.Unlock()
}

// Wait waits until at least n messages have arrived, failing after d.
func (s *Server) Wait(t testing.TB, n int, d time.Duration) []Received {
	t.Helper()
	deadline := time.After(d)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.signal:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("smtptest: %d message(s) arrived within %v, want %d", len(s.Messages()), d, n)
		}
	}
}

type session struct {
	s    *Server
	c    *smtp.Conn
	opts Options
	auth string
	from string
	to   []string
}

func (x *session) AuthMechanisms() []string {
	if x.opts.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if user != x.opts.User || password != x.opts.Password {
			return smtp.ErrAuthFailed
		}
		x.auth = user
		return nil
	}), nil
}

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if x.opts.User != "" && x.auth == "" {
		return smtp.ErrAuthRequired
	}
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := x.c.TLSConnectionState()
	s := x.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reject > 0 {
		s.reject--
		s.rejected++
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Message refused by the test server"}
	}
	s.msgs = append(s.msgs, Received{From: x.from, To: append([]string(nil), x.to...), Data: b, TLS: isTLS, AuthUser: x.auth})
	select {
	case s.signal <- struct{}{}:
	default:
	}
	return nil
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

// certificates makes a CA and a server certificate for 127.0.0.1 and
// localhost, and the TLS settings of both sides.
func certificates() (server, client *tls.Config, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "smtptest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12},
		&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Parsed is a received message decoded as a mail client would.
type Parsed struct {
	Header      mail.Header
	RawSubject  string // as on the wire (RFC 2047 encoded words)
	Subject     string // decoded
	ContentType string // media type of the top-level body
	Text        string // decoded text/plain part
	HTML        string // decoded text/html part
}

// Parse decodes a message: headers, RFC 2047 words and the parts of a
// multipart/alternative body with their transfer encodings.
func Parse(raw []byte) (*Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	p := &Parsed{Header: m.Header, RawSubject: m.Header.Get("Subject")}
	dec := new(mime.WordDecoder)
	if p.Subject, err = dec.DecodeHeader(p.RawSubject); err != nil {
		return nil, fmt.Errorf("decode subject: %w", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("content type: %w", err)
	}
	p.ContentType = mt
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decodePart(m.Body, m.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return nil, err
		}
		p.Text = body
		return p, nil
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("next part: %w", err)
		}
		pt, pparams, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			return nil, fmt.Errorf("part content type: %w", err)
		}
		if cs := strings.ToLower(pparams["charset"]); cs != "utf-8" {
			return nil, fmt.Errorf("part %s has charset %q, want utf-8", pt, cs)
		}
		// multipart.Reader already undoes quoted-printable and drops the header.
		enc := part.Header.Get("Content-Transfer-Encoding")
		body, err := decodePart(part, enc)
		if err != nil {
			return nil, err
		}
		switch pt {
		case "text/plain":
			p.Text = body
		case "text/html":
			p.HTML = body
		}
	}
	return p, nil
}

func decodePart(r io.Reader, enc string) (string, error) {
	switch strings.ToLower(enc) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		return "", errors.New("base64 parts are not expected from this sender")
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("read part: %w", err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n"), nil
}
