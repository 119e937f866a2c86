package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

func TestRunWorkerProtocol(t *testing.T) {
	ok := func(workerRequest) workerResponse {
		return workerResponse{Pages: 1, PageSizes: []PageSize{{W: 595, H: 842}}}
	}
	panics := func(workerRequest) workerResponse { panic("pdfcpu: index out of range") }
	noLimit := func(int64) error { return nil }
	cases := []struct {
		name     string
		stdin    string
		limit    func(int64) error
		analyze  func(workerRequest) workerResponse
		code     int
		ready    bool
		response workerResponse
	}{
		{name: "answer", stdin: `{"path":"/x.pdf","memory_bytes":1024}`, limit: noLimit, analyze: ok,
			code: 0, ready: true, response: workerResponse{Pages: 1, PageSizes: []PageSize{{W: 595, H: 842}}}},
		{name: "panic becomes a refusal", stdin: `{"path":"/x.pdf","memory_bytes":1024}`, limit: noLimit, analyze: panics,
			code: 0, ready: true, response: workerResponse{Refusal: reasonPanic, Detail: "pdfcpu: index out of range"}},
		{name: "malformed request", stdin: `{"path":`, limit: noLimit, analyze: ok, code: 3},
		{name: "unknown field", stdin: `{"path":"/x.pdf","memory_bytes":1024,"x":1}`, limit: noLimit, analyze: ok, code: 3},
		{name: "no memory budget", stdin: `{"path":"/x.pdf"}`, limit: noLimit, analyze: ok, code: 3},
		{name: "cannot limit the process", stdin: `{"path":"/x.pdf","memory_bytes":1024}`,
			limit: func(int64) error { return errors.New("setrlimit: operation not permitted") }, analyze: ok, code: 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			deps := workerDeps{limit: tc.limit, analyze: tc.analyze, exit: func(int) { t.Error("the worker ended itself") }}
			code := runWorker(strings.NewReader(tc.stdin), &stdout, &stderr, deps)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", code, tc.code, stderr.String())
			}
			line, rest, _ := bytes.Cut(stdout.Bytes(), []byte("\n"))
			if gotReady := string(line) == workerReady; gotReady != tc.ready {
				t.Fatalf("ready line %v, want %v: %q", gotReady, tc.ready, stdout.String())
			}
			if !tc.ready {
				return
			}
			var resp workerResponse
			if err := json.Unmarshal(rest, &resp); err != nil {
				t.Fatalf("response %q: %v", rest, err)
			}
			if resp.Refusal != tc.response.Refusal || resp.Detail != tc.response.Detail || resp.Pages != tc.response.Pages ||
				len(resp.PageSizes) != len(tc.response.PageSizes) {
				t.Fatalf("response %+v, want %+v", resp, tc.response)
			}
		})
	}
}

// TestWorkerEndsItself: a worker whose parent is gone must not outlive the
// deadline it was given, even while the analysis is stuck.
func TestWorkerEndsItself(t *testing.T) {
	exited := make(chan int, 1)
	deps := workerDeps{
		limit: func(int64) error { return nil },
		exit:  func(code int) { exited <- code },
		grace: 0,
		analyze: func(workerRequest) workerResponse {
			<-exited // stuck until the self-destruct fires
			exited <- 4
			return workerResponse{}
		},
	}
	var stdout, stderr bytes.Buffer
	runWorker(strings.NewReader(`{"path":"/x.pdf","memory_bytes":1024,"timeout_ms":1}`), &stdout, &stderr, deps)
	if code := <-exited; code != 4 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(stderr.String(), "deadline passed") {
		t.Fatalf("stderr %q", stderr.String())
	}
}

