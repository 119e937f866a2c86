package service

import (
	"context"
	"fmt"
	"slices"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Reports (docs/authorization.md, «Reports»): managers and administrators
// see the whole office and may narrow a report to one expert; an expert
// sees only their own work — the filter is set to them, and naming another
// expert is refused; applicants see no reports.

// reportFilter authorizes a report and completes its query: the expert
// filter forced for experts, the default period, the limits checked.
func (s *Service) reportFilter(ctx context.Context, p *Principal, k wire.ReportKind, q wire.ReportQuery) (wire.ReportQuery, error) {
	if err := requireFull(p); err != nil {
		return q, err
	}
	switch p.Role {
	case wire.RoleManager, wire.RoleAdmin:
		if q.ExpertID != 0 {
			u, err := s.st.Read().UserByID(ctx, q.ExpertID)
			if err != nil || u.Role != wire.RoleExpert {
				return q, wire.E(wire.CodeInvalid, "expert", fmt.Sprintf("Эксперт с идентификатором %d не найден — выберите эксперта из списка", q.ExpertID),
					fmt.Sprintf("No expert with id %d — choose one from the list", q.ExpertID))
			}
		}
	case wire.RoleExpert:
		if q.ExpertID != 0 && q.ExpertID != p.UserID {
			return q, errForbidden("Эксперт видит отчёты только о своей работе: уберите фильтр по другому эксперту",
				"An expert sees reports on their own work only: remove the filter by another expert")
		}
		q.ExpertID = p.UserID
	default:
		return q, errForbidden("Отчёты доступны сотрудникам экспертной организации", "Reports are for the expert organisation's staff")
	}
	if q.Step == "" {
		q.Step = wire.StepDay
	}
	if k != wire.ReportStatusTimeline && q.Step != wire.StepDay {
		return q, wire.E(wire.CodeInvalid, "step", "Шаг (step) есть только у отчёта по статусам во времени", "Only the status timeline has a step")
	}
	if k != wire.ReportDeadlines {
		today := wire.DateOf(s.now())
		switch {
		case q.From.IsZero() && q.To.IsZero():
			q.To = today
			q.From = today.AddDays(-(wire.DefaultReportDays - 1))
		case q.From.IsZero():
			q.From = q.To.AddDays(-(wire.DefaultReportDays - 1))
		case q.To.IsZero():
			// The default length from the start, but not past today
			// unless the start itself is later.
			q.To = q.From.AddDays(wire.DefaultReportDays - 1)
			if q.To.After(today) {
				q.To = today
			}
			if q.To.Before(q.From) {
				q.To = q.From
			}
		}
	}
	return q, q.Validate(k)
}

func filterOf(q wire.ReportQuery) store.ReportFilter {
	return store.ReportFilter{From: q.From, To: q.To, ExpertID: q.ExpertID}
}

// WorkloadReport is the experts' workload over the period.
func (s *Service) WorkloadReport(ctx context.Context, p *Principal, q wire.ReportQuery) (wire.WorkloadReport, error) {
	q, err := s.reportFilter(ctx, p, wire.ReportWorkload, q)
	if err != nil {
		return wire.WorkloadReport{}, err
	}
	rows, err := s.st.Read().WorkloadRows(ctx, filterOf(q))
	if err != nil {
		return wire.WorkloadReport{}, err
	}
	if rows == nil {
		rows = []wire.WorkloadRow{}
	}
	return wire.WorkloadReport{From: q.From, To: q.To, ExpertID: q.ExpertID, Rows: rows}, nil
}

// DeadlinesReport lists the running deadlines at risk or overdue today,
// counted with the calendar in force.
func (s *Service) DeadlinesReport(ctx context.Context, p *Principal, q wire.ReportQuery) (wire.DeadlinesReport, error) {
	q, err := s.reportFilter(ctx, p, wire.ReportDeadlines, q)
	if err != nil {
		return wire.DeadlinesReport{}, err
	}
	cal, today := s.Calendar(), wire.DateOf(s.now())
	// A deadline has at most DeadlineRiskDays working days left exactly
	// when it falls before the working day after that many: the store's
	// cut keeps every row the report wants and few others.
	rows, err := s.st.Read().DeadlineRows(ctx, filterOf(q), cal.AddWorkdays(today, wire.DeadlineRiskDays+1))
	if err != nil {
		return wire.DeadlinesReport{}, err
	}
	out := wire.DeadlinesReport{From: q.From, To: q.To, Today: today, ExpertID: q.ExpertID, Rows: []wire.DeadlineRow{}}
	for _, r := range rows {
		r.DaysLeft = cal.WorkdaysUntil(today, r.Due)
		if r.DaysLeft > wire.DeadlineRiskDays {
			continue
		}
		r.Overdue = r.DaysLeft < 0
		if r.Overdue {
			out.Overdue++
		} else {
			out.AtRisk++
		}
		out.Rows = append(out.Rows, r)
	}
	return out, nil
}

// StatusTimelineReport counts the applications per status at the end of
// each day or week of the period.
func (s *Service) StatusTimelineReport(ctx context.Context, p *Principal, q wire.ReportQuery) (wire.StatusTimelineReport, error) {
	q, err := s.reportFilter(ctx, p, wire.ReportStatusTimeline, q)
	if err != nil {
		return wire.StatusTimelineReport{}, err
	}
	counts, err := s.st.Read().StatusTimeline(ctx, filterOf(q), q.Step == wire.StepWeek)
	if err != nil {
		return wire.StatusTimelineReport{}, err
	}
	out := wire.StatusTimelineReport{From: q.From, To: q.To, Step: q.Step, ExpertID: q.ExpertID, Statuses: []wire.Status{}, Points: []wire.TimelinePoint{}}
	// Series: the statuses with an application on some day, in lifecycle
	// order.
	seen := map[wire.Status]bool{}
	for _, c := range counts {
		if c.Count > 0 {
			seen[c.Status] = true
		}
	}
	for _, st := range wire.AllStatuses {
		if seen[st] {
			out.Statuses = append(out.Statuses, st)
		}
	}
	// The store leaves out statuses with no stay in the period and thus
	// returns no row for a day only when none has one: days come from the
	// period itself.
	days := timelineDays(q)
	byDay := make(map[wire.Date][]int, len(days))
	for _, d := range days {
		byDay[d] = make([]int, len(out.Statuses))
	}
	for _, c := range counts {
		i := slices.Index(out.Statuses, c.Status)
		if cs, ok := byDay[c.Day]; ok && i >= 0 {
			cs[i] = c.Count
		}
	}
	for _, d := range days {
		pt := wire.TimelinePoint{Day: d, Counts: byDay[d]}
		for _, n := range pt.Counts {
			pt.Total += n
		}
		out.Points = append(out.Points, pt)
	}
	return out, nil
}

// timelineDays are the days a timeline has points for: every day of the
// period, or with the week step its Sundays and its last day.
func timelineDays(q wire.ReportQuery) []wire.Date {
	var out []wire.Date
	for d := q.From; !d.After(q.To); d = d.AddDays(1) {
		if q.Step != wire.StepWeek || d.Weekday() == 0 || d == q.To {
			out = append(out, d)
		}
	}
	return out
}

// StageTimesReport is the average working days per stage and expertise
// kind over the stays that ended within the period.
func (s *Service) StageTimesReport(ctx context.Context, p *Principal, q wire.ReportQuery) (wire.StageTimesReport, error) {
	q, err := s.reportFilter(ctx, p, wire.ReportStageTimes, q)
	if err != nil {
		return wire.StageTimesReport{}, err
	}
	rows, err := s.st.Read().StageTimes(ctx, filterOf(q))
	if err != nil {
		return wire.StageTimesReport{}, err
	}
	if rows == nil {
		rows = []wire.StageTimeRow{}
	}
	return wire.StageTimesReport{From: q.From, To: q.To, ExpertID: q.ExpertID, Rows: rows}, nil
}
