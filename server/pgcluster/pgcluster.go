// Package pgcluster runs a private PostgreSQL cluster from the machine's PostgreSQL
// binaries, reachable only through a Unix socket: the server's storage when no
// database URL is configured.
package pgcluster

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

const (
	superuser = "expertiza"
	port      = "5432"
	// sun_path holds 108 bytes on Linux and 104 on macOS; stay clear of both.
	maxSocketPath = 100
	socketName    = ".s.PGSQL." + port
	confName      = "expertiza.conf"
)

// Options configure Start.
type Options struct {
	// Dir holds the cluster: pgdata (data directory), run (socket directory), pgpass
	// (the superuser password, libpq passfile format) and postgres.log.
	Dir string
	// BinDir holds initdb, pg_ctl and postgres; empty means FindBinDir.
	BinDir string
	// Database is created when missing; default "expertiza".
	Database string
	// FastUnsafe turns durability off (fsync, synchronous_commit, full_page_writes):
	// for tests only, as a machine crash can then corrupt the cluster.
	FastUnsafe bool
	Logger     *slog.Logger
}

// Cluster is a PostgreSQL cluster started by Start.
type Cluster struct {
	log      *slog.Logger
	binDir   string
	dir      string
	dataDir  string
	sockDir  string
	database string
	password string
	fast     bool
	// uid and gid run the PostgreSQL processes; switchUser is set when we are root,
	// which initdb and postgres refuse to be.
	uid, gid   int
	switchUser bool

	mu      sync.Mutex
	running bool
	// shared is set when another live process of ours started the server
	// (`serve` is running while an admin runs `user add`): we use it and
	// leave it running on Stop.
	shared bool
}

// Start creates the cluster in o.Dir unless it exists, starts it, and creates
// o.Database when missing. A server that did not shut down cleanly (killed, power
// loss) recovers from its WAL.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	began := time.Now()
	c, fresh, err := newCluster(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("embedded PostgreSQL in %q: %w", o.Dir, err)
	}
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	c.log.Info("PostgreSQL cluster ready", "data", c.dataDir, "socket_dir", c.sockDir, "bin", c.binDir,
		"initdb", fresh, "took", time.Since(began).Round(time.Millisecond))
	return c, nil
}

func newCluster(ctx context.Context, o Options) (c *Cluster, fresh bool, err error) {
	if o.Dir == "" {
		return nil, false, errors.New("Options.Dir is empty")
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, false, err
	}
	// pg_ctl hands the data directory and the log file to /bin/sh inside double quotes.
	if strings.ContainsAny(dir, "\"$`\\\n") {
		return nil, false, errors.New(`the folder name contains one of " $ ` + "`" + ` \ or a newline, which pg_ctl cannot pass on: choose another folder`)
	}
	c = &Cluster{
		log:      o.Logger,
		dir:      dir,
		dataDir:  filepath.Join(dir, "pgdata"),
		database: cmp.Or(o.Database, "expertiza"),
		fast:     o.FastUnsafe,
		uid:      os.Getuid(),
		gid:      os.Getgid(),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, err
	}
	version, err := c.dataVersion()
	if err != nil {
		return nil, false, err
	}
	fresh = version == ""
	if c.binDir, err = resolveBinDir(ctx, o.BinDir, version); err != nil {
		return nil, false, err
	}
	if err := c.chooseAccount(!fresh); err != nil {
		return nil, false, err
	}
	if err := c.makeReachable(); err != nil {
		return nil, false, err
	}
	c.sockDir = c.socketDir()
	if fresh {
		err = c.initdb(ctx)
	} else {
		c.password, err = readPassword(c.passFile())
	}
	return c, fresh, err
}

// URL returns the connection URL of Options.Database. It holds the superuser
// password: never log it.
func (c *Cluster) URL() string { return c.URLFor(c.database) }

// URLFor returns the connection URL of database db, in the form pgx and libpq
// (psql, pg_dump) both accept. It holds the superuser password: never log it.
func (c *Cluster) URLFor(db string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(superuser, c.password),
		Path:     "/" + db,
		RawQuery: url.Values{"host": {c.sockDir}, "port": {port}}.Encode(),
	}
	return u.String()
}

// BinDir returns the directory of the PostgreSQL binaries in use (pg_dump is there).
func (c *Cluster) BinDir() string { return c.binDir }

// DataDir returns the data directory; postmaster.pid there names the running server.
func (c *Cluster) DataDir() string { return c.dataDir }

