package wire

import (
	"slices"
	"strings"
	"testing"
)

// The actor kinds the workflow distinguishes. Members and assignments are
// set on roles where they mean nothing too, to prove they grant nothing.
var wfActors = map[string]Actor{
	"applicant member":     {Role: RoleApplicant, Member: true},
	"applicant non-member": {Role: RoleApplicant},
	"expert assigned":      {Role: RoleExpert, Assigned: true},
	"expert lead":          {Role: RoleExpert, Assigned: true, Lead: true},
	"expert unassigned":    {Role: RoleExpert},
	"manager":              {Role: RoleManager, Member: true, Assigned: true, Lead: true},
	"admin":                {Role: RoleAdmin, Member: true, Assigned: true, Lead: true},
	"system":               {System: true},
}

type wfMove struct {
	from, to Status
	actor    string
}

// wfAllowed is DESIGN.md §1 written out by hand, independently of the
// transition table, one line per permitted (from, to, actor kind).
var wfAllowed = []wfMove{
	{"draft", "submitted", "applicant member"},

	{"submitted", "awaiting_contract", "manager"},
	{"submitted", "needs_correction", "manager"},
	{"submitted", "returned", "manager"},
	{"submitted", "withdrawn", "applicant member"},

	{"needs_correction", "submitted", "applicant member"},
	{"needs_correction", "withdrawn", "applicant member"},

	{"awaiting_contract", "awaiting_payment", "applicant member"},
	{"awaiting_contract", "withdrawn", "applicant member"},

	{"awaiting_payment", "in_review", "manager"},
	{"awaiting_payment", "in_review", "system"},
	{"awaiting_payment", "withdrawn", "applicant member"},

	{"in_review", "remarks_issued", "expert lead"},
	{"in_review", "conclusion", "expert lead"},
	{"in_review", "withdrawn", "applicant member"},

	{"remarks_issued", "in_review", "applicant member"},
	{"remarks_issued", "withdrawn", "applicant member"},

	{"conclusion", "completed_positive", "manager"},
	{"conclusion", "completed_negative", "manager"},

	{"completed_positive", "archived", "manager"},
	{"completed_positive", "archived", "admin"},
	{"completed_negative", "archived", "manager"},
	{"completed_negative", "archived", "admin"},
}

func TestCheckTransitionExhaustive(t *testing.T) {
	allowed := map[wfMove]bool{}
	reachable := map[[2]Status]bool{}
	for _, m := range wfAllowed {
		if _, ok := wfActors[m.actor]; !ok {
			t.Fatalf("unknown actor kind %q", m.actor)
		}
		allowed[m] = true
		reachable[[2]Status{m.from, m.to}] = true
	}
	n := 0
	for _, from := range AllStatuses {
		for kind, a := range wfActors {
			var wantTargets []Status
			for _, to := range AllStatuses {
				m := wfMove{from, to, kind}
				// A comment and the matching verdict, so only who may move matters here.
				err := CheckTransition(TransitionRequest{From: from, To: to, Actor: a, Comment: "причина", ProposedVerdict: to})
				switch {
				case allowed[m]:
					wantTargets = append(wantTargets, to)
					if err != nil {
						t.Errorf("%s: %s → %s: want allowed, got %v", kind, from, to, err)
					}
				case reachable[[2]Status{from, to}]:
					if got := ErrorCode(err); got != CodeForbidden {
						t.Errorf("%s: %s → %s: want forbidden, got %v", kind, from, to, err)
					}
				default:
					if got := ErrorCode(err); got != CodeIllegalTransition {
						t.Errorf("%s: %s → %s: want illegal, got %v", kind, from, to, err)
					}
				}
				n++
			}
			if got := AllowedTransitions(from, a); !slices.Equal(got, wantTargets) {
				t.Errorf("AllowedTransitions(%s, %s) = %v, want %v", from, kind, got, wantTargets)
			}
		}
	}
	if want := len(AllStatuses) * len(AllStatuses) * 8; n != want {
		t.Fatalf("checked %d cases, want %d", n, want)
	}
}

