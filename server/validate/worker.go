package validate

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"time"
)

// The PDF worker protocol. The parent writes one workerRequest as JSON to the
// worker's stdin. The worker caps its memory, prints workerReady as its first
// line on stdout (so the parent can tell "the worker never ran" — a
// misconfigured command, an internal error — from "the worker died on this
// file", a refusal), analyses the file and prints one workerResponse as JSON.
// Exit code 0 means a response was written, whatever it says; 3 means the
// request or the environment was unusable; a crash exits 2 (Go runtime) or by
// a signal.

const workerReady = "expertiza-validate-worker/1 ready"

type workerRequest struct {
	Path        string `json:"path"`
	MemoryBytes int64  `json:"memory_bytes"`
	// TimeoutMillis is the parent's deadline; the worker ends itself a
	// little after it, so a worker whose parent died cannot spin forever.
	TimeoutMillis int64 `json:"timeout_ms"`
}

// workerGrace is how long a worker outlives its parent's deadline before it
// ends itself; the parent normally kills it first.
const workerGrace = 5 * time.Second

// Reasons a worker refuses a PDF (workerResponse.Refusal).
const (
	reasonPassword   = "password"   // opening needs a user password
	reasonEncryption = "encryption" // an encryption pdfcpu cannot open (certificates, unknown handler)
	reasonMalformed  = "malformed"  // pdfcpu cannot read or validate it
	reasonLimit      = "limit"      // a pdfcpu resource limit (nesting, object counts, stream sizes)
	reasonBomb       = "bomb"       // a stream inflates beyond what any real page needs
	reasonBigImage   = "bigimage"   // an image declares more pixels than any scan needs
	reasonNoPages    = "nopages"
	reasonBadPage    = "badpage" // pdfcpu could not read a page (it would show it blank)
	reasonTooManyPgs = "pages"
	reasonPanic      = "panic" // pdfcpu panicked; recovered
	reasonIO         = "io"    // the worker could not read the file: the server's problem, not a refusal
)

type workerResponse struct {
	Pages     int        `json:"pages"`
	PageSizes []PageSize `json:"page_sizes,omitempty"`
	Encrypted bool       `json:"encrypted,omitempty"`
	Refusal   string     `json:"refusal,omitempty"`
	Detail    string     `json:"detail,omitempty"` // English, technical; for the log and the English message
	Page      int        `json:"page,omitempty"`   // the damaged page of reasonBadPage, 1-based
	// Notes are pdfcpu's repairs of an accepted file, for the log.
	Notes []string `json:"notes,omitempty"`
}

// WorkerMain is the body of the PDF worker process: the server binary calls
// it from its hidden "validate-worker" subcommand and exits with its result.
// It reads a request from stdin and writes the answer to stdout; see the
// protocol above. Nothing else should run in that process: it limits its own
// address space.
func WorkerMain() int {
	return runWorker(os.Stdin, os.Stdout, os.Stderr, workerDeps{limit: limitProcess, exit: os.Exit, grace: workerGrace, analyze: analyzePDF})
}

// workerDeps are the process-wide effects of a worker, injected so the
// protocol can be tested in-process.
type workerDeps struct {
	limit   func(memoryBytes int64) error
	exit    func(code int)
	grace   time.Duration // see workerGrace
	analyze func(workerRequest) workerResponse
}

// limitProcess applies the worker's resource caps to the whole process.
func limitProcess(memoryBytes int64) error {
	// Fail closed: without the hard cap a crafted PDF could take the
	// machine's memory.
	if err := capMemory(memoryBytes); err != nil {
		return err
	}
	// Deep recursion should die quickly with a clear crash, not after
	// growing a gigabyte of stack.
	debug.SetMaxStack(128 << 20)
	return nil
}

// runWorker is WorkerMain with its process-wide effects injected.
func runWorker(stdin io.Reader, stdout, stderr io.Writer, deps workerDeps) int {
	var req workerRequest
	dec := json.NewDecoder(io.LimitReader(stdin, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Path == "" || req.MemoryBytes <= 0 {
		fmt.Fprintf(stderr, "validate-worker: bad request (%v)\n", err)
		return 3
	}
	if err := deps.limit(req.MemoryBytes); err != nil {
		fmt.Fprintf(stderr, "validate-worker: cannot limit the process: %v\n", err)
		return 3
	}
	if req.TimeoutMillis > 0 {
		// Timers fire even while pdfcpu loops: goroutines are preempted.
		t := time.AfterFunc(time.Duration(req.TimeoutMillis)*time.Millisecond+deps.grace, func() {
			fmt.Fprintln(stderr, "validate-worker: deadline passed without a parent to stop us; exiting")
			deps.exit(4)
		})
		defer t.Stop()
	}
	fmt.Fprintln(stdout, workerReady)
	resp := guarded(deps.analyze, req, stderr)
	if err := json.NewEncoder(stdout).Encode(resp); err != nil {
		fmt.Fprintf(stderr, "validate-worker: write response: %v\n", err)
		return 3
	}
	return 0
}

// guarded turns a panic of the analysis (pdfcpu panics on some crafted
// files) into a refusal; the stack goes to stderr, which the parent logs.
func guarded(analyze func(workerRequest) workerResponse, req workerRequest, stderr io.Writer) (resp workerResponse) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "validate-worker: recovered panic: %v\n%s", r, debug.Stack())
			resp = workerResponse{Refusal: reasonPanic, Detail: fmt.Sprint(r)}
		}
	}()
	return analyze(req)
}
