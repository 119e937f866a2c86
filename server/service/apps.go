package service

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// canSee is THE visibility rule for applications: managers and admins see
// all, applicants their organisations', experts those assigned to them.
func (s *Service) canSee(ctx context.Context, q store.Q, p *Principal, a *store.AppRow) (bool, error) {
	switch p.Role {
	case wire.RoleManager, wire.RoleAdmin:
		// A draft is the applicant's own until submitted.
		return a.Status != wire.StatusDraft, nil
	case wire.RoleApplicant:
		return p.Member(a.OrgID), nil
	case wire.RoleExpert:
		return q.IsAssigned(ctx, a.ID, p.UserID)
	}
	return false, nil
}

// requireFull refuses enrolment-only sessions everywhere but enrolment.
func requireFull(p *Principal) error {
	if p.Scope != wire.ScopeFull {
		return wire.E(wire.CodeEnrolmentRequired, "", "Сначала подключите двухфакторную аутентификацию", "Enrol two-factor authentication first")
	}
	return nil
}

// loadVisible reads an application the caller may see; anything else —
// absent, deleted or someone else's — is the same NotFound.
func (s *Service) loadVisible(ctx context.Context, q store.Q, p *Principal, id int64, lock *store.Tx) (*store.AppRow, error) {
	if err := requireFull(p); err != nil {
		return nil, err
	}
	var a *store.AppRow
	var err error
	if lock != nil {
		a, err = lock.ApplicationForUpdate(ctx, id)
	} else {
		a, err = q.Application(ctx, id)
	}
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, errNotFound("заявление", "application")
	}
	if err != nil {
		return nil, err
	}
	ok, err := s.canSee(ctx, q, p, a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNotFound("заявление", "application")
	}
	return a, nil
}

// present fills the computed fields a client shows.
func (s *Service) present(a *store.AppRow) wire.Application {
	out := a.Application
	var due *wire.Date
	switch a.Status {
	case wire.StatusSubmitted:
		due = a.CompletenessDue
	case wire.StatusInReview, wire.StatusRemarksIssued, wire.StatusConclusion:
		due = a.ReviewDue
	}
	if due != nil {
		d := *due
		left := s.Calendar().WorkdaysUntil(wire.DateOf(s.now()), d)
		out.Deadline, out.DaysLeft = &d, &left
	}
	return out
}

// GetApplication returns one visible application.
func (s *Service) GetApplication(ctx context.Context, p *Principal, id int64) (wire.Application, error) {
	a, err := s.loadVisible(ctx, s.st.Read(), p, id, nil)
	if err != nil {
		return wire.Application{}, err
	}
	return s.present(a), nil
}

// ListFilter is what a client may filter the list by.
type ListFilter struct {
	Statuses []wire.Status
	Kind     wire.ExpertiseKind
	Query    string
	Limit    int
}

// ListApplications lists the applications the caller may see.
func (s *Service) ListApplications(ctx context.Context, p *Principal, f ListFilter) ([]wire.Application, error) {
	if err := requireFull(p); err != nil {
		return nil, err
	}
	sf := store.AppFilter{Statuses: f.Statuses, Kind: f.Kind, Query: f.Query, Limit: f.Limit}
	switch p.Role {
	case wire.RoleApplicant:
		sf.OrgIDs = append([]int64{}, p.OrgIDs...) // never nil: no orgs sees nothing
	case wire.RoleExpert:
		sf.ExpertID = p.UserID
	default:
		sf.ExcludeDrafts = true
	}
	rows, err := s.st.Read().ListApplications(ctx, sf)
	if err != nil {
		return nil, err
	}
	out := make([]wire.Application, len(rows))
	for i, a := range rows {
		out[i] = s.present(a)
	}
	return out, nil
}

// validateInput refuses a form with the first of its faults (the client
// runs the same check and marks them all).
func validateInput(in wire.ApplicationInput, create bool) error {
	if errs := wire.ApplicationInputErrors(in, create); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func apply(a *store.AppRow, in wire.ApplicationInput) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = strings.TrimSpace(*v)
		}
	}
	set(&a.ObjectName, in.ObjectName)
	set(&a.ObjectAddress, in.ObjectAddress)
	set(&a.ApplicantName, in.ApplicantName)
	set(&a.ApplicantPhone, in.ApplicantPhone)
	set(&a.ApplicantEmail, in.ApplicantEmail)
	if in.WorksKind != nil {
		a.WorksKind = *in.WorksKind
	}
	if in.ExpertiseKind != nil {
		a.ExpertiseKind = *in.ExpertiseKind
	}
	if in.Financing != nil {
		a.Financing = *in.Financing
	}
}

