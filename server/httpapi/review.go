package httpapi

import (
	"net/http"
	"strconv"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// reviewCreated are the review routes answering 201, so an idempotent
// replay answers the same.
var reviewCreated = map[string]bool{
	"POST " + wire.APIPrefix + "/versions/{id}/annotations": true,
	"POST " + wire.APIPrefix + "/annotations/{id}/replies":  true,
	"POST " + wire.APIPrefix + "/applications/{id}/remarks": true,
	"POST " + wire.APIPrefix + "/applications/{id}/notices": true,
}

// queryID reads an optional positive id from the query (0 when absent).
func queryID(r *http.Request, name string) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, wire.E(wire.CodeInvalid, name, "Параметр "+name+" должен быть положительным числом", "The "+name+" parameter must be a positive number")
	}
	return id, nil
}

// requiredVersion reads ?version= of a DELETE.
func requiredVersion(r *http.Request, what, whatEN string) (int64, error) {
	v, err := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
	if err != nil {
		return 0, wire.E(wire.CodeInvalid, "version", "Укажите ?version= — версию "+what+", которую вы видели", "Pass ?version= — the "+whatEN+" version you saw")
	}
	return v, nil
}

// reviewRoutes registers annotations, remarks and notices.
func (a *API) reviewRoutes() {
	p := wire.APIPrefix

	// Annotations (staff only).
	a.handle("GET "+p+"/applications/{id}/annotations", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		v, err := queryID(r, "version")
		if err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.Annotations(r.Context(), pr, id, v))
	}))
	a.handle("GET "+p+"/versions/{id}/annotations", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.VersionAnnotations(r.Context(), pr, id))
	}))
	a.handle("POST "+p+"/versions/{id}/annotations", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.CreateAnnotationRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusCreated)(a.svc.CreateAnnotation(r.Context(), pr, id, req))
	}))
	a.handle("PATCH "+p+"/annotations/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.UpdateAnnotationRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.UpdateAnnotation(r.Context(), pr, id, req))
	}))
	a.handle("DELETE "+p+"/annotations/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		v, err := requiredVersion(r, "пометки", "annotation")
		if err != nil {
			return err
		}
		if err := a.svc.DeleteAnnotation(r.Context(), pr, id, v); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	a.handle("POST "+p+"/annotations/{id}/status", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.AnnotationStatusRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SetAnnotationStatus(r.Context(), pr, id, req))
	}))
	a.handle("POST "+p+"/annotations/{id}/replies", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.ReplyRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusCreated)(a.svc.ReplyAnnotation(r.Context(), pr, id, req))
	}))

	// Remarks and notices.
	a.handle("GET "+p+"/applications/{id}/remarks", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		v, err := queryID(r, "version")
		if err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.Remarks(r.Context(), pr, id, v))
	}))
	a.handle("POST "+p+"/applications/{id}/remarks", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.CreateRemarkRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusCreated)(a.svc.CreateRemark(r.Context(), pr, id, req))
	}))
	a.handle("PATCH "+p+"/remarks/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.UpdateRemarkRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.UpdateRemark(r.Context(), pr, id, req))
	}))
	a.handle("DELETE "+p+"/remarks/{id}", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		v, err := requiredVersion(r, "черновика", "draft")
		if err != nil {
			return err
		}
		if err := a.svc.DeleteRemark(r.Context(), pr, id, v); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}))
	a.handle("POST "+p+"/remarks/{id}/answers", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.AnswerRemarkRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.AnswerRemark(r.Context(), pr, id, req))
	}))
	a.handle("POST "+p+"/remarks/{id}/status", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.RemarkStatusRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusOK)(a.svc.SetRemarkStatus(r.Context(), pr, id, req))
	}))
	a.handle("GET "+p+"/applications/{id}/notices", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		return respond(w, http.StatusOK)(a.svc.Notices(r.Context(), pr, id))
	}))
	a.handle("GET "+p+"/notices/{id}/letter", a.withApp(a.noticeLetter))
	a.handle("POST "+p+"/applications/{id}/notices", a.withApp(func(w http.ResponseWriter, r *http.Request, pr *service.Principal, id int64) error {
		var req wire.PublishRemarksRequest
		if err := decode(r, &req); err != nil {
			return err
		}
		return respond(w, http.StatusCreated)(a.svc.PublishRemarks(r.Context(), pr, id, req))
	}))
}
