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

// ConclusionRow is an application's conclusion as stored (migration 00007).
type ConclusionRow struct {
	AppID          int64
	GUID           string
	ContractNumber string
	Findings       []wire.ConclusionFinding
	Verdict        wire.Status
	Justification  string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	UpdatedBy      int64
	UpdatedByName  string
	Version        int64
	DocumentIDs    []int64

	// Set at approval.
	Number         string
	ApprovedAt     *time.Time
	ApprovedBy     int64
	ApprovedByName string
	Snapshot       json.RawMessage // wire.Conclusion as approved; nil before

	// Set when rendered.
	PDFSHA256, XMLSHA256 string
	PDFSize, XMLSize     int64
	RenderedAt           *time.Time
	Signatures           []wire.Signature
}

const conclusionCols = `c.app_id, c.guid::text, c.contract_number, c.findings, c.verdict, c.justification, c.created_at, c.updated_at,
	c.updated_by, u.full_name, c.version,
	coalesce((SELECT array_agg(d.version_id ORDER BY d.version_id) FROM conclusion_documents d WHERE d.app_id = c.app_id), '{}'),
	coalesce(c.number, ''), c.approved_at, coalesce(c.approved_by, 0), coalesce(au.full_name, ''), c.snapshot,
	coalesce(c.pdf_sha256, ''), coalesce(c.pdf_size, 0), coalesce(c.xml_sha256, ''), coalesce(c.xml_size, 0), c.rendered_at,
	coalesce((SELECT json_agg(json_build_object('id', s.id, 'sha256', s.sha256, 'file_name', s.file_name, 'report', s.report,
		'uploaded_at', s.uploaded_at) ORDER BY s.id) FROM conclusion_signatures s WHERE s.app_id = c.app_id), '[]')`

const conclusionFrom = ` FROM conclusions c JOIN users u ON u.id = c.updated_by LEFT JOIN users au ON au.id = c.approved_by `

func scanConclusion(row pgx.Row) (*ConclusionRow, error) {
	var c ConclusionRow
	var findings []byte
	var verdict string
	var snapshot []byte
	if err := row.Scan(&c.AppID, &c.GUID, &c.ContractNumber, &findings, &verdict, &c.Justification, &c.CreatedAt, &c.UpdatedAt,
		&c.UpdatedBy, &c.UpdatedByName, &c.Version, &c.DocumentIDs,
		&c.Number, &c.ApprovedAt, &c.ApprovedBy, &c.ApprovedByName, &snapshot,
		&c.PDFSHA256, &c.PDFSize, &c.XMLSHA256, &c.XMLSize, &c.RenderedAt, &c.Signatures); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(findings, &c.Findings); err != nil {
		return nil, fmt.Errorf("conclusion %d findings: %w", c.AppID, err)
	}
	if c.Findings == nil {
		c.Findings = []wire.ConclusionFinding{}
	}
	if c.Signatures == nil {
		c.Signatures = []wire.Signature{}
	}
	if len(snapshot) > 0 {
		c.Snapshot = snapshot
	}
	c.Verdict = wire.Status(verdict)
	return &c, nil
}

// Conclusion reads an application's conclusion; NotFound when no draft
// was saved yet.
func (q Q) Conclusion(ctx context.Context, appID int64) (*ConclusionRow, error) {
	c, err := scanConclusion(q.q.QueryRow(ctx, `SELECT `+conclusionCols+conclusionFrom+`WHERE c.app_id = $1`, appID))
	return c, mapErr(err, "conclusion")
}

// ConclusionForUpdate reads and locks an application's conclusion.
func (t *Tx) ConclusionForUpdate(ctx context.Context, appID int64) (*ConclusionRow, error) {
	c, err := scanConclusion(t.q.QueryRow(ctx, `SELECT `+conclusionCols+conclusionFrom+`WHERE c.app_id = $1 FOR UPDATE OF c`, appID))
	return c, mapErr(err, "lock conclusion")
}

// InsertConclusion creates a draft at version 1.
func (t *Tx) InsertConclusion(ctx context.Context, c *ConclusionRow) error {
	_, err := t.q.Exec(ctx, `INSERT INTO conclusions (app_id, guid, contract_number, findings, verdict, justification, created_at, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)`,
		c.AppID, c.GUID, c.ContractNumber, findingsJSON(c.Findings), string(c.Verdict), c.Justification, t.now, c.UpdatedBy)
	if IsUniqueViolation(err, "conclusions_pkey") {
		// Two first saves raced: the loser saw version 0, which is stale now.
		return staleConclusion(1)
	}
	return mapErr(err, "insert conclusion")
}