// CreateApplication creates a draft for one of the caller's organisations.
func (s *Service) CreateApplication(ctx context.Context, p *Principal, in wire.ApplicationInput) (wire.Application, error) {
	if err := requireFull(p); err != nil {
		return wire.Application{}, err
	}
	if p.Role != wire.RoleApplicant {
		return wire.Application{}, errForbidden("Заявления подают только заявители", "Only applicants file applications")
	}
	if err := validateInput(in, true); err != nil {
		return wire.Application{}, err
	}
	orgID := int64(0)
	if in.OrgID != nil {
		orgID = *in.OrgID
	} else if len(p.OrgIDs) == 1 {
		orgID = p.OrgIDs[0]
	}
	if !p.Member(orgID) {
		return wire.Application{}, wire.E(wire.CodeInvalid, "org_id", "Выберите организацию, сотрудником которой вы являетесь", "Choose an organisation you belong to")
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Application, error) {
		num, err := tx.NextApplicationNumber(ctx, wire.DateOf(tx.Now()).Year)
		if err != nil {
			return wire.Application{}, err
		}
		var a store.AppRow
		apply(&a, in)
		id, err := tx.InsertApplication(ctx, store.NewApplication{Number: num, OrgID: orgID, CreatedBy: p.UserID,
			ObjectName: a.ObjectName, ObjectAddress: a.ObjectAddress, WorksKind: a.WorksKind, ExpertiseKind: a.ExpertiseKind,
			Financing: a.Financing, ApplicantName: a.ApplicantName, ApplicantPhone: a.ApplicantPhone, ApplicantEmail: a.ApplicantEmail})
		if err != nil {
			return wire.Application{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "application_create", ObjectType: "application", ObjectID: itoa(id)})
		return s.emitApp(ctx, tx, id, nil)
	})
}

// emitApp re-reads an application inside the transaction and emits its
// snapshot to everyone who may see it; extraExperts also get it (experts
// just unassigned learn they lost access).
func (s *Service) emitApp(ctx context.Context, tx *store.Tx, id int64, extraExperts []int64) (wire.Application, error) {
	a, err := tx.Application(ctx, id)
	if err != nil {
		return wire.Application{}, err
	}
	experts, err := tx.AppExpertIDs(ctx, id)
	if err != nil {
		return wire.Application{}, err
	}
	for _, e := range extraExperts {
		if !slices.Contains(experts, e) {
			experts = append(experts, e)
		}
	}
	out := s.present(a)
	tx.Emit(store.EventRow{Kind: wire.EventApplication, AppID: id, OrgID: a.OrgID, ExpertIDs: experts,
		OrgOnly: a.Status == wire.StatusDraft, Payload: mustJSON(out)})
	return out, nil
}

// UpdateApplication edits the form while the status allows it.
func (s *Service) UpdateApplication(ctx context.Context, p *Principal, id int64, r wire.UpdateApplicationRequest) (wire.Application, error) {
	if err := validateInput(r.ApplicationInput, false); err != nil {
		return wire.Application{}, err
	}
	if r.ApplicationInput.OrgID != nil {
		return wire.Application{}, wire.E(wire.CodeInvalid, "org_id", "Организацию заявления изменить нельзя — создайте новое заявление", "The organisation cannot be changed — create a new application")
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Application, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, id, tx)
		if err != nil {
			return wire.Application{}, err
		}
		if p.Role != wire.RoleApplicant {
			return wire.Application{}, errForbidden("Сведения заявления редактирует заявитель", "Only the applicant edits the application form")
		}
		if a.Status != wire.StatusDraft && a.Status != wire.StatusNeedsCorrection {
			return wire.Application{}, wire.E(wire.CodeConflict, "status", "Сведения можно менять только в статусах «Черновик» и «Требуется доработка»; сейчас: «"+a.Status.Label()+"»",
				"The form can be edited only in draft or needs-correction status; now: "+string(a.Status))
		}
		apply(a, r.ApplicationInput)
		if err := tx.UpdateApplicationFields(ctx, a, r.Version); err != nil {
			return wire.Application{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "application_update", ObjectType: "application", ObjectID: itoa(id)})
		return s.emitApp(ctx, tx, id, nil)
	})
}

