package mail_test

import (
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/mail"
	"github.com/expertiza/expertiza/server/mail/smtptest"
	"github.com/expertiza/expertiza/sync/wire"
)

// BenchmarkInstant measures what a notification's e-mail adds to the
// transaction that creates it (rendering; the queue insert is one row).
func BenchmarkInstant(b *testing.B) {
	r, err := mail.NewRenderer()
	if err != nil {
		b.Fatal(err)
	}
	rcpt := mail.Recipient{Name: "Иванов Иван", Lang: mail.LangRU}
	for b.Loop() {
		if _, err := r.Instant(rcpt, statusItem()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDigest100 renders a digest of 100 notifications over 10 applications.
func BenchmarkDigest100(b *testing.B) {
	r, err := mail.NewRenderer()
	if err != nil {
		b.Fatal(err)
	}
	items := make([]mail.Item, 100)
	for i := range items {
		it := statusItem()
		it.AppID, it.At, it.Kind = int64(i%10+1), at.Add(time.Duration(i)*time.Minute), wire.NotifyMessage
		items[i] = it
	}
	rcpt := mail.Recipient{Name: "Иванов Иван", Lang: mail.LangEN}
	for b.Loop() {
		if _, err := r.Digest(rcpt, wire.EmailDaily, items); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSMTPSend is one message over a fresh loopback connection with
// STARTTLS and AUTH: the per-message cost of the sender.
func BenchmarkSMTPSend(b *testing.B) {
	srv := smtptest.Start(b, smtptest.Options{STARTTLS: true, User: "robot", Password: "s3cret"})
	s, err := mail.NewSMTP(mail.SMTPConfig{Addr: srv.Addr, Username: "robot", Password: "s3cret",
		From: "noreply@expertiza.example", TLS: srv.ClientTLS, Timeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	for b.Loop() {
		if err := s.Send(ctx, testMessage()); err != nil {
			b.Fatal(err)
		}
	}
}
