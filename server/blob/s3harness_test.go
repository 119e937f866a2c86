package blob_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// The S3 tests run against a real S3 server on loopback: the Versity S3
// Gateway over a temporary folder, built by testdata/s3server.sh.
const (
	s3ServerVersion = "v1.8.0" // the script builds the same release
	s3ServerEnv     = "EXPERTIZA_S3_SERVER"
	// s3RequireEnv turns a missing server from a skip into a failure, for CI,
	// where a skip would hide a missing install step.
	s3RequireEnv = "EXPERTIZA_REQUIRE_S3"
	s3AccessKey  = "expertiza-test"
	s3SecretKey  = "expertiza-test-secret"
)

// s3Server is a running server and a client with root credentials.
type s3Server struct {
	endpoint string
	client   *minio.Client
	buckets  atomic.Int64
	stop     func() error
}

// harness is set by TestMain before any test runs and never changed after:
// the one package variable, as the server belongs to TestMain.
var harness struct {
	s3      *s3Server
	missing string // why there is no server, when s3 is nil
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	bin, missing := findS3Server()
	if bin == "" {
		if os.Getenv(s3RequireEnv) != "" {
			fmt.Fprintf(os.Stderr, "blob: %s (and %s is set)\n", missing, s3RequireEnv)
			return 1
		}
		harness.missing = missing
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	srv, err := startS3Server(ctx, bin)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "blob: start the S3 server %s: %v\n", bin, err)
		return 1
	}
	harness.s3 = srv
	code := m.Run()
	if err := srv.stop(); err != nil {
		fmt.Fprintf(os.Stderr, "blob: stop the S3 server: %v\n", err)
		code = cmp.Or(code, 1)
	}
	return code
}

// findS3Server returns the server binary, or why there is none.
func findS3Server() (bin, missing string) {
	install := "build it with `bash server/blob/testdata/s3server.sh` (about 2 minutes)"
	if p := os.Getenv(s3ServerEnv); p != "" {
		if isExecutable(p) {
			return p, ""
		}
		return "", fmt.Sprintf("%s=%s is not an executable file: %s", s3ServerEnv, p, install)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Sprintf("no S3 server (%v): %s, or set %s", err, install, s3ServerEnv)
	}
	p := filepath.Join(cache, "expertiza", "versitygw-"+s3ServerVersion, "versitygw")
	if isExecutable(p) {
		return p, ""
	}
	return "", fmt.Sprintf("no S3 server at %s: %s, or set %s", p, install, s3ServerEnv)
}

func isExecutable(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}

// s3Watchdog runs the server (its arguments after the folder) and waits for
// it. A second child waits for the end of stdin, which comes when the test
// binary exits in whatever way (stop, panic, timeout, kill), and then stops
// the server; the folder goes with it. Signals aimed at the terminal's
// process group (Ctrl-C) are ignored so that the clean-up still happens.
const s3Watchdog = `dir=$1; shift
exec 3<&0
"$@" </dev/null &
pid=$!
{ cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null; } &
exec 3<&-
trap '' HUP INT TERM
wait "$pid"
status=$?
rm -rf "$dir"
exit "$status"`

// startS3Server starts bin on a free loopback port and waits until it
// answers. The port is found by binding and closing it, so another process
// may take it first: the server then exits, and the next port is tried.
func startS3Server(ctx context.Context, bin string) (*s3Server, error) {
	var errs []error
	for range 3 {
		srv, err := tryS3Server(ctx, bin)
		if err == nil {
			return srv, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func tryS3Server(ctx context.Context, bin string) (_ *s3Server, err error) {
	dir, err := os.MkdirTemp("", "expertiza-s3-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	// Kept beside the folder, which the watchdog removes, so it can be shown
	// after a failed start.
	logPath := dir + ".log"
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	defer logFile.Close()
	defer os.Remove(logPath)
	port, err := freePort()
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	endpoint := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	cmd := exec.Command("/bin/sh", "-c", s3Watchdog, "s3-watchdog", dir,
		bin, "--access", s3AccessKey, "--secret", s3SecretKey, "--port", endpoint, "--quiet", "posix", data)
	// Files, not pipes: os/exec then starts no copying goroutines, which
	// Wait would otherwise hold for until every child closed them.
	cmd.Stdout, cmd.Stderr = logFile, logFile
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	if err := cmd.Start(); err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() error {
		// EOF on the watchdog's stdin stops the server.
		stdin.Close()
		if err := <-exited; err != nil {
			return fmt.Errorf("s3 server: %w", err)
		}
		return nil
	}

	client, err := minio.New(endpoint, &minio.Options{Creds: credentials.NewStaticV4(s3AccessKey, s3SecretKey, "")})
	if err != nil {
		return nil, errors.Join(err, stop())
	}
	for {
		_, err := client.ListBuckets(ctx)
		if err == nil {
			break
		}
		select {
		case werr := <-exited:
			stdin.Close() // ends the watchdog's waiting child
			log, _ := os.ReadFile(logPath)
			return nil, fmt.Errorf("s3 server on %s exited (%v): %s", endpoint, werr, log)
		case <-ctx.Done():
			log, _ := os.ReadFile(logPath)
			return nil, errors.Join(fmt.Errorf("s3 server on %s not answering: %w: %s", endpoint, err, log), stop())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return &s3Server{endpoint: endpoint, client: client, stop: stop}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// requireS3 returns the server, or skips the test naming the install step.
func requireS3(t *testing.T) *s3Server {
	t.Helper()
	if harness.s3 == nil {
		t.Skipf("S3 tests skipped: %s", harness.missing)
	}
	return harness.s3
}

// newBucket creates an empty bucket for one test; the server's folder,
// removed at the end of the run, takes it away.
func (s *s3Server) newBucket(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("expertiza-test-%d", s.buckets.Add(1))
	if err := s.client.MakeBucket(t.Context(), name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
	return name
}
