package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// InsertMessage stores a chat message and returns it as stored.
func (t *Tx) InsertMessage(ctx context.Context, m wire.Message) (wire.Message, error) {
	if m.Attachments == nil {
		m.Attachments = []string{}
	}
	m.CreatedAt = t.now
	err := t.q.QueryRow(ctx, `INSERT INTO messages (app_id, channel, author_id, body, attachments, created_at)
		VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`, m.AppID, string(m.Channel), m.AuthorID, m.Body, m.Attachments, t.now).Scan(&m.ID)
	return m, mapErr(err, "insert message")
}

// Messages lists a channel's messages after afterID, oldest first.
func (q Q) Messages(ctx context.Context, appID int64, ch wire.Channel, afterID int64, limit int) ([]wire.Message, error) {
	rows, err := q.q.Query(ctx, `SELECT `+messageColumns+`
		FROM messages m JOIN users u ON u.id = m.author_id
		WHERE m.app_id = $1 AND m.channel = $2 AND m.id > $3 ORDER BY m.id LIMIT $4`, appID, string(ch), afterID, limit)
	if err != nil {
		return nil, mapErr(err, "messages")
	}
	defer rows.Close()
	var out []wire.Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// messageColumns are a message with its author's name and its files (as
// linked in message_files, in order), for scanMessage.
const messageColumns = `m.id, m.app_id, m.channel, m.author_id, u.full_name, m.body, m.attachments, m.created_at,
	coalesce((SELECT json_agg(json_build_object('sha256', v.sha256, 'file_name', v.file_name, 'size', v.size) ORDER BY f.position)
		FROM message_files f JOIN document_versions v ON v.id = f.version_id WHERE f.message_id = m.id), '[]')`

func scanMessage(row pgx.Row) (wire.Message, error) {
	var m wire.Message
	var ch string
	if err := row.Scan(&m.ID, &m.AppID, &ch, &m.AuthorID, &m.AuthorName, &m.Body, &m.Attachments, &m.CreatedAt, &m.Files); err != nil {
		return wire.Message{}, mapErr(err, "scan message")
	}
	m.Channel = wire.Channel(ch)
	if len(m.Files) == 0 {
		m.Files = nil // omitted on the wire, as before attachments existed
	}
	return m, nil
}

// Message reads one message of an application with its files.
func (q Q) Message(ctx context.Context, appID, id int64) (wire.Message, error) {
	return scanMessage(q.q.QueryRow(ctx, `SELECT `+messageColumns+`
		FROM messages m JOIN users u ON u.id = m.author_id WHERE m.app_id = $1 AND m.id = $2`, appID, id))
}

// ChatFile is a finished chat upload that may be attached to a message.
type ChatFile struct {
	VersionID int64
	wire.Attachment
}

// AttachableChatFile finds the chat upload of an application with this
// SHA-256 that userID may attach: one they uploaded themselves (their
// newest), or one already attached to a message in a channel they may read
// (forwarding). Any other upload, of this or another application, is
// NotFound, so a caller learns nothing about files they cannot reach.
func (q Q) AttachableChatFile(ctx context.Context, appID, userID int64, sha string, channels []wire.Channel) (ChatFile, error) {
	chs := make([]string, len(channels))
	for i, c := range channels {
		chs[i] = string(c)
	}
	var f ChatFile
	err := q.q.QueryRow(ctx, `SELECT v.id, v.sha256, v.file_name, v.size
		FROM document_versions v JOIN documents d ON d.id = v.document_id
		WHERE d.app_id = $1 AND d.section = 'chat' AND v.sha256 = $3
		  AND (v.uploaded_by = $2 OR EXISTS (SELECT 1 FROM message_files mf JOIN messages m ON m.id = mf.message_id
		       WHERE mf.version_id = v.id AND m.app_id = $1 AND m.channel = ANY($4)))
		ORDER BY (v.uploaded_by = $2) DESC, v.id DESC LIMIT 1`, appID, userID, sha, chs).
		Scan(&f.VersionID, &f.SHA256, &f.FileName, &f.Size)
	return f, mapErr(err, "chat file")
}

// AttachFiles links a message to the versions of its files, in order.
func (t *Tx) AttachFiles(ctx context.Context, messageID int64, versionIDs []int64) error {
	_, err := t.q.Exec(ctx, `INSERT INTO message_files (message_id, position, version_id)
		SELECT $1, (v.ord - 1)::integer, v.id FROM unnest($2::bigint[]) WITH ORDINALITY AS v(id, ord)`, messageID, versionIDs)
	return mapErr(err, "attach files")
}

// MaxMessageID is the newest message id of a channel (0 if empty).
func (q Q) MaxMessageID(ctx context.Context, appID int64, ch wire.Channel) (int64, error) {
	var id int64
	err := q.q.QueryRow(ctx, `SELECT coalesce(max(id),0) FROM messages WHERE app_id = $1 AND channel = $2`, appID, string(ch)).Scan(&id)
	return id, mapErr(err, "max message id")
}

// SetReadMark moves a read mark forward only.
func (t *Tx) SetReadMark(ctx context.Context, userID int64, r wire.ReadMark) (int64, error) {
	var last int64
	err := t.q.QueryRow(ctx, `INSERT INTO message_reads (user_id, app_id, channel, last_read_id) VALUES ($1,$2,$3,$4)
		ON CONFLICT (user_id, app_id, channel) DO UPDATE SET last_read_id = greatest(message_reads.last_read_id, $4)
		RETURNING last_read_id`, userID, r.AppID, string(r.Channel), r.LastReadID).Scan(&last)
	return last, mapErr(err, "set read mark")
}

// ReadMarks lists a user's read marks for an application.
func (q Q) ReadMarks(ctx context.Context, userID, appID int64) ([]wire.ReadMark, error) {
	rows, err := q.q.Query(ctx, `SELECT app_id, channel, last_read_id FROM message_reads WHERE user_id = $1 AND app_id = $2 ORDER BY channel`, userID, appID)
	if err != nil {
		return nil, mapErr(err, "read marks")
	}
	defer rows.Close()
	var out []wire.ReadMark
	for rows.Next() {
		var r wire.ReadMark
		var ch string
		if err := rows.Scan(&r.AppID, &ch, &r.LastReadID); err != nil {
			return nil, fmt.Errorf("scan read mark: %w", err)
		}
		r.Channel = wire.Channel(ch)
		out = append(out, r)
	}
	return out, rows.Err()
}

// InsertNotification stores one notification row.
func (t *Tx) InsertNotification(ctx context.Context, userID int64, n wire.Notification) (wire.Notification, error) {
	n.CreatedAt = t.now
	err := t.q.QueryRow(ctx, `INSERT INTO notifications (user_id, kind, app_id, title, body, created_at)
		VALUES ($1,$2,$3,$4,$5,$6) RETURNING id`, userID, string(n.Kind), nullID(n.AppID), n.Title, n.Body, t.now).Scan(&n.ID)
	return n, mapErr(err, "insert notification")
}

// Notifications lists a user's feed, newest first.
func (q Q) Notifications(ctx context.Context, userID int64, limit int) ([]wire.Notification, error) {
	rows, err := q.q.Query(ctx, `SELECT id, kind, coalesce(app_id,0), title, body, read_at IS NOT NULL, created_at
		FROM notifications WHERE user_id = $1 ORDER BY id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, mapErr(err, "notifications")
	}
	defer rows.Close()
	var out []wire.Notification
	for rows.Next() {
		var n wire.Notification
		var kind string
		if err := rows.Scan(&n.ID, &kind, &n.AppID, &n.Title, &n.Body, &n.Read, &n.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan notification: %w", err)
		}
		n.Kind = wire.NotificationKind(kind)
		out = append(out, n)
	}
	return out, rows.Err()
}

// MarkNotificationsRead marks the user's notifications read and returns
// the ids that changed.
func (t *Tx) MarkNotificationsRead(ctx context.Context, userID int64, ids []int64, upTo int64) ([]int64, error) {
	rows, err := t.q.Query(ctx, `UPDATE notifications SET read_at = $4
		WHERE user_id = $1 AND read_at IS NULL AND (id = ANY($2) OR id <= $3) RETURNING id`, userID, ids, upTo, t.now)
	if err != nil {
		return nil, mapErr(err, "mark notifications read")
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// Preferences reads a user's stored preferences (kinds without a row use
// defaults chosen by the service).
func (q Q) Preferences(ctx context.Context, userID int64) (map[wire.NotificationKind]wire.Preference, error) {
	rows, err := q.q.Query(ctx, `SELECT kind, in_app, desktop, email, email_mode FROM notification_prefs WHERE user_id = $1`, userID)
	if err != nil {
		return nil, mapErr(err, "preferences")
	}
	defer rows.Close()
	out := map[wire.NotificationKind]wire.Preference{}
	for rows.Next() {
		var p wire.Preference
		var kind, mode string
		if err := rows.Scan(&kind, &p.InApp, &p.Desktop, &p.Email, &mode); err != nil {
			return nil, fmt.Errorf("scan preference: %w", err)
		}
		p.Kind, p.EmailMode = wire.NotificationKind(kind), wire.EmailMode(mode)
		out[p.Kind] = p
	}
	return out, rows.Err()
}

// SetPreference stores one preference.
func (t *Tx) SetPreference(ctx context.Context, userID int64, p wire.Preference) error {
	_, err := t.q.Exec(ctx, `INSERT INTO notification_prefs (user_id, kind, in_app, desktop, email, email_mode)
		VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (user_id, kind) DO UPDATE
		SET in_app = $3, desktop = $4, email = $5, email_mode = $6, version = notification_prefs.version + 1`,
		userID, string(p.Kind), p.InApp, p.Desktop, p.Email, string(p.EmailMode))
	return mapErr(err, "set preference")
}

// Idempotent is a stored command outcome.
type Idempotent struct {
	Found       bool
	RequestHash []byte
	Status      int
	Response    []byte
}

// ClaimIdempotencyKey inserts the key for this transaction. When the key
// exists already (committed by an earlier attempt; a concurrent attempt
// blocks here until that one ends) it returns the stored outcome instead.
func (t *Tx) ClaimIdempotencyKey(ctx context.Context, userID int64, key string, reqHash []byte) (Idempotent, error) {
	tag, err := t.q.Exec(ctx, `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT DO NOTHING`, userID, key, reqHash, t.now)
	if err != nil {
		return Idempotent{}, mapErr(err, "claim idempotency key")
	}
	if tag.RowsAffected() == 1 {
		return Idempotent{}, nil
	}
	var out Idempotent
	out.Found = true
	err = t.q.QueryRow(ctx, `SELECT request_hash, status, coalesce(response, ''::bytea) FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
		userID, key).Scan(&out.RequestHash, &out.Status, &out.Response)
	return out, mapErr(err, "read idempotency key")
}

// StoreIdempotentResponse records the outcome under the claimed key.
func (t *Tx) StoreIdempotentResponse(ctx context.Context, userID int64, key string, status int, response []byte) error {
	_, err := t.q.Exec(ctx, `UPDATE idempotency_keys SET status = $3, response = $4 WHERE user_id = $1 AND key = $2`,
		userID, key, status, response)
	return mapErr(err, "store idempotent response")
}

// PruneIdempotencyKeys deletes keys older than the retention.
func (q Q) PruneIdempotencyKeys(ctx context.Context, before time.Time) (int64, error) {
	tag, err := q.q.Exec(ctx, `DELETE FROM idempotency_keys WHERE created_at < $1`, before)
	return tag.RowsAffected(), mapErr(err, "prune idempotency keys")
}
