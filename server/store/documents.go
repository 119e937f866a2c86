package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// UploadRow is a stored upload.
type UploadRow struct {
	wire.Upload
	UserID       int64
	Section      string
	Name         string
	SHA256       string
	SignsVersion int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// InsertUpload records a new upload.
func (t *Tx) InsertUpload(ctx context.Context, u UploadRow) error {
	_, err := t.q.Exec(ctx, `INSERT INTO uploads (id, user_id, app_id, section, name, file_name, size, sha256, chunk_size, signs_version, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$11)`, u.ID, u.UserID, u.AppID, u.Section, u.Name, u.FileName, u.Size, u.SHA256,
		u.ChunkSize, nullID(u.SignsVersion), t.now)
	return mapErr(err, "insert upload")
}

const uploadCols = `u.id, u.user_id, u.app_id, u.section, u.name, u.file_name, u.size, u.sha256, u.chunk_size,
	coalesce(u.signs_version,0), u.state, u.error, coalesce(u.result_version,0), u.created_at, u.updated_at,
	coalesce((SELECT array_agg(c.idx ORDER BY c.idx) FROM upload_chunks c WHERE c.upload_id = u.id), '{}')`

func scanUpload(row pgx.Row) (*UploadRow, error) {
	var u UploadRow
	err := row.Scan(&u.ID, &u.UserID, &u.AppID, &u.Section, &u.Name, &u.FileName, &u.Size, &u.SHA256, &u.ChunkSize,
		&u.SignsVersion, &u.State, &u.Error, &u.VersionID, &u.CreatedAt, &u.UpdatedAt, &u.Received)
	if err != nil {
		return nil, err
	}
	u.Chunks = int((u.Size + int64(u.ChunkSize) - 1) / int64(u.ChunkSize))
	return &u, nil
}

// Upload reads one upload with its acknowledged chunks.
func (q Q) Upload(ctx context.Context, id string) (*UploadRow, error) {
	u, err := scanUpload(q.q.QueryRow(ctx, `SELECT `+uploadCols+` FROM uploads u WHERE u.id = $1`, id))
	return u, mapErr(err, "upload")
}

// UploadForUpdate reads and locks one upload.
func (t *Tx) UploadForUpdate(ctx context.Context, id string) (*UploadRow, error) {
	u, err := scanUpload(t.q.QueryRow(ctx, `SELECT `+uploadCols+` FROM uploads u WHERE u.id = $1 FOR UPDATE`, id))
	return u, mapErr(err, "lock upload")
}

// AckChunk records a chunk as written and synced; it reports how many
// chunks are acknowledged now.
func (q Q) AckChunk(ctx context.Context, id string, idx, size int) (int, error) {
	var n int
	err := q.q.QueryRow(ctx, `WITH ins AS (INSERT INTO upload_chunks (upload_id, idx, size) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING RETURNING 1)
		SELECT count(*) + (SELECT count(*) FROM ins) FROM upload_chunks WHERE upload_id = $1`, id, idx, size).Scan(&n)
	if err != nil {
		return 0, mapErr(err, "ack chunk")
	}
	_, _ = q.q.Exec(ctx, `UPDATE uploads SET updated_at = now() WHERE id = $1`, id)
	return n, nil
}

// FinishUpload marks an upload done (with the version it became) or failed.
func (t *Tx) FinishUpload(ctx context.Context, id, state, errText string, versionID int64) error {
	_, err := t.q.Exec(ctx, `UPDATE uploads SET state = $2, error = $3, result_version = $4, updated_at = $5 WHERE id = $1`,
		id, state, errText, nullID(versionID), t.now)
	return mapErr(err, "finish upload")
}

// DeleteUpload forgets an upload and its chunk rows.
func (q Q) DeleteUpload(ctx context.Context, id string) error {
	_, err := q.q.Exec(ctx, `DELETE FROM uploads WHERE id = $1`, id)
	return mapErr(err, "delete upload")
}

// StaleUploads lists open uploads untouched since before.
func (q Q) StaleUploads(ctx context.Context, before time.Time) ([]string, error) {
	rows, err := q.q.Query(ctx, `SELECT id FROM uploads WHERE state = 'open' AND updated_at < $1`, before)
	if err != nil {
		return nil, mapErr(err, "stale uploads")
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// UsedBytes is what a user's quota counts: versions they uploaded plus
// uploads in progress.
func (q Q) UsedBytes(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := q.q.QueryRow(ctx, `SELECT coalesce((SELECT sum(size) FROM document_versions WHERE uploaded_by = $1),0)
		+ coalesce((SELECT sum(size) FROM uploads WHERE user_id = $1 AND state = 'open'),0)`, userID).Scan(&n)
	return n, mapErr(err, "used bytes")
}

// NewVersion is what InsertVersion stores.
type NewVersion struct {
	AppID      int64
	Section    string
	Name       string
	SHA256     string
	Size       int64
	FileName   string
	Kind       string
	Pages      int
	PageSizes  []wire.PageSize
	Encrypted  bool
	UploadedBy int64
}

// InsertVersion adds the next version of a logical file, creating the
// file on its first upload.
func (t *Tx) InsertVersion(ctx context.Context, v NewVersion) (docID, versionID int64, err error) {
	err = t.q.QueryRow(ctx, `INSERT INTO documents (app_id, section, name, created_by, created_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (app_id, section, name) DO UPDATE SET version = documents.version + 1 RETURNING id`,
		v.AppID, v.Section, v.Name, v.UploadedBy, t.now).Scan(&docID)
	if err != nil {
		return 0, 0, mapErr(err, "upsert document")
	}
	sizes, _ := json.Marshal(v.PageSizes)
	if v.PageSizes == nil {
		sizes = []byte("[]")
	}
	err = t.q.QueryRow(ctx, `INSERT INTO document_versions (document_id, number, sha256, size, file_name, kind, pages, page_sizes, encrypted, uploaded_by, uploaded_at)
		VALUES ($1, (SELECT coalesce(max(number),0)+1 FROM document_versions WHERE document_id = $1), $2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`,
		docID, v.SHA256, v.Size, v.FileName, v.Kind, v.Pages, sizes, v.Encrypted, v.UploadedBy, t.now).Scan(&versionID)
	return docID, versionID, mapErr(err, "insert version")
}

// InsertSignature keeps a detached signature beside a version.
func (t *Tx) InsertSignature(ctx context.Context, versionID int64, sha string, size int64, fileName string, report json.RawMessage, by int64) error {
	_, err := t.q.Exec(ctx, `INSERT INTO signatures (version_id, sha256, size, file_name, report, uploaded_by, uploaded_at) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
		versionID, sha, size, fileName, []byte(report), by, t.now)
	return mapErr(err, "insert signature")
}

// SetReview records a review verdict, checking the version.
func (t *Tx) SetReview(ctx context.Context, versionID, version int64, st wire.ReviewStatus, comment string, by int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE document_versions SET review_status = $3, review_comment = $4, reviewed_by = $5, reviewed_at = $6,
		version = version + 1 WHERE id = $1 AND version = $2`, versionID, version, string(st), comment, by, t.now)
	if err != nil {
		return mapErr(err, "set review")
	}
	if tag.RowsAffected() == 0 {
		var cur int64
		if err := t.q.QueryRow(ctx, `SELECT version FROM document_versions WHERE id = $1`, versionID).Scan(&cur); err != nil {
			return mapErr(err, "set review")
		}
		e := wire.E(wire.CodeConflict, "version", "Версия файла уже рассмотрена другим пользователем — обновите список", "The file version was reviewed by someone else — reload")
		e.Current = cur
		return e
	}
	return nil
}

// VersionRef locates a version: its application and logical file.
type VersionRef struct {
	AppID   int64
	DocID   int64
	Section string
	Name    string
	SHA256  string
	Size    int64
	File    string
	Version int64
}

// VersionRef reads where a version belongs.
func (q Q) VersionRef(ctx context.Context, versionID int64) (*VersionRef, error) {
	var r VersionRef
	err := q.q.QueryRow(ctx, `SELECT d.app_id, d.id, d.section, d.name, v.sha256, v.size, v.file_name, v.version
		FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE v.id = $1`, versionID).
		Scan(&r.AppID, &r.DocID, &r.Section, &r.Name, &r.SHA256, &r.Size, &r.File, &r.Version)
	return &r, mapErr(err, "version")
}

// Documents lists an application's files with every version, newest
// version first; docID 0 means all files.
func (q Q) Documents(ctx context.Context, appID, docID int64) ([]wire.Document, error) {
	rows, err := q.q.Query(ctx, `SELECT d.id, d.section, d.name, v.id, v.number, v.sha256, v.size, v.file_name, v.kind, v.pages,
		v.page_sizes, v.encrypted, v.uploaded_by, u.full_name, v.uploaded_at, v.review_status, v.review_comment,
		coalesce(v.reviewed_by,0), v.reviewed_at, v.version,
		coalesce((SELECT json_agg(json_build_object('id', s.id, 'sha256', s.sha256, 'file_name', s.file_name, 'report', s.report,
			'uploaded_at', s.uploaded_at) ORDER BY s.id) FROM signatures s WHERE s.version_id = v.id), '[]')
		FROM documents d JOIN document_versions v ON v.document_id = d.id JOIN users u ON u.id = v.uploaded_by
		WHERE d.app_id = $1 AND ($2 = 0 OR d.id = $2) AND d.section <> 'chat'
		ORDER BY d.section, d.name, v.number DESC`, appID, docID)
	if err != nil {
		return nil, mapErr(err, "documents")
	}
	defer rows.Close()
	var out []wire.Document
	for rows.Next() {
		var d wire.Document
		var v wire.DocumentVersion
		var sizes []byte
		var review string
		if err := rows.Scan(&d.ID, &d.Section, &d.Name, &v.ID, &v.Number, &v.SHA256, &v.Size, &v.FileName, &v.Kind, &v.Pages,
			&sizes, &v.Encrypted, &v.UploadedBy, &v.UploaderName, &v.UploadedAt, &review, &v.ReviewComment,
			&v.ReviewedBy, &v.ReviewedAt, &v.Version, &v.Signatures); err != nil {
			return nil, fmt.Errorf("scan document: %w", err)
		}
		_ = json.Unmarshal(sizes, &v.PageSizes)
		v.Review, v.DocumentID, d.AppID = wire.ReviewStatus(review), d.ID, appID
		if n := len(out); n > 0 && out[n-1].ID == d.ID {
			out[n-1].Versions = append(out[n-1].Versions, v)
			continue
		}
		d.Versions = []wire.DocumentVersion{v}
		out = append(out, d)
	}
	return out, rows.Err()
}

// SectionsPresent lists the sections that have at least one version.
func (q Q) SectionsPresent(ctx context.Context, appID int64) ([]string, error) {
	rows, err := q.q.Query(ctx, `SELECT DISTINCT section FROM documents WHERE app_id = $1 ORDER BY 1`, appID)
	if err != nil {
		return nil, mapErr(err, "sections present")
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// BlobReferenced reports whether any version or signature still uses a
// blob (a blob is deleted only when nothing does).
func (q Q) BlobReferenced(ctx context.Context, sha string) (bool, error) {
	var ok bool
	err := q.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM document_versions WHERE sha256 = $1)
		OR EXISTS (SELECT 1 FROM signatures WHERE sha256 = $1)`, sha).Scan(&ok)
	return ok, mapErr(err, "blob referenced")
}
