// Package httpapi is the JSON-over-HTTP face of the sync server: strict
// decoding, one error table, bearer sessions, idempotency keys, rate
// limits, metrics, and the WebSocket route.
package httpapi

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/expertiza/expertiza/server/auth"
	"github.com/expertiza/expertiza/server/realtime"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

//go:embed openapi.json
var openapiDoc []byte

// Version is reported by /readyz; main sets it from build info.
const Version = "0.1.0"

// API holds the handlers' dependencies.
type API struct {
	svc     *service.Service
	hub     *realtime.Hub
	log     *slog.Logger
	reg     *prometheus.Registry
	loginRL *auth.Limiter
	reqs    *prometheus.HistogramVec
	mux     *http.ServeMux
	routes  []string
	// TrustProxy makes X-Forwarded-For the client address (behind nginx).
	TrustProxy bool
	// started is when this process began serving (the admin status's uptime).
	started time.Time
}

// New wires the routes.
func New(svc *service.Service, hub *realtime.Hub, log *slog.Logger, reg *prometheus.Registry) *API {
	perMin, burst := 10, 10
	if svc != nil {
		perMin, burst = max(svc.Config().LoginPerMinute, 1), max(svc.Config().LoginBurst, 1)
	}
	a := &API{svc: svc, hub: hub, log: log, reg: reg, mux: http.NewServeMux(), started: time.Now(),
		loginRL: auth.NewLimiter(rate.Limit(float64(perMin)/60), burst, 10*time.Minute),
		reqs: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "expertiza_http_request_seconds",
			Help: "HTTP request duration by route and status.", Buckets: prometheus.DefBuckets}, []string{"route", "code"}),
	}
	if reg != nil {
		reg.MustRegister(a.reqs)
	}
	a.routesSetup()
	return a
}

// Routes lists every registered pattern (the OpenAPI test compares them).
func (a *API) Routes() []string { return a.routes }

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

func (a *API) handle(pattern string, h http.Handler) {
	a.routes = append(a.routes, pattern)
	route := pattern
	download, isDownload := downloadObjects[pattern]
	a.mux.Handle(pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: 200}
		// Every request may become an audited one: its principal, once
		// known, is the audit origin, and stored files are journaled
		// before they are served (audit.go).
		r, slot := markRequest(r)
		var out http.ResponseWriter = sw
		if isDownload {
			out = &downloadAudit{ResponseWriter: sw, a: a, r: r, slot: slot, obj: download}
		}
		h.ServeHTTP(out, r)
		took := time.Since(start)
		a.reqs.WithLabelValues(route, strconv.Itoa(sw.code)).Observe(took.Seconds())
		// The access log names the route and the path only: queries and
		// bodies may carry what must not be logged.
		a.log.LogAttrs(r.Context(), slog.LevelDebug, "request", slog.String("route", route), slog.String("path", r.URL.Path),
			slog.Int("status", sw.code), slog.Duration("took", took))
	}))
}

