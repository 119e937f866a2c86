package httpapi_test

import (
	"context"
	"slices"
	"testing"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func remarkIDs(rs []wire.Remark) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

// TestRemarksFlow: drafts stay with their author and the lead; the lead
// publishes them as one notice, which moves the application to
// remarks_issued through the workflow; the applicant answers with
// corrected versions; experts reopen, accept and close. The applicant's
// stream never carries a draft.
func TestRemarksFlow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newReviewCast(t)
	app, vid := inReview(t, c.member, c.manager, c.lead, c.assigned)
	_, memberRec := c.member.Subscribe(t, nil)
	_, leadRec := c.lead.Subscribe(t, nil)
	_, managerRec := c.manager.Subscribe(t, nil)

	// Drafts: one from an annotation (anchored where it was drawn), one
	// about the section as a whole without a norm yet.
	an, err := c.assigned.C.CreateAnnotation(ctx, vid, rectOn(72), "")
	if err != nil {
		t.Fatal(err)
	}
	key := client.NewIdempotencyKey()
	fromAnn, err := c.assigned.C.CreateRemark(ctx, app.ID, wire.CreateRemarkRequest{AnnotationID: an.ID, Text: "Высота жилых комнат 2,5 м менее нормативной",
		NormRef: "СП 54.13330.2022 п. 5.8", Criticality: wire.CriticalityCritical}, key)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.assigned.C.CreateRemark(ctx, app.ID, wire.CreateRemarkRequest{AnnotationID: an.ID, Text: "Высота жилых комнат 2,5 м менее нормативной",
		NormRef: "СП 54.13330.2022 п. 5.8", Criticality: wire.CriticalityCritical}, key); err != nil || again.ID != fromAnn.ID {
		t.Fatalf("retried create: %+v %v, want remark %d again", again, err, fromAnn.ID)
	}
	if fromAnn.Status != wire.RemarkDraft || fromAnn.Section != "07.03" || fromAnn.VersionID != vid || fromAnn.Anchor == nil ||
		fromAnn.Anchor.Page != 1 || fromAnn.Anchor.AnnotationID != an.ID || fromAnn.Anchor.Rect == nil || *fromAnn.Anchor.Rect != *an.Geometry.Rect {
		t.Errorf("draft from annotation: %+v", fromAnn)
	}
	loose, err := c.assigned.C.CreateRemark(ctx, app.ID, wire.CreateRemarkRequest{Section: "07.03", Text: "Не представлены разрезы по лестничной клетке",
		Criticality: wire.CriticalityOrdinary}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.assigned.C.CreateRemark(ctx, app.ID, wire.CreateRemarkRequest{VersionID: vid, Page: 9, Text: "x", Criticality: wire.CriticalityOrdinary}, "")
	wantCode(t, err, wire.CodeInvalid, "page")
	_, err = c.assigned.C.CreateRemark(ctx, app.ID, wire.CreateRemarkRequest{Section: "07.03", Text: "x", Criticality: "minor"}, "")
	wantCode(t, err, wire.CodeInvalid, "criticality")
	_, err = c.member.C.CreateRemark(ctx, app.ID, wire.CreateRemarkRequest{Section: "07.03", Text: "x", Criticality: wire.CriticalityOrdinary}, "")
	wantCode(t, err, wire.CodeForbidden, "")

	// Who sees the drafts: the author and the lead; not the manager, not
	// the applicant.
	drafts := []int64{fromAnn.ID, loose.ID}
	for _, tc := range []struct {
		who  *testenv.Actor
		want []int64
	}{{c.assigned, drafts}, {c.lead, drafts}, {c.manager, nil}, {c.member, nil}} {
		got, err := tc.who.C.Remarks(ctx, app.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if ids := remarkIDs(got); !slices.Equal(ids, tc.want) {
			t.Errorf("%s lists remarks %v, want %v", tc.who.Role, ids, tc.want)
		}
	}
	waitEvent(t, leadRec, wire.EventRemark, "the draft at the lead", func(r wire.Remark) bool { return r.ID == loose.ID && r.Status == wire.RemarkDraft })
	_, err = c.lead.C.UpdateRemark(ctx, loose.ID, wire.UpdateRemarkRequest{Version: loose.Version, Text: ptr("чужой черновик")}, "")
	wantCode(t, err, wire.CodeForbidden, "")
	_, err = c.manager.C.UpdateRemark(ctx, loose.ID, wire.UpdateRemarkRequest{Version: loose.Version, Text: ptr("x")}, "")
	wantCode(t, err, wire.CodeNotFound, "")

	// Publishing needs a norm for every remark; only the lead publishes.
	_, err = c.lead.C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: app.Version, RemarkIDs: drafts}, "")
	wantCode(t, err, wire.CodeInvalid, "remark_ids")
	loose, err = c.assigned.C.UpdateRemark(ctx, loose.ID, wire.UpdateRemarkRequest{Version: loose.Version, NormRef: ptr("ГОСТ Р 21.101-2020 п. 4.2")}, "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.assigned.C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: app.Version, RemarkIDs: drafts}, "")
	wantCode(t, err, wire.CodeForbidden, "")
	_, err = c.lead.C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: app.Version - 1, RemarkIDs: drafts}, "")
	wantCode(t, err, wire.CodeConflict, "version")

	// A third draft stays a draft: it is not in the notice.
	kept, err := c.assigned.C.CreateRemark(ctx, app.ID, wire.CreateRemarkRequest{VersionID: vid, Page: 2,
		Rect: &wire.Rect{X1: 10, Y1: 10, X2: 100, Y2: 50}, Text: "Ещё подумать", Criticality: wire.CriticalityOrdinary}, "")
	if err != nil {
		t.Fatal(err)
	}
	pubKey := client.NewIdempotencyKey()
	notice, err := c.lead.C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: app.Version, RemarkIDs: drafts}, pubKey)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.lead.C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: app.Version, RemarkIDs: drafts}, pubKey); err != nil || again.ID != notice.ID {
		t.Fatalf("retried publication: %+v %v, want notice %d again", again, err, notice.ID)
	}
	if notice.Number != 1 || !slices.Equal(notice.RemarkIDs, drafts) || notice.PublishedBy != c.lead.ID || notice.LetterSHA256 != "" {
		t.Errorf("notice %+v", notice)
	}
	got, err := c.member.C.Application(ctx, app.ID)
	if err != nil || got.Status != wire.StatusRemarksIssued {
		t.Fatalf("after publication the application is %s (%v), want remarks_issued", got.Status, err)
	}
	hist, err := c.member.C.History(ctx, app.ID)
	if err != nil || hist[len(hist)-1].To != wire.StatusRemarksIssued || hist[len(hist)-1].ActorID != c.lead.ID || hist[len(hist)-1].Comment == "" {
		t.Fatalf("history ends with %+v (%v), want the lead's move to remarks_issued with a comment", hist[len(hist)-1], err)
	}
	notices, err := c.member.C.Notices(ctx, app.ID)
	if err != nil || len(notices) != 1 || notices[0].ID != notice.ID {
		t.Fatalf("notices %+v %v, want exactly notice %d", notices, err, notice.ID)
	}
	published, err := c.member.C.Remarks(ctx, app.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if ids := remarkIDs(published); !slices.Equal(ids, drafts) {
		t.Fatalf("the applicant lists %v, want the published %v", ids, drafts)
	}
	for i, r := range published {
		if r.Status != wire.RemarkPublished || r.Number != i+1 || r.NoticeID != notice.ID || r.PublishedAt == nil {
			t.Errorf("published remark %+v", r)
		}
	}
	if lead, _ := c.lead.C.Remarks(ctx, app.ID, 0); !slices.Equal(remarkIDs(lead), append(slices.Clone(drafts), kept.ID)) {
		t.Errorf("the lead lists %v, want the published ones and the remaining draft %d", remarkIDs(lead), kept.ID)
	}
	_, err = c.lead.C.PublishRemarks(ctx, app.ID, wire.PublishRemarksRequest{Version: got.Version, RemarkIDs: []int64{kept.ID}}, "")
	wantCode(t, err, wire.CodeIllegalTransition, "")
	waitEvent(t, managerRec, wire.EventNoticePublished, "the notice at the manager", func(n wire.Notice) bool { return n.ID == notice.ID })

	// Answers: the applicant, with corrected versions of this application
	// only, and from the remark version seen.
	corrected := uploadPDF(t, c.member.C, app.ID, "07.03", "АР", 3)
	_, otherVid := inReview(t, c.other, c.manager, c.lead, c.assigned)
	first := published[0]
	_, err = c.member.C.AnswerRemark(ctx, first.ID, wire.AnswerRemarkRequest{Version: first.Version, Text: "Исправлено", VersionIDs: []int64{otherVid}}, "")
	wantCode(t, err, wire.CodeInvalid, "version_ids")
	_, err = c.member.C.AnswerRemark(ctx, first.ID, wire.AnswerRemarkRequest{Version: first.Version, Text: ""}, "")
	wantCode(t, err, wire.CodeInvalid, "text")
	_, err = c.lead.C.AnswerRemark(ctx, first.ID, wire.AnswerRemarkRequest{Version: first.Version, Text: "за заявителя"}, "")
	wantCode(t, err, wire.CodeForbidden, "")
	_, err = c.other.C.AnswerRemark(ctx, first.ID, wire.AnswerRemarkRequest{Version: first.Version, Text: "чужое"}, "")
	wantCode(t, err, wire.CodeNotFound, "")
	ans, err := c.member.C.AnswerRemark(ctx, first.ID, wire.AnswerRemarkRequest{Version: first.Version, Text: "Высота увеличена до 2,7 м, см. лист 3",
		VersionIDs: []int64{corrected}}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	if ans.Status != wire.RemarkAnswered || len(ans.Answers) != 1 || !slices.Equal(ans.Answers[0].VersionIDs, []int64{corrected}) || ans.Answers[0].AuthorID != c.member.ID {
		t.Errorf("answered remark %+v", ans)
	}
	_, err = c.member.C.AnswerRemark(ctx, first.ID, wire.AnswerRemarkRequest{Version: first.Version, Text: "ещё раз"}, "")
	if we, ok := wire.AsError(err); !ok || (we.Code != wire.CodeConflict && we.Code != wire.CodeIllegalTransition) {
		t.Errorf("answering an answered remark from a stale version: %v", err)
	}

	// Experts: reopen needs a reason; the applicant answers again; accept;
	// close. The applicant may not judge, the unassigned expert not find.
	_, err = c.assigned.C.SetRemarkStatus(ctx, first.ID, wire.RemarkStatusRequest{Version: ans.Version, Status: wire.RemarkReopened}, "")
	wantCode(t, err, wire.CodeCommentRequired, "comment")
	_, err = c.member.C.SetRemarkStatus(ctx, first.ID, wire.RemarkStatusRequest{Version: ans.Version, Status: wire.RemarkAccepted}, "")
	wantCode(t, err, wire.CodeForbidden, "")
	_, err = c.unassigned.C.SetRemarkStatus(ctx, first.ID, wire.RemarkStatusRequest{Version: ans.Version, Status: wire.RemarkAccepted}, "")
	wantCode(t, err, wire.CodeNotFound, "")
	_, err = c.assigned.C.SetRemarkStatus(ctx, first.ID, wire.RemarkStatusRequest{Version: ans.Version, Status: wire.RemarkClosed}, "")
	wantCode(t, err, wire.CodeIllegalTransition, "status")
	re, err := c.assigned.C.SetRemarkStatus(ctx, first.ID, wire.RemarkStatusRequest{Version: ans.Version, Status: wire.RemarkReopened,
		Comment: "Не приложен расчёт инсоляции"}, "")
	if err != nil || re.Status != wire.RemarkReopened || re.Resolution != "Не приложен расчёт инсоляции" {
		t.Fatalf("reopen: %+v %v", re, err)
	}
	waitEvent(t, memberRec, wire.EventRemark, "the reopened remark at the applicant", func(r wire.Remark) bool { return r.ID == first.ID && r.Status == wire.RemarkReopened })
	ans2, err := c.member.C.AnswerRemark(ctx, first.ID, wire.AnswerRemarkRequest{Version: re.Version, Text: "Расчёт приложен", VersionIDs: []int64{corrected}}, "")
	if err != nil || len(ans2.Answers) != 2 {
		t.Fatalf("second answer: %+v %v", ans2, err)
	}
	acc, err := c.lead.C.SetRemarkStatus(ctx, first.ID, wire.RemarkStatusRequest{Version: ans2.Version, Status: wire.RemarkAccepted}, "")
	if err != nil || acc.Status != wire.RemarkAccepted {
		t.Fatalf("lead accepts: %+v %v", acc, err)
	}
	closed, err := c.assigned.C.SetRemarkStatus(ctx, first.ID, wire.RemarkStatusRequest{Version: acc.Version, Status: wire.RemarkClosed}, "")
	if err != nil || closed.Status != wire.RemarkClosed {
		t.Fatalf("close: %+v %v", closed, err)
	}

	// The second remark answered; the applicant sends the answers back
	// (remarks_issued → in_review, the existing workflow edge).
	second := published[1]
	if _, err := c.member.C.AnswerRemark(ctx, second.ID, wire.AnswerRemarkRequest{Version: second.Version, Text: "Разрезы добавлены"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.member.C.Transition(ctx, app.ID, wire.TransitionRequestBody{Version: got.Version, To: wire.StatusInReview}, ""); err != nil {
		t.Fatalf("answers submitted: %v", err)
	}

	// Drafts: the author deletes their own; nobody saw it but author and lead.
	if err := c.lead.C.DeleteRemark(ctx, kept.ID, kept.Version, ""); err == nil {
		t.Error("the lead deleted another expert's draft")
	}
	if err := c.assigned.C.DeleteRemark(ctx, kept.ID, kept.Version, ""); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, leadRec, wire.EventRemarkDelete, "the deleted draft at the lead", func(g wire.RemarkGone) bool { return g.ID == kept.ID })

	fence(t, c.lead, app.ID, memberRec)
	fence(t, c.lead, app.ID, managerRec)
	for name, rec := range map[string]*testenv.Recorder{"applicant": memberRec, "manager": managerRec} {
		for _, e := range rec.Events() {
			switch e.Kind {
			case wire.EventRemarkDelete:
				t.Errorf("the %s received remark.delete (seq %d) of a draft", name, e.Seq)
			case wire.EventRemark:
				var r wire.Remark
				if err := e.Decode(&r); err != nil || r.Status == wire.RemarkDraft {
					t.Errorf("the %s received a draft remark (seq %d): %+v %v", name, e.Seq, r, err)
				}
			}
		}
	}
	if n := len(testenv.Kinds(memberRec.Events(), wire.EventNoticePublished)); n != 1 {
		t.Errorf("the applicant received %d notice events, want 1", n)
	}
	wantActions(t, auditActions(t, c.s, c.assigned.ID), "remark_create", "remark_update", "remark_status", "remark_delete")
	wantActions(t, auditActions(t, c.s, c.lead.ID), "remarks_publish", "status_change", "remark_status")
	wantActions(t, auditActions(t, c.s, c.member.ID), "remark_answer")
}

func ptr[T any](v T) *T { return &v }

// TestDraftApplicationsStayWithTheirOrganisation: a manager's stream does
// not carry a draft application's events (the read rule refuses them with
// 404); it does from submission on.
func TestDraftApplicationsStayWithTheirOrganisation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	member := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	_, rec := manager.Subscribe(t, nil)
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := member.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Склад"), ObjectAddress: str("г. Омск"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	name := "Склад № 2"
	if a, err = member.C.UpdateApplication(ctx, a.ID, wire.UpdateApplicationRequest{Version: a.Version, ApplicationInput: wire.ApplicationInput{ObjectName: &name}}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := member.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusSubmitted}, ""); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, rec, wire.EventApplication, "the submitted application", func(x wire.Application) bool { return x.ID == a.ID && x.Status == wire.StatusSubmitted })
	for _, e := range testenv.Kinds(rec.Events(), wire.EventApplication) {
		var x wire.Application
		if e.Decode(&x) == nil && x.ID == a.ID && x.Status == wire.StatusDraft {
			t.Errorf("the manager received the draft (seq %d)", e.Seq)
		}
	}
}
