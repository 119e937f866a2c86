// Package testenv starts real sync servers for tests: a fresh migrated
// database from pgtest, the whole server on a loopback port, and signed-in
// clients for every role and organisation relation.
package testenv

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/expertiza/expertiza/server/auth"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/store/migrations"
	"github.com/expertiza/expertiza/server/validate"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// workerEnv makes a test binary act as the PDF worker, as the server
// binary does under its hidden validate-worker command.
const workerEnv = "EXPERTIZA_TEST_VALIDATE_WORKER"

// Main is TestMain for packages that start servers.
func Main(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(validate.WorkerMain())
	}
	pgtest.Main(m, func(ctx context.Context, url string) error { return migrations.Up(ctx, url, nil) })
}

// ValidateWorker re-runs the test binary as the PDF worker.
func ValidateWorker(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, os.Args[0])
	cmd.Env = []string{workerEnv + "=1", "LANG=C.UTF-8", "GORACE=atexit_sleep_ms=0"}
	return cmd
}

// Config returns service rules with a cheap password hash (tests sign in
// hundreds of times; the real cost is measured by benchmarks).
func Config() service.Config {
	c := service.DefaultConfig()
	c.Hasher = auth.Hasher{Time: 1, MemoryKiB: 1024, Threads: 1, KeyLen: 32}
	// Every test client signs in from 127.0.0.1; the limit has its own test.
	c.LoginPerMinute, c.LoginBurst = 100000, 100000
	return c
}

// Logger writes to the test log when -v, else discards.
func Logger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// FontCache is the pdfdoc font cache every test server of the process
// shares (boot.Config.FontCache). pdfcpu keeps one font directory per
// process; one under a test's own data directory would be removed by that
// test's cleanup while other tests' servers render letters with it.
func FontCache() string { return filepath.Join(os.TempDir(), "expertiza-test-pdfdoc") }

// Start runs a server on a fresh database.
func Start(t testing.TB, cfg service.Config) *boot.Server {
	t.Helper()
	return StartOn(t, pgtest.NewDB(t), cfg)
}

// StartOn runs a server on an existing database (two servers on one
// database deliver each other's events).
func StartOn(t testing.TB, dbURL string, cfg service.Config) *boot.Server {
	t.Helper()
	ctx := context.Background()
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: dbURL, Service: cfg, Log: Logger(t), DataDir: t.TempDir(),
		ValidateWorker: ValidateWorker, FontCache: FontCache()})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// Actor is a signed-in user with a client.
type Actor struct {
	wire.User
	Password   string
	TOTPSecret string
	C          *client.Client
}

var seq atomic.Int64

// Unique returns a process-unique suffix for logins.
func Unique() int64 { return seq.Add(1) }

// ValidINN builds a valid 10-digit ИНН from a number.
func ValidINN(n int64) string {
	prefix := fmt.Sprintf("77%07d", n%10000000)
	w := []int{2, 4, 10, 3, 5, 9, 4, 6, 8}
	sum := 0
	for i, c := range prefix {
		sum += int(c-'0') * w[i]
	}
	return prefix + fmt.Sprint(sum%11%10)
}

// ValidOGRN builds a valid ОГРН from a number.
func ValidOGRN(n int64) string {
	v := int64(102770000000) + n%1000000
	return fmt.Sprintf("%d%d", v, v%11%10)
}

// Applicant registers a new organisation with its applicant and signs in.
func Applicant(t testing.TB, s *boot.Server) *Actor {
	t.Helper()
	n := Unique()
	a := &Actor{Password: "correct horse battery staple " + fmt.Sprint(n), C: client.New(s.URL(), client.WithDeviceID(fmt.Sprintf("dev-%d", n)))}
	u, err := a.C.Register(context.Background(), wire.RegisterRequest{Login: fmt.Sprintf("applicant%d", n), Password: a.Password,
		FullName: "Заявитель Тестовый", Email: fmt.Sprintf("a%d@example.ru", n),
		Organisation: wire.OrganisationInput{Name: fmt.Sprintf("ООО «Застройщик %d»", n), INN: ValidINN(n), OGRN: ValidOGRN(n), Address: "г. Москва"}})
	if err != nil {
		t.Fatalf("register applicant: %v", err)
	}
	a.User = u
	a.Login(t)
	return a
}

// Member adds another applicant to an existing organisation and signs in.
func Member(t testing.TB, s *boot.Server, of *Actor) *Actor {
	t.Helper()
	return Staff(t, s, wire.RoleApplicant, of.OrgID)
}