// DeleteDraft removes a draft (the "(deleted)" exit of DESIGN.md).
func (s *Service) DeleteDraft(ctx context.Context, p *Principal, id, version int64) error {
	_, err := write(ctx, s, p, func(tx *store.Tx) (struct{}, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, id, tx)
		if err != nil {
			return struct{}{}, err
		}
		if p.Role != wire.RoleApplicant {
			return struct{}{}, errForbidden("Черновик удаляет заявитель", "Only the applicant deletes a draft")
		}
		if a.Status != wire.StatusDraft {
			return struct{}{}, wire.E(wire.CodeConflict, "status", "Удалить можно только черновик; поданное заявление можно отозвать", "Only a draft can be deleted; a submitted application can be withdrawn")
		}
		if err := tx.SoftDeleteApplication(ctx, id, version); err != nil {
			return struct{}{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "application_delete", ObjectType: "application", ObjectID: itoa(id)})
		tx.Emit(store.EventRow{Kind: wire.EventApplicationGone, AppID: id, OrgID: a.OrgID, OrgOnly: true, Payload: mustJSON(map[string]int64{"id": id})})
		return struct{}{}, nil
	})
	return err
}

// actorFor describes the caller relative to one application for the
// workflow table.
func (s *Service) actorFor(ctx context.Context, q store.Q, p *Principal, a *store.AppRow) (wire.Actor, error) {
	act := wire.Actor{Role: p.Role, Member: p.Role == wire.RoleApplicant && p.Member(a.OrgID)}
	if p.Role == wire.RoleExpert {
		ok, err := q.IsAssigned(ctx, a.ID, p.UserID)
		if err != nil {
			return act, err
		}
		act.Assigned, act.Lead = ok, a.LeadExpertID == p.UserID
	}
	return act, nil
}

// AllowedTransitions lists the moves the caller may make now, for buttons.
func (s *Service) AllowedTransitions(ctx context.Context, p *Principal, id int64) ([]wire.Status, error) {
	q := s.st.Read()
	a, err := s.loadVisible(ctx, q, p, id, nil)
	if err != nil {
		return nil, err
	}
	act, err := s.actorFor(ctx, q, p, a)
	if err != nil {
		return nil, err
	}
	return wire.AllowedTransitions(a.Status, act), nil
}

// Transition moves an application along the workflow.
func (s *Service) Transition(ctx context.Context, p *Principal, id int64, r wire.TransitionRequestBody) (wire.Application, error) {
	defer s.kickContractDocs() // a contract offered by the move is rendered after the commit (contract.go)
	defer s.kickConclusions()  // an approved conclusion is rendered after the commit (conclusion_render.go)
	return write(ctx, s, p, func(tx *store.Tx) (wire.Application, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, id, tx)
		if err != nil {
			return wire.Application{}, err
		}
		act, err := s.actorFor(ctx, tx.Q, p, a)
		if err != nil {
			return wire.Application{}, err
		}
		return s.transition(ctx, tx, a, act, r, p.UserID, p.Name, p.Login, p.IP)
	})
}

// RecordPayment (the gateway's move to in_review) is in payment.go.