func (a *API) routesSetup() {
	p := wire.APIPrefix
	a.handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) }))
	a.handle("GET /readyz", http.HandlerFunc(a.readyz))
	if a.reg != nil {
		a.handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{}))
	}
	a.handle("GET "+p+"/openapi.json", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openapiDoc)
	}))
	a.handle("GET "+p+"/ws", &realtime.Handler{Hub: a.hub, Svc: a.svc, Log: a.log})

	// Public.
	a.handle("POST "+p+"/auth/register", a.public(a.limited(a.register)))
	a.handle("POST "+p+"/auth/login", a.public(a.limited(a.login)))
	a.handle("GET "+p+"/calendar", a.public(a.calendar))
	a.handle("GET "+p+"/sections", a.public(func(w http.ResponseWriter, r *http.Request) error {
		return writeJSON(w, http.StatusOK, wire.Sections)
	}))

	// Any session, including enrolment-only ones.
	a.handle("POST "+p+"/auth/logout", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		if err := a.svc.Logout(r.Context(), pr); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	a.handle("GET "+p+"/me", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.Me(r.Context(), pr))
	}))
	a.handle("PUT "+p+"/me/language", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.SetLanguageRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		if err := a.svc.SetMailLanguage(r.Context(), pr, req.Language); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))

	a.handle("POST "+p+"/auth/totp/enrol", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.EnrolTOTP(r.Context(), pr))
	}))
	a.handle("POST "+p+"/auth/totp/confirm", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.TOTPConfirmRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.ConfirmTOTP(r.Context(), pr, req.Code))
	}))
	a.handle("POST "+p+"/auth/password", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.PasswordChangeRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		if err := a.svc.ChangePassword(r.Context(), pr, req); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	a.handle("GET "+p+"/auth/sessions", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.Sessions(r.Context(), pr))
	}))
	a.handle("DELETE "+p+"/auth/sessions/{id}", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := a.svc.EndSession(r.Context(), pr, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	a.handle("GET "+p+"/auth/logins", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.LoginHistory(r.Context(), pr))
	}))

	// Applications.
	a.handle("GET "+p+"/applications", a.authed(a.listApplications))
	a.handle("POST "+p+"/applications", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.ApplicationInput
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusCreated)(a.svc.CreateApplication(r.Context(), pr, req))
	}))
	a.handle("GET "+p+"/applications/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.GetApplication(r.Context(), pr, id))
	}))
	a.handle("PATCH "+p+"/applications/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.UpdateApplicationRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.UpdateApplication(r.Context(), pr, id, req))
	}))
	a.handle("DELETE "+p+"/applications/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		v, err := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
		if err != nil {
			return wire.E(wire.CodeInvalid, "version", "Укажите ?version= — версию черновика, которую вы видели", "Pass ?version= — the draft version you saw")
		}
		if err := a.svc.DeleteDraft(r.Context(), pr, id, v); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	a.handle("GET "+p+"/applications/{id}/transitions", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.AllowedTransitions(r.Context(), pr, id))
	}))
	a.handle("POST "+p+"/applications/{id}/transition", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.TransitionRequestBody
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.Transition(r.Context(), pr, id, req))
	}))
	a.handle("POST "+p+"/applications/{id}/verdict", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.VerdictRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.ProposeVerdict(r.Context(), pr, id, req))
	}))
	a.handle("POST "+p+"/applications/{id}/extend", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.ExtendRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.Extend(r.Context(), pr, id, req))
	}))
	a.handle("PUT "+p+"/applications/{id}/assignments", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.AssignRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.Assign(r.Context(), pr, id, req))
	}))
	a.handle("GET "+p+"/applications/{id}/history", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.History(r.Context(), pr, id))
	}))
	a.handle("GET "+p+"/applications/{id}/messages", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
		ch := wire.Channel(r.URL.Query().Get("channel"))
		if ch == "" {
			ch = wire.ChannelApplicant
		}
		return respond(w, http.StatusOK)(a.svc.Messages(r.Context(), pr, id, ch, after))
	}))
	a.handle("POST "+p+"/applications/{id}/messages", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.PostMessageRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusCreated)(a.svc.PostMessage(r.Context(), pr, id, req))
	}))
	a.handle("POST "+p+"/applications/{id}/messages/read", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.MarkReadRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.MarkRead(r.Context(), pr, id, req))
	}))
	a.handle("GET "+p+"/applications/{id}/reads", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.ReadMarks(r.Context(), pr, id))
	}))

	// Documents: resumable uploads, versions, downloads.
	a.handle("POST "+p+"/applications/{id}/uploads", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.CreateUploadRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusCreated)(a.svc.CreateUpload(r.Context(), pr, id, req))
	}))
	a.handle("GET "+p+"/uploads/{uid}", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.UploadStatus(r.Context(), pr, r.PathValue("uid")))
	}))
	a.handle("PUT "+p+"/uploads/{uid}/chunks/{idx}", a.authedRaw(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		idx, err := strconv.Atoi(r.PathValue("idx"))
		if err != nil {
			return wire.E(wire.CodeInvalid, "idx", "Номер части — целое число", "The chunk index is an integer")
		}
		return respond(w, http.StatusOK)(a.svc.PutChunk(r.Context(), pr, r.PathValue("uid"), idx, r.Body))
	}))
	a.handle("POST "+p+"/uploads/{uid}/finish", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.FinishUpload(r.Context(), pr, r.PathValue("uid")))
	}))
	a.handle("DELETE "+p+"/uploads/{uid}", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		if err := a.svc.CancelUpload(r.Context(), pr, r.PathValue("uid")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	a.handle("GET "+p+"/applications/{id}/documents", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.Documents(r.Context(), pr, id))
	}))
	a.handle("GET "+p+"/applications/{id}/completeness", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.Completeness(r.Context(), pr, id))
	}))
	a.handle("GET "+p+"/versions/{id}/content", a.withApp(a.download))
	a.handle("POST "+p+"/versions/{id}/review", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.ReviewRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.Review(r.Context(), pr, id, req))
	}))

	// Review: annotations, remarks, notices (review.go).
	a.reviewRoutes()

	// The conclusion: draft, files, signatures (conclusion.go).
	a.conclusionRoutes()

	// Chat attachments (chat_files.go).
	a.chatFileRoutes()

	// The audit journal, personal data, permission changes (audit.go).
	a.auditRoutes()

	// Tariff, contracts, payments, the gateway callback (contract.go).
	a.contractRoutes()

	// Office reports (reports.go).
	a.reportRoutes()

	// Administration and support requests (admin.go).
	a.adminRoutes()
	a.supportRoutes()

	// Notifications.
	a.handle("GET "+p+"/notifications", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.Notifications(r.Context(), pr))
	}))
	a.handle("POST "+p+"/notifications/read", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.MarkNotificationsReadRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.MarkNotificationsRead(r.Context(), pr, req))
	}))
	a.handle("GET "+p+"/notifications/preferences", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.Preferences(r.Context(), pr))
	}))
	a.handle("PUT "+p+"/notifications/preferences", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.PreferencesRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SetPreferences(r.Context(), pr, req))
	}))

	// Users (staff screens).
	a.handle("GET "+p+"/users", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.ListUsers(r.Context(), pr, wire.Role(r.URL.Query().Get("role"))))
	}))
	a.handle("POST "+p+"/users/{id}/disable", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if err := a.svc.SetUserDisabled(r.Context(), pr, id, true); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
}