// UpdateConclusionDraft replaces the draft's fields if it is still at
// version seen and not approved.
func (t *Tx) UpdateConclusionDraft(ctx context.Context, c *ConclusionRow, seen int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE conclusions SET contract_number = $3, findings = $4, verdict = $5, justification = $6,
		updated_at = $7, updated_by = $8, version = version + 1
		WHERE app_id = $1 AND version = $2 AND approved_at IS NULL`,
		c.AppID, seen, c.ContractNumber, findingsJSON(c.Findings), string(c.Verdict), c.Justification, t.now, c.UpdatedBy)
	if err != nil {
		return mapErr(err, "update conclusion")
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var cur int64
	if err := t.q.QueryRow(ctx, `SELECT version FROM conclusions WHERE app_id = $1`, c.AppID).Scan(&cur); err != nil {
		return mapErr(err, "update conclusion")
	}
	return staleConclusion(cur)
}

func staleConclusion(cur int64) error {
	e := wire.E(wire.CodeConflict, "version", "Проект заключения уже изменён — обновите вкладку «Заключение» и повторите",
		"The conclusion draft was changed meanwhile — reload it and try again")
	e.Current = cur
	return e
}

func findingsJSON(fs []wire.ConclusionFinding) []byte {
	if fs == nil {
		fs = []wire.ConclusionFinding{}
	}
	b, _ := json.Marshal(fs) // plain strings: cannot fail
	return b
}

// ReplaceConclusionDocuments sets the reviewed document versions.
func (t *Tx) ReplaceConclusionDocuments(ctx context.Context, appID int64, versionIDs []int64) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM conclusion_documents WHERE app_id = $1`, appID); err != nil {
		return mapErr(err, "replace conclusion documents")
	}
	_, err := t.q.Exec(ctx, `INSERT INTO conclusion_documents (app_id, version_id) SELECT $1, unnest($2::bigint[])`, appID, versionIDs)
	return mapErr(err, "replace conclusion documents")
}

// SetConclusionVerdict records the verdict the lead proposed.
func (t *Tx) SetConclusionVerdict(ctx context.Context, appID int64, verdict wire.Status, by int64) error {
	_, err := t.q.Exec(ctx, `UPDATE conclusions SET verdict = $2, updated_at = $3, updated_by = $4, version = version + 1
		WHERE app_id = $1 AND approved_at IS NULL`, appID, string(verdict), t.now, by)
	return mapErr(err, "set conclusion verdict")
}

// NextConclusionNumber allocates ГГЭ-З-<year>-<NNNNNN>, numbered per year.
func (t *Tx) NextConclusionNumber(ctx context.Context, year int) (string, error) {
	var n int
	err := t.q.QueryRow(ctx, `INSERT INTO conclusion_numbers (year, last) VALUES ($1, 1)
		ON CONFLICT (year) DO UPDATE SET last = conclusion_numbers.last + 1 RETURNING last`, year).Scan(&n)
	if err != nil {
		return "", mapErr(err, "allocate conclusion number")
	}
	return fmt.Sprintf("ГГЭ-З-%d-%06d", year, n), nil
}

// ApproveConclusion freezes a draft: its number, the approver and the
// content as approved; the rendering is then due at once.
func (t *Tx) ApproveConclusion(ctx context.Context, appID int64, number string, by int64, snapshot json.RawMessage) error {
	tag, err := t.q.Exec(ctx, `UPDATE conclusions SET number = $2, approved_at = $3, approved_by = $4, snapshot = $5,
		render_next_at = NULL, render_attempts = 0, version = version + 1
		WHERE app_id = $1 AND approved_at IS NULL`, appID, number, t.now, by, snapshot)
	if err != nil {
		return mapErr(err, "approve conclusion")
	}
	if tag.RowsAffected() != 1 {
		return wire.E(wire.CodeConflict, "conclusion", "Заключение уже утверждено", "The conclusion is already approved")
	}
	return nil
}

// ConclusionClaim is an approved conclusion a worker has leased to render.
type ConclusionClaim struct {
	AppID    int64
	Attempts int // rendering attempts so far, this one included
}

