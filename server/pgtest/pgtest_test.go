package pgtest_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { pgtest.Main(m, migrate) }

func migrate(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `
		CREATE TABLE remarks (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body text NOT NULL);
		INSERT INTO remarks (body) VALUES ('seed');`)
	return err
}

// Each parallel test sees only the migrated template: its own rows, its own sequence.
func TestIsolation(t *testing.T) {
	for _, n := range []int{1, 3, 5, 8} {
		t.Run(fmt.Sprintf("%d rows", n), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			pool := pgtest.NewPool(t)
			var firstID int64
			for i := range n {
				var id int64
				if err := pool.QueryRow(ctx, "INSERT INTO remarks (body) VALUES ($1) RETURNING id", fmt.Sprint(i)).Scan(&id); err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					firstID = id
				}
			}
			var count int
			if err := pool.QueryRow(ctx, "SELECT count(*) FROM remarks").Scan(&count); err != nil {
				t.Fatal(err)
			}
			if count != n+1 || firstID != 2 {
				t.Errorf("count = %d, first id = %d; want %d rows after the seed and id 2", count, firstID, n+1)
			}
		})
	}
}

func TestNewDBIsDropped(t *testing.T) {
	var url string
	t.Run("test owning the database", func(t *testing.T) {
		url = pgtest.NewDB(t)
		// Left open on purpose: the drop must end it.
		if _, err := pgx.Connect(t.Context(), url); err != nil {
			t.Fatal(err)
		}
	})
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	if exists := databaseExists(t, cfg.Database); exists {
		t.Errorf("database %s still exists after its test ended", cfg.Database)
	}
}

func TestNewDBTiming(t *testing.T) {
	const n = 10
	began := time.Now()
	for range n {
		pgtest.NewDB(t)
	}
	t.Logf("NewDB: %v each", time.Since(began)/n)
}

// A fault test can stop and restart the throwaway cluster; data and the harness survive.
func TestClusterRestart(t *testing.T) {
	c := pgtest.Cluster()
	if os.Getenv(pgtest.URLEnv) != "" {
		if c != nil {
			t.Fatal("Cluster() is not nil with an external server")
		}
		t.Skip("external server: nothing to restart")
	}
	if c == nil {
		t.Fatal("Cluster() is nil without an external server")
	}
	ctx := t.Context()
	url := pgtest.NewDB(t)
	exec(t, url, "INSERT INTO remarks (body) VALUES ('before the restart')")
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if conn, err := pgx.Connect(ctx, url); err == nil {
		conn.Close(ctx)
		t.Fatal("connected while the cluster was stopped")
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, url, "INSERT INTO remarks (body) VALUES ('after the restart')")
	var count int
	if err := connect(t, pgtest.NewDB(t)).QueryRow(ctx, "SELECT count(*) FROM remarks").Scan(&count); err != nil || count != 1 {
		t.Errorf("a database made after the restart has %d rows, %v; want the seed only", count, err)
	}
	if err := connect(t, url).QueryRow(ctx, "SELECT count(*) FROM remarks").Scan(&count); err != nil || count != 3 {
		t.Errorf("%d rows, %v; want 3", count, err)
	}
}

func BenchmarkNewDB(b *testing.B) {
	for b.Loop() {
		pgtest.NewDB(b)
	}
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	var exists bool
	if err := connect(t, pgtest.AdminURL()).QueryRow(t.Context(), "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	return exists
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	if _, err := connect(t, url).Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
