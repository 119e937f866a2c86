package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// InsertOrganisation creates an organisation; a registered INN is a Conflict.
func (t *Tx) InsertOrganisation(ctx context.Context, o wire.OrganisationInput) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO organisations (name, short_name, inn, ogrn, kpp, address, email, phone, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9) RETURNING id`,
		o.Name, o.ShortName, o.INN, o.OGRN, o.KPP, o.Address, o.Email, o.Phone, t.now).Scan(&id)
	if IsUniqueViolation(err, "organisations_inn_key") {
		return 0, wire.E(wire.CodeConflict, "organisation.inn",
			"Организация с этим ИНН уже зарегистрирована — попросите её сотрудника или администратора добавить вас",
			"An organisation with this INN is already registered — ask its member or an administrator to add you")
	}
	return id, mapErr(err, "insert organisation")
}

// Organisation reads one organisation.
func (q Q) Organisation(ctx context.Context, id int64) (*wire.Organisation, error) {
	var o wire.Organisation
	err := q.q.QueryRow(ctx, `SELECT id, name, short_name, inn, ogrn, kpp, address, email, phone, version, created_at
		FROM organisations WHERE id = $1`, id).Scan(&o.ID, &o.Name, &o.ShortName, &o.INN, &o.OGRN, &o.KPP, &o.Address, &o.Email, &o.Phone, &o.Version, &o.CreatedAt)
	return &o, mapErr(err, "organisation")
}

// NextApplicationNumber allocates ГГЭ-<year>-<NNNNNN>, numbered per year.
func (t *Tx) NextApplicationNumber(ctx context.Context, year int) (string, error) {
	var n int
	err := t.q.QueryRow(ctx, `INSERT INTO application_numbers (year, last) VALUES ($1, 1)
		ON CONFLICT (year) DO UPDATE SET last = application_numbers.last + 1 RETURNING last`, year).Scan(&n)
	if err != nil {
		return "", mapErr(err, "allocate application number")
	}
	return fmt.Sprintf("ГГЭ-%d-%06d", year, n), nil
}

// NewApplication is what InsertApplication stores.
type NewApplication struct {
	Number, ObjectName, ObjectAddress             string
	OrgID, CreatedBy                              int64
	WorksKind                                     wire.WorksKind
	ExpertiseKind                                 wire.ExpertiseKind
	Financing                                     wire.Financing
	ApplicantName, ApplicantPhone, ApplicantEmail string
}

// InsertApplication creates a draft.
func (t *Tx) InsertApplication(ctx context.Context, a NewApplication) (int64, error) {
	var id int64
	err := t.q.QueryRow(ctx, `INSERT INTO applications (number, org_id, object_name, object_address, works_kind, expertise_kind,
		financing, applicant_name, applicant_phone, applicant_email, status, created_by, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'draft',$11,$12,$12) RETURNING id`,
		a.Number, a.OrgID, a.ObjectName, a.ObjectAddress, string(a.WorksKind), string(a.ExpertiseKind), string(a.Financing),
		a.ApplicantName, a.ApplicantPhone, a.ApplicantEmail, a.CreatedBy, t.now).Scan(&id)
	return id, mapErr(err, "insert application")
}

// AppRow is an application plus its internal deadline rows.
type AppRow struct {
	wire.Application
	CompletenessDue *wire.Date
	ReviewDue       *wire.Date
}

const appCols = `a.id, a.number, a.org_id, o.name, o.inn, a.object_name, a.object_address, a.works_kind, a.expertise_kind,
	a.financing, a.applicant_name, a.applicant_phone, a.applicant_email, a.status, a.proposed_verdict,
	coalesce(a.lead_expert_id, 0), a.submitted_at, a.paid_at, a.created_by, a.version, a.created_at, a.updated_at,
	(SELECT due_on FROM deadlines d WHERE d.app_id = a.id AND d.kind = 'completeness'),
	(SELECT due_on FROM deadlines d WHERE d.app_id = a.id AND d.kind = 'review'),
	coalesce((SELECT extended FROM deadlines d WHERE d.app_id = a.id AND d.kind = 'review'), false),
	coalesce((SELECT json_agg(json_build_object('section', s.section, 'expert_id', s.expert_id, 'expert_name', u.full_name) ORDER BY s.section)
		FROM assignments s JOIN users u ON u.id = s.expert_id WHERE s.app_id = a.id), '[]')`

const appFrom = ` FROM applications a JOIN organisations o ON o.id = a.org_id `

func scanApp(row pgx.Row) (*AppRow, error) {
	var a AppRow
	var works, kind, fin, status, verdict string
	var compl, review *time.Time
	err := row.Scan(&a.ID, &a.Number, &a.OrgID, &a.OrgName, &a.OrgINN, &a.ObjectName, &a.ObjectAddress, &works, &kind,
		&fin, &a.ApplicantName, &a.ApplicantPhone, &a.ApplicantEmail, &status, &verdict,
		&a.LeadExpertID, &a.SubmittedAt, &a.PaidAt, &a.CreatedBy, &a.Version, &a.CreatedAt, &a.UpdatedAt,
		&compl, &review, &a.Extended, &a.Assignments)
	if err != nil {
		return nil, err
	}
	a.WorksKind, a.ExpertiseKind, a.Financing = wire.WorksKind(works), wire.ExpertiseKind(kind), wire.Financing(fin)
	a.Status, a.ProposedVerdict = wire.Status(status), wire.Status(verdict)
	if compl != nil {
		d := wire.DateOf(*compl)
		a.CompletenessDue = &d
	}
	if review != nil {
		d := wire.DateOf(*review)
		a.ReviewDue = &d
	}
	if a.Assignments == nil {
		a.Assignments = []wire.Assignment{}
	}
	return &a, nil
}

// Application reads one live (not deleted) application.
func (q Q) Application(ctx context.Context, id int64) (*AppRow, error) {
	a, err := scanApp(q.q.QueryRow(ctx, `SELECT `+appCols+appFrom+`WHERE a.id = $1 AND a.deleted_at IS NULL`, id))
	return a, mapErr(err, "application")
}

// ApplicationForUpdate reads and locks one live application.
func (t *Tx) ApplicationForUpdate(ctx context.Context, id int64) (*AppRow, error) {
	a, err := scanApp(t.q.QueryRow(ctx, `SELECT `+appCols+appFrom+`WHERE a.id = $1 AND a.deleted_at IS NULL FOR UPDATE OF a`, id))
	return a, mapErr(err, "lock application")
}

// AppFilter selects applications; the visibility fields are set by the
// service from the caller, never by the client.
type AppFilter struct {
	OrgIDs   []int64 // applicants: only these organisations
	ExpertID int64   // experts: only applications assigned to them
	// ExcludeDrafts hides drafts (staff do not see them until submitted).
	ExcludeDrafts bool
	Statuses      []wire.Status
	Kind          wire.ExpertiseKind
	Query         string // number, object name or INN, case-insensitive
	From, To      *time.Time
	Limit         int
}

// ListApplications lists visible applications, newest first.
func (q Q) ListApplications(ctx context.Context, f AppFilter) ([]*AppRow, error) {
	var where []string
	var args []any
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	where = append(where, "a.deleted_at IS NULL")
	if f.OrgIDs != nil {
		where = append(where, "a.org_id = ANY("+arg(f.OrgIDs)+")")
	}
	if f.ExcludeDrafts {
		where = append(where, "a.status <> 'draft'")
	}
	if f.ExpertID != 0 {
		p := arg(f.ExpertID)
		where = append(where, "(a.lead_expert_id = "+p+" OR EXISTS (SELECT 1 FROM assignments s WHERE s.app_id = a.id AND s.expert_id = "+p+"))")
	}
	if len(f.Statuses) > 0 {
		ss := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			ss[i] = string(s)
		}
		where = append(where, "a.status = ANY("+arg(ss)+")")
	}
	if f.Kind != "" {
		where = append(where, "a.expertise_kind = "+arg(string(f.Kind)))
	}
	if f.Query != "" {
		p := arg("%" + strings.ToLower(f.Query) + "%")
		where = append(where, "(lower(a.number) LIKE "+p+" OR lower(a.object_name) LIKE "+p+" OR o.inn LIKE "+p+")")
	}
	if f.From != nil {
		where = append(where, "a.created_at >= "+arg(*f.From))
	}
	if f.To != nil {
		where = append(where, "a.created_at < "+arg(*f.To))
	}
	limit := f.Limit
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	sql := `SELECT ` + appCols + appFrom + `WHERE ` + strings.Join(where, " AND ") + ` ORDER BY a.id DESC LIMIT ` + arg(limit)
	rows, err := q.q.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("list applications: %w", err)
	}
	defer rows.Close()
	var out []*AppRow
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, fmt.Errorf("scan application: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// UpdateApplicationFields writes the editable fields, checking the version.
func (t *Tx) UpdateApplicationFields(ctx context.Context, a *AppRow, version int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE applications SET object_name=$3, object_address=$4, works_kind=$5, expertise_kind=$6,
		financing=$7, applicant_name=$8, applicant_phone=$9, applicant_email=$10, version = version + 1, updated_at = $11
		WHERE id = $1 AND version = $2`, a.ID, version, a.ObjectName, a.ObjectAddress, string(a.WorksKind),
		string(a.ExpertiseKind), string(a.Financing), a.ApplicantName, a.ApplicantPhone, a.ApplicantEmail, t.now)
	return t.checkVersion(ctx, tag.RowsAffected(), err, a.ID, "update application")
}

