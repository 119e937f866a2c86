package service_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestIdempotentCreate: a retried command with the same key and body applies
// once and replays the stored answer; the same key with another body is
// refused; keys are per user.
func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.applicant(t)
	in := appInput(wire.KindProjectDocs)
	body, _ := json.Marshal(in)
	ctx := service.WithIdempotency(e.ctx, "key-1", body)

	first, err := e.svc.CreateApplication(ctx, a.P, in)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.CreateApplication(ctx, a.P, in)
	var rep *service.ReplayedError
	if !errors.As(err, &rep) {
		t.Fatalf("retry: %v, want a replay", err)
	}
	var replayed wire.Application
	if err := json.Unmarshal(rep.Body, &replayed); err != nil {
		t.Fatalf("replayed body %q: %v", rep.Body, err)
	}
	if replayed.ID != first.ID || replayed.Number != first.Number || replayed.Version != first.Version ||
		replayed.Status != first.Status || !replayed.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("replayed %+v, want %+v", replayed, first)
	}
	if n := e.count(t, `SELECT count(*) FROM applications`); n != 1 {
		t.Fatalf("%d applications after a retry, want 1", n)
	}

	other := appInput(wire.KindEstimate)
	otherBody, _ := json.Marshal(other)
	_, err = e.svc.CreateApplication(service.WithIdempotency(e.ctx, "key-1", otherBody), a.P, other)
	if we := wantCode(t, err, wire.CodeIdempotencyReuse); we.Message == "" {
		t.Fatal("no message")
	}
	if n := e.count(t, `SELECT count(*) FROM applications`); n != 1 {
		t.Fatalf("%d applications after a reused key, want 1", n)
	}

	// Another user's identical key is theirs alone.
	b := e.applicant(t)
	got, err := e.svc.CreateApplication(ctx, b.P, in)
	if err != nil {
		t.Fatalf("another user with the same key: %v", err)
	}
	if got.ID == first.ID || got.OrgID != b.OrgID {
		t.Fatalf("another user's command was answered with %+v", got)
	}
}

// TestIdempotentConcurrent: 20 simultaneous attempts with one key create
// exactly one application; every other attempt gets the replay of it.
func TestIdempotentConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.applicant(t)
	in := appInput(wire.KindProjectDocs)
	body, _ := json.Marshal(in)
	ctx := service.WithIdempotency(e.ctx, "same-key", body)

	const n = 20
	ids := make([]int64, n)
	replays := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			app, err := e.svc.CreateApplication(ctx, a.P, in)
			var rep *service.ReplayedError
			switch {
			case err == nil:
				ids[i] = app.ID
			case errors.As(err, &rep):
				var r wire.Application
				if err := json.Unmarshal(rep.Body, &r); err != nil {
					errs[i] = fmt.Errorf("replayed body %q: %w", rep.Body, err)
				}
				ids[i], replays[i] = r.ID, true
			default:
				errs[i] = err
			}
		})
	}
	close(start)
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("attempt %d: %v", i, errs[i])
		}
		if !replays[i] {
			created++
		}
		if ids[i] == 0 || ids[i] != ids[0] {
			t.Fatalf("attempt %d answered application %d, attempt 0 %d", i, ids[i], ids[0])
		}
	}
	if created != 1 {
		t.Fatalf("%d attempts created an application, want 1", created)
	}
	if c := e.count(t, `SELECT count(*) FROM applications`); c != 1 {
		t.Fatalf("%d application rows, want 1", c)
	}
	if c := e.count(t, `SELECT count(*) FROM idempotency_keys`); c != 1 {
		t.Fatalf("%d idempotency rows, want 1", c)
	}
}

// appState is everything a refused command must leave untouched.
type appState struct {
	Status, ObjectName                                     string
	Version, Lead                                          int64
	UpdatedAt                                              time.Time
	History, Changes, Audit, Notes, Assignments, Deadlines int
}

