package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// ReviewVersion is what review commands need of a document version: where
// it belongs and its page sizes.
type ReviewVersion struct {
	VersionID int64
	AppID     int64
	DocID     int64
	Section   string
	Kind      string
	PageSizes []wire.PageSize
}

// ReviewVersion reads a version's application, section and page sizes.
func (q Q) ReviewVersion(ctx context.Context, versionID int64) (*ReviewVersion, error) {
	var r ReviewVersion
	var sizes []byte
	err := q.q.QueryRow(ctx, `SELECT v.id, d.app_id, d.id, d.section, v.kind, v.page_sizes
		FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE v.id = $1`, versionID).
		Scan(&r.VersionID, &r.AppID, &r.DocID, &r.Section, &r.Kind, &sizes)
	if err != nil {
		return nil, mapErr(err, "review version")
	}
	_ = json.Unmarshal(sizes, &r.PageSizes)
	return &r, nil
}

// VersionsOfApp returns which of ids are versions of the application's
// documentation (chat attachments excluded).
func (q Q) VersionsOfApp(ctx context.Context, appID int64, ids []int64) ([]int64, error) {
	rows, err := q.q.Query(ctx, `SELECT v.id FROM document_versions v JOIN documents d ON d.id = v.document_id
		WHERE d.app_id = $1 AND d.section <> 'chat' AND v.id = ANY($2) ORDER BY v.id`, appID, ids)
	if err != nil {
		return nil, mapErr(err, "versions of application")
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// --- annotations ---

const annotationCols = `a.id, a.app_id, a.version_id, v.document_id, a.page, a.kind, a.geometry, a.color, a.body, a.status,
	a.author_id, u.full_name, a.version, a.created_at, a.updated_at,
	coalesce((SELECT json_agg(json_build_object('id', r.id, 'annotation_id', r.annotation_id, 'app_id', a.app_id,
		'author_id', r.author_id, 'author_name', ru.full_name, 'text', r.body, 'created_at', r.created_at) ORDER BY r.id)
		FROM annotation_replies r JOIN users ru ON ru.id = r.author_id WHERE r.annotation_id = a.id), '[]')`

const annotationFrom = ` FROM annotations a JOIN document_versions v ON v.id = a.version_id JOIN users u ON u.id = a.author_id `

func scanAnnotation(row pgx.Row) (*wire.Annotation, error) {
	var a wire.Annotation
	var kind, status string
	var geom []byte
	if err := row.Scan(&a.ID, &a.AppID, &a.VersionID, &a.DocumentID, &a.Page, &kind, &geom, &a.Color, &a.Text, &status,
		&a.AuthorID, &a.AuthorName, &a.Version, &a.CreatedAt, &a.UpdatedAt, &a.Replies); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(geom, &a.Geometry); err != nil {
		return nil, fmt.Errorf("decode geometry of annotation %d: %w", a.ID, err)
	}
	a.Kind, a.Status = wire.AnnotationKind(kind), wire.AnnotationStatus(status)
	if a.Replies == nil {
		a.Replies = []wire.AnnotationReply{}
	}
	return &a, nil
}

// InsertAnnotation stores a new annotation and returns its id.
func (t *Tx) InsertAnnotation(ctx context.Context, a wire.Annotation) (int64, error) {
	geom, err := json.Marshal(a.Geometry)
	if err != nil {
		return 0, fmt.Errorf("encode geometry: %w", err)
	}
	var id int64
	err = t.q.QueryRow(ctx, `INSERT INTO annotations (app_id, version_id, page, kind, geometry, color, body, status, author_id, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,'open',$8,$9,$9) RETURNING id`,
		a.AppID, a.VersionID, a.Page, string(a.Kind), geom, a.Color, a.Text, a.AuthorID, t.now).Scan(&id)
	return id, mapErr(err, "insert annotation")
}

// Annotation reads one live annotation with its replies.
func (q Q) Annotation(ctx context.Context, id int64) (*wire.Annotation, error) {
	a, err := scanAnnotation(q.q.QueryRow(ctx, `SELECT `+annotationCols+annotationFrom+`WHERE a.id = $1 AND a.deleted_at IS NULL`, id))
	return a, mapErr(err, "annotation")
}

// AnnotationForUpdate reads and locks one live annotation.
func (t *Tx) AnnotationForUpdate(ctx context.Context, id int64) (*wire.Annotation, error) {
	a, err := scanAnnotation(t.q.QueryRow(ctx, `SELECT `+annotationCols+annotationFrom+`WHERE a.id = $1 AND a.deleted_at IS NULL FOR UPDATE OF a`, id))
	return a, mapErr(err, "lock annotation")
}

// AnnotationFilter selects annotations of one application, optionally of
// one version.
type AnnotationFilter struct {
	AppID     int64
	VersionID int64
}

// Annotations lists live annotations, by version, page and id.
func (q Q) Annotations(ctx context.Context, f AnnotationFilter) ([]wire.Annotation, error) {
	rows, err := q.q.Query(ctx, `SELECT `+annotationCols+annotationFrom+`WHERE a.app_id = $1 AND ($2 = 0 OR a.version_id = $2)
		AND a.deleted_at IS NULL ORDER BY a.version_id, a.page, a.id`, f.AppID, f.VersionID)
	if err != nil {
		return nil, mapErr(err, "annotations")
	}
	defer rows.Close()
	out := []wire.Annotation{}
	for rows.Next() {
		a, err := scanAnnotation(rows)
		if err != nil {
			return nil, fmt.Errorf("scan annotation: %w", err)
		}
		out = append(out, *a)
	}
	return out, rows.Err()
}

// UpdateAnnotation writes geometry, colour and text, checking the version.
func (t *Tx) UpdateAnnotation(ctx context.Context, a *wire.Annotation, version int64) error {
	geom, err := json.Marshal(a.Geometry)
	if err != nil {
		return fmt.Errorf("encode geometry: %w", err)
	}
	tag, err := t.q.Exec(ctx, `UPDATE annotations SET geometry = $3, color = $4, body = $5, version = version + 1, updated_at = $6
		WHERE id = $1 AND version = $2 AND deleted_at IS NULL`, a.ID, version, geom, a.Color, a.Text, t.now)
	return t.checkRowVersion(ctx, tag.RowsAffected(), err, "annotations", a.ID, "update annotation")
}

// SetAnnotationStatus sets the status, checking the version.
func (t *Tx) SetAnnotationStatus(ctx context.Context, id, version int64, st wire.AnnotationStatus) error {
	tag, err := t.q.Exec(ctx, `UPDATE annotations SET status = $3, version = version + 1, updated_at = $4
		WHERE id = $1 AND version = $2 AND deleted_at IS NULL`, id, version, string(st), t.now)
	return t.checkRowVersion(ctx, tag.RowsAffected(), err, "annotations", id, "set annotation status")
}

// SoftDeleteAnnotation hides an annotation, checking the version.
func (t *Tx) SoftDeleteAnnotation(ctx context.Context, id, version int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE annotations SET deleted_at = $3, version = version + 1, updated_at = $3
		WHERE id = $1 AND version = $2 AND deleted_at IS NULL`, id, version, t.now)
	return t.checkRowVersion(ctx, tag.RowsAffected(), err, "annotations", id, "delete annotation")
}

// InsertReply adds a reply to an annotation's thread.
func (t *Tx) InsertReply(ctx context.Context, r wire.AnnotationReply) (wire.AnnotationReply, error) {
	r.CreatedAt = t.now
	err := t.q.QueryRow(ctx, `INSERT INTO annotation_replies (annotation_id, author_id, body, created_at) VALUES ($1,$2,$3,$4) RETURNING id`,
		r.AnnotationID, r.AuthorID, r.Text, t.now).Scan(&r.ID)
	return r, mapErr(err, "insert reply")
}

// checkRowVersion turns "0 rows updated" into a Conflict naming the
// current version, or NotFound when the row is gone. table is one of ours,
// never user input.
func (t *Tx) checkRowVersion(ctx context.Context, n int64, err error, table string, id int64, what string) error {
	if err != nil {
		return mapErr(err, what)
	}
	if n == 1 {
		return nil
	}
	var cur int64
	if err := t.q.QueryRow(ctx, `SELECT version FROM `+table+` WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&cur); err != nil {
		return mapErr(err, what)
	}
	ru, en := "Пометка уже изменена другим пользователем — обновите её и повторите", "The annotation was changed by someone else — reload it and try again"
	if table == "remarks" {
		ru, en = "Замечание уже изменено другим пользователем — обновите его и повторите", "The remark was changed by someone else — reload it and try again"
	}
	e := wire.E(wire.CodeConflict, "version", ru, en)
	e.Current = cur
	return e
}

// --- remarks ---

const remarkCols = `r.id, r.app_id, coalesce(r.number, 0), r.section, coalesce(r.version_id, 0), r.anchor_page, r.anchor_rect,
	coalesce(r.annotation_id, 0), r.body, r.norm_ref, r.criticality, r.author_id, u.full_name, r.status, r.resolution,
	coalesce(r.notice_id, 0), r.published_at, r.version, r.created_at, r.updated_at,
	coalesce((SELECT json_agg(json_build_object('id', x.id, 'remark_id', x.remark_id, 'text', x.body, 'author_id', x.author_id,
		'author_name', au.full_name, 'created_at', x.created_at,
		'version_ids', coalesce((SELECT json_agg(av.version_id ORDER BY av.version_id) FROM remark_answer_versions av WHERE av.answer_id = x.id), '[]'::json))
		ORDER BY x.id) FROM remark_answers x JOIN users au ON au.id = x.author_id WHERE x.remark_id = r.id), '[]')`

const remarkFrom = ` FROM remarks r JOIN users u ON u.id = r.author_id `

func scanRemark(row pgx.Row) (*wire.Remark, error) {
	var r wire.Remark
	var page *int
	var rect []byte
	var annot int64
	var crit, status string
	if err := row.Scan(&r.ID, &r.AppID, &r.Number, &r.Section, &r.VersionID, &page, &rect, &annot, &r.Text, &r.NormRef, &crit,
		&r.AuthorID, &r.AuthorName, &status, &r.Resolution, &r.NoticeID, &r.PublishedAt, &r.Version, &r.CreatedAt, &r.UpdatedAt,
		&r.Answers); err != nil {
		return nil, err
	}
	r.Criticality, r.Status = wire.Criticality(crit), wire.RemarkStatus(status)
	if page != nil || annot != 0 {
		r.Anchor = &wire.RemarkAnchor{AnnotationID: annot}
		if page != nil {
			r.Anchor.Page = *page
		}
		if len(rect) > 0 {
			var rc wire.Rect
			if err := json.Unmarshal(rect, &rc); err != nil {
				return nil, fmt.Errorf("decode anchor of remark %d: %w", r.ID, err)
			}
			r.Anchor.Rect = &rc
		}
	}
	if r.Answers == nil {
		r.Answers = []wire.RemarkAnswer{}
	}
	for i := range r.Answers {
		if r.Answers[i].VersionIDs == nil {
			r.Answers[i].VersionIDs = []int64{}
		}
	}
	return &r, nil
}

// InsertDraftRemark stores a draft and returns its id.
func (t *Tx) InsertDraftRemark(ctx context.Context, r wire.Remark) (int64, error) {
	var page any
	var rect any
	var annot int64
	if r.Anchor != nil {
		if r.Anchor.Page > 0 {
			page = r.Anchor.Page
		}
		if r.Anchor.Rect != nil {
			b, err := json.Marshal(r.Anchor.Rect)
			if err != nil {
				return 0, fmt.Errorf("encode anchor: %w", err)
			}
			rect = b
		}
		annot = r.Anchor.AnnotationID
	}
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO remarks (app_id, section, body, norm_ref, criticality, status, author_id, version_id,
		anchor_page, anchor_rect, annotation_id, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,'draft',$6,$7,$8,$9,$10,$11,$11) RETURNING id`,
		r.AppID, r.Section, r.Text, r.NormRef, string(r.Criticality), r.AuthorID, nullID(r.VersionID), page, rect, nullID(annot), t.now).Scan(&id)
	return id, mapErr(err, "insert remark")
}

// Remark reads one live remark with its answers.
func (q Q) Remark(ctx context.Context, id int64) (*wire.Remark, error) {
	r, err := scanRemark(q.q.QueryRow(ctx, `SELECT `+remarkCols+remarkFrom+`WHERE r.id = $1 AND r.deleted_at IS NULL`, id))
	return r, mapErr(err, "remark")
}

// RemarkForUpdate reads and locks one live remark.
func (t *Tx) RemarkForUpdate(ctx context.Context, id int64) (*wire.Remark, error) {
	r, err := scanRemark(t.q.QueryRow(ctx, `SELECT `+remarkCols+remarkFrom+`WHERE r.id = $1 AND r.deleted_at IS NULL FOR UPDATE OF r`, id))
	return r, mapErr(err, "lock remark")
}

// RemarkFilter selects remarks of an application; the draft fields are set
// by the service from the caller, never by the client.
type RemarkFilter struct {
	AppID       int64
	VersionID   int64 // 0: all
	AllDrafts   bool  // the lead expert: every draft
	DraftAuthor int64 // an expert: their own drafts (0: none)
	IDs         []int64
}

// Remarks lists live remarks: published ones by number, then drafts.
func (q Q) Remarks(ctx context.Context, f RemarkFilter) ([]wire.Remark, error) {
	rows, err := q.q.Query(ctx, `SELECT `+remarkCols+remarkFrom+`WHERE r.app_id = $1 AND r.deleted_at IS NULL
		AND ($2 = 0 OR r.version_id = $2)
		AND (r.status <> 'draft' OR $3 OR ($4 <> 0 AND r.author_id = $4))
		AND ($5::bigint[] IS NULL OR r.id = ANY($5))
		ORDER BY r.number NULLS LAST, r.id`, f.AppID, f.VersionID, f.AllDrafts, f.DraftAuthor, f.IDs)
	if err != nil {
		return nil, mapErr(err, "remarks")
	}
	defer rows.Close()
	out := []wire.Remark{}
	for rows.Next() {
		r, err := scanRemark(rows)
		if err != nil {
			return nil, fmt.Errorf("scan remark: %w", err)
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// UpdateRemarkDraft writes a draft's text, reference and criticality.
func (t *Tx) UpdateRemarkDraft(ctx context.Context, r *wire.Remark, version int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE remarks SET body = $3, norm_ref = $4, criticality = $5, version = version + 1, updated_at = $6
		WHERE id = $1 AND version = $2 AND status = 'draft' AND deleted_at IS NULL`, r.ID, version, r.Text, r.NormRef, string(r.Criticality), t.now)
	return t.checkRowVersion(ctx, tag.RowsAffected(), err, "remarks", r.ID, "update remark")
}

