package boot_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/mail"
	"github.com/expertiza/expertiza/server/mail/smtptest"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestMailEndToEnd runs the whole server with an SMTP server configured:
// a status change made through the API reaches the applicant's mailbox by
// the server's own worker, and /metrics counts it.
func TestMailEndToEnd(t *testing.T) {
	ctx := context.Background()
	smtp := smtptest.Start(t, smtptest.Options{STARTTLS: true, User: "robot", Password: "secret"})
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: testenv.Config(),
		Log: testenv.Logger(t), DataDir: t.TempDir(), ValidateWorker: testenv.ValidateWorker,
		SMTP: mail.SMTPConfig{Addr: smtp.Addr, TLSMode: mail.TLSRequired, Username: "robot", Password: "secret",
			From: "Экспертиза <noreply@expertiza.example>", Timeout: 5 * time.Second, TLS: smtp.ClientTLS},
		MailDigestHour: 8, MailPoll: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	applicant := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := applicant.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Детский сад"), ObjectAddress: str("г. Ржев"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	a, err = applicant.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusSubmitted}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusNeedsCorrection, Comment: "Нет ГПЗУ"}, ""); err != nil {
		t.Fatal(err)
	}
	want := "[Экспертиза] Статус: Требуется доработка — " + a.Number
	deadline := time.Now().Add(time.Minute)
	for {
		found := 0
		for _, r := range smtp.Messages() {
			p, err := smtptest.Parse(r.Data)
			if err != nil {
				t.Fatal(err)
			}
			if r.To[0] == applicant.Email && p.Subject == want {
				found++
				if !r.TLS || r.AuthUser != "robot" || !strings.Contains(p.Text, "Нет ГПЗУ") {
					t.Fatalf("message arrived without TLS/AUTH or body: tls %v auth %q\n%s", r.TLS, r.AuthUser, p.Text)
				}
			}
		}
		if found > 1 {
			t.Fatalf("the status mail arrived %d times", found)
		}
		if found == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q among %d messages", want, len(smtp.Messages()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "expertiza_mail_sent_total") || !strings.Contains(string(b), `expertiza_mail_enqueued_total{kind="instant"}`) {
		t.Fatalf("/metrics lacks the mail counters")
	}
}
