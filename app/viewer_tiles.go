package app

import (
	"context"
	"image"
	"sync"
	"sync/atomic"

	"github.com/expertiza/expertiza/app/pdfrender"
)

// TileResult is a picture the loader fetched: a tile, placed at (X, Y) of
// the page raster, or a page preview (X = Y = 0).
type TileResult struct {
	Req   TileReq
	Image *image.RGBA
	X, Y  int
	Err   error
}

// LoaderStats count what a TileLoader did, for tests and benchmarks.
type LoaderStats struct {
	Started   int64 // requests handed to the renderer
	Delivered int64 // results passed to the deliver function
	Cancelled int64 // in-flight requests withdrawn because they left the view
	Skipped   int64 // queued requests dropped by a later Want before they started
}

// TileLoader fetches what the viewer wants, most urgent first, with as
// many requests in flight as the renderer has instances. Each Want
// replaces the wish list: queued requests no longer wanted are dropped and
// in-flight ones are cancelled (the renderer drops a cancelled request
// still waiting for an instance; one already rendering finishes into the
// tile cache but is not delivered). Results arrive on deliver, called
// from the loader's goroutines.
type TileLoader struct {
	r       pdfrender.Renderer
	doc     pdfrender.DocID
	deliver func(TileResult)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []TileReq
	running map[TileReq]context.CancelFunc
	closed  bool

	started, delivered, cancelled, skipped atomic.Int64
}

// NewTileLoader starts workers goroutines (2: one per renderer instance;
// more would only wait) fetching from doc in r.
func NewTileLoader(r pdfrender.Renderer, doc pdfrender.DocID, workers int, deliver func(TileResult)) *TileLoader {
	if workers < 1 {
		workers = 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &TileLoader{r: r, doc: doc, deliver: deliver, ctx: ctx, cancel: cancel, running: map[TileReq]context.CancelFunc{}}
	l.cond = sync.NewCond(&l.mu)
	for range workers {
		l.wg.Go(l.work)
	}
	return l
}

// Want sets what to fetch, in order of urgency. Requests already in
// flight and still wanted keep running; the caller leaves out what it
// already shows.
func (l *TileLoader) Want(reqs []TileReq) {
	wanted := make(map[TileReq]bool, len(reqs))
	for _, r := range reqs {
		wanted[r] = true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	for k, cancel := range l.running {
		if !wanted[k] {
			cancel()
			delete(l.running, k)
			l.cancelled.Add(1)
		}
	}
	queued := make(map[TileReq]bool, len(l.queue))
	for _, q := range l.queue {
		queued[q] = true
	}
	next := make([]TileReq, 0, len(reqs))
	for _, r := range reqs {
		if _, busy := l.running[r]; !busy {
			next = append(next, r)
			delete(queued, r)
		}
	}
	l.skipped.Add(int64(len(queued)))
	l.queue = next
	l.cond.Broadcast()
}

// Pending is how many requests are queued or in flight.
func (l *TileLoader) Pending() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue) + len(l.running)
}

// Stats reports the counters.
func (l *TileLoader) Stats() LoaderStats {
	return LoaderStats{Started: l.started.Load(), Delivered: l.delivered.Load(), Cancelled: l.cancelled.Load(), Skipped: l.skipped.Load()}
}

// Close cancels everything and waits for the workers; nothing is
// delivered after it returns.
func (l *TileLoader) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.queue = nil
	for _, cancel := range l.running {
		cancel()
	}
	l.cond.Broadcast()
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
}

func (l *TileLoader) work() {
	for {
		l.mu.Lock()
		for len(l.queue) == 0 && !l.closed {
			l.cond.Wait()
		}
		if l.closed {
			l.mu.Unlock()
			return
		}
		req := l.queue[0]
		l.queue = l.queue[1:]
		ctx, cancel := context.WithCancel(l.ctx)
		l.running[req] = cancel
		l.mu.Unlock()

		l.started.Add(1)
		res := l.fetch(ctx, req)

		l.mu.Lock()
		// Still ours unless Want withdrew it (and maybe queued it again
		// under the same key: then that new request owns the entry).
		withdrawn := ctx.Err() != nil
		if !withdrawn {
			delete(l.running, req)
		}
		closed := l.closed
		l.mu.Unlock()
		cancel()
		if withdrawn || closed {
			continue
		}
		l.delivered.Add(1)
		l.deliver(res)
	}
}

func (l *TileLoader) fetch(ctx context.Context, req TileReq) TileResult {
	if req.Thumb {
		img, err := l.r.Thumbnail(ctx, l.doc, req.Page, ThumbSide)
		return TileResult{Req: req, Image: img, Err: err}
	}
	if req.Preview {
		img, err := l.r.RenderPreview(ctx, l.doc, req.Page, req.View.Rotation, PreviewSide)
		return TileResult{Req: req, Image: img, Err: err}
	}
	t, err := l.r.RenderTile(ctx, l.doc, req.Page, req.View, req.TX, req.TY)
	if err != nil {
		return TileResult{Req: req, Err: err}
	}
	return TileResult{Req: req, Image: t.Image, X: t.X, Y: t.Y}
}
