package service_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/mail"
	"github.com/expertiza/expertiza/server/mail/smtptest"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// mailEnv is a service with e-mail on, talking to a real SMTP server.
type mailEnv struct {
	*env
	smtp *smtptest.Server
	mcfg service.MailConfig
	log  *slog.Logger
}

// newMailEnv starts an SMTP server with o and a service whose sender uses
// STARTTLS mode mode; digests are due at 09:00 Moscow time.
func newMailEnv(t *testing.T, o smtptest.Options, mode mail.TLSMode) *mailEnv {
	t.Helper()
	srv := smtptest.Start(t, o)
	cfg := mail.SMTPConfig{Addr: srv.Addr, TLSMode: mode, From: "Экспертиза <noreply@expertiza.example>", Timeout: 5 * time.Second, TLS: srv.ClientTLS}
	if o.User != "" {
		cfg.Username, cfg.Password = o.User, o.Password
	}
	sender, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	m := &mailEnv{smtp: srv, mcfg: service.MailConfig{Sender: sender, Renderer: r, MessageIDDomain: sender.FromDomain(),
		DigestHour: 9, Backoff: time.Minute, MaxBackoff: time.Hour, MaxAttempts: 5, Lease: 5 * time.Minute, Batch: 3}}
	pool := pgtest.NewPool(t)
	st := store.New(pool)
	clock := &fakeClock{t: defaultStart}
	cfgS := testenv.Config()
	m.log = testenv.Logger(t)
	m.env = &env{ctx: context.Background(), pool: pool, st: st, clock: clock, cfg: cfgS}
	m.svc = m.replica()
	if err := m.svc.LoadCalendar(m.ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

// replica builds another service over the same database and SMTP server:
// a restarted server or a second replica.
func (m *mailEnv) replica() *service.Service {
	return service.New(m.st, m.cfg, m.log, nil, service.WithClock(m.clock.Now), service.WithMail(m.mcfg))
}

// send runs one delivery pass.
func (m *mailEnv) send(t *testing.T, svc *service.Service) (sent, failed int) {
	t.Helper()
	sent, failed, err := svc.SendDueMail(m.ctx)
	if err != nil {
		t.Fatalf("SendDueMail: %v", err)
	}
	return sent, failed
}

// queue lists the user's queued messages of kind.
func (m *mailEnv) queue(t *testing.T, userID int64, kind wire.EmailMode) []store.QueuedMail {
	t.Helper()
	all, err := m.st.Read().MailMessages(m.ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.QueuedMail
	for _, q := range all {
		if q.Kind == kind {
			out = append(out, q)
		}
	}
	return out
}

// received returns the parsed messages the SMTP server accepted for addr.
func (m *mailEnv) received(t *testing.T, addr string) []*smtptest.Parsed {
	t.Helper()
	var out []*smtptest.Parsed
	for _, r := range m.smtp.Messages() {
		if len(r.To) == 1 && r.To[0] == addr {
			p, err := smtptest.Parse(r.Data)
			if err != nil {
				t.Fatalf("parse message to %s: %v", addr, err)
			}
			out = append(out, p)
		}
	}
	return out
}

func (m *mailEnv) setLang(t *testing.T, a *actor, lang string) {
	t.Helper()
	if err := m.svc.SetMailLanguage(m.ctx, a.P, lang); err != nil {
		t.Fatalf("set language %s: %v", lang, err)
	}
}

func (m *mailEnv) setPref(t *testing.T, a *actor, p wire.Preference) {
	t.Helper()
	if _, err := m.svc.SetPreferences(m.ctx, a.P, wire.PreferencesRequest{Preferences: []wire.Preference{p}}); err != nil {
		t.Fatalf("set preference: %v", err)
	}
}

// TestMailInstantStatusChange: a status change reaches the applicant by
// e-mail at once, in the applicant's language, over STARTTLS with AUTH.
func TestMailInstantStatusChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang    string
		subject string
		text    []string
		html    []string
	}{
		{"ru", "[Экспертиза] Статус: Требуется доработка — %s",
			[]string{"Здравствуйте, Заявитель Тестовый!", "Статус: Требуется доработка", "На проверке комплектности → Требуется доработка.",
				"Комментарий: Нет ГПЗУ и выписки СРО", "Текущий статус: Требуется доработка", "Время: 28.12.2026 10:00 МСК"},
			[]string{`<html lang="ru">`, "Требуется доработка", "Нет ГПЗУ и выписки СРО"}},
		{"en", "[Expertiza] Application status and files — %s: Corrections required",
			[]string{"Hello, Заявитель Тестовый,", "Current status: Corrections required", "Time: 28 Dec 2026 10:00 MSK",
				"Комментарий: Нет ГПЗУ и выписки СРО"},
			[]string{`<html lang="en">`, "Corrections required", "Нет ГПЗУ и выписки СРО"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			t.Parallel()
			m := newMailEnv(t, smtptest.Options{STARTTLS: true, User: "robot", Password: "pa55 слово"}, mail.TLSRequired)
			app := m.applicant(t)
			mgr := m.staff(t, wire.RoleManager)
			m.setLang(t, app, tt.lang)
			a := m.createApp(t, app, wire.KindProjectDocs)
			a = m.move(t, app, a, wire.StatusSubmitted, "")
			m.move(t, mgr, a, wire.StatusNeedsCorrection, "Нет ГПЗУ и выписки СРО")
			if q := m.queue(t, app.ID, wire.EmailInstant); len(q) != 1 || q[0].State != "pending" {
				t.Fatalf("applicant's queue: %+v, want one pending message", q)
			}
			if sent, failed := m.send(t, m.svc); sent == 0 || failed != 0 {
				t.Fatalf("sent %d, failed %d", sent, failed)
			}
			got := m.received(t, app.Email)
			if len(got) != 1 {
				t.Fatalf("applicant received %d messages, want 1", len(got))
			}
			p := got[0]
			if want := fmt.Sprintf(tt.subject, a.Number); p.Subject != want {
				t.Errorf("subject = %q, want %q", p.Subject, want)
			}
			if !strings.HasPrefix(p.RawSubject, "=?UTF-8?") {
				t.Errorf("raw subject %q is not RFC 2047-encoded", p.RawSubject)
			}
			for _, s := range tt.text {
				if !strings.Contains(p.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, p.Text)
				}
			}
			for _, s := range tt.html {
				if !strings.Contains(p.HTML, s) {
					t.Errorf("HTML lacks %q:\n%s", s, p.HTML)
				}
			}
			q := m.queue(t, app.ID, wire.EmailInstant)
			if q[0].State != "sent" || q[0].Attempts != 1 || q[0].SentAt == nil || p.Header.Get("Message-ID") != "<"+q[0].MessageID+">" {
				t.Errorf("queue row after delivery: %+v; Message-ID on the wire %s", q[0], p.Header.Get("Message-ID"))
			}
			for _, r := range m.smtp.Messages() {
				if !r.TLS || r.AuthUser != "robot" {
					t.Errorf("message to %v went without STARTTLS or AUTH (tls %v, user %q)", r.To, r.TLS, r.AuthUser)
				}
			}
			// The notification is marked as mailed by that very message.
			if n := m.count(t, `SELECT count(*) FROM notifications WHERE user_id = $1 AND app_id = $2 AND emailed_at IS NOT NULL AND mail_id = $3`,
				app.ID, a.ID, q[0].ID); n != 1 {
				t.Errorf("%d notifications linked to the message, want 1", n)
			}
		})
	}
}

