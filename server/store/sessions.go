package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// SessionRow is a stored session; the token itself is never stored.
type SessionRow struct {
	ID         int64
	UserID     int64
	Scope      string
	DeviceID   string
	DeviceName string
	IP         string
	CreatedAt  time.Time
	LastSeen   time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
}

// NewSession is what InsertSession stores.
type NewSession struct {
	UserID                              int64
	TokenHash                           []byte
	Scope, DeviceID, DeviceName, IP, UA string
	ExpiresAt                           time.Time
}

// InsertSession stores a new session.
func (t *Tx) InsertSession(ctx context.Context, s NewSession) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO sessions (user_id, token_hash, scope, device_id, device_name, ip, user_agent, created_at, last_seen_at, expires_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8,$9) RETURNING id`,
		s.UserID, s.TokenHash, s.Scope, s.DeviceID, s.DeviceName, s.IP, s.UA, t.now, s.ExpiresAt).Scan(&id)
	return id, mapErr(err, "insert session")
}

const sessionCols = `id, user_id, scope, device_id, device_name, ip, created_at, last_seen_at, expires_at, revoked_at`

func scanSession(row pgx.Row) (*SessionRow, error) {
	var s SessionRow
	err := row.Scan(&s.ID, &s.UserID, &s.Scope, &s.DeviceID, &s.DeviceName, &s.IP, &s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &s.RevokedAt)
	return &s, err
}

// SessionByTokenHash finds a session by its token hash.
func (q Q) SessionByTokenHash(ctx context.Context, hash []byte) (*SessionRow, error) {
	s, err := scanSession(q.q.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE token_hash = $1`, hash))
	return s, mapErr(err, "session by token")
}

// SessionByID finds a session.
func (q Q) SessionByID(ctx context.Context, id int64) (*SessionRow, error) {
	s, err := scanSession(q.q.QueryRow(ctx, `SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
	return s, mapErr(err, "session by id")
}

// TouchSession moves last_seen forward; callers throttle it.
func (q Q) TouchSession(ctx context.Context, id int64, at time.Time) error {
	_, err := q.q.Exec(ctx, `UPDATE sessions SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1`, id, at)
	return mapErr(err, "touch session")
}

// SetSessionScope upgrades an enrolment session after 2FA is confirmed.
func (t *Tx) SetSessionScope(ctx context.Context, id int64, scope string) error {
	_, err := t.q.Exec(ctx, `UPDATE sessions SET scope = $2 WHERE id = $1`, id, scope)
	return mapErr(err, "set session scope")
}

// RevokeSession ends one session; it reports whether it was active.
func (t *Tx) RevokeSession(ctx context.Context, id int64) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`, id, t.now)
	if err != nil {
		return false, mapErr(err, "revoke session")
	}
	return tag.RowsAffected() == 1, nil
}

// RevokeUserSessions ends every active session of a user except keepID,
// returning the ids ended.
func (t *Tx) RevokeUserSessions(ctx context.Context, userID, keepID int64) ([]int64, error) {
	rows, err := t.q.Query(ctx, `UPDATE sessions SET revoked_at = $3
		WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL RETURNING id`, userID, keepID, t.now)
	if err != nil {
		return nil, mapErr(err, "revoke user sessions")
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// ActiveSessions lists a user's live sessions.
func (q Q) ActiveSessions(ctx context.Context, userID int64, now time.Time, idle time.Duration) ([]wire.Session, error) {
	rows, err := q.q.Query(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at > $3
		ORDER BY last_seen_at DESC`, userID, now, now.Add(-idle))
	if err != nil {
		return nil, mapErr(err, "list sessions")
	}
	defer rows.Close()
	var out []wire.Session
	for rows.Next() {
		s, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("scan session: %w", err)
		}
		out = append(out, wire.Session{ID: s.ID, Device: s.DeviceName, IP: s.IP, CreatedAt: s.CreatedAt, LastSeen: s.LastSeen, ExpiresAt: s.ExpiresAt})
	}
	return out, rows.Err()
}

// LoginRecord is one login attempt.
type LoginRecord struct {
	UserID                               int64
	IP, DeviceID, DeviceName, UA, Reason string
	Success, NewDevice                   bool
}

// InsertLogin appends to login history.
func (t *Tx) InsertLogin(ctx context.Context, r LoginRecord) error {
	_, err := t.q.Exec(ctx, `INSERT INTO login_history (user_id, at, ip, device_id, device_name, user_agent, success, reason, new_device)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, nullID(r.UserID), t.now, r.IP, r.DeviceID, r.DeviceName, r.UA, r.Success, r.Reason, r.NewDevice)
	return mapErr(err, "insert login")
}

// KnownDevice reports whether the user has signed in successfully from this
// device id before.
func (q Q) KnownDevice(ctx context.Context, userID int64, deviceID string) (bool, error) {
	var known bool
	err := q.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM login_history WHERE user_id = $1 AND device_id = $2 AND success)`, userID, deviceID).Scan(&known)
	return known, mapErr(err, "known device")
}

// LoginHistory lists a user's recent attempts, newest first.
func (q Q) LoginHistory(ctx context.Context, userID int64, limit int) ([]wire.LoginEvent, error) {
	rows, err := q.q.Query(ctx, `SELECT at, ip, device_name, success, new_device FROM login_history
		WHERE user_id = $1 ORDER BY id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, mapErr(err, "login history")
	}
	defer rows.Close()
	var out []wire.LoginEvent
	for rows.Next() {
		var e wire.LoginEvent
		if err := rows.Scan(&e.At, &e.IP, &e.Device, &e.Success, &e.NewDev); err != nil {
			return nil, fmt.Errorf("scan login: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
