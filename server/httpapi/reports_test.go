package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

type reportClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *reportClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *reportClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// reportCast is a server whose history was made through the API at known
// Moscow times in March 2026 (9 March is a holiday):
//
//	X project_docs, lead E1, section 07.03 E2: submitted 2 Mar 10:00,
//	  awaiting_contract 4 Mar 12:00, awaiting_payment 6 Mar 09:00,
//	  in_review 10 Mar 11:00
//	Y estimate, lead E2: submitted 3 Mar 23:30, needs_correction 5 Mar 00:30,
//	  submitted 11 Mar 10:00, awaiting_contract 12 Mar 10:00
//	W project_docs, lead E1: submitted 6 Mar 10:00 (completeness due 12 Mar)
//	Z project_docs: submitted 12 Mar 10:00 (completeness due 17 Mar)
//
// and "now" is Monday 16 March 2026, 12:00.
type reportCast struct {
	s                                     *boot.Server
	clk                                   *reportClock
	applicant, manager, admin, e1, e2, e3 *testenv.Actor
	x, y, w, z                            wire.Application
}

var msk = time.FixedZone("MSK", 3*3600)

func at(day, hour, min int) time.Time { return time.Date(2026, time.March, day, hour, min, 0, 0, msk) }

func newReportCast(t *testing.T) *reportCast {
	t.Helper()
	ctx := context.Background()
	clk := &reportClock{now: time.Now()} // real time while signing in: TOTP codes are made with it
	cfg := testenv.Config()
	cfg.IdleTimeout, cfg.AbsoluteTimeout = 100000*time.Hour, 100000*time.Hour // the clock is set months back
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: cfg, Log: testenv.Logger(t),
		DataDir: t.TempDir(), ValidateWorker: testenv.ValidateWorker, FontCache: testenv.FontCache(), Clock: clk.Now})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	c := &reportCast{s: s, clk: clk, applicant: testenv.Applicant(t, s), manager: testenv.Staff(t, s, wire.RoleManager, 0),
		admin: testenv.Staff(t, s, wire.RoleAdmin, 0)}
	c.e1 = testenv.Staff(t, s, wire.RoleExpert, 0)
	c.e2 = testenv.Staff(t, s, wire.RoleExpert, 0)
	c.e3 = testenv.Staff(t, s, wire.RoleExpert, 0)
	uploader := &world{t: t, s: s, actors: map[string]*testenv.Actor{"member": c.applicant}, versions: map[int64]int64{}}

	create := func(kind wire.ExpertiseKind, name string) wire.Application {
		t.Helper()
		works, fin := wire.WorksConstruction, wire.FinancingBudget
		addr := "г. Тверь"
		a, err := c.applicant.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: &name, ObjectAddress: &addr,
			WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
		if err != nil {
			t.Fatal(err)
		}
		uploader.upload(a.ID, true)
		return a
	}
	move := func(a *wire.Application, who *testenv.Actor, when time.Time, to wire.Status, comment string) {
		t.Helper()
		clk.Set(when)
		got, err := who.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: to, Comment: comment}, "")
		if err != nil {
			t.Fatalf("%s → %s at %s: %v", a.Status, to, when, err)
		}
		*a = got
	}
	assign := func(a *wire.Application, lead *testenv.Actor, sections ...wire.Assignment) {
		t.Helper()
		got, err := c.manager.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: lead.ID, Assignments: sections}, "")
		if err != nil {
			t.Fatal(err)
		}
		*a = got
	}
	c.x, c.y = create(wire.KindProjectDocs, "Школа"), create(wire.KindEstimate, "Смета школы")
	c.w, c.z = create(wire.KindProjectDocs, "Мост"), create(wire.KindProjectDocs, "Склад")

	move(&c.x, c.applicant, at(2, 10, 0), wire.StatusSubmitted, "")
	assign(&c.x, c.e1, wire.Assignment{Section: "07.03", ExpertID: c.e2.ID})
	move(&c.y, c.applicant, at(3, 23, 30), wire.StatusSubmitted, "")
	assign(&c.y, c.e2)
	move(&c.x, c.manager, at(4, 12, 0), wire.StatusAwaitingContract, "")
	move(&c.y, c.manager, at(5, 0, 30), wire.StatusNeedsCorrection, "Дополните смету")
	move(&c.x, c.applicant, at(6, 9, 0), wire.StatusAwaitingPayment, "")
	move(&c.w, c.applicant, at(6, 10, 0), wire.StatusSubmitted, "")
	assign(&c.w, c.e1)
	move(&c.x, c.manager, at(10, 11, 0), wire.StatusInReview, "")
	move(&c.y, c.applicant, at(11, 10, 0), wire.StatusSubmitted, "")
	move(&c.y, c.manager, at(12, 10, 0), wire.StatusAwaitingContract, "")
	move(&c.z, c.applicant, at(12, 10, 0), wire.StatusSubmitted, "")
	clk.Set(at(16, 12, 0))
	return c
}