func (e *env) state(t *testing.T, id int64) appState {
	t.Helper()
	var s appState
	if err := e.pool.QueryRow(e.ctx, `SELECT status, object_name, version, coalesce(lead_expert_id,0), updated_at,
		(SELECT count(*) FROM status_history WHERE app_id = $1), (SELECT count(*) FROM change_log),
		(SELECT count(*) FROM audit_log), (SELECT count(*) FROM notifications),
		(SELECT count(*) FROM assignments WHERE app_id = $1), (SELECT count(*) FROM deadlines WHERE app_id = $1)
		FROM applications WHERE id = $1`, id).Scan(&s.Status, &s.ObjectName, &s.Version, &s.Lead, &s.UpdatedAt,
		&s.History, &s.Changes, &s.Audit, &s.Notes, &s.Assignments, &s.Deadlines); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStaleVersion: a command naming a version older than the stored one is
// a conflict that reports the current version and changes nothing.
func TestStaleVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.applicant(t)
	mgr := e.staff(t, wire.RoleManager)
	lead := e.staff(t, wire.RoleExpert)

	draft := e.createApp(t, app, wire.KindProjectDocs)
	draft, err := e.svc.UpdateApplication(e.ctx, app.P, draft.ID, wire.UpdateApplicationRequest{Version: draft.Version,
		ApplicationInput: wire.ApplicationInput{ObjectName: ptr("Школа на 550 мест")}})
	if err != nil {
		t.Fatal(err)
	}
	submitted := e.createApp(t, app, wire.KindProjectDocs)
	submitted = e.move(t, app, submitted, wire.StatusSubmitted, "")
	review := e.toReview(t, app, mgr, lead, wire.KindProjectDocs)

	cases := []struct {
		name string
		app  wire.Application
		call func(stale int64) error
	}{
		{"Transition", draft, func(v int64) error {
			_, err := e.svc.Transition(e.ctx, app.P, draft.ID, wire.TransitionRequestBody{Version: v, To: wire.StatusSubmitted})
			return err
		}},
		{"UpdateApplication", draft, func(v int64) error {
			_, err := e.svc.UpdateApplication(e.ctx, app.P, draft.ID, wire.UpdateApplicationRequest{Version: v,
				ApplicationInput: wire.ApplicationInput{ObjectName: ptr("Другое название")}})
			return err
		}},
		{"DeleteDraft", draft, func(v int64) error { return e.svc.DeleteDraft(e.ctx, app.P, draft.ID, v) }},
		{"Assign", submitted, func(v int64) error {
			_, err := e.svc.Assign(e.ctx, mgr.P, submitted.ID, wire.AssignRequest{Version: v, LeadExpertID: lead.ID,
				Assignments: []wire.Assignment{{Section: "07.03", ExpertID: lead.ID}}})
			return err
		}},
		{"Transition by manager", submitted, func(v int64) error {
			_, err := e.svc.Transition(e.ctx, mgr.P, submitted.ID, wire.TransitionRequestBody{Version: v, To: wire.StatusAwaitingContract})
			return err
		}},
		{"Extend", review, func(v int64) error {
			_, err := e.svc.Extend(e.ctx, app.P, review.ID, wire.ExtendRequest{Version: v})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.app.Version < 2 {
				t.Fatalf("set-up: version %d leaves no stale version", tc.app.Version)
			}
			before := e.state(t, tc.app.ID)
			if before.Version != tc.app.Version {
				t.Fatalf("set-up: stored version %d, app says %d", before.Version, tc.app.Version)
			}
			for _, stale := range []int64{tc.app.Version - 1, 1} {
				we := wantCode(t, tc.call(stale), wire.CodeConflict)
				if we.Current != tc.app.Version {
					t.Errorf("version %d: current_version %d, want %d", stale, we.Current, tc.app.Version)
				}
				if after := e.state(t, tc.app.ID); after != before {
					t.Errorf("version %d: state changed:\n%+v\n%+v", stale, before, after)
				}
			}
		})
	}
}