// Staff creates a user of role (with TOTP for staff) and signs in.
func Staff(t testing.TB, s *boot.Server, role wire.Role, orgID int64) *Actor {
	t.Helper()
	n := Unique()
	a := &Actor{Password: "staff password number " + fmt.Sprint(n), C: client.New(s.URL(), client.WithDeviceID(fmt.Sprintf("dev-%d", n)))}
	res, err := s.Service.AddUser(context.Background(), nil, service.NewUserInput{Login: fmt.Sprintf("%s%d", role, n), Password: a.Password,
		FullName: fmt.Sprintf("%s %d", role, n), Role: role, OrgID: orgID, TOTP: role.RequiresTOTP()})
	if err != nil {
		t.Fatalf("add %s: %v", role, err)
	}
	a.User, a.TOTPSecret = res.User, res.TOTPSecret
	a.Login(t)
	return a
}

// Code returns a TOTP code for the actor at time at.
func (a *Actor) Code(t testing.TB, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCode(a.TOTPSecret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var loginMu sync.Mutex
var lastStep = map[string]int64{} // by login: ids repeat across test databases

// Login signs the actor in (again), with a fresh TOTP code for staff.
func (a *Actor) Login(t testing.TB) {
	t.Helper()
	req := wire.LoginRequest{Login: a.User.Login, Password: a.Password}
	if a.TOTPSecret != "" {
		req.TOTPCode = a.NextCode(t)
	}
	if _, err := a.C.Login(context.Background(), req); err != nil {
		t.Fatalf("login %s: %v", a.User.Login, err)
	}
}

// NextCode returns a TOTP code whose step this user has not used yet. The
// server accepts the previous, current and next step and each step once,
// so a user can sign in three times within one 30-second step; the first
// code is the previous step's to leave room for the others.
func (a *Actor) NextCode(t testing.TB) string {
	t.Helper()
	loginMu.Lock()
	defer loginMu.Unlock()
	now := time.Now().Add(-30 * time.Second)
	step := now.Unix() / 30
	for lastStep[a.User.Login] >= step {
		now = now.Add(30 * time.Second)
		step++
	}
	if step > time.Now().Unix()/30+1 {
		t.Fatalf("%s needs more sign-ins than TOTP steps allow right now", a.User.Login)
	}
	lastStep[a.User.Login] = step
	return a.Code(t, now)
}

// Recorder is a stream handler that records what arrives.
type Recorder struct {
	mu     sync.Mutex
	events []wire.Event
	eph    []wire.Ephemeral
	states []client.State
	resync int
	signal chan struct{}
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{signal: make(chan struct{}, 1)} }

func (r *Recorder) poke() {
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// Event implements client.Handler.
func (r *Recorder) Event(e wire.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
}

// Ephemeral implements client.Handler.
func (r *Recorder) Ephemeral(e wire.Ephemeral) {
	r.mu.Lock()
	r.eph = append(r.eph, e)
	r.mu.Unlock()
	r.poke()
}

// Resync implements client.Handler.
func (r *Recorder) Resync(int64) { r.mu.Lock(); r.resync++; r.mu.Unlock(); r.poke() }

// State implements client.Handler.
func (r *Recorder) State(s client.State, _ error) {
	r.mu.Lock()
	r.states = append(r.states, s)
	r.mu.Unlock()
	r.poke()
}

// Events returns a copy of what arrived.
func (r *Recorder) Events() []wire.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wire.Event(nil), r.events...)
}

// Ephemerals returns a copy of the presence/typing frames.
func (r *Recorder) Ephemerals() []wire.Ephemeral {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wire.Ephemeral(nil), r.eph...)
}

// LastState is the newest connection state.
func (r *Recorder) LastState() client.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.states) == 0 {
		return client.StateOffline
	}
	return r.states[len(r.states)-1]
}

// WaitFor waits until cond holds over the recorder, failing after d.
func (r *Recorder) WaitFor(t testing.TB, d time.Duration, what string, cond func(*Recorder) bool) {
	t.Helper()
	deadline := time.After(d)
	for {
		if cond(r) {
			return
		}
		select {
		case <-r.signal:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("timed out after %v waiting for %s; got %d events", d, what, len(r.Events()))
		}
	}
}

// Subscribe opens a stream for the actor, live from now (after == nil) or
// resuming; it runs until the test ends.
func (a *Actor) Subscribe(t testing.TB, after *int64) (*client.Stream, *Recorder) {
	t.Helper()
	rec := NewRecorder()
	st := a.C.NewStream(rec, after)
	st.SetBackoff(20*time.Millisecond, 200*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = st.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	rec.WaitFor(t, 10*time.Second, "stream online", func(r *Recorder) bool { return r.LastState() == client.StateOnline })
	return st, rec
}

// Kinds filters events of one kind.
func Kinds(evs []wire.Event, k wire.EventKind) []wire.Event {
	var out []wire.Event
	for _, e := range evs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}
