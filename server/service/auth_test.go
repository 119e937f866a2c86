package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// refusal logs in and returns the protocol error, failing on success.
func (e *env) refusal(t *testing.T, login, password, code string) wire.Error {
	t.Helper()
	_, err := e.svc.Login(e.ctx, wire.LoginRequest{Login: login, Password: password, TOTPCode: code}, service.ClientMeta{IP: "10.0.0.1"})
	if err == nil {
		t.Fatalf("login %s with %q was accepted", login, password)
	}
	we, ok := wire.AsError(err)
	if !ok {
		t.Fatalf("login %s: %v, want a protocol error", login, err)
	}
	return *we
}

func (e *env) mustLogin(t *testing.T, login, password string) wire.LoginResponse {
	t.Helper()
	r, err := e.svc.Login(e.ctx, wire.LoginRequest{Login: login, Password: password}, service.ClientMeta{IP: "10.0.0.1"})
	if err != nil {
		t.Fatalf("login %s with the right password: %v", login, err)
	}
	return r
}

// TestLoginLockout: five wrong passwords lock the account for 15 minutes;
// while locked even the right password gets the very same answer as an
// unknown login or a wrong password, so an attacker learns nothing; the lock
// runs out, and the failure counter starts afresh after it.
func TestLoginLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.applicant(t)

	unknown := e.refusal(t, "nobody-here", "whatever password", "")
	if unknown.Code != wire.CodeInvalidCredentials || unknown.Message == "" || unknown.MessageEN == "" {
		t.Fatalf("unknown login: %+v", unknown)
	}
	for i := 1; i <= e.cfg.MaxFailedLogins; i++ {
		if got := e.refusal(t, a.Login, "wrong password "+a.Password, ""); got != unknown {
			t.Fatalf("wrong password #%d: %+v, want %+v", i, got, unknown)
		}
	}
	// Locked: the right password is refused, and indistinguishably.
	if got := e.refusal(t, a.Login, a.Password, ""); got != unknown {
		t.Fatalf("right password while locked: %+v, want %+v", got, unknown)
	}
	e.clock.Advance(e.cfg.LockFor - time.Minute)
	if got := e.refusal(t, a.Login, a.Password, ""); got != unknown {
		t.Fatalf("right password 1 minute before the lock ends: %+v, want %+v", got, unknown)
	}
	e.clock.Advance(time.Minute + time.Second)
	e.mustLogin(t, a.Login, a.Password)

	// A good login clears the counter: four failures do not lock...
	for i := 1; i < e.cfg.MaxFailedLogins; i++ {
		e.refusal(t, a.Login, "wrong", "")
	}
	e.mustLogin(t, a.Login, a.Password)
	// ...and five do again.
	for i := 1; i <= e.cfg.MaxFailedLogins; i++ {
		e.refusal(t, a.Login, "wrong", "")
	}
	if got := e.refusal(t, a.Login, a.Password, ""); got != unknown {
		t.Fatalf("right password after a second lock: %+v", got)
	}
	// When that lock has run out the counter restarts at one: a single new
	// failure must not lock again (the stored counter still says 5).
	e.clock.Advance(e.cfg.LockFor + time.Second)
	e.refusal(t, a.Login, "wrong", "")
	e.mustLogin(t, a.Login, a.Password)
}

// TestLoginRestartsCountAfterExpiredLock isolates the restart: failures
// after an expired lock count from one, not from where they stopped.
func TestLoginRestartsCountAfterExpiredLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.applicant(t)
	for i := 0; i < e.cfg.MaxFailedLogins; i++ {
		e.refusal(t, a.Login, "wrong", "")
	}
	e.clock.Advance(e.cfg.LockFor + time.Second)
	for i := 1; i < e.cfg.MaxFailedLogins; i++ {
		e.refusal(t, a.Login, "wrong", "")
	}
	e.mustLogin(t, a.Login, a.Password)
}

// TestLoginDisabledUser: a disabled account is refused with the same answer
// as a wrong password, even with the right one, and its sessions end.
func TestLoginDisabledUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.applicant(t)
	want := e.refusal(t, a.Login, "wrong password", "")
	if err := e.svc.SetUserDisabled(e.ctx, nil, a.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := e.refusal(t, a.Login, a.Password, ""); got != want {
		t.Fatalf("disabled user with the right password: %+v, want %+v", got, want)
	}
	if _, err := e.svc.Authenticate(e.ctx, a.Token, ""); wire.ErrorCode(err) != wire.CodeUnauthenticated {
		t.Fatalf("session of a disabled user: %v, want unauthenticated", err)
	}
	if err := e.svc.SetUserDisabled(e.ctx, nil, a.ID, false); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(t, a.Login, a.Password)
}