// download serves a version with Range support; the SHA-256 travels in a
// header (and the ETag) so the client verifies what it stored.
func (a *API) download(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
	body, ref, err := a.svc.Download(r.Context(), pr, id)
	if err != nil {
		return err
	}
	defer body.Close()
	w.Header().Set(wire.HeaderContentSHA256, ref.SHA256)
	w.Header().Set("ETag", `"`+ref.SHA256+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(ref.File))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, body)
	return nil
}

func (a *API) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	h := wire.Health{Status: "ok", Clients: a.hub.Clients(), Version: Version, Databases: "ok"}
	seq, err := a.svc.Store().Read().LastSeq(ctx)
	code := http.StatusOK
	if err != nil {
		h.Status, h.Databases, code = "unavailable", "unreachable", http.StatusServiceUnavailable
	}
	h.LastSeq = seq
	_ = writeJSON(w, code, h)
}

func (a *API) listApplications(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
	q := r.URL.Query()
	f := service.ListFilter{Kind: wire.ExpertiseKind(q.Get("kind")), Query: strings.TrimSpace(q.Get("q"))}
	for _, s := range q["status"] {
		st := wire.Status(s)
		if !st.Valid() {
			return wire.E(wire.CodeInvalid, "status", "Неизвестный статус «"+s+"»", "Unknown status "+s)
		}
		f.Statuses = append(f.Statuses, st)
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return wire.E(wire.CodeInvalid, "kind", "Неизвестный предмет экспертизы «"+string(f.Kind)+"»", "Unknown expertise kind "+string(f.Kind))
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return wire.E(wire.CodeInvalid, "limit", "limit — положительное число", "limit must be a positive number")
		}
		f.Limit = n
	}
	items, err := a.svc.ListApplications(r.Context(), pr, f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []wire.Application{}
	}
	return writeJSON(w, http.StatusOK, wire.ListApplicationsResponse{Items: items})
}

func (a *API) calendar(w http.ResponseWriter, r *http.Request) error {
	return respond(w, http.StatusOK)(a.svc.CalendarDays(r.Context()))
}

