package service

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
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