// TestLoginTOTP: staff need a second factor; a code works once.
func TestLoginTOTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	m := e.newUser(t, wire.RoleManager, 0, true)

	_, err := e.svc.Login(e.ctx, wire.LoginRequest{Login: m.Login, Password: m.Password}, service.ClientMeta{})
	if we := wantCode(t, err, wire.CodeTOTPRequired); we.Field != "totp_code" {
		t.Fatalf("field %q, want totp_code", we.Field)
	}
	badPw := e.refusal(t, m.Login, "wrong", "")
	if got := e.refusal(t, m.Login, m.Password, e.wrongCode(t, m)); got != badPw {
		t.Fatalf("wrong code: %+v, want %+v", got, badPw)
	}
	code := e.code(t, m)
	resp, err := e.svc.Login(e.ctx, wire.LoginRequest{Login: m.Login, Password: m.Password, TOTPCode: code}, service.ClientMeta{})
	if err != nil {
		t.Fatalf("login with a valid code: %v", err)
	}
	if resp.Scope != wire.ScopeFull {
		t.Fatalf("scope %q, want full", resp.Scope)
	}
	// The same code, still inside its time step, is a replay.
	e.clock.Advance(time.Second)
	if got := e.refusal(t, m.Login, m.Password, code); got != badPw {
		t.Fatalf("replayed code: %+v, want %+v", got, badPw)
	}
	// The next step's code works.
	e.clock.Advance(30 * time.Second)
	if _, err := e.svc.Login(e.ctx, wire.LoginRequest{Login: m.Login, Password: m.Password, TOTPCode: e.code(t, m)}, service.ClientMeta{}); err != nil {
		t.Fatalf("login with the next code: %v", err)
	}
}

