package httpapi

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// auditRoutes registers the audit journal, personal data and the
// administrator's permission changes.
func (a *API) auditRoutes() {
	p := wire.APIPrefix
	a.handle("GET "+p+"/audit", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		q, err := auditQuery(r.URL.Query())
		if err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.AuditEntries(r.Context(), pr, q))
	}))
	a.handle("GET "+p+"/audit/verify", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.VerifyAudit(r.Context(), pr))
	}))

	a.handle("GET "+p+"/me/personal-data", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.PersonalData(r.Context(), pr, pr.UserID))
	}))
	a.handle("PUT "+p+"/me/personal-data", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		var req wire.SetPersonalDataRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SetPersonalData(r.Context(), pr, req))
	}))
	a.handle("POST "+p+"/me/personal-data/reveal", a.authed(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		return respond(w, http.StatusOK)(a.svc.RevealPersonalData(r.Context(), pr, pr.UserID))
	}))
	a.handle("GET "+p+"/users/{id}/personal-data", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.PersonalData(r.Context(), pr, id))
	}))
	a.handle("POST "+p+"/users/{id}/personal-data/reveal", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.RevealPersonalData(r.Context(), pr, id))
	}))

	a.handle("POST "+p+"/users/{id}/enable", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		if err := a.svc.SetUserDisabled(r.Context(), pr, id, false); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	a.handle("PUT "+p+"/users/{id}/role", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.SetRoleRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SetUserRole(r.Context(), pr, id, req.Role))
	}))
	a.handle("POST "+p+"/users/{id}/totp/reset", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.ResetTOTP(r.Context(), pr, id))
	}))
}

// auditQuery reads the journal's filters from the query string (the
// parameter names are wire.AuditQuery.Values').
func auditQuery(v url.Values) (wire.AuditQuery, error) {
	q := wire.AuditQuery{ActorLogin: strings.TrimSpace(v.Get("actor")), Action: strings.TrimSpace(v.Get("action")),
		ObjectType: strings.TrimSpace(v.Get("object_type")), ObjectID: strings.TrimSpace(v.Get("object_id")), Text: v.Get("q")}
	ints := []struct {
		name string
		dst  *int64
	}{{"actor_id", &q.ActorID}, {"app", &q.AppID}, {"before", &q.Before}}
	for _, f := range ints {
		if s := v.Get(f.name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				return q, wire.E(wire.CodeInvalid, f.name, f.name+" — положительное целое число", f.name+" must be a positive integer")
			}
			*f.dst = n
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > wire.MaxAuditLimit {
			return q, wire.E(wire.CodeInvalid, "limit", "limit — от 1 до 500 записей на страницу", "limit must be 1 to 500 rows per page")
		}
		q.Limit = n
	}
	var err error
	if q.From, err = auditTime(v.Get("from"), "from", false); err != nil {
		return q, err
	}
	if q.To, err = auditTime(v.Get("to"), "to", true); err != nil {
		return q, err
	}
	return q, nil
}

// auditTime reads a bound of the period: an RFC 3339 instant, or a date
// (YYYY-MM-DD, a UTC day; as the end of the period the whole day is in).
func auditTime(s, field string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	bad := wire.E(wire.CodeInvalid, field, field+": дата ГГГГ-ММ-ДД или момент RFC 3339 (2026-03-01T00:00:00Z)",
		field+": a date YYYY-MM-DD or an RFC 3339 instant (2026-03-01T00:00:00Z)")
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		t = t.UTC()
	} else if t, err = time.Parse(time.DateOnly, s); err != nil {
		return time.Time{}, bad
	} else if end {
		t = t.AddDate(0, 0, 1)
	}
	// In UTC, or as the day after, a bound may leave the years RFC 3339
	// can write (0000–9999); the client could not send it back.
	if t.Year() < 0 || t.Year() > 9999 {
		return time.Time{}, bad
	}
	return t, nil
}

// downloadObject is what the audit row of a served file names: the
// object type and the path value holding its id.
type downloadObject struct {
	objType, param string
}