// StatusUpdate is what SetStatus writes.
type StatusUpdate struct {
	To              wire.Status
	ProposedVerdict wire.Status
	SubmittedAt     *time.Time
	PaidAt          *time.Time
}

// SetStatus moves an application, checking the version.
func (t *Tx) SetStatus(ctx context.Context, id, version int64, u StatusUpdate) error {
	tag, err := t.q.Exec(ctx, `UPDATE applications SET status = $3, proposed_verdict = $4,
		submitted_at = coalesce($5, submitted_at), paid_at = coalesce($6, paid_at),
		version = version + 1, updated_at = $7 WHERE id = $1 AND version = $2`,
		id, version, string(u.To), string(u.ProposedVerdict), u.SubmittedAt, u.PaidAt, t.now)
	return t.checkVersion(ctx, tag.RowsAffected(), err, id, "set status")
}

// BumpApplication increments the version (after assignment or deadline
// changes, so every change of what a client shows has a new version).
func (t *Tx) BumpApplication(ctx context.Context, id, version int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE applications SET version = version + 1, updated_at = $3 WHERE id = $1 AND version = $2`, id, version, t.now)
	return t.checkVersion(ctx, tag.RowsAffected(), err, id, "bump application")
}

// SoftDeleteApplication hides a draft.
func (t *Tx) SoftDeleteApplication(ctx context.Context, id, version int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE applications SET deleted_at = $3, version = version + 1 WHERE id = $1 AND version = $2`, id, version, t.now)
	return t.checkVersion(ctx, tag.RowsAffected(), err, id, "delete application")
}