func (s *Service) transition(ctx context.Context, tx *store.Tx, a *store.AppRow, act wire.Actor, r wire.TransitionRequestBody,
	actorID int64, actorName, actorLogin, ip string) (wire.Application, error) {
	if r.Version != a.Version {
		e := wire.E(wire.CodeConflict, "version", "Заявление уже изменено другим пользователем — обновите карточку и повторите",
			"The application was changed by someone else — reload it and try again")
		e.Current = a.Version
		return wire.Application{}, e
	}
	comment := strings.TrimSpace(r.Comment)
	if err := wire.CheckTransition(wire.TransitionRequest{From: a.Status, To: r.To, Actor: act, Comment: comment, ProposedVerdict: a.ProposedVerdict}); err != nil {
		return wire.Application{}, err
	}
	now := tx.Now()
	today := wire.DateOf(now)
	cal := s.Calendar()
	upd := store.StatusUpdate{To: r.To}
	switch {
	case r.To == wire.StatusSubmitted:
		upd.SubmittedAt = &now
		if err := tx.UpsertDeadline(ctx, a.ID, "completeness", today, cal.AddWorkdays(today, wire.CompletenessDays), false); err != nil {
			return wire.Application{}, err
		}
	case a.Status == wire.StatusAwaitingPayment && r.To == wire.StatusInReview:
		upd.PaidAt = &now
		if err := tx.UpsertDeadline(ctx, a.ID, "review", today, cal.AddWorkdays(today, wire.ReviewTerm(a.ExpertiseKind)), false); err != nil {
			return wire.Application{}, err
		}
	case a.Status == wire.StatusRemarksIssued && r.To == wire.StatusInReview && a.ReviewDue != nil:
		left := cal.WorkdaysUntil(today, *a.ReviewDue)
		if left <= s.cfg.AnswerCutoffDays {
			return wire.Application{}, wire.E(wire.CodeDeadline, "",
				"Ответы на замечания не принимаются менее чем за "+strconv.Itoa(s.cfg.AnswerCutoffDays)+" рабочих дней до окончания срока экспертизы ("+a.ReviewDue.String()+"). Обратитесь к менеджеру.",
				"Answers are not accepted within "+strconv.Itoa(s.cfg.AnswerCutoffDays)+" working days of the review deadline ("+a.ReviewDue.String()+"). Contact the manager.")
		}
	}
	if a.Status == wire.StatusConclusion {
		upd.ProposedVerdict = a.ProposedVerdict
	}
	if err := tx.SetStatus(ctx, a.ID, r.Version, upd); err != nil {
		return wire.Application{}, err
	}
	if err := s.conclusionStep(ctx, tx, a, r.To, actorID, actorName, actorLogin, ip); err != nil {
		return wire.Application{}, err
	}
	if err := s.contractStep(ctx, tx, a, r.To, actorID, actorName); err != nil {
		return wire.Application{}, err
	}
	ch, err := tx.InsertStatusChange(ctx, wire.StatusChange{AppID: a.ID, From: a.Status, To: r.To, Comment: comment, ActorID: actorID, ActorName: actorName})
	if err != nil {
		return wire.Application{}, err
	}
	experts, err := tx.AppExpertIDs(ctx, a.ID)
	if err != nil {
		return wire.Application{}, err
	}
	tx.Emit(store.EventRow{Kind: wire.EventStatusChanged, AppID: a.ID, OrgID: a.OrgID, ExpertIDs: experts, Payload: mustJSON(ch)})
	tx.Audit(store.AuditEntry{ActorID: actorID, ActorLogin: actorLogin, IP: ip, Action: "status_change", ObjectType: "application", ObjectID: itoa(a.ID),
		Details: map[string]any{"from": a.Status, "to": r.To}})
	out, err := s.emitApp(ctx, tx, a.ID, nil)
	if err != nil {
		return wire.Application{}, err
	}
	body := "Заявление " + a.Number + " («" + a.ObjectName + "»): " + a.Status.Label() + " → " + r.To.Label() + "."
	if comment != "" {
		body += " Комментарий: " + comment
	}
	kind := wire.NotifyStatus
	if r.To == wire.StatusRemarksIssued || (a.Status == wire.StatusRemarksIssued && r.To == wire.StatusInReview) {
		kind = wire.NotifyRemark
	}
	if err := s.notifyApp(ctx, tx, a, actorID, wire.Notification{Kind: kind, AppID: a.ID, Title: "Статус: " + r.To.Label(), Body: body}); err != nil {
		return wire.Application{}, err
	}
	return out, nil
}

