package wire

import (
	"errors"
	"net/url"
	"testing"
)

func TestReportQueryRoundTrip(t *testing.T) {
	q := ReportQuery{From: Date{2026, 3, 1}, To: Date{2026, 3, 31}, ExpertID: 42, Step: StepWeek}
	got, err := ParseReportQuery(q.Values())
	if err != nil || got != q {
		t.Fatalf("ParseReportQuery(%v) = %+v, %v; want %+v", q.Values(), got, err, q)
	}
	if empty, err := ParseReportQuery(ReportQuery{}.Values()); err != nil || empty != (ReportQuery{}) {
		t.Fatalf("empty query: %+v, %v", empty, err)
	}
}

func TestParseReportQueryRefuses(t *testing.T) {
	for _, tc := range []struct {
		query, field string
	}{
		{"from=2026-02-30", "from"},
		{"to=1.3.2026", "to"},
		{"expert=0", "expert"},
		{"expert=abc", "expert"},
		{"step=month", "step"},
		{"from=2026-03-01&from=2026-03-02", "from"},
		{"period=month", "period"},
	} {
		v, _ := url.ParseQuery(tc.query)
		_, err := ParseReportQuery(v)
		var we *Error
		if !errors.As(err, &we) || we.Code != CodeInvalid || we.Field != tc.field {
			t.Errorf("%s: error %v, want invalid on %q", tc.query, err, tc.field)
		}
	}
}

func TestReportQueryValidate(t *testing.T) {
	mar1, mar31 := Date{2026, 3, 1}, Date{2026, 3, 31}
	for _, tc := range []struct {
		name  string
		q     ReportQuery
		k     ReportKind
		field string // "" when valid
	}{
		{"a month", ReportQuery{From: mar1, To: mar31}, ReportWorkload, ""},
		{"one day", ReportQuery{From: mar1, To: mar1}, ReportStageTimes, ""},
		{"reversed", ReportQuery{From: mar31, To: mar1}, ReportWorkload, "to"},
		{"366 days by day", ReportQuery{From: Date{2025, 3, 31}, To: mar31}, ReportStatusTimeline, ""},
		{"367 days by day", ReportQuery{From: Date{2025, 3, 30}, To: mar31}, ReportStatusTimeline, "from"},
		{"367 days by week", ReportQuery{From: Date{2025, 3, 30}, To: mar31, Step: StepWeek}, ReportStatusTimeline, ""},
		{"five years of workload", ReportQuery{From: Date{2021, 3, 31}, To: mar31}, ReportWorkload, ""},
		{"six years of workload", ReportQuery{From: Date{2020, 3, 31}, To: mar31}, ReportWorkload, "from"},
		{"open deadlines", ReportQuery{}, ReportDeadlines, ""},
	} {
		err := tc.q.Validate(tc.k)
		var we *Error
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &we) || we.Field != tc.field):
			t.Errorf("%s: error %v, want one on %q", tc.name, err, tc.field)
		}
	}
}
