package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/sync/wire"
)

// SearchUsers lists users for administrators: a text matched against
// login, name and e-mail (case-insensitive substring), a role, disabled or
// active only; by name.
func (q Q) SearchUsers(ctx context.Context, f wire.UserQuery) ([]wire.AdminUser, error) {
	limit := f.Limit
	if limit <= 0 || limit > wire.MaxUserSearch {
		limit = wire.MaxUserSearch
	}
	like := ""
	if t := strings.TrimSpace(f.Text); t != "" {
		like = "%" + escapeLike(strings.ToLower(t)) + "%"
	}
	rows, err := q.q.Query(ctx, `SELECT `+userCols+`,
			coalesce((SELECT o.name FROM memberships m JOIN organisations o ON o.id = m.org_id WHERE m.user_id = u.id ORDER BY m.org_id LIMIT 1), ''),
			(SELECT max(h.at) FROM login_history h WHERE h.user_id = u.id AND h.success)
		FROM users u
		WHERE ($1 = '' OR lower(u.login) LIKE $1 OR lower(u.full_name) LIKE $1 OR lower(u.email) LIKE $1)
		  AND ($2 = '' OR u.role = $2)
		  AND ($3::boolean IS NULL OR u.disabled = $3)
		ORDER BY u.full_name, u.id LIMIT $4`, like, string(f.Role), f.Disabled, limit)
	if err != nil {
		return nil, fmt.Errorf("search users: %w", err)
	}
	defer rows.Close()
	var out []wire.AdminUser
	for rows.Next() {
		u, org, last, err := scanAdminUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, adminUser(u, org, last))
	}
	return out, rows.Err()
}

// AdminUserByID reads one user as administrators see them.
func (q Q) AdminUserByID(ctx context.Context, id int64) (wire.AdminUser, error) {
	u, org, last, err := scanAdminUser(q.q.QueryRow(ctx, `SELECT `+userCols+`,
			coalesce((SELECT o.name FROM memberships m JOIN organisations o ON o.id = m.org_id WHERE m.user_id = u.id ORDER BY m.org_id LIMIT 1), ''),
			(SELECT max(h.at) FROM login_history h WHERE h.user_id = u.id AND h.success)
		FROM users u WHERE u.id = $1`, id))
	if err != nil {
		return wire.AdminUser{}, mapErr(err, "admin user")
	}
	return adminUser(u, org, last), nil
}

func scanAdminUser(row pgx.Row) (*UserRow, string, *time.Time, error) {
	var u UserRow
	var role, org string
	var last *time.Time
	err := row.Scan(&u.ID, &u.Login, &u.FullName, &u.Email, &u.Phone, &role, &u.TOTPEnabled, &u.Disabled,
		&u.Version, &u.CreatedAt, &u.PasswordHash, &u.TOTPSecret, &u.TOTPLastStep, &u.FailedLogins,
		&u.LockedUntil, &u.OrgIDs, &org, &last)
	if err != nil {
		return nil, "", nil, err
	}
	u.Role = wire.Role(role)
	if len(u.OrgIDs) > 0 {
		u.OrgID = u.OrgIDs[0]
	}
	return &u, org, last, nil
}

func adminUser(u *UserRow, org string, last *time.Time) wire.AdminUser {
	return wire.AdminUser{User: u.User, LockedUntil: u.LockedUntil, FailedLogins: u.FailedLogins, OrgName: org, LastLoginAt: last}
}

