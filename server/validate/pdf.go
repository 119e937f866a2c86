package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// Reasons the parent finds when a worker dies without answering; the
// worker's own reasons are in worker.go.
const (
	reasonTimeout = "timeout"
	reasonMemory  = "memory"
	reasonCrash   = "crash"
)

const (
	// workerStdoutCap bounds what the parent keeps of a worker's answer:
	// 100,000 page sizes take about 3 MB of JSON.
	workerStdoutCap = 16 << 20
	// workerStderrCap bounds the diagnostic tail kept for the log.
	workerStderrCap = 16 << 10
)

// checkPDF runs the PDF worker on path and turns its answer, or its death,
// into a Result or a refusal.
func (v *Validator) checkPDF(ctx context.Context, path string, res Result) (Result, error) {
	if v.worker == nil {
		return res, errors.New("validate: no PDF worker command configured")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return res, fmt.Errorf("validate: %w", err)
	}
	select {
	case v.pdfSlots <- struct{}{}:
	case <-ctx.Done():
		return res, fmt.Errorf("validate: wait for a PDF worker: %w", ctx.Err())
	}
	defer func() { <-v.pdfSlots }()

	run, err := v.runWorker(ctx, workerRequest{Path: abs, MemoryBytes: v.lim.PDFMemoryBytes, TimeoutMillis: v.lim.PDFTimeout.Milliseconds()})
	if err != nil {
		return res, err
	}
	v.log.DebugContext(ctx, "validate: PDF worker finished", "took", run.elapsed, "exit", run.exit)
	if run.resp == nil {
		// The worker ran but died without an answer: the file did it.
		reason := reasonCrash
		switch {
		case run.timedOut:
			reason = reasonTimeout
		case outOfMemory(run.stderr):
			reason = reasonMemory
		}
		v.log.WarnContext(ctx, "validate: PDF worker died on a file", "reason", reason, "exit", run.exit,
			"took", run.elapsed, "stderr", firstLines(run.stderr, 4))
		return res, v.refusePDF(reason, "", 0, abs)
	}
	if r := run.resp; r.Refusal == reasonIO {
		return res, fmt.Errorf("validate: PDF worker could not read the file: %s", r.Detail)
	}
	if r := run.resp; r.Refusal != "" {
		if r.Refusal == reasonPanic {
			v.log.WarnContext(ctx, "validate: pdfcpu panicked on a file", "detail", r.Detail, "stderr", firstLines(run.stderr, 12))
		}
		return res, v.refusePDF(r.Refusal, r.Detail, r.Page, abs)
	}
	if len(run.resp.Notes) > 0 {
		v.log.InfoContext(ctx, "validate: pdfcpu repaired a PDF it accepted", "notes", run.resp.Notes)
	}
	if !hasEOFMarker(abs) && !tailHas(abs, "startxref") {
		// Neither end marker: the file stops before its last
		// cross-reference section. pdfcpu rebuilds one by scanning the
		// objects, and whatever the cut took (a page's content, its fonts)
		// is silently missing: the experts would see blank pages.
		return res, refuseTruncatedPDF()
	}
	if r := run.resp; r.Pages <= 0 || len(r.PageSizes) != r.Pages {
		return res, fmt.Errorf("validate: PDF worker answered %d pages with %d sizes", r.Pages, len(r.PageSizes))
	}
	res.Pages = run.resp.Pages
	res.PageSizes = run.resp.PageSizes
	res.Encrypted = run.resp.Encrypted
	return res, nil
}

type workerRun struct {
	resp     *workerResponse // nil when the worker died without answering
	timedOut bool
	exit     string
	stderr   string
	elapsed  time.Duration // from start to exit
}

// workerStartTimeout bounds how long a worker may take to start and say it
// is ready. That time is not the file's: a worker that cannot start in time
// is the server's problem (an overloaded machine, a wrong command), so it
// gets its own generous limit, and PDFTimeout starts only at the ready line.
const workerStartTimeout = 30 * time.Second