// ProposeVerdict records the lead expert's verdict for the manager to approve.
func (s *Service) ProposeVerdict(ctx context.Context, p *Principal, id int64, r wire.VerdictRequest) (wire.Application, error) {
	return write(ctx, s, p, func(tx *store.Tx) (wire.Application, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, id, tx)
		if err != nil {
			return wire.Application{}, err
		}
		if p.Role != wire.RoleExpert || a.LeadExpertID != p.UserID {
			return wire.Application{}, errForbidden("Вывод заключения предлагает ведущий эксперт", "Only the lead expert proposes the verdict")
		}
		if a.Status != wire.StatusConclusion {
			return wire.Application{}, wire.E(wire.CodeConflict, "status", "Вывод предлагается в статусе «Подготовка заключения»", "The verdict is proposed in the conclusion status")
		}
		if r.Verdict != wire.StatusCompletedPositive && r.Verdict != wire.StatusCompletedNegative {
			return wire.Application{}, wire.E(wire.CodeInvalid, "verdict", "Вывод: completed_positive или completed_negative", "Verdict: completed_positive or completed_negative")
		}
		// The verdict is proposed with a complete conclusion draft (conclusion.go).
		if err := s.prepareProposal(ctx, tx, a, p, r.Verdict); err != nil {
			return wire.Application{}, err
		}
		if err := tx.SetStatus(ctx, a.ID, r.Version, store.StatusUpdate{To: a.Status, ProposedVerdict: r.Verdict}); err != nil {
			return wire.Application{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "verdict_propose", ObjectType: "application", ObjectID: itoa(id),
			Details: map[string]any{"verdict": r.Verdict}})
		managers, err := tx.ManagerIDs(ctx)
		if err != nil {
			return wire.Application{}, err
		}
		if err := s.notifyUsers(ctx, tx, managers, a.ID, wire.Notification{Kind: wire.NotifyStatus, AppID: a.ID,
			Title: "Заключение на утверждение", Body: "Ведущий эксперт предлагает: " + r.Verdict.Label() + " по заявлению " + a.Number + "."}); err != nil {
			return wire.Application{}, err
		}
		out, err := s.emitApp(ctx, tx, a.ID, nil)
		if err != nil {
			return wire.Application{}, err
		}
		_, err = s.emitConclusion(ctx, tx, a)
		return out, err
	})
}

// Extend grants the one-time extension of the review term on the
// applicant's request.
func (s *Service) Extend(ctx context.Context, p *Principal, id int64, r wire.ExtendRequest) (wire.Application, error) {
	return write(ctx, s, p, func(tx *store.Tx) (wire.Application, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, id, tx)
		if err != nil {
			return wire.Application{}, err
		}
		if p.Role != wire.RoleApplicant {
			return wire.Application{}, errForbidden("Продление срока запрашивает заявитель", "Only the applicant requests the extension")
		}
		if (a.Status != wire.StatusInReview && a.Status != wire.StatusRemarksIssued) || a.ReviewDue == nil {
			return wire.Application{}, wire.E(wire.CodeConflict, "status", "Срок продлевается только во время экспертизы", "The term can be extended only during the review")
		}
		if a.Extended {
			return wire.Application{}, wire.E(wire.CodeDeadline, "", "Срок экспертизы уже продлевался: продление возможно один раз", "The review term was already extended: it can be extended once")
		}
		if err := tx.BumpApplication(ctx, a.ID, r.Version); err != nil {
			return wire.Application{}, err
		}
		due := s.Calendar().AddWorkdays(*a.ReviewDue, wire.ExtensionDays)
		if err := tx.UpsertDeadline(ctx, a.ID, "review", wire.DateOf(*a.PaidAtOr(tx.Now())), due, true); err != nil {
			return wire.Application{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "deadline_extend", ObjectType: "application", ObjectID: itoa(id),
			Details: map[string]any{"due": due.String(), "comment": strings.TrimSpace(r.Comment)}})
		if err := s.notifyApp(ctx, tx, a, p.UserID, wire.Notification{Kind: wire.NotifyDeadline, AppID: a.ID, Title: "Срок экспертизы продлён",
			Body: "Срок по заявлению " + a.Number + " продлён на 20 рабочих дней, до " + due.String() + "."}); err != nil {
			return wire.Application{}, err
		}
		return s.emitApp(ctx, tx, a.ID, nil)
	})
}