// ClaimDueConclusions leases up to limit approved conclusions whose files
// are not stored, are due and not leased by another worker, counting the
// attempt (as ClaimDueLetters).
func (t *Tx) ClaimDueConclusions(ctx context.Context, lease time.Duration, limit int) ([]ConclusionClaim, error) {
	rows, err := t.q.Query(ctx, `UPDATE conclusions SET render_locked_until = $1, render_attempts = render_attempts + 1
		WHERE app_id IN (SELECT app_id FROM conclusions WHERE approved_at IS NOT NULL AND pdf_sha256 IS NULL
			AND (render_next_at IS NULL OR render_next_at <= $2)
			AND (render_locked_until IS NULL OR render_locked_until <= $2)
			ORDER BY app_id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING app_id, render_attempts`, t.now.Add(lease), t.now, limit)
	if err != nil {
		return nil, mapErr(err, "claim conclusions")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConclusionClaim, error) {
		var c ConclusionClaim
		err := r.Scan(&c.AppID, &c.Attempts)
		return c, err
	})
	if err != nil {
		return nil, mapErr(err, "claim conclusions")
	}
	slices.SortFunc(out, func(a, b ConclusionClaim) int { return cmp.Compare(a.AppID, b.AppID) })
	return out, nil
}

// SetConclusionFiles records the rendered files; it reports false when
// they were already recorded (another worker finished first).
func (t *Tx) SetConclusionFiles(ctx context.Context, appID int64, pdfSHA string, pdfSize int64, xmlSHA string, xmlSize int64) (bool, error) {
	tag, err := t.q.Exec(ctx, `UPDATE conclusions SET pdf_sha256 = $2, pdf_size = $3, xml_sha256 = $4, xml_size = $5, rendered_at = $6,
		render_locked_until = NULL, render_error = '', version = version + 1
		WHERE app_id = $1 AND approved_at IS NOT NULL AND pdf_sha256 IS NULL`, appID, pdfSHA, pdfSize, xmlSHA, xmlSize, t.now)
	if err != nil {
		return false, mapErr(err, "set conclusion files")
	}
	return tag.RowsAffected() == 1, nil
}

// MarkConclusionFailed releases a failed attempt's lease and schedules the
// next one.
func (q Q) MarkConclusionFailed(ctx context.Context, appID int64, msg string, next time.Time) error {
	_, err := q.q.Exec(ctx, `UPDATE conclusions SET render_locked_until = NULL, render_next_at = $2, render_error = $3
		WHERE app_id = $1 AND pdf_sha256 IS NULL`, appID, next, msg)
	return mapErr(err, "mark conclusion failed")
}

// ConclusionRenderState is the rendering state of a conclusion, for tests
// and the administrator.
type ConclusionRenderState struct {
	Attempts int
	NextAt   *time.Time
	Error    string
}

// ConclusionRenderState reads how rendering has gone so far.
func (q Q) ConclusionRenderState(ctx context.Context, appID int64) (ConclusionRenderState, error) {
	var s ConclusionRenderState
	err := q.q.QueryRow(ctx, `SELECT render_attempts, render_next_at, render_error FROM conclusions WHERE app_id = $1`, appID).
		Scan(&s.Attempts, &s.NextAt, &s.Error)
	return s, mapErr(err, "conclusion render state")
}

// InsertConclusionSignature keeps a detached signature of the conclusion
// PDF; the same signature file again changes nothing and reports false.
func (t *Tx) InsertConclusionSignature(ctx context.Context, appID int64, sha string, size int64, fileName string, report json.RawMessage, by int64) (bool, error) {
	tag, err := t.q.Exec(ctx, `INSERT INTO conclusion_signatures (app_id, sha256, size, file_name, report, uploaded_by, uploaded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (app_id, sha256) DO NOTHING`, appID, sha, size, fileName, report, by, t.now)
	if err != nil {
		return false, mapErr(err, "insert conclusion signature")
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	_, err = t.q.Exec(ctx, `UPDATE conclusions SET version = version + 1 WHERE app_id = $1`, appID)
	return true, mapErr(err, "insert conclusion signature")
}

// ConclusionSignature reads one signature of an application's conclusion.
func (q Q) ConclusionSignature(ctx context.Context, appID, id int64) (wire.Signature, error) {
	var s wire.Signature
	err := q.q.QueryRow(ctx, `SELECT id, sha256, file_name, report, uploaded_at FROM conclusion_signatures WHERE app_id = $1 AND id = $2`, appID, id).
		Scan(&s.ID, &s.SHA256, &s.FileName, &s.Report, &s.UploadedAt)
	return s, mapErr(err, "conclusion signature")
}

// NextConclusionRetry is when the earliest failed rendering falls due
// again (nil when none waits), so the worker sleeps exactly that long.
func (q Q) NextConclusionRetry(ctx context.Context) (*time.Time, error) {
	var next *time.Time
	err := q.q.QueryRow(ctx, `SELECT min(render_next_at) FROM conclusions
		WHERE approved_at IS NOT NULL AND pdf_sha256 IS NULL AND render_next_at IS NOT NULL`).Scan(&next)
	return next, mapErr(err, "next conclusion retry")
}
