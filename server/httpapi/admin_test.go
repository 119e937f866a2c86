package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// objectActions returns the actions of the journal rows about an object.
func objectActions(t *testing.T, admin *testenv.Actor, objType, objID string) []string {
	t.Helper()
	page, err := admin.C.AuditEntries(context.Background(), wire.AuditQuery{ObjectType: objType, ObjectID: objID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range page.Items {
		out = append(out, e.Action)
	}
	return out
}

// TestSupportRequests: numbering, the thread's statuses, who sees what,
// notifications and the journal.
func TestSupportRequests(t *testing.T) {
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	author := testenv.Applicant(t, s)
	stranger := testenv.Applicant(t, s)
	expert := testenv.Staff(t, s, wire.RoleExpert, 0)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	admin := testenv.Staff(t, s, wire.RoleAdmin, 0)
	year := wire.DateOf(time.Now()).Year

	first, err := author.C.CreateSupportRequest(ctx, wire.CreateSupportRequest{Subject: "  Не открывается том 3 ", Body: "Файл ПЗ.pdf не открывается"}, "k1")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("ПОД-%d-000001", year); first.Number != want {
		t.Errorf("first number %q, want %q", first.Number, want)
	}
	if first.Status != wire.SupportNew || first.Subject != "Не открывается том 3" || len(first.Messages) != 1 || first.Messages[0].Staff {
		t.Errorf("created %+v", first)
	}
	// A retried create is the same request, not a second number.
	again, err := author.C.CreateSupportRequest(ctx, wire.CreateSupportRequest{Subject: "  Не открывается том 3 ", Body: "Файл ПЗ.pdf не открывается"}, "k1")
	if err != nil || again.ID != first.ID {
		t.Fatalf("retry: %+v %v", again, err)
	}
	second, err := expert.C.CreateSupportRequest(ctx, wire.CreateSupportRequest{Subject: "Вопрос эксперта", Body: "Как сменить телефон?"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("ПОД-%d-000002", year); second.Number != want {
		t.Errorf("second number %q, want %q", second.Number, want)
	}

	// Only the author and administrators see a request.
	for name, who := range map[string]*testenv.Actor{"another applicant": stranger, "an expert": expert, "a manager": manager} {
		if _, err := who.C.SupportRequest(ctx, first.ID); !errors.Is(err, &wire.Error{Code: wire.CodeNotFound}) {
			t.Errorf("%s reads the request: %v", name, err)
		}
		if _, err := who.C.ReplySupport(ctx, first.ID, "и я", ""); !errors.Is(err, &wire.Error{Code: wire.CodeNotFound}) {
			t.Errorf("%s replies: %v", name, err)
		}
		if _, err := who.C.SetSupportStatus(ctx, first.ID, wire.SupportStatusRequest{Status: wire.SupportClosed}); !errors.Is(err, &wire.Error{Code: wire.CodeNotFound}) {
			t.Errorf("%s closes it: %v", name, err)
		}
		list, err := who.C.SupportRequests(ctx, false, "")
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(list, func(r wire.SupportRequest) bool { return r.ID == first.ID }) {
			t.Errorf("%s lists the request", name)
		}
	}
	if _, err := stranger.C.SupportRequest(ctx, 999999); !errors.Is(err, &wire.Error{Code: wire.CodeNotFound}) {
		t.Errorf("a missing request: %v", err)
	}
	all, err := admin.C.SupportRequests(ctx, false, "")
	if err != nil || len(all) != 2 || all[0].ID != second.ID {
		t.Fatalf("administrator's list: %+v %v", all, err)
	}
	mine, err := author.C.SupportRequests(ctx, false, "")
	if err != nil || len(mine) != 1 || mine[0].ID != first.ID {
		t.Fatalf("author's list: %+v %v", mine, err)
	}
	if adminsOwn, err := admin.C.SupportRequests(ctx, true, ""); err != nil || len(adminsOwn) != 0 {
		t.Fatalf("administrator's own list: %+v %v", adminsOwn, err)
	}
	if _, err := author.C.SupportRequests(ctx, false, "lost"); !errors.Is(err, &wire.Error{Code: wire.CodeInvalid, Field: "status"}) {
		t.Errorf("unknown status filter: %v", err)
	}

	// The administrators were told of the new request.
	if !hasNotification(t, admin.C, "Новое обращение "+first.Number) {
		t.Error("the administrator got no notification of the new request")
	}

	// Statuses: the author may only close; replies move the status.
	if _, err := author.C.SetSupportStatus(ctx, first.ID, wire.SupportStatusRequest{Status: wire.SupportInProgress}); !errors.Is(err, &wire.Error{Code: wire.CodeForbidden}) {
		t.Errorf("author takes the request: %v", err)
	}
	r, err := admin.C.SetSupportStatus(ctx, first.ID, wire.SupportStatusRequest{Version: first.Version, Status: wire.SupportInProgress})
	if err != nil || r.Status != wire.SupportInProgress {
		t.Fatalf("admin takes it: %+v %v", r, err)
	}
	if _, err := admin.C.SetSupportStatus(ctx, first.ID, wire.SupportStatusRequest{Version: first.Version, Status: wire.SupportClosed}); !errors.Is(err, &wire.Error{Code: wire.CodeConflict, Field: "version"}) {
		t.Errorf("stale version: %v", err)
	}
	if r, err = admin.C.ReplySupport(ctx, first.ID, "Пересохраните файл в PDF/A", ""); err != nil || r.Status != wire.SupportAnswered ||
		len(r.Messages) != 2 || !r.Messages[1].Staff {
		t.Fatalf("admin reply: %+v %v", r, err)
	}
	if !hasNotification(t, author.C, "Ответ по обращению "+first.Number) {
		t.Error("the author got no notification of the answer")
	}
	if r, err = author.C.ReplySupport(ctx, first.ID, "Не помогло", ""); err != nil || r.Status != wire.SupportInProgress || r.Messages[2].Staff {
		t.Fatalf("author reply: %+v %v", r, err)
	}
	if r, err = author.C.SetSupportStatus(ctx, first.ID, wire.SupportStatusRequest{Version: r.Version, Status: wire.SupportClosed}); err != nil || r.Status != wire.SupportClosed {
		t.Fatalf("author closes: %+v %v", r, err)
	}
	if _, err := author.C.ReplySupport(ctx, first.ID, "Ещё вопрос", ""); !errors.Is(err, &wire.Error{Code: wire.CodeConflict, Field: "status"}) {
		t.Errorf("reply to a closed request: %v", err)
	}
	if _, err := author.C.ReplySupport(ctx, first.ID, "   ", ""); !errors.Is(err, &wire.Error{Code: wire.CodeInvalid, Field: "body"}) {
		t.Errorf("empty reply: %v", err)
	}
	if _, err := author.C.CreateSupportRequest(ctx, wire.CreateSupportRequest{Subject: strings.Repeat("я", 201), Body: "x"}, ""); !errors.Is(err, &wire.Error{Code: wire.CodeInvalid, Field: "subject"}) {
		t.Errorf("long subject: %v", err)
	}
	if r, err = admin.C.SetSupportStatus(ctx, first.ID, wire.SupportStatusRequest{Status: wire.SupportInProgress}); err != nil || r.Status != wire.SupportInProgress {
		t.Fatalf("admin reopens: %+v %v", r, err)
	}
	got := objectActions(t, admin, "support_request", fmt.Sprint(first.ID))
	for _, a := range []string{wire.AuditSupportCreate, wire.AuditSupportReply, wire.AuditSupportStatus} {
		if !slices.Contains(got, a) {
			t.Errorf("journal has %v, missing %s", got, a)
		}
	}
}

func hasNotification(t *testing.T, c *client.Client, title string) bool {
	t.Helper()
	ns, err := c.Notifications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(ns, func(n wire.Notification) bool { return n.Title == title })
}

// TestAdminUsers: creating accounts (policy, the second factor staff
// enrol), the search, unlocking, the journal.
func TestAdminUsers(t *testing.T) {
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	admin := testenv.Staff(t, s, wire.RoleAdmin, 0)
	applicant := testenv.Applicant(t, s)

	if _, err := admin.C.CreateUser(ctx, wire.CreateUserRequest{Login: "weak", Password: "password123", FullName: "Слабый", Role: wire.RoleExpert}, ""); !errors.Is(err, &wire.Error{Code: wire.CodeInvalid, Field: "password"}) {
		t.Errorf("a common password: %v", err)
	}
	if _, err := admin.C.CreateUser(ctx, wire.CreateUserRequest{Login: "lonely", Password: "a long enough passphrase", FullName: "Одинокий", Role: wire.RoleApplicant}, ""); !errors.Is(err, &wire.Error{Code: wire.CodeInvalid, Field: "org_id"}) {
		t.Errorf("an applicant without an organisation: %v", err)
	}
	u, err := admin.C.CreateUser(ctx, wire.CreateUserRequest{Login: "petrova", Password: "a long enough passphrase", FullName: "Петрова Анна",
		Email: "petrova@example.ru", Role: wire.RoleExpert}, "create-1")
	if err != nil {
		t.Fatal(err)
	}
	if u.TOTPEnabled || u.Role != wire.RoleExpert || u.Disabled {
		t.Errorf("created %+v", u)
	}
	if _, err := admin.C.CreateUser(ctx, wire.CreateUserRequest{Login: "PETROVA", Password: "another long passphrase", FullName: "Другая", Role: wire.RoleExpert}, ""); !errors.Is(err, &wire.Error{Code: wire.CodeConflict, Field: "login"}) {
		t.Errorf("a taken login: %v", err)
	}
	// Staff created without a second factor may only enrol one.
	c := client.New(s.URL())
	resp, err := c.Login(ctx, wire.LoginRequest{Login: "petrova", Password: "a long enough passphrase"})
	if err != nil || resp.Scope != wire.ScopeEnrol {
		t.Fatalf("first sign-in of new staff: %+v %v", resp, err)
	}

	// The search matches login, name and e-mail, and filters by role.
	for _, tc := range []struct {
		q    wire.UserQuery
		want bool
	}{
		{wire.UserQuery{Text: "петров"}, true},
		{wire.UserQuery{Text: "PETROVA@example"}, true},
		{wire.UserQuery{Text: "petrova", Role: wire.RoleManager}, false},
		{wire.UserQuery{Text: "100%_"}, false},
	} {
		list, err := admin.C.SearchUsers(ctx, tc.q)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.ContainsFunc(list, func(x wire.AdminUser) bool { return x.ID == u.ID }); got != tc.want {
			t.Errorf("search %+v finds the user: %v, want %v", tc.q, got, tc.want)
		}
	}

	// Locked after failed sign-ins; unlocked by the administrator.
	bad := client.New(s.URL())
	for range s.Service.Config().MaxFailedLogins {
		_, _ = bad.Login(ctx, wire.LoginRequest{Login: applicant.User.Login, Password: "wrong password"})
	}
	locked, err := admin.C.AdminUser(ctx, applicant.ID)
	if err != nil || !locked.Locked(time.Now()) {
		t.Fatalf("after failed sign-ins: %+v %v", locked, err)
	}
	if _, err := bad.Login(ctx, wire.LoginRequest{Login: applicant.User.Login, Password: applicant.Password}); err == nil {
		t.Fatal("a locked account signed in")
	}
	unlocked, err := admin.C.UnlockUser(ctx, applicant.ID)
	if err != nil || unlocked.Locked(time.Now()) || unlocked.FailedLogins != 0 {
		t.Fatalf("unlock: %+v %v", unlocked, err)
	}
	if _, err := bad.Login(ctx, wire.LoginRequest{Login: applicant.User.Login, Password: applicant.Password}); err != nil {
		t.Fatalf("sign-in after unlock: %v", err)
	}
	if got := objectActions(t, admin, "user", fmt.Sprint(applicant.ID)); !slices.Contains(got, wire.AuditUserUnlock) {
		t.Errorf("journal about the user: %v", got)
	}
	if got := objectActions(t, admin, "user", fmt.Sprint(u.ID)); !slices.Contains(got, wire.AuditUserAdd) {
		t.Errorf("journal about the created user: %v", got)
	}
}

// TestAdminOrganisationsCalendarStatus: organisation edits with versions,
// the calendar edits in force at once, the experts' load and the server's
// state.
func TestAdminOrganisationsCalendarStatus(t *testing.T) {
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	admin := testenv.Staff(t, s, wire.RoleAdmin, 0)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	expert := testenv.Staff(t, s, wire.RoleExpert, 0)
	applicant := testenv.Applicant(t, s)

	orgs, err := admin.C.Organisations(ctx, "застройщик")
	if err != nil || len(orgs) != 1 || orgs[0].ID != applicant.OrgID || orgs[0].Members != 1 {
		t.Fatalf("organisations: %+v %v", orgs, err)
	}
	name := "ООО «Новое имя»"
	o, err := admin.C.UpdateOrganisation(ctx, applicant.OrgID, wire.UpdateOrganisationRequest{Version: orgs[0].Version, Name: &name})
	if err != nil || o.Name != name || o.Version != orgs[0].Version+1 || o.INN != orgs[0].INN {
		t.Fatalf("update: %+v %v", o, err)
	}
	if _, err := admin.C.UpdateOrganisation(ctx, applicant.OrgID, wire.UpdateOrganisationRequest{Version: orgs[0].Version, Name: &name}); !errors.Is(err, &wire.Error{Code: wire.CodeConflict, Field: "version"}) {
		t.Errorf("stale version: %v", err)
	}
	badKPP := "12"
	if _, err := admin.C.UpdateOrganisation(ctx, applicant.OrgID, wire.UpdateOrganisationRequest{Version: o.Version, KPP: &badKPP}); !errors.Is(err, &wire.Error{Code: wire.CodeInvalid, Field: "kpp"}) {
		t.Errorf("bad KPP: %v", err)
	}
	if got := objectActions(t, admin, "organisation", fmt.Sprint(applicant.OrgID)); !slices.Contains(got, wire.AuditOrgUpdate) {
		t.Errorf("journal: %v", got)
	}

	// A weekday made a holiday is in force at once.
	day := wire.Date{Year: 2030, Month: 3, Day: 12} // a Tuesday
	if !s.Service.Calendar().IsWorkday(day) {
		t.Fatal("fixture: the day is already a holiday")
	}
	if _, err := admin.C.SetCalendarDay(ctx, day, wire.SetCalendarDayRequest{Working: false, Note: "Перенос"}); err != nil {
		t.Fatal(err)
	}
	if s.Service.Calendar().IsWorkday(day) {
		t.Error("the holiday is not in force")
	}
	days, err := applicant.C.Calendar(ctx)
	if err != nil || !slices.Contains(days, wire.CalendarDay{Day: day, Working: false, Note: "Перенос"}) {
		t.Errorf("public calendar lacks the day: %v", err)
	}
	imp := wire.ImportCalendarRequest{Year: 2030, Days: []wire.CalendarDay{{Day: wire.Date{Year: 2030, Month: 1, Day: 1}}, {Day: wire.Date{Year: 2030, Month: 1, Day: 2}}}}
	if _, err := admin.C.ImportCalendar(ctx, imp); err != nil {
		t.Fatal(err)
	}
	if !s.Service.Calendar().IsWorkday(day) {
		t.Error("the import did not replace the year's earlier holiday")
	}
	imp.Days = append(imp.Days, wire.CalendarDay{Day: wire.Date{Year: 2029, Month: 12, Day: 31}})
	if _, err := admin.C.ImportCalendar(ctx, imp); !errors.Is(err, &wire.Error{Code: wire.CodeInvalid, Field: "days"}) {
		t.Errorf("a day of another year: %v", err)
	}

	// The experts' load counts a submitted application the expert leads.
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := applicant.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Школа"), ObjectAddress: str("г. Тверь"), WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	if a, err = applicant.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusSubmitted}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err = manager.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, LeadExpertID: expert.ID,
		Assignments: []wire.Assignment{{Section: "07.03", ExpertID: expert.ID}, {Section: "07.04", ExpertID: expert.ID}}}, ""); err != nil {
		t.Fatal(err)
	}
	loads, err := manager.C.ExpertLoads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(loads, func(l wire.ExpertLoad) bool { return l.ExpertID == expert.ID })
	if i < 0 || loads[i] != (wire.ExpertLoad{ExpertID: expert.ID, Login: expert.User.Login, FullName: expert.FullName, Applications: 1, Lead: 1, Sections: 2}) {
		t.Errorf("load %+v", loads)
	}

	// The server's state: this process's sockets and the database.
	applicant.Subscribe(t, nil)
	st, err := admin.C.ServerStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Clients < 1 || st.QueueCap <= 0 || st.Users != 4 || st.DBBytes <= 0 || st.Version == "" || st.ActiveSessions < 4 || st.LastSeq <= 0 {
		t.Errorf("status %+v", st)
	}
}
