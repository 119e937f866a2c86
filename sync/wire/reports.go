package wire

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ReportKind names one of the office's reports (GET /reports/{kind}).
type ReportKind string

const (
	// ReportWorkload: per expert, the applications and sections assigned,
	// the lead roles, the open remarks and the applications by status.
	ReportWorkload ReportKind = "workload"
	// ReportDeadlines: running stage deadlines with at most
	// DeadlineRiskDays working days left, and overdue ones.
	ReportDeadlines ReportKind = "deadlines"
	// ReportStatusTimeline: how many applications were in each status at
	// the end of every day (or week) of the period.
	ReportStatusTimeline ReportKind = "status-timeline"
	// ReportStageTimes: the average working days applications stayed in
	// each stage, per expertise kind.
	ReportStageTimes ReportKind = "stage-times"
)

// AllReportKinds lists the reports in the order screens offer them.
var AllReportKinds = []ReportKind{ReportWorkload, ReportDeadlines, ReportStatusTimeline, ReportStageTimes}

// Valid reports whether k is a known report.
func (k ReportKind) Valid() bool {
	for _, x := range AllReportKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Label is the report's Russian title, as printed on exports.
func (k ReportKind) Label() string {
	switch k {
	case ReportWorkload:
		return "Загрузка экспертов"
	case ReportDeadlines:
		return "Сроки под угрозой и просроченные"
	case ReportStatusTimeline:
		return "Заявления по статусам во времени"
	case ReportStageTimes:
		return "Среднее время этапов"
	}
	return string(k)
}

// ReportStep is the spacing of a status timeline's points.
type ReportStep string

const (
	StepDay  ReportStep = "day"  // the end of every day of the period
	StepWeek ReportStep = "week" // the end of every week (Sunday) and of the period's last day
)

// Report limits. A daily timeline of more than a year would draw hundreds
// of points nobody can read; a week step covers up to five years, as does
// every other report's period.
const (
	DeadlineRiskDays   = 5 // "at risk": this many working days left or fewer (the amber of lists)
	DefaultReportDays  = 30
	MaxReportDailyDays = 366
	MaxReportDays      = 5*365 + 2 // five years, both ends included, with their leap days
)

// ReportQuery filters a report. From and To bound the period, both days
// included; zero means the default: the DefaultReportDays ending today,
// except for the deadlines report, whose period (the due dates) is open
// unless given. ExpertID narrows the report to the applications where that
// expert is the lead or a section expert (experts always get their own).
type ReportQuery struct {
	From     Date
	To       Date
	ExpertID int64
	Step     ReportStep // status timeline only; StepDay if empty
}

// reportParams are the query parameters a report accepts; any other is
// refused, as unknown JSON fields are.
var reportParams = []string{"from", "to", "expert", "step"}

// Values writes q as query parameters: from, to (YYYY-MM-DD), expert and
// step.
func (q ReportQuery) Values() url.Values {
	v := url.Values{}
	if !q.From.IsZero() {
		v.Set("from", q.From.String())
	}
	if !q.To.IsZero() {
		v.Set("to", q.To.String())
	}
	if q.ExpertID != 0 {
		v.Set("expert", strconv.FormatInt(q.ExpertID, 10))
	}
	if q.Step != "" {
		v.Set("step", string(q.Step))
	}
	return v
}

// ParseReportQuery reads a report's query parameters, refusing unknown or
// repeated ones and malformed values with an error naming the parameter.
// It does not apply defaults; Validate checks the period.
func ParseReportQuery(v url.Values) (ReportQuery, error) {
	var q ReportQuery
	for name, vals := range v {
		known := false
		for _, p := range reportParams {
			known = known || p == name
		}
		if !known {
			return q, E(CodeInvalid, name, "Неизвестный параметр отчёта «"+name+"»: допустимы from, to, expert, step",
				"Unknown report parameter "+name+": from, to, expert and step are accepted")
		}
		if len(vals) > 1 {
			return q, E(CodeInvalid, name, "Параметр «"+name+"» указан несколько раз", "Parameter "+name+" is given more than once")
		}
	}
	date := func(name string) (Date, error) {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return Date{}, nil
		}
		d, err := ParseDate(s)
		if err != nil {
			return Date{}, E(CodeInvalid, name, name+": неверная дата «"+s+"» — ожидается ГГГГ-ММ-ДД",
				name+": invalid date "+strconv.Quote(s)+" — want YYYY-MM-DD")
		}
		return d, nil
	}
	var err error
	if q.From, err = date("from"); err != nil {
		return q, err
	}
	if q.To, err = date("to"); err != nil {
		return q, err
	}
	if s := strings.TrimSpace(v.Get("expert")); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return q, E(CodeInvalid, "expert", "expert — идентификатор эксперта, положительное целое число",
				"expert must be an expert's id, a positive integer")
		}
		q.ExpertID = n
	}
	switch s := ReportStep(strings.TrimSpace(v.Get("step"))); s {
	case "", StepDay, StepWeek:
		q.Step = s
	default:
		return q, E(CodeInvalid, "step", "step — day или week", "step must be day or week")
	}
	return q, nil
}

// Days is the number of days of the period, both ends included (0 when a
// bound is missing).
func (q ReportQuery) Days() int {
	if q.From.IsZero() || q.To.IsZero() {
		return 0
	}
	return q.To.dayNumber() - q.From.dayNumber() + 1
}