// TestWorkerFailures drives the parent against workers that hang, crash,
// never start or babble: the first two are the file's fault (refusals), the
// others the server's (errors), and the test process survives all of them.
func TestWorkerFailures(t *testing.T) {
	dir := t.TempDir()
	pdf := filepath.Join(dir, "doc.pdf")
	makePDF(t, pdf, 1, "A4P", false)
	short := DefaultLimits()
	short.PDFTimeout = time.Second

	cases := []struct {
		name     string
		mode     string
		want     want
		internal string // substring of a non-refusal error
	}{
		{name: "hangs past the timeout", mode: "hang", want: refused(wire.CodeInvalid, "не удалось разобрать за 1 с", "пересохраните")},
		{name: "crashes", mode: "crash", want: refused(wire.CodeInvalid, "аварийно завершился")},
		{name: "never starts", mode: "mute", internal: "did not start"},
		{name: "babbles", mode: "babble", internal: "worker answer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newValidator(t, short, tc.mode).Check(context.Background(), pdf, "doc.pdf")
			if tc.internal != "" {
				if err == nil || !strings.Contains(err.Error(), tc.internal) {
					t.Fatalf("want an internal error with %q, got %v", tc.internal, err)
				}
				if _, isRefusal := wire.AsError(err); isRefusal {
					t.Fatalf("a broken worker must not be blamed on the file: %v", err)
				}
				return
			}
			checkOutcome(t, err, tc.want)
		})
	}

	t.Run("no worker configured", func(t *testing.T) {
		_, err := New(DefaultLimits(), testLogger(t), nil).Check(context.Background(), pdf, "doc.pdf")
		if err == nil {
			t.Fatal("want an error")
		}
		if _, isRefusal := wire.AsError(err); isRefusal {
			t.Fatalf("missing configuration must not be blamed on the file: %v", err)
		}
	})

	t.Run("file gone before the worker reads it", func(t *testing.T) {
		gone := filepath.Join(dir, "gone.pdf")
		makePDF(t, gone, 1, "A4P", false)
		real := testWorker(t, "1")
		v := New(DefaultLimits(), testLogger(t), func(wctx context.Context) *exec.Cmd {
			if err := os.Remove(gone); err != nil {
				t.Error(err)
			}
			return real(wctx)
		})
		_, err := v.Check(context.Background(), gone, "doc.pdf")
		if err == nil || !strings.Contains(err.Error(), "could not read") {
			t.Fatalf("want an internal error, got %v", err)
		}
		if _, isRefusal := wire.AsError(err); isRefusal {
			t.Fatalf("the server losing a file is not the user's fault: %v", err)
		}
	})

	t.Run("caller cancels while the worker runs", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		hang := testWorker(t, "hang")
		v := New(DefaultLimits(), testLogger(t), func(wctx context.Context) *exec.Cmd {
			cancel() // the upload request goes away as the worker starts
			return hang(wctx)
		})
		_, err := v.Check(ctx, pdf, "doc.pdf")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("want context.Canceled, got %v", err)
		}
		if _, isRefusal := wire.AsError(err); isRefusal {
			t.Fatalf("a cancelled request is not a refusal: %v", err)
		}
	})

	t.Run("concurrent checks share the worker slots", func(t *testing.T) {
		l := DefaultLimits()
		l.PDFWorkers = 1
		v := newValidator(t, l, "1")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				res, err := v.Check(context.Background(), pdf, "doc.pdf")
				if err == nil && res.Pages != 1 {
					err = errors.New("wrong page count")
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("check %d: %v", i, err)
			}
		}
	})
}

func TestCappedBuffer(t *testing.T) {
	cases := []struct {
		name     string
		max      int
		ends     bool
		writes   []string
		want     string
		overflow bool
	}{
		{name: "fits", max: 10, writes: []string{"abc", "def"}, want: "abcdef"},
		{name: "head only", max: 4, writes: []string{"abc", "def"}, want: "abcd", overflow: true},
		{name: "both ends", max: 8, ends: true, writes: []string{"fatal", " error: out of memory", " tail"}, want: "fata\n[…]\ntail", overflow: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &cappedBuffer{max: tc.max, keepEnds: tc.ends}
			for _, w := range tc.writes {
				if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("write %q: %d, %v", w, n, err)
				}
			}
			if got := c.String(); got != tc.want || c.overflow != tc.overflow {
				t.Fatalf("got %q overflow %v, want %q overflow %v", got, c.overflow, tc.want, tc.overflow)
			}
		})
	}
}
