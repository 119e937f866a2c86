package service_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"

	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// msk is Moscow time, in which deadlines are civil dates.
var msk = time.FixedZone("MSK", 3*3600)

// defaultStart is Monday 28 December 2026, 10:00 in Moscow: close to the
// New Year holidays, so working-day arithmetic is not trivial.
var defaultStart = time.Date(2026, time.December, 28, 10, 0, 0, 0, msk)

// fakeClock is a settable clock shared by the service (and through it the
// store's transaction timestamps).
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// env is one service on its own fresh database with a fake clock.
type env struct {
	ctx   context.Context
	pool  *pgxpool.Pool
	st    *store.Store
	svc   *service.Service
	clock *fakeClock
	cfg   service.Config
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, defaultStart, testenv.Config())
}

func newEnvAt(t *testing.T, start time.Time, cfg service.Config) *env {
	t.Helper()
	pool := pgtest.NewPool(t)
	st := store.New(pool)
	clock := &fakeClock{t: start}
	svc := service.New(st, cfg, testenv.Logger(t), nil, service.WithClock(clock.Now))
	e := &env{ctx: context.Background(), pool: pool, st: st, svc: svc, clock: clock, cfg: cfg}
	if err := svc.LoadCalendar(e.ctx); err != nil {
		t.Fatalf("load calendar: %v", err)
	}
	return e
}

// actor is a user with a signed-in session.
type actor struct {
	wire.User
	Password string
	Secret   string // TOTP secret, "" without 2FA
	INN      string // applicants: their organisation's INN
	Token    string
	P        *service.Principal
}

var uniq struct {
	mu sync.Mutex
	n  int64
}

func unique() int64 {
	uniq.mu.Lock()
	defer uniq.mu.Unlock()
	uniq.n++
	return uniq.n
}

func registerRequest(n int64) wire.RegisterRequest {
	return wire.RegisterRequest{
		Login: fmt.Sprintf("applicant%d", n), Password: fmt.Sprintf("correct horse battery staple %d", n),
		FullName: "Заявитель Тестовый", Email: fmt.Sprintf("a%d@example.ru", n),
		Organisation: wire.OrganisationInput{Name: fmt.Sprintf("ООО «Застройщик %d»", n), INN: testenv.ValidINN(n), OGRN: testenv.ValidOGRN(n), Address: "г. Москва"},
	}
}

// applicant registers a new organisation with its applicant and signs in.
func (e *env) applicant(t *testing.T) *actor {
	t.Helper()
	r := registerRequest(unique())
	u, err := e.svc.Register(e.ctx, r, service.ClientMeta{IP: "127.0.0.1"})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	a := &actor{User: u, Password: r.Password, INN: r.Organisation.INN}
	e.signIn(t, a)
	return a
}

// member adds another applicant to an organisation and signs in.
func (e *env) member(t *testing.T, orgID int64) *actor {
	t.Helper()
	return e.user(t, wire.RoleApplicant, orgID, false)
}

// staff creates a staff user with 2FA enrolled and signs in.
func (e *env) staff(t *testing.T, role wire.Role) *actor {
	t.Helper()
	return e.user(t, role, 0, true)
}

func (e *env) user(t *testing.T, role wire.Role, orgID int64, withTOTP bool) *actor {
	t.Helper()
	a := e.newUser(t, role, orgID, withTOTP)
	e.signIn(t, a)
	return a
}

// newUser creates a user without signing in.
func (e *env) newUser(t *testing.T, role wire.Role, orgID int64, withTOTP bool) *actor {
	t.Helper()
	n := unique()
	pw := fmt.Sprintf("staff password number %d", n)
	res, err := e.svc.AddUser(e.ctx, nil, service.NewUserInput{Login: fmt.Sprintf("%s%d", role, n), Password: pw,
		FullName: fmt.Sprintf("%s %d", role, n), Email: fmt.Sprintf("u%d@example.ru", n), Role: role, OrgID: orgID, TOTP: withTOTP})
	if err != nil {
		t.Fatalf("add %s: %v", role, err)
	}
	return &actor{User: res.User, Password: pw, Secret: res.TOTPSecret}
}