func (a *API) register(w http.ResponseWriter, r *http.Request) error {
	var req wire.RegisterRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	return respond(w, http.StatusCreated)(a.svc.Register(r.Context(), req, a.meta(r)))
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	var req wire.LoginRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	m := a.meta(r)
	if req.DeviceID != "" {
		m.DeviceID = req.DeviceID
	}
	if req.DeviceName != "" {
		m.DeviceName = req.DeviceName
	}
	return respond(w, http.StatusOK)(a.svc.Login(r.Context(), req, m))
}

func (a *API) meta(r *http.Request) service.ClientMeta {
	return service.ClientMeta{IP: a.clientIP(r), UserAgent: truncate(r.UserAgent(), 256), DeviceID: truncate(r.Header.Get(wire.HeaderDeviceID), 128)}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (a *API) clientIP(r *http.Request) string {
	if a.TrustProxy {
		if f := r.Header.Get("X-Forwarded-For"); f != "" {
			return strings.TrimSpace(strings.Split(f, ",")[0])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// --- plumbing ---

type handlerFunc func(w http.ResponseWriter, r *http.Request) error
type authedFunc func(w http.ResponseWriter, r *http.Request, p *service.Principal) error
type appFunc func(w http.ResponseWriter, r *http.Request, p *service.Principal, id int64) error

func (a *API) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.run(w, r, nil, h)
	})
}

func (a *API) limited(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		ok, retry := a.loginRL.Allow(a.clientIP(r), time.Now())
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
			return wire.E(wire.CodeRateLimited, "", "Слишком много попыток входа с вашего адреса — подождите минуту", "Too many sign-in attempts from your address — wait a minute")
		}
		return h(w, r)
	}
}

func (a *API) authed(h authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := a.principal(w, r); p != nil {
			a.run(w, r, p, func(w http.ResponseWriter, r *http.Request) error { return h(w, r, p) })
		}
	})
}

// principal authenticates the bearer token, answering the refusal itself.
func (a *API) principal(w http.ResponseWriter, r *http.Request) *service.Principal {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		a.fail(w, r, wire.E(wire.CodeUnauthenticated, "", "Войдите в систему (нет заголовка Authorization: Bearer)", "Sign in (no Authorization: Bearer header)"))
		return nil
	}
	p, err := a.svc.Authenticate(r.Context(), strings.TrimSpace(token), a.clientIP(r))
	if err != nil {
		a.fail(w, r, err)
		return nil
	}
	notePrincipal(r, p)
	return p
}

// authedRaw is authed for bodies that are not JSON (upload chunks): the
// limit is one chunk.
func (a *API) authedRaw(h authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := a.principal(w, r)
		if p == nil {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, int64(a.svc.ChunkSize())+1)
		if err := h(w, r, p); err != nil {
			a.fail(w, r, err)
		}
	})
}

func (a *API) withApp(h appFunc) http.Handler {
	return a.authed(func(w http.ResponseWriter, r *http.Request, p *service.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		return h(w, r, p, id)
	})
}