// SoftDeleteRemark hides a draft.
func (t *Tx) SoftDeleteRemark(ctx context.Context, id, version int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE remarks SET deleted_at = $3, version = version + 1, updated_at = $3
		WHERE id = $1 AND version = $2 AND status = 'draft' AND deleted_at IS NULL`, id, version, t.now)
	return t.checkRowVersion(ctx, tag.RowsAffected(), err, "remarks", id, "delete remark")
}

// SetRemarkStatus moves a remark, checking the version; resolution is the
// expert's comment (kept as it was when nil).
func (t *Tx) SetRemarkStatus(ctx context.Context, id, version int64, st wire.RemarkStatus, resolution *string) error {
	tag, err := t.q.Exec(ctx, `UPDATE remarks SET status = $3, resolution = coalesce($4, resolution), version = version + 1, updated_at = $5
		WHERE id = $1 AND version = $2 AND deleted_at IS NULL`, id, version, string(st), resolution, t.now)
	return t.checkRowVersion(ctx, tag.RowsAffected(), err, "remarks", id, "set remark status")
}

// NextNumbers allocates the next notice number and remark number of an
// application; the caller holds the application's row lock, so max+1 is
// safe.
func (t *Tx) NextNumbers(ctx context.Context, appID int64) (notice, remark int, err error) {
	err = t.q.QueryRow(ctx, `SELECT coalesce((SELECT max(number) FROM remark_notices WHERE app_id = $1), 0) + 1,
		coalesce((SELECT max(number) FROM remarks WHERE app_id = $1), 0) + 1`, appID).Scan(&notice, &remark)
	return notice, remark, mapErr(err, "next numbers")
}

// InsertNotice stores a notice with its items.
func (t *Tx) InsertNotice(ctx context.Context, n wire.Notice) (wire.Notice, error) {
	n.PublishedAt = t.now
	if err := t.q.QueryRow(ctx, `INSERT INTO remark_notices (app_id, number, comment, published_by, published_at) VALUES ($1,$2,$3,$4,$5) RETURNING id`,
		n.AppID, n.Number, n.Comment, n.PublishedBy, t.now).Scan(&n.ID); err != nil {
		return n, mapErr(err, "insert notice")
	}
	for _, id := range n.RemarkIDs {
		if _, err := t.q.Exec(ctx, `INSERT INTO remark_notice_items (notice_id, remark_id) VALUES ($1,$2)`, n.ID, id); err != nil {
			return n, mapErr(err, "insert notice item")
		}
	}
	return n, nil
}

// PublishRemark makes a draft published under a notice with its number.
func (t *Tx) PublishRemark(ctx context.Context, id, noticeID int64, number int) error {
	tag, err := t.q.Exec(ctx, `UPDATE remarks SET status = 'published', number = $2, notice_id = $3, published_at = $4,
		version = version + 1, updated_at = $4 WHERE id = $1 AND status = 'draft' AND deleted_at IS NULL`, id, number, noticeID, t.now)
	if err != nil {
		return mapErr(err, "publish remark")
	}
	if tag.RowsAffected() != 1 {
		return wire.E(wire.CodeConflict, "remark_ids", fmt.Sprintf("Замечание %d уже не черновик — обновите список", id),
			fmt.Sprintf("Remark %d is no longer a draft — reload the list", id))
	}
	return nil
}

// ResendRemark bumps a reopened remark sent again in a notice, so clients
// see it changed.
func (t *Tx) ResendRemark(ctx context.Context, id int64) error {
	_, err := t.q.Exec(ctx, `UPDATE remarks SET version = version + 1, updated_at = $2 WHERE id = $1`, id, t.now)
	return mapErr(err, "resend remark")
}

const noticeCols = `n.id, n.app_id, n.number, n.comment, n.published_by, u.full_name, n.published_at, coalesce(n.letter_sha256, ''),
	coalesce((SELECT array_agg(i.remark_id ORDER BY i.remark_id) FROM remark_notice_items i WHERE i.notice_id = n.id), '{}')`

func scanNotice(row pgx.Row) (wire.Notice, error) {
	var n wire.Notice
	err := row.Scan(&n.ID, &n.AppID, &n.Number, &n.Comment, &n.PublishedBy, &n.PublishedByName, &n.PublishedAt, &n.LetterSHA256, &n.RemarkIDs)
	return n, err
}

// Notices lists an application's notices, oldest first.
func (q Q) Notices(ctx context.Context, appID int64) ([]wire.Notice, error) {
	rows, err := q.q.Query(ctx, `SELECT `+noticeCols+` FROM remark_notices n JOIN users u ON u.id = n.published_by
		WHERE n.app_id = $1 ORDER BY n.number`, appID)
	if err != nil {
		return nil, mapErr(err, "notices")
	}
	defer rows.Close()
	out := []wire.Notice{}
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, fmt.Errorf("scan notice: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Notice reads one notice.
func (q Q) Notice(ctx context.Context, id int64) (wire.Notice, error) {
	n, err := scanNotice(q.q.QueryRow(ctx, `SELECT `+noticeCols+` FROM remark_notices n JOIN users u ON u.id = n.published_by WHERE n.id = $1`, id))
	return n, mapErr(err, "notice")
}

// InsertAnswer stores an applicant's answer with its corrected versions.
func (t *Tx) InsertAnswer(ctx context.Context, remarkID, authorID int64, text string, versionIDs []int64) (int64, error) {
	var id int64
	if err := t.q.QueryRow(ctx, `INSERT INTO remark_answers (remark_id, body, author_id, created_at) VALUES ($1,$2,$3,$4) RETURNING id`,
		remarkID, text, authorID, t.now).Scan(&id); err != nil {
		return 0, mapErr(err, "insert answer")
	}
	for _, v := range versionIDs {
		if _, err := t.q.Exec(ctx, `INSERT INTO remark_answer_versions (answer_id, version_id) VALUES ($1,$2) ON CONFLICT DO NOTHING`, id, v); err != nil {
			return 0, mapErr(err, "insert answer version")
		}
	}
	return id, nil
}

// --- notice letters ---

// LetterClaim is a pending notice letter a worker has leased.
type LetterClaim struct {
	NoticeID int64
	Attempts int // rendering attempts so far, this one included
}

// ClaimDueLetters leases up to limit pending letters that are due and not
// leased by another worker, counting the attempt. SKIP LOCKED lets the
// workers of several replicas claim side by side; a lease that runs out
// (its worker died) makes the letter claimable again.
func (t *Tx) ClaimDueLetters(ctx context.Context, lease time.Duration, limit int) ([]LetterClaim, error) {
	rows, err := t.q.Query(ctx, `UPDATE remark_notices SET letter_locked_until = $1, letter_attempts = letter_attempts + 1
		WHERE id IN (SELECT id FROM remark_notices WHERE letter_sha256 IS NULL
			AND (letter_next_at IS NULL OR letter_next_at <= $2)
			AND (letter_locked_until IS NULL OR letter_locked_until <= $2)
			ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING id, letter_attempts`, t.now.Add(lease), t.now, limit)
	if err != nil {
		return nil, mapErr(err, "claim letters")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (LetterClaim, error) {
		var c LetterClaim
		err := r.Scan(&c.NoticeID, &c.Attempts)
		return c, err
	})
	if err != nil {
		return nil, mapErr(err, "claim letters")
	}
	slices.SortFunc(out, func(a, b LetterClaim) int { return cmp.Compare(a.NoticeID, b.NoticeID) })
	return out, nil
}

// SetNoticeLetter records a pending notice's letter; it reports false when
// the letter was already recorded (another worker finished first), so only
// one of them announces it.
func (t *Tx) SetNoticeLetter(ctx context.Context, noticeID int64, sha string) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE remark_notices SET letter_sha256 = $2, letter_locked_until = NULL, letter_error = ''
		WHERE id = $1 AND letter_sha256 IS NULL`, noticeID, sha)
	if err != nil {
		return false, mapErr(err, "set notice letter")
	}
	return tag.RowsAffected() == 1, nil
}

// MarkLetterFailed releases a failed attempt's lease and schedules the next
// one at next, keeping the error for the administrator.
func (q Q) MarkLetterFailed(ctx context.Context, noticeID int64, msg string, next time.Time) error {
	_, err := q.q.Exec(ctx, `UPDATE remark_notices SET letter_locked_until = NULL, letter_next_at = $2, letter_error = $3
		WHERE id = $1 AND letter_sha256 IS NULL`, noticeID, next, msg)
	return mapErr(err, "mark letter failed")
}

// LetterState is the rendering state of a notice's letter.
type LetterState struct {
	SHA256   string // "" while pending
	Attempts int
	NextAt   *time.Time
	Error    string // the last failure, "" if none
}

// NoticeLetterState reads a notice's letter state.
func (q Q) NoticeLetterState(ctx context.Context, noticeID int64) (LetterState, error) {
	var s LetterState
	err := q.q.QueryRow(ctx, `SELECT coalesce(letter_sha256, ''), letter_attempts, letter_next_at, letter_error
		FROM remark_notices WHERE id = $1`, noticeID).Scan(&s.SHA256, &s.Attempts, &s.NextAt, &s.Error)
	return s, mapErr(err, "notice letter state")
}
