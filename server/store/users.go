package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// UserRow is a user with the secrets the service needs; never sent out.
type UserRow struct {
	wire.User
	PasswordHash string
	TOTPSecret   string
	TOTPLastStep int64
	FailedLogins int
	LockedUntil  *time.Time
	OrgIDs       []int64
}

const userCols = `u.id, u.login, u.full_name, u.email, u.phone, u.role, u.totp_enabled, u.disabled,
	u.version, u.created_at, u.password_hash, u.totp_secret, u.totp_last_step, u.failed_logins,
	u.locked_until, coalesce((SELECT array_agg(m.org_id ORDER BY m.org_id) FROM memberships m WHERE m.user_id = u.id), '{}')`

func scanUser(row pgx.Row) (*UserRow, error) {
	var u UserRow
	var role string
	err := row.Scan(&u.ID, &u.Login, &u.FullName, &u.Email, &u.Phone, &role, &u.TOTPEnabled, &u.Disabled,
		&u.Version, &u.CreatedAt, &u.PasswordHash, &u.TOTPSecret, &u.TOTPLastStep, &u.FailedLogins,
		&u.LockedUntil, &u.OrgIDs)
	if err != nil {
		return nil, err
	}
	u.Role = wire.Role(role)
	if len(u.OrgIDs) > 0 {
		u.OrgID = u.OrgIDs[0]
	}
	return &u, nil
}

// UserByLogin finds a user by login, case-insensitively.
func (q Q) UserByLogin(ctx context.Context, login string) (*UserRow, error) {
	u, err := scanUser(q.q.QueryRow(ctx, `SELECT `+userCols+` FROM users u WHERE lower(u.login) = lower($1)`, login))
	return u, mapErr(err, "user by login")
}

// UserByID finds a user.
func (q Q) UserByID(ctx context.Context, id int64) (*UserRow, error) {
	u, err := scanUser(q.q.QueryRow(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = $1`, id))
	return u, mapErr(err, "user by id")
}

// UserByIDForUpdate locks the user row for the rest of the transaction.
func (t *Tx) UserByIDForUpdate(ctx context.Context, id int64) (*UserRow, error) {
	u, err := scanUser(t.q.QueryRow(ctx, `SELECT `+userCols+` FROM users u WHERE u.id = $1 FOR UPDATE`, id))
	return u, mapErr(err, "lock user")
}

// ListUsers lists users, optionally of one role.
func (q Q) ListUsers(ctx context.Context, role wire.Role) ([]wire.User, error) {
	rows, err := q.q.Query(ctx, `SELECT `+userCols+` FROM users u WHERE ($1 = '' OR u.role = $1) ORDER BY u.full_name, u.id`, string(role))
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []wire.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		out = append(out, u.User)
	}
	return out, rows.Err()
}

// NewUser is what InsertUser stores.
type NewUser struct {
	Login, FullName, Email, Phone string
	Role                          wire.Role
	PasswordHash                  string
	TOTPSecret                    string
	TOTPEnabled                   bool
}

// InsertUser creates a user; a taken login is a Conflict.
func (t *Tx) InsertUser(ctx context.Context, u NewUser) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO users (login, full_name, email, phone, role, password_hash, totp_secret, totp_enabled, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9) RETURNING id`,
		u.Login, u.FullName, u.Email, u.Phone, string(u.Role), u.PasswordHash, u.TOTPSecret, u.TOTPEnabled, t.now).Scan(&id)
	if IsUniqueViolation(err, "users_login_key") {
		return 0, wire.E(wire.CodeConflict, "login", "Этот логин уже занят — выберите другой", "This login is taken — choose another")
	}
	return id, mapErr(err, "insert user")
}

// AddMembership makes a user a member of an organisation.
func (t *Tx) AddMembership(ctx context.Context, userID, orgID int64) error {
	_, err := t.q.Exec(ctx, `INSERT INTO memberships (user_id, org_id, created_at) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`, userID, orgID, t.now)
	return mapErr(err, "add membership")
}

// ResetLoginFailures clears the counter and lock after a good login.
func (t *Tx) ResetLoginFailures(ctx context.Context, userID int64) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, userID)
	return mapErr(err, "reset login failures")
}

// SetTOTPLastStep records the last accepted TOTP step so a code works once.
func (t *Tx) SetTOTPLastStep(ctx context.Context, userID, step int64) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET totp_last_step = $2 WHERE id = $1`, userID, step)
	return mapErr(err, "set totp step")
}

// SetTOTPSecret stores a pending (not yet enabled) secret.
func (t *Tx) SetTOTPSecret(ctx context.Context, userID int64, secret string) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET totp_secret = $2, totp_enabled = false, totp_last_step = 0,
		version = version + 1, updated_at = $3 WHERE id = $1`, userID, secret, t.now)
	return mapErr(err, "set totp secret")
}

// EnableTOTP turns 2FA on after a confirmed code.
func (t *Tx) EnableTOTP(ctx context.Context, userID, step int64) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET totp_enabled = true, totp_last_step = $2,
		version = version + 1, updated_at = $3 WHERE id = $1`, userID, step, t.now)
	return mapErr(err, "enable totp")
}

// SetPassword replaces a password hash.
func (t *Tx) SetPassword(ctx context.Context, userID int64, hash string) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET password_hash = $2, version = version + 1, updated_at = $3 WHERE id = $1`, userID, hash, t.now)
	return mapErr(err, "set password")
}

// SetDisabled disables or enables a user.
func (t *Tx) SetDisabled(ctx context.Context, userID int64, disabled bool) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET disabled = $2, version = version + 1, updated_at = $3 WHERE id = $1`, userID, disabled, t.now)
	return mapErr(err, "set disabled")
}

// ManagerIDs lists active managers, who are notified of every application.
func (q Q) ManagerIDs(ctx context.Context) ([]int64, error) {
	rows, err := q.q.Query(ctx, `SELECT id FROM users WHERE role = 'manager' AND NOT disabled ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list managers: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// OrgMemberIDs lists active members of an organisation.
func (q Q) OrgMemberIDs(ctx context.Context, orgID int64) ([]int64, error) {
	rows, err := q.q.Query(ctx, `SELECT u.id FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = $1 AND NOT u.disabled ORDER BY u.id`, orgID)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// SetLoginFailures writes the failed-login counter and lock.
func (t *Tx) SetLoginFailures(ctx context.Context, userID int64, count int, lockedUntil *time.Time) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1`, userID, count, lockedUntil)
	return mapErr(err, "set login failures")
}

// CountSuccessfulLogins counts a user's successful sign-ins.
func (q Q) CountSuccessfulLogins(ctx context.Context, userID int64) (int, error) {
	var n int
	err := q.q.QueryRow(ctx, `SELECT count(*) FROM login_history WHERE user_id = $1 AND success`, userID).Scan(&n)
	return n, mapErr(err, "count logins")
}