// downloadObjects are the routes that serve stored files and are audited
// here, at the door, as file_download before the first byte goes out.
// Chat attachments are not listed: their service audits them itself.
var downloadObjects = map[string]downloadObject{
	"GET " + wire.APIPrefix + "/versions/{id}/content":                         {"document_version", "id"},
	"GET " + wire.APIPrefix + "/applications/{id}/conclusion/pdf":              {"application", "id"},
	"GET " + wire.APIPrefix + "/applications/{id}/conclusion/xml":              {"application", "id"},
	"GET " + wire.APIPrefix + "/applications/{id}/conclusion/signatures/{sid}": {"application", "id"},
	"GET " + wire.APIPrefix + "/notices/{id}/letter":                           {"remark_notice", "id"},
	"GET " + wire.APIPrefix + "/contract-documents/{id}":                       {"contract_document", "id"},
}

// requestPrincipal is filled in when a request authenticates, so what
// wraps the handler (the audit origin, download auditing) learns who
// called.
type requestPrincipal struct{ p *service.Principal }

type requestPrincipalKey struct{}

// markRequest gives a request its principal slot and makes the slot the
// audit origin of everything the request writes.
func markRequest(r *http.Request) (*http.Request, *requestPrincipal) {
	slot := &requestPrincipal{}
	ctx := context.WithValue(r.Context(), requestPrincipalKey{}, slot)
	ctx = service.WithAuditOrigin(ctx, func() *service.Principal { return slot.p })
	return r.WithContext(ctx), slot
}

// notePrincipal records the authenticated caller in the request's slot.
func notePrincipal(r *http.Request, p *service.Principal) {
	if slot, ok := r.Context().Value(requestPrincipalKey{}).(*requestPrincipal); ok {
		slot.p = p
	}
}

// downloadAudit holds back the status line of a served file until its
// audit row is written; if that fails, the client gets the error instead
// of the file.
type downloadAudit struct {
	http.ResponseWriter
	a      *API
	r      *http.Request
	slot   *requestPrincipal
	obj    downloadObject
	wrote  bool
	failed bool
}

func (d *downloadAudit) WriteHeader(code int) {
	if d.wrote {
		return
	}
	d.wrote = true
	sha := d.Header().Get(wire.HeaderContentSHA256)
	if d.r.Method == http.MethodGet && (code == http.StatusOK || code == http.StatusPartialContent) && sha != "" && d.slot.p != nil {
		id, _ := strconv.ParseInt(d.r.PathValue(d.obj.param), 10, 64)
		if err := d.a.svc.AuditDownload(d.r.Context(), d.slot.p, d.obj.objType, id, sha, auditedRange(code, d.r.Header.Get("Range"))); err != nil {
			d.failed = true
			for _, h := range []string{wire.HeaderContentSHA256, "ETag", "Content-Disposition", "Content-Length", "Content-Range", "Content-Type", "Cache-Control"} {
				d.Header().Del(h)
			}
			d.a.fail(d.ResponseWriter, d.r, err)
			return
		}
	}
	d.ResponseWriter.WriteHeader(code)
}

// maxAuditedRange bounds the Range header copied into a download's audit
// row: the header is the client's own text, up to the server's header limit
// (1 MB), and the journal is append-only.
const maxAuditedRange = 256

// auditedRange is what a download's audit row records of the request's
// Range header: nothing unless part of the file was served (206; with 200
// the header was ignored and the whole file went out), and at most
// maxAuditedRange bytes of it. A served range parsed, so it is ASCII.
func auditedRange(code int, header string) string {
	if code != http.StatusPartialContent {
		return ""
	}
	if len(header) > maxAuditedRange {
		return header[:maxAuditedRange-len("…")] + "…"
	}
	return header
}

func (d *downloadAudit) Write(b []byte) (int, error) {
	if !d.wrote {
		d.WriteHeader(http.StatusOK)
	}
	if d.failed {
		return len(b), nil // the file's bytes are dropped: the error was answered
	}
	return d.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (d *downloadAudit) Unwrap() http.ResponseWriter { return d.ResponseWriter }
