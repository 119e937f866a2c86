package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/auth"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestNoEnumerationByResponse: an unknown login, a wrong password, a locked
// account (even with the right password), a disabled account (even with the
// right password) and a wrong second factor all get the very same answer:
// status, headers, and body byte for byte. An attacker probing logins
// learns nothing from the answer.
func TestNoEnumerationByResponse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	url := s.URL() + wire.APIPrefix + "/auth/login"

	wrong := testenv.Applicant(t, s)
	locked := testenv.Applicant(t, s)
	disabled := testenv.Applicant(t, s)
	expert := testenv.Staff(t, s, wire.RoleExpert, 0)
	for range s.Service.Config().MaxFailedLogins {
		st, _, _, raw := post(t, url, "", loginBody(locked.User.Login, "not the password"), nil)
		if st != http.StatusUnauthorized {
			t.Fatalf("locking attempt: %d %s", st, raw)
		}
	}
	if err := s.Service.SetUserDisabled(ctx, nil, disabled.ID, true); err != nil {
		t.Fatal(err)
	}

	type answer struct {
		status  int
		headers []string
		body    string
	}
	probe := func(body []byte) answer {
		st, h, _, raw := post(t, url, "", body, nil)
		var keys []string
		for k := range h {
			if k != "Date" && k != "Content-Length" {
				keys = append(keys, k+": "+strings.Join(h[k], ","))
			}
		}
		slices.Sort(keys)
		return answer{st, keys, string(raw)}
	}
	cases := []struct {
		name string
		body []byte
	}{
		{"unknown login", loginBody(fmt.Sprintf("nobody%d", testenv.Unique()), "some password")},
		{"wrong password", loginBody(wrong.User.Login, "not "+wrong.Password)},
		{"locked, right password", loginBody(locked.User.Login, locked.Password)},
		{"locked, wrong password", loginBody(locked.User.Login, "not "+locked.Password)},
		{"disabled, right password", loginBody(disabled.User.Login, disabled.Password)},
		{"disabled, wrong password", loginBody(disabled.User.Login, "not "+disabled.Password)},
		{"right password, wrong second factor", mustJSON(t, wire.LoginRequest{Login: expert.User.Login, Password: expert.Password, TOTPCode: "000000"})},
		// Logins match case-insensitively, so this is an existing account.
		{"existing login in upper case, wrong password", loginBody(strings.ToUpper(wrong.User.Login), "not "+wrong.Password)},
	}
	want := probe(cases[0].body)
	var we wire.Error
	if err := json.Unmarshal([]byte(want.body), &we); err != nil || want.status != http.StatusUnauthorized ||
		we.Code != wire.CodeInvalidCredentials || we.Field != "" || we.Message == "" || we.MessageEN == "" {
		t.Fatalf("unknown login answered %d %s, want 401 %s with a message", want.status, want.body, wire.CodeInvalidCredentials)
	}
	for _, tc := range cases[1:] {
		t.Run(tc.name, func(t *testing.T) {
			if got := probe(tc.body); got.status != want.status || got.body != want.body || !slices.Equal(got.headers, want.headers) {
				t.Fatalf("answer differs from an unknown login's:\n got %d %v %s\nwant %d %v %s", got.status, got.headers, got.body,
					want.status, want.headers, want.body)
			}
		})
	}
}

