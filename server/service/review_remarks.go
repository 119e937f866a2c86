package service

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// The remarks register. Visibility, the same for reads and pushed events:
//   - a draft: its author and the application's lead expert (who
//     publishes); nobody else, managers included;
//   - published and later: everyone who sees the application — its
//     organisation's applicants, its experts, managers and administrators.

// seesDraft reports whether the caller may see a draft of application a.
func seesDraft(p *Principal, a *store.AppRow, r *wire.Remark) bool {
	return p.Role == wire.RoleExpert && (r.AuthorID == p.UserID || a.LeadExpertID == p.UserID)
}

// loadRemark reads (and with tx, locks) a remark the caller may see; any
// other is NotFound.
func (s *Service) loadRemark(ctx context.Context, q store.Q, p *Principal, id int64, tx *store.Tx) (*wire.Remark, *store.AppRow, error) {
	if err := requireFull(p); err != nil {
		return nil, nil, err
	}
	var r *wire.Remark
	var err error
	if tx != nil {
		r, err = tx.RemarkForUpdate(ctx, id)
	} else {
		r, err = q.Remark(ctx, id)
	}
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, nil, errNotFound("замечание", "remark")
	}
	if err != nil {
		return nil, nil, err
	}
	a, err := s.loadVisible(ctx, q, p, r.AppID, nil)
	if wire.ErrorCode(err) == wire.CodeNotFound || (err == nil && r.Status == wire.RemarkDraft && !seesDraft(p, a, r)) {
		return nil, nil, errNotFound("замечание", "remark")
	}
	if err != nil {
		return nil, nil, err
	}
	return r, a, nil
}

// emitRemark re-reads a remark in the transaction and emits it to those
// who may see it.
func (s *Service) emitRemark(ctx context.Context, tx *store.Tx, a *store.AppRow, id int64) (wire.Remark, error) {
	r, err := tx.Remark(ctx, id)
	if err != nil {
		return wire.Remark{}, err
	}
	if err := s.emitRemarkEvent(ctx, tx, a, r.AuthorID, r.Status == wire.RemarkDraft, wire.EventRemark, mustJSON(r)); err != nil {
		return wire.Remark{}, err
	}
	return *r, nil
}

// emitRemarkEvent sends a draft's event to its author and the lead, one
// user-targeted row each; anything else to the application's audience.
func (s *Service) emitRemarkEvent(ctx context.Context, tx *store.Tx, a *store.AppRow, authorID int64, draft bool, kind wire.EventKind, payload []byte) error {
	if draft {
		for _, uid := range slices.Compact([]int64{authorID, a.LeadExpertID}) {
			if uid != 0 {
				tx.Emit(store.EventRow{Kind: kind, AppID: a.ID, UserID: uid, Payload: payload})
			}
		}
		return nil
	}
	experts, err := tx.AppExpertIDs(ctx, a.ID)
	if err != nil {
		return err
	}
	tx.Emit(store.EventRow{Kind: kind, AppID: a.ID, OrgID: a.OrgID, ExpertIDs: experts, Payload: payload})
	return nil
}

// Remarks lists the remarks of an application the caller may see
// (versionID 0: all).
func (s *Service) Remarks(ctx context.Context, p *Principal, appID, versionID int64) ([]wire.Remark, error) {
	q := s.st.Read()
	a, err := s.loadVisible(ctx, q, p, appID, nil)
	if err != nil {
		return nil, err
	}
	f := store.RemarkFilter{AppID: appID, VersionID: versionID}
	if p.Role == wire.RoleExpert {
		f.DraftAuthor, f.AllDrafts = p.UserID, a.LeadExpertID == p.UserID
	}
	return q.Remarks(ctx, f)
}

// Notices lists an application's published notices.
func (s *Service) Notices(ctx context.Context, p *Principal, appID int64) ([]wire.Notice, error) {
	q := s.st.Read()
	if _, err := s.loadVisible(ctx, q, p, appID, nil); err != nil {
		return nil, err
	}
	return q.Notices(ctx, appID)
}