// TestMailStartTLSRequired: against a server without STARTTLS, required
// mode refuses to send; nothing is marked sent, the error is recorded, and
// the message is given up after MaxAttempts.
func TestMailStartTLSRequired(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, smtptest.Options{}, mail.TLSRequired)
	m.mcfg.MaxAttempts = 2
	svc := m.replica()
	app := m.applicant(t)
	mgr := m.staff(t, wire.RoleManager)
	a := m.createApp(t, app, wire.KindProjectDocs)
	a = m.move(t, app, a, wire.StatusSubmitted, "")
	m.move(t, mgr, a, wire.StatusNeedsCorrection, "Нет ГПЗУ")

	if sent, failed := m.send(t, svc); sent != 0 || failed == 0 {
		t.Fatalf("sent %d, failed %d; want nothing sent", sent, failed)
	}
	q := m.queue(t, app.ID, wire.EmailInstant)
	if len(q) != 1 || q[0].State != "pending" || q[0].Attempts != 1 || q[0].SentAt != nil || !strings.Contains(q[0].LastError, "STARTTLS") {
		t.Fatalf("after the first attempt: %+v", q)
	}
	if !q[0].NextAt.Equal(m.clock.Now().Add(time.Minute)) {
		t.Errorf("next attempt at %v, want one minute later", q[0].NextAt)
	}
	m.clock.Advance(time.Minute)
	m.send(t, svc)
	q = m.queue(t, app.ID, wire.EmailInstant)
	if q[0].State != "failed" || q[0].Attempts != 2 || !strings.Contains(q[0].LastError, "STARTTLS") {
		t.Fatalf("after the last attempt: %+v", q[0])
	}
	m.clock.Advance(24 * time.Hour)
	if sent, failed := m.send(t, svc); sent+failed != 0 {
		t.Fatalf("a given-up message was tried again (%d sent, %d failed)", sent, failed)
	}
	if n := len(m.smtp.Messages()); n != 0 {
		t.Fatalf("the server received %d messages in clear", n)
	}
}