// run bounds the body, attaches the idempotency key of a command and
// answers errors.
func (a *API) run(w http.ResponseWriter, r *http.Request, p *service.Principal, h handlerFunc) {
	r.Body = http.MaxBytesReader(w, r.Body, wire.MaxBodyBytes)
	if key := r.Header.Get(wire.HeaderIdempotencyKey); key != "" && p != nil && r.Method != http.MethodGet {
		if len(key) > 128 {
			a.fail(w, r, wire.E(wire.CodeInvalid, wire.HeaderIdempotencyKey, "Ключ идемпотентности длиннее 128 символов", "The idempotency key is over 128 characters"))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			a.fail(w, r, bodyError(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		// The method and path are part of what the key stands for.
		fingerprint := append([]byte(r.Method+" "+r.URL.RequestURI()+"\n"), body...)
		r = r.WithContext(service.WithIdempotency(r.Context(), key, fingerprint))
	}
	if err := h(w, r); err != nil {
		var rep *service.ReplayedError
		if errors.As(err, &rep) {
			w.Header().Set("Idempotent-Replayed", "true")
			status := replayStatus(r)
			if status == http.StatusNoContent {
				w.WriteHeader(status)
				return
			}
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.WriteHeader(status)
			w.Write(rep.Body)
			return
		}
		a.fail(w, r, err)
	}
}

// replayStatus is the status the original answer of a route had, so a
// retried command gets exactly what the first attempt got.
func replayStatus(r *http.Request) int {
	switch {
	case strings.HasPrefix(r.Pattern, "DELETE "), r.Pattern == "POST "+wire.APIPrefix+"/auth/logout",
		r.Pattern == "POST "+wire.APIPrefix+"/auth/password", strings.HasSuffix(r.Pattern, "/disable"):
		return http.StatusNoContent
	case r.Pattern == "POST "+wire.APIPrefix+"/applications", r.Pattern == "POST "+wire.APIPrefix+"/applications/{id}/messages",
		r.Pattern == "POST "+wire.APIPrefix+"/auth/register", reviewCreated[r.Pattern], adminCreated[r.Pattern]:
		return http.StatusCreated
	}
	return http.StatusOK
}

// fail answers an error and logs it once, here at the boundary: server
// faults as errors with detail, client mistakes as warnings with the code.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := HTTPStatus(err)
	pub := publicError(err)
	if status >= 500 {
		a.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		a.log.Warn("request refused", "method", r.Method, "path", r.URL.Path, "status", status, "code", pub.Code, "field", pub.Field)
	}
	_ = writeJSON(w, status, pub)
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return wire.E(wire.CodeTooLarge, "", fmt.Sprintf("Тело запроса больше %d КиБ — уменьшите его", wire.MaxBodyBytes>>10),
			fmt.Sprintf("The request body is over %d KiB — make it smaller", wire.MaxBodyBytes>>10))
	}
	return wire.E(wire.CodeInvalid, "", "Не удалось прочитать тело запроса: "+err.Error(), "Could not read the request body: "+err.Error())
}

// decode reads exactly one JSON object, refusing unknown fields.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return bodyError(err)
		case errors.Is(err, io.EOF):
			return wire.E(wire.CodeInvalid, "", "Пустое тело запроса: ожидается JSON-объект", "Empty body: a JSON object is expected")
		case errors.As(err, &se):
			return wire.E(wire.CodeInvalid, "", fmt.Sprintf("Некорректный JSON в позиции %d", se.Offset), fmt.Sprintf("Malformed JSON at offset %d", se.Offset))
		case errors.As(err, &te) && te.Field == "":
			// The body itself is of the wrong type (an array, a string).
			return wire.E(wire.CodeInvalid, "", "Тело запроса должно быть JSON-объектом", "The request body must be a JSON object")
		case errors.As(err, &te):
			return wire.E(wire.CodeInvalid, te.Field, "Поле «"+te.Field+"» имеет неверный тип: ожидается "+te.Type.String(), "Field "+te.Field+" has the wrong type: expected "+te.Type.String())
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return wire.E(wire.CodeInvalid, f, "Неизвестное поле «"+f+"» — уберите его", "Unknown field "+f+" — remove it")
		default:
			return wire.E(wire.CodeInvalid, "", "Некорректный JSON: "+err.Error(), "Malformed JSON: "+err.Error())
		}
	}
	if dec.More() {
		return wire.E(wire.CodeInvalid, "", "После JSON-объекта есть лишние данные", "Extra data after the JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return wire.E(wire.CodeInvalid, "", "После JSON-объекта есть лишние данные", "Extra data after the JSON object")
	}
	return nil
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, wire.E(wire.CodeInvalid, name, "Идентификатор в адресе должен быть положительным числом", "The id in the path must be a positive number")
	}
	return id, nil
}

// respond writes a successful result or passes the error on.
func respond(w http.ResponseWriter, status int) func(any, error) error {
	return func(v any, err error) error {
		if err != nil {
			return err
		}
		return writeJSON(w, status, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	// An empty list is [] on the wire, never null.
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.IsNil() {
		v = []struct{}{}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (s *statusWriter) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hands the connection to the WebSocket upgrader, which looks for
// http.Hijacker directly rather than through Unwrap.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	s.code = http.StatusSwitchingProtocols
	return http.NewResponseController(s.ResponseWriter).Hijack()
}
