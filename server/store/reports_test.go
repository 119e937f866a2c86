package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// reportFixture is a known history in March 2026 (Moscow time). The
// calendar has 23 February and 9 March off and, to check the override
// both ways, Saturday 14 March working.
//
//	A1 project_docs, lead E1, sections 07.01 E1 and 07.03 E2:
//	   2 Mar 10:00 submitted, 4 Mar awaiting_contract, 6 Mar awaiting_payment,
//	   10 Mar in_review, 16 Mar remarks_issued (current)
//	A2 estimate, lead E2, section 07.01 E2:
//	   3 Mar 23:30 submitted, 5 Mar 00:30 needs_correction (a Moscow date
//	   unlike its UTC one), 11 Mar submitted, 12 Mar awaiting_contract (current)
//	A3 project_docs, lead E1: 2 Mar submitted, returned the same day
//	A4 project_docs: a draft, never submitted
//	A5 surveys, lead E3, sections 07.02 E3 and 07.04 E1:
//	   20 Feb submitted, 25 Feb awaiting_contract, 26 Feb awaiting_payment,
//	   27 Feb in_review, 13 Mar conclusion, 17 Mar completed_positive
//
// E4 is an idle expert, E5 a disabled idle one, M a manager.
const reportFixture = `
INSERT INTO organisations (id, name, inn, ogrn) VALUES (1, 'ООО «Стройка»', '7700000001', '1027700000001');
INSERT INTO users (id, login, full_name, role, password_hash, disabled) VALUES
	(1, 'e1', 'Абрамов А. А.', 'expert', 'x', false),
	(2, 'e2', 'Борисова Б. Б.', 'expert', 'x', false),
	(3, 'e3', 'Власов В. В.', 'expert', 'x', false),
	(4, 'e4', 'Григорьев Г. Г.', 'expert', 'x', false),
	(5, 'e5', 'Дмитриев Д. Д.', 'expert', 'x', true),
	(6, 'm', 'Менеджер М. М.', 'manager', 'x', false),
	(7, 'a', 'Заявитель З. З.', 'applicant', 'x', false);
INSERT INTO applications (id, number, org_id, object_name, object_address, works_kind, expertise_kind, financing, status, lead_expert_id, created_by) VALUES
	(1, 'ГГЭ-2026-000001', 1, 'Школа', 'Тверь', 'construction', 'project_docs', 'budget', 'remarks_issued', 1, 7),
	(2, 'ГГЭ-2026-000002', 1, 'Смета', 'Тверь', 'construction', 'estimate', 'budget', 'awaiting_contract', 2, 7),
	(3, 'ГГЭ-2026-000003', 1, 'Склад', 'Тверь', 'construction', 'project_docs', 'budget', 'returned', 1, 7),
	(4, 'ГГЭ-2026-000004', 1, 'Черновик', 'Тверь', 'construction', 'project_docs', 'budget', 'draft', NULL, 7),
	(5, 'ГГЭ-2026-000005', 1, 'Изыскания', 'Тверь', 'construction', 'surveys', 'budget', 'completed_positive', 3, 7);
INSERT INTO assignments (app_id, section, expert_id) VALUES
	(1, '07.01', 1), (1, '07.03', 2), (2, '07.01', 2), (5, '07.02', 3), (5, '07.04', 1);
INSERT INTO status_history (app_id, from_status, to_status, actor_name, at) VALUES
	(1, 'draft', 'submitted', 'a', '2026-03-02 10:00+03'),
	(1, 'submitted', 'awaiting_contract', 'm', '2026-03-04 12:00+03'),
	(1, 'awaiting_contract', 'awaiting_payment', 'a', '2026-03-06 09:00+03'),
	(1, 'awaiting_payment', 'in_review', 'm', '2026-03-10 11:00+03'),
	(1, 'in_review', 'remarks_issued', 'e1', '2026-03-16 15:00+03'),
	(2, 'draft', 'submitted', 'a', '2026-03-03 23:30+03'),
	(2, 'submitted', 'needs_correction', 'm', '2026-03-05 00:30+03'),
	(2, 'needs_correction', 'submitted', 'a', '2026-03-11 10:00+03'),
	(2, 'submitted', 'awaiting_contract', 'm', '2026-03-12 10:00+03'),
	(3, 'draft', 'submitted', 'a', '2026-03-02 09:00+03'),
	(3, 'submitted', 'returned', 'm', '2026-03-02 17:00+03'),
	(5, 'draft', 'submitted', 'a', '2026-02-20 10:00+03'),
	(5, 'submitted', 'awaiting_contract', 'm', '2026-02-25 10:00+03'),
	(5, 'awaiting_contract', 'awaiting_payment', 'a', '2026-02-26 10:00+03'),
	(5, 'awaiting_payment', 'in_review', 'm', '2026-02-27 10:00+03'),
	(5, 'in_review', 'conclusion', 'e3', '2026-03-13 10:00+03'),
	(5, 'conclusion', 'completed_positive', 'm', '2026-03-17 10:00+03');
INSERT INTO calendar_days (day, working) VALUES ('2026-02-23', false), ('2026-03-09', false), ('2026-03-14', true);
INSERT INTO remarks (app_id, section, body, norm_ref, criticality, status, author_id) VALUES
	(1, '07.01', 'r1', 'СП 1', 'ordinary', 'published', 1),
	(1, '07.01', 'r2', 'СП 1', 'ordinary', 'answered', 1),
	(1, '07.01', 'r3', 'СП 1', 'ordinary', 'accepted', 1),
	(1, '07.01', 'r4', '', 'ordinary', 'draft', 1),
	(1, '07.03', 'r5', 'СП 1', 'critical', 'reopened', 2),
	(1, '07.03', 'r6', 'СП 1', 'critical', 'closed', 2);
`

