package service

import (
	"context"
	"fmt"
	"strings"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Annotations are the staff's internal working marks: the assigned
// experts (lead included), managers and administrators read them; experts
// and managers write them; applicants never see them (a list answers 403,
// one annotation 404, and no annotation event reaches them). What an
// applicant sees of an expert's mark is the published remark made from it.

// reviewOpen refuses review changes before submission and after the end.
func reviewOpen(a *store.AppRow) error {
	if a.Status == wire.StatusDraft || a.Status.Terminal() {
		return wire.E(wire.CodeConflict, "status", "Пометки и замечания меняются только в ходе экспертизы; сейчас: «"+a.Status.Label()+"»",
			"Annotations and remarks change only while the review runs; now: "+string(a.Status))
	}
	return nil
}

func errAnnotationsStaffOnly() error {
	return errForbidden("Пометки экспертов — внутренние рабочие отметки; заявителю направляются только опубликованные замечания",
		"Experts' annotations are internal working marks; applicants receive published remarks only")
}

// reviewVersion loads a document version of an application the caller may
// see; anything else is the same NotFound.
func (s *Service) reviewVersion(ctx context.Context, q store.Q, p *Principal, versionID int64, lock *store.Tx) (*store.ReviewVersion, *store.AppRow, error) {
	if err := requireFull(p); err != nil {
		return nil, nil, err
	}
	v, err := q.ReviewVersion(ctx, versionID)
	if wire.ErrorCode(err) == wire.CodeNotFound || (err == nil && v.Section == wire.SectionChat) {
		return nil, nil, errNotFound("версия файла", "file version")
	}
	if err != nil {
		return nil, nil, err
	}
	a, err := s.loadVisible(ctx, q, p, v.AppID, lock)
	if err != nil {
		return nil, nil, err
	}
	return v, a, nil
}

// pageOf returns the size of page (1-based) of a version, or an error
// saying which pages exist.
func pageOf(v *store.ReviewVersion, page int) (wire.PageSize, error) {
	if len(v.PageSizes) == 0 {
		return wire.PageSize{}, wire.E(wire.CodeInvalid, "version_id", "Пометки ставятся на страницы PDF; у этого файла («"+v.Kind+"») страниц нет",
			"Annotations go on PDF pages; this file ("+v.Kind+") has none")
	}
	if page < 1 || page > len(v.PageSizes) {
		return wire.PageSize{}, wire.E(wire.CodeInvalid, "page", fmt.Sprintf("Страница %d вне документа: в нём страницы 1…%d", page, len(v.PageSizes)),
			fmt.Sprintf("Page %d is outside the document: it has pages 1…%d", page, len(v.PageSizes)))
	}
	return v.PageSizes[page-1], nil
}

// staffAudience is who receives annotation events: the application's
// experts, managers and administrators, never applicants.
func staffAudience(ctx context.Context, tx *store.Tx, appID int64) (store.EventRow, error) {
	experts, err := tx.AppExpertIDs(ctx, appID)
	return store.EventRow{AppID: appID, StaffOnly: true, ExpertIDs: experts}, err
}

// emitAnnotation re-reads an annotation in the transaction and emits it.
func (s *Service) emitAnnotation(ctx context.Context, tx *store.Tx, id int64) (wire.Annotation, error) {
	an, err := tx.Annotation(ctx, id)
	if err != nil {
		return wire.Annotation{}, err
	}
	ev, err := staffAudience(ctx, tx, an.AppID)
	if err != nil {
		return wire.Annotation{}, err
	}
	ev.Kind, ev.Payload = wire.EventAnnotation, mustJSON(an)
	tx.Emit(ev)
	return *an, nil
}

// Annotations lists an application's annotations (versionID 0: all
// versions) for staff who see it.
func (s *Service) Annotations(ctx context.Context, p *Principal, appID, versionID int64) ([]wire.Annotation, error) {
	q := s.st.Read()
	if _, err := s.loadVisible(ctx, q, p, appID, nil); err != nil {
		return nil, err
	}
	if !p.Role.Staff() {
		return nil, errAnnotationsStaffOnly()
	}
	return q.Annotations(ctx, store.AnnotationFilter{AppID: appID, VersionID: versionID})
}

// VersionAnnotations lists the annotations of one document version.
func (s *Service) VersionAnnotations(ctx context.Context, p *Principal, versionID int64) ([]wire.Annotation, error) {
	q := s.st.Read()
	v, _, err := s.reviewVersion(ctx, q, p, versionID, nil)
	if err != nil {
		return nil, err
	}
	if !p.Role.Staff() {
		return nil, errAnnotationsStaffOnly()
	}
	return q.Annotations(ctx, store.AnnotationFilter{AppID: v.AppID, VersionID: versionID})
}

// CreateAnnotation marks a page of a version (assigned experts and
// managers).
func (s *Service) CreateAnnotation(ctx context.Context, p *Principal, versionID int64, r wire.CreateAnnotationRequest) (wire.Annotation, error) {
	if r.Color == "" {
		r.Color = wire.DefaultAnnotationColour
	}
	if !r.Kind.Valid() {
		return wire.Annotation{}, wire.ValidateGeometry(r.Kind, r.Geometry, wire.PageSize{})
	}
	if err := wire.ValidateColour(r.Color); err != nil {
		return wire.Annotation{}, err
	}
	if err := wire.ValidateAnnotationText(r.Kind, r.Text); err != nil {
		return wire.Annotation{}, err
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Annotation, error) {
		v, a, err := s.reviewVersion(ctx, tx.Q, p, versionID, nil)
		if err != nil {
			return wire.Annotation{}, err
		}
		if p.Role != wire.RoleExpert && p.Role != wire.RoleManager {
			if p.Role == wire.RoleApplicant {
				return wire.Annotation{}, errAnnotationsStaffOnly()
			}
			return wire.Annotation{}, errForbidden("Пометки ставят эксперты и менеджеры", "Experts and managers annotate")
		}
		if err := reviewOpen(a); err != nil {
			return wire.Annotation{}, err
		}
		size, err := pageOf(v, r.Page)
		if err != nil {
			return wire.Annotation{}, err
		}
		if err := wire.ValidateGeometry(r.Kind, r.Geometry, size); err != nil {
			return wire.Annotation{}, err
		}
		id, err := tx.InsertAnnotation(ctx, wire.Annotation{AppID: a.ID, VersionID: versionID, Page: r.Page, Kind: r.Kind,
			Geometry: r.Geometry, Color: r.Color, Text: r.Text, AuthorID: p.UserID})
		if err != nil {
			return wire.Annotation{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "annotation_create", ObjectType: "annotation", ObjectID: itoa(id),
			Details: map[string]any{"app": a.ID, "version": versionID, "page": r.Page, "kind": r.Kind}})
		return s.emitAnnotation(ctx, tx, id)
	})
}