// CreateRemark creates a draft (assigned experts, the lead included).
func (s *Service) CreateRemark(ctx context.Context, p *Principal, appID int64, r wire.CreateRemarkRequest) (wire.Remark, error) {
	r.Text, r.NormRef, r.Section = strings.TrimSpace(r.Text), strings.TrimSpace(r.NormRef), strings.TrimSpace(r.Section)
	if err := wire.ValidateRemarkText(r.Text, r.NormRef, r.Criticality, false); err != nil {
		return wire.Remark{}, err
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Remark, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, appID, nil)
		if err != nil {
			return wire.Remark{}, err
		}
		if p.Role != wire.RoleExpert {
			return wire.Remark{}, errForbidden("Замечания составляют эксперты, назначенные на заявление", "Only the application's experts write remarks")
		}
		if err := reviewOpen(a); err != nil {
			return wire.Remark{}, err
		}
		rm := wire.Remark{AppID: appID, Section: r.Section, VersionID: r.VersionID, Text: r.Text, NormRef: r.NormRef,
			Criticality: r.Criticality, AuthorID: p.UserID}
		if err := s.anchorRemark(ctx, tx, a, &rm, r); err != nil {
			return wire.Remark{}, err
		}
		id, err := tx.InsertDraftRemark(ctx, rm)
		if err != nil {
			return wire.Remark{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "remark_create", ObjectType: "remark", ObjectID: itoa(id),
			Details: map[string]any{"app": appID, "section": rm.Section, "version": rm.VersionID, "annotation": r.AnnotationID}})
		return s.emitRemark(ctx, tx, a, id)
	})
}

// anchorRemark fills the section, version and anchor of a new draft from
// the request, checking each belongs to the application.
func (s *Service) anchorRemark(ctx context.Context, tx *store.Tx, a *store.AppRow, rm *wire.Remark, r wire.CreateRemarkRequest) error {
	if r.AnnotationID != 0 {
		an, err := tx.Annotation(ctx, r.AnnotationID)
		if err != nil || an.AppID != a.ID {
			return wire.E(wire.CodeInvalid, "annotation_id", "Пометка "+itoa(r.AnnotationID)+" не найдена в этом заявлении", "Annotation "+itoa(r.AnnotationID)+" is not one of this application's")
		}
		if r.VersionID != 0 && r.VersionID != an.VersionID || r.Page != 0 && r.Page != an.Page || r.Rect != nil {
			return wire.E(wire.CodeInvalid, "annotation_id", "Замечание из пометки берёт версию, страницу и место из неё: не передавайте version_id, page и rect",
				"A remark made from an annotation takes its version, page and place from it: do not send version_id, page or rect")
		}
		b, _ := an.Geometry.Bounds()
		rm.VersionID, r.VersionID = an.VersionID, an.VersionID
		rm.Anchor = &wire.RemarkAnchor{Page: an.Page, Rect: &b, AnnotationID: an.ID}
	}
	if r.VersionID == 0 {
		if r.Page != 0 || r.Rect != nil {
			return wire.E(wire.CodeInvalid, "version_id", "Чтобы указать страницу или место, укажите версию файла version_id", "To name a page or a place, give the file version version_id")
		}
		if _, ok := wire.SectionByCode(rm.Section); !ok && rm.Section != wire.SectionSupporting {
			return wire.E(wire.CodeInvalid, "section", "Укажите раздел документации кодом классификатора (например, 07.03) или версию файла",
				"Give the documentation section as a classifier code (e.g. 07.03) or a file version")
		}
		return nil
	}
	v, err := tx.ReviewVersion(ctx, r.VersionID)
	if err != nil || v.AppID != a.ID || v.Section == wire.SectionChat {
		return wire.E(wire.CodeInvalid, "version_id", "Версия файла "+itoa(r.VersionID)+" не относится к этому заявлению", "File version "+itoa(r.VersionID)+" is not one of this application's")
	}
	if rm.Section != "" && rm.Section != v.Section {
		return wire.E(wire.CodeInvalid, "section", "Файл относится к разделу "+v.Section+", а указан "+rm.Section+": уберите section или исправьте его",
			"The file belongs to section "+v.Section+", not "+rm.Section+": drop section or correct it")
	}
	rm.Section = v.Section
	if rm.Anchor != nil { // from an annotation: checked when it was drawn
		return nil
	}
	if r.Page == 0 {
		if r.Rect != nil {
			return wire.E(wire.CodeInvalid, "page", "Прямоугольник указывается вместе со страницей page", "A rect needs its page")
		}
		return nil
	}
	size, err := pageOf(v, r.Page)
	if err != nil {
		return err
	}
	if r.Rect != nil {
		if err := wire.ValidateGeometry(wire.AnnotRect, wire.Geometry{Rect: r.Rect}, size); err != nil {
			we, _ := wire.AsError(err)
			return wire.E(we.Code, "rect", we.Message, we.MessageEN)
		}
	}
	rm.Anchor = &wire.RemarkAnchor{Page: r.Page, Rect: r.Rect}
	return nil
}