func TestReportsThroughTheAPI(t *testing.T) {
	c := newReportCast(t)
	ctx := context.Background()
	march := wire.ReportQuery{From: wire.Date{Year: 2026, Month: time.March, Day: 1}, To: wire.Date{Year: 2026, Month: time.March, Day: 16}}

	t.Run("stage times", func(t *testing.T) {
		got, err := c.manager.C.StageTimesReport(ctx, march)
		if err != nil {
			t.Fatal(err)
		}
		row := func(stage wire.Status, kind wire.ExpertiseKind, n int, avg float64, lo, hi int) wire.StageTimeRow {
			return wire.StageTimeRow{Stage: stage, Kind: kind, Count: n, AverageDays: avg, MinDays: lo, MaxDays: hi}
		}
		// X submitted 2→4 Mar = 2 working days, awaiting_contract 4→6 = 2,
		// awaiting_payment 6→10 = 1 (9 Mar off); Y submitted 3→5 = 2 (its
		// 00:30 change is on 5 March in Moscow), needs_correction 5→11 = 3,
		// submitted 11→12 = 1. Stays still running are not measured.
		want := wire.StageTimesReport{From: march.From, To: march.To, Rows: []wire.StageTimeRow{
			row(wire.StatusSubmitted, "", 3, 5.0/3, 1, 2),
			row(wire.StatusSubmitted, wire.KindProjectDocs, 1, 2, 2, 2),
			row(wire.StatusSubmitted, wire.KindEstimate, 2, 1.5, 1, 2),
			row(wire.StatusNeedsCorrection, "", 1, 3, 3, 3),
			row(wire.StatusNeedsCorrection, wire.KindEstimate, 1, 3, 3, 3),
			row(wire.StatusAwaitingContract, "", 1, 2, 2, 2),
			row(wire.StatusAwaitingContract, wire.KindProjectDocs, 1, 2, 2, 2),
			row(wire.StatusAwaitingPayment, "", 1, 1, 1, 1),
			row(wire.StatusAwaitingPayment, wire.KindProjectDocs, 1, 1, 1, 1),
		}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("mismatch (-want +got):\n%s", d)
		}
	})

	t.Run("status timeline", func(t *testing.T) {
		q := march
		q.From = wire.Date{Year: 2026, Month: time.March, Day: 3}
		q.To = wire.Date{Year: 2026, Month: time.March, Day: 6}
		got, err := c.manager.C.StatusTimelineReport(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		S := []wire.Status{wire.StatusSubmitted, wire.StatusNeedsCorrection, wire.StatusAwaitingContract, wire.StatusAwaitingPayment}
		pt := func(d int, counts ...int) wire.TimelinePoint {
			p := wire.TimelinePoint{Day: wire.Date{Year: 2026, Month: time.March, Day: d}, Counts: counts}
			for _, n := range counts {
				p.Total += n
			}
			return p
		}
		want := wire.StatusTimelineReport{From: q.From, To: q.To, Step: wire.StepDay, Statuses: S, Points: []wire.TimelinePoint{
			pt(3, 2, 0, 0, 0), // X, Y submitted
			pt(4, 1, 0, 1, 0), // X awaiting the contract
			pt(5, 0, 1, 1, 0), // Y sent back at 00:30
			pt(6, 1, 1, 0, 1), // W submitted, X awaiting payment
		}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("mismatch (-want +got):\n%s", d)
		}
	})

	t.Run("workload", func(t *testing.T) {
		got, err := c.manager.C.WorkloadReport(ctx, march)
		if err != nil {
			t.Fatal(err)
		}
		sc := func(s wire.Status, n int) wire.StatusCount { return wire.StatusCount{Status: s, Count: n} }
		want := map[int64]wire.WorkloadRow{
			c.e1.ID: {ExpertID: c.e1.ID, ExpertName: c.e1.FullName, Applications: 2, Lead: 2, Sections: 0,
				ByStatus: []wire.StatusCount{sc(wire.StatusSubmitted, 1), sc(wire.StatusInReview, 1)}},
			c.e2.ID: {ExpertID: c.e2.ID, ExpertName: c.e2.FullName, Applications: 2, Lead: 1, Sections: 1,
				ByStatus: []wire.StatusCount{sc(wire.StatusAwaitingContract, 1), sc(wire.StatusInReview, 1)}},
			c.e3.ID: {ExpertID: c.e3.ID, ExpertName: c.e3.FullName, ByStatus: []wire.StatusCount{}},
		}
		if len(got.Rows) != len(want) {
			t.Fatalf("%d rows, want %d: %+v", len(got.Rows), len(want), got.Rows)
		}
		for _, r := range got.Rows {
			if d := cmp.Diff(want[r.ExpertID], r); d != "" {
				t.Errorf("expert %d mismatch (-want +got):\n%s", r.ExpertID, d)
			}
		}
		// An expert gets their own row only, whatever they ask for.
		own, err := c.e2.C.WorkloadReport(ctx, march)
		if err != nil {
			t.Fatal(err)
		}
		if len(own.Rows) != 1 || own.ExpertID != c.e2.ID || own.Rows[0].Applications != 2 {
			t.Errorf("E2's own workload: %+v", own)
		}
	})

	t.Run("deadlines", func(t *testing.T) {
		got, err := c.manager.C.DeadlinesReport(ctx, wire.ReportQuery{})
		if err != nil {
			t.Fatal(err)
		}
		// W: due 12 Mar (6 Mar + 10, 11, 12), on 16 Mar two working days
		// late (13 and 16). Z: due 17 Mar (13, 16, 17), one day left. X's
		// review runs to May; Y's completeness clock stopped.
		want := wire.DeadlinesReport{Today: wire.Date{Year: 2026, Month: time.March, Day: 16}, AtRisk: 1, Overdue: 1, Rows: []wire.DeadlineRow{
			{AppID: c.w.ID, Number: c.w.Number, ObjectName: "Мост", Status: wire.StatusSubmitted, Stage: wire.StageCompleteness,
				Due: wire.Date{Year: 2026, Month: time.March, Day: 12}, DaysLeft: -2, Overdue: true, LeadExpertID: c.e1.ID, LeadExpertName: c.e1.FullName},
			{AppID: c.z.ID, Number: c.z.Number, ObjectName: "Склад", Status: wire.StatusSubmitted, Stage: wire.StageCompleteness,
				Due: wire.Date{Year: 2026, Month: time.March, Day: 17}, DaysLeft: 1},
		}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("mismatch (-want +got):\n%s", d)
		}
		mine, err := c.e1.C.DeadlinesReport(ctx, wire.ReportQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if len(mine.Rows) != 1 || mine.Rows[0].AppID != c.w.ID {
			t.Errorf("E1's deadlines: %+v, want W only", mine.Rows)
		}
	})

	t.Run("refusals", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			call  func() error
			code  wire.Code
			field string
		}{
			{"applicant", func() error { _, err := c.applicant.C.WorkloadReport(ctx, march); return err }, wire.CodeForbidden, ""},
			{"expert asks about another", func() error {
				q := march
				q.ExpertID = c.e1.ID
				_, err := c.e2.C.StageTimesReport(ctx, q)
				return err
			}, wire.CodeForbidden, ""},
			{"manager names a non-expert", func() error {
				q := march
				q.ExpertID = c.admin.ID
				_, err := c.manager.C.WorkloadReport(ctx, q)
				return err
			}, wire.CodeInvalid, "expert"},
			{"end before start", func() error {
				_, err := c.manager.C.WorkloadReport(ctx, wire.ReportQuery{From: march.To, To: march.From})
				return err
			}, wire.CodeInvalid, "to"},
			{"a daily timeline of two years", func() error {
				_, err := c.manager.C.StatusTimelineReport(ctx, wire.ReportQuery{From: wire.Date{Year: 2024, Month: 1, Day: 1}, To: march.To})
				return err
			}, wire.CodeInvalid, "from"},
			{"a step on the workload", func() error {
				_, err := c.manager.C.WorkloadReport(ctx, wire.ReportQuery{Step: wire.StepWeek})
				return err
			}, wire.CodeInvalid, "step"},
			{"an unknown parameter", func() error {
				return c.manager.C.Call(ctx, http.MethodGet, "/reports/workload?"+url.Values{"period": {"month"}}.Encode(), nil, nil, "")
			}, wire.CodeInvalid, "period"},
			{"a malformed date", func() error {
				return c.manager.C.Call(ctx, http.MethodGet, "/reports/stage-times?from=2026-02-30", nil, nil, "")
			}, wire.CodeInvalid, "from"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.call()
				var we *wire.Error
				if !errors.As(err, &we) || we.Code != tc.code || we.Field != tc.field {
					t.Fatalf("error %v, want %s on %q", err, tc.code, tc.field)
				}
			})
		}
	})

	t.Run("a weekly timeline of a year", func(t *testing.T) {
		got, err := c.admin.C.StatusTimelineReport(ctx, wire.ReportQuery{From: wire.Date{Year: 2025, Month: 3, Day: 17}, To: march.To, Step: wire.StepWeek})
		if err != nil {
			t.Fatal(err)
		}
		// 52 Sundays and the last day, a Monday.
		if len(got.Points) != 53 || got.Points[52].Day != march.To || got.Points[52].Total != 4 {
			t.Errorf("%d points, last %+v", len(got.Points), got.Points[len(got.Points)-1])
		}
	})
}
