package store_test

import (
	"context"
	"flag"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/store"
)

// seedOffice is an office of 50 experts and 10,000 applications filed over
// 2025 with 1 to 8 status changes each (80 % still running), 3 section
// assignments each, review deadlines and 5 remarks per application.
const seedOffice = `
INSERT INTO organisations (id, name, inn, ogrn) VALUES (1, 'ООО «Стройка»', '7700000001', '1027700000001');
INSERT INTO users (id, login, full_name, role, password_hash)
	SELECT g, 'e' || g, 'Эксперт ' || g, 'expert', 'x' FROM generate_series(1, 50) g;
INSERT INTO users (id, login, full_name, role, password_hash) VALUES (51, 'a', 'Заявитель', 'applicant', 'x');
INSERT INTO applications (id, number, org_id, object_name, object_address, works_kind, expertise_kind, financing, status, lead_expert_id, created_by)
	SELECT g, 'ГГЭ-2025-' || lpad(g::text, 6, '0'), 1, 'Объект ' || g, 'Тверь', 'construction',
		(ARRAY['project_docs','surveys','project_docs_surveys','estimate'])[1 + g % 4], 'budget', 'draft', 1 + g % 50, 51
	FROM generate_series(1, 10000) g;
WITH path(i, st) AS (VALUES (1, 'submitted'), (2, 'awaiting_contract'), (3, 'awaiting_payment'), (4, 'in_review'),
	(5, 'remarks_issued'), (6, 'in_review'), (7, 'conclusion'), (8, 'completed_positive'))
INSERT INTO status_history (app_id, from_status, to_status, actor_name, at)
	SELECT a.id, lag(p.st, 1, 'draft') OVER (PARTITION BY a.id ORDER BY p.i), p.st, 'x', timestamptz '2025-01-01 10:00+03' + (a.id % 365) * interval '1 day' + p.i * (1 + a.id % 7) * interval '1 day'
	FROM applications a JOIN path p ON p.i <= 1 + a.id % 8;
UPDATE applications a SET status = h.to_status
	FROM (SELECT DISTINCT ON (app_id) app_id, to_status FROM status_history ORDER BY app_id, at DESC) h WHERE h.app_id = a.id;
-- A tenth of the applications were filed and never submitted.
DELETE FROM status_history WHERE app_id % 10 = 0;
UPDATE applications SET status = 'draft' WHERE id % 10 = 0;
INSERT INTO assignments (app_id, section, expert_id)
	SELECT a.id, s.section, 1 + (a.id * s.k) % 50 FROM applications a
	CROSS JOIN (VALUES ('07.01', 3), ('07.03', 7), ('07.04', 11)) s(section, k);
INSERT INTO deadlines (app_id, kind, starts_on, due_on)
	SELECT id, 'review', date '2025-06-01' + (id % 200)::int, date '2025-07-01' + (id % 200)::int FROM applications;
INSERT INTO remarks (app_id, section, body, norm_ref, criticality, status, author_id)
	SELECT a.id, '07.01', 'Замечание', 'СП 1', 'ordinary',
		(ARRAY['draft','published','answered','accepted','reopened','closed'])[1 + (a.id + r) % 6], 1 + (a.id * 3) % 50
	FROM applications a CROSS JOIN generate_series(1, 5) r;
INSERT INTO calendar_days (day, working) VALUES ('2025-01-01', false), ('2025-05-01', false), ('2025-06-12', false), ('2025-11-04', false);
ANALYZE;
`

// lastQuery records the SQL and arguments of the latest query of a pool.
type lastQuery struct {
	mu   sync.Mutex
	sql  string
	args []any
}

func (l *lastQuery) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	l.sql, l.args = d.SQL, d.Args
	l.mu.Unlock()
	return ctx
}

