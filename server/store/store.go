// Package store is the SQL layer of the sync server: pgx queries only, no
// business rules. Every writing transaction goes through Store.Tx, which
// appends the audit rows and change-log events the transaction collected
// just before COMMIT, in a fixed lock order (audit head, then change
// counter), so commit order equals change sequence order.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expertiza/expertiza/sync/wire"
)

// Store wraps a connection pool.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time // transaction timestamps
}

// New returns a Store over pool.
func New(pool *pgxpool.Pool) *Store { return &Store{pool: pool, now: time.Now} }

// WithClock returns a Store over the same pool whose transactions take
// their timestamp (Tx.Now) from now, so rows agree with the service clock.
func (s *Store) WithClock(now func() time.Time) *Store {
	c := *s
	c.now = now
	return &c
}

// Pool exposes the pool for health checks and LISTEN connections.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// querier is what both a pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Q runs queries; reads use Store.Read(), writes a *Tx (which embeds Q).
type Q struct {
	q querier
}

// Read returns a Q over the pool for queries outside a transaction.
func (s *Store) Read() Q { return Q{q: s.pool} }

// Tx is one writing transaction.
type Tx struct {
	Q
	tx     pgx.Tx
	audits []AuditEntry
	events []EventRow
	now    time.Time
}

// Now is the transaction's timestamp, taken once so every row it writes
// agrees.
func (t *Tx) Now() time.Time { return t.now }

// Emit queues a change-log event, written just before commit.
func (t *Tx) Emit(e EventRow) { t.events = append(t.events, e) }

// Audit queues an audit journal row, written just before commit.
func (t *Tx) Audit(a AuditEntry) { t.audits = append(t.audits, a) }

// Result tells what a committed transaction published.
type Result struct {
	LastSeq int64 // highest change sequence written, 0 if none
}

// Tx runs fn in a transaction and commits it, retrying serialization
// failures and deadlocks a few times. fn must be safe to re-run.
func (s *Store) Tx(ctx context.Context, fn func(*Tx) error) (Result, error) {
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		res, err := s.tryTx(ctx, fn)
		if err == nil || !isRetryable(err) {
			return res, err
		}
		last = err
		select {
		case <-ctx.Done():
			return Result{}, ctx.Err()
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
	}
	return Result{}, fmt.Errorf("transaction kept conflicting: %w", last)
}

func (s *Store) tryTx(ctx context.Context, fn func(*Tx) error) (res Result, err error) {
	ptx, err := s.pool.Begin(ctx)
	if err != nil {
		if unreachable(err) {
			return res, fmt.Errorf("begin: %w: %w", errUnavailable(), err)
		}
		return res, fmt.Errorf("begin: %w", err)
	}
	t := &Tx{Q: Q{q: ptx}, tx: ptx, now: s.now().UTC().Truncate(time.Microsecond)}
	defer func() {
		if p := recover(); p != nil {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err = fn(t); err != nil {
		return res, err
	}
	if err = t.flushAudit(ctx); err != nil {
		return res, err
	}
	if res.LastSeq, err = t.flushEvents(ctx); err != nil {
		return res, err
	}
	if err = ptx.Commit(ctx); err != nil {
		return res, fmt.Errorf("commit: %w", err)
	}
	return res, nil
}

func isRetryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// mapErr turns driver errors into protocol errors where they have a meaning
// for the caller: a missing row is NotFound, a unique violation a Conflict.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, wire.E(wire.CodeNotFound, "", "Не найдено", "Not found"))
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" {
		return fmt.Errorf("%s: %w", what, wire.E(wire.CodeConflict, "", "Такая запись уже существует", "Already exists"))
	}
	if unreachable(err) {
		return fmt.Errorf("%s: %w: %w", what, errUnavailable(), err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// unreachable reports whether err means the database cannot be reached
// (down, restarting, the connection cut) rather than that it refused.
func unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne *net.OpError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.As(err, &pe):
		// Class 57P: operator intervention (shutdown, crash shutdown,
		// cannot connect now); 08: connection exceptions.
		return strings.HasPrefix(pe.Code, "57P") || strings.HasPrefix(pe.Code, "08")
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) && !errors.Is(err, pgx.ErrNoRows)
}

// errUnavailable is the refusal while the database is unreachable: the
// client keeps the command and sends it again under the same key.
func errUnavailable() *wire.Error {
	return wire.E(wire.CodeUnavailable, "", "База данных сервера временно недоступна; повторите позже — действие сохранено и будет отправлено снова.",
		"The server's database is unavailable for now; try again later — the action is kept and will be sent again.")
}

// IsUniqueViolation reports whether err is a unique constraint violation on
// the named constraint ("" matches any).
func IsUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}