// TestDeadlines: working-day deadlines across the New Year holidays.
func TestDeadlines(t *testing.T) {
	t.Parallel()
	d := func(s string) wire.Date {
		v, err := wire.ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		kind             wire.ExpertiseKind
		term             int
		review, extended wire.Date
	}{
		// 28.12.2026 + 42 working days: 29, 30 Dec; 31 Dec–10 Jan off; 23 Feb and 8 Mar off.
		{wire.KindProjectDocs, wire.ReviewDays, d("2027-03-09"), d("2027-04-06")},
		{wire.KindEstimate, wire.ReviewDaysEstimate, d("2027-02-17"), d("2027-03-19")},
	}
	for _, tc := range cases {
		t.Run(string(tc.kind), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			cal := e.svc.Calendar()
			today := wire.DateOf(e.clock.Now())
			app := e.applicant(t)
			mgr := e.staff(t, wire.RoleManager)
			lead := e.staff(t, wire.RoleExpert)

			a := e.createApp(t, app, tc.kind)
			if a.Deadline != nil {
				t.Fatalf("a draft has a deadline: %v", a.Deadline)
			}
			a = e.move(t, app, a, wire.StatusSubmitted, "")
			if want := d("2027-01-11"); a.Deadline == nil || *a.Deadline != want || *a.Deadline != cal.AddWorkdays(today, wire.CompletenessDays) {
				t.Fatalf("completeness deadline %v, want %v", a.Deadline, want)
			}
			if a.DaysLeft == nil || *a.DaysLeft != wire.CompletenessDays {
				t.Fatalf("days left %v, want %d", a.DaysLeft, wire.CompletenessDays)
			}
			a = e.move(t, mgr, a, wire.StatusAwaitingContract, "")
			if a.Deadline != nil {
				t.Fatalf("no clock runs while awaiting the contract, got deadline %v", a.Deadline)
			}
			a = e.assign(t, mgr, a, lead)
			a = e.move(t, app, a, wire.StatusAwaitingPayment, "")
			if _, err := e.svc.Extend(e.ctx, app.P, a.ID, wire.ExtendRequest{Version: a.Version}); wire.ErrorCode(err) != wire.CodeConflict {
				t.Fatalf("extension before the review: %v, want conflict", err)
			}
			a = e.move(t, mgr, a, wire.StatusInReview, "Оплата получена")
			if a.Deadline == nil || *a.Deadline != tc.review || *a.Deadline != cal.AddWorkdays(today, tc.term) {
				t.Fatalf("review deadline %v, want %v", a.Deadline, tc.review)
			}
			if a.DaysLeft == nil || *a.DaysLeft != tc.term {
				t.Fatalf("days left %v, want %d", a.DaysLeft, tc.term)
			}
			if a.PaidAt == nil || !a.PaidAt.Equal(e.clock.Now()) {
				t.Fatalf("paid at %v, want the service clock %v", a.PaidAt, e.clock.Now())
			}
			// A week later the days left have gone down by the working days passed.
			e.clock.Advance(7 * 24 * time.Hour)
			e.signIn(t, app)
			got, err := e.svc.GetApplication(e.ctx, app.P, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := cal.WorkdaysUntil(wire.DateOf(e.clock.Now()), tc.review); got.DaysLeft == nil || *got.DaysLeft != want || want >= tc.term {
				t.Fatalf("days left a week later %v, want %d", got.DaysLeft, want)
			}

			a, err = e.svc.Extend(e.ctx, app.P, a.ID, wire.ExtendRequest{Version: got.Version, Comment: "Нужно время на корректировку"})
			if err != nil {
				t.Fatalf("extend: %v", err)
			}
			if !a.Extended || a.Deadline == nil || *a.Deadline != tc.extended || *a.Deadline != cal.AddWorkdays(tc.review, wire.ExtensionDays) {
				t.Fatalf("after extension: extended %v deadline %v, want %v", a.Extended, a.Deadline, tc.extended)
			}
			_, err = e.svc.Extend(e.ctx, app.P, a.ID, wire.ExtendRequest{Version: a.Version})
			wantCode(t, err, wire.CodeDeadline)
			if again, _ := e.svc.GetApplication(e.ctx, app.P, a.ID); again.Deadline == nil || *again.Deadline != tc.extended || again.Version != a.Version {
				t.Fatalf("a refused second extension changed the application: %+v", again)
			}
		})
	}
}

