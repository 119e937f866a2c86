package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// adminCreated are the administration and support routes answering 201,
// so an idempotent replay answers the same.
var adminCreated = map[string]bool{
	"POST " + wire.APIPrefix + "/admin/users": true,
	"POST " + wire.APIPrefix + "/support":     true,
}

// adminRoutes registers the administrators' screens: accounts,
// organisations, the calendar, the server's state; and the experts' load
// the assignment dialog shows.
func (a *API) adminRoutes() {
	p := wire.APIPrefix
	a.handle("GET "+p+"/admin/users", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		q, err := userQuery(r)
		if err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SearchUsers(r.Context(), pr, q))
	}))
	a.handle("POST "+p+"/admin/users", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.CreateUserRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusCreated)(a.svc.CreateUser(r.Context(), pr, req))
	}))
	a.handle("GET "+p+"/admin/users/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.AdminUser(r.Context(), pr, id))
	}))
	a.handle("POST "+p+"/users/{id}/unlock", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.UnlockUser(r.Context(), pr, id))
	}))
	a.handle("GET "+p+"/admin/organisations", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.Organisations(r.Context(), pr, r.URL.Query().Get("q")))
	}))
	a.handle("PATCH "+p+"/admin/organisations/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.UpdateOrganisationRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.UpdateOrganisation(r.Context(), pr, id, req))
	}))
	a.handle("GET "+p+"/experts/load", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.ExpertLoads(r.Context(), pr))
	}))
	a.handle("PUT "+p+"/admin/calendar/{date}", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		day, err := wire.ParseDate(r.PathValue("date"))
		if err != nil {
			return wire.E(wire.CodeInvalid, "date", "Дата в адресе — ГГГГ-ММ-ДД", "The date in the path is YYYY-MM-DD")
		}
		var req wire.SetCalendarDayRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SetCalendarDay(r.Context(), pr, day, req))
	}))
	a.handle("POST "+p+"/admin/calendar/import", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.ImportCalendarRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.ImportCalendarYear(r.Context(), pr, req))
	}))
	a.handle("GET "+p+"/admin/status", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		st, err := a.svc.ServerStatus(r.Context(), pr)
		if err != nil {
			return err
		}
		a.processStatus(&st)
		return writeJSON(w, http.StatusOK, st)
	}))
}

// processStatus adds what only this process knows: its version, uptime
// and WebSocket hub.
func (a *API) processStatus(st *wire.ServerStatus) {
	st.Version = Version
	st.StartedAt = a.started.UTC()
	st.UptimeSec = int64(time.Since(a.started) / time.Second)
	if a.hub == nil {
		return
	}
	hs := a.hub.Stats()
	st.Clients, st.QueuedMax, st.QueuedTotal, st.QueueCap = hs.Clients, hs.QueuedMax, hs.QueuedTotal, hs.QueueCap
	st.SlowDrops, st.Delivered = hs.SlowDrops, hs.Delivered
}

// userQuery reads the user search's filters: q, role, disabled, limit.
func userQuery(r *http.Request) (wire.UserQuery, error) {
	v := r.URL.Query()
	q := wire.UserQuery{Text: strings.TrimSpace(v.Get("q")), Role: wire.Role(v.Get("role"))}
	if s := v.Get("disabled"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, wire.E(wire.CodeInvalid, "disabled", "disabled — true или false", "disabled is true or false")
		}
		q.Disabled = &b
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > wire.MaxUserSearch {
			return q, wire.E(wire.CodeInvalid, "limit", "limit — от 1 до 500", "limit must be 1 to 500")
		}
		q.Limit = n
	}
	return q, nil
}

// supportRoutes registers support requests.
func (a *API) supportRoutes() {
	p := wire.APIPrefix
	a.handle("GET "+p+"/support", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		mine := r.URL.Query().Get("mine") == "true"
		return respond(w, http.StatusOK)(a.svc.SupportRequests(r.Context(), pr, mine, wire.SupportStatus(r.URL.Query().Get("status"))))
	}))
	a.handle("POST "+p+"/support", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.CreateSupportRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusCreated)(a.svc.CreateSupportRequest(r.Context(), pr, req))
	}))
	a.handle("GET "+p+"/support/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.SupportRequest(r.Context(), pr, id))
	}))
	a.handle("POST "+p+"/support/{id}/messages", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.SupportReplyRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.ReplySupport(r.Context(), pr, id, req))
	}))
	a.handle("POST "+p+"/support/{id}/status", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.SupportStatusRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SetSupportStatus(r.Context(), pr, id, req))
	}))
}