func (l *lastQuery) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// seededOffice returns a store over the seeded office and the recorder of
// its queries.
func seededOffice(tb testing.TB) (*store.Store, *pgxpool.Pool, *lastQuery) {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDB(tb))
	if err != nil {
		tb.Fatal(err)
	}
	rec := &lastQuery{}
	cfg.ConnConfig.Tracer = rec
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	loadFixture(tb, pool, seedOffice)
	return store.New(pool), pool, rec
}

type reportCase struct {
	name string
	run  func(context.Context, store.Q) error
	// indexes the plan must use: the expert's applications are found
	// through the assignment and lead indexes, not by reading every
	// application. (Whether their history is then read through its index
	// or in one scan is the planner's call: an expert here has 8 % of it.)
	indexes []string
}

func reportCases() []reportCase {
	year := store.ReportFilter{From: day("2025-01-01"), To: day("2025-12-31")}
	quarter := store.ReportFilter{From: day("2025-04-01"), To: day("2025-06-30")}
	one := func(f store.ReportFilter) store.ReportFilter { f.ExpertID = 7; return f }
	expertIdx := []string{"assignments_expert_idx", "applications_lead_idx"}
	return []reportCase{
		{"workload/office/quarter", func(ctx context.Context, q store.Q) error { _, err := q.WorkloadRows(ctx, quarter); return err }, nil},
		{"workload/expert/quarter", func(ctx context.Context, q store.Q) error { _, err := q.WorkloadRows(ctx, one(quarter)); return err },
			expertIdx},
		{"deadlines/office", func(ctx context.Context, q store.Q) error {
			_, err := q.DeadlineRows(ctx, store.ReportFilter{}, day("2025-09-01"))
			return err
		}, nil},
		{"deadlines/expert", func(ctx context.Context, q store.Q) error {
			_, err := q.DeadlineRows(ctx, store.ReportFilter{ExpertID: 7}, day("2025-09-01"))
			return err
		}, expertIdx},
		{"timeline/office/quarter-daily", func(ctx context.Context, q store.Q) error {
			_, err := q.StatusTimeline(ctx, quarter, false)
			return err
		}, nil},
		{"timeline/office/year-weekly", func(ctx context.Context, q store.Q) error { _, err := q.StatusTimeline(ctx, year, true); return err }, nil},
		{"timeline/expert/year-weekly", func(ctx context.Context, q store.Q) error {
			_, err := q.StatusTimeline(ctx, one(year), true)
			return err
		}, expertIdx},
		{"stage-times/office/year", func(ctx context.Context, q store.Q) error { _, err := q.StageTimes(ctx, year); return err }, nil},
		{"stage-times/expert/year", func(ctx context.Context, q store.Q) error { _, err := q.StageTimes(ctx, one(year)); return err },
			expertIdx},
	}
}

// TestReportPlans runs every report on the seeded office, then EXPLAIN
// ANALYZE of the very statement it sent, and checks the expert-narrowed
// ones use the indexes that keep them proportional to one expert's share.
// With -v it logs each plan's execution time (`-args plans` prints the
// whole plans); speed itself is measured by BenchmarkReports.
func TestReportPlans(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 10,000 applications")
	}
	s, pool, rec := seededOffice(t)
	ctx := context.Background()
	for _, c := range reportCases() {
		t.Run(c.name, func(t *testing.T) {
			if err := c.run(ctx, s.Read()); err != nil {
				t.Fatal(err)
			}
			rec.mu.Lock()
			sql, args := rec.sql, rec.args
			rec.mu.Unlock()
			rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(lines, "\n")
			for _, idx := range c.indexes {
				if !strings.Contains(plan, idx) {
					t.Errorf("the plan does not use %s:\n%s", idx, plan)
				}
			}
			t.Logf("%s", lines[len(lines)-1]) // Execution Time
			if slices.Contains(flag.Args(), "plans") {
				t.Logf("\n%s", plan)
			}
		})
	}
}

// BenchmarkReports times each report on the seeded office.
func BenchmarkReports(b *testing.B) {
	s, _, _ := seededOffice(b)
	ctx := context.Background()
	for _, c := range reportCases() {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.run(ctx, s.Read()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
