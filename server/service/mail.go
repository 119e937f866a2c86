package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/expertiza/expertiza/server/mail"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// MailConfig turns e-mail on. Without it (no SMTP server configured) the
// service queues no mail at all: a queue nobody drains would only grow,
// and would flood inboxes with stale news the day SMTP is configured.
// Notifications keep emailed_at empty then, and kinds set to a digest are
// picked up by the first digest after mail is turned on (see digestWindow).
type MailConfig struct {
	Sender   mail.Sender
	Renderer *mail.Renderer
	Metrics  *mail.Metrics // nil: not counted
	// MessageIDDomain is the right-hand side of Message-IDs (the From
	// address's domain).
	MessageIDDomain string
	// DigestHour is the Moscow hour (0–23) at which daily digests, and on
	// Mondays weekly digests, are assembled.
	DigestHour int
	// Poll is how often the worker looks for due mail; default 5 s.
	Poll time.Duration
	// Batch is how many messages one claim takes; default 20.
	Batch int
	// Lease is how long a claimed message is reserved for the claimer; it
	// must exceed the SMTP timeout. Default 5 minutes.
	Lease time.Duration
	// MaxAttempts is how many deliveries are tried before a message is
	// given up; default 10 (with the default backoff, about 8.5 hours).
	MaxAttempts int
	// Backoff is the delay after the first failure, doubled after each
	// further one up to MaxBackoff; defaults 1 minute and 4 hours.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Retention is how long sent and failed messages are kept; default 30 days.
	Retention time.Duration
}

func (c *MailConfig) defaults() {
	if c.Poll <= 0 {
		c.Poll = 5 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 20
	}
	if c.Lease <= 0 {
		c.Lease = 5 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 10
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Minute
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 4 * time.Hour
	}
	if c.Retention <= 0 {
		c.Retention = 30 * 24 * time.Hour
	}
	if c.MessageIDDomain == "" {
		c.MessageIDDomain = "expertiza.invalid"
	}
	if c.Metrics == nil {
		c.Metrics = mail.NewMetrics(nil)
	}
}

// WithMail turns e-mail on: instant notifications are queued as they are
// created, and RunMail assembles digests and delivers the queue.
func WithMail(c MailConfig) Option {
	return func(s *Service) {
		c.defaults()
		s.mail = &c
	}
}

// MailEnabled reports whether e-mail is configured.
func (s *Service) MailEnabled() bool { return s.mail != nil }

// msk is where digest hours are counted (no daylight saving since 2014).
var msk = time.FixedZone("MSK", 3*3600)

func newMessageID(domain string) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("message id: %w", err)
	}
	return "expertiza." + hex.EncodeToString(b) + "@" + domain, nil
}

func recipient(u store.MailUser) mail.Recipient {
	lang := mail.LangRU
	if u.Language == string(mail.LangEN) {
		lang = mail.LangEN
	}
	return mail.Recipient{Name: u.Name, Address: u.Email, Lang: lang}
}

func mailItem(n wire.Notification, a store.AppBrief) mail.Item {
	return mail.Item{Kind: n.Kind, Title: n.Title, Body: n.Body, At: n.CreatedAt, AppID: n.AppID,
		AppNumber: a.Number, AppObject: a.ObjectName, AppStatus: a.Status}
}

// mailInstant queues the e-mail for one notification just stored in tx,
// when the recipient wants this kind by e-mail at once. It is called by
// notifyUsers; the message is committed, or not, with the notification.
func (s *Service) mailInstant(ctx context.Context, tx *store.Tx, userID int64, p wire.Preference, n wire.Notification) error {
	if s.mail == nil || !p.Email || p.EmailMode != wire.EmailInstant {
		return nil
	}
	u, err := tx.MailUser(ctx, userID)
	if err != nil {
		return err
	}
	if u.Email == "" || u.Disabled {
		return nil
	}
	var app store.AppBrief
	if n.AppID != 0 {
		if app, err = tx.AppBrief(ctx, n.AppID); err != nil {
			return err
		}
	}
	rcpt := recipient(u)
	c, err := s.mail.Renderer.Instant(rcpt, mailItem(n, app))
	if err != nil {
		// A template bug must not block the change that caused the
		// notification; the notification itself is stored.
		s.log.Error("rendering notification e-mail failed", "notification", n.ID, "err", err)
		return nil
	}
	return s.queueMail(ctx, tx, u, wire.EmailInstant, c, []int64{n.ID})
}

