package httpapi

import (
	"mime"
	"net/http"
	"path/filepath"
	"time"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// chatFileRoutes registers the download of chat attachments.
func (a *API) chatFileRoutes() {
	a.handle("GET "+wire.APIPrefix+"/applications/{id}/messages/{mid}/attachments/{sha}", a.withApp(a.messageAttachment))
}

// messageAttachment serves a file of a chat message like a version: the
// SHA-256 in X-Content-SHA256 and the ETag, Range support, immutable, and
// the file's own name in Content-Disposition (RFC 6266 with the RFC 5987
// UTF-8 form, so Cyrillic names survive, and an ASCII fallback).
func (a *API) messageAttachment(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
	mid, err := pathID(r, "mid")
	if err != nil {
		return err
	}
	body, f, err := a.svc.MessageAttachment(r.Context(), pr, id, mid, r.PathValue("sha"))
	if err != nil {
		return err
	}
	defer body.Close()
	ct := mime.TypeByExtension(filepath.Ext(f.FileName))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set(wire.HeaderContentSHA256, f.SHA256)
	w.Header().Set("ETag", `"`+f.SHA256+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	w.Header().Set("Content-Disposition", contentDisposition(f.FileName))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, body)
	return nil
}

// contentDisposition is an attachment header for a file name: an ASCII
// fallback (non-ASCII and quoting characters replaced by "_") for old
// agents, and filename* in RFC 5987 UTF-8 percent-encoding, which every
// current agent prefers.
func contentDisposition(name string) string {
	fallback := make([]byte, 0, len(name))
	for _, c := range name { // by rune: one "_" per Cyrillic letter
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '%' || c == ';' {
			c = '_'
		}
		fallback = append(fallback, byte(c))
	}
	return `attachment; filename="` + string(fallback) + `"; filename*=UTF-8''` + rfc5987(name)
}

// rfc5987 percent-encodes everything outside RFC 5987's attr-char set.
func rfc5987(s string) string {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(s)*3)
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '!', c == '#', c == '$', c == '&', c == '+', c == '-', c == '.', c == '^', c == '_', c == '`', c == '|', c == '~':
			out = append(out, c)
		default:
			out = append(out, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(out)
}