// loadAnnotation reads (and with tx, locks) an annotation the caller may
// see: staff of its application. For anyone else it does not exist.
func (s *Service) loadAnnotation(ctx context.Context, q store.Q, p *Principal, id int64, tx *store.Tx) (*wire.Annotation, *store.AppRow, error) {
	if err := requireFull(p); err != nil {
		return nil, nil, err
	}
	var an *wire.Annotation
	var err error
	if tx != nil {
		an, err = tx.AnnotationForUpdate(ctx, id)
	} else {
		an, err = q.Annotation(ctx, id)
	}
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, nil, errNotFound("пометка", "annotation")
	}
	if err != nil {
		return nil, nil, err
	}
	if !p.Role.Staff() {
		return nil, nil, errNotFound("пометка", "annotation")
	}
	a, err := s.loadVisible(ctx, q, p, an.AppID, nil)
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, nil, errNotFound("пометка", "annotation")
	}
	if err != nil {
		return nil, nil, err
	}
	return an, a, nil
}

// mayEditAnnotation: the author, or a manager.
func mayEditAnnotation(p *Principal, an *wire.Annotation) error {
	if an.AuthorID == p.UserID || p.Role == wire.RoleManager {
		return nil
	}
	return errForbidden("Пометку меняет и удаляет её автор ("+an.AuthorName+") или менеджер", "Only the author ("+an.AuthorName+") or a manager changes or deletes an annotation")
}