func (s *Service) queueMail(ctx context.Context, tx *store.Tx, u store.MailUser, kind wire.EmailMode, c mail.Content, ids []int64) error {
	mid, err := newMessageID(s.mail.MessageIDDomain)
	if err != nil {
		return err
	}
	id, err := tx.EnqueueMail(ctx, store.NewMail{UserID: u.ID, Kind: kind, To: u.Email, ToName: u.Name,
		Subject: c.Subject, Text: c.Text, HTML: c.HTML, MessageID: mid})
	if err != nil {
		return err
	}
	if _, err := tx.MarkNotificationsMailed(ctx, id, ids); err != nil {
		return err
	}
	s.mail.Metrics.Enqueued.WithLabelValues(string(kind)).Inc()
	return nil
}

// digestRun returns when the latest digest of mode was due at or before
// now: daily at DigestHour Moscow time, weekly on Mondays at that hour.
func digestRun(now time.Time, mode wire.EmailMode, hour int) time.Time {
	t := now.In(msk)
	run := time.Date(t.Year(), t.Month(), t.Day(), hour, 0, 0, 0, msk)
	if run.After(t) {
		run = run.AddDate(0, 0, -1)
	}
	if mode == wire.EmailWeekly {
		back := (int(run.Weekday()) - int(time.Monday) + 7) % 7
		run = run.AddDate(0, 0, -back)
	}
	return run
}

// digestWindow is what a digest due at run covers: notifications created
// before run and within two periods of it, so one missed run (the server
// was down at that hour) is made up by the next, while notifications from
// months when e-mail was off are not dug up.
func digestWindow(run time.Time, mode wire.EmailMode) (from, until time.Time) {
	days := 2
	if mode == wire.EmailWeekly {
		days = 14
	}
	return run.AddDate(0, 0, -days), run
}

// RunDigests assembles the daily and weekly digests that are due and not
// yet assembled by this or another replica. It returns how many messages
// it queued.
func (s *Service) RunDigests(ctx context.Context) (int, error) {
	if s.mail == nil {
		return 0, nil
	}
	total := 0
	for _, mode := range []wire.EmailMode{wire.EmailDaily, wire.EmailWeekly} {
		run := digestRun(s.now(), mode, s.mail.DigestHour)
		period := wire.DateOf(run)
		var claimed bool
		if _, err := s.st.Tx(ctx, func(tx *store.Tx) (err error) {
			claimed, err = tx.ClaimDigestRun(ctx, mode, period, s.mail.Lease)
			return err
		}); err != nil {
			return total, err
		}
		if !claimed {
			continue
		}
		n, err := s.digest(ctx, mode, run)
		total += n
		if err != nil {
			// The claim's lease runs out and a later tick (here or on
			// another replica) finishes the run; what was queued stays.
			return total, fmt.Errorf("%s digest for %s: %w", mode, period, err)
		}
		if err := s.st.Read().FinishDigestRun(ctx, mode, period, n, s.now()); err != nil {
			return total, err
		}
		if n > 0 {
			s.log.Info("e-mail digests queued", "mode", mode, "period", period.String(), slog.Int("messages", n))
		}
	}
	return total, nil
}

func (s *Service) digest(ctx context.Context, mode wire.EmailMode, run time.Time) (int, error) {
	from, until := digestWindow(run, mode)
	users, err := s.st.Read().UnmailedRecipients(ctx, from, until)
	if err != nil {
		return 0, err
	}
	queued := 0
	for _, uid := range users {
		_, err := s.st.Tx(ctx, func(tx *store.Tx) error {
			prefs, err := s.preferences(ctx, tx.Q, uid)
			if err != nil {
				return err
			}
			var kinds []wire.NotificationKind
			for _, p := range prefs {
				if p.Email && p.EmailMode == mode {
					kinds = append(kinds, p.Kind)
				}
			}
			if len(kinds) == 0 {
				return nil
			}
			u, err := tx.MailUser(ctx, uid)
			if err != nil || u.Email == "" || u.Disabled {
				return err
			}
			notes, err := tx.LockUnmailed(ctx, uid, kinds, from, until)
			if err != nil || len(notes) == 0 {
				return err
			}
			items := make([]mail.Item, len(notes))
			ids := make([]int64, len(notes))
			for i, n := range notes {
				items[i], ids[i] = mailItem(n.Notification, n.App), n.ID
			}
			c, err := s.mail.Renderer.Digest(recipient(u), mode, items)
			if err != nil {
				return err
			}
			if err := s.queueMail(ctx, tx, u, mode, c, ids); err != nil {
				return err
			}
			queued++
			return nil
		})
		if err != nil {
			return queued, err
		}
	}
	return queued, nil
}