// ownDraft loads a remark for its author's edit: a draft of the caller.
func (s *Service) ownDraft(ctx context.Context, tx *store.Tx, p *Principal, id int64) (*wire.Remark, *store.AppRow, error) {
	rm, a, err := s.loadRemark(ctx, tx.Q, p, id, tx)
	if err != nil {
		return nil, nil, err
	}
	if rm.AuthorID != p.UserID {
		return nil, nil, errForbidden("Черновик замечания меняет и удаляет только его автор ("+rm.AuthorName+")",
			"Only the author ("+rm.AuthorName+") edits or deletes a draft remark")
	}
	if rm.Status != wire.RemarkDraft {
		return nil, nil, wire.E(wire.CodeConflict, "status", "Замечание уже направлено заявителю («"+rm.Status.Label()+"»): менять и удалять можно только черновик",
			"The remark was already published ("+string(rm.Status)+"): only drafts can be edited or deleted")
	}
	if err := reviewOpen(a); err != nil {
		return nil, nil, err
	}
	return rm, a, nil
}

// UpdateRemark edits the caller's own draft.
func (s *Service) UpdateRemark(ctx context.Context, p *Principal, id int64, r wire.UpdateRemarkRequest) (wire.Remark, error) {
	if r.Text == nil && r.NormRef == nil && r.Criticality == nil {
		return wire.Remark{}, wire.E(wire.CodeInvalid, "", "Нечего менять: передайте text, norm_ref или criticality", "Nothing to change: send text, norm_ref or criticality")
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Remark, error) {
		rm, a, err := s.ownDraft(ctx, tx, p, id)
		if err != nil {
			return wire.Remark{}, err
		}
		if r.Text != nil {
			rm.Text = strings.TrimSpace(*r.Text)
		}
		if r.NormRef != nil {
			rm.NormRef = strings.TrimSpace(*r.NormRef)
		}
		if r.Criticality != nil {
			rm.Criticality = *r.Criticality
		}
		if err := wire.ValidateRemarkText(rm.Text, rm.NormRef, rm.Criticality, false); err != nil {
			return wire.Remark{}, err
		}
		if err := tx.UpdateRemarkDraft(ctx, rm, r.Version); err != nil {
			return wire.Remark{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "remark_update", ObjectType: "remark", ObjectID: itoa(id),
			Details: map[string]any{"app": rm.AppID}})
		return s.emitRemark(ctx, tx, a, id)
	})
}

// DeleteRemark deletes the caller's own draft.
func (s *Service) DeleteRemark(ctx context.Context, p *Principal, id, version int64) error {
	_, err := write(ctx, s, p, func(tx *store.Tx) (struct{}, error) {
		rm, a, err := s.ownDraft(ctx, tx, p, id)
		if err != nil {
			return struct{}{}, err
		}
		if err := tx.SoftDeleteRemark(ctx, id, version); err != nil {
			return struct{}{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "remark_delete", ObjectType: "remark", ObjectID: itoa(id),
			Details: map[string]any{"app": rm.AppID}})
		return struct{}{}, s.emitRemarkEvent(ctx, tx, a, rm.AuthorID, true, wire.EventRemarkDelete, mustJSON(wire.RemarkGone{ID: id, AppID: rm.AppID}))
	})
	return err
}

