// Package service holds the sync server's rules: authorization, workflow,
// deadlines, notifications. Every command runs in one store transaction;
// the events it emits are published to connected clients only after COMMIT.
package service

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/expertiza/expertiza/server/auth"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Config holds the tunable rules.
type Config struct {
	IdleTimeout      time.Duration // session ends after this long without a request
	AbsoluteTimeout  time.Duration // session ends this long after login, whatever happens
	MaxFailedLogins  int
	LockFor          time.Duration
	AnswerCutoffDays int // applicant answers refused this many working days before the review deadline
	Issuer           string
	Policy           auth.Policy
	Hasher           auth.Hasher
	// Sign-in and registration attempts allowed per client address.
	LoginPerMinute int
	LoginBurst     int
}

// DefaultConfig is what the server runs with unless configured otherwise.
func DefaultConfig() Config {
	return Config{
		IdleTimeout:      15 * time.Minute,
		AbsoluteTimeout:  12 * time.Hour,
		MaxFailedLogins:  5,
		LockFor:          15 * time.Minute,
		AnswerCutoffDays: wire.DefaultAnswerCutoffDays,
		Issuer:           "Expertiza",
		Policy:           auth.DefaultPolicy(),
		Hasher:           auth.DefaultHasher(),
		LoginPerMinute:   10,
		LoginBurst:       10,
	}
}

// Publisher is woken after a commit that appended change-log rows.
type Publisher interface {
	Poke(seq int64)
}

// Service implements every use case of the server.
type Service struct {
	st  *store.Store
	cfg Config
	log *slog.Logger
	pub Publisher
	now func() time.Time
	cal atomic.Pointer[wire.Calendar]
	// files is nil until WithFiles: the server then refuses uploads.
	files *Files
	// letters is nil until WithLetters: notice letters stay pending.
	letters *letters
	// mail is nil until WithMail: no e-mail is queued or sent.
	mail *MailConfig
	// conclusions is nil until WithConclusions: approved conclusions wait
	// for their files.
	conclusions *conclusions
	// payments holds the gateway secret and the payee (payment.go).
	payments PaymentConfig
	// contractDocs is nil until WithContractDocs: contract PDFs stay pending.
	contractDocs *contractDocs
	// pd is nil until WithPersonalData: personal data is refused
	// (personal_data.go).
	pd *PDKeys
}

// Option adjusts a Service.
type Option func(*Service)

// WithClock replaces the clock (tests of deadlines and expiry).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New builds a Service. Call LoadCalendar before serving.
func New(st *store.Store, cfg Config, log *slog.Logger, pub Publisher, opts ...Option) *Service {
	s := &Service{st: st, cfg: cfg, log: log, pub: pub, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if st != nil {
		// Transactions stamp rows (sessions, deadlines, history) with the
		// same clock the service checks them against.
		s.st = st.WithClock(s.now)
	}
	s.cal.Store(wire.DefaultCalendar())
	return s
}

// Store exposes the store for the WebSocket hub's reads.
func (s *Service) Store() *store.Store { return s.st }

// Config returns the rules in force.
func (s *Service) Config() Config { return s.cfg }

// Now is the service clock.
func (s *Service) Now() time.Time { return s.now() }

// LoadCalendar reads the holiday calendar, seeding it with the shipped
// official days on first start.
func (s *Service) LoadCalendar(ctx context.Context) error {
	days, err := s.st.Read().CalendarDays(ctx)
	if err != nil {
		return err
	}
	if len(days) == 0 {
		nonWorking, working := wire.DefaultCalendar().Days()
		for _, d := range nonWorking {
			days = append(days, wire.CalendarDay{Day: d, Working: false, Note: "official"})
		}
		for _, d := range working {
			days = append(days, wire.CalendarDay{Day: d, Working: true, Note: "official"})
		}
		if _, err := s.st.Tx(ctx, func(tx *store.Tx) error { return tx.InsertCalendarDays(ctx, days) }); err != nil {
			return fmt.Errorf("seed calendar: %w", err)
		}
	}
	var nonWorking, working []wire.Date
	for _, d := range days {
		if d.Working {
			working = append(working, d.Day)
		} else {
			nonWorking = append(nonWorking, d.Day)
		}
	}
	s.cal.Store(wire.NewCalendar(nonWorking, working))
	return nil
}

// Calendar returns the working-day calendar in force.
func (s *Service) Calendar() *wire.Calendar { return s.cal.Load() }

// CalendarDays lists the calendar's exceptions for clients.
func (s *Service) CalendarDays(ctx context.Context) ([]wire.CalendarDay, error) {
	return s.st.Read().CalendarDays(ctx)
}

// Principal is the authenticated caller of a command.
type Principal struct {
	UserID    int64
	Login     string
	Name      string
	Role      wire.Role
	OrgIDs    []int64
	SessionID int64
	Scope     string
	ExpiresAt time.Time // absolute end of the session
	IP        string
	Device    string // of the session: its name and id, for the audit journal
}

// Member reports whether the caller belongs to the organisation.
func (p *Principal) Member(orgID int64) bool { return slices.Contains(p.OrgIDs, orgID) }

// idempotencyKey travels in the context from the HTTP layer to write().
type idemCtxKey struct{}

type idempotency struct {
	key  string
	hash []byte
}

// WithIdempotency attaches the client's idempotency key and the request
// body to ctx, so the command it runs applies at most once.
func WithIdempotency(ctx context.Context, key string, body []byte) context.Context {
	h := sha256.Sum256(body)
	return context.WithValue(ctx, idemCtxKey{}, idempotency{key: key, hash: h[:]})
}

// ReplayedError carries the stored outcome of a command already applied
// under the same idempotency key; the HTTP layer answers with Body.
type ReplayedError struct {
	Body []byte
}

func (e *ReplayedError) Error() string { return "idempotent replay" }

// write runs fn in a transaction on behalf of p, applies idempotency and
// publishes emitted events after commit.
func write[T any](ctx context.Context, s *Service, p *Principal, fn func(*store.Tx) (T, error)) (T, error) {
	var out T
	idem, hasKey := ctx.Value(idemCtxKey{}).(idempotency)
	res, err := s.st.Tx(ctx, func(tx *store.Tx) error {
		if hasKey && p != nil {
			prev, err := tx.ClaimIdempotencyKey(ctx, p.UserID, idem.key, idem.hash)
			if err != nil {
				return err
			}
			if prev.Found {
				if string(prev.RequestHash) != string(idem.hash) {
					return wire.E(wire.CodeIdempotencyReuse, "Idempotency-Key",
						"Этот ключ идемпотентности уже использован для другого запроса — создайте новый ключ",
						"This idempotency key was used for a different request — generate a new key")
				}
				return &ReplayedError{Body: prev.Response}
			}
		}
		v, err := fn(tx)
		if err != nil {
			return err
		}
		out = v
		if hasKey && p != nil {
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("encode response: %w", err)
			}
			if err := tx.StoreIdempotentResponse(ctx, p.UserID, idem.key, 200, b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	if res.LastSeq > 0 && s.pub != nil {
		s.pub.Poke(res.LastSeq)
	}
	return out, nil
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own wire types are encoded here; failing is a bug.
		panic(fmt.Sprintf("encode event payload: %v", err))
	}
	return b
}

func errNotFound(ru, en string) error {
	return wire.E(wire.CodeNotFound, "", "Не найдено или недоступно: "+ru, "Not found or not accessible: "+en)
}

func errForbidden(ru, en string) error { return wire.E(wire.CodeForbidden, "", ru, en) }
