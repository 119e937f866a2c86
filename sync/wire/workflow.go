package wire

import (
	"fmt"
	"strings"
)

// Actor is who attempts a transition, described relative to one application.
type Actor struct {
	Role     Role
	Member   bool // applicant: member of the application's organisation
	Assigned bool // expert: assigned to a section of the application (or lead)
	Lead     bool // expert: the application's lead expert
	System   bool // the payment gateway callback (no user); Role is ignored
}

// TransitionRequest is one attempted move of an application's status.
type TransitionRequest struct {
	From, To Status
	Actor    Actor
	Comment  string
	// ProposedVerdict is the verdict proposed by the lead expert while in
	// conclusion ("" if none); the manager may only approve that one.
	ProposedVerdict Status
}

// transitionParty is who may perform a transition; the names go into error messages so
// a refused user learns whom to ask.
type transitionParty struct {
	ru, en string
	may    func(Actor) bool
}

var (
	partyApplicant = transitionParty{"заявитель (участник организации-заявителя)", "an applicant of the applying organisation",
		func(a Actor) bool { return !a.System && a.Role == RoleApplicant && a.Member }}
	partyManager = transitionParty{"менеджер", "a manager",
		func(a Actor) bool { return !a.System && a.Role == RoleManager }}
	partyManagerOrPayment = transitionParty{"менеджер или платёжный шлюз при поступлении оплаты", "a manager or the payment gateway",
		func(a Actor) bool { return a.System || a.Role == RoleManager }}
	partyLead = transitionParty{"ведущий эксперт заявления", "the application's lead expert",
		func(a Actor) bool { return !a.System && a.Role == RoleExpert && a.Lead }}
	partyManagerOrAdmin = transitionParty{"менеджер или администратор", "a manager or an administrator",
		func(a Actor) bool { return !a.System && (a.Role == RoleManager || a.Role == RoleAdmin) }}
)

// transitionRule is one permitted edge of the workflow (DESIGN.md §1).
type transitionRule struct {
	from, to Status
	who      transitionParty
	comment  bool // a non-blank comment is required (the reasons are part of the record)
	verdict  bool // the target must be the verdict the lead expert proposed
}

// transitionRules is the one transition table; CheckTransition, AllowedTransitions
// and CommentRequired all read it, so the buttons a client shows and what the
// server accepts cannot drift apart. Deleting a draft is a separate command.
var transitionRules = []transitionRule{
	{from: StatusDraft, to: StatusSubmitted, who: partyApplicant},

	{from: StatusSubmitted, to: StatusAwaitingContract, who: partyManager},
	{from: StatusSubmitted, to: StatusNeedsCorrection, who: partyManager, comment: true},
	{from: StatusSubmitted, to: StatusReturned, who: partyManager, comment: true},
	{from: StatusSubmitted, to: StatusWithdrawn, who: partyApplicant, comment: true},

	{from: StatusNeedsCorrection, to: StatusSubmitted, who: partyApplicant},
	{from: StatusNeedsCorrection, to: StatusWithdrawn, who: partyApplicant, comment: true},

	{from: StatusAwaitingContract, to: StatusAwaitingPayment, who: partyApplicant},
	{from: StatusAwaitingContract, to: StatusWithdrawn, who: partyApplicant, comment: true},

	{from: StatusAwaitingPayment, to: StatusInReview, who: partyManagerOrPayment},
	{from: StatusAwaitingPayment, to: StatusWithdrawn, who: partyApplicant, comment: true},

	{from: StatusInReview, to: StatusRemarksIssued, who: partyLead, comment: true},
	{from: StatusInReview, to: StatusConclusion, who: partyLead},
	{from: StatusInReview, to: StatusWithdrawn, who: partyApplicant, comment: true},

	{from: StatusRemarksIssued, to: StatusInReview, who: partyApplicant},
	{from: StatusRemarksIssued, to: StatusWithdrawn, who: partyApplicant, comment: true},

	{from: StatusConclusion, to: StatusCompletedPositive, who: partyManager, verdict: true},
	{from: StatusConclusion, to: StatusCompletedNegative, who: partyManager, verdict: true, comment: true},

	{from: StatusCompletedPositive, to: StatusArchived, who: partyManagerOrAdmin},
	{from: StatusCompletedNegative, to: StatusArchived, who: partyManagerOrAdmin},
}

