package httpapi

import (
	"context"
	"net/http"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// reportRoutes registers the office reports (GET /reports/{kind}); the
// query is wire.ReportQuery's parameters, read strictly: an unknown or
// repeated parameter is refused like an unknown JSON field.
func (a *API) reportRoutes() {
	p := wire.APIPrefix
	report := func(kind wire.ReportKind, run func(context.Context, *service.Principal, wire.ReportQuery) (any, error)) {
		a.handle("GET "+p+"/reports/"+string(kind), a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
			q, err := wire.ParseReportQuery(r.URL.Query())
			if err != nil {
				return err
			}
			return respond(w, http.StatusOK)(run(r.Context(), pr, q))
		}))
	}
	report(wire.ReportWorkload, func(ctx context.Context, pr *service.Principal, q wire.ReportQuery) (any, error) {
		return a.svc.WorkloadReport(ctx, pr, q)
	})
	report(wire.ReportDeadlines, func(ctx context.Context, pr *service.Principal, q wire.ReportQuery) (any, error) {
		return a.svc.DeadlinesReport(ctx, pr, q)
	})
	report(wire.ReportStatusTimeline, func(ctx context.Context, pr *service.Principal, q wire.ReportQuery) (any, error) {
		return a.svc.StatusTimelineReport(ctx, pr, q)
	})
	report(wire.ReportStageTimes, func(ctx context.Context, pr *service.Principal, q wire.ReportQuery) (any, error) {
		return a.svc.StageTimesReport(ctx, pr, q)
	})
}