// TestEnrolmentScope: an expert without 2FA signs in to an enrolment-only
// session; every application endpoint refuses it until the second factor is
// confirmed, after which the same session is full.
func TestEnrolmentScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.applicant(t)
	mgr := e.staff(t, wire.RoleManager)
	exp := e.newUser(t, wire.RoleExpert, 0, false)
	a := e.createApp(t, app, wire.KindProjectDocs)
	a = e.move(t, app, a, wire.StatusSubmitted, "")
	a = e.assign(t, mgr, a, exp)

	resp, err := e.svc.Login(e.ctx, wire.LoginRequest{Login: exp.Login, Password: exp.Password}, service.ClientMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Scope != wire.ScopeEnrol {
		t.Fatalf("scope %q, want enrol", resp.Scope)
	}
	p := e.auth(t, resp.Token)
	ctx := e.ctx
	endpoints := []struct {
		name string
		call func() error
	}{
		{"GetApplication", func() error { _, err := e.svc.GetApplication(ctx, p, a.ID); return err }},
		{"ListApplications", func() error { _, err := e.svc.ListApplications(ctx, p, service.ListFilter{}); return err }},
		{"History", func() error { _, err := e.svc.History(ctx, p, a.ID); return err }},
		{"AllowedTransitions", func() error { _, err := e.svc.AllowedTransitions(ctx, p, a.ID); return err }},
		{"Transition", func() error {
			_, err := e.svc.Transition(ctx, p, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusAwaitingContract})
			return err
		}},
		{"ProposeVerdict", func() error {
			_, err := e.svc.ProposeVerdict(ctx, p, a.ID, wire.VerdictRequest{Version: a.Version, Verdict: wire.StatusCompletedPositive})
			return err
		}},
		{"Messages", func() error { _, err := e.svc.Messages(ctx, p, a.ID, wire.ChannelApplicant, 0); return err }},
		{"Messages staff", func() error { _, err := e.svc.Messages(ctx, p, a.ID, wire.ChannelStaff, 0); return err }},
		{"PostMessage", func() error {
			_, err := e.svc.PostMessage(ctx, p, a.ID, wire.PostMessageRequest{Channel: wire.ChannelStaff, Body: "привет"})
			return err
		}},
		{"MarkRead", func() error {
			_, err := e.svc.MarkRead(ctx, p, a.ID, wire.MarkReadRequest{Channel: wire.ChannelApplicant, LastReadID: 1})
			return err
		}},
		{"ReadMarks", func() error { _, err := e.svc.ReadMarks(ctx, p, a.ID); return err }},
		{"Audience", func() error { _, err := e.svc.Audience(ctx, p, a.ID); return err }},
		{"Notifications", func() error { _, err := e.svc.Notifications(ctx, p); return err }},
		{"Preferences", func() error { _, err := e.svc.Preferences(ctx, p); return err }},
		{"ListUsers", func() error { _, err := e.svc.ListUsers(ctx, p, wire.RoleExpert); return err }},
	}
	for _, ep := range endpoints {
		if err := ep.call(); wire.ErrorCode(err) != wire.CodeEnrolmentRequired {
			t.Errorf("%s with an enrolment-only session: %v, want %s", ep.name, err, wire.CodeEnrolmentRequired)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	// A wrong code does not finish enrolment.
	en, err := e.svc.EnrolTOTP(ctx, p)
	if err != nil {
		t.Fatalf("enrol: %v", err)
	}
	if en.Secret == "" || !strings.HasPrefix(en.OTPAuthURL, "otpauth://totp/") || len(en.QRPNG) == 0 {
		t.Fatalf("enrolment response: %+v", en)
	}
	exp.Secret = en.Secret
	if _, err := e.svc.ConfirmTOTP(ctx, p, e.wrongCode(t, exp)); wire.ErrorCode(err) != wire.CodeInvalid {
		t.Fatalf("confirm with a wrong code: %v, want invalid", err)
	}
	if _, err := e.svc.GetApplication(ctx, e.auth(t, resp.Token), a.ID); wire.ErrorCode(err) != wire.CodeEnrolmentRequired {
		t.Fatalf("after a wrong confirmation: %v, want still enrolment_required", err)
	}
	u, err := e.svc.ConfirmTOTP(ctx, p, e.code(t, exp))
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	if !u.TOTPEnabled {
		t.Fatal("user not marked TOTP-enabled")
	}
	// The same token is now a full session.
	p2 := e.auth(t, resp.Token)
	if p2.Scope != wire.ScopeFull || p2.SessionID != p.SessionID {
		t.Fatalf("after confirmation: scope %q session %d, want full session %d", p2.Scope, p2.SessionID, p.SessionID)
	}
	got, err := e.svc.GetApplication(ctx, p2, a.ID)
	if err != nil || got.ID != a.ID {
		t.Fatalf("assigned expert reading the application after enrolment: %v", err)
	}
	// From now on the expert needs the code to sign in.
	if _, err := e.svc.Login(ctx, wire.LoginRequest{Login: exp.Login, Password: exp.Password}, service.ClientMeta{}); wire.ErrorCode(err) != wire.CodeTOTPRequired {
		t.Fatalf("login after enrolment without a code: %v, want totp_required", err)
	}
}

// TestSessionIdleTimeout: a session ends 15 minutes after the last request;
// requests keep it alive; last_seen is written at most every 30 seconds.
func TestSessionIdleTimeout(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		steps []time.Duration // clock advances, each followed by a request
		alive bool            // whether the last request succeeds
	}{
		{"16 minutes idle", []time.Duration{16 * time.Minute}, false},
		{"14 minutes idle", []time.Duration{14 * time.Minute}, true},
		{"exactly the idle limit", []time.Duration{15 * time.Minute}, true},
		{"kept alive by a request", []time.Duration{10 * time.Minute, 14 * time.Minute}, true},
		{"idle after the last request", []time.Duration{10 * time.Minute, 16 * time.Minute}, false},
		// A request within 30 s of the last write does not move last_seen:
		// 20 s + 14 min 50 s = 15 min 10 s since the login write.
		{"touch throttled", []time.Duration{20 * time.Second, 14*time.Minute + 50*time.Second}, false},
		{"touch after the throttle", []time.Duration{31 * time.Second, 14*time.Minute + 50*time.Second}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			a := e.applicant(t)
			var err error
			for i, d := range tc.steps {
				e.clock.Advance(d)
				_, err = e.svc.Authenticate(e.ctx, a.Token, "")
				if i < len(tc.steps)-1 && err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			if tc.alive && err != nil {
				t.Fatalf("session ended: %v", err)
			}
			if !tc.alive {
				wantCode(t, err, wire.CodeUnauthenticated)
			}
		})
	}
}