// PublishRemarks is the lead expert's notice: the named drafts become
// published (numbered in id order), reopened remarks named are sent again,
// and the application moves in_review → remarks_issued through the
// workflow table, all in one transaction.
func (s *Service) PublishRemarks(ctx context.Context, p *Principal, appID int64, r wire.PublishRemarksRequest) (wire.Notice, error) {
	ids := slices.Clone(r.RemarkIDs)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 || len(ids) > wire.MaxNoticeRemarks {
		return wire.Notice{}, wire.E(wire.CodeInvalid, "remark_ids", fmt.Sprintf("Выберите от 1 до %d замечаний для уведомления", wire.MaxNoticeRemarks),
			fmt.Sprintf("Choose 1 to %d remarks for the notice", wire.MaxNoticeRemarks))
	}
	notice, err := write(ctx, s, p, func(tx *store.Tx) (wire.Notice, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, appID, tx)
		if err != nil {
			return wire.Notice{}, err
		}
		if p.Role != wire.RoleExpert || a.LeadExpertID != p.UserID {
			return wire.Notice{}, errForbidden("Замечания направляет заявителю ведущий эксперт заявления", "Only the application's lead expert publishes remarks")
		}
		// The workflow first: a stale or illegal move says so before any
		// remark is looked at (the transaction undoes it on a later refusal).
		noticeNo, remarkNo, err := tx.NextNumbers(ctx, appID)
		if err != nil {
			return wire.Notice{}, err
		}
		comment := strings.TrimSpace(r.Comment)
		if comment == "" {
			comment = fmt.Sprintf("Уведомление о замечаниях № %d (замечаний: %d)", noticeNo, len(ids))
		}
		act, err := s.actorFor(ctx, tx.Q, p, a)
		if err != nil {
			return wire.Notice{}, err
		}
		if _, err := s.transition(ctx, tx, a, act, wire.TransitionRequestBody{Version: r.Version, To: wire.StatusRemarksIssued, Comment: comment},
			p.UserID, p.Name, p.Login, p.IP); err != nil {
			return wire.Notice{}, err
		}
		found, err := tx.Remarks(ctx, store.RemarkFilter{AppID: appID, AllDrafts: true, IDs: ids})
		if err != nil {
			return wire.Notice{}, err
		}
		var drafts, resent []int64
		for _, id := range ids {
			i := slices.IndexFunc(found, func(x wire.Remark) bool { return x.ID == id })
			if i < 0 {
				return wire.Notice{}, wire.E(wire.CodeInvalid, "remark_ids", "Замечание "+itoa(id)+" не найдено в этом заявлении", "Remark "+itoa(id)+" is not one of this application's")
			}
			rm := found[i]
			switch rm.Status {
			case wire.RemarkDraft:
				if err := wire.ValidateRemarkText(rm.Text, rm.NormRef, rm.Criticality, true); err != nil {
					we, _ := wire.AsError(err)
					return wire.Notice{}, wire.E(we.Code, "remark_ids", "Замечание "+itoa(id)+": "+we.Message, "Remark "+itoa(id)+": "+we.MessageEN)
				}
				drafts = append(drafts, id)
			case wire.RemarkReopened:
				resent = append(resent, id)
			default:
				return wire.Notice{}, wire.E(wire.CodeConflict, "remark_ids", "Замечание "+itoa(id)+" в статусе «"+rm.Status.Label()+"»: направляются черновики и возвращённые на доработку",
					"Remark "+itoa(id)+" is "+string(rm.Status)+": only drafts and reopened remarks are published")
			}
		}
		n, err := tx.InsertNotice(ctx, wire.Notice{AppID: appID, Number: noticeNo, Comment: comment, RemarkIDs: ids, PublishedBy: p.UserID})
		if err != nil {
			return wire.Notice{}, err
		}
		for i, id := range drafts {
			if err := tx.PublishRemark(ctx, id, n.ID, remarkNo+i); err != nil {
				return wire.Notice{}, err
			}
		}
		for _, id := range resent {
			if err := tx.ResendRemark(ctx, id); err != nil {
				return wire.Notice{}, err
			}
		}
		for _, id := range ids {
			if _, err := s.emitRemark(ctx, tx, a, id); err != nil {
				return wire.Notice{}, err
			}
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "remarks_publish", ObjectType: "remark_notice", ObjectID: itoa(n.ID),
			Details: map[string]any{"app": appID, "number": noticeNo, "published": drafts, "resent": resent}})
		n, err = tx.Notice(ctx, n.ID)
		if err != nil {
			return wire.Notice{}, err
		}
		if err := s.emitRemarkEvent(ctx, tx, a, 0, false, wire.EventNoticePublished, mustJSON(n)); err != nil {
			return wire.Notice{}, err
		}
		return n, nil
	})
	if err == nil {
		// Committed: the letter is rendered now, outside the transaction
		// (review_letter.go says why).
		s.kickLetters()
	}
	return notice, err
}

