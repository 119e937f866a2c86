package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// MailUser is what mail needs to know about a recipient.
type MailUser struct {
	ID       int64
	Name     string
	Email    string
	Language string
	Disabled bool
}

// MailUser reads a recipient.
func (q Q) MailUser(ctx context.Context, id int64) (MailUser, error) {
	u := MailUser{ID: id}
	err := q.q.QueryRow(ctx, `SELECT full_name, email, language, disabled FROM users WHERE id = $1`, id).
		Scan(&u.Name, &u.Email, &u.Language, &u.Disabled)
	return u, mapErr(err, "mail user")
}

// SetUserLanguage sets the language of a user's e-mail.
func (t *Tx) SetUserLanguage(ctx context.Context, userID int64, lang string) error {
	tag, err := t.q.Exec(ctx, `UPDATE users SET language = $2, version = version + 1, updated_at = $3 WHERE id = $1`, userID, lang, t.now)
	if err == nil && tag.RowsAffected() == 0 {
		return mapErr(pgx.ErrNoRows, "set language")
	}
	return mapErr(err, "set language")
}

// AppBrief names an application in a mail.
type AppBrief struct {
	Number, ObjectName string
	Status             wire.Status
}

// AppBrief reads an application's number, object and current status.
func (q Q) AppBrief(ctx context.Context, id int64) (AppBrief, error) {
	var a AppBrief
	var st string
	err := q.q.QueryRow(ctx, `SELECT number, object_name, status FROM applications WHERE id = $1`, id).Scan(&a.Number, &a.ObjectName, &st)
	a.Status = wire.Status(st)
	return a, mapErr(err, "application for mail")
}

// NewMail is a rendered message to queue.
type NewMail struct {
	UserID    int64
	Kind      wire.EmailMode
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	MessageID string
}

// EnqueueMail queues a message, due at once.
func (t *Tx) EnqueueMail(ctx context.Context, m NewMail) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO mail_queue (user_id, kind, to_addr, to_name, subject, text_body, html_body, message_id, next_attempt_at, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9) RETURNING id`,
		nullID(m.UserID), string(m.Kind), m.To, m.ToName, m.Subject, m.Text, m.HTML, m.MessageID, t.now).Scan(&id)
	return id, mapErr(err, "enqueue mail")
}

// MarkNotificationsMailed records that the notifications went into message
// mailID; a notification already mailed is left alone and not counted.
func (t *Tx) MarkNotificationsMailed(ctx context.Context, mailID int64, ids []int64) (int64, error) {
	tag, err := t.q.Exec(ctx, `UPDATE notifications SET emailed_at = $3, mail_id = $1 WHERE id = ANY($2) AND emailed_at IS NULL`, mailID, ids, t.now)
	if err != nil {
		return 0, mapErr(err, "mark notifications mailed")
	}
	return tag.RowsAffected(), nil
}

// QueuedMail is a message of the queue.
type QueuedMail struct {
	ID        int64
	UserID    int64
	Kind      wire.EmailMode
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	MessageID string
	State     string // pending, sent, failed
	Attempts  int    // attempts started, counting the one just claimed
	NextAt    time.Time
	LastError string
	CreatedAt time.Time
	SentAt    *time.Time
}

const mailCols = `id, coalesce(user_id, 0), kind, to_addr, to_name, subject, text_body, html_body, message_id,
	state, attempts, next_attempt_at, last_error, created_at, sent_at`

func scanMail(rows pgx.Rows) ([]QueuedMail, error) {
	defer rows.Close()
	var out []QueuedMail
	for rows.Next() {
		var m QueuedMail
		var kind string
		if err := rows.Scan(&m.ID, &m.UserID, &kind, &m.To, &m.ToName, &m.Subject, &m.Text, &m.HTML, &m.MessageID,
			&m.State, &m.Attempts, &m.NextAt, &m.LastError, &m.CreatedAt, &m.SentAt); err != nil {
			return nil, fmt.Errorf("scan mail: %w", err)
		}
		m.Kind = wire.EmailMode(kind)
		out = append(out, m)
	}
	return out, rows.Err()
}

// ClaimDueMail takes up to limit due messages and leases them for lease:
// other replicas skip rows being claimed (SKIP LOCKED) and, after this
// commit, rows whose lease has not ended. A claimer that dies leaves its
// rows to be claimed again once the lease ends.
func (t *Tx) ClaimDueMail(ctx context.Context, lease time.Duration, limit int) ([]QueuedMail, error) {
	rows, err := t.q.Query(ctx, `UPDATE mail_queue SET attempts = attempts + 1, locked_until = $1
		WHERE id IN (SELECT id FROM mail_queue
			WHERE state = 'pending' AND next_attempt_at <= $2 AND (locked_until IS NULL OR locked_until <= $2)
			ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+mailCols, t.now.Add(lease), t.now, limit)
	if err != nil {
		return nil, mapErr(err, "claim mail")
	}
	return scanMail(rows)
}

// MarkMailSent records that the SMTP server accepted message id.
func (q Q) MarkMailSent(ctx context.Context, id int64, at time.Time) error {
	_, err := q.q.Exec(ctx, `UPDATE mail_queue SET state = 'sent', sent_at = $2, locked_until = NULL, last_error = ''
		WHERE id = $1 AND state = 'pending'`, id, at)
	return mapErr(err, "mark mail sent")
}