func reportStore(t *testing.T) *store.Store {
	t.Helper()
	pool := pgtest.NewPool(t)
	loadFixture(t, pool, reportFixture)
	return store.New(pool)
}

func loadFixture(t testing.TB, pool *pgxpool.Pool, sql string) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql); err != nil {
		t.Fatalf("fixture: %v", err)
	}
}

func day(s string) wire.Date {
	d, err := wire.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestWorkloadRows(t *testing.T) {
	s := reportStore(t)
	sc := func(pairs ...any) []wire.StatusCount {
		out := []wire.StatusCount{}
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, wire.StatusCount{Status: pairs[i].(wire.Status), Count: pairs[i+1].(int)})
		}
		return out
	}
	e1March := wire.WorkloadRow{ExpertID: 1, ExpertName: "Абрамов А. А.", Applications: 3, Lead: 2, Sections: 2, OpenRemarks: 2,
		ByStatus: sc(wire.StatusReturned, 1, wire.StatusRemarksIssued, 1, wire.StatusCompletedPositive, 1)}
	tests := []struct {
		name string
		f    store.ReportFilter
		want []wire.WorkloadRow
	}{
		{"March, everyone", store.ReportFilter{From: day("2026-03-01"), To: day("2026-03-31")}, []wire.WorkloadRow{
			e1March,
			{ExpertID: 2, ExpertName: "Борисова Б. Б.", Applications: 2, Lead: 1, Sections: 2, OpenRemarks: 1,
				ByStatus: sc(wire.StatusAwaitingContract, 1, wire.StatusRemarksIssued, 1)},
			{ExpertID: 3, ExpertName: "Власов В. В.", Applications: 1, Lead: 1, Sections: 1, ByStatus: sc(wire.StatusCompletedPositive, 1)},
			{ExpertID: 4, ExpertName: "Григорьев Г. Г.", ByStatus: sc()},
		}},
		// A3 was returned on 2 March, before the period: not in work then.
		{"from 10 March, E1", store.ReportFilter{From: day("2026-03-10"), To: day("2026-03-31"), ExpertID: 1}, []wire.WorkloadRow{
			{ExpertID: 1, ExpertName: "Абрамов А. А.", Applications: 2, Lead: 1, Sections: 2, OpenRemarks: 2,
				ByStatus: sc(wire.StatusRemarksIssued, 1, wire.StatusCompletedPositive, 1)},
		}},
		// Only A5 was submitted by 21 February; A5 is E1's through a section.
		{"February", store.ReportFilter{From: day("2026-02-01"), To: day("2026-02-21")}, []wire.WorkloadRow{
			{ExpertID: 1, ExpertName: "Абрамов А. А.", Applications: 1, Sections: 1, ByStatus: sc(wire.StatusCompletedPositive, 1)},
			{ExpertID: 2, ExpertName: "Борисова Б. Б.", ByStatus: sc()},
			{ExpertID: 3, ExpertName: "Власов В. В.", Applications: 1, Lead: 1, Sections: 1, ByStatus: sc(wire.StatusCompletedPositive, 1)},
			{ExpertID: 4, ExpertName: "Григорьев Г. Г.", ByStatus: sc()},
		}},
		{"an idle expert", store.ReportFilter{From: day("2026-03-01"), To: day("2026-03-31"), ExpertID: 4}, []wire.WorkloadRow{
			{ExpertID: 4, ExpertName: "Григорьев Г. Г.", ByStatus: sc()},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Read().WorkloadRows(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestDeadlineRows(t *testing.T) {
	pool := pgtest.NewPool(t)
	loadFixture(t, pool, reportFixture+`
INSERT INTO applications (id, number, org_id, object_name, object_address, works_kind, expertise_kind, financing, status, lead_expert_id, created_by) VALUES
	(6, 'ГГЭ-2026-000006', 1, 'Мост', 'Тверь', 'construction', 'project_docs', 'budget', 'submitted', NULL, 7),
	(7, 'ГГЭ-2026-000007', 1, 'Дорога', 'Тверь', 'construction', 'project_docs', 'budget', 'in_review', 2, 7),
	(8, 'ГГЭ-2026-000008', 1, 'Парк', 'Тверь', 'construction', 'project_docs', 'budget', 'conclusion', 2, 7);
INSERT INTO assignments (app_id, section, expert_id) VALUES (8, '07.01', 1);
INSERT INTO deadlines (app_id, kind, starts_on, due_on) VALUES
	(1, 'completeness', '2026-03-02', '2026-03-05'),
	(1, 'review', '2026-03-10', '2026-03-20'),
	(2, 'completeness', '2026-03-11', '2026-03-13'),
	(6, 'completeness', '2026-03-09', '2026-03-12'),
	(7, 'review', '2026-03-01', '2026-03-24'),
	(8, 'review', '2026-02-01', '2026-03-23');
`)
	s := store.New(pool)
	ids := func(rs []wire.DeadlineRow) []string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%d %s %s %s %d %s", r.AppID, r.Stage, r.Due, r.Status, r.LeadExpertID, r.LeadExpertName))
		}
		return out
	}
	tests := []struct {
		name string
		f    store.ReportFilter
		want []string
	}{
		// A1's completeness and A2's deadlines do not run in their status;
		// A7's is not before the cut.
		{"all", store.ReportFilter{}, []string{
			"6 completeness 2026-03-12 submitted 0 ",
			"1 review 2026-03-20 remarks_issued 1 Абрамов А. А.",
			"8 review 2026-03-23 conclusion 2 Борисова Б. Б.",
		}},
		{"E1: lead of A1, section of A8", store.ReportFilter{ExpertID: 1}, []string{
			"1 review 2026-03-20 remarks_issued 1 Абрамов А. А.",
			"8 review 2026-03-23 conclusion 2 Борисова Б. Б.",
		}},
		{"due from 13 March", store.ReportFilter{From: day("2026-03-13")}, []string{
			"1 review 2026-03-20 remarks_issued 1 Абрамов А. А.",
			"8 review 2026-03-23 conclusion 2 Борисова Б. Б.",
		}},
		{"due up to 20 March", store.ReportFilter{To: day("2026-03-20")}, []string{
			"6 completeness 2026-03-12 submitted 0 ",
			"1 review 2026-03-20 remarks_issued 1 Абрамов А. А.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Read().DeadlineRows(context.Background(), tt.f, day("2026-03-24"))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, ids(got)); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// timeline renders counts as "day status=n ..." lines, the statuses of a
// day in alphabetical order.
func timeline(cs []store.TimelineCount) []string {
	var out []string
	var cur wire.Date
	var line []string
	flush := func() {
		if line != nil {
			slices.Sort(line)
			out = append(out, cur.String()+" "+strings.Join(line, " "))
		}
	}
	for _, c := range cs {
		if c.Day != cur {
			flush()
			cur, line = c.Day, []string{}
		}
		if c.Count != 0 {
			line = append(line, fmt.Sprintf("%s=%d", c.Status, c.Count))
		}
	}
	flush()
	return out
}

func TestStatusTimeline(t *testing.T) {
	s := reportStore(t)
	tests := []struct {
		name   string
		f      store.ReportFilter
		weekly bool
		want   []string
	}{
		{"daily, first week of March", store.ReportFilter{From: day("2026-03-01"), To: day("2026-03-07")}, false, []string{
			"2026-03-01 in_review=1",
			"2026-03-02 in_review=1 returned=1 submitted=1",
			"2026-03-03 in_review=1 returned=1 submitted=2",
			"2026-03-04 awaiting_contract=1 in_review=1 returned=1 submitted=1",
			"2026-03-05 awaiting_contract=1 in_review=1 needs_correction=1 returned=1",
			"2026-03-06 awaiting_payment=1 in_review=1 needs_correction=1 returned=1",
			"2026-03-07 awaiting_payment=1 in_review=1 needs_correction=1 returned=1",
		}},
		{"weekly, 1 to 17 March", store.ReportFilter{From: day("2026-03-01"), To: day("2026-03-17")}, true, []string{
			"2026-03-01 in_review=1",
			"2026-03-08 awaiting_payment=1 in_review=1 needs_correction=1 returned=1",
			"2026-03-15 awaiting_contract=1 conclusion=1 in_review=1 returned=1",
			"2026-03-17 awaiting_contract=1 completed_positive=1 remarks_issued=1 returned=1",
		}},
		{"E2 only (A1, A2), 10 to 12 March", store.ReportFilter{From: day("2026-03-10"), To: day("2026-03-12"), ExpertID: 2}, false, []string{
			"2026-03-10 in_review=1 needs_correction=1",
			"2026-03-11 in_review=1 submitted=1",
			"2026-03-12 awaiting_contract=1 in_review=1",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Read().StatusTimeline(context.Background(), tt.f, tt.weekly)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, timeline(got)); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestStageTimes(t *testing.T) {
	s := reportStore(t)
	row := func(stage wire.Status, kind wire.ExpertiseKind, n int, avg float64, lo, hi int) wire.StageTimeRow {
		return wire.StageTimeRow{Stage: stage, Kind: kind, Count: n, AverageDays: avg, MinDays: lo, MaxDays: hi}
	}
	pd, est, sur := wire.KindProjectDocs, wire.KindEstimate, wire.KindSurveys
	tests := []struct {
		name string
		f    store.ReportFilter
		want []wire.StageTimeRow
	}{
		// Working days: A1 submitted 2–4 Mar = 2, awaiting_contract 4–6 = 2,
		// awaiting_payment 6–10 = 1 (9 Mar off), in_review 10–16 = 5 (14 Mar
		// working); A2 submitted 3–5 = 2, needs_correction 5–11 = 3,
		// submitted 11–12 = 1; A3 submitted 2–2 = 0; A5 in_review 27 Feb–13
		// Mar = 9, conclusion 13–17 = 3. A5's earlier stays ended in February.
		{"March", store.ReportFilter{From: day("2026-03-01"), To: day("2026-03-31")}, []wire.StageTimeRow{
			row(wire.StatusSubmitted, "", 4, 1.25, 0, 2),
			row(wire.StatusSubmitted, pd, 2, 1, 0, 2),
			row(wire.StatusSubmitted, est, 2, 1.5, 1, 2),
			row(wire.StatusNeedsCorrection, "", 1, 3, 3, 3),
			row(wire.StatusNeedsCorrection, est, 1, 3, 3, 3),
			row(wire.StatusAwaitingContract, "", 1, 2, 2, 2),
			row(wire.StatusAwaitingContract, pd, 1, 2, 2, 2),
			row(wire.StatusAwaitingPayment, "", 1, 1, 1, 1),
			row(wire.StatusAwaitingPayment, pd, 1, 1, 1, 1),
			row(wire.StatusInReview, "", 2, 7, 5, 9),
			row(wire.StatusInReview, pd, 1, 5, 5, 5),
			row(wire.StatusInReview, sur, 1, 9, 9, 9),
			row(wire.StatusConclusion, "", 1, 3, 3, 3),
			row(wire.StatusConclusion, sur, 1, 3, 3, 3),
		}},
		// February: A5 submitted 20–25 Feb = 2 (23 Feb off), awaiting_contract
		// 25–26 = 1, awaiting_payment 26–27 = 1.
		{"February, E3", store.ReportFilter{From: day("2026-02-01"), To: day("2026-02-28"), ExpertID: 3}, []wire.StageTimeRow{
			row(wire.StatusSubmitted, "", 1, 2, 2, 2),
			row(wire.StatusSubmitted, sur, 1, 2, 2, 2),
			row(wire.StatusAwaitingContract, "", 1, 1, 1, 1),
			row(wire.StatusAwaitingContract, sur, 1, 1, 1, 1),
			row(wire.StatusAwaitingPayment, "", 1, 1, 1, 1),
			row(wire.StatusAwaitingPayment, sur, 1, 1, 1, 1),
		}},
		{"an idle expert", store.ReportFilter{From: day("2026-03-01"), To: day("2026-03-31"), ExpertID: 4}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Read().StageTimes(context.Background(), tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("mismatch (-want +got):\n%s", d)
			}
		})
	}
}
