package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// AuditEntry is one row of the audit journal.
type AuditEntry struct {
	ID         int64
	At         time.Time
	ActorID    int64
	ActorLogin string
	IP         string
	Device     string // the device of the session (name and id), or of the sign-in
	Action     string // e.g. "login", "login_failed", "status_change", "user_add"
	ObjectType string
	ObjectID   string
	Details    map[string]any
	// AppID is the application the row concerns, derived from the object
	// (type "application") or the "app" field of Details; 0 for none.
	// It is read back from the journal, never set by writers.
	AppID    int64
	details  string
	PrevHash []byte
	Hash     []byte
}

// AuditOrigin is the authenticated caller a request runs for. Service
// commands write audit rows with the actor's id, login and IP; the device
// is filled in from here (and the login and IP where a writer left them
// empty), so every row of the caller's own actions says where it came from.
type AuditOrigin struct {
	ActorID int64
	Login   string
	IP      string
	Device  string
}

type auditOriginKey struct{}

// WithAuditOrigin attaches the caller of a request to ctx.
func WithAuditOrigin(ctx context.Context, o AuditOrigin) context.Context {
	return WithAuditOriginFunc(ctx, func() (AuditOrigin, bool) { return o, true })
}

// WithAuditOriginFunc attaches a caller known only later: the HTTP layer
// marks every request before it knows whether it will authenticate.
func WithAuditOriginFunc(ctx context.Context, f func() (AuditOrigin, bool)) context.Context {
	return context.WithValue(ctx, auditOriginKey{}, f)
}

// AuditOriginFrom returns the caller attached by WithAuditOrigin.
func AuditOriginFrom(ctx context.Context) (AuditOrigin, bool) {
	f, ok := ctx.Value(auditOriginKey{}).(func() (AuditOrigin, bool))
	if !ok {
		return AuditOrigin{}, false
	}
	return f()
}

// auditHash chains a row to its predecessor. The fields are joined with a
// separator that cannot occur in them unescaped (strconv.Quote), so two
// different rows never hash alike. The device was added later: it is
// hashed only when present, so rows written before it verify unchanged
// and a row with a device never hashes like one without.
func auditHash(prev []byte, at time.Time, actorID int64, login, ip, action, objType, objID, details, device string) []byte {
	h := sha256.New()
	h.Write(prev)
	fields := []string{at.UTC().Format(time.RFC3339Nano), strconv.FormatInt(actorID, 10), login, ip, action, objType, objID, details}
	if device != "" {
		fields = append(fields, "device", device)
	}
	for _, f := range fields {
		h.Write([]byte(strconv.Quote(f)))
		h.Write([]byte{'\n'})
	}
	return h.Sum(nil)
}

// auditAppID derives the application a row concerns from its hashed
// content, as the migration that added app_id did for older rows.
func auditAppID(objType, objID, details string) int64 {
	if objType == "application" {
		if id, err := strconv.ParseInt(objID, 10, 64); err == nil && id > 0 {
			return id
		}
	}
	if !strings.Contains(details, `"app"`) {
		return 0
	}
	var d struct {
		App json.RawMessage `json:"app"`
	}
	if json.Unmarshal([]byte(details), &d) != nil || len(d.App) == 0 {
		return 0
	}
	var f float64
	if json.Unmarshal(d.App, &f) != nil || f <= 0 || f > math.MaxInt64 {
		return 0
	}
	return int64(f)
}

