package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// AuditEntry is one row of the audit journal.
type AuditEntry struct {
	ID         int64
	At         time.Time
	ActorID    int64
	ActorLogin string
	IP         string
	Action     string // e.g. "login", "login_failed", "status_change", "user_add"
	ObjectType string
	ObjectID   string
	Details    map[string]any
	details    string
	PrevHash   []byte
	Hash       []byte
}

// auditHash chains a row to its predecessor. The fields are joined with a
// separator that cannot occur in them unescaped (strconv.Quote), so two
// different rows never hash alike.
func auditHash(prev []byte, at time.Time, actorID int64, login, ip, action, objType, objID, details string) []byte {
	h := sha256.New()
	h.Write(prev)
	for _, f := range []string{at.UTC().Format(time.RFC3339Nano), strconv.FormatInt(actorID, 10), login, ip, action, objType, objID, details} {
		h.Write([]byte(strconv.Quote(f)))
		h.Write([]byte{'\n'})
	}
	return h.Sum(nil)
}

func (t *Tx) flushAudit(ctx context.Context) error {
	if len(t.audits) == 0 {
		return nil
	}
	var lastID int64
	var prev []byte
	if err := t.q.QueryRow(ctx, `SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&lastID, &prev); err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	for _, a := range t.audits {
		details := "{}"
		if len(a.Details) > 0 {
			b, err := json.Marshal(a.Details)
			if err != nil {
				return fmt.Errorf("encode audit details: %w", err)
			}
			details = string(b)
		}
		hash := auditHash(prev, t.now, a.ActorID, a.ActorLogin, a.IP, a.Action, a.ObjectType, a.ObjectID, details)
		if err := t.q.QueryRow(ctx, `INSERT INTO audit_log
			(at, actor_id, actor_login, ip, action, object_type, object_id, details, prev_hash, hash)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`,
			t.now, nullID(a.ActorID), a.ActorLogin, a.IP, a.Action, a.ObjectType, a.ObjectID, details, prev, hash).Scan(&lastID); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		prev = hash
	}
	if _, err := t.q.Exec(ctx, `UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1`, lastID, prev); err != nil {
		return fmt.Errorf("advance audit head: %w", err)
	}
	return nil
}

// AuditProblem is one inconsistency found by VerifyAudit.
type AuditProblem struct {
	ID     int64
	Reason string
}

// VerifyAudit walks the whole journal and reports every row whose hash does
// not match its content or predecessor, and a head that does not match the
// last row (a deleted tail).
func (q Q) VerifyAudit(ctx context.Context) (rowsChecked int64, problems []AuditProblem, err error) {
	rows, err := q.q.Query(ctx, `SELECT id, at, coalesce(actor_id,0), actor_login, ip, action,
		object_type, object_id, details, prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	prev := []byte{}
	var lastID int64
	for rows.Next() {
		var a AuditEntry
		if err := rows.Scan(&a.ID, &a.At, &a.ActorID, &a.ActorLogin, &a.IP, &a.Action,
			&a.ObjectType, &a.ObjectID, &a.details, &a.PrevHash, &a.Hash); err != nil {
			return rowsChecked, problems, fmt.Errorf("scan audit row: %w", err)
		}
		rowsChecked++
		if !bytes.Equal(a.PrevHash, prev) {
			problems = append(problems, AuditProblem{a.ID, "previous hash does not match: a row before it was deleted or changed"})
		}
		want := auditHash(a.PrevHash, a.At, a.ActorID, a.ActorLogin, a.IP, a.Action, a.ObjectType, a.ObjectID, a.details)
		if !bytes.Equal(want, a.Hash) {
			problems = append(problems, AuditProblem{a.ID, "content does not match its hash: the row was edited"})
		}
		prev = a.Hash
		lastID = a.ID
	}
	if err := rows.Err(); err != nil {
		return rowsChecked, problems, fmt.Errorf("read audit log: %w", err)
	}
	var headID int64
	var headHash []byte
	if err := q.q.QueryRow(ctx, `SELECT last_id, last_hash FROM audit_head WHERE id = 1`).Scan(&headID, &headHash); err != nil {
		return rowsChecked, problems, fmt.Errorf("read audit head: %w", err)
	}
	if headID != lastID || !bytes.Equal(headHash, prev) {
		problems = append(problems, AuditProblem{headID, fmt.Sprintf("journal ends at row %d but the head records row %d: rows at the end were deleted", lastID, headID)})
	}
	return rowsChecked, problems, nil
}

// AuditFor lists journal rows, newest first; actorID 0 means everyone.
func (q Q) AuditFor(ctx context.Context, actorID int64, limit int) ([]AuditEntry, error) {
	rows, err := q.q.Query(ctx, `SELECT id, at, coalesce(actor_id,0), actor_login, ip, action,
		object_type, object_id, details FROM audit_log
		WHERE ($1 = 0 OR actor_id = $1) ORDER BY id DESC LIMIT $2`, actorID, limit)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var a AuditEntry
		if err := rows.Scan(&a.ID, &a.At, &a.ActorID, &a.ActorLogin, &a.IP, &a.Action,
			&a.ObjectType, &a.ObjectID, &a.details); err != nil {
			return nil, fmt.Errorf("scan audit row: %w", err)
		}
		_ = json.Unmarshal([]byte(a.details), &a.Details)
		out = append(out, a)
	}
	return out, rows.Err()
}
