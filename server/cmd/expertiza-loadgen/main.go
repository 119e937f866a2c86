// Command expertiza-loadgen is the load test: simulated applicants and
// experts working at once against a real sync server over HTTP and
// WebSocket (package server/loadgen).
//
//	expertiza-loadgen [--spawn] [--server-bin bin/expertiza-server] [--data DIR]
//	    [--users 1500] [--experts-share 0.2] [--duration 10m] [--rate 2] [--out bench/out]
//	expertiza-loadgen --server http://HOST:PORT --data SERVER_DATA_DIR ...
//	expertiza-loadgen --server http://HOST:PORT --fixture FILE ...
//
// With --spawn (the default without --server) it starts its own server
// process on a fresh data folder (embedded PostgreSQL) and stops it at the
// end, sampling that process's memory from /proc. Users, organisations and
// applications in review are prepared through the service against the
// server's database (the embedded cluster is shared with the running
// server, or EXPERTIZA_DATABASE_URL); --fixture keeps them in a file for
// later runs. The report goes to stdout and OUT/NAME.json, OUT/NAME.md; the
// exit status is 1 when any operation failed or any event was lost.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/loadgen"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/server/store/migrations"
	"github.com/expertiza/expertiza/server/validate"
)

func main() {
	// Preparation uploads PDFs through the service, which checks each in
	// this same binary re-run as the guarded worker (as the server does).
	if len(os.Args) > 1 && os.Args[1] == "validate-worker" {
		os.Exit(validate.WorkerMain())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// errFailed marks a run that finished but was not clean; its report says why.
var errFailed = errors.New("the load test failed: see the report")

type options struct {
	server, serverBin, data, fixture, out, name, note, logLevel string
	spawn, keepData, spread                                     bool
	users                                                       int
	expertsShare, rate                                          float64
	duration, ramp, sample, drain, settle                       time.Duration
	seed                                                        uint64
}

func parse(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("expertiza-loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.server, "server", "", "base URL of a running server (http://host:port); without it --spawn is implied")
	fs.BoolVar(&o.spawn, "spawn", false, "start a server process on a fresh data folder for the run and stop it afterwards")
	fs.StringVar(&o.serverBin, "server-bin", "", "the expertiza-server binary for --spawn (default: beside this binary, else on PATH)")
	fs.StringVar(&o.data, "data", "", "the server's data folder: with --spawn where it is created (default a temporary one); "+
		"with --server the running server's, to prepare users through its database")
	fs.BoolVar(&o.keepData, "keep-data", false, "with --spawn, keep the temporary data folder")
	fs.StringVar(&o.fixture, "fixture", "", "file of prepared users and applications: reused when it exists, else written after preparing")
	fs.IntVar(&o.users, "users", 1500, "simulated users, applicants and experts together")
	fs.Float64Var(&o.expertsShare, "experts-share", 0.2, "share of the users who are experts (the rest are applicants)")
	fs.DurationVar(&o.duration, "duration", 10*time.Minute, "length of the run, ramp-up included")
	fs.Float64Var(&o.rate, "rate", 2, "actions per user per minute (exponential think times around 60/rate s)")
	fs.DurationVar(&o.ramp, "ramp", 0, "spread the sign-ins over this long (default 40 ms per user)")
	fs.DurationVar(&o.drain, "drain", 30*time.Second, "after the last action, how long events in flight may take before they count as lost")
	fs.DurationVar(&o.sample, "sample", 10*time.Second, "how often the server's memory is read")
	fs.DurationVar(&o.settle, "settle-timeout", 15*time.Minute, "how long to wait for the server to render the contract PDFs preparation queued")
	fs.BoolVar(&o.spread, "spread-addresses", true, "each user connects from its own loopback address (127.100.x.y), as real users do; "+
		"the server limits sign-ins per address")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed of the users' choices (0: from the clock)")
	fs.StringVar(&o.out, "out", "bench/out", "folder for NAME.json and NAME.md")
	fs.StringVar(&o.name, "name", "load", "base name of the report files")
	fs.StringVar(&o.note, "note", "", "a remark about the machine for the report (e.g. that it is shared)")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	case o.server != "" && o.spawn:
		return nil, errors.New("--server and --spawn exclude each other: test a running server or start one")
	case o.users < 2:
		return nil, fmt.Errorf("--users %d: at least 2 (an applicant and an expert)", o.users)
	case o.expertsShare <= 0 || o.expertsShare >= 1:
		return nil, fmt.Errorf("--experts-share %v: a share between 0 and 1, e.g. 0.2", o.expertsShare)
	case o.rate <= 0:
		return nil, fmt.Errorf("--rate %v: actions per user per minute must be positive", o.rate)
	case o.duration < 5*time.Second:
		return nil, fmt.Errorf("--duration %v: at least 5s", o.duration)
	case o.server != "" && !strings.HasPrefix(o.server, "http://") && !strings.HasPrefix(o.server, "https://"):
		return nil, fmt.Errorf("--server %q: give the base URL, e.g. http://127.0.0.1:8443", o.server)
	}
	if o.server == "" {
		o.spawn = true
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	o, err := parse(args, stderr)
	if err != nil {
		return err
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))

	var srv *serverProc
	if o.spawn {
		if o.data == "" {
			if o.data, err = os.MkdirTemp("", "expertiza-load-"); err != nil {
				return err
			}
			if !o.keepData {
				// A failed run keeps its folder for the server's log and database.
				defer func() {
					if err == nil {
						_ = os.RemoveAll(o.data)
					} else {
						log.Warn("data folder kept for inspection", "data", o.data)
					}
				}()
			}
		}
		if srv, err = spawnServer(ctx, o.serverBin, o.data, log); err != nil {
			return err
		}
		defer func() {
			if stopErr := srv.stop(); stopErr != nil {
				log.Warn("stopping the server", "err", stopErr)
			}
			_ = copyFile(srv.logPath, filepath.Join(o.out, o.name+"-server.log"))
		}()
		o.server = srv.url
	}

	began := time.Now()
	fx, err := fixture(ctx, o, log)
	if err != nil {
		return err
	}
	prepared := time.Since(began)

	mem := &loadgen.MemorySampler{MetricsURL: o.server + "/metrics"}
	if srv != nil {
		mem.PID = srv.cmd.Process.Pid
	}
	if o.data != "" {
		if pf := filepath.Join(o.data, "postgres", "pgdata", "postmaster.pid"); fileExists(pf) {
			mem.PostmasterPID = pf
		}
	}
	cfg := loadgen.Config{Server: o.server, Duration: o.duration, Rate: o.rate, Ramp: o.ramp, Drain: o.drain, SpreadAddresses: o.spread,
		Seed: o.seed, Memory: mem, SampleEvery: o.sample, Log: log}
	log.Info("load: running", "users", len(fx.Users), "applications", len(fx.Apps), "duration", o.duration, "rate_per_min", o.rate, "server", o.server)
	res, err := loadgen.Run(ctx, cfg, fx)
	if err != nil {
		return err
	}
	rep := loadgen.NewReport(res, cfg, loadgen.Settings{Server: o.server, Spawned: srv != nil, ExpertsShare: o.expertsShare},
		prepared, commandLine(args), o.note)
	rep.Table(stdout)
	if err := rep.Write(o.out, o.name); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	fmt.Fprintf(stdout, "report: %s, %s\n", filepath.Join(o.out, o.name+".json"), filepath.Join(o.out, o.name+".md"))
	if !rep.OK {
		return errFailed
	}
	return nil
}

// fixture loads the prepared world or prepares it through the server's
// database.
func fixture(ctx context.Context, o *options, log *slog.Logger) (*loadgen.Fixture, error) {
	if o.fixture != "" && fileExists(o.fixture) {
		log.Info("load: reusing prepared users", "fixture", o.fixture)
		return loadgen.LoadFixture(o.fixture)
	}
	if o.data == "" {
		return nil, errors.New("to prepare users give --data, the running server's data folder (its database and file store), " +
			"or --fixture FILE from an earlier run")
	}
	db, err := boot.OpenDatabase(ctx, os.Getenv(boot.EnvDatabaseURL), o.data, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = db.Close(stopCtx) // a cluster the server started keeps running
	}()
	if err := migrations.Up(ctx, db.URL, log); err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, db.URL)
	if err != nil {
		return nil, fmt.Errorf("connect to the server's database: %w", err)
	}
	defer pool.Close()
	files, err := boot.FilesOption(boot.Config{DataDir: o.data}, log)
	if err != nil {
		return nil, err
	}
	svc := service.New(store.New(pool), service.DefaultConfig(), log, nil, files)
	if err := svc.LoadCalendar(ctx); err != nil {
		return nil, err
	}
	fx, err := loadgen.Prepare(ctx, svc, loadgen.Plan{Users: o.users, ExpertsShare: o.expertsShare, Log: log})
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	path := o.fixture
	if path == "" {
		path = filepath.Join(o.data, "load-fixture.json")
	}
	if err := fx.Save(path); err != nil {
		return nil, err
	}
	log.Info("load: prepared users saved", "fixture", path)
	if err := loadgen.Settle(ctx, svc, o.settle, log); err != nil {
		return nil, err
	}
	return fx, nil
}

// serverProc is a server process started for the run.
type serverProc struct {
	cmd     *exec.Cmd
	url     string
	logPath string
	done    chan error
}

// spawnServer starts `expertiza-server serve` on a free loopback port and
// waits until it answers /readyz.
func spawnServer(ctx context.Context, bin, data string, log *slog.Logger) (*serverProc, error) {
	if bin == "" {
		bin = "expertiza-server"
		if exe, err := os.Executable(); err == nil {
			if p := filepath.Join(filepath.Dir(exe), "expertiza-server"); fileExists(p) {
				bin = p
			}
		}
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("server binary %q not found (build it: go build -o bin/expertiza-server ./server/cmd/expertiza-server, or pass --server-bin): %w", bin, err)
	}
	if err := os.MkdirAll(data, 0o700); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(data, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "serve", "--data", data, "--listen", addr, "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", path, err)
	}
	p := &serverProc{cmd: cmd, url: "http://" + addr, logPath: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); logFile.Close() }()
	log.Info("load: server starting", "bin", path, "data", data, "url", p.url, "pid", cmd.Process.Pid)
	// A first start runs initdb: allow it minutes on a busy machine.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		if resp, err := http.Get(p.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			return nil, fmt.Errorf("the server exited while starting (%v); its log: %s", err, logPath)
		case <-ctx.Done():
			_ = p.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = p.stop()
			return nil, fmt.Errorf("the server did not answer /readyz within 3 minutes; its log: %s", logPath)
		}
	}
}

// stop asks the server to shut down (it stops its PostgreSQL too) and
// kills it if it does not within a minute.
func (p *serverProc) stop() error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("server exited with %v; its log: %s", err, p.logPath)
		}
		return nil
	case <-time.After(time.Minute):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("server did not stop within a minute after SIGTERM: killed")
	}
}

// commandLine is the command as it can be typed again.
func commandLine(args []string) string {
	parts := []string{"expertiza-loadgen"}
	for _, a := range args {
		if strings.ContainsAny(a, " \t'\"") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}