// runWorker starts one worker, feeds it req and waits for it, killing it
// when it overruns. It returns an error (not a refusal) when the worker never
// got ready: a broken worker command must not be blamed on the user's file.
func (v *Validator) runWorker(ctx context.Context, req workerRequest) (workerRun, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := v.worker(wctx)
	if cmd == nil {
		return workerRun{}, errors.New("validate: the worker command is nil")
	}
	in, err := json.Marshal(req)
	if err != nil {
		return workerRun{}, fmt.Errorf("validate: encode worker request: %w", err)
	}
	stdout := &stdoutSink{cappedBuffer: cappedBuffer{max: workerStdoutCap}, ready: make(chan struct{})}
	stderr := &cappedBuffer{max: workerStderrCap, keepEnds: true}
	cmd.Stdin = bytes.NewReader(in)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if cmd.WaitDelay == 0 {
		// A grandchild holding the pipes open must not hold us.
		cmd.WaitDelay = 5 * time.Second
	}

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return workerRun{}, fmt.Errorf("validate: start PDF worker: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() error {
		cancel()
		_ = cmd.Process.Kill() // Wait reaps it
		return <-done
	}

	startTimer := time.NewTimer(workerStartTimeout)
	defer startTimer.Stop()
	var (
		ready      = stdout.ready
		deadline   <-chan time.Time
		waitErr    error
		timedOut   bool
		notStarted bool
	)
wait:
	for {
		select {
		case waitErr = <-done:
			break wait
		case <-ready:
			ready = nil
			startTimer.Stop()
			t := time.NewTimer(v.lim.PDFTimeout)
			defer t.Stop()
			deadline = t.C
		case <-deadline:
			timedOut = true
			waitErr = stop()
			break wait
		case <-startTimer.C:
			notStarted = true
			waitErr = stop()
			break wait
		case <-ctx.Done():
			waitErr = stop()
			break wait
		}
	}
	run := workerRun{elapsed: time.Since(start), stderr: stderr.String(), timedOut: timedOut}
	if cmd.ProcessState != nil {
		run.exit = cmd.ProcessState.String()
	} else if waitErr != nil {
		run.exit = waitErr.Error()
	}
	if ctx.Err() != nil {
		// The caller gave up (request cancelled, server stopping); that
		// says nothing about the file.
		return run, fmt.Errorf("validate: PDF worker: %w", ctx.Err())
	}

	out := stdout.Bytes()
	line, rest, _ := bytes.Cut(out, []byte("\n"))
	if string(line) != workerReady {
		if notStarted {
			return run, fmt.Errorf("validate: PDF worker did not get ready within %v", workerStartTimeout)
		}
		return run, fmt.Errorf("validate: PDF worker did not start (%s): stdout %q, stderr %q",
			run.exit, truncate(out, 200), lastLines(run.stderr, 8))
	}
	if stdout.overflow {
		return run, fmt.Errorf("validate: PDF worker answered more than %d bytes", workerStdoutCap)
	}
	if waitErr != nil {
		// Died on the file (killed at the deadline, out of memory,
		// crashed); the caller words the refusal. A worker that exited
		// cleanly just as the deadline fired still has its answer read.
		return run, nil
	}
	var resp workerResponse
	dec := json.NewDecoder(bytes.NewReader(rest))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		return run, fmt.Errorf("validate: PDF worker answer: %w", err)
	}
	run.resp = &resp
	return run, nil
}

// stdoutSink collects a worker's stdout and closes ready once its first
// line is the ready line. exec's copying goroutine is its only writer.
type stdoutSink struct {
	cappedBuffer
	ready    chan struct{}
	signaled bool
}

func (s *stdoutSink) Write(p []byte) (int, error) {
	n, err := s.cappedBuffer.Write(p)
	if !s.signaled {
		if line, _, ok := bytes.Cut(s.cappedBuffer.Bytes(), []byte("\n")); ok {
			s.signaled = true
			if string(line) == workerReady {
				close(s.ready)
			}
		}
	}
	return n, err
}