// code is the actor's TOTP code at the fake clock's time.
func (e *env) code(t *testing.T, a *actor) string {
	t.Helper()
	c, err := totp.GenerateCode(a.Secret, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signIn logs the actor in (with a TOTP code when enrolled) and
// authenticates the new token, filling Token and P.
func (e *env) signIn(t *testing.T, a *actor) {
	t.Helper()
	req := wire.LoginRequest{Login: a.Login, Password: a.Password}
	if a.Secret != "" {
		req.TOTPCode = e.code(t, a)
	}
	resp, err := e.svc.Login(e.ctx, req, service.ClientMeta{IP: "127.0.0.1", DeviceID: "dev-" + a.Login})
	if err != nil {
		t.Fatalf("login %s: %v", a.Login, err)
	}
	a.Token = resp.Token
	a.P = e.auth(t, resp.Token)
}

// auth authenticates a token that must be valid.
func (e *env) auth(t *testing.T, token string) *service.Principal {
	t.Helper()
	p, err := e.svc.Authenticate(e.ctx, token, "127.0.0.1")
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// createApp files a draft as the applicant.
func (e *env) createApp(t *testing.T, a *actor, kind wire.ExpertiseKind) wire.Application {
	t.Helper()
	app, err := e.svc.CreateApplication(e.ctx, a.P, appInput(kind))
	if err != nil {
		t.Fatalf("create application: %v", err)
	}
	return app
}

func appInput(kind wire.ExpertiseKind) wire.ApplicationInput {
	return wire.ApplicationInput{ObjectName: ptr("Жилой дом"), ObjectAddress: ptr("г. Москва, ул. Тверская, 1"),
		WorksKind: ptr(wire.WorksConstruction), ExpertiseKind: ptr(kind), Financing: ptr(wire.FinancingNonBudget)}
}

// move transitions app as who and fails the test on error.
func (e *env) move(t *testing.T, who *actor, app wire.Application, to wire.Status, comment string) wire.Application {
	t.Helper()
	out, err := e.svc.Transition(e.ctx, who.P, app.ID, wire.TransitionRequestBody{Version: app.Version, To: to, Comment: comment})
	if err != nil {
		t.Fatalf("%s → %s by %s: %v", app.Status, to, who.Role, err)
	}
	if out.Status != to {
		t.Fatalf("status %s, want %s", out.Status, to)
	}
	return out
}

// assign makes lead the lead expert and gives sections to the others.
func (e *env) assign(t *testing.T, mgr *actor, app wire.Application, lead *actor, others ...*actor) wire.Application {
	t.Helper()
	as := []wire.Assignment{{Section: "07.01", ExpertID: lead.ID}}
	for i, o := range others {
		as = append(as, wire.Assignment{Section: fmt.Sprintf("07.%02d", i+2), ExpertID: o.ID})
	}
	out, err := e.svc.Assign(e.ctx, mgr.P, app.ID, wire.AssignRequest{Version: app.Version, LeadExpertID: lead.ID, Assignments: as})
	if err != nil {
		t.Fatalf("assign: %v", err)
	}
	return out
}

// toReview drives a new application of kind to in_review (paid now) with
// lead as its lead expert.
func (e *env) toReview(t *testing.T, app *actor, mgr, lead *actor, kind wire.ExpertiseKind) wire.Application {
	t.Helper()
	a := e.createApp(t, app, kind)
	a = e.move(t, app, a, wire.StatusSubmitted, "")
	a = e.move(t, mgr, a, wire.StatusAwaitingContract, "")
	a = e.assign(t, mgr, a, lead)
	a = e.move(t, app, a, wire.StatusAwaitingPayment, "")
	return e.move(t, mgr, a, wire.StatusInReview, "Оплата получена")
}

// wantCode fails unless err carries the protocol code and returns the error.
func wantCode(t *testing.T, err error, code wire.Code) *wire.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	we, ok := wire.AsError(err)
	if !ok || we.Code != code {
		t.Fatalf("got %v, want code %s", err, code)
	}
	return we
}

func isReplay(err error) bool {
	var r *service.ReplayedError
	return errors.As(err, &r)
}

// count runs a count(*) query.
func (e *env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// wrongCode is a well-formed code that matches none of the steps accepted now.
func (e *env) wrongCode(t *testing.T, a *actor) string {
	t.Helper()
	now := e.clock.Now()
	accepted := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, err := totp.GenerateCode(a.Secret, now.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		accepted[c] = true
	}
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", i*111111%1000000)
		if !accepted[c] {
			return c
		}
	}
}