// TestAnswerCutoff: the applicant's answers (remarks_issued → in_review) are
// refused when AnswerCutoffDays or fewer working days are left before the
// review deadline (2027-03-09 for a payment on 2026-12-28).
func TestAnswerCutoff(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		on     string // the day the applicant answers
		cutoff int
		extend bool
		ok     bool
	}{
		{"well before", "2027-01-20", 5, false, true},
		{"6 days left", "2027-02-26", 5, false, true},
		{"5 days left", "2027-03-01", 5, false, false},
		{"1 day left", "2027-03-05", 5, false, false},
		{"deadline day", "2027-03-09", 5, false, false},
		{"overdue", "2027-03-15", 5, false, false},
		{"Sunday before the cut-off day", "2027-02-28", 5, false, true},
		{"cut-off configured to 0", "2027-03-05", 0, false, true},
		{"cut-off configured to 10", "2027-02-19", 10, false, false},
		{"extended deadline", "2027-03-05", 5, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testenv.Config()
			cfg.AnswerCutoffDays = tc.cutoff
			e := newEnvAt(t, defaultStart, cfg)
			app := e.applicant(t)
			mgr := e.staff(t, wire.RoleManager)
			lead := e.staff(t, wire.RoleExpert)
			a := e.toReview(t, app, mgr, lead, wire.KindProjectDocs)
			if tc.extend {
				var err error
				if a, err = e.svc.Extend(e.ctx, app.P, a.ID, wire.ExtendRequest{Version: a.Version}); err != nil {
					t.Fatal(err)
				}
			}
			a = e.move(t, lead, a, wire.StatusRemarksIssued, "Замечания по разделу ПЗ")

			on, err := wire.ParseDate(tc.on)
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Set(time.Date(on.Year, on.Month, on.Day, 10, 0, 0, 0, msk))
			e.signIn(t, app)
			got, err := e.svc.Transition(e.ctx, app.P, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusInReview, Comment: "Ответы"})
			if tc.ok {
				if err != nil {
					t.Fatalf("answers on %s: %v", tc.on, err)
				}
				if got.Status != wire.StatusInReview {
					t.Fatalf("status %s", got.Status)
				}
				return
			}
			we := wantCode(t, err, wire.CodeDeadline)
			if !strings.Contains(we.Message, a.Deadline.String()) {
				t.Errorf("message %q does not name the deadline %s", we.Message, a.Deadline)
			}
			cur, err := e.svc.GetApplication(e.ctx, app.P, a.ID)
			if err != nil || cur.Status != wire.StatusRemarksIssued || cur.Version != a.Version {
				t.Fatalf("after a refused answer: %+v %v", cur, err)
			}
		})
	}
}