// Validate checks the period of a report of kind k once defaults are
// applied: its end not before its start and its length within the limits.
func (q ReportQuery) Validate(k ReportKind) error {
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return E(CodeInvalid, "to", "Конец периода ("+q.To.String()+") раньше начала ("+q.From.String()+")",
			"The period ends ("+q.To.String()+") before it starts ("+q.From.String()+")")
	}
	limit := MaxReportDays
	if k == ReportStatusTimeline && q.Step != StepWeek {
		limit = MaxReportDailyDays
	}
	if n := q.Days(); n > limit {
		if limit == MaxReportDailyDays {
			return E(CodeInvalid, "from", fmt.Sprintf("Период по дням — не больше %d дней (выбрано %d): сократите его или выберите шаг «неделя»", limit, n),
				fmt.Sprintf("A daily period is at most %d days (%d chosen): shorten it or use the week step", limit, n))
		}
		return E(CodeInvalid, "from", fmt.Sprintf("Период отчёта — не больше %d дней (выбрано %d)", limit, n),
			fmt.Sprintf("A report period is at most %d days (%d chosen)", limit, n))
	}
	return nil
}

// StatusCount is how many applications are in a status.
type StatusCount struct {
	Status Status `json:"status"`
	Count  int    `json:"count"`
}

// WorkloadReport is the experts' workload over a period: the applications
// that were in work at some time in it (submitted by its end and not
// finished — returned, concluded, withdrawn — before its start).
type WorkloadReport struct {
	From     Date          `json:"from"`
	To       Date          `json:"to"`
	ExpertID int64         `json:"expert_id,omitempty"`
	Rows     []WorkloadRow `json:"rows"`
}

// WorkloadRow is one expert's share. Every active expert has a row, with
// zeros when idle.
type WorkloadRow struct {
	ExpertID   int64  `json:"expert_id"`
	ExpertName string `json:"expert_name"`
	// Applications counts each application once, whether the expert leads
	// it, reviews sections of it, or both.
	Applications int `json:"applications"`
	Lead         int `json:"lead"`     // applications the expert leads
	Sections     int `json:"sections"` // section assignments
	// OpenRemarks are the expert's remarks on those applications sent to
	// the applicant and not yet settled: published, answered or reopened.
	OpenRemarks int `json:"open_remarks"`
	// ByStatus splits Applications by their current status, in lifecycle
	// order; statuses with none are left out.
	ByStatus []StatusCount `json:"by_status"`
}

// DeadlinesReport lists the running stage deadlines that are at risk
// (DeadlineRiskDays working days left or fewer) or overdue, as of Today.
type DeadlinesReport struct {
	From     Date          `json:"from"` // zero: due dates not bounded
	To       Date          `json:"to"`
	Today    Date          `json:"today"`
	ExpertID int64         `json:"expert_id,omitempty"`
	AtRisk   int           `json:"at_risk"`
	Overdue  int           `json:"overdue"`
	Rows     []DeadlineRow `json:"rows"` // most urgent first
}

// Deadline stages of the DeadlinesReport.
const (
	StageCompleteness = "completeness" // the completeness check, while submitted
	StageReview       = "review"       // the review, from payment to the conclusion
)

// DeadlineRow is one application's running deadline.
type DeadlineRow struct {
	AppID          int64  `json:"app_id"`
	Number         string `json:"number"`
	ObjectName     string `json:"object_name"`
	Status         Status `json:"status"`
	Stage          string `json:"stage"` // StageCompleteness or StageReview
	Due            Date   `json:"due"`
	DaysLeft       int    `json:"days_left"` // working days; negative when overdue
	Overdue        bool   `json:"overdue"`
	LeadExpertID   int64  `json:"lead_expert_id,omitempty"`
	LeadExpertName string `json:"lead_expert_name,omitempty"`
}

// StatusTimelineReport counts the applications in each status at the end
// of each point's day (Moscow time). Drafts are not counted: the office
// does not see them.
type StatusTimelineReport struct {
	From     Date       `json:"from"`
	To       Date       `json:"to"`
	Step     ReportStep `json:"step"`
	ExpertID int64      `json:"expert_id,omitempty"`
	// Statuses are the series, in lifecycle order: those that had an
	// application on some day of the period.
	Statuses []Status        `json:"statuses"`
	Points   []TimelinePoint `json:"points"`
}

// TimelinePoint is one day of a status timeline.
type TimelinePoint struct {
	Day    Date  `json:"day"`
	Counts []int `json:"counts"` // one per StatusTimelineReport.Statuses
	Total  int   `json:"total"`
}

// StageTimesReport is how long applications stayed in each stage, in
// working days, over the stays that ended within the period. A stay runs
// from the status change into the stage to the change out of it; its
// length is the working days after the day it began up to the day it
// ended, so a stage left the next working day took 1 and one left the same
// day 0. An application that went through a stage twice (corrections)
// counts twice.
type StageTimesReport struct {
	From     Date           `json:"from"`
	To       Date           `json:"to"`
	ExpertID int64          `json:"expert_id,omitempty"`
	Rows     []StageTimeRow `json:"rows"`
}

// StageTimeRow is one stage, for one expertise kind or (Kind "") for all.
type StageTimeRow struct {
	Stage       Status        `json:"stage"`
	Kind        ExpertiseKind `json:"kind,omitempty"` // "": every kind together
	Count       int           `json:"count"`          // stays measured
	AverageDays float64       `json:"average_days"`
	MinDays     int           `json:"min_days"`
	MaxDays     int           `json:"max_days"`
}

// ReportStages are the stages the stage-times report measures, in
// lifecycle order: every status an application leaves by a decision,
// drafts and the final statuses aside.
var ReportStages = []Status{
	StatusSubmitted, StatusNeedsCorrection, StatusAwaitingContract, StatusAwaitingPayment,
	StatusInReview, StatusRemarksIssued, StatusConclusion,
}