// Assign sets the section experts and the lead expert.
func (s *Service) Assign(ctx context.Context, p *Principal, id int64, r wire.AssignRequest) (wire.Application, error) {
	if err := requireFull(p); err != nil {
		return wire.Application{}, err
	}
	if p.Role != wire.RoleManager {
		return wire.Application{}, errForbidden("Экспертов назначает менеджер", "Only a manager assigns experts")
	}
	for _, as := range r.Assignments {
		if _, ok := wire.SectionByCode(as.Section); !ok {
			return wire.Application{}, wire.E(wire.CodeInvalid, "assignments", "Неизвестный раздел «"+as.Section+"»: используйте коды классификатора (например, 07.03)",
				"Unknown section "+as.Section+": use classifier codes such as 07.03")
		}
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Application, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, id, tx)
		if err != nil {
			return wire.Application{}, err
		}
		if a.Status == wire.StatusDraft || a.Status.Terminal() {
			return wire.Application{}, wire.E(wire.CodeConflict, "status", "Экспертов назначают после подачи и до завершения экспертизы; сейчас: «"+a.Status.Label()+"»",
				"Experts are assigned between submission and completion; now: "+string(a.Status))
		}
		ids := []int64{r.LeadExpertID}
		for _, as := range r.Assignments {
			ids = append(ids, as.ExpertID)
		}
		for _, eid := range ids {
			if eid == 0 {
				continue
			}
			u, err := tx.UserByID(ctx, eid)
			if err != nil || u.Role != wire.RoleExpert || u.Disabled {
				return wire.Application{}, wire.E(wire.CodeInvalid, "assignments", "Пользователь "+itoa(eid)+" не является действующим экспертом", "User "+itoa(eid)+" is not an active expert")
			}
		}
		before, err := tx.AppExpertIDs(ctx, id)
		if err != nil {
			return wire.Application{}, err
		}
		if err := tx.BumpApplication(ctx, id, r.Version); err != nil {
			return wire.Application{}, err
		}
		if err := tx.ReplaceAssignments(ctx, id, p.UserID, r.Assignments); err != nil {
			return wire.Application{}, err
		}
		if err := tx.SetLead(ctx, id, r.LeadExpertID); err != nil {
			return wire.Application{}, err
		}
		after, err := tx.AppExpertIDs(ctx, id)
		if err != nil {
			return wire.Application{}, err
		}
		var added []int64
		for _, e := range after {
			if !slices.Contains(before, e) {
				added = append(added, e)
			}
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "assign", ObjectType: "application", ObjectID: itoa(id),
			Details: map[string]any{"lead": r.LeadExpertID, "assignments": r.Assignments}})
		if err := s.notifyUsers(ctx, tx, added, id, wire.Notification{Kind: wire.NotifyAssigned, AppID: id, Title: "Назначение на экспертизу",
			Body: "Вы назначены экспертом по заявлению " + a.Number + " («" + a.ObjectName + "»)."}); err != nil {
			return wire.Application{}, err
		}
		return s.emitApp(ctx, tx, id, before)
	})
}

// History lists an application's status changes.
func (s *Service) History(ctx context.Context, p *Principal, id int64) ([]wire.StatusChange, error) {
	q := s.st.Read()
	if _, err := s.loadVisible(ctx, q, p, id, nil); err != nil {
		return nil, err
	}
	return q.StatusHistory(ctx, id)
}

// ListUsers lists users for staff screens (experts for assignment).
func (s *Service) ListUsers(ctx context.Context, p *Principal, role wire.Role) ([]wire.User, error) {
	if err := requireFull(p); err != nil {
		return nil, err
	}
	if p.Role != wire.RoleManager && p.Role != wire.RoleAdmin {
		return nil, errForbidden("Список пользователей доступен менеджерам и администраторам", "Only managers and administrators list users")
	}
	return s.st.Read().ListUsers(ctx, role)
}

// Audience is who may see events of one application.
type Audience struct {
	OrgID     int64
	ExpertIDs []int64
}

// Audience checks the caller may see the application and returns its
// audience, for ephemeral presence and typing.
func (s *Service) Audience(ctx context.Context, p *Principal, appID int64) (Audience, error) {
	q := s.st.Read()
	a, err := s.loadVisible(ctx, q, p, appID, nil)
	if err != nil {
		return Audience{}, err
	}
	experts, err := q.AppExpertIDs(ctx, appID)
	return Audience{OrgID: a.OrgID, ExpertIDs: experts}, err
}
