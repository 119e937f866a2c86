package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// The office reports (wire.ReportKind): one SQL statement each, aggregated
// in the database. Instants become dates in Moscow time (UTC+3 without
// daylight saving, as wire.DateOf), whatever the session's time zone.

// mskDate is the SQL for the Moscow date of a timestamptz expression.
func mskDate(expr string) string {
	return "((" + expr + ") AT TIME ZONE 'UTC' + interval '3 hours')::date"
}

// startOfDay is the instant a Moscow date begins.
func startOfDay(d wire.Date) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.FixedZone("MSK", 3*3600))
}

// terminalSQL lists the statuses that end an application's work.
var terminalSQL = func() string {
	var ss []string
	for _, s := range wire.AllStatuses {
		if s.Terminal() {
			ss = append(ss, "'"+string(s)+"'")
		}
	}
	return strings.Join(ss, ",")
}()

// ReportFilter narrows a report: the period (both days included; a zero
// bound is open where the report allows it) and one expert's applications.
type ReportFilter struct {
	From, To wire.Date
	ExpertID int64
}

// scopeSQL is the condition an application a must meet: not deleted, not a
// draft, and with an expert given, led or reviewed in part by that expert.
// The expert's applications are found through the assignments and lead
// indexes, not by testing every application.
func (f ReportFilter) scopeSQL(arg func(any) string) string {
	w := "a.deleted_at IS NULL AND a.status <> 'draft'"
	if f.ExpertID != 0 {
		w += " AND a.id IN (" + f.expertAppsSQL(arg) + ")"
	}
	return w
}

// expertAppsSQL selects the ids of the filter expert's applications.
func (f ReportFilter) expertAppsSQL(arg func(any) string) string {
	p := arg(f.ExpertID)
	return "SELECT app_id FROM assignments WHERE expert_id = " + p + " UNION SELECT id FROM applications WHERE lead_expert_id = " + p
}

type sqlArgs struct{ args []any }

func (s *sqlArgs) arg(v any) string {
	s.args = append(s.args, v)
	return fmt.Sprintf("$%d", len(s.args))
}

