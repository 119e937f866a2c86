package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// letterRetryAfter is what a client polling for a pending letter is told
// to wait; the notice.letter event normally tells it sooner.
const letterRetryAfter = "5"

// noticeLetter serves a notice's PDF letter like a file version: the
// SHA-256 in X-Content-SHA256 and the ETag, Range support, immutable.
// A letter not rendered yet is a 409 with Retry-After.
func (a *API) noticeLetter(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
	body, n, err := a.svc.NoticeLetter(r.Context(), pr, id)
	if err != nil {
		if service.IsLetterPending(err) {
			w.Header().Set("Retry-After", letterRetryAfter)
		}
		return err
	}
	defer body.Close()
	name := "Уведомление о замечаниях № " + strconv.Itoa(n.Number) + ".pdf"
	w.Header().Set(wire.HeaderContentSHA256, n.LetterSHA256)
	w.Header().Set("ETag", `"`+n.LetterSHA256+`"`)
	w.Header().Set("Cache-Control", "private, max-age=31536000, immutable")
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, body)
	return nil
}