// TestMailRetryAfterReject: a server that refuses with 5xx twice and then
// accepts gets the message exactly once, after backoffs of 1 and 2 minutes.
func TestMailRetryAfterReject(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, smtptest.Options{STARTTLS: true}, mail.TLSRequired)
	app := m.applicant(t)
	mgr := m.staff(t, wire.RoleManager)
	// Only the applicant's message matters here.
	m.setPref(t, mgr, wire.Preference{Kind: wire.NotifyStatus, InApp: true, Email: false, EmailMode: wire.EmailInstant})
	a := m.createApp(t, app, wire.KindProjectDocs)
	a = m.move(t, app, a, wire.StatusSubmitted, "")
	m.send(t, m.svc) // whatever signing in queued
	m.smtp.SetReject(2)
	m.move(t, mgr, a, wire.StatusReturned, "Документы не соответствуют")
	steps := []struct {
		advance        time.Duration
		sent, failed   int
		state          string
		attempts       int
		wantLastErrHas string
	}{
		{0, 0, 1, "pending", 1, "554"},
		{0, 0, 0, "pending", 1, "554"},           // not due yet
		{time.Minute, 0, 1, "pending", 2, "554"}, // second refusal; next in 2 minutes
		{time.Minute, 0, 0, "pending", 2, "554"}, // not due yet
		{time.Minute, 1, 0, "sent", 3, ""},
		{time.Hour, 0, 0, "sent", 3, ""},
	}
	for i, s := range steps {
		m.clock.Advance(s.advance)
		sent, failed := m.send(t, m.svc)
		if sent != s.sent || failed != s.failed {
			t.Fatalf("step %d: sent %d failed %d, want %d/%d", i, sent, failed, s.sent, s.failed)
		}
		q := m.queue(t, app.ID, wire.EmailInstant)
		last := q[len(q)-1]
		if last.State != s.state || last.Attempts != s.attempts || !strings.Contains(last.LastError, s.wantLastErrHas) || (s.wantLastErrHas == "" && last.LastError != "") {
			t.Fatalf("step %d: %s attempts %d error %q; want %s %d %q", i, last.State, last.Attempts, last.LastError, s.state, s.attempts, s.wantLastErrHas)
		}
	}
	returned := 0
	for _, p := range m.received(t, app.Email) {
		if strings.Contains(p.Subject, a.Number) {
			returned++
		}
	}
	if returned != 1 || m.smtp.Rejected() != 2 {
		t.Fatalf("the refused message arrived %d times after %d refusals, want once after 2", returned, m.smtp.Rejected())
	}
}

