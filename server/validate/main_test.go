package validate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"

	"github.com/expertiza/expertiza/sync/wire"
)

// workerEnv makes the test binary act as the PDF worker, the way the server
// binary does under its hidden "validate-worker" subcommand. The values
// other than "1" simulate workers that misbehave in ways no real file can be
// relied on to trigger.
const workerEnv = "EXPERTIZA_VALIDATE_WORKER"

func TestMain(m *testing.M) {
	switch os.Getenv(workerEnv) {
	case "":
	case "1":
		os.Exit(WorkerMain())
	case "hang": // pdfcpu looping forever on a crafted file
		fmt.Println(workerReady)
		_, _ = io.Copy(io.Discard, os.Stdin)
		time.Sleep(time.Hour)
		os.Exit(0)
	case "crash": // a panic where nothing can recover it
		fmt.Println(workerReady)
		go func() { panic("simulated crash outside the recovered call") }()
		time.Sleep(time.Hour)
		os.Exit(0)
	case "babble": // a worker from another build speaking another protocol
		fmt.Println(workerReady)
		fmt.Println("<pages>3</pages>")
		os.Exit(0)
	case "mute": // a misconfigured command: exits before the protocol starts
		fmt.Fprintln(os.Stderr, "unknown command \"validate-worker\"")
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "unknown", workerEnv)
		os.Exit(2)
	}
	// Fixture generation calls pdfcpu in this process; keep it from
	// creating a config directory in $HOME.
	api.DisableConfigDir()
	os.Exit(m.Run())
}

// testWorker re-executes the test binary as a worker in the given mode.
func testWorker(t testing.TB, mode string) WorkerCmd {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return func(ctx context.Context) *exec.Cmd {
		cmd := exec.CommandContext(ctx, exe, "-test.run=^$")
		// Under the race detector every process sleeps a second at exit
		// (ThreadSanitizer's atexit_sleep_ms); workers need not.
		race := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
		cmd.Env = append(os.Environ(), workerEnv+"="+mode, "GORACE="+race)
		return cmd
	}
}

// testLogger sends the validator's log to the test output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func newValidator(t testing.TB, l Limits, mode string) *Validator {
	return New(l, testLogger(t), testWorker(t, mode))
}

// writeFile writes b under dir and returns the path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// want is the expected outcome of Check: either acceptance (code empty) or
// a refusal with this code whose Russian text contains every fragment.
type want struct {
	code wire.Code
	ru   []string
}

func accepted() want { return want{} }

func refused(code wire.Code, ru ...string) want { return want{code: code, ru: ru} }

// checkOutcome asserts that err matches w, and that every refusal speaks
// both languages and names the file field.
func checkOutcome(t *testing.T, err error, w want) {
	t.Helper()
	if w.code == "" {
		if err != nil {
			t.Fatalf("want acceptance, got %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("want refusal %s %q, got acceptance", w.code, w.ru)
	}
	we, ok := wire.AsError(err)
	if !ok {
		t.Fatalf("want *wire.Error %s, got %T: %v", w.code, err, err)
	}
	if we.Code != w.code || we.Field != "file" {
		t.Fatalf("want code %s field file, got %s field %q: %s", w.code, we.Code, we.Field, we.Message)
	}
	if we.Message == "" || we.MessageEN == "" {
		t.Fatalf("refusal must be bilingual: ru %q en %q", we.Message, we.MessageEN)
	}
	for _, frag := range w.ru {
		if !strings.Contains(we.Message, frag) {
			t.Fatalf("refusal %q lacks %q", we.Message, frag)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a refusal must not wrap a context error: %v", err)
	}
}