// escapeLike makes s match literally inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListOrganisations lists organisations with their member and
// application counts, by name; text matches name, short name or INN.
func (q Q) ListOrganisations(ctx context.Context, text string) ([]wire.OrganisationSummary, error) {
	like := ""
	if t := strings.TrimSpace(text); t != "" {
		like = "%" + escapeLike(strings.ToLower(t)) + "%"
	}
	rows, err := q.q.Query(ctx, `SELECT o.id, o.name, o.short_name, o.inn, o.ogrn, o.kpp, o.address, o.email, o.phone, o.version, o.created_at,
			(SELECT count(*) FROM memberships m WHERE m.org_id = o.id)::int,
			(SELECT count(*) FROM applications a WHERE a.org_id = o.id AND a.deleted_at IS NULL)::int
		FROM organisations o
		WHERE $1 = '' OR lower(o.name) LIKE $1 OR lower(o.short_name) LIKE $1 OR o.inn LIKE $1
		ORDER BY o.name, o.id`, like)
	if err != nil {
		return nil, fmt.Errorf("list organisations: %w", err)
	}
	defer rows.Close()
	var out []wire.OrganisationSummary
	for rows.Next() {
		var o wire.OrganisationSummary
		if err := rows.Scan(&o.ID, &o.Name, &o.ShortName, &o.INN, &o.OGRN, &o.KPP, &o.Address, &o.Email, &o.Phone, &o.Version, &o.CreatedAt,
			&o.Members, &o.Applications); err != nil {
			return nil, fmt.Errorf("scan organisation: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// UpdateOrganisation writes an organisation's details if its version is
// still seen; a stale one is a Conflict carrying the current version.
func (t *Tx) UpdateOrganisation(ctx context.Context, o wire.Organisation, seen int64) error {
	tag, err := t.q.Exec(ctx, `UPDATE organisations SET name = $3, short_name = $4, ogrn = $5, kpp = $6, address = $7, email = $8, phone = $9,
		version = version + 1, updated_at = $10 WHERE id = $1 AND version = $2`,
		o.ID, seen, o.Name, o.ShortName, o.OGRN, o.KPP, o.Address, o.Email, o.Phone, t.now)
	if err != nil {
		return mapErr(err, "update organisation")
	}
	if tag.RowsAffected() == 0 {
		e := wire.E(wire.CodeConflict, "version", "Организацию уже изменили — обновите список и повторите", "The organisation was changed meanwhile — reload and try again")
		e.Current = o.Version
		return e
	}
	return nil
}

// Unlock clears the failed-login counter and lock.
func (t *Tx) Unlock(ctx context.Context, userID int64) error {
	return t.ResetLoginFailures(ctx, userID)
}

// finishedStatuses are the statuses in which an application is no
// longer anyone's work.
const finishedStatuses = `'draft','returned','completed_positive','completed_negative','withdrawn','archived'`

// ExpertLoads lists active experts with the unfinished applications they
// lead or review sections of.
func (q Q) ExpertLoads(ctx context.Context) ([]wire.ExpertLoad, error) {
	rows, err := q.q.Query(ctx, `WITH live AS (
		SELECT id, lead_expert_id FROM applications WHERE deleted_at IS NULL AND status NOT IN (`+finishedStatuses+`)
	), per_app AS (
		SELECT x.expert_id, x.app_id, bool_or(x.lead) AS lead, sum(x.sections)::int AS sections
		FROM (SELECT s.expert_id, s.app_id, false AS lead, 1 AS sections FROM assignments s JOIN live l ON l.id = s.app_id
			UNION ALL
			SELECT l.lead_expert_id, l.id, true, 0 FROM live l WHERE l.lead_expert_id IS NOT NULL) x
		GROUP BY x.expert_id, x.app_id
	)
	SELECT u.id, u.login, u.full_name, count(pa.app_id)::int, (count(pa.app_id) FILTER (WHERE pa.lead))::int, coalesce(sum(pa.sections), 0)::int
	FROM users u LEFT JOIN per_app pa ON pa.expert_id = u.id
	WHERE u.role = 'expert' AND NOT u.disabled
	GROUP BY u.id, u.login, u.full_name
	ORDER BY u.full_name, u.id`)
	if err != nil {
		return nil, fmt.Errorf("expert loads: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (wire.ExpertLoad, error) {
		var e wire.ExpertLoad
		err := r.Scan(&e.ExpertID, &e.Login, &e.FullName, &e.Applications, &e.Lead, &e.Sections)
		return e, err
	})
}

// SetCalendarDay stores one exception of the calendar.
func (t *Tx) SetCalendarDay(ctx context.Context, d wire.CalendarDay) error {
	_, err := t.q.Exec(ctx, `INSERT INTO calendar_days (day, working, note) VALUES ($1,$2,$3)
		ON CONFLICT (day) DO UPDATE SET working = EXCLUDED.working, note = EXCLUDED.note`, d.Day.Time(), d.Working, d.Note)
	return mapErr(err, "set calendar day")
}

// DeleteCalendarDay removes one exception: the day follows the week again.
func (t *Tx) DeleteCalendarDay(ctx context.Context, day wire.Date) error {
	_, err := t.q.Exec(ctx, `DELETE FROM calendar_days WHERE day = $1`, day.Time())
	return mapErr(err, "delete calendar day")
}

// ReplaceCalendarYear replaces every exception of a year and returns how
// many were there before.
func (t *Tx) ReplaceCalendarYear(ctx context.Context, year int, days []wire.CalendarDay) (int, error) {
	tag, err := t.q.Exec(ctx, `DELETE FROM calendar_days WHERE extract(year FROM day) = $1`, year)
	if err != nil {
		return 0, mapErr(err, "clear calendar year")
	}
	for _, d := range days {
		if err := t.SetCalendarDay(ctx, d); err != nil {
			return 0, err
		}
	}
	return int(tag.RowsAffected()), nil
}

// ServerCounts fills the database part of the server's state.
func (q Q) ServerCounts(ctx context.Context, now time.Time, s *wire.ServerStatus) error {
	err := q.q.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM mail_queue WHERE state = 'pending')::int,
		(SELECT count(*) FROM mail_queue WHERE state = 'failed')::int,
		(SELECT count(*) FROM remark_notices WHERE letter_sha256 IS NULL)::int,
		(SELECT count(*) FROM contract_documents WHERE sha256 IS NULL)::int,
		(SELECT count(*) FROM conclusions WHERE approved_at IS NOT NULL AND pdf_sha256 IS NULL)::int,
		(SELECT count(*) FROM (SELECT DISTINCT sha256 FROM document_versions) f),
		coalesce((SELECT sum(size) FROM (SELECT DISTINCT ON (sha256) size FROM document_versions ORDER BY sha256) f), 0)::bigint,
		pg_database_size(current_database()),
		(SELECT count(*) FROM users)::int,
		(SELECT count(*) FROM sessions WHERE revoked_at IS NULL AND expires_at > $1)::int,
		(SELECT count(*) FROM support_requests WHERE status <> 'closed')::int,
		(SELECT last FROM change_counter WHERE id = 1)`, now).Scan(
		&s.MailPending, &s.MailFailed, &s.LettersPending, &s.ContractDocsPending, &s.ConclusionsPending,
		&s.FilesCount, &s.FilesBytes, &s.DBBytes, &s.Users, &s.ActiveSessions, &s.OpenSupport, &s.LastSeq)
	return mapErr(err, "server counts")
}