// TestMailDailyDigest: notifications of a kind set to a daily digest are
// gathered at the digest hour into one message per user, grouped by
// application, each notification once, even with two replicas racing.
func TestMailDailyDigest(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, smtptest.Options{STARTTLS: true}, mail.TLSRequired)
	mgr := m.staff(t, wire.RoleManager)
	m.setPref(t, mgr, wire.Preference{Kind: wire.NotifyStatus, InApp: true, Email: true, EmailMode: wire.EmailDaily})
	// Monday 28 December 10:00: today's 09:00 digest is due now and finds
	// nothing; claim it so that the rest lands in tomorrow's.
	if n, err := m.svc.RunDigests(m.ctx); err != nil || n != 0 {
		t.Fatalf("first digests: %d, %v", n, err)
	}
	app1, app2 := m.applicant(t), m.applicant(t)
	a1 := m.createApp(t, app1, wire.KindProjectDocs)
	a1 = m.move(t, app1, a1, wire.StatusSubmitted, "")
	m.clock.Advance(time.Hour)
	a2 := m.createApp(t, app2, wire.KindProjectDocs)
	m.move(t, app2, a2, wire.StatusSubmitted, "")
	m.clock.Advance(time.Hour)
	a1 = m.move(t, mgr, a1, wire.StatusNeedsCorrection, "Нет ГПЗУ")
	m.move(t, app1, a1, wire.StatusSubmitted, "")
	if q := m.queue(t, mgr.ID, wire.EmailInstant); len(q) != 0 {
		t.Fatalf("the manager got %d instant messages for a daily kind", len(q))
	}
	// Still Monday: tomorrow's digest is not due.
	if n, err := m.svc.RunDigests(m.ctx); err != nil || n != 0 {
		t.Fatalf("digests before the hour: %d, %v", n, err)
	}
	m.clock.Set(time.Date(2026, 12, 29, 9, 0, 0, 0, msk))
	// Two replicas race for the run.
	other := m.replica()
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, svc := range []*service.Service{m.svc, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := svc.RunDigests(m.ctx)
			if err != nil {
				t.Errorf("replica %d: %v", i, err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	daily := m.queue(t, mgr.ID, wire.EmailDaily)
	if len(daily) != 1 || counts[0]+counts[1] < 1 {
		t.Fatalf("manager's daily digests: %d (replicas queued %v), want 1", len(daily), counts)
	}
	m.send(t, m.svc)
	got := m.received(t, mgr.Email)
	if len(got) != 1 {
		t.Fatalf("manager received %d messages, want the one digest", len(got))
	}
	p := got[0]
	if p.Subject != "[Экспертиза] Сводка за день: 3 уведомления" {
		t.Errorf("subject %q", p.Subject)
	}
	for _, s := range []string{
		"Заявление " + a1.Number + " «Жилой дом», статус «На проверке комплектности» — 2 уведомления:",
		"Заявление " + a2.Number + " «Жилой дом», статус «На проверке комплектности» — 1 уведомление:",
	} {
		if !strings.Contains(p.Text, s) {
			t.Errorf("digest lacks %q:\n%s", s, p.Text)
		}
	}
	for _, body := range []string{
		"Заявление " + a1.Number + " («Жилой дом»): Черновик → На проверке комплектности.",
		"Заявление " + a1.Number + " («Жилой дом»): Требуется доработка → На проверке комплектности.",
		"Заявление " + a2.Number + " («Жилой дом»): Черновик → На проверке комплектности.",
	} {
		if n := strings.Count(p.Text, body); n != 1 {
			t.Errorf("digest has %q %d times, want once:\n%s", body, n, p.Text)
		}
	}
	if n := m.count(t, `SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'status' AND mail_id = $2`, mgr.ID, daily[0].ID); n != 3 {
		t.Errorf("%d notifications linked to the digest, want 3", n)
	}
	// Later runs, here or on the other replica, the same day or the next, send nothing more.
	for _, svc := range []*service.Service{m.svc, other} {
		if n, err := svc.RunDigests(m.ctx); err != nil || n != 0 {
			t.Fatalf("repeated digest run queued %d (%v)", n, err)
		}
	}
	m.clock.Set(time.Date(2026, 12, 30, 9, 30, 0, 0, msk))
	if n, err := other.RunDigests(m.ctx); err != nil || n != 0 {
		t.Fatalf("next day's digest queued %d (%v) with nothing new", n, err)
	}
	m.send(t, m.svc)
	if n := len(m.received(t, mgr.Email)); n != 1 {
		t.Fatalf("manager received %d messages in the end, want 1", n)
	}
}

// TestMailWeeklyDigest: a weekly kind waits for Monday's run.
func TestMailWeeklyDigest(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, smtptest.Options{STARTTLS: true}, mail.TLSRequired)
	mgr := m.staff(t, wire.RoleManager)
	if _, err := m.svc.RunDigests(m.ctx); err != nil { // claims Monday 28 December
		t.Fatal(err)
	}
	app := m.applicant(t)
	// The first submission is mailed at once (the default), before the
	// manager switches to a weekly digest: the digest must not repeat it.
	a0 := m.createApp(t, app, wire.KindProjectDocs)
	m.move(t, app, a0, wire.StatusSubmitted, "")
	m.setPref(t, mgr, wire.Preference{Kind: wire.NotifyStatus, InApp: true, Email: true, EmailMode: wire.EmailWeekly})
	a := m.createApp(t, app, wire.KindProjectDocs)
	m.move(t, app, a, wire.StatusSubmitted, "")
	for _, day := range []int{29, 30, 31} { // daily runs: nothing for a weekly kind
		m.clock.Set(time.Date(2026, 12, day, 9, 5, 0, 0, msk))
		if _, err := m.svc.RunDigests(m.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if q := m.queue(t, mgr.ID, wire.EmailWeekly); len(q) != 0 {
		t.Fatalf("weekly digest before Monday: %d", len(q))
	}
	m.clock.Set(time.Date(2027, 1, 4, 9, 5, 0, 0, msk)) // Monday
	if _, err := m.svc.RunDigests(m.ctx); err != nil {
		t.Fatal(err)
	}
	m.send(t, m.svc)
	var digests []*smtptest.Parsed
	for _, p := range m.received(t, mgr.Email) {
		if strings.Contains(p.Subject, "Сводка") {
			digests = append(digests, p)
		}
	}
	if len(digests) != 1 || digests[0].Subject != "[Экспертиза] Сводка за неделю: 1 уведомление" {
		t.Fatalf("weekly digests: %v", subjects(digests))
	}
	if !strings.Contains(digests[0].Text, a.Number) || strings.Contains(digests[0].Text, a0.Number) {
		t.Fatalf("weekly digest should name %s and not the already mailed %s:\n%s", a.Number, a0.Number, digests[0].Text)
	}
	if q := m.queue(t, mgr.ID, wire.EmailInstant); len(q) != 1 || !strings.Contains(q[0].Subject, a0.Number) {
		t.Fatalf("manager's instant messages: %d", len(q))
	}
}

func subjects(ps []*smtptest.Parsed) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Subject)
	}
	return out
}