func TestCheckTransitionConditions(t *testing.T) {
	member := wfActors["applicant member"]
	mgr := wfActors["manager"]
	lead := wfActors["expert lead"]
	tests := []struct {
		name string
		req  TransitionRequest
		code Code // "" means allowed
		// wantMsg must appear in the Russian message, so the user learns what to do.
		wantMsg string
	}{
		{"return without reasons", TransitionRequest{From: StatusSubmitted, To: StatusReturned, Actor: mgr}, CodeCommentRequired, "укажите комментарий"},
		{"blank comment", TransitionRequest{From: StatusSubmitted, To: StatusNeedsCorrection, Actor: mgr, Comment: " \t\n"}, CodeCommentRequired, "«Требуется доработка»"},
		{"remarks without comment", TransitionRequest{From: StatusInReview, To: StatusRemarksIssued, Actor: lead}, CodeCommentRequired, ""},
		{"withdraw without comment", TransitionRequest{From: StatusAwaitingPayment, To: StatusWithdrawn, Actor: member}, CodeCommentRequired, ""},
		{"withdraw with comment", TransitionRequest{From: StatusAwaitingPayment, To: StatusWithdrawn, Actor: member, Comment: "передумали"}, "", ""},
		{"accept without comment", TransitionRequest{From: StatusSubmitted, To: StatusAwaitingContract, Actor: mgr}, "", ""},
		{"submit without comment", TransitionRequest{From: StatusDraft, To: StatusSubmitted, Actor: member}, "", ""},
		{"positive as proposed", TransitionRequest{From: StatusConclusion, To: StatusCompletedPositive, Actor: mgr, ProposedVerdict: StatusCompletedPositive}, "", ""},
		{"positive, nothing proposed", TransitionRequest{From: StatusConclusion, To: StatusCompletedPositive, Actor: mgr}, CodeIllegalTransition, "ведущий эксперт должен сначала предложить заключение «Положительное заключение»"},
		{"positive, negative proposed", TransitionRequest{From: StatusConclusion, To: StatusCompletedPositive, Actor: mgr, ProposedVerdict: StatusCompletedNegative}, CodeIllegalTransition, "ведущий эксперт"},
		{"negative as proposed, no comment", TransitionRequest{From: StatusConclusion, To: StatusCompletedNegative, Actor: mgr, ProposedVerdict: StatusCompletedNegative}, CodeCommentRequired, ""},
		{"negative as proposed", TransitionRequest{From: StatusConclusion, To: StatusCompletedNegative, Actor: mgr, ProposedVerdict: StatusCompletedNegative, Comment: "несоответствие СП"}, "", ""},
		{"lead cannot approve own verdict", TransitionRequest{From: StatusConclusion, To: StatusCompletedPositive, Actor: lead, ProposedVerdict: StatusCompletedPositive}, CodeForbidden, "его выполняет менеджер"},
		{"forbidden names who may", TransitionRequest{From: StatusInReview, To: StatusConclusion, Actor: mgr}, CodeForbidden, "ведущий эксперт"},
		{"system ignores role", TransitionRequest{From: StatusSubmitted, To: StatusAwaitingContract, Actor: Actor{Role: RoleManager, System: true}}, CodeForbidden, ""},
		{"system with a role still pays", TransitionRequest{From: StatusAwaitingPayment, To: StatusInReview, Actor: Actor{Role: RoleApplicant, System: true}}, "", ""},
		{"unknown role", TransitionRequest{From: StatusDraft, To: StatusSubmitted, Actor: Actor{Role: "guest", Member: true}}, CodeForbidden, ""},
		{"illegal lists the way out", TransitionRequest{From: StatusDraft, To: StatusInReview, Actor: mgr}, CodeIllegalTransition, "возможен переход только в: «На проверке комплектности»"},
		{"same status", TransitionRequest{From: StatusInReview, To: StatusInReview, Actor: lead}, CodeIllegalTransition, "«Проведение экспертизы» → «Проведение экспертизы»"},
		{"terminal", TransitionRequest{From: StatusWithdrawn, To: StatusSubmitted, Actor: member}, CodeIllegalTransition, "окончательный"},
		{"no withdrawal in conclusion", TransitionRequest{From: StatusConclusion, To: StatusWithdrawn, Actor: member, Comment: "x"}, CodeIllegalTransition, ""},
		{"unknown target", TransitionRequest{From: StatusDraft, To: "deleted", Actor: member}, CodeInvalid, "неизвестный статус"},
		{"unknown source", TransitionRequest{From: "", To: StatusSubmitted, Actor: member}, CodeInvalid, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckTransition(tt.req)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("want allowed, got %v", err)
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Code != tt.code {
				t.Fatalf("want %s, got %v", tt.code, err)
			}
			if tt.code == CodeCommentRequired && e.Field != "comment" {
				t.Errorf("field %q, want comment", e.Field)
			}
			if !strings.Contains(e.Message, tt.wantMsg) || e.MessageEN == "" {
				t.Errorf("message %q (en %q) should contain %q", e.Message, e.MessageEN, tt.wantMsg)
			}
		})
	}
}

func TestCommentRequired(t *testing.T) {
	want := map[Status]bool{
		StatusReturned: true, StatusNeedsCorrection: true, StatusRemarksIssued: true,
		StatusCompletedNegative: true, StatusWithdrawn: true,
	}
	for _, s := range AllStatuses {
		if got := CommentRequired(s); got != want[s] {
			t.Errorf("CommentRequired(%s) = %v, want %v", s, got, want[s])
		}
	}
}