// TestVisibility: who may see an application. Anything not visible is
// NotFound — the very error an absent id gives — never Forbidden.
func TestVisibility(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	appA := e.applicant(t)
	colleague := e.member(t, appA.OrgID)
	appB := e.applicant(t)
	mgr := e.staff(t, wire.RoleManager)
	admin := e.staff(t, wire.RoleAdmin)
	lead := e.staff(t, wire.RoleExpert)
	section := e.staff(t, wire.RoleExpert)
	stranger := e.staff(t, wire.RoleExpert)

	a := e.createApp(t, appA, wire.KindProjectDocs)
	a = e.move(t, appA, a, wire.StatusSubmitted, "")
	a = e.move(t, mgr, a, wire.StatusAwaitingContract, "")
	a = e.assign(t, mgr, a, lead, section)
	b := e.createApp(t, appB, wire.KindEstimate)

	ctx := e.ctx
	type call func(p *service.Principal, id int64) error
	calls := []struct {
		name string
		do   call
	}{
		{"GetApplication", func(p *service.Principal, id int64) error { _, err := e.svc.GetApplication(ctx, p, id); return err }},
		{"History", func(p *service.Principal, id int64) error { _, err := e.svc.History(ctx, p, id); return err }},
		{"AllowedTransitions", func(p *service.Principal, id int64) error { _, err := e.svc.AllowedTransitions(ctx, p, id); return err }},
		{"Messages", func(p *service.Principal, id int64) error {
			_, err := e.svc.Messages(ctx, p, id, wire.ChannelApplicant, 0)
			return err
		}},
		{"PostMessage", func(p *service.Principal, id int64) error {
			_, err := e.svc.PostMessage(ctx, p, id, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: "Здравствуйте"})
			return err
		}},
		{"MarkRead", func(p *service.Principal, id int64) error {
			_, err := e.svc.MarkRead(ctx, p, id, wire.MarkReadRequest{Channel: wire.ChannelApplicant, LastReadID: 1})
			return err
		}},
		{"ReadMarks", func(p *service.Principal, id int64) error { _, err := e.svc.ReadMarks(ctx, p, id); return err }},
		{"Audience", func(p *service.Principal, id int64) error { _, err := e.svc.Audience(ctx, p, id); return err }},
		{"Transition", func(p *service.Principal, id int64) error {
			_, err := e.svc.Transition(ctx, p, id, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusWithdrawn, Comment: "Отзываем"})
			return err
		}},
		{"UpdateApplication", func(p *service.Principal, id int64) error {
			_, err := e.svc.UpdateApplication(ctx, p, id, wire.UpdateApplicationRequest{Version: a.Version, ApplicationInput: wire.ApplicationInput{ObjectName: ptr("x")}})
			return err
		}},
		{"Extend", func(p *service.Principal, id int64) error {
			_, err := e.svc.Extend(ctx, p, id, wire.ExtendRequest{Version: a.Version})
			return err
		}},
		{"DeleteDraft", func(p *service.Principal, id int64) error { return e.svc.DeleteDraft(ctx, p, id, a.Version) }},
	}
	const absent = 1 << 40
	for _, who := range []struct {
		name string
		a    *actor
	}{{"applicant of another organisation", appB}, {"unassigned expert", stranger}} {
		for _, c := range calls {
			before := e.state(t, a.ID)
			err := c.do(who.a.P, a.ID)
			got := wantCode(t, err, wire.CodeNotFound)
			want, _ := wire.AsError(c.do(who.a.P, absent))
			if want == nil || *got != *want {
				t.Errorf("%s, %s: %+v differs from the answer for an absent id %+v", who.name, c.name, got, want)
			}
			if after := e.state(t, a.ID); after != before {
				t.Errorf("%s, %s changed the application: %+v → %+v", who.name, c.name, before, after)
			}
		}
	}
	// Those involved see it (reads only: the writes above were refused).
	for _, who := range []*actor{appA, colleague, lead, section, mgr, admin} {
		for _, c := range calls[:4] {
			if err := c.do(who.P, a.ID); err != nil {
				t.Errorf("%s %s: %v", who.Role, c.name, err)
			}
		}
	}

	// A draft is visible to its organisation only.
	for _, who := range []*actor{appA, mgr, admin, lead} {
		wantCode(t, calls[0].do(who.P, b.ID), wire.CodeNotFound)
	}
	if err := calls[0].do(appB.P, b.ID); err != nil {
		t.Fatalf("the applicant reading their own draft: %v", err)
	}

	// The staff channel: not for applicants, even of the organisation.
	for _, c := range []call{
		func(p *service.Principal, id int64) error {
			_, err := e.svc.Messages(ctx, p, id, wire.ChannelStaff, 0)
			return err
		},
		func(p *service.Principal, id int64) error {
			_, err := e.svc.PostMessage(ctx, p, id, wire.PostMessageRequest{Channel: wire.ChannelStaff, Body: "секрет"})
			return err
		},
	} {
		wantCode(t, c(appA.P, a.ID), wire.CodeNotFound)
		wantCode(t, c(stranger.P, a.ID), wire.CodeNotFound)
	}
	staffMsg, err := e.svc.PostMessage(ctx, lead.P, a.ID, wire.PostMessageRequest{Channel: wire.ChannelStaff, Body: "Обсудим раздел ПЗУ"})
	if err != nil {
		t.Fatalf("assigned expert posting to the staff channel: %v", err)
	}
	if ms, err := e.svc.Messages(ctx, section.P, a.ID, wire.ChannelStaff, 0); err != nil || len(ms) != 1 || ms[0].ID != staffMsg.ID {
		t.Fatalf("section expert reading the staff channel: %+v %v", ms, err)
	}
	if ms, err := e.svc.Messages(ctx, appA.P, a.ID, wire.ChannelApplicant, 0); err != nil || len(ms) != 0 {
		t.Fatalf("the staff message leaked into the applicant channel: %+v %v", ms, err)
	}

	// Lists show exactly what each may see.
	for _, tc := range []struct {
		who  *actor
		want []int64
	}{
		{appA, []int64{a.ID}}, {colleague, []int64{a.ID}}, {appB, []int64{b.ID}},
		{lead, []int64{a.ID}}, {section, []int64{a.ID}}, {stranger, nil},
		// A draft is its organisation's alone: staff neither list nor read it.
		{mgr, []int64{a.ID}}, {admin, []int64{a.ID}},
	} {
		list, err := e.svc.ListApplications(ctx, tc.who.P, service.ListFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, x := range list {
			got = append(got, x.ID)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s %s lists %v, want %v", tc.who.Role, tc.who.Login, got, tc.want)
		}
	}
}