// UpdateAnnotation changes geometry, colour or text of an annotation the
// caller saw at r.Version.
func (s *Service) UpdateAnnotation(ctx context.Context, p *Principal, id int64, r wire.UpdateAnnotationRequest) (wire.Annotation, error) {
	if r.Geometry == nil && r.Color == nil && r.Text == nil {
		return wire.Annotation{}, wire.E(wire.CodeInvalid, "", "Нечего менять: передайте geometry, color или text", "Nothing to change: send geometry, color or text")
	}
	if r.Color != nil {
		if err := wire.ValidateColour(*r.Color); err != nil {
			return wire.Annotation{}, err
		}
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Annotation, error) {
		an, a, err := s.loadAnnotation(ctx, tx.Q, p, id, tx)
		if err != nil {
			return wire.Annotation{}, err
		}
		if err := mayEditAnnotation(p, an); err != nil {
			return wire.Annotation{}, err
		}
		if err := reviewOpen(a); err != nil {
			return wire.Annotation{}, err
		}
		if an.Version != r.Version {
			return wire.Annotation{}, staleAnnotation(an.Version)
		}
		if r.Text != nil {
			if err := wire.ValidateAnnotationText(an.Kind, *r.Text); err != nil {
				return wire.Annotation{}, err
			}
			an.Text = *r.Text
		}
		if r.Color != nil {
			an.Color = *r.Color
		}
		if r.Geometry != nil {
			v, err := tx.ReviewVersion(ctx, an.VersionID)
			if err != nil {
				return wire.Annotation{}, err
			}
			size, err := pageOf(v, an.Page)
			if err != nil {
				return wire.Annotation{}, err
			}
			if err := wire.ValidateGeometry(an.Kind, *r.Geometry, size); err != nil {
				return wire.Annotation{}, err
			}
			an.Geometry = *r.Geometry
		}
		if err := tx.UpdateAnnotation(ctx, an, r.Version); err != nil {
			return wire.Annotation{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "annotation_update", ObjectType: "annotation", ObjectID: itoa(id),
			Details: map[string]any{"app": an.AppID, "geometry": r.Geometry != nil, "color": r.Color != nil, "text": r.Text != nil}})
		return s.emitAnnotation(ctx, tx, id)
	})
}

func staleAnnotation(cur int64) error {
	e := wire.E(wire.CodeConflict, "version", "Пометка уже изменена другим пользователем — обновите её и повторите",
		"The annotation was changed by someone else — reload it and try again")
	e.Current = cur
	return e
}

// DeleteAnnotation soft-deletes an annotation (author or manager).
func (s *Service) DeleteAnnotation(ctx context.Context, p *Principal, id, version int64) error {
	_, err := write(ctx, s, p, func(tx *store.Tx) (struct{}, error) {
		an, a, err := s.loadAnnotation(ctx, tx.Q, p, id, tx)
		if err != nil {
			return struct{}{}, err
		}
		if err := mayEditAnnotation(p, an); err != nil {
			return struct{}{}, err
		}
		if err := reviewOpen(a); err != nil {
			return struct{}{}, err
		}
		if err := tx.SoftDeleteAnnotation(ctx, id, version); err != nil {
			return struct{}{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "annotation_delete", ObjectType: "annotation", ObjectID: itoa(id),
			Details: map[string]any{"app": an.AppID, "version": an.VersionID}})
		ev, err := staffAudience(ctx, tx, an.AppID)
		if err != nil {
			return struct{}{}, err
		}
		ev.Kind, ev.Payload = wire.EventAnnotationDelete, mustJSON(wire.AnnotationGone{ID: id, AppID: an.AppID, VersionID: an.VersionID})
		tx.Emit(ev)
		return struct{}{}, nil
	})
	return err
}

