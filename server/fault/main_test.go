package fault_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgcluster"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/server/validate"
)

// Environment variables that turn the test binary into something else: a
// server process a test can kill (serveEnv), the PDF worker (workerEnv, as
// testenv.ValidateWorker sets it), or a PDF worker that only announces it
// was started and then hangs (holdEnv), so a test kills the server inside
// FinishUpload at a known point.
const (
	serveEnv  = "EXPERTIZA_FAULT_SERVE"
	workerEnv = "EXPERTIZA_TEST_VALIDATE_WORKER"
	holdEnv   = "EXPERTIZA_FAULT_HOLD_WORKER"
)

// durable is the cluster every test of this binary uses; set by TestMain
// before any test runs and never changed after.
var durable *pgcluster.Cluster

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(workerEnv) == "1":
		os.Exit(validate.WorkerMain())
	case os.Getenv(holdEnv) != "":
		os.Exit(holdWorker(os.Getenv(holdEnv)))
	case os.Getenv(serveEnv) != "":
		os.Exit(serveMain(os.Getenv(serveEnv)))
	}
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "expertiza-fault-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault:", err)
		return 1
	}
	stopWatchdog := startWatchdog(dir)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// FastUnsafe stays false: durability on, as in production.
	c, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, Database: "postgres", Logger: log})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault: start PostgreSQL:", err)
		_ = os.RemoveAll(dir)
		stopWatchdog()
		return 1
	}
	durable = c
	// Checked before any test: a crash test on a cluster that may lose
	// committed transactions proves nothing. TestDurabilitySettings
	// reports the same check as a test of its own.
	if bad, err := durabilityProblems(ctx, c.URLFor("postgres")); err != nil || len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "\n*** fault: PostgreSQL durability is OFF on the cluster under test: %v %v — refusing to run ***\n\n", bad, err)
		_ = c.Stop(ctx)
		_ = os.RemoveAll(dir)
		stopWatchdog()
		return 1
	}
	code := m.Run()
	sctx, scancel := context.WithTimeout(context.Background(), time.Minute)
	defer scancel()
	if err := c.Stop(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "fault: stop PostgreSQL:", err)
		code = 1
	}
	_ = os.RemoveAll(dir)
	stopWatchdog()
	return code
}

// durabilityProblems lists the durability settings of the server at url
// that are not on.
func durabilityProblems(ctx context.Context, url string) ([]string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var bad []string
	for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		var v string
		if err := conn.QueryRow(ctx, "SHOW "+name).Scan(&v); err != nil {
			return nil, fmt.Errorf("SHOW %s: %w", name, err)
		}
		// synchronous_commit may be on, remote_write, remote_apply or local:
		// all of them wait for the local WAL flush. Only off does not.
		if v == "off" {
			bad = append(bad, name+"="+v)
		}
	}
	return bad, nil
}

// watchdogScript stops a cluster left running when the test binary dies
// in whatever way (its stdin ends), as pgtest's watchdog does.
const watchdogScript = `trap '' HUP INT QUIT TERM
cat >/dev/null
pid=$(head -n 1 "$1/pgdata/postmaster.pid" 2>/dev/null) && kill -QUIT "$pid" 2>/dev/null && sleep 1
rm -rf "$1"`

func startWatchdog(dir string) func() {
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "fault-watchdog", dir)
	in, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "fault: no watchdog, a crashed run leaves PostgreSQL running in %s: %v\n", dir, err)
		return func() {}
	}
	return func() { _ = in.Close(); _ = cmd.Wait() }
}

var dbSeq atomic.Int64

// newDB creates an empty database on the durable cluster, dropped when the
// test ends; the server migrates it when it starts.
func newDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("fault_%d_%d", os.Getpid(), dbSeq.Add(1))
	admin := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, durable.URLFor("postgres"))
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := admin("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		if err := admin("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database: %v", err)
		}
	})
	return durable.URLFor(name)
}

// serveOptions is what a server child process runs with (JSON in serveEnv).
type serveOptions struct {
	Listen    string `json:"listen"`
	DB        string `json:"db"`
	Data      string `json:"data"`
	ChunkSize int    `json:"chunk_size,omitempty"`
	// HoldMarker, when set, makes every PDF validation start a worker that
	// creates this file and hangs: the test then knows the server is inside
	// FinishUpload.
	HoldMarker string `json:"hold_marker,omitempty"`
}

// serveMain runs a server until SIGTERM (or SIGKILL, which is the point).
func serveMain(spec string) int {
	var o serveOptions
	if err := json.Unmarshal([]byte(spec), &o); err != nil {
		fmt.Fprintln(os.Stderr, "serve options:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	worker := testenv.ValidateWorker
	if o.HoldMarker != "" {
		worker = func(ctx context.Context) *exec.Cmd {
			cmd := exec.CommandContext(ctx, os.Args[0])
			cmd.Env = []string{holdEnv + "=" + o.HoldMarker, "LANG=C.UTF-8", "GORACE=atexit_sleep_ms=0"}
			return cmd
		}
	}
	s, err := boot.Start(ctx, boot.Config{Listen: o.Listen, DatabaseURL: o.DB, Service: testenv.Config(), Log: log, DataDir: o.Data,
		ValidateWorker: worker, FontCache: testenv.FontCache(), ChunkSize: o.ChunkSize})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start server:", err)
		return 1
	}
	select {
	case <-ctx.Done():
	case err := <-wait(s):
		if err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			return 1
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.Shutdown(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "shutdown:", err)
		return 1
	}
	return 0
}

func wait(s *boot.Server) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Wait() }()
	return ch
}

// holdWorker stands in for the PDF worker: it marks that validation began
// and hangs (never printing the ready line) until its server dies — it is
// then re-parented — or two minutes pass, so it never outlives a killed
// server for long.
func holdWorker(marker string) int {
	parent := os.Getppid()
	if err := os.WriteFile(marker, []byte(fmt.Sprint(parent)), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, "hold worker:", err)
	}
	for end := time.Now().Add(2 * time.Minute); time.Now().Before(end) && os.Getppid() == parent; {
		time.Sleep(50 * time.Millisecond)
	}
	return 1
}

// spoolFiles lists what is left in a data folder's upload spool.
func spoolFiles(t testing.TB, data string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(data, "uploads", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// blobFiles lists every file under the blob folder (blobs and temporaries).
func blobFiles(t testing.TB, data string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(data, "blobs")
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
