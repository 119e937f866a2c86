package store

import "context"

// Permission changes an administrator makes (service/audit_permissions.go);
// each is audited by the service in the same transaction.

// SetUserRole changes a user's role.
func (t *Tx) SetUserRole(ctx context.Context, userID int64, role string) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET role = $2, version = version + 1, updated_at = $3 WHERE id = $1`, userID, role, t.now)
	return mapErr(err, "set role")
}

// ResetTOTP removes a user's second factor; their next sign-in enrols a
// new one.
func (t *Tx) ResetTOTP(ctx context.Context, userID int64) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET totp_secret = '', totp_enabled = false, totp_last_step = 0,
		version = version + 1, updated_at = $2 WHERE id = $1`, userID, t.now)
	return mapErr(err, "reset totp")
}
