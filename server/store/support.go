package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// NextSupportNumber allocates ПОД-<year>-<NNNNNN>, numbered per year.
func (t *Tx) NextSupportNumber(ctx context.Context, year int) (string, error) {
	var n int
	err := t.q.QueryRow(ctx, `INSERT INTO support_numbers (year, last) VALUES ($1, 1)
		ON CONFLICT (year) DO UPDATE SET last = support_numbers.last + 1 RETURNING last`, year).Scan(&n)
	if err != nil {
		return "", mapErr(err, "allocate support number")
	}
	return fmt.Sprintf("ПОД-%d-%06d", year, n), nil
}

// InsertSupportRequest creates a request with its first message.
func (t *Tx) InsertSupportRequest(ctx context.Context, number string, authorID int64, subject, body string) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO support_requests (number, author_id, subject, status, created_at, updated_at)
		VALUES ($1,$2,$3,'new',$4,$4) RETURNING id`, number, authorID, subject, t.now).Scan(&id)
	if err != nil {
		return 0, mapErr(err, "insert support request")
	}
	if _, err := t.InsertSupportMessage(ctx, id, authorID, body); err != nil {
		return 0, err
	}
	return id, nil
}

// InsertSupportMessage appends a message to a request's thread.
func (t *Tx) InsertSupportMessage(ctx context.Context, requestID, authorID int64, body string) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO support_messages (request_id, author_id, body, created_at) VALUES ($1,$2,$3,$4) RETURNING id`,
		requestID, authorID, body, t.now).Scan(&id)
	return id, mapErr(err, "insert support message")
}

// SetSupportStatus moves a request; seen, when not zero, must be its
// version (a stale one is a Conflict with the current version).
func (t *Tx) SetSupportStatus(ctx context.Context, id, seen int64, to wire.SupportStatus) error {
	tag, err := t.q.Exec(ctx, `UPDATE support_requests SET status = $3, version = version + 1, updated_at = $4
		WHERE id = $1 AND ($2 = 0 OR version = $2)`, id, seen, string(to), t.now)
	if err != nil {
		return mapErr(err, "set support status")
	}
	if tag.RowsAffected() == 0 {
		var cur int64
		if err := t.q.QueryRow(ctx, `SELECT version FROM support_requests WHERE id = $1`, id).Scan(&cur); err != nil {
			return mapErr(err, "support request")
		}
		e := wire.E(wire.CodeConflict, "version", "Обращение уже изменилось — обновите его и повторите", "The request was changed meanwhile — reload it and try again")
		e.Current = cur
		return e
	}
	return nil
}

// TouchSupportRequest records a change without a new status (a reply).
func (t *Tx) TouchSupportRequest(ctx context.Context, id int64) error {
	_, err := t.q.Exec(ctx, `UPDATE support_requests SET version = version + 1, updated_at = $2 WHERE id = $1`, id, t.now)
	return mapErr(err, "touch support request")
}

const supportCols = `r.id, r.number, r.author_id, u.full_name, u.login, r.subject, r.status, r.version, r.created_at, r.updated_at,
	(SELECT count(*) FROM support_messages m WHERE m.request_id = r.id)::int,
	coalesce((SELECT max(m.created_at) FROM support_messages m WHERE m.request_id = r.id), r.created_at)`

func scanSupport(row pgx.Row) (wire.SupportRequest, error) {
	var r wire.SupportRequest
	var st string
	err := row.Scan(&r.ID, &r.Number, &r.AuthorID, &r.AuthorName, &r.AuthorLogin, &r.Subject, &st, &r.Version, &r.CreatedAt, &r.UpdatedAt,
		&r.MessageCount, &r.LastMessageAt)
	r.Status = wire.SupportStatus(st)
	return r, err
}

// SupportRequest reads one request without its thread.
func (q Q) SupportRequest(ctx context.Context, id int64) (wire.SupportRequest, error) {
	r, err := scanSupport(q.q.QueryRow(ctx, `SELECT `+supportCols+` FROM support_requests r JOIN users u ON u.id = r.author_id WHERE r.id = $1`, id))
	return r, mapErr(err, "support request")
}

// SupportRequestForUpdate locks a request for the rest of the transaction.
func (t *Tx) SupportRequestForUpdate(ctx context.Context, id int64) (wire.SupportRequest, error) {
	r, err := scanSupport(t.q.QueryRow(ctx, `SELECT `+supportCols+` FROM support_requests r JOIN users u ON u.id = r.author_id
		WHERE r.id = $1 FOR UPDATE OF r`, id))
	return r, mapErr(err, "lock support request")
}

// SupportRequests lists requests, newest first: one author's (authorID
// not zero) or everyone's; with status, only those in it.
func (q Q) SupportRequests(ctx context.Context, authorID int64, status wire.SupportStatus) ([]wire.SupportRequest, error) {
	rows, err := q.q.Query(ctx, `SELECT `+supportCols+` FROM support_requests r JOIN users u ON u.id = r.author_id
		WHERE ($1 = 0 OR r.author_id = $1) AND ($2 = '' OR r.status = $2)
		ORDER BY r.id DESC LIMIT 1000`, authorID, string(status))
	if err != nil {
		return nil, fmt.Errorf("list support requests: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (wire.SupportRequest, error) { return scanSupport(r) })
}

// SupportMessages reads a request's thread, oldest first.
func (q Q) SupportMessages(ctx context.Context, requestID int64) ([]wire.SupportMessage, error) {
	rows, err := q.q.Query(ctx, `SELECT m.id, m.author_id, u.full_name, u.role = 'admin' AND m.author_id <> r.author_id, m.body, m.created_at
		FROM support_messages m JOIN users u ON u.id = m.author_id JOIN support_requests r ON r.id = m.request_id
		WHERE m.request_id = $1 ORDER BY m.id`, requestID)
	if err != nil {
		return nil, fmt.Errorf("support messages: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (wire.SupportMessage, error) {
		var m wire.SupportMessage
		err := r.Scan(&m.ID, &m.AuthorID, &m.AuthorName, &m.Staff, &m.Body, &m.CreatedAt)
		return m, err
	})
}

// AdminIDs lists active administrators, who receive support requests.
func (q Q) AdminIDs(ctx context.Context) ([]int64, error) {
	rows, err := q.q.Query(ctx, `SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list administrators: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
