package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/mail"
	"github.com/expertiza/expertiza/server/mail/smtptest"
)

func testMessage() mail.Message {
	return mail.Message{To: "ivanov@example.ru", ToName: "Иванов Иван", Subject: "[Экспертиза] Статус: Направлены замечания — ГГЭ-2026-000001",
		Text: "Здравствуйте!\nЗаявление ГГЭ-2026-000001: направлены замечания.\n", HTML: "<p>Здравствуйте! <b>Замечания</b></p>",
		MessageID: "test.1@expertiza.example", Date: time.Date(2026, 12, 28, 10, 0, 0, 0, time.UTC)}
}

func TestSMTPSend(t *testing.T) {
	tests := []struct {
		name    string
		server  smtptest.Options
		mode    mail.TLSMode
		user    string
		pass    string
		trust   bool   // give the client the server's CA
		wantErr string // "" = delivered
		wantTLS bool
	}{
		{name: "STARTTLS required with AUTH", server: smtptest.Options{STARTTLS: true, User: "robot", Password: "s3cret"},
			mode: mail.TLSRequired, user: "robot", pass: "s3cret", trust: true, wantTLS: true},
		{name: "STARTTLS required, server without it", server: smtptest.Options{},
			mode: mail.TLSRequired, trust: true, wantErr: "STARTTLS"},
		{name: "STARTTLS required, untrusted certificate", server: smtptest.Options{STARTTLS: true},
			mode: mail.TLSRequired, wantErr: "certificate"},
		{name: "opportunistic, server without STARTTLS", server: smtptest.Options{},
			mode: mail.TLSOpportunistic, wantTLS: false},
		{name: "opportunistic, server with STARTTLS", server: smtptest.Options{STARTTLS: true},
			mode: mail.TLSOpportunistic, trust: true, wantTLS: true},
		{name: "none, server with STARTTLS", server: smtptest.Options{STARTTLS: true},
			mode: mail.TLSNone, wantTLS: false},
		{name: "wrong password", server: smtptest.Options{STARTTLS: true, User: "robot", Password: "s3cret"},
			mode: mail.TLSRequired, user: "robot", pass: "wrong", trust: true, wantErr: "535"},
		{name: "server refuses the message", server: smtptest.Options{Reject: 1},
			mode: mail.TLSNone, wantErr: "554"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.server)
			cfg := mail.SMTPConfig{Addr: srv.Addr, TLSMode: tt.mode, Username: tt.user, Password: tt.pass,
				From: "Экспертиза <noreply@expertiza.example>", Timeout: 5 * time.Second, HELO: "test.local"}
			if tt.trust && srv.ClientTLS != nil {
				cfg.TLS = srv.ClientTLS
			} else {
				cfg.TLS = &tls.Config{RootCAs: nil, MinVersion: tls.VersionTLS12}
			}
			s, err := mail.NewSMTP(cfg)
			if err != nil {
				t.Fatalf("NewSMTP: %v", err)
			}
			err = s.Send(context.Background(), testMessage())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Send error = %v, want one mentioning %q", err, tt.wantErr)
				}
				if n := len(srv.Messages()); n != 0 {
					t.Fatalf("server accepted %d message(s) despite the error", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := srv.Messages()
			if len(got) != 1 {
				t.Fatalf("server has %d messages, want 1", len(got))
			}
			if got[0].TLS != tt.wantTLS {
				t.Errorf("TLS = %v, want %v", got[0].TLS, tt.wantTLS)
			}
			if got[0].AuthUser != tt.user {
				t.Errorf("authenticated as %q, want %q", got[0].AuthUser, tt.user)
			}
			checkMessage(t, got[0])
		})
	}
}

