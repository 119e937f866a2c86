package httpapi

import (
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// conclusionRetryAfter is what a client polling for files still being
// rendered is told to wait; conclusion.upsert normally tells it sooner.
const conclusionRetryAfter = "5"

// conclusionRoutes registers the conclusion: the draft, its files and the
// signatures of its PDF.
func (a *API) conclusionRoutes() {
	p := wire.APIPrefix
	a.handle("GET "+p+"/applications/{id}/conclusion", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.Conclusion(r.Context(), pr, id))
	}))
	a.handle("PUT "+p+"/applications/{id}/conclusion", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.SaveConclusionRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SaveConclusion(r.Context(), pr, id, req))
	}))
	a.handle("GET "+p+"/applications/{id}/conclusion/pdf", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return a.conclusionFile(w, r, pr, id, service.ConclusionFilePDF)
	}))
	a.handle("GET "+p+"/applications/{id}/conclusion/xml", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return a.conclusionFile(w, r, pr, id, service.ConclusionFileXML)
	}))
	// A detached signature is at most service.MaxSignatureBytes and read
	// whole by the checker, so it comes as one raw body (?file_name=…)
	// rather than through resumable uploads; it is checked by the same
	// server/sig path as signatures of document versions. The same file
	// twice is stored once, which makes a retried request harmless.
	a.handle("POST "+p+"/applications/{id}/conclusion/signatures", a.signatureBody(func(w http.ResponseWriter, r *http.Request, pr *service.Principal) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.AddConclusionSignature(r.Context(), pr, id, r.URL.Query().Get("file_name"), r.Body))
	}))
	a.handle("GET "+p+"/applications/{id}/conclusion/signatures/{sid}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		sid, err := pathID(r, "sid")
		if err != nil {
			return err
		}
		body, sg, err := a.svc.OpenConclusionSignature(r.Context(), pr, id, sid)
		if err != nil {
			return err
		}
		defer body.Close()
		serveStored(w, r, body, sg.SHA256, "application/pkcs7-signature", sg.FileName)
		return nil
	}))
}

// conclusionFile serves the conclusion's PDF or XML like a file version:
// the SHA-256 in X-Content-SHA256 and the ETag, Range support, immutable.
// Files not rendered yet are a 409 with Retry-After.
func (a *API) conclusionFile(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64, kind string) error {
	body, f, err := a.svc.OpenConclusionFile(r.Context(), pr, id, kind)
	if err != nil {
		if service.IsConclusionPending(err) {
			w.Header().Set("Retry-After", conclusionRetryAfter)
		}
		return err
	}
	defer body.Close()
	serveStored(w, r, body, f.SHA256, f.ContentType, f.Name)
	return nil
}

func serveStored(w http.ResponseWriter, r *http.Request, body io.ReadSeeker, sha, contentType, name string) {
	w.Header().Set(wire.HeaderContentSHA256, sha)
	w.Header().Set("ETag", `"`+sha+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, body)
}

// signatureBody is authed for a raw signature body bounded by the
// signature limit (over it the service answers too_large).
func (a *API) signatureBody(h authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := a.principal(w, r)
		if p == nil {
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, int64(service.MaxSignatureBytes)+1)
		if err := h(w, r, p); err != nil {
			a.fail(w, r, err)
		}
	})
}