// checkVersion turns "0 rows updated" into a Conflict naming the current
// version, or NotFound when the row is gone.
func (t *Tx) checkVersion(ctx context.Context, n int64, err error, id int64, what string) error {
	if err != nil {
		return mapErr(err, what)
	}
	if n == 1 {
		return nil
	}
	var cur int64
	if err := t.q.QueryRow(ctx, `SELECT version FROM applications WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&cur); err != nil {
		return mapErr(err, what)
	}
	e := wire.E(wire.CodeConflict, "version",
		"Заявление уже изменено другим пользователем — обновите карточку и повторите",
		"The application was changed by someone else — reload it and try again")
	e.Current = cur
	return e
}

// SetLead sets the lead expert (0 clears it).
func (t *Tx) SetLead(ctx context.Context, appID, expertID int64) error {
	_, err := t.q.Exec(ctx, `UPDATE applications SET lead_expert_id = $2 WHERE id = $1`, appID, nullID(expertID))
	return mapErr(err, "set lead")
}

// ReplaceAssignments sets the section experts of an application.
func (t *Tx) ReplaceAssignments(ctx context.Context, appID, by int64, as []wire.Assignment) error {
	if _, err := t.q.Exec(ctx, `DELETE FROM assignments WHERE app_id = $1`, appID); err != nil {
		return mapErr(err, "clear assignments")
	}
	for _, a := range as {
		if _, err := t.q.Exec(ctx, `INSERT INTO assignments (app_id, section, expert_id, assigned_by, assigned_at) VALUES ($1,$2,$3,$4,$5)`,
			appID, a.Section, a.ExpertID, by, t.now); err != nil {
			if IsUniqueViolation(err, "") {
				return wire.E(wire.CodeInvalid, "assignments", "Раздел "+a.Section+" назначен дважды: один эксперт на раздел",
					"Section "+a.Section+" is assigned twice: one expert per section")
			}
			return mapErr(err, "insert assignment")
		}
	}
	return nil
}

// AppExpertIDs lists the experts who may see an application: the lead and
// every section expert.
func (q Q) AppExpertIDs(ctx context.Context, appID int64) ([]int64, error) {
	rows, err := q.q.Query(ctx, `SELECT expert_id FROM assignments WHERE app_id = $1
		UNION SELECT lead_expert_id FROM applications WHERE id = $1 AND lead_expert_id IS NOT NULL ORDER BY 1`, appID)
	if err != nil {
		return nil, mapErr(err, "application experts")
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// IsAssigned reports whether an expert is the lead or a section expert.
func (q Q) IsAssigned(ctx context.Context, appID, expertID int64) (bool, error) {
	var ok bool
	err := q.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM assignments WHERE app_id = $1 AND expert_id = $2)
		OR EXISTS (SELECT 1 FROM applications WHERE id = $1 AND lead_expert_id = $2)`, appID, expertID).Scan(&ok)
	return ok, mapErr(err, "is assigned")
}