// Start starts a stopped cluster again with the options it was created with; fault
// tests use it after Stop or after killing the server. Starting a running cluster
// does nothing.
func (c *Cluster) Start(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		if pid, err := readPID(c.pidFile()); err == nil && c.postmasterAlive(pid) {
			return nil
		}
		c.running = false // killed behind our back
	}
	if err := c.start(ctx); err != nil {
		return fmt.Errorf("start PostgreSQL in %s: %w", c.dataDir, err)
	}
	return nil
}

// Stop shuts the cluster down, rolling back open transactions (pg_ctl stop -m fast).
// Stopping a stopped cluster does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.running {
		return nil
	}
	if c.shared {
		c.running = false
		c.log.Info("left PostgreSQL running for the process that started it", "data", c.dataDir)
		return nil
	}
	if err := c.stop(ctx); err != nil {
		return fmt.Errorf("stop PostgreSQL in %s: %w", c.dataDir, err)
	}
	c.running = false
	if !c.ownSocketDir() {
		_ = os.Remove(c.sockDir) // best effort: tidies /tmp, recreated by the next start
	}
	return nil
}

func (c *Cluster) start(ctx context.Context) error {
	if err := c.prepareSocketDir(); err != nil {
		return err
	}
	if ok, err := c.attach(ctx); ok || err != nil {
		return err
	}
	if err := c.clearStale(ctx); err != nil {
		return err
	}
	if err := c.writeConf(); err != nil {
		return err
	}
	if err := c.prepareLog(); err != nil {
		return err
	}
	out, err := c.run(ctx, "pg_ctl", "start", "-w", "-s", "-t", waitSeconds(ctx), "-D", c.dataDir, "-l", c.logFile())
	if err != nil {
		return fmt.Errorf("pg_ctl start: %w: %s\n%s ends with:\n%s", err, bytes.TrimSpace(out), c.logFile(), logTail(c.logFile()))
	}
	c.running = true
	if err := os.WriteFile(c.ownerFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		c.log.Warn("cannot record the owner of the PostgreSQL server", "err", err)
	}
	if err := c.ensureDatabase(ctx); err != nil {
		if stopErr := c.stop(context.WithoutCancel(ctx)); stopErr != nil {
			return errors.Join(err, stopErr)
		}
		c.running = false
		return err
	}
	return nil
}

// attach uses a server that is already running and answering. When the
// process that started it is still alive (a `serve` while an admin command
// runs), the server is shared and left running on Stop; when that process
// is gone (it was killed), this process adopts the server.
func (c *Cluster) attach(ctx context.Context) (bool, error) {
	pid, err := readPID(c.pidFile())
	if err != nil || !c.postmasterAlive(pid) {
		return false, nil
	}
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(pctx, c.URLFor("postgres"))
	if err != nil {
		return false, nil // not answering: clearStale restarts it
	}
	_ = conn.Close(context.WithoutCancel(ctx))
	owner, err := readPID(c.ownerFile())
	if err == nil && owner != os.Getpid() && processExists(owner) {
		c.shared = true
		c.log.Info("using the PostgreSQL server started by another process", "owner_pid", owner, "pid", pid)
	} else {
		c.log.Info("adopting a PostgreSQL server left running by a process that ended", "pid", pid)
		if err := os.WriteFile(c.ownerFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
			return false, fmt.Errorf("record the owner of the PostgreSQL server: %w", err)
		}
	}
	c.running = true
	return true, c.ensureDatabase(ctx)
}

func (c *Cluster) ownerFile() string { return filepath.Join(c.dir, "owner.pid") }