// backoff is the delay after the given number of failed attempts.
func (c *MailConfig) backoff(attempts int) time.Duration {
	d := c.Backoff
	for i := 1; i < attempts && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}

// SendDueMail delivers the messages that are due, batch by batch, and
// returns how many were accepted and how many attempts failed.
//
// Each message is claimed (leased) in a short transaction, sent with no
// transaction open, and its outcome written at once. A crash after the
// SMTP server accepted a message and before that write commits (one
// database round trip) leaves the message leased but pending; it is sent
// again after the lease ends, under the same Message-ID, which lets
// receiving systems drop the duplicate. That window cannot be closed
// without the SMTP server taking part in our transaction.
func (s *Service) SendDueMail(ctx context.Context) (sent, failed int, err error) {
	if s.mail == nil {
		return 0, 0, nil
	}
	for ctx.Err() == nil {
		var batch []store.QueuedMail
		if _, err := s.st.Tx(ctx, func(tx *store.Tx) (err error) {
			batch, err = tx.ClaimDueMail(ctx, s.mail.Lease, s.mail.Batch)
			return err
		}); err != nil {
			return sent, failed, err
		}
		for _, m := range batch {
			if ctx.Err() != nil {
				// Unsent claims wait out their lease and are tried again.
				return sent, failed, nil
			}
			ok, err := s.deliver(ctx, m)
			if err != nil {
				return sent, failed, err
			}
			if ok {
				sent++
			} else {
				failed++
			}
		}
		if len(batch) < s.mail.Batch {
			break
		}
	}
	return sent, failed, nil
}

func (s *Service) deliver(ctx context.Context, m store.QueuedMail) (bool, error) {
	sendErr := s.mail.Sender.Send(ctx, mail.Message{To: m.To, ToName: m.ToName, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
		MessageID: m.MessageID, Date: m.CreatedAt})
	// The server has answered: record it even if we are shutting down.
	rctx := context.WithoutCancel(ctx)
	now := s.now()
	if sendErr == nil {
		if err := s.st.Read().MarkMailSent(rctx, m.ID, now); err != nil {
			return true, fmt.Errorf("message %d was accepted but could not be marked sent: %w", m.ID, err)
		}
		s.mail.Metrics.Sent.Inc()
		return true, nil
	}
	final := m.Attempts >= s.mail.MaxAttempts
	next := now.Add(s.mail.backoff(m.Attempts))
	msg := sendErr.Error()
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	if err := s.st.Read().MarkMailFailed(rctx, m.ID, msg, next, final); err != nil {
		return false, err
	}
	// The address is personal data: the log names the message instead.
	logged := strings.ReplaceAll(msg, m.To, "<recipient>")
	if final {
		s.mail.Metrics.Failed.Inc()
		s.log.Error("e-mail given up", "mail_id", m.ID, "attempts", m.Attempts, "err", logged)
	} else {
		s.mail.Metrics.Retried.Inc()
		s.log.Warn("e-mail delivery failed, will retry", "mail_id", m.ID, "attempt", m.Attempts, "next", next, "err", logged)
	}
	return false, nil
}

// RunMail assembles digests and delivers queued mail every Poll until ctx
// ends; it returns at once when mail is off.
func (s *Service) RunMail(ctx context.Context) {
	if s.mail == nil {
		return
	}
	t := time.NewTicker(s.mail.Poll)
	defer t.Stop()
	var pruned time.Time
	for {
		if _, err := s.RunDigests(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("e-mail digests failed", "err", err)
		}
		if _, _, err := s.SendDueMail(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("e-mail delivery failed", "err", err)
		}
		if now := s.now(); now.Sub(pruned) > time.Hour {
			if n, err := s.st.Read().PruneMail(ctx, now.Add(-s.mail.Retention)); err != nil && ctx.Err() == nil {
				s.log.Warn("pruning sent e-mail failed", "err", err)
			} else if n > 0 {
				s.log.Info("old e-mail removed from the queue", slog.Int64("count", n))
			}
			pruned = now
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SetMailLanguage sets the language of the caller's e-mail (ru or en).
func (s *Service) SetMailLanguage(ctx context.Context, p *Principal, lang string) error {
	if err := requireFull(p); err != nil {
		return err
	}
	if _, err := mail.ParseLang(lang); err != nil {
		return wire.E(wire.CodeInvalid, "language", "Язык писем: ru или en", "E-mail language: ru or en")
	}
	_, err := write(ctx, s, p, func(tx *store.Tx) (struct{}, error) {
		return struct{}{}, tx.SetUserLanguage(ctx, p.UserID, lang)
	})
	return err
}