// UpsertDeadline sets a stage deadline.
func (t *Tx) UpsertDeadline(ctx context.Context, appID int64, kind string, starts, due wire.Date, extended bool) error {
	_, err := t.q.Exec(ctx, `INSERT INTO deadlines (app_id, kind, starts_on, due_on, extended, updated_at)
		VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (app_id, kind) DO UPDATE
		SET starts_on = $3, due_on = $4, extended = $5, version = deadlines.version + 1, updated_at = $6`,
		appID, kind, starts.Time(), due.Time(), extended, t.now)
	return mapErr(err, "upsert deadline")
}

// InsertStatusChange appends to the status history.
func (t *Tx) InsertStatusChange(ctx context.Context, c wire.StatusChange) (wire.StatusChange, error) {
	c.At = t.now
	err := t.q.QueryRow(ctx, `INSERT INTO status_history (app_id, from_status, to_status, comment, actor_id, actor_name, at)
		VALUES ($1,$2,$3,$4,$5,$6,$7) RETURNING id`, c.AppID, string(c.From), string(c.To), c.Comment, nullID(c.ActorID), c.ActorName, t.now).Scan(&c.ID)
	return c, mapErr(err, "insert status change")
}

// StatusHistory lists an application's status changes, oldest first.
func (q Q) StatusHistory(ctx context.Context, appID int64) ([]wire.StatusChange, error) {
	rows, err := q.q.Query(ctx, `SELECT id, app_id, from_status, to_status, comment, coalesce(actor_id,0), actor_name, at
		FROM status_history WHERE app_id = $1 ORDER BY id`, appID)
	if err != nil {
		return nil, mapErr(err, "status history")
	}
	defer rows.Close()
	var out []wire.StatusChange
	for rows.Next() {
		var c wire.StatusChange
		var from, to string
		if err := rows.Scan(&c.ID, &c.AppID, &from, &to, &c.Comment, &c.ActorID, &c.ActorName, &c.At); err != nil {
			return nil, fmt.Errorf("scan status change: %w", err)
		}
		c.From, c.To = wire.Status(from), wire.Status(to)
		out = append(out, c)
	}
	return out, rows.Err()
}