// WorkloadRows computes the workload report: for every active expert (or
// the one of the filter) the applications in work during the period —
// submitted before its end, not finished before its start — that the
// expert leads or reviews sections of, split by current status, with the
// expert's open remarks on them.
func (q Q) WorkloadRows(ctx context.Context, f ReportFilter) ([]wire.WorkloadRow, error) {
	var a sqlArgs
	scope := f.scopeSQL(a.arg)
	toEnd := a.arg(startOfDay(f.To.AddDays(1)))
	fromStart := a.arg(startOfDay(f.From))
	experts := "(u.role = 'expert' AND NOT u.disabled) OR u.id IN (SELECT expert_id FROM per_app) OR u.id IN (SELECT expert_id FROM open_remarks)"
	if f.ExpertID != 0 {
		experts = "u.id = " + a.arg(f.ExpertID)
	}
	// One pass over the history finds when each application was first
	// submitted and when it finished; narrowed to one expert, only that
	// expert's applications' history is read.
	histWhere := ""
	if f.ExpertID != 0 {
		histWhere = " WHERE h.app_id IN (" + f.expertAppsSQL(a.arg) + ")"
	}
	sql := `WITH hist AS (
	SELECT h.app_id, min(h.at) AS opened, min(h.at) FILTER (WHERE h.to_status IN (` + terminalSQL + `)) AS closed
	FROM status_history h` + histWhere + `
	GROUP BY h.app_id
), live AS (
	SELECT a.id, a.status, a.lead_expert_id
	FROM applications a JOIN hist l ON l.app_id = a.id
	WHERE ` + scope + ` AND l.opened < ` + toEnd + ` AND (l.closed IS NULL OR l.closed >= ` + fromStart + `)
), per_app AS (
	SELECT x.expert_id, x.app_id, bool_or(x.lead) AS lead, sum(x.sections)::int AS sections
	FROM (SELECT s.expert_id, s.app_id, false AS lead, 1 AS sections FROM assignments s JOIN live l ON l.id = s.app_id
		UNION ALL
		SELECT l.lead_expert_id, l.id, true, 0 FROM live l WHERE l.lead_expert_id IS NOT NULL) x
	GROUP BY x.expert_id, x.app_id
), open_remarks AS (
	SELECT r.author_id AS expert_id, count(*)::int AS n
	FROM remarks r JOIN live l ON l.id = r.app_id
	WHERE r.deleted_at IS NULL AND r.status IN ('published','answered','reopened')
	GROUP BY r.author_id
), experts AS (
	SELECT u.id, u.full_name FROM users u WHERE ` + experts + `
)
SELECT e.id, e.full_name, coalesce(o.n, 0), coalesce(l.status, ''),
	count(pa.app_id)::int, (count(*) FILTER (WHERE pa.lead))::int, coalesce(sum(pa.sections), 0)::int
FROM experts e
LEFT JOIN per_app pa ON pa.expert_id = e.id
LEFT JOIN live l ON l.id = pa.app_id
LEFT JOIN open_remarks o ON o.expert_id = e.id
GROUP BY e.id, e.full_name, o.n, l.status
ORDER BY e.full_name, e.id`
	rows, err := q.q.Query(ctx, sql, a.args...)
	if err != nil {
		return nil, fmt.Errorf("workload report: %w", err)
	}
	defer rows.Close()
	var out []wire.WorkloadRow
	for rows.Next() {
		var id int64
		var name, status string
		var open, apps, lead, sections int
		if err := rows.Scan(&id, &name, &open, &status, &apps, &lead, &sections); err != nil {
			return nil, fmt.Errorf("scan workload row: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].ExpertID != id {
			out = append(out, wire.WorkloadRow{ExpertID: id, ExpertName: name, OpenRemarks: open, ByStatus: []wire.StatusCount{}})
		}
		r := &out[len(out)-1]
		r.Applications += apps
		r.Lead += lead
		r.Sections += sections
		if status != "" && apps > 0 {
			r.ByStatus = append(r.ByStatus, wire.StatusCount{Status: wire.Status(status), Count: apps})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("workload report: %w", err)
	}
	for i := range out {
		slices.SortFunc(out[i].ByStatus, func(x, y wire.StatusCount) int {
			return slices.Index(wire.AllStatuses, x.Status) - slices.Index(wire.AllStatuses, y.Status)
		})
	}
	return out, nil
}

// DeadlineRows lists the running stage deadlines due before dueBefore
// (and within the filter's period where it has bounds), the earliest
// first: the completeness check while an application is submitted, the
// review while it is reviewed. The service counts the working days left.
func (q Q) DeadlineRows(ctx context.Context, f ReportFilter, dueBefore wire.Date) ([]wire.DeadlineRow, error) {
	var a sqlArgs
	where := []string{f.scopeSQL(a.arg),
		`((d.kind = 'completeness' AND a.status = 'submitted') OR (d.kind = 'review' AND a.status IN ('in_review','remarks_issued','conclusion')))`,
		"d.due_on < " + a.arg(dueBefore.Time()) + "::date"}
	if !f.From.IsZero() {
		where = append(where, "d.due_on >= "+a.arg(f.From.Time())+"::date")
	}
	if !f.To.IsZero() {
		where = append(where, "d.due_on <= "+a.arg(f.To.Time())+"::date")
	}
	sql := `SELECT a.id, a.number, a.object_name, a.status, d.kind, d.due_on, coalesce(a.lead_expert_id, 0), coalesce(u.full_name, '')
FROM deadlines d JOIN applications a ON a.id = d.app_id LEFT JOIN users u ON u.id = a.lead_expert_id
WHERE ` + strings.Join(where, " AND ") + `
ORDER BY d.due_on, a.number, d.kind`
	rows, err := q.q.Query(ctx, sql, a.args...)
	if err != nil {
		return nil, fmt.Errorf("deadlines report: %w", err)
	}
	defer rows.Close()
	var out []wire.DeadlineRow
	for rows.Next() {
		var r wire.DeadlineRow
		var status string
		var due time.Time
		if err := rows.Scan(&r.AppID, &r.Number, &r.ObjectName, &status, &r.Stage, &due, &r.LeadExpertID, &r.LeadExpertName); err != nil {
			return nil, fmt.Errorf("scan deadline row: %w", err)
		}
		r.Status = wire.Status(status)
		r.Due = wire.Date{Year: due.Year(), Month: due.Month(), Day: due.Day()}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deadlines report: %w", err)
	}
	return out, nil
}

// TimelineCount is the number of applications in a status at the end of a
// day.
type TimelineCount struct {
	Day    wire.Date
	Status wire.Status
	Count  int
}

// StatusTimeline counts, for every day of the filter's period (or with
// weekly only its Sundays and its last day), the applications in each
// status at the end of that Moscow day, from the status history. Every
// change on day D takes one application out of its from-status and puts
// one into its to-status from D on, so the count of a status on a day is
// the running sum of those steps up to it. The database sums the steps per
// day and status (those before the period into its first day), in one pass
// over the history without pairing changes; the running sums over at most
// a few hundred days are added up here. Zero counts are left out; drafts
// are never counted.
func (q Q) StatusTimeline(ctx context.Context, f ReportFilter, weekly bool) ([]TimelineCount, error) {
	var a sqlArgs
	scope := f.scopeSQL(a.arg)
	from := a.arg(f.From.Time()) + "::date"
	toEnd := a.arg(startOfDay(f.To.AddDays(1)))
	sql := `SELECT greatest(` + mskDate("h.at") + `, ` + from + `) AS d, x.status, sum(x.n)::int
FROM status_history h JOIN applications a ON a.id = h.app_id
CROSS JOIN LATERAL (VALUES (h.to_status, 1), (h.from_status, -1)) x(status, n)
WHERE ` + scope + ` AND h.at < ` + toEnd + ` AND x.status <> 'draft'
GROUP BY 1, 2
ORDER BY 1, 2`
	rows, err := q.q.Query(ctx, sql, a.args...)
	if err != nil {
		return nil, fmt.Errorf("status timeline report: %w", err)
	}
	defer rows.Close()
	type step struct {
		day    wire.Date
		status wire.Status
		n      int
	}
	var steps []step
	for rows.Next() {
		var s step
		var day time.Time
		var status string
		if err := rows.Scan(&day, &status, &s.n); err != nil {
			return nil, fmt.Errorf("scan timeline row: %w", err)
		}
		s.day, s.status = wire.Date{Year: day.Year(), Month: day.Month(), Day: day.Day()}, wire.Status(status)
		steps = append(steps, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("status timeline report: %w", err)
	}
	var out []TimelineCount
	count := map[wire.Status]int{}
	for d := f.From; !d.After(f.To); d = d.AddDays(1) {
		for len(steps) > 0 && !steps[0].day.After(d) {
			count[steps[0].status] += steps[0].n
			steps = steps[1:]
		}
		if weekly && d.Weekday() != time.Sunday && d != f.To {
			continue
		}
		for _, st := range wire.AllStatuses {
			if n := count[st]; n != 0 {
				out = append(out, TimelineCount{Day: d, Status: st, Count: n})
			}
		}
	}
	return out, nil
}

// StageTimes measures the stays in wire.ReportStages that ended within the
// filter's period, in working days by the calendar_days table (weekends
// off, a row of the table overriding a day either way, as wire.Calendar):
// per stage and expertise kind, and per stage for all kinds (Kind "").
// Working days between two dates are the difference of their ordinals in
// a numbering of working days over the span the stays cover.
func (q Q) StageTimes(ctx context.Context, f ReportFilter) ([]wire.StageTimeRow, error) {
	var a sqlArgs
	scope := f.scopeSQL(a.arg)
	from, to := a.arg(f.From.Time())+"::date", a.arg(f.To.Time())+"::date"
	toEnd := a.arg(startOfDay(f.To.AddDays(1)))
	stages := make([]string, len(wire.ReportStages))
	for i, s := range wire.ReportStages {
		stages[i] = string(s)
	}
	stagesArg := a.arg(stages)
	sql := `WITH iv AS (
	SELECT a.expertise_kind AS kind, h.to_status AS stage, ` + mskDate("h.at") + ` AS since,
		` + mskDate("lead(h.at) OVER (PARTITION BY h.app_id ORDER BY h.id)") + ` AS until
	FROM status_history h JOIN applications a ON a.id = h.app_id
	WHERE ` + scope + ` AND h.at < ` + toEnd + `
), done AS (
	SELECT kind, stage, since, until FROM iv
	WHERE until BETWEEN ` + from + ` AND ` + to + ` AND stage = ANY(` + stagesArg + `)
), ord AS (
	SELECT g.d::date AS d,
		count(*) FILTER (WHERE coalesce(c.working, extract(isodow FROM g.d) < 6)) OVER (ORDER BY g.d) AS n
	FROM generate_series((SELECT min(since) FROM done)::timestamp, (` + to + `)::timestamp, interval '1 day') g(d)
	LEFT JOIN calendar_days c ON c.day = g.d::date
), stays AS (
	SELECT d.kind, d.stage, (e.n - b.n)::int AS days
	FROM done d JOIN ord b ON b.d = d.since JOIN ord e ON e.d = d.until
)
SELECT stage, coalesce(kind, ''), count(*)::int, avg(days)::float8, min(days), max(days)
FROM stays GROUP BY GROUPING SETS ((stage, kind), (stage))`
	rows, err := q.q.Query(ctx, sql, a.args...)
	if err != nil {
		return nil, fmt.Errorf("stage times report: %w", err)
	}
	defer rows.Close()
	var out []wire.StageTimeRow
	for rows.Next() {
		var r wire.StageTimeRow
		var stage, kind string
		if err := rows.Scan(&stage, &kind, &r.Count, &r.AverageDays, &r.MinDays, &r.MaxDays); err != nil {
			return nil, fmt.Errorf("scan stage times row: %w", err)
		}
		r.Stage, r.Kind = wire.Status(stage), wire.ExpertiseKind(kind)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stage times report: %w", err)
	}
	// Lifecycle order of stages; within a stage the all-kinds row first,
	// then the kinds in their usual order.
	slices.SortFunc(out, func(x, y wire.StageTimeRow) int {
		if c := slices.Index(wire.ReportStages, x.Stage) - slices.Index(wire.ReportStages, y.Stage); c != 0 {
			return c
		}
		return kindOrder(x.Kind) - kindOrder(y.Kind)
	})
	return out, nil
}

func kindOrder(k wire.ExpertiseKind) int {
	if k == "" {
		return -1
	}
	return slices.Index(wire.AllExpertiseKinds, k)
}
