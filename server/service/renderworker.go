package service

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/server/store"
)

// renderWorker is what the document workers share — notice letters,
// contract documents, conclusions: each renders PDFs after the commit
// that asked for them, so a failed render never undoes or blocks the
// change. It merges wake-ups and makes the PDF engine on first use.
type renderWorker struct {
	kick      chan struct{} // capacity 1, so wake-ups merge
	fontCache string

	mu  sync.Mutex
	eng LetterRenderer // the configured renderer, or the engine made on first use
}

func newRenderWorker(r LetterRenderer, fontCache string) renderWorker {
	return renderWorker{kick: make(chan struct{}, 1), fontCache: fontCache, eng: r}
}

// wake asks the worker to look for due work now.
func (w *renderWorker) wake() {
	select {
	case w.kick <- struct{}{}:
	default: // already woken: it will see the new work too
	}
}

// renderer is the PDF engine, made once with the worker's font cache.
func (w *renderWorker) renderer(ctx context.Context) (LetterRenderer, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.eng == nil {
		eng, err := pdfdoc.New(ctx, w.fontCache)
		if err != nil {
			return nil, fmt.Errorf("prepare the PDF engine: %w", err)
		}
		w.eng = eng
	}
	return w.eng, nil
}

// loop runs once until ctx ends: when woken, on every poll, and when once
// asks to be called again sooner (retryIn > 0: the earliest failed render
// falls due then, so a retry does not wait a whole poll).
func (w *renderWorker) loop(ctx context.Context, s *Service, what string, poll time.Duration,
	once func(context.Context) (retryIn time.Duration, err error)) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		retryIn, err := once(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn(what+": looking for due work failed", "err", err)
		}
		var retry <-chan time.Time
		if retryIn > 0 {
			retry = time.After(retryIn)
		}
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-t.C:
		case <-retry:
		}
	}
}

// renderJobs is one kind of document a render worker makes: how to claim
// a batch of due jobs (in a short transaction, under a lease), how to make
// and record one (with no transaction open while rendering), and how to
// note a failure with the time of the next try.
type renderJobs[C any] struct {
	what       string // for logs: "notice letter", …
	key        string // the log attribute naming a job
	batch      int
	backoff    func(attempts int) time.Duration
	claim      func(ctx context.Context, tx *store.Tx) ([]C, error)
	job        func(C) (id int64, attempts int)
	do         func(ctx context.Context, c C) error
	markFailed func(ctx context.Context, id int64, msg string, next time.Time) error
}

// renderDue makes every due job, batch by batch, and returns how many were
// stored and how many attempts failed. A failure is recorded with its next
// try and never lost; after five attempts it is logged as an error, since
// it is no longer a blip and someone should look.
func renderDue[C any](ctx context.Context, s *Service, j renderJobs[C]) (stored, failed int, err error) {
	if err := s.requireFiles(); err != nil {
		return 0, 0, err
	}
	for ctx.Err() == nil {
		var batch []C
		if _, err := s.st.Tx(ctx, func(tx *store.Tx) (err error) {
			batch, err = j.claim(ctx, tx)
			return err
		}); err != nil {
			return stored, failed, err
		}
		for _, c := range batch {
			err := j.do(ctx, c)
			if err == nil {
				stored++
				continue
			}
			if ctx.Err() != nil {
				// Shutting down: the lease runs out and another worker, or
				// this one after a restart, tries again.
				return stored, failed, nil
			}
			failed++
			id, attempts := j.job(c)
			next := s.now().Add(j.backoff(attempts))
			msg := err.Error()
			if len(msg) > 2000 {
				msg = msg[:2000]
			}
			if err := j.markFailed(context.WithoutCancel(ctx), id, msg, next); err != nil {
				return stored, failed, err
			}
			lvl := slog.LevelWarn
			if attempts >= 5 {
				lvl = slog.LevelError
			}
			s.log.Log(ctx, lvl, j.what+" failed, will retry", j.key, id, "attempt", attempts, "next", next, "err", err)
		}
		if len(batch) < j.batch {
			break
		}
	}
	return stored, failed, nil
}