// notes returns a user's notifications of one kind about one application.
func (e *env) notes(t *testing.T, userID, appID int64, kind wire.NotificationKind, title string) []int64 {
	t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT id FROM notifications WHERE user_id = $1 AND app_id = $2 AND kind = $3 AND title = $4 ORDER BY id`,
		userID, appID, string(kind), title)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestStatusNotifications: a status change notifies the organisation's
// members, the assigned experts and the managers, never the actor; a user
// who switched a kind off everywhere gets no rows of it.
func TestStatusNotifications(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.applicant(t)
	colleague := e.member(t, app.OrgID)
	muted := e.member(t, app.OrgID)
	other := e.applicant(t)
	mgr := e.staff(t, wire.RoleManager)
	mgr2 := e.staff(t, wire.RoleManager)
	admin := e.staff(t, wire.RoleAdmin)
	lead := e.staff(t, wire.RoleExpert)
	stranger := e.staff(t, wire.RoleExpert)

	prefs, err := e.svc.SetPreferences(e.ctx, muted.P, wire.PreferencesRequest{Preferences: []wire.Preference{
		{Kind: wire.NotifyStatus, InApp: false, Desktop: false, Email: false, EmailMode: wire.EmailInstant}}})
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(prefs, func(p wire.Preference) bool { return p.Kind == wire.NotifyStatus }); i < 0 || prefs[i].InApp || prefs[i].Email {
		t.Fatalf("preferences after the change: %+v", prefs)
	}

	a := e.createApp(t, app, wire.KindProjectDocs)
	a = e.move(t, app, a, wire.StatusSubmitted, "")
	submitted := "Статус: " + wire.StatusSubmitted.Label()
	a = e.assign(t, mgr, a, lead)
	a = e.move(t, mgr, a, wire.StatusAwaitingContract, "")
	contract := "Статус: " + wire.StatusAwaitingContract.Label()

	for _, tc := range []struct {
		who              *actor
		submit, contract int
	}{
		{app, 0, 1}, // the actor of the submission
		{colleague, 1, 1},
		{muted, 0, 0},
		{other, 0, 0},
		{mgr, 1, 0}, // the actor of the move to the contract
		{mgr2, 1, 1},
		{admin, 0, 0},
		{lead, 0, 1}, // assigned after the submission
		{stranger, 0, 0},
	} {
		if got := len(e.notes(t, tc.who.ID, a.ID, wire.NotifyStatus, submitted)); got != tc.submit {
			t.Errorf("%s %s: %d notifications of the submission, want %d", tc.who.Role, tc.who.Login, got, tc.submit)
		}
		if got := len(e.notes(t, tc.who.ID, a.ID, wire.NotifyStatus, contract)); got != tc.contract {
			t.Errorf("%s %s: %d notifications of awaiting_contract, want %d", tc.who.Role, tc.who.Login, got, tc.contract)
		}
	}
	// Muting one kind leaves the others: the muted member still hears of chat.
	if _, err := e.svc.PostMessage(e.ctx, lead.P, a.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: "Добрый день"}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, `SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'message'`, muted.ID); n != 1 {
		t.Fatalf("muted-for-status member got %d chat notifications, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'message'`, lead.ID); n != 0 {
		t.Fatalf("the author was notified of their own message %d times", n)
	}
}

