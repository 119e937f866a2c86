package realtime_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestPushedEventVisibility: applicants get only their organisation's
// applications; experts get an application's events from their assignment
// on (the assignment itself included), never before; the staff channel
// reaches assigned experts and managers, never applicants; notifications
// reach their own user only. Each subscriber ends with a fence of its own,
// so "never" means "not before everything committed had arrived".
func TestPushedEventVisibility(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	orgA := testenv.Applicant(t, s)
	orgB := testenv.Applicant(t, s)
	expert := testenv.Staff(t, s, wire.RoleExpert, 0)
	lateExpert := testenv.Staff(t, s, wire.RoleExpert, 0) // assigned to B at the very end
	manager := testenv.Staff(t, s, wire.RoleManager, 0)

	ra := startStream(t, orgA.C, nil)
	rb := startStream(t, orgB.C, nil)
	re := startStream(t, expert.C, nil)
	rl := startStream(t, lateExpert.C, nil)
	rm := startStream(t, manager.C, nil)

	appA := submit(t, orgA, newApp(t, orgA, "Объект организации А"))
	appB := submit(t, orgB, newApp(t, orgB, "Объект организации Б"))
	beforeA := mustPost(t, orgA.C, appA.ID, wire.ChannelApplicant, "А: до назначения эксперта")
	beforeB := mustPost(t, orgB.C, appB.ID, wire.ChannelApplicant, "Б: сообщение")
	staffBefore := mustPost(t, manager.C, appA.ID, wire.ChannelStaff, "служебное до назначения")

	appA, err := manager.C.Assign(ctx, appA.ID, wire.AssignRequest{Version: appA.Version, LeadExpertID: expert.ID,
		Assignments: []wire.Assignment{{Section: "07.03", ExpertID: expert.ID}}}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	staff := mustPost(t, manager.C, appA.ID, wire.ChannelStaff, "служебное: только для экспертов и менеджеров")
	staffByExpert := mustPost(t, expert.C, appA.ID, wire.ChannelStaff, "служебное от эксперта")
	afterA := mustPost(t, expert.C, appA.ID, wire.ChannelApplicant, "А: вопрос эксперта")
	answerA := mustPost(t, orgA.C, appA.ID, wire.ChannelApplicant, "А: ответ")
	if _, err := manager.C.Assign(ctx, appB.ID, wire.AssignRequest{Version: appB.Version, LeadExpertID: lateExpert.ID,
		Assignments: []wire.Assignment{{Section: "07.04", ExpertID: lateExpert.ID}}}, client.NewIdempotencyKey()); err != nil {
		t.Fatal(err)
	}

	markRead(t, orgA, ra.TL.Recorder, appA.ID)
	markRead(t, orgB, rb.TL.Recorder, appB.ID)
	markRead(t, expert, re.TL.Recorder, appA.ID)
	markRead(t, lateExpert, rl.TL.Recorder, appB.ID)
	markRead(t, manager, rm.TL.Recorder, appB.ID)

	msgIDs := func(r *runner) []int64 {
		var ids []int64
		for _, m := range messages(t, r.TL.Events()) {
			ids = append(ids, m.ID)
		}
		return ids
	}
	appsOf := func(r *runner) []int64 {
		var ids []int64
		for _, e := range r.TL.Events() {
			if e.AppID != 0 && !slices.Contains(ids, e.AppID) {
				ids = append(ids, e.AppID)
			}
		}
		return ids
	}

	// Applicants: their organisation only, applicant channel only.
	if got := appsOf(ra); !slices.Equal(got, []int64{appA.ID}) {
		t.Errorf("applicant of A got events of applications %v, want only %d", got, appA.ID)
	}
	if got := appsOf(rb); !slices.Equal(got, []int64{appB.ID}) {
		t.Errorf("applicant of B got events of applications %v, want only %d", got, appB.ID)
	}
	if got, want := msgIDs(ra), []int64{beforeA.ID, afterA.ID, answerA.ID}; !slices.Equal(got, want) {
		t.Errorf("applicant of A got messages %v, want %v (no staff channel, nothing of B)", got, want)
	}
	if got, want := msgIDs(rb), []int64{beforeB.ID}; !slices.Equal(got, want) {
		t.Errorf("applicant of B got messages %v, want %v", got, want)
	}

	// The expert: nothing of A before the assignment, the assignment event
	// first, then everything of A including the staff channel; nothing of B.
	evs := re.TL.Events()
	at := slices.IndexFunc(evs, func(e wire.Event) bool { return e.AppID == appA.ID && e.Kind == wire.EventApplication })
	if at < 0 {
		t.Fatalf("expert never got the assignment event: %s", kinds(evs))
	}
	var assigned wire.Application
	if err := evs[at].Decode(&assigned); err != nil || assigned.LeadExpertID != expert.ID {
		t.Fatalf("assignment event: %+v %v", assigned, err)
	}
	for _, e := range evs[:at] {
		// Only the assignment's own commit (its notification) may come first.
		if e.AppID == appA.ID && !e.At.Equal(evs[at].At) {
			t.Fatalf("expert got event %d (%s) of A before being assigned: %s", e.Seq, e.Kind, kinds(evs))
		}
	}
	if got := appsOf(re); !slices.Equal(got, []int64{appA.ID}) {
		t.Errorf("expert got events of applications %v, want only %d", got, appA.ID)
	}
	if got, want := msgIDs(re), []int64{staff.ID, staffByExpert.ID, afterA.ID, answerA.ID}; !slices.Equal(got, want) {
		t.Errorf("expert got messages %v, want %v (nothing before the assignment)", got, want)
	}
	// The late expert saw nothing until assigned to B, then the assignment.
	lev := rl.TL.Events()
	at = slices.IndexFunc(lev, func(e wire.Event) bool { return e.AppID == appB.ID && e.Kind == wire.EventApplication })
	if at < 0 {
		t.Fatalf("late expert never got the assignment to B: %s", kinds(lev))
	}
	for _, e := range lev[:at] {
		if !e.At.Equal(lev[at].At) {
			t.Fatalf("late expert got event %d (%s, app %d) before being assigned: %s", e.Seq, e.Kind, e.AppID, kinds(lev))
		}
	}
	if got := appsOf(rl); !slices.Equal(got, []int64{appB.ID}) {
		t.Errorf("late expert got events of applications %v", got)
	}
	// Managers see every message of both channels and organisations.
	if got, want := msgIDs(rm), []int64{beforeA.ID, beforeB.ID, staffBefore.ID, staff.ID, staffByExpert.ID, afterA.ID, answerA.ID}; !slices.Equal(got, want) {
		t.Errorf("manager got messages %v, want %v", got, want)
	}

	// Notifications: each user's stream carries exactly that user's feed.
	for _, c := range []struct {
		who *testenv.Actor
		r   *runner
	}{{orgA, ra}, {orgB, rb}, {expert, re}, {lateExpert, rl}, {manager, rm}} {
		var pushed []int64
		for _, e := range testenv.Kinds(c.r.TL.Events(), wire.EventNotification) {
			var n wire.Notification
			if err := e.Decode(&n); err != nil {
				t.Fatal(err)
			}
			pushed = append(pushed, n.ID)
		}
		feed, err := c.who.C.Notifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var own []int64
		for _, n := range feed {
			own = append(own, n.ID)
		}
		slices.Sort(pushed)
		slices.Sort(own)
		if (c.who == orgA || c.who == expert || c.who == manager) && len(own) == 0 {
			t.Errorf("%s has no notifications: the check would be empty", c.who.User.Login)
		}
		if !slices.Equal(pushed, own) {
			t.Errorf("%s: pushed notifications %v, own feed %v", c.who.User.Login, pushed, own)
		}
		// Read marks are the user's own too: only the fence.
		if n := len(testenv.Kinds(c.r.TL.Events(), wire.EventMessageRead)); n != 1 {
			t.Errorf("%s got %d read-mark events, want only its own one", c.who.User.Login, n)
		}
		checkIncreasing(t, c.r.TL.Events())
	}
}

// kinds describes events briefly for failure messages.
func kinds(evs []wire.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, " %d:%s(app %d)", e.Seq, e.Kind, e.AppID)
	}
	return b.String()
}