// refusePDF words a worker's verdict. abs is read to tell a cut-off upload
// from other damage.
func (v *Validator) refusePDF(reason, detail string, page int, abs string) *wire.Error {
	secs := int(v.lim.PDFTimeout.Round(time.Second) / time.Second)
	memRU, memEN := mb(v.lim.PDFMemoryBytes)
	const resaveRU = "пересохраните его из исходной программы (или через «Печать в PDF») и загрузите снова"
	const resaveEN = "re-save it from the program that made it (or print it to PDF) and upload it again"
	switch reason {
	case reasonTimeout:
		return refuse(wire.CodeInvalid,
			fmt.Sprintf("PDF не удалось разобрать за %d с: возможно, файл повреждён или специально сформирован; %s", secs, resaveRU),
			fmt.Sprintf("The PDF could not be parsed within %d s: it may be damaged or crafted; %s", secs, resaveEN))
	case reasonMemory:
		return refuse(wire.CodeInvalid,
			fmt.Sprintf("Для разбора PDF не хватило %s памяти: возможно, файл повреждён или специально сформирован; %s", memRU, resaveRU),
			fmt.Sprintf("Parsing the PDF needed more than %s of memory: it may be damaged or crafted; %s", memEN, resaveEN))
	case reasonCrash, reasonPanic:
		return refuse(wire.CodeInvalid,
			"Разбор PDF аварийно завершился на этом файле: возможно, он повреждён или специально сформирован; "+resaveRU,
			"Parsing the PDF crashed on this file: it may be damaged or crafted; "+resaveEN)
	case reasonPassword:
		return refuse(wire.CodeInvalid,
			"PDF защищён паролем на открытие, и его нельзя проверить и показать экспертам: снимите пароль (сохраните копию без защиты в программе, где он установлен) и загрузите снова",
			"The PDF is protected with an open password, so it cannot be checked or shown to the experts: remove the password (save an unprotected copy in the program that set it) and upload it again")
	case reasonEncryption:
		return refuse(wire.CodeInvalid,
			"PDF зашифрован способом, который сервер не поддерживает (например, сертификатом): снимите защиту и загрузите снова",
			fmt.Sprintf("The PDF is encrypted in a way the server does not support (%s): remove the protection and upload it again", detail))
	case reasonLimit:
		return refuse(wire.CodeInvalid,
			"PDF устроен слишком сложно (превышены пределы вложенности или размеров внутренних объектов): возможно, он повреждён или специально сформирован; "+resaveRU,
			fmt.Sprintf("The PDF is too complex (%s): it may be damaged or crafted; %s", detail, resaveEN))
	case reasonBomb:
		capRU, capEN := mb(pdfStreamCap)
		return refuse(wire.CodeInvalid,
			fmt.Sprintf("PDF содержит сжатые данные, которые распаковываются в объём больше заявленного или больше %s: так устроены «zip-бомбы», а их показ исчерпывает память; %s", capRU, resaveRU),
			fmt.Sprintf("The PDF holds compressed data that inflates beyond its declared size or beyond %s (%s): that is how zip bombs are built, and showing them exhausts memory; %s", capEN, detail, resaveEN))
	case reasonBigImage:
		return refuse(wire.CodeInvalid,
			"PDF содержит изображение больше гигапикселя: отсканируйте с разрешением 300–600 dpi и сохраните PDF заново",
			fmt.Sprintf("The PDF holds an image of more than a gigapixel (%s): scan at 300–600 dpi and save the PDF again", detail))
	case reasonBadPage:
		return refuse(wire.CodeInvalid,
			fmt.Sprintf("В PDF повреждена страница %d: она не читается, и эксперты увидели бы пустой лист; %s", page, resaveRU),
			fmt.Sprintf("Page %d of the PDF is damaged (%s): it cannot be read and the experts would see a blank sheet; %s", page, detail, resaveEN))
	case reasonNoPages:
		return refuse(wire.CodeInvalid,
			"В PDF нет ни одной страницы: "+resaveRU,
			"The PDF has no pages: "+resaveEN)
	case reasonTooManyPgs:
		return refuse(wire.CodeInvalid,
			fmt.Sprintf("В PDF больше %d страниц: разделите документ на части и загрузите их по отдельности", pdfMaxPages),
			fmt.Sprintf("The PDF has more than %d pages (%s): split the document and upload the parts separately", pdfMaxPages, detail))
	}
	if !hasEOFMarker(abs) {
		return refuseTruncatedPDF()
	}
	return refuse(wire.CodeInvalid,
		"PDF повреждён или не соответствует стандарту и не читается: "+resaveRU,
		fmt.Sprintf("The PDF is damaged or does not follow the standard (%s): %s", detail, resaveEN))
}