// TestMarkNotificationsRead marks only the caller's rows, whatever ids the
// caller names.
func TestMarkNotificationsRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.applicant(t)
	colleague := e.member(t, app.OrgID)
	mgr := e.staff(t, wire.RoleManager)
	a := e.createApp(t, app, wire.KindProjectDocs)
	a = e.move(t, app, a, wire.StatusSubmitted, "")
	a = e.move(t, mgr, a, wire.StatusNeedsCorrection, "Не хватает ГПЗУ")
	e.move(t, app, a, wire.StatusSubmitted, "")

	mine, err := e.svc.Notifications(e.ctx, colleague.P)
	if err != nil || len(mine) < 2 {
		t.Fatalf("colleague's notifications: %d %v", len(mine), err)
	}
	theirs, err := e.svc.Notifications(e.ctx, mgr.P)
	if err != nil || len(theirs) < 2 {
		t.Fatalf("manager's notifications: %d %v", len(theirs), err)
	}
	var all []int64
	var maxID int64
	for _, n := range slices.Concat(mine, theirs) {
		all = append(all, n.ID)
		maxID = max(maxID, n.ID)
	}
	// Naming one own id and every foreign one marks just the own one.
	ids, err := e.svc.MarkNotificationsRead(e.ctx, colleague.P, wire.MarkNotificationsReadRequest{IDs: append([]int64{mine[0].ID}, all[len(mine):]...)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int64{mine[0].ID}) {
		t.Fatalf("marked %v, want [%d]", ids, mine[0].ID)
	}
	// UpTo the highest id of anyone marks the rest of the caller's only.
	ids, err = e.svc.MarkNotificationsRead(e.ctx, colleague.P, wire.MarkNotificationsReadRequest{IDs: all, UpTo: maxID})
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(mine)-1 {
		t.Fatalf("second call marked %v, want the caller's %d remaining", ids, len(mine)-1)
	}
	for _, id := range ids {
		if !slices.ContainsFunc(mine, func(n wire.Notification) bool { return n.ID == id }) {
			t.Fatalf("marked foreign notification %d", id)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, colleague.ID); n != 0 {
		t.Fatalf("%d of the caller's notifications still unread", n)
	}
	if n := e.count(t, `SELECT count(*) FROM notifications WHERE user_id <> $1 AND read_at IS NOT NULL`, colleague.ID); n != 0 {
		t.Fatalf("%d notifications of other users marked read", n)
	}
	// Nothing left to mark: an empty list, not null.
	ids, err = e.svc.MarkNotificationsRead(e.ctx, colleague.P, wire.MarkNotificationsReadRequest{UpTo: maxID})
	if err != nil || ids == nil || len(ids) != 0 {
		t.Fatalf("third call: %v %v", ids, err)
	}
}