// checkMessage verifies the MIME structure of testMessage as received.
func checkMessage(t *testing.T, r smtptest.Received) {
	t.Helper()
	want := testMessage()
	if r.From != "noreply@expertiza.example" || len(r.To) != 1 || r.To[0] != want.To {
		t.Errorf("envelope %s → %v", r.From, r.To)
	}
	p, err := smtptest.Parse(r.Data)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, r.Data)
	}
	if !strings.HasPrefix(p.RawSubject, "=?UTF-8?") {
		t.Errorf("raw Subject %q is not RFC 2047-encoded", p.RawSubject)
	}
	if p.Subject != want.Subject {
		t.Errorf("Subject = %q, want %q", p.Subject, want.Subject)
	}
	for _, h := range []struct{ name, want string }{
		{"Message-ID", "<test.1@expertiza.example>"},
		{"MIME-Version", "1.0"},
		{"Auto-Submitted", "auto-generated"},
	} {
		if got := p.Header.Get(h.name); got != h.want {
			t.Errorf("%s = %q, want %q", h.name, got, h.want)
		}
	}
	if d, err := p.Header.Date(); err != nil || !d.Equal(want.Date) {
		t.Errorf("Date = %v (%v), want %v", d, err, want.Date)
	}
	from, err := p.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Экспертиза" || from[0].Address != "noreply@expertiza.example" {
		t.Errorf("From = %v (%v)", from, err)
	}
	to, err := p.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Иванов Иван" {
		t.Errorf("To = %v (%v)", to, err)
	}
	if p.ContentType != "multipart/alternative" {
		t.Errorf("Content-Type = %s, want multipart/alternative", p.ContentType)
	}
	if strings.TrimSpace(p.Text) != strings.TrimSpace(want.Text) {
		t.Errorf("text part = %q, want %q", p.Text, want.Text)
	}
	if strings.TrimSpace(p.HTML) != want.HTML {
		t.Errorf("HTML part = %q, want %q", p.HTML, want.HTML)
	}
	if bytes.Contains(r.Data, []byte("Здравствуйте")) {
		t.Error("body carries raw 8-bit Cyrillic; want quoted-printable")
	}
}

func TestNewSMTPRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  mail.SMTPConfig
		want string
	}{
		{"no port", mail.SMTPConfig{Addr: "smtp.example.ru", From: "a@b.ru"}, "host:port"},
		{"bad port", mail.SMTPConfig{Addr: "smtp.example.ru:0", From: "a@b.ru"}, "port"},
		{"bad mode", mail.SMTPConfig{Addr: "h:25", TLSMode: "always", From: "a@b.ru"}, "required, opportunistic or none"},
		{"password in clear", mail.SMTPConfig{Addr: "h:25", TLSMode: mail.TLSNone, Username: "u", Password: "p", From: "a@b.ru"}, "in clear"},
		{"password without user", mail.SMTPConfig{Addr: "h:25", Password: "p", From: "a@b.ru"}, "without a user"},
		{"no From", mail.SMTPConfig{Addr: "h:25"}, "sender address"},
		{"bad From", mail.SMTPConfig{Addr: "h:25", From: "not an address"}, "From address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mail.NewSMTP(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSMTPStringHidesPassword(t *testing.T) {
	s, err := mail.NewSMTP(mail.SMTPConfig{Addr: "smtp.example.ru:587", Username: "robot", Password: "hunter2-secret", From: "noreply@example.ru"})
	if err != nil {
		t.Fatal(err)
	}
	if str := s.String(); strings.Contains(str, "hunter2") || !strings.Contains(str, "robot") || !strings.Contains(str, "required") {
		t.Fatalf("String() = %q", str)
	}
	if d := s.FromDomain(); d != "example.ru" {
		t.Fatalf("FromDomain = %q", d)
	}
}

func TestLoadPassword(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "pw")
	if err := os.WriteFile(file, []byte("пароль secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_SMTP_PASSWORD", "from-env")
	tests := []struct {
		name, file, want, wantErr string
	}{
		{"file wins, newline trimmed", file, "пароль secret", ""},
		{"environment", "", "from-env", ""},
		{"missing file", filepath.Join(dir, "nope"), "", "password file"},
		{"empty file", empty, "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := mail.LoadPassword(tt.file, "TEST_SMTP_PASSWORD")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestLogSMSMasksPhone(t *testing.T) {
	var buf bytes.Buffer
	var s mail.SMSSender = mail.LogSMS{Log: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := s.SendSMS(context.Background(), "+7 916 123-45-67", "Код входа 123456"); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "123-45") || strings.Contains(out, "9161234567") || strings.Contains(out, "123456") {
		t.Fatalf("log leaks the phone or the text: %s", out)
	}
	if !strings.Contains(out, "***67") || !strings.Contains(out, "not sent") {
		t.Fatalf("log line %q lacks the masked phone or says it was sent", out)
	}
}