// TestMailPreferenceOff: with e-mail off for a kind nothing is queued,
// neither at once nor in a digest, while the in-app notification stays.
func TestMailPreferenceOff(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, smtptest.Options{STARTTLS: true}, mail.TLSRequired)
	mgr := m.staff(t, wire.RoleManager)
	m.setPref(t, mgr, wire.Preference{Kind: wire.NotifyStatus, InApp: true, Email: false, EmailMode: wire.EmailInstant})
	app := m.applicant(t)
	a := m.createApp(t, app, wire.KindProjectDocs)
	m.move(t, app, a, wire.StatusSubmitted, "")
	if n := m.count(t, `SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'status'`, mgr.ID); n != 1 {
		t.Fatalf("in-app notifications: %d, want 1", n)
	}
	m.clock.Set(time.Date(2026, 12, 29, 9, 30, 0, 0, msk))
	if _, err := m.svc.RunDigests(m.ctx); err != nil {
		t.Fatal(err)
	}
	m.send(t, m.svc)
	for _, k := range []wire.EmailMode{wire.EmailInstant, wire.EmailDaily, wire.EmailWeekly} {
		for _, q := range m.queue(t, mgr.ID, k) {
			if strings.Contains(q.Subject, a.Number) || strings.Contains(q.Text, a.Number) {
				t.Errorf("%s message about the application despite e-mail off: %q", k, q.Subject)
			}
		}
	}
	for _, p := range m.received(t, mgr.Email) {
		if strings.Contains(p.Text, a.Number) {
			t.Errorf("the manager received %q", p.Subject)
		}
	}
}