// AnswerRemark records the applicant's answer to a published or reopened
// remark while the application is in remarks_issued.
func (s *Service) AnswerRemark(ctx context.Context, p *Principal, id int64, r wire.AnswerRemarkRequest) (wire.Remark, error) {
	text := strings.TrimSpace(r.Text)
	switch {
	case text == "":
		return wire.Remark{}, wire.E(wire.CodeInvalid, "text", "Напишите ответ на замечание", "Write the answer to the remark")
	case utf8.RuneCountInString(text) > wire.MaxAnswerRunes:
		return wire.Remark{}, wire.E(wire.CodeTooLarge, "text", fmt.Sprintf("Ответ длиннее %d символов — сократите его или приложите файлом", wire.MaxAnswerRunes),
			fmt.Sprintf("The answer is over %d characters — shorten it or attach it as a file", wire.MaxAnswerRunes))
	case len(r.VersionIDs) > wire.MaxAnswerVersions:
		return wire.Remark{}, wire.E(wire.CodeInvalid, "version_ids", fmt.Sprintf("Не больше %d исправленных файлов в одном ответе", wire.MaxAnswerVersions),
			fmt.Sprintf("At most %d corrected files per answer", wire.MaxAnswerVersions))
	}
	versions := slices.Clone(r.VersionIDs)
	slices.Sort(versions)
	versions = slices.Compact(versions)
	return write(ctx, s, p, func(tx *store.Tx) (wire.Remark, error) {
		rm, a, err := s.loadRemark(ctx, tx.Q, p, id, tx)
		if err != nil {
			return wire.Remark{}, err
		}
		act := wire.RemarkActor{Role: p.Role, Member: p.Role == wire.RoleApplicant && p.Member(a.OrgID)}
		if err := wire.CheckRemarkTransition(rm.Status, wire.RemarkAnswered, act, ""); err != nil {
			return wire.Remark{}, err
		}
		if a.Status != wire.StatusRemarksIssued {
			return wire.Remark{}, wire.E(wire.CodeConflict, "status", "Ответы на замечания принимаются в статусе «Направлены замечания»; сейчас: «"+a.Status.Label()+"»",
				"Answers are accepted in the remarks_issued status; now: "+string(a.Status))
		}
		if a.ReviewDue != nil {
			if left := s.Calendar().WorkdaysUntil(wire.DateOf(tx.Now()), *a.ReviewDue); left <= s.cfg.AnswerCutoffDays {
				return wire.Remark{}, wire.E(wire.CodeDeadline, "",
					"Ответы на замечания не принимаются менее чем за "+strconv.Itoa(s.cfg.AnswerCutoffDays)+" рабочих дней до окончания срока экспертизы ("+a.ReviewDue.String()+"). Обратитесь к менеджеру.",
					"Answers are not accepted within "+strconv.Itoa(s.cfg.AnswerCutoffDays)+" working days of the review deadline ("+a.ReviewDue.String()+"). Contact the manager.")
			}
		}
		if len(versions) > 0 {
			ok, err := tx.VersionsOfApp(ctx, a.ID, versions)
			if err != nil {
				return wire.Remark{}, err
			}
			for _, v := range versions {
				if !slices.Contains(ok, v) {
					return wire.Remark{}, wire.E(wire.CodeInvalid, "version_ids", "Версия файла "+itoa(v)+" не относится к этому заявлению: укажите исправленные файлы, загруженные в него",
						"File version "+itoa(v)+" is not one of this application's: name corrected files uploaded to it")
				}
			}
		}
		if rm.Version != r.Version {
			e := wire.E(wire.CodeConflict, "version", "Замечание уже изменено — обновите его и повторите", "The remark was changed — reload it and try again")
			e.Current = rm.Version
			return wire.Remark{}, e
		}
		answerID, err := tx.InsertAnswer(ctx, id, p.UserID, text, versions)
		if err != nil {
			return wire.Remark{}, err
		}
		if err := tx.SetRemarkStatus(ctx, id, r.Version, wire.RemarkAnswered, nil); err != nil {
			return wire.Remark{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "remark_answer", ObjectType: "remark", ObjectID: itoa(id),
			Details: map[string]any{"app": a.ID, "answer": answerID, "versions": versions}})
		out, err := s.emitRemark(ctx, tx, a, id)
		if err != nil {
			return wire.Remark{}, err
		}
		if err := s.notifyUsers(ctx, tx, []int64{rm.AuthorID, a.LeadExpertID}, a.ID, wire.Notification{Kind: wire.NotifyRemark,
			Title: "Ответ на замечание № " + strconv.Itoa(rm.Number), Body: "Заявление " + a.Number + ": получен ответ на замечание № " + strconv.Itoa(rm.Number) + "."}); err != nil {
			return wire.Remark{}, err
		}
		return out, nil
	})
}