// MarkMailFailed records a failed attempt: the message is due again at
// next, or, when final, given up.
func (q Q) MarkMailFailed(ctx context.Context, id int64, lastErr string, next time.Time, final bool) error {
	state := "pending"
	if final {
		state = "failed"
	}
	_, err := q.q.Exec(ctx, `UPDATE mail_queue SET state = $2, last_error = $3, next_attempt_at = $4, locked_until = NULL
		WHERE id = $1 AND state = 'pending'`, id, state, lastErr, next)
	return mapErr(err, "mark mail failed")
}

// MailMessages lists a user's queued and sent messages, oldest first (for
// administrators and tests).
func (q Q) MailMessages(ctx context.Context, userID int64) ([]QueuedMail, error) {
	rows, err := q.q.Query(ctx, `SELECT `+mailCols+` FROM mail_queue WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, mapErr(err, "mail messages")
	}
	return scanMail(rows)
}

// PruneMail deletes sent and failed messages queued before before.
func (q Q) PruneMail(ctx context.Context, before time.Time) (int64, error) {
	tag, err := q.q.Exec(ctx, `DELETE FROM mail_queue WHERE state <> 'pending' AND created_at < $1`, before)
	if err != nil {
		return 0, mapErr(err, "prune mail")
	}
	return tag.RowsAffected(), nil
}

// ClaimDigestRun claims the digest of mode for period (a Moscow date) for
// lease; it reports false when the run is finished or another replica
// holds a lease that has not ended.
func (t *Tx) ClaimDigestRun(ctx context.Context, mode wire.EmailMode, period wire.Date, lease time.Duration) (bool, error) {
	rows, err := t.q.Query(ctx, `INSERT INTO mail_digest_runs (mode, period, claimed_at, lease_until) VALUES ($1, $2, $3, $4)
		ON CONFLICT (mode, period) DO UPDATE SET claimed_at = $3, lease_until = $4
		WHERE mail_digest_runs.finished_at IS NULL AND mail_digest_runs.lease_until <= $3
		RETURNING 1`, string(mode), period.String(), t.now, t.now.Add(lease))
	if err != nil {
		return false, mapErr(err, "claim digest run")
	}
	defer rows.Close()
	claimed := rows.Next()
	return claimed, mapErr(rows.Err(), "claim digest run")
}

// FinishDigestRun marks a digest run done.
func (q Q) FinishDigestRun(ctx context.Context, mode wire.EmailMode, period wire.Date, messages int, at time.Time) error {
	_, err := q.q.Exec(ctx, `UPDATE mail_digest_runs SET finished_at = $3, messages = $4 WHERE mode = $1 AND period = $2`,
		string(mode), period.String(), at, messages)
	return mapErr(err, "finish digest run")
}

// UnmailedRecipients lists users with an e-mail address who have
// notifications created in [from, until) not yet put in any message.
func (q Q) UnmailedRecipients(ctx context.Context, from, until time.Time) ([]int64, error) {
	rows, err := q.q.Query(ctx, `SELECT DISTINCT n.user_id FROM notifications n JOIN users u ON u.id = n.user_id
		WHERE n.emailed_at IS NULL AND n.created_at >= $1 AND n.created_at < $2 AND u.email <> '' AND NOT u.disabled
		ORDER BY n.user_id`, from, until)
	if err != nil {
		return nil, mapErr(err, "unmailed recipients")
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// MailNote is a notification with what its mail shows of the application.
type MailNote struct {
	wire.Notification
	App AppBrief // zero without an application
}

// LockUnmailed locks a user's notifications of the given kinds created in
// [from, until) and not yet mailed, oldest first. Locking (not skipping)
// makes a concurrent digest of the same user wait and then find them mailed.
func (t *Tx) LockUnmailed(ctx context.Context, userID int64, kinds []wire.NotificationKind, from, until time.Time) ([]MailNote, error) {
	ks := make([]string, len(kinds))
	for i, k := range kinds {
		ks[i] = string(k)
	}
	rows, err := t.q.Query(ctx, `SELECT n.id, n.kind, coalesce(n.app_id, 0), n.title, n.body, n.created_at,
			coalesce(a.number, ''), coalesce(a.object_name, ''), coalesce(a.status, '')
		FROM notifications n LEFT JOIN applications a ON a.id = n.app_id
		WHERE n.user_id = $1 AND n.emailed_at IS NULL AND n.kind = ANY($2) AND n.created_at >= $3 AND n.created_at < $4
		ORDER BY n.created_at, n.id
		FOR UPDATE OF n`, userID, ks, from, until)
	if err != nil {
		return nil, mapErr(err, "lock unmailed notifications")
	}
	defer rows.Close()
	var out []MailNote
	for rows.Next() {
		var n MailNote
		var kind, status string
		if err := rows.Scan(&n.ID, &kind, &n.AppID, &n.Title, &n.Body, &n.CreatedAt, &n.App.Number, &n.App.ObjectName, &status); err != nil {
			return nil, fmt.Errorf("scan unmailed notification: %w", err)
		}
		n.Kind, n.App.Status = wire.NotificationKind(kind), wire.Status(status)
		out = append(out, n)
	}
	return out, rows.Err()
}