func findTransition(from, to Status) (transitionRule, bool) {
	for _, r := range transitionRules {
		if r.from == from && r.to == to {
			return r, true
		}
	}
	return transitionRule{}, false
}

// CommentRequired reports whether moving to status to needs a comment.
func CommentRequired(to Status) bool {
	for _, r := range transitionRules {
		if r.to == to && r.comment {
			return true
		}
	}
	return false
}

// AllowedTransitions returns the statuses a may move an application to from
// status from, in AllStatuses order, ignoring the comment and verdict
// conditions: the client shows exactly these as buttons.
func AllowedTransitions(from Status, a Actor) []Status {
	var out []Status
	for _, to := range AllStatuses {
		if r, ok := findTransition(from, to); ok && r.who.may(a) {
			out = append(out, to)
		}
	}
	return out
}

// CheckTransition returns nil if r is allowed, otherwise an *Error:
// CodeInvalid for an unknown status, CodeIllegalTransition when nobody may
// make this move (or the verdict was not proposed), CodeForbidden when
// someone else may, CodeCommentRequired when the reasons are missing.
func CheckTransition(r TransitionRequest) error {
	for _, f := range []struct {
		name string
		s    Status
	}{{"from", r.From}, {"to", r.To}} {
		if !f.s.Valid() {
			return E(CodeInvalid, f.name,
				fmt.Sprintf("неизвестный статус заявления %q", f.s),
				fmt.Sprintf("unknown application status %q", f.s))
		}
	}
	move := fmt.Sprintf("«%s» → «%s»", r.From.Label(), r.To.Label())
	moveEN := fmt.Sprintf("%s → %s", r.From, r.To)
	rl, ok := findTransition(r.From, r.To)
	if !ok {
		return illegalTransition(r.From, move, moveEN)
	}
	if !rl.who.may(r.Actor) {
		return E(CodeForbidden, "",
			fmt.Sprintf("Переход %s вам недоступен: его выполняет %s.", move, rl.who.ru),
			fmt.Sprintf("You may not move %s: only %s may.", moveEN, rl.who.en))
	}
	if rl.verdict && r.ProposedVerdict != r.To {
		return E(CodeIllegalTransition, "",
			fmt.Sprintf("Переход %s невозможен: ведущий эксперт должен сначала предложить заключение «%s».", move, r.To.Label()),
			fmt.Sprintf("Cannot move %s: the lead expert must first propose this verdict.", moveEN))
	}
	if rl.comment && strings.TrimSpace(r.Comment) == "" {
		return E(CodeCommentRequired, "comment",
			fmt.Sprintf("Для перехода %s укажите комментарий с причинами.", move),
			fmt.Sprintf("Moving %s requires a comment giving the reasons.", moveEN))
	}
	return nil
}

// illegal explains a move nobody may make and names the moves that exist.
func illegalTransition(from Status, move, moveEN string) error {
	var ru, en []string
	for _, r := range transitionRules {
		if r.from == from {
			ru = append(ru, "«"+r.to.Label()+"»")
			en = append(en, string(r.to))
		}
	}
	if len(ru) == 0 {
		return E(CodeIllegalTransition, "",
			fmt.Sprintf("Переход %s невозможен: статус «%s» окончательный.", move, from.Label()),
			fmt.Sprintf("Cannot move %s: %s is final.", moveEN, from))
	}
	return E(CodeIllegalTransition, "",
		fmt.Sprintf("Переход %s невозможен. Из статуса «%s» возможен переход только в: %s.", move, from.Label(), strings.Join(ru, ", ")),
		fmt.Sprintf("Cannot move %s. From %s the application may only move to: %s.", moveEN, from, strings.Join(en, ", ")))
}