// SetRemarkStatus is the expert's verdict on a remark: accepted, reopened
// (with a comment) or closed — by its author or the lead expert.
func (s *Service) SetRemarkStatus(ctx context.Context, p *Principal, id int64, r wire.RemarkStatusRequest) (wire.Remark, error) {
	comment := strings.TrimSpace(r.Comment)
	if utf8.RuneCountInString(comment) > wire.MaxAnswerRunes {
		return wire.Remark{}, wire.E(wire.CodeTooLarge, "comment", "Комментарий слишком длинный", "The comment is too long")
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Remark, error) {
		rm, a, err := s.loadRemark(ctx, tx.Q, p, id, tx)
		if err != nil {
			return wire.Remark{}, err
		}
		act := wire.RemarkActor{Role: p.Role, Member: p.Role == wire.RoleApplicant && p.Member(a.OrgID),
			Author: rm.AuthorID == p.UserID, Lead: a.LeadExpertID == p.UserID}
		if r.Status == wire.RemarkAnswered {
			return wire.Remark{}, wire.E(wire.CodeInvalid, "status", "Ответ на замечание даётся командой ответа (POST /remarks/{id}/answers)",
				"An answer is given with the answer command (POST /remarks/{id}/answers)")
		}
		if err := wire.CheckRemarkTransition(rm.Status, r.Status, act, comment); err != nil {
			return wire.Remark{}, err
		}
		if err := reviewOpen(a); err != nil {
			return wire.Remark{}, err
		}
		if err := tx.SetRemarkStatus(ctx, id, r.Version, r.Status, &comment); err != nil {
			return wire.Remark{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "remark_status", ObjectType: "remark", ObjectID: itoa(id),
			Details: map[string]any{"app": a.ID, "from": rm.Status, "to": r.Status}})
		out, err := s.emitRemark(ctx, tx, a, id)
		if err != nil {
			return wire.Remark{}, err
		}
		if r.Status == wire.RemarkReopened {
			members, err := tx.OrgMemberIDs(ctx, a.OrgID)
			if err != nil {
				return wire.Remark{}, err
			}
			if err := s.notifyUsers(ctx, tx, members, a.ID, wire.Notification{Kind: wire.NotifyRemark,
				Title: "Замечание № " + strconv.Itoa(rm.Number) + " возвращено", Body: "Заявление " + a.Number + ": ответ на замечание № " +
					strconv.Itoa(rm.Number) + " не принят. " + comment}); err != nil {
				return wire.Remark{}, err
			}
		}
		return out, nil
	})
}