// TestMailRestart: a restarted worker does not resend what was sent, and a
// message claimed by a worker that died before sending goes out once after
// the lease ends.
func TestMailRestart(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, smtptest.Options{STARTTLS: true}, mail.TLSRequired)
	app := m.applicant(t)
	mgr := m.staff(t, wire.RoleManager)
	a := m.createApp(t, app, wire.KindProjectDocs)
	a = m.move(t, app, a, wire.StatusSubmitted, "")
	m.move(t, mgr, a, wire.StatusNeedsCorrection, "Нет ГПЗУ")
	m.send(t, m.svc)
	delivered := len(m.smtp.Messages())
	if delivered == 0 {
		t.Fatal("nothing delivered")
	}
	restarted := m.replica()
	m.clock.Advance(time.Hour) // past every lease and backoff
	if sent, failed := m.send(t, restarted); sent+failed != 0 {
		t.Fatalf("restarted worker sent %d and failed %d", sent, failed)
	}

	// A worker claims the next message and dies before sending it.
	a2 := m.createApp(t, app, wire.KindProjectDocs)
	a2 = m.move(t, app, a2, wire.StatusSubmitted, "")
	m.move(t, mgr, a2, wire.StatusNeedsCorrection, "Нет выписки СРО")
	var claimed []store.QueuedMail
	if _, err := m.st.WithClock(m.clock.Now).Tx(m.ctx, func(tx *store.Tx) (err error) {
		claimed, err = tx.ClaimDueMail(m.ctx, m.mcfg.Lease, 100)
		return err
	}); err != nil || len(claimed) == 0 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	if sent, _ := m.send(t, restarted); sent != 0 {
		t.Fatalf("a leased message was sent by another worker (%d)", sent)
	}
	m.clock.Advance(m.mcfg.Lease)
	if sent, _ := m.send(t, restarted); sent != len(claimed) {
		t.Fatalf("after the lease: sent %d, want %d", sent, len(claimed))
	}
	if got := len(m.smtp.Messages()); got != delivered+len(claimed) {
		t.Fatalf("server holds %d messages, want %d", got, delivered+len(claimed))
	}
	q := m.queue(t, app.ID, wire.EmailInstant)
	if last := q[len(q)-1]; last.State != "sent" || last.Attempts != 2 {
		t.Fatalf("reclaimed message: %s after %d attempts", last.State, last.Attempts)
	}
}

// TestMailConcurrentSenders: two replicas draining one queue deliver each
// message exactly once.
func TestMailConcurrentSenders(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, smtptest.Options{STARTTLS: true}, mail.TLSRequired)
	app := m.applicant(t)
	mgr := m.staff(t, wire.RoleManager)
	for range 4 {
		a := m.createApp(t, app, wire.KindProjectDocs)
		a = m.move(t, app, a, wire.StatusSubmitted, "")
		m.move(t, mgr, a, wire.StatusNeedsCorrection, "Нет ГПЗУ")
	}
	total := m.count(t, `SELECT count(*) FROM mail_queue WHERE state = 'pending'`)
	if total < 8 {
		t.Fatalf("only %d messages queued", total)
	}
	var wg sync.WaitGroup
	for _, svc := range []*service.Service{m.svc, m.replica(), m.replica()} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := svc.SendDueMail(m.ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ids := map[string]int{}
	for _, r := range m.smtp.Messages() {
		p, err := smtptest.Parse(r.Data)
		if err != nil {
			t.Fatal(err)
		}
		ids[p.Header.Get("Message-ID")]++
	}
	if len(ids) != total {
		t.Fatalf("%d distinct messages delivered, want %d", len(ids), total)
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if n := m.count(t, `SELECT count(*) FROM mail_queue WHERE state <> 'sent'`); n != 0 {
		t.Fatalf("%d messages not marked sent", n)
	}
}

// TestMailLanguageValidation: only ru and en are accepted.
func TestMailLanguageValidation(t *testing.T) {
	t.Parallel()
	m := newMailEnv(t, smtptest.Options{}, mail.TLSNone)
	app := m.applicant(t)
	wantCode(t, m.svc.SetMailLanguage(m.ctx, app.P, "de"), wire.CodeInvalid)
	m.setLang(t, app, "en")
	u, err := m.st.Read().MailUser(m.ctx, app.ID)
	if err != nil || u.Language != "en" {
		t.Fatalf("language %q, %v", u.Language, err)
	}
}

// TestMailDisabled: without WithMail nothing is queued.
func TestMailDisabled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.applicant(t)
	mgr := e.staff(t, wire.RoleManager)
	a := e.createApp(t, app, wire.KindProjectDocs)
	a = e.move(t, app, a, wire.StatusSubmitted, "")
	e.move(t, mgr, a, wire.StatusNeedsCorrection, "Нет ГПЗУ")
	if n := e.count(t, `SELECT count(*) FROM mail_queue`); n != 0 {
		t.Fatalf("%d messages queued with mail off", n)
	}
	if e.svc.MailEnabled() {
		t.Fatal("mail reported on")
	}
}