func refuseTruncatedPDF() *wire.Error {
	return refuse(wire.CodeInvalid,
		"PDF обрезан: в конце файла нет маркера %%EOF — вероятно, он сохранён или загружен не полностью; загрузите файл заново, а если ошибка повторится, "+
			"пересохраните его из исходной программы (или через «Печать в PDF») и загрузите снова",
		"The PDF is cut off: it lacks the %%EOF marker at its end — it was probably saved or uploaded incompletely; upload it again, and if that fails, "+
			"re-save it from the program that made it (or print it to PDF) and upload it again")
}

// hasEOFMarker reports whether the last KiB of the file holds "%%EOF";
// writers may append a line break or a few bytes after it.
func hasEOFMarker(path string) bool { return tailHas(path, "%%EOF") }

// tailHas reports whether the last KiB of the file holds marker (true when
// the file cannot be read: do not claim truncation).
func tailHas(path, marker string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true // cannot tell; do not claim truncation
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return true
	}
	n := min(st.Size(), 1024)
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, st.Size()-n); err != nil {
		return true
	}
	return bytes.Contains(buf, []byte(marker))
}

// outOfMemory recognises how a worker dies at its address-space cap: the Go
// runtime's "fatal error: out of memory" (or a failed mmap it reports), and
// under the race detector ThreadSanitizer's failed shadow allocation.
func outOfMemory(stderr string) bool {
	for _, s := range []string{"out of memory", "cannot allocate memory", "failed to allocate", "errno: 12", "address space collisions"} {
		if strings.Contains(stderr, s) {
			return true
		}
	}
	return false
}

// cappedBuffer keeps at most max bytes of a stream: the first ones, or with
// keepEnds the first and the last max/2 (a Go crash prints "fatal error: …"
// first and goroutine stacks after it; both ends matter). It is written by
// exec's copying goroutine and read after Wait; the mutex keeps it safe
// regardless.
type cappedBuffer struct {
	mu       sync.Mutex
	head     []byte
	tail     []byte
	max      int
	keepEnds bool
	overflow bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(p)
	limit := c.max
	if c.keepEnds {
		limit = c.max / 2
	}
	if room := limit - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	c.overflow = true
	if c.keepEnds {
		c.tail = append(c.tail, p...)
		if len(c.tail) > limit {
			c.tail = append(c.tail[:0], c.tail[len(c.tail)-limit:]...)
		}
	}
	return n, nil
}

func (c *cappedBuffer) Bytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tail) == 0 {
		return slices.Clone(c.head)
	}
	return slices.Concat(c.head, []byte("\n[…]\n"), c.tail)
}

func (c *cappedBuffer) String() string { return string(c.Bytes()) }

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// firstLines returns the first n non-empty lines of s, for logs: where a
// crash says what happened.
func firstLines(s string, n int) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
		if len(out) == n {
			break
		}
	}
	return strings.Join(out, "\n")
}

// lastLines returns the last n lines of s, for logs.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