// TestSessionAbsoluteLimit: a session ends 12 hours after login whatever
// the activity.
func TestSessionAbsoluteLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.applicant(t)
	start := e.clock.Now()
	for e.clock.Now().Before(start.Add(e.cfg.AbsoluteTimeout - 10*time.Minute)) {
		e.clock.Advance(10 * time.Minute)
		if _, err := e.svc.Authenticate(e.ctx, a.Token, ""); err != nil {
			t.Fatalf("active session ended after %v: %v", e.clock.Now().Sub(start), err)
		}
	}
	e.clock.Set(start.Add(e.cfg.AbsoluteTimeout))
	_, err := e.svc.Authenticate(e.ctx, a.Token, "")
	wantCode(t, err, wire.CodeUnauthenticated)
	// A new login works.
	e.signIn(t, a)
}

// TestSessionLogoutAndEnd: logout revokes the session; a user can end their
// own other sessions but not someone else's, which is simply not found.
func TestSessionLogoutAndEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.applicant(t)
	b := e.applicant(t)
	first := a.P
	e.signIn(t, a) // a second device
	second := a.P

	if err := e.svc.EndSession(e.ctx, b.P, first.SessionID); wire.ErrorCode(err) != wire.CodeNotFound {
		t.Fatalf("ending another user's session: %v, want not_found", err)
	}
	if err := e.svc.EndSession(e.ctx, b.P, 1<<40); wire.ErrorCode(err) != wire.CodeNotFound {
		t.Fatalf("ending an absent session: %v, want not_found", err)
	}
	if first, err := e.svc.Sessions(e.ctx, a.P); err != nil || len(first) != 2 {
		t.Fatalf("after a failed foreign EndSession a has %d sessions (%v), want 2", len(first), err)
	}
	if err := e.svc.EndSession(e.ctx, second, first.SessionID); err != nil {
		t.Fatalf("ending own other session: %v", err)
	}
	ss, err := e.svc.Sessions(e.ctx, second)
	if err != nil || len(ss) != 1 || ss[0].ID != second.SessionID || !ss[0].Current {
		t.Fatalf("sessions after EndSession: %+v %v", ss, err)
	}
	if err := e.svc.Logout(e.ctx, second); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(e.ctx, a.Token, ""); wire.ErrorCode(err) != wire.CodeUnauthenticated {
		t.Fatalf("after logout: %v, want unauthenticated", err)
	}
	if _, err := e.svc.Authenticate(e.ctx, b.Token, ""); err != nil {
		t.Fatalf("b's session suffered from a's logout: %v", err)
	}
}

