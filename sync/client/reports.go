package client

import (
	"context"
	"net/http"

	"github.com/expertiza/expertiza/sync/wire"
)

// --- office reports ---

func reportPath(k wire.ReportKind, q wire.ReportQuery) string {
	path := "/reports/" + string(k)
	if v := q.Values().Encode(); v != "" {
		path += "?" + v
	}
	return path
}

// WorkloadReport reads the experts' workload over q's period.
func (c *Client) WorkloadReport(ctx context.Context, q wire.ReportQuery) (wire.WorkloadReport, error) {
	var out wire.WorkloadReport
	return out, c.Call(ctx, http.MethodGet, reportPath(wire.ReportWorkload, q), nil, &out, "")
}

// DeadlinesReport reads the running deadlines at risk or overdue today.
func (c *Client) DeadlinesReport(ctx context.Context, q wire.ReportQuery) (wire.DeadlinesReport, error) {
	var out wire.DeadlinesReport
	return out, c.Call(ctx, http.MethodGet, reportPath(wire.ReportDeadlines, q), nil, &out, "")
}

// StatusTimelineReport reads the applications per status over q's period.
func (c *Client) StatusTimelineReport(ctx context.Context, q wire.ReportQuery) (wire.StatusTimelineReport, error) {
	var out wire.StatusTimelineReport
	return out, c.Call(ctx, http.MethodGet, reportPath(wire.ReportStatusTimeline, q), nil, &out, "")
}

// StageTimesReport reads the average working days per stage over q's
// period.
func (c *Client) StageTimesReport(ctx context.Context, q wire.ReportQuery) (wire.StageTimesReport, error) {
	var out wire.StageTimesReport
	return out, c.Call(ctx, http.MethodGet, reportPath(wire.ReportStageTimes, q), nil, &out, "")
}