func (t *Tx) flushAudit(ctx context.Context) error {
	if len(t.audits) == 0 {
		return nil
	}
	origin, hasOrigin := AuditOriginFrom(ctx)
	var lastID int64
	var prev []byte
	if err := t.q.QueryRow(ctx, `SELECT last_id, last_hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&lastID, &prev); err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	for _, a := range t.audits {
		if hasOrigin && origin.ActorID != 0 && a.ActorID == origin.ActorID {
			a.Device = orDefault(a.Device, origin.Device)
			a.IP = orDefault(a.IP, origin.IP)
			a.ActorLogin = orDefault(a.ActorLogin, origin.Login)
		}
		details := "{}"
		if len(a.Details) > 0 {
			b, err := json.Marshal(a.Details)
			if err != nil {
				return fmt.Errorf("encode audit details: %w", err)
			}
			details = string(b)
		}
		appID := auditAppID(a.ObjectType, a.ObjectID, details)
		hash := auditHash(prev, t.now, a.ActorID, a.ActorLogin, a.IP, a.Action, a.ObjectType, a.ObjectID, details, a.Device)
		if err := t.q.QueryRow(ctx, `INSERT INTO audit_log
			(at, actor_id, actor_login, ip, action, object_type, object_id, details, device, app_id, prev_hash, hash)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) RETURNING id`,
			t.now, nullID(a.ActorID), a.ActorLogin, a.IP, a.Action, a.ObjectType, a.ObjectID, details, a.Device, nullID(appID),
			prev, hash).Scan(&lastID); err != nil {
			return fmt.Errorf("append audit: %w", err)
		}
		prev = hash
	}
	if _, err := t.q.Exec(ctx, `UPDATE audit_head SET last_id = $1, last_hash = $2 WHERE id = 1`, lastID, prev); err != nil {
		return fmt.Errorf("advance audit head: %w", err)
	}
	return nil
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
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
		object_type, object_id, details, device, coalesce(app_id,0), prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return 0, nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	prev := []byte{}
	var lastID int64
	for rows.Next() {
		var a AuditEntry
		if err := rows.Scan(&a.ID, &a.At, &a.ActorID, &a.ActorLogin, &a.IP, &a.Action,
			&a.ObjectType, &a.ObjectID, &a.details, &a.Device, &a.AppID, &a.PrevHash, &a.Hash); err != nil {
			return rowsChecked, problems, fmt.Errorf("scan audit row: %w", err)
		}
		rowsChecked++
		if !bytes.Equal(a.PrevHash, prev) {
			problems = append(problems, AuditProblem{a.ID, "previous hash does not match: a row before it was deleted or changed"})
		}
		want := auditHash(a.PrevHash, a.At, a.ActorID, a.ActorLogin, a.IP, a.Action, a.ObjectType, a.ObjectID, a.details, a.Device)
		switch {
		case !bytes.Equal(want, a.Hash):
			problems = append(problems, AuditProblem{a.ID, "content does not match its hash: the row was edited"})
		case a.AppID != auditAppID(a.ObjectType, a.ObjectID, a.details):
			problems = append(problems, AuditProblem{a.ID, "application id does not match the row's object: the row was edited"})
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

const auditCols = `id, at, coalesce(actor_id,0), actor_login, ip, device, action, object_type, object_id, coalesce(app_id,0), details`

func scanAudit(rows interface{ Scan(...any) error }) (AuditEntry, error) {
	var a AuditEntry
	if err := rows.Scan(&a.ID, &a.At, &a.ActorID, &a.ActorLogin, &a.IP, &a.Device, &a.Action,
		&a.ObjectType, &a.ObjectID, &a.AppID, &a.details); err != nil {
		return a, fmt.Errorf("scan audit row: %w", err)
	}
	a.At = a.At.UTC()
	// details was written by json.Marshal of a map: it always decodes.
	_ = json.Unmarshal([]byte(a.details), &a.Details)
	return a, nil
}

// AuditFor lists journal rows, newest first; actorID 0 means everyone.
func (q Q) AuditFor(ctx context.Context, actorID int64, limit int) ([]AuditEntry, error) {
	return q.AuditList(ctx, AuditScope{All: actorID == 0, ActorID: actorID}, wire.AuditQuery{Limit: limit})
}

// AuditScope is the part of the journal a caller may read: everything
// (All), or the rows of ActorID plus, with Applications, the rows about
// applications that have left the draft stage.
type AuditScope struct {
	All          bool
	ActorID      int64
	Applications bool
}

// AuditList reads one page of the journal within scope, filtered by f,
// newest first (f.Before is the id cursor, f.Limit the page size).
func (q Q) AuditList(ctx context.Context, scope AuditScope, f wire.AuditQuery) ([]AuditEntry, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if !scope.All {
		own := "actor_id = " + arg(scope.ActorID)
		if scope.Applications {
			// A draft belongs to its organisation alone (canSee).
			own = "(" + own + ` OR (app_id IS NOT NULL AND EXISTS (SELECT 1 FROM applications ap
				WHERE ap.id = audit_log.app_id AND ap.status <> 'draft')))`
		}
		where = append(where, own)
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(f.To))
	}
	if f.ActorID != 0 {
		where = append(where, "actor_id = "+arg(f.ActorID))
	}
	if f.ActorLogin != "" {
		where = append(where, "lower(actor_login) = lower("+arg(f.ActorLogin)+")")
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.ObjectType != "" {
		where = append(where, "object_type = "+arg(f.ObjectType))
	}
	if f.ObjectID != "" {
		where = append(where, "object_id = "+arg(f.ObjectID))
	}
	if f.AppID != 0 {
		where = append(where, "app_id = "+arg(f.AppID))
	}
	if t := strings.TrimSpace(f.Text); t != "" {
		p := arg("%" + likeEscape(t) + "%")
		// One ILIKE over the joined text: a seventh of the work of one per
		// column (BenchmarkAuditList).
		where = append(where, "concat_ws(' ', actor_login, action, object_type, object_id, ip, device, details) ILIKE "+p)
	}
	if f.Before > 0 {
		where = append(where, "id < "+arg(f.Before))
	}
	limit := f.Limit
	if limit <= 0 {
		limit = wire.DefaultAuditLimit
	}
	sql := `SELECT ` + auditCols + ` FROM audit_log`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY id DESC LIMIT " + arg(limit)
	rows, err := q.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		a, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// likeEscape escapes the LIKE wildcards of a user's search text.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// appOfObject is how the application of a served file is found, by the
// object type its download is audited under.
var appOfObject = map[string]string{
	"document_version":  `SELECT d.app_id FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE v.id = $1`,
	"remark_notice":     `SELECT app_id FROM remark_notices WHERE id = $1`,
	"contract_document": `SELECT app_id FROM contract_documents WHERE id = $1`,
}

// AppOfObject returns the application an object belongs to, 0 when the
// type has none or the row is gone.
func (q Q) AppOfObject(ctx context.Context, objType string, id int64) (int64, error) {
	if objType == "application" {
		return id, nil
	}
	sql, ok := appOfObject[objType]
	if !ok {
		return 0, nil
	}
	var appID int64
	err := q.q.QueryRow(ctx, sql, id).Scan(&appID)
	if err != nil && wire.ErrorCode(mapErr(err, "")) == wire.CodeNotFound {
		return 0, nil
	}
	return appID, mapErr(err, "application of "+objType)
}