// TestChangePassword ends the other sessions, keeps the current one, and
// applies the password policy under the field "new.password".
func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.applicant(t)
	oldToken, oldP := a.Token, a.P
	e.signIn(t, a)
	cur, curToken := a.P, a.Token

	refused := []struct{ name, pw string }{
		{"common", "password1"},
		{"contains login", "my " + a.Login + " secret"},
		{"contains INN", "ИНН " + a.INN + " и точка"},
		{"too short", "kot"},
	}
	for _, r := range refused {
		err := e.svc.ChangePassword(e.ctx, cur, wire.PasswordChangeRequest{Old: a.Password, New: r.pw})
		if we := wantCode(t, err, wire.CodeInvalid); we.Field != "new.password" {
			t.Errorf("%s: field %q, want new.password", r.name, we.Field)
		}
	}
	err := e.svc.ChangePassword(e.ctx, cur, wire.PasswordChangeRequest{Old: "not the password", New: "a brand new long phrase"})
	if we := wantCode(t, err, wire.CodeInvalid); we.Field != "old" {
		t.Fatalf("wrong old password: field %q", we.Field)
	}
	// Refusals changed nothing: the other session still lives.
	if _, err := e.svc.Authenticate(e.ctx, oldToken, ""); err != nil {
		t.Fatalf("other session after refused changes: %v", err)
	}

	if err := e.svc.ChangePassword(e.ctx, cur, wire.PasswordChangeRequest{Old: a.Password, New: "a brand new long phrase"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(e.ctx, oldToken, ""); wire.ErrorCode(err) != wire.CodeUnauthenticated {
		t.Fatalf("other session (%d) after the change: %v, want unauthenticated", oldP.SessionID, err)
	}
	if p, err := e.svc.Authenticate(e.ctx, curToken, ""); err != nil || p.SessionID != cur.SessionID {
		t.Fatalf("current session after the change: %v", err)
	}
	e.refusal(t, a.Login, a.Password, "")
	e.mustLogin(t, a.Login, "a brand new long phrase")
}

// TestRegisterPasswordPolicy: registration refuses weak passwords under the
// field "password".
func TestRegisterPasswordPolicy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		pw   func(r wire.RegisterRequest) string
	}{
		{"common", func(wire.RegisterRequest) string { return "qwerty123" }},
		{"common any case", func(wire.RegisterRequest) string { return "PassWord1" }},
		{"contains login", func(r wire.RegisterRequest) string { return "xx" + strings.ToUpper(r.Login) + "yy" }},
		{"contains INN", func(r wire.RegisterRequest) string { return "inn" + r.Organisation.INN + "!" }},
	} {
		r := registerRequest(unique())
		r.Password = tc.pw(r)
		_, err := e.svc.Register(e.ctx, r, service.ClientMeta{})
		if we := wantCode(t, err, wire.CodeInvalid); we.Field != "password" {
			t.Errorf("%s: field %q, want password", tc.name, we.Field)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM users`); n != 0 {
		t.Fatalf("%d users created by refused registrations", n)
	}
}

// TestRegisterValidation: organisation identifiers are checked with their
// check digits, and duplicates are conflicts.
func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ok := registerRequest(unique())
	if _, err := e.svc.Register(e.ctx, ok, service.ClientMeta{}); err != nil {
		t.Fatal(err)
	}
	flip := func(s string) string { // change the last (check) digit
		b := []byte(s)
		b[len(b)-1] = '0' + (b[len(b)-1]-'0'+1)%10
		return string(b)
	}
	cases := []struct {
		name    string
		edit    func(r *wire.RegisterRequest)
		code    wire.Code
		field   string
		message string // a fragment of the Russian message
	}{
		{"bad INN checksum", func(r *wire.RegisterRequest) { r.Organisation.INN = flip(r.Organisation.INN) }, wire.CodeInvalid, "organisation.inn", "контрольная сумма"},
		{"INN letters", func(r *wire.RegisterRequest) { r.Organisation.INN = "77A1234567" }, wire.CodeInvalid, "organisation.inn", "только из цифр"},
		{"bad OGRN checksum", func(r *wire.RegisterRequest) { r.Organisation.OGRN = flip(r.Organisation.OGRN) }, wire.CodeInvalid, "organisation.ogrn", "контрольная сумма"},
		{"OGRN length", func(r *wire.RegisterRequest) { r.Organisation.OGRN = "12345" }, wire.CodeInvalid, "organisation.ogrn", "13 цифр"},
		{"bad KPP", func(r *wire.RegisterRequest) { r.Organisation.KPP = "12" }, wire.CodeInvalid, "organisation.kpp", "КПП"},
		{"duplicate INN", func(r *wire.RegisterRequest) { r.Organisation.INN = ok.Organisation.INN }, wire.CodeConflict, "organisation.inn", "ИНН"},
		{"duplicate login", func(r *wire.RegisterRequest) { r.Login = ok.Login }, wire.CodeConflict, "login", "логин"},
		{"duplicate login other case", func(r *wire.RegisterRequest) { r.Login = strings.ToUpper(ok.Login) }, wire.CodeConflict, "login", "логин"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := registerRequest(unique())
			tc.edit(&r)
			_, err := e.svc.Register(e.ctx, r, service.ClientMeta{})
			we := wantCode(t, err, tc.code)
			if we.Field != tc.field {
				t.Errorf("field %q, want %q", we.Field, tc.field)
			}
			if !strings.Contains(strings.ToLower(we.Message), strings.ToLower(tc.message)) || we.MessageEN == "" {
				t.Errorf("message %q / %q, want one mentioning %q", we.Message, we.MessageEN, tc.message)
			}
		})
	}
	// Nothing half-done stayed behind: one organisation, one user.
	if n := e.count(t, `SELECT count(*) FROM organisations`); n != 1 {
		t.Fatalf("%d organisations, want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM users`); n != 1 {
		t.Fatalf("%d users, want 1", n)
	}
}
