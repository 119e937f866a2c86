package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// journal writes a few transactions' worth of audit rows and returns their ids.
func journal(t *testing.T, s *store.Store) []int64 {
	t.Helper()
	ctx := context.Background()
	batches := [][]store.AuditEntry{
		{{ActorID: 0, ActorLogin: "cli", Action: "user_add", ObjectType: "user", ObjectID: "1", Details: map[string]any{"login": "ivanov", "role": "expert"}}},
		{{ActorLogin: "ivanov", IP: "10.0.0.1", Action: "login_failed", ObjectType: "user", ObjectID: "1", Details: map[string]any{"reason": "wrong_password"}},
			{ActorLogin: "ivanov", IP: "10.0.0.1", Action: "login", ObjectType: "session", ObjectID: "7"}},
		{{ActorLogin: "ivanov", IP: "10.0.0.1", Action: "status_change", ObjectType: "application", ObjectID: "3",
			Details: map[string]any{"from": "draft", "to": "submitted", "comment": "«Кавычки» и \"quotes\"\n"}}},
		{{ActorLogin: "petrov", Action: "assign", ObjectType: "application", ObjectID: "3"}},
	}
	for _, b := range batches {
		if _, err := s.Tx(ctx, func(tx *store.Tx) error {
			for _, a := range b {
				tx.Audit(a)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// A rolled-back transaction leaves no audit row.
	boom := errors.New("boom")
	if _, err := s.Tx(ctx, func(tx *store.Tx) error {
		tx.Audit(store.AuditEntry{Action: "never"})
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing transaction: %v", err)
	}
	rows, err := s.Read().AuditFor(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rows {
		if r.Action == "never" {
			t.Fatal("a rolled-back audit row was written")
		}
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	if len(ids) != 5 {
		t.Fatalf("%d audit rows, want 5", len(ids))
	}
	return ids
}

// superuser runs statements on the test's database directly, bypassing the
// append-only trigger when asked.
func superuser(t *testing.T, pool *pgxpool.Pool, bypass bool, sqls ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	if bypass {
		if _, err := conn.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER USER`); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if _, err := conn.Exec(ctx, `ALTER TABLE audit_log ENABLE TRIGGER USER`); err != nil {
				t.Fatal(err)
			}
		}()
	}
	for _, q := range sqls {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAuditChain: a clean journal verifies; every kind of tampering done
// behind the trigger's back is found and pinned to the right row.
func TestAuditChain(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		tamper func(ids []int64) []string
		want   func(ids []int64) (id int64, reason string)
	}{
		{"edited details", func(ids []int64) []string {
			return []string{fmt.Sprintf(`UPDATE audit_log SET details = '{"reason":"ok"}' WHERE id = %d`, ids[1])}
		}, func(ids []int64) (int64, string) { return ids[1], "edited" }},
		{"edited actor", func(ids []int64) []string {
			return []string{fmt.Sprintf(`UPDATE audit_log SET actor_login = 'someone' WHERE id = %d`, ids[3])}
		}, func(ids []int64) (int64, string) { return ids[3], "edited" }},
		{"edited time", func(ids []int64) []string {
			return []string{fmt.Sprintf(`UPDATE audit_log SET at = at - interval '1 hour' WHERE id = %d`, ids[0])}
		}, func(ids []int64) (int64, string) { return ids[0], "edited" }},
		{"deleted middle row", func(ids []int64) []string {
			return []string{fmt.Sprintf(`DELETE FROM audit_log WHERE id = %d`, ids[2])}
		}, func(ids []int64) (int64, string) { return ids[3], "deleted" }},
		{"deleted first row", func(ids []int64) []string {
			return []string{fmt.Sprintf(`DELETE FROM audit_log WHERE id = %d`, ids[0])}
		}, func(ids []int64) (int64, string) { return ids[1], "deleted" }},
		{"deleted last row", func(ids []int64) []string {
			return []string{fmt.Sprintf(`DELETE FROM audit_log WHERE id = %d`, ids[4])}
		}, func(ids []int64) (int64, string) { return ids[4], "deleted" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			pool := pgtest.NewPool(t)
			s := store.New(pool)
			ids := journal(t, s)
			n, problems, err := s.Read().VerifyAudit(ctx)
			if err != nil || n != 5 || len(problems) != 0 {
				t.Fatalf("clean journal: %d rows, problems %+v, %v", n, problems, err)
			}
			superuser(t, pool, true, tc.tamper(ids)...)
			_, problems, err = s.Read().VerifyAudit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			id, reason := tc.want(ids)
			if len(problems) != 1 || problems[0].ID != id || !strings.Contains(problems[0].Reason, reason) {
				t.Fatalf("problems %+v, want exactly row %d %s", problems, id, reason)
			}
		})
	}
}

// TestAuditChainContinues: rows appended after verification chain onto the
// head, so a journal written by many transactions stays verifiable.
func TestAuditChainContinues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := store.New(pgtest.NewPool(t))
	journal(t, s)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if _, err := s.Tx(ctx, func(tx *store.Tx) error {
				tx.Audit(store.AuditEntry{ActorLogin: fmt.Sprint("user", i), Action: "login"})
				return nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n, problems, err := s.Read().VerifyAudit(ctx)
	if err != nil || n != 25 || len(problems) != 0 {
		t.Fatalf("%d rows, problems %+v, %v", n, problems, err)
	}
}

// TestAuditAppendOnly: the trigger refuses every change of the journal.
func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := store.New(pool)
	ids := journal(t, s)
	for _, q := range []string{
		fmt.Sprintf(`UPDATE audit_log SET details = '{}' WHERE id = %d`, ids[1]),
		fmt.Sprintf(`DELETE FROM audit_log WHERE id = %d`, ids[2]),
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		_, err := pool.Exec(ctx, q)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: %v, want the append-only refusal", q, err)
		}
	}
	n, problems, err := s.Read().VerifyAudit(ctx)
	if err != nil || n != 5 || len(problems) != 0 {
		t.Fatalf("after refused changes: %d rows, problems %+v, %v", n, problems, err)
	}
}

// TestChangeLogOrder: concurrent writers get sequence numbers 1..N without
// gaps (failed transactions take none), and transactions commit in sequence
// order, so a reader tailing "seq > last" never sees a later row before an
// earlier one.
func TestChangeLogOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	s := store.New(pool)

	// Record the order in which transactions reach COMMIT: a deferred
	// constraint trigger runs at commit, while the transaction still holds
	// its locks. The random pause before numbering lets an implementation
	// that did not serialise commits by sequence commit out of order.
	superuser(t, pool, false,
		`CREATE SEQUENCE commit_order`,
		`CREATE TABLE commits (seq bigint PRIMARY KEY, ord bigint NOT NULL)`,
		`CREATE FUNCTION record_commit() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			PERFORM pg_sleep(random() * 0.005);
			INSERT INTO commits VALUES (NEW.seq, nextval('commit_order'));
			RETURN NULL;
		END $$`,
		`CREATE CONSTRAINT TRIGGER change_log_commit AFTER INSERT ON change_log
			DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION record_commit()`)

	const writers, failing = 50, 10
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seqs []int64
		gaps []string
	)
	stop := make(chan struct{})
	readerDone := make(chan struct{})
	// A tailing reader: whatever it sees must be a gap-free prefix 1..k.
	go func() {
		defer close(readerDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			rows, err := s.Read().ChangesAfter(ctx, 0, 1000)
			if err != nil {
				mu.Lock()
				gaps = append(gaps, err.Error())
				mu.Unlock()
				return
			}
			for i, r := range rows {
				if r.Seq != int64(i+1) {
					mu.Lock()
					gaps = append(gaps, fmt.Sprintf("reader saw seq %d at position %d", r.Seq, i+1))
					mu.Unlock()
					return
				}
			}
		}
	}()
	start := make(chan struct{})
	boom := errors.New("boom")
	for i := range writers + failing {
		wg.Go(func() {
			<-start
			res, err := s.Tx(ctx, func(tx *store.Tx) error {
				tx.Emit(store.EventRow{Kind: wire.EventApplication, AppID: int64(i + 1), Payload: []byte(fmt.Sprintf(`{"writer":%d}`, i))})
				if i >= writers {
					return boom
				}
				return nil
			})
			if i >= writers {
				if !errors.Is(err, boom) || res.LastSeq != 0 {
					t.Errorf("failing writer %d: %v, seq %d", i, err, res.LastSeq)
				}
				return
			}
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
				return
			}
			mu.Lock()
			seqs = append(seqs, res.LastSeq)
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	<-readerDone
	if len(gaps) > 0 {
		t.Fatalf("tailing reader: %v", gaps)
	}

	slices.Sort(seqs)
	for i, q := range seqs {
		if q != int64(i+1) {
			t.Fatalf("writers got sequence numbers %v, want 1..%d", seqs, writers)
		}
	}
	rows, err := s.Read().ChangesAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != writers {
		t.Fatalf("%d change rows, want %d", len(rows), writers)
	}
	writersSeen := map[string]bool{}
	for i, r := range rows {
		if r.Seq != int64(i+1) {
			t.Fatalf("row %d has seq %d", i, r.Seq)
		}
		writersSeen[string(r.Payload)] = true
	}
	if len(writersSeen) != writers {
		t.Fatalf("%d distinct payloads, want %d", len(writersSeen), writers)
	}
	if last, err := s.Read().LastSeq(ctx); err != nil || last != writers {
		t.Fatalf("last seq %d (%v), want %d", last, err, writers)
	}
	if first, err := s.Read().FirstSeq(ctx); err != nil || first != 1 {
		t.Fatalf("first seq %d (%v), want 1", first, err)
	}

	// Commit order equals sequence order.
	r, err := pool.Query(ctx, `SELECT seq FROM commits ORDER BY ord`)
	if err != nil {
		t.Fatal(err)
	}
	var order []int64
	for r.Next() {
		var q int64
		if err := r.Scan(&q); err != nil {
			t.Fatal(err)
		}
		order = append(order, q)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(order) != writers || !slices.IsSorted(order) {
		t.Fatalf("transactions committed in the order %v, want 1..%d", order, writers)
	}
}