// stop asks for a fast shutdown and waits until the postmaster is gone. pg_ctl's own
// wait would not end for a postmaster that was killed and left a zombie (see
// clearStale), so the wait is done here, watching the process as well.
func (c *Cluster) stop(ctx context.Context) error {
	pid, err := readPID(c.pidFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !c.postmasterAlive(pid) {
		return nil
	}
	out, runErr := c.run(ctx, "pg_ctl", "stop", "-W", "-s", "-m", "fast", "-D", c.dataDir)
	err = waitFor(ctx, 2*time.Minute, func() bool {
		_, err := os.Stat(c.pidFile())
		return errors.Is(err, fs.ErrNotExist) || !c.postmasterAlive(pid)
	})
	switch {
	case err == nil:
		c.log.Info("PostgreSQL cluster stopped", "data", c.dataDir, "pid", pid)
		return nil
	case runErr != nil:
		return fmt.Errorf("pg_ctl stop: %w: %s", runErr, bytes.TrimSpace(out))
	default:
		return fmt.Errorf("the server (pid %d) did not shut down: %w; see %s", pid, err, c.logFile())
	}
}

// clearStale deals with what a server that did not shut down cleanly leaves behind.
// PostgreSQL discards a postmaster.pid whose process is gone, but not one whose PID is
// a zombie (an init that is slow or never reaps orphans, as in containers) or was
// reused after a reboot, and refuses to start. On Linux the live server processes of
// the data directory are known exactly (clusterPIDs), so those cases are settled here.
func (c *Cluster) clearStale(ctx context.Context) error {
	pid, err := readPID(c.pidFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	live, ok := clusterPIDs(c.dataDir)
	if !ok {
		return nil
	}
	if slices.Contains(live, pid) {
		// It outlived the process that started it; restart it so that it runs with these Options.
		c.log.Warn("PostgreSQL from an earlier run is still running; restarting it", "pid", pid)
		if err := c.stop(ctx); err != nil {
			return err
		}
	}
	// The children of a killed postmaster exit on their own within moments; until
	// then they hold its shared memory and a new postmaster would refuse to start.
	if err := waitFor(ctx, 30*time.Second, func() bool { live, _ := clusterPIDs(c.dataDir); return len(live) == 0 }); err != nil {
		live, _ := clusterPIDs(c.dataDir)
		return fmt.Errorf("processes of an earlier PostgreSQL server still run in %s (pids %v), stop them: %w", c.dataDir, live, err)
	}
	if _, err := os.Stat(c.pidFile()); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	c.log.Warn("PostgreSQL did not shut down cleanly; removing its lock files, it will recover from its WAL", "pid", pid)
	sockLock := filepath.Join(c.sockDir, socketName+".lock")
	if lockPID, err := readPID(sockLock); err == nil && lockPID == pid {
		if err := os.Remove(sockLock); err != nil {
			return err
		}
	}
	if err := os.Remove(c.pidFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

func (c *Cluster) postmasterAlive(pid int) bool {
	live, ok := clusterPIDs(c.dataDir)
	if !ok {
		return processExists(pid)
	}
	return slices.Contains(live, pid)
}

// clusterPIDs lists the live PostgreSQL processes of dataDir: every server process
// works in its data directory, and a zombie has no working directory. ok is false
// where /proc cannot tell.
func clusterPIDs(dataDir string) (pids []int, ok bool) {
	want, err := os.Stat(dataDir)
	if err != nil {
		return nil, false
	}
	if _, err := os.Stat("/proc/self/cwd"); err != nil {
		return nil, false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, false
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil || !slices.Contains([]string{"postgres", "postmaster"}, strings.TrimSpace(string(comm))) {
			continue
		}
		if cwd, err := os.Stat(filepath.Join("/proc", e.Name(), "cwd")); err == nil && os.SameFile(cwd, want) {
			pids = append(pids, pid)
		}
	}
	return pids, true
}

// dataVersion returns the major version in PG_VERSION, "" when there is no cluster yet.
func (c *Cluster) dataVersion() (string, error) {
	b, err := os.ReadFile(filepath.Join(c.dataDir, "PG_VERSION"))
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	// An empty pgdata is harmless; anything else is not ours to overwrite.
	if err := os.Remove(c.dataDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s exists but is not a PostgreSQL data directory (no PG_VERSION): move it away", c.dataDir)
	}
	return "", nil
}

// chooseAccount picks who runs PostgreSQL when we are root: the owner of an existing
// data directory, else the postgres user of the distribution's package, else nobody.
func (c *Cluster) chooseAccount(existing bool) error {
	if os.Geteuid() != 0 {
		return nil
	}
	c.switchUser = true
	if existing {
		if fi, err := os.Stat(c.dataDir); err == nil {
			if uid, gid, ok := fileOwner(fi); ok && uid != 0 {
				c.uid, c.gid = uid, gid
				return nil
			}
		}
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.Atoi(u.Uid)
		gid, err2 := strconv.Atoi(u.Gid)
		if err1 != nil || err2 != nil {
			continue
		}
		c.uid, c.gid = uid, gid
		if !existing {
			return nil
		}
		c.log.Warn("the data directory belongs to root; handing it to the PostgreSQL user", "user", name)
		return filepath.WalkDir(c.dataDir, func(p string, _ fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		})
	}
	return errors.New("running as root, which PostgreSQL refuses, and neither the postgres nor the nobody user exists: install postgresql (it creates the postgres user) or run as an ordinary user")
}

// makeReachable lets the PostgreSQL user traverse every folder above its files: one
// made by os.MkdirTemp is 0700 and would stop the server at the door. Only the search
// bit for others is added; listing stays closed.
func (c *Cluster) makeReachable() error {
	if !c.switchUser {
		return nil
	}
	for p := c.dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !c.canSearch(fi) {
			mode := fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
			if err := os.Chmod(p, mode|0o001); err != nil {
				return fmt.Errorf("let the PostgreSQL user (uid %d) traverse %s: %w", c.uid, p, err)
			}
			c.log.Info("allowed others to traverse a folder so that PostgreSQL reaches its files", "path", p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func (c *Cluster) canSearch(fi fs.FileInfo) bool {
	uid, gid, ok := fileOwner(fi)
	perm := fi.Mode().Perm()
	switch {
	case !ok:
		return true
	case uid == c.uid:
		return perm&0o100 != 0
	case gid == c.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// socketDir returns Dir/run, or a short folder under /tmp named after Dir when the
// socket path would not fit sun_path or the name would split the server's list of
// socket directories.
func (c *Cluster) socketDir() string {
	d := filepath.Join(c.dir, "run")
	if len(d)+1+len(socketName) < maxSocketPath && !strings.Contains(d, ",") {
		return d
	}
	sum := sha256.Sum256([]byte(c.dir))
	short := fmt.Sprintf("/tmp/expertiza-pg-%x", sum[:6])
	c.log.Info("the socket path inside the data folder would be too long; using a short folder", "socket_dir", short)
	return short
}

func (c *Cluster) ownSocketDir() bool {
	return strings.HasPrefix(c.sockDir, c.dir+string(filepath.Separator))
}

func (c *Cluster) prepareSocketDir() error {
	err := os.Mkdir(c.sockDir, 0o700)
	created := err == nil
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create the socket directory: %w", err)
	}
	fi, err := os.Lstat(c.sockDir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket directory %s is not a directory: remove it", c.sockDir)
	}
	if uid, _, ok := fileOwner(fi); ok && !created && uid != c.uid {
		// A folder in /tmp made by someone else could be a trap.
		if !c.ownSocketDir() && uid != os.Geteuid() {
			return fmt.Errorf("socket directory %s belongs to uid %d, not to the PostgreSQL user (uid %d): remove it", c.sockDir, uid, c.uid)
		}
	}
	if err := c.chown(c.sockDir); err != nil {
		return err
	}
	return os.Chmod(c.sockDir, 0o700)
}

func (c *Cluster) initdb(ctx context.Context) error {
	tmp := c.dataDir + ".init"
	// An interrupted initdb leaves a worthless directory; it is renamed only when complete.
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	c.password = rand.Text()
	pwFile := filepath.Join(c.dir, ".initdb-password")
	if err := c.writeOwned(pwFile, c.password+"\n"); err != nil {
		return err
	}
	defer os.Remove(pwFile)
	args := []string{"-D", tmp, "-U", superuser, "--auth=scram-sha-256", "--pwfile=" + pwFile, "-E", "UTF8"}
	if c.fast {
		args = append(args, "--no-sync")
	}
	var failures []error
	// C.UTF-8 sorts like C and knows all of Unicode; systems without it get C.
	for _, locale := range []string{"C.UTF-8", "C"} {
		if err := os.RemoveAll(tmp); err != nil {
			return err
		}
		if err := os.Mkdir(tmp, 0o700); err != nil {
			return err
		}
		if err := c.chown(tmp); err != nil {
			return err
		}
		out, err := c.run(ctx, "initdb", append(args, "--locale="+locale)...)
		if err != nil {
			failures = append(failures, fmt.Errorf("initdb --locale=%s: %w: %s", locale, err, bytes.TrimSpace(out)))
			continue
		}
		// Our settings live in a file of their own, rewritten at every start;
		// postgresql.auto.conf (ALTER SYSTEM) is read after it and still wins.
		if err := appendFile(filepath.Join(tmp, "postgresql.conf"), "\ninclude_if_exists = '"+confName+"'\n"); err != nil {
			return err
		}
		if err := writePassFile(c.passFile(), c.password); err != nil {
			return err
		}
		c.log.Info("created PostgreSQL cluster", "data", c.dataDir, "locale", locale)
		return os.Rename(tmp, c.dataDir)
	}
	return errors.Join(failures...)
}

func (c *Cluster) writeConf() error {
	settings := [][2]string{
		{"listen_addresses", ""}, // Unix socket only: nothing is exposed to the network
		{"port", port},
		{"unix_socket_directories", c.sockDir},
		{"max_connections", "200"},
		{"shared_buffers", "128MB"},
	}
	if c.fast {
		settings = append(settings, [2]string{"fsync", "off"}, [2]string{"synchronous_commit", "off"}, [2]string{"full_page_writes", "off"})
	}
	var b strings.Builder
	b.WriteString("# Rewritten by Expertiza at every start: change settings with ALTER SYSTEM instead.\n")
	for _, s := range settings {
		fmt.Fprintf(&b, "%s = '%s'\n", s[0], strings.ReplaceAll(s[1], "'", "''"))
	}
	return c.writeOwned(filepath.Join(c.dataDir, confName), b.String())
}

// prepareLog creates the server log for pg_ctl, which opens it as the PostgreSQL user
// in a folder that user may not write to.
func (c *Cluster) prepareLog() error {
	f, err := os.OpenFile(c.logFile(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return c.chown(c.logFile())
}

func (c *Cluster) ensureDatabase(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.URLFor("postgres"))
	if err != nil {
		return fmt.Errorf("connect to the maintenance database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", c.database).Scan(&exists); err != nil {
		return fmt.Errorf("look up database %s: %w", c.database, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.database}.Sanitize())
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created meanwhile
		return nil
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", c.database, err)
	}
	c.log.Info("created database", "database", c.database)
	return nil
}

// run runs a PostgreSQL program as the cluster's user.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.dir
	// libpq and locale variables would leak into the server's defaults (PGPORT,
	// PGDATA…) and translate the messages we report.
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG")
	}), "LC_ALL=C")
	if c.switchUser {
		setCredential(cmd, c.uid, c.gid)
	}
	return cmd.CombinedOutput()
}

func (c *Cluster) chown(path string) error {
	if !c.switchUser {
		return nil
	}
	return os.Lchown(path, c.uid, c.gid)
}

// writeOwned atomically writes a 0600 file owned by the cluster's user.
func (c *Cluster) writeOwned(path, content string) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp) // a leftover would keep its old mode
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	if err := c.chown(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (c *Cluster) pidFile() string  { return filepath.Join(c.dataDir, "postmaster.pid") }
func (c *Cluster) passFile() string { return filepath.Join(c.dir, "pgpass") }
func (c *Cluster) logFile() string  { return filepath.Join(c.dir, "postgres.log") }

// writePassFile stores the password as a libpq passfile (PGPASSFILE) so that psql and
// pg_dump can use it too; it stays with the invoking user, as the server never reads it.
func writePassFile(path, password string) error {
	tmp := path + ".tmp"
	_ = os.Remove(tmp)
	if err := os.WriteFile(tmp, []byte("*:*:*:"+superuser+":"+password+"\n"), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func readPassword(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the superuser password: %w: restore the file, or move pgdata away to create a new cluster", err)
	}
	for line := range strings.Lines(string(b)) {
		f := strings.SplitN(strings.TrimSpace(line), ":", 5)
		if len(f) == 5 && f[3] == superuser {
			return f[4], nil
		}
	}
	return "", fmt.Errorf("%s has no password for %s: restore the file, or move pgdata away to create a new cluster", path, superuser)
}

// readPID reads the PID on the first line of a PostgreSQL lock file; a garbled file
// (a crash while it was written) gives 0, which no live process has.
func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid, nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(text)
	return errors.Join(err, f.Close())
}

// logTail returns the last lines of the server log, where the reason of a failed start is.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	const tail = 4096
	if fi, err := f.Stat(); err == nil && fi.Size() > tail {
		_, _ = f.Seek(-tail, io.SeekEnd) // on failure the head of the log is shown instead
	}
	b, _ := io.ReadAll(io.LimitReader(f, tail))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// waitSeconds is pg_ctl's -t: what is left of ctx, or a bound generous enough for
// crash recovery of a large cluster.
func waitSeconds(ctx context.Context) string {
	if d, ok := ctx.Deadline(); ok {
		return strconv.Itoa(max(1, int(math.Ceil(time.Until(d).Seconds()))))
	}
	return "600"
}

func waitFor(ctx context.Context, limit time.Duration, done func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !done() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}
