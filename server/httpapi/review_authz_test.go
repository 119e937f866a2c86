package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// reviewShared is the in_review application (with a PDF and the lead's
// annotation) that read-only and object-creating review rows of the
// authorization matrix share, one per world.
type reviewShared struct {
	app        wire.Application
	version    int64
	annotation wire.Annotation
}

var (
	reviewSharedMu sync.Mutex
	reviewWorlds   = map[*world]*reviewShared{}
)

func (w *world) reviewShared() *reviewShared {
	reviewSharedMu.Lock()
	defer reviewSharedMu.Unlock()
	if sh, ok := reviewWorlds[w]; ok {
		return sh
	}
	app, vid := w.reviewApp()
	sh := &reviewShared{app: app, version: vid, annotation: w.reviewAnnotation(w.actors["lead"], vid)}
	reviewWorlds[w] = sh
	return sh
}

func (w *world) reviewApp() (wire.Application, int64) {
	return inReview(w.t, w.actors["member"], w.actors["manager"], w.actors["lead"], w.actors["assigned"])
}

func (w *world) reviewAnnotation(by *testenv.Actor, vid int64) wire.Annotation {
	an, err := by.C.CreateAnnotation(context.Background(), vid, rectOn(72), "")
	if err != nil {
		w.t.Fatalf("fixture annotation: %v", err)
	}
	return an
}

func (w *world) reviewDraft(appID int64) wire.Remark {
	r, err := w.actors["assigned"].C.CreateRemark(context.Background(), appID, wire.CreateRemarkRequest{Section: "07.03",
		Text: "Не указаны отметки уровней", NormRef: "ГОСТ Р 21.101-2020 п. 5.3", Criticality: wire.CriticalityOrdinary}, "")
	if err != nil {
		w.t.Fatalf("fixture draft: %v", err)
	}
	return r
}

// reviewPublished returns a fresh application in remarks_issued and its
// published remark; answered also answers it.
func (w *world) reviewPublished(answered bool) wire.Remark {
	ctx := context.Background()
	app, _ := w.reviewApp()
	d := w.reviewDraft(app.ID)
	if _, err := w.actors["lead"].C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: app.Version, RemarkIDs: []int64{d.ID}}, ""); err != nil {
		w.t.Fatalf("fixture publication: %v", err)
	}
	rs, err := w.actors["member"].C.Remarks(ctx, app.ID, 0)
	if err != nil || len(rs) != 1 {
		w.t.Fatalf("fixture published remark: %v %v", rs, err)
	}
	r := rs[0]
	if answered {
		if r, err = w.actors["member"].C.AnswerRemark(ctx, r.ID, wire.AnswerRemarkRequest{Version: r.Version, Text: "Отметки добавлены"}, ""); err != nil {
			w.t.Fatalf("fixture answer: %v", err)
		}
	}
	return r
}

// reviewRequest builds the call of a review row of the matrix; ok is false
// for other rows. Rows that change an object get a fresh one per caller
// (anonymous callers are refused before any lookup and share).
func (w *world) reviewRequest(r matrixRow, rel string) (method, path string, body any, ok bool) {
	p := r.path
	if !strings.Contains(p, "/annotations") && !strings.Contains(p, "/remarks") && !strings.Contains(p, "/notices") {
		return "", "", nil, false
	}
	sh := w.reviewShared()
	fresh := rel != "anon"
	id := func(n int64) string { return strconv.FormatInt(n, 10) }
	set := func(n int64) { p = strings.Replace(p, "{id}", id(n), 1) }
	switch {
	case p == "/api/v1/notices/{id}/letter":
		set(w.reviewLetterNotice().ID)
	case r.method == http.MethodGet && strings.HasPrefix(p, "/api/v1/versions/"):
		set(sh.version)
	case r.method == http.MethodGet:
		set(sh.app.ID)
	case p == "/api/v1/versions/{id}/annotations":
		set(sh.version)
		body = rectOn(100)
	case p == "/api/v1/annotations/{id}/replies":
		set(sh.annotation.ID)
		body = wire.ReplyRequest{Text: "Согласен"}
	case strings.HasPrefix(p, "/api/v1/annotations/{id}"):
		author := w.actors["lead"]
		if strings.HasSuffix(p, "/status") {
			author = w.actors["assigned"]
		}
		an := sh.annotation
		if fresh {
			an = w.reviewAnnotation(author, sh.version)
		}
		set(an.ID)
		switch r.method {
		case http.MethodPatch:
			text := "Уточнение"
			body = wire.UpdateAnnotationRequest{Version: an.Version, Text: &text}
		case http.MethodDelete:
			p += "?version=" + id(an.Version)
		default:
			body = wire.AnnotationStatusRequest{Version: an.Version, Status: wire.AnnotResolved}
		}
	case p == "/api/v1/applications/{id}/remarks":
		set(sh.app.ID)
		body = wire.CreateRemarkRequest{Section: "07.03", Text: "Проверка доступа", Criticality: wire.CriticalityOrdinary}
	case p == "/api/v1/applications/{id}/notices":
		app, d := sh.app, wire.Remark{ID: 1}
		if fresh {
			app, _ = w.reviewApp()
			d = w.reviewDraft(app.ID)
		}
		set(app.ID)
		body = wire.PublishRemarksRequest{Version: app.Version, RemarkIDs: []int64{d.ID}}
	case p == "/api/v1/remarks/{id}/answers" || p == "/api/v1/remarks/{id}/status":
		rm := wire.Remark{ID: 1}
		if fresh {
			rm = w.reviewPublished(strings.HasSuffix(p, "/status"))
		}
		set(rm.ID)
		if strings.HasSuffix(p, "/answers") {
			body = wire.AnswerRemarkRequest{Version: rm.Version, Text: "Исправлено"}
		} else {
			body = wire.RemarkStatusRequest{Version: rm.Version, Status: wire.RemarkAccepted}
		}
	case strings.HasPrefix(p, "/api/v1/remarks/{id}"):
		d := wire.Remark{ID: 1}
		if fresh {
			d = w.reviewDraft(sh.app.ID)
		}
		set(d.ID)
		if r.method == http.MethodDelete {
			p += "?version=" + id(d.Version)
		} else {
			text := "Исправленный текст"
			body = wire.UpdateRemarkRequest{Version: d.Version, Text: &text}
		}
	default:
		w.t.Fatalf("no review fixture for %s %s", r.method, r.path)
	}
	return r.method, p, body, true
}