// SetAnnotationStatus resolves, rejects or reopens an annotation: its
// author, the lead expert or a manager.
func (s *Service) SetAnnotationStatus(ctx context.Context, p *Principal, id int64, r wire.AnnotationStatusRequest) (wire.Annotation, error) {
	if !r.Status.Valid() {
		return wire.Annotation{}, wire.E(wire.CodeInvalid, "status", "Статус пометки: open, resolved или rejected", "Annotation status: open, resolved or rejected")
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Annotation, error) {
		an, a, err := s.loadAnnotation(ctx, tx.Q, p, id, tx)
		if err != nil {
			return wire.Annotation{}, err
		}
		lead := p.Role == wire.RoleExpert && a.LeadExpertID == p.UserID
		if an.AuthorID != p.UserID && p.Role != wire.RoleManager && !lead {
			return wire.Annotation{}, errForbidden("Статус пометки меняют её автор, ведущий эксперт или менеджер",
				"Only the author, the lead expert or a manager changes an annotation's status")
		}
		if err := reviewOpen(a); err != nil {
			return wire.Annotation{}, err
		}
		if err := tx.SetAnnotationStatus(ctx, id, r.Version, r.Status); err != nil {
			return wire.Annotation{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "annotation_status", ObjectType: "annotation", ObjectID: itoa(id),
			Details: map[string]any{"app": an.AppID, "from": an.Status, "to": r.Status}})
		return s.emitAnnotation(ctx, tx, id)
	})
}

// ReplyAnnotation adds a comment to an annotation's thread (experts and
// managers who see it).
func (s *Service) ReplyAnnotation(ctx context.Context, p *Principal, id int64, r wire.ReplyRequest) (wire.AnnotationReply, error) {
	text := strings.TrimSpace(r.Text)
	if err := wire.ValidateReply(text); err != nil {
		return wire.AnnotationReply{}, err
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.AnnotationReply, error) {
		an, a, err := s.loadAnnotation(ctx, tx.Q, p, id, nil)
		if err != nil {
			return wire.AnnotationReply{}, err
		}
		if p.Role != wire.RoleExpert && p.Role != wire.RoleManager {
			return wire.AnnotationReply{}, errForbidden("Отвечают на пометки эксперты и менеджеры", "Experts and managers reply to annotations")
		}
		if err := reviewOpen(a); err != nil {
			return wire.AnnotationReply{}, err
		}
		rep, err := tx.InsertReply(ctx, wire.AnnotationReply{AnnotationID: id, AppID: an.AppID, AuthorID: p.UserID, Text: text})
		if err != nil {
			return wire.AnnotationReply{}, err
		}
		rep.AuthorName = p.Name
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "annotation_reply", ObjectType: "annotation", ObjectID: itoa(id),
			Details: map[string]any{"app": an.AppID, "reply": rep.ID}})
		ev, err := staffAudience(ctx, tx, an.AppID)
		if err != nil {
			return wire.AnnotationReply{}, err
		}
		ev.Kind, ev.Payload = wire.EventAnnotationReply, mustJSON(rep)
		tx.Emit(ev)
		return rep, nil
	})
}

// PresenceAudience checks the caller may see the application (and the
// document version, when named) and says who receives their presence:
// staff viewing a document reach staff only, since their review work is
// internal; everyone else reaches the application's audience.
func (s *Service) PresenceAudience(ctx context.Context, p *Principal, appID, versionID int64) (Audience, bool, error) {
	aud, err := s.Audience(ctx, p, appID)
	if err != nil || versionID == 0 {
		return aud, false, err
	}
	v, err := s.st.Read().ReviewVersion(ctx, versionID)
	if wire.ErrorCode(err) == wire.CodeNotFound || (err == nil && (v.AppID != appID || v.Section == wire.SectionChat)) {
		return Audience{}, false, errNotFound("версия файла", "file version")
	}
	if err != nil {
		return Audience{}, false, err
	}
	return aud, p.Role.Staff(), nil
}
