package pgcluster

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestLifecycle(t *testing.T) {
	tests := []struct {
		name string
		dir  func(t *testing.T) string
		// wantShortSocket: the socket moves to /tmp when Dir/run is too long for sun_path.
		wantShortSocket bool
	}{
		{"socket in data folder", func(t *testing.T) string { return t.TempDir() }, false},
		{"socket path too long", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), strings.Repeat("a-rather-long-folder-", 5))
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			dir := tt.dir(t)
			var logs bytes.Buffer
			opts := Options{Dir: dir, Database: "app", Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("cluster log:\n%s", logs.String())
				}
				if pids, _ := clusterPIDs(filepath.Join(dir, "pgdata")); len(pids) > 0 {
					t.Errorf("PostgreSQL processes left running: %v", pids)
				}
			})

			began := time.Now()
			c := start(t, opts)
			t.Logf("first start (initdb, start, create database): %v", time.Since(began))

			if short := strings.HasPrefix(c.sockDir, "/tmp/expertiza-pg-"); short != tt.wantShortSocket {
				t.Errorf("socket dir %s: short = %v, want %v", c.sockDir, short, tt.wantShortSocket)
			}
			if n := len(filepath.Join(c.sockDir, socketName)); n >= maxSocketPath {
				t.Errorf("socket path is %d bytes, want < %d", n, maxSocketPath)
			}
			checkOwner(t, filepath.Join(dir, "pgpass"), os.Geteuid(), 0o600)
			if os.Geteuid() == 0 {
				if fi, err := os.Stat(c.DataDir()); err != nil {
					t.Fatal(err)
				} else if uid, _, _ := fileOwner(fi); uid == 0 {
					t.Errorf("data directory owned by root")
				}
			}

			conn := connect(t, c.URL())
			for _, q := range []string{
				"CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)",
				"INSERT INTO notes VALUES (1, 'заключение'), (2, 'remark')",
			} {
				if _, err := conn.Exec(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			for q, want := range map[string]string{
				"SELECT current_database()":           "app",
				"SELECT current_user":                 superuser,
				"SHOW shared_buffers":                 "128MB",
				"SHOW max_connections":                "200",
				"SHOW listen_addresses":               "",
				"SHOW server_encoding":                "UTF8",
				"SELECT count(*)::text FROM notes":    "2",
				"SELECT body FROM notes WHERE id = 1": "заключение",
			} {
				var got string
				if err := conn.QueryRow(ctx, q).Scan(&got); err != nil || got != want {
					t.Errorf("%s = %q, %v; want %q", q, got, err, want)
				}
			}
			before, err := os.Stat(c.DataDir())
			if err != nil {
				t.Fatal(err)
			}

			for range 2 { // the second Stop must do nothing
				if err := c.Stop(ctx); err != nil {
					t.Fatalf("Stop: %v", err)
				}
			}
			if conn, err := pgx.Connect(ctx, c.URL()); err == nil {
				conn.Close(ctx)
				t.Fatal("connected to a stopped cluster")
			}

			began = time.Now()
			c = start(t, opts)
			t.Logf("second start: %v", time.Since(began))
			if after, err := os.Stat(c.DataDir()); err != nil || !os.SameFile(before, after) {
				t.Errorf("data directory was recreated (%v): initdb ran again", err)
			}
			wantNotes(t, c, 2)

			// A running server whose starter is gone is adopted, not restarted.
			c = start(t, opts)
			wantNotes(t, c, 2)
			if !strings.Contains(logs.String(), "adopting a PostgreSQL server") {
				t.Errorf("a start over a running cluster did not adopt it")
			}

			// A running server whose starter is alive (serve, while an admin
			// command runs) is shared and survives the admin command's Stop.
			other := exec.Command("sleep", "60")
			if err := other.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = other.Process.Kill(); _ = other.Wait() })
			if err := os.WriteFile(c.ownerFile(), []byte(strconv.Itoa(other.Process.Pid)+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			admin := start(t, opts)
			if err := admin.Stop(ctx); err != nil {
				t.Fatal(err)
			}
			if conn, err := pgx.Connect(ctx, c.URL()); err != nil {
				t.Fatalf("the shared server was stopped by a process that did not start it: %v", err)
			} else {
				conn.Close(ctx)
			}
			if err := os.WriteFile(c.ownerFile(), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}

			// kill -9 the postmaster, then start again with the same Cluster and with a new one.
			for _, restart := range []func() *Cluster{
				func() *Cluster {
					if err := c.Start(ctx); err != nil {
						t.Fatal(err)
					}
					return c
				},
				func() *Cluster { return start(t, opts) },
			} {
				pid, err := readPID(c.pidFile())
				if err != nil {
					t.Fatal(err)
				}
				p, err := os.FindProcess(pid)
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Kill(); err != nil {
					t.Fatalf("kill -9 %d: %v", pid, err)
				}
				// The signal lands asynchronously; until then the cluster counts as running.
				if err := waitFor(ctx, 10*time.Second, func() bool { return !c.postmasterAlive(pid) }); err != nil {
					t.Fatalf("postmaster %d outlived kill -9: %v", pid, err)
				}
				began = time.Now()
				c = restart()
				t.Logf("start after kill -9 (crash recovery): %v", time.Since(began))
				wantNotes(t, c, 2)
			}
			if !strings.Contains(logs.String(), "did not shut down cleanly") {
				t.Errorf("the start after kill -9 did not report the unclean shutdown")
			}
			if strings.Contains(logs.String(), c.password) {
				t.Errorf("the password appears in the log")
			}
		})
	}
}

func TestFindBinDir(t *testing.T) {
	found, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     string
		want    string
		wantErr string
	}{
		{"detected", "", found, ""},
		{"from environment", found, found, ""},
		{"environment without binaries", t.TempDir(), "", binEnv},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(binEnv, tt.env)
			got, err := FindBinDir()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FindBinDir() = %q, %v; want error mentioning %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("FindBinDir() = %q, %v; want %q", got, err, tt.want)
			}
			if err := checkBinDir(got); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMajorVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"15.18", "15"},
		{"16beta1", "16"},
		{"9.6.24", "9.6"},
		{"17", "17"},
	}
	for _, tt := range tests {
		if got := majorVersion(tt.in); got != tt.want {
			t.Errorf("majorVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestReadPassword(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pgpass")
	if err := writePassFile(path, "s3cret"); err != nil {
		t.Fatal(err)
	}
	checkOwner(t, path, os.Geteuid(), 0o600)
	if got, err := readPassword(path); err != nil || got != "s3cret" {
		t.Fatalf("readPassword = %q, %v", got, err)
	}
	if _, err := readPassword(path + ".missing"); err == nil {
		t.Fatal("readPassword of a missing file succeeded")
	}
}

func start(t *testing.T, o Options) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return c
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

func wantNotes(t *testing.T, c *Cluster, want int) {
	t.Helper()
	var n int
	if err := connect(t, c.URL()).QueryRow(t.Context(), "SELECT count(*) FROM notes").Scan(&n); err != nil || n != want {
		t.Fatalf("notes: %d rows, %v; want %d", n, err, want)
	}
}

func checkOwner(t *testing.T, path string, uid int, perm os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != perm {
		t.Errorf("%s: mode %v, want %v", path, fi.Mode().Perm(), perm)
	}
	if got, _, ok := fileOwner(fi); ok && got != uid {
		t.Errorf("%s: owner %d, want %d", path, got, uid)
	}
}
