package store

import (
	"context"
	"fmt"
)

// PersonalDataRow is a user's personal data as stored: ciphertexts, nil
// when not given. Only the service's key ring can read them.
type PersonalDataRow struct {
	UserID   int64
	SNILS    []byte
	Passport []byte
}

// PersonalData reads a user's encrypted personal data.
func (q Q) PersonalData(ctx context.Context, userID int64) (PersonalDataRow, error) {
	r := PersonalDataRow{UserID: userID}
	err := q.q.QueryRow(ctx, `SELECT snils_enc, passport_enc FROM users WHERE id = $1`, userID).Scan(&r.SNILS, &r.Passport)
	return r, mapErr(err, "read personal data")
}

// PersonalDataForUpdate reads and locks a user's encrypted personal data.
func (t *Tx) PersonalDataForUpdate(ctx context.Context, userID int64) (PersonalDataRow, error) {
	r := PersonalDataRow{UserID: userID}
	err := t.q.QueryRow(ctx, `SELECT snils_enc, passport_enc FROM users WHERE id = $1 FOR UPDATE`, userID).Scan(&r.SNILS, &r.Passport)
	return r, mapErr(err, "lock personal data")
}

// SetPersonalData stores a user's encrypted personal data (nil clears a
// value). The user's version stays: personal data is not part of the
// wire.User clients hold, so no command about the user goes stale.
func (t *Tx) SetPersonalData(ctx context.Context, r PersonalDataRow) error {
	_, err := t.q.Exec(ctx, `UPDATE users SET snils_enc = $2, passport_enc = $3, updated_at = $4 WHERE id = $1`,
		r.UserID, r.SNILS, r.Passport, t.now)
	return mapErr(err, "set personal data")
}

// PersonalDataRows lists every user's stored personal data, for re-encryption
// under a new key.
func (q Q) PersonalDataRows(ctx context.Context) ([]PersonalDataRow, error) {
	rows, err := q.q.Query(ctx, `SELECT id, snils_enc, passport_enc FROM users
		WHERE snils_enc IS NOT NULL OR passport_enc IS NOT NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list personal data: %w", err)
	}
	defer rows.Close()
	var out []PersonalDataRow
	for rows.Next() {
		var r PersonalDataRow
		if err := rows.Scan(&r.UserID, &r.SNILS, &r.Passport); err != nil {
			return nil, fmt.Errorf("scan personal data: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