// TestNoEnumerationByTiming: an unknown login costs the same as an existing
// one with a wrong password, because the server runs a dummy argon2 hash
// with the same parameters. Medians of 30 interleaved attempts each, with
// the production hash cost, must differ by less than timingBound. The
// control group (a malformed request, no hash) proves the hash dominates
// the time, so the comparison could see a missing dummy hash.
//
// This is a statistical check on a shared machine: the attempts are
// interleaved so load affects both groups alike, and a failing round is
// measured once more before the test fails.
func TestNoEnumerationByTiming(t *testing.T) {
	t.Parallel()
	const (
		attempts    = 30
		timingBound = 0.35
	)
	cfg := testenv.Config()
	cfg.Hasher = auth.DefaultHasher() // the real cost, as deployed
	cfg.MaxFailedLogins = 1_000_000   // every existing-login attempt is a plain wrong password
	s := testenv.Start(t, cfg)
	a := testenv.Applicant(t, s)
	url := s.URL() + wire.APIPrefix + "/auth/login"
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	t.Cleanup(hc.CloseIdleConnections)

	timeOne := func(body []byte, wantStatus int) time.Duration {
		t.Helper()
		start := time.Now()
		resp, err := hc.Post(url, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		var we wire.Error
		_ = json.NewDecoder(resp.Body).Decode(&we)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != wantStatus {
			t.Fatalf("HTTP %d (%s), want %d", resp.StatusCode, we.Code, wantStatus)
		}
		return took
	}
	round := func() (unknown, existing, control time.Duration) {
		var u, e, c []time.Duration
		for i := range attempts {
			// Alternate the order so neither group always goes first.
			order := []int{0, 1, 2}
			if i%2 == 1 {
				order = []int{2, 1, 0}
			}
			for _, g := range order {
				switch g {
				case 0:
					u = append(u, timeOne(loginBody(fmt.Sprintf("nobody%d", testenv.Unique()), "some password "+fmt.Sprint(i)), http.StatusUnauthorized))
				case 1:
					e = append(e, timeOne(loginBody(a.User.Login, "wrong password "+fmt.Sprint(i)), http.StatusUnauthorized))
				case 2:
					c = append(c, timeOne([]byte(`{"login":`), http.StatusBadRequest))
				}
			}
		}
		return median(u), median(e), median(c)
	}
	for try := 1; ; try++ {
		u, e, c := round()
		diff := relDiff(u, e)
		t.Logf("round %d: median of %d attempts: unknown login %v, existing login %v (differ by %.1f%%); no-hash control %v",
			try, attempts, u.Round(10*time.Microsecond), e.Round(10*time.Microsecond), 100*diff, c.Round(10*time.Microsecond))
		if min(u, e) < 2*c {
			// Without a hash clearly dominating, a missing dummy hash
			// would go unseen: the check would be one that cannot fail.
			t.Fatalf("the hash does not dominate a login (%v, %v against %v without one): the comparison has no power", u, e, c)
		}
		if diff < timingBound {
			return
		}
		if try == 2 {
			t.Fatalf("unknown and existing logins differ by %.0f%% (bound %.0f%%) twice: the login time tells whether an account exists",
				100*diff, 100*timingBound)
		}
	}
}

// TestRegistrationDisclosure documents what registration reveals, which is
// only what it cannot avoid: a login already taken must be refused (409,
// field login), and an organisation's ИНН already registered too (409,
// field organisation.inn; the ИНН is public in the state register). Both
// come only for an otherwise valid request with an acceptable password,
// after the password is hashed (so timing says no more), and through the
// same per-address limiter as sign-in, so probing is as slow as guessing.
// There is no password-reset endpoint (a forgotten password is reset by an
// administrator), so nothing else can be probed without signing in.
func TestRegistrationDisclosure(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config()
	cfg.LoginPerMinute, cfg.LoginBurst = 6, 6
	s := testenv.Start(t, cfg)
	url := s.URL() + wire.APIPrefix + "/auth/register"
	taken := testenv.Applicant(t, s) // 2 of the budget: register and login

	n := testenv.Unique()
	fresh := wire.RegisterRequest{Login: fmt.Sprintf("newcomer%d", n), Password: "a long enough fresh password " + fmt.Sprint(n),
		FullName: "Новый Заявитель", Email: fmt.Sprintf("n%d@example.ru", n),
		Organisation: wire.OrganisationInput{Name: "ООО «Новое»", INN: testenv.ValidINN(n), OGRN: testenv.ValidOGRN(n), Address: "г. Тверь"}}

	dupLogin := fresh
	dupLogin.Login = taken.User.Login
	st, _, we, raw := post(t, url, "", mustJSON(t, dupLogin), nil)
	if st != http.StatusConflict || we.Code != wire.CodeConflict || we.Field != "login" {
		t.Fatalf("taken login: %d %s, want 409 conflict on login", st, raw)
	}
	// A taken login with a weak password is refused for the password: the
	// login's existence is not told before the request is otherwise fine.
	weak := dupLogin
	weak.Password = "123"
	st, _, we, raw = post(t, url, "", mustJSON(t, weak), nil)
	if st != http.StatusBadRequest || !strings.HasPrefix(we.Field, "password") {
		t.Fatalf("taken login, weak password: %d %s, want 400 on the password", st, raw)
	}
	// The refusal left nothing behind: the fresh registration succeeds.
	st, _, _, raw = post(t, url, "", mustJSON(t, fresh), nil)
	if st != http.StatusCreated {
		t.Fatalf("fresh registration after a refused one: %d %s", st, raw)
	}
	// Probing is rate-limited with sign-in (budget 6: 2 used by the
	// applicant, 3 above; the 6th passes, the 7th is refused).
	for i, wantStatus := range []int{http.StatusConflict, http.StatusTooManyRequests} {
		st, _, we, raw = post(t, url, "", mustJSON(t, dupLogin), nil)
		if st != wantStatus {
			t.Fatalf("probe %d: %d %s, want %d", i, st, raw, wantStatus)
		}
	}
	if we.Code != wire.CodeRateLimited {
		t.Fatalf("rate-limited probe: %s", we.Code)
	}
}

func loginBody(login, password string) []byte {
	b, _ := json.Marshal(wire.LoginRequest{Login: login, Password: password})
	return b
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// relDiff is |a−b| relative to the larger of the two.
func relDiff(a, b time.Duration) float64 {
	hi, lo := max(a, b), min(a, b)
	if hi == 0 {
		return 0
	}
	return float64(hi-lo) / float64(hi)
}