// CalendarDays reads the working-day calendar's exceptions.
func (q Q) CalendarDays(ctx context.Context) ([]wire.CalendarDay, error) {
	rows, err := q.q.Query(ctx, `SELECT day, working, note FROM calendar_days ORDER BY day`)
	if err != nil {
		return nil, mapErr(err, "calendar")
	}
	defer rows.Close()
	var out []wire.CalendarDay
	for rows.Next() {
		var d wire.CalendarDay
		var day time.Time
		if err := rows.Scan(&day, &d.Working, &d.Note); err != nil {
			return nil, fmt.Errorf("scan calendar day: %w", err)
		}
		d.Day = wire.DateOf(day)
		out = append(out, d)
	}
	return out, rows.Err()
}

// InsertCalendarDays adds calendar exceptions, keeping existing ones.
func (t *Tx) InsertCalendarDays(ctx context.Context, days []wire.CalendarDay) error {
	for _, d := range days {
		if _, err := t.q.Exec(ctx, `INSERT INTO calendar_days (day, working, note) VALUES ($1,$2,$3) ON CONFLICT DO NOTHING`,
			d.Day.Time(), d.Working, d.Note); err != nil {
			return mapErr(err, "insert calendar day")
		}
	}
	return nil
}

// PaidAtOr is the payment time, or def when unpaid.
func (a *AppRow) PaidAtOr(def time.Time) *time.Time {
	if a.PaidAt != nil {
		return a.PaidAt
	}
	return &def
}

// NewRemark is a published remark (the remarks register proper is built on
// this table).
type NewRemark struct {
	AppID       int64
	Section     string
	AuthorID    int64
	Criticality string
	NormRef     string
	Body        string
}

// InsertRemark stores a published remark.
func (t *Tx) InsertRemark(ctx context.Context, r NewRemark) error {
	_, err := t.q.Exec(ctx, `INSERT INTO remarks (app_id, section, body, norm_ref, criticality, status, author_id, created_at, updated_at)
		VALUES ($1,$2,$3,$4,$5,'published',$6,$7,$7)`, r.AppID, r.Section, r.Body, r.NormRef, r.Criticality, r.AuthorID, t.now)
	return mapErr(err, "insert remark")
}

// RunningDeadline is a stage deadline of an application in that stage.
type RunningDeadline struct {
	AppID int64
	Kind  string
	Due   wire.Date
}

// RunningDeadlines lists the deadlines whose clock runs now: completeness
// while submitted, review during the review.
func (q Q) RunningDeadlines(ctx context.Context) ([]RunningDeadline, error) {
	rows, err := q.q.Query(ctx, `SELECT d.app_id, d.kind, d.due_on FROM deadlines d JOIN applications a ON a.id = d.app_id
		WHERE a.deleted_at IS NULL AND ((d.kind = 'completeness' AND a.status = 'submitted')
		   OR (d.kind = 'review' AND a.status IN ('in_review','remarks_issued','conclusion')))
		ORDER BY d.app_id, d.kind`)
	if err != nil {
		return nil, mapErr(err, "running deadlines")
	}
	defer rows.Close()
	var out []RunningDeadline
	for rows.Next() {
		var r RunningDeadline
		var due time.Time
		if err := rows.Scan(&r.AppID, &r.Kind, &due); err != nil {
			return nil, fmt.Errorf("scan deadline: %w", err)
		}
		r.Due = wire.DateOf(due)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ClaimReminder records a reminder; false when it was sent already.
func (t *Tx) ClaimReminder(ctx context.Context, appID int64, kind string, due wire.Date, threshold int) (bool, error) {
	tag, err := t.q.Exec(ctx, `INSERT INTO deadline_reminders (app_id, kind, due_on, threshold, sent_at) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT DO NOTHING`, appID, kind, due.Time(), threshold, t.now)
	if err != nil {
		return false, mapErr(err, "claim reminder")
	}
	return tag.RowsAffected() == 1, nil
}
