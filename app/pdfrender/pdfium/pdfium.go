// Package pdfium implements pdfrender.Renderer with go-pdfium in
// WebAssembly mode: PDFium compiled to wasm and run by wazero, pure Go, no
// cgo. See /work/shared/FINDINGS.md for the measurements behind the choices
// here: the compilation cache on disk (a start costs ~4 s and ~280 MiB
// without it), documents opened through a reader (never loaded whole),
// pixels copied out of wasm memory before the bitmap is destroyed, and one
// goroutine per instance.
package pdfium

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	gopdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/expertiza/expertiza/app/pdfrender"
)

// Options configure New.
type Options struct {
	// CacheDir keeps wazero's compiled PDFium between runs; empty means
	// compile in memory on every start (~4 s on this class of machine).
	CacheDir string
	// ThumbDir keeps thumbnails as PNG; empty means thumbnails are
	// rendered every time.
	ThumbDir string
	// TileCacheBytes bounds the in-memory tile LRU (default 256 MiB).
	TileCacheBytes int64
	// Instances is the number of PDFium instances rendering in parallel
	// (default 2: the desktop has at least two cores and each instance
	// keeps its wasm memory at its peak, so more costs memory for little).
	Instances int
	// MemoryLimitMiB caps each instance's wasm memory (default 2048): a
	// hostile file makes pdfium fail instead of taking the machine.
	MemoryLimitMiB int
	Logger         *slog.Logger
}

// Renderer is the go-pdfium implementation of pdfrender.Renderer.
type Renderer struct {
	log    *slog.Logger
	pool   gopdfium.Pool
	cache  wazero.CompilationCache
	tiles  *pdfrender.TileCache
	thumbs *pdfrender.ThumbStore

	workers []*worker
	jobs    chan job // any instance
	quit    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	mu     sync.Mutex
	docs   map[pdfrender.DocID]*docState
	nextID pdfrender.DocID

	rendered, hits, dropped, thumbHits, thumbWrites atomic.Int64
}

var _ pdfrender.Renderer = (*Renderer)(nil)

// job is a closure run by a worker goroutine with exclusive use of its
// instance. A job whose context is done when a worker picks it is dropped.
type job struct {
	ctx context.Context
	run func(w *worker)
}

// worker owns one PDFium instance; only its goroutine touches it, and the
// document handles opened in it.
type worker struct {
	idx  int
	inst gopdfium.Pdfium
	own  chan job // jobs for this instance only (closing its documents)
}

// New starts the instances. The first start without a warm CacheDir
// compiles PDFium (seconds); later starts load the compiled code.
func New(ctx context.Context, opt Options) (*Renderer, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.TileCacheBytes <= 0 {
		opt.TileCacheBytes = 256 << 20
	}
	if opt.Instances <= 0 {
		opt.Instances = 2
	}
	if opt.MemoryLimitMiB <= 0 {
		opt.MemoryLimitMiB = 2048
	}
	r := &Renderer{
		log:   opt.Logger,
		tiles: pdfrender.NewTileCache(opt.TileCacheBytes),
		jobs:  make(chan job),
		quit:  make(chan struct{}),
		docs:  map[pdfrender.DocID]*docState{},
	}
	if opt.ThumbDir != "" {
		ts, err := pdfrender.NewThumbStore(opt.ThumbDir)
		if err != nil {
			return nil, err
		}
		r.thumbs = ts
	}
	// The bundled module lowers setjmp/longjmp to wasm exception handling:
	// a custom RuntimeConfig must keep that feature or compilation fails.
	rc := wazero.NewRuntimeConfig().
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		WithMemoryLimitPages(uint32(opt.MemoryLimitMiB) * 16) // 64 KiB pages
	if opt.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(opt.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("pdfium compilation cache %s: %w", opt.CacheDir, err)
		}
		r.cache = c
		rc = rc.WithCompilationCache(c)
	}
	stderr := &logWriter{log: opt.Logger}
	pool, err := webassembly.Init(webassembly.Config{
		Context:       context.WithoutCancel(ctx),
		MinIdle:       opt.Instances,
		MaxIdle:       opt.Instances,
		MaxTotal:      opt.Instances,
		RuntimeConfig: rc,
		// Documents arrive through readers: pdfium gets no file system at
		// all, so a crafted file cannot make it read anything else.
		FSConfig: wazero.NewFSConfig(),
		Stdout:   stderr,
		Stderr:   stderr,
	})
	if err != nil {
		r.closeCache()
		return nil, fmt.Errorf("start pdfium: %w", err)
	}
	r.pool = pool
	for i := range opt.Instances {
		inst, err := pool.GetInstanceWithContext(ctx)
		if err != nil {
			pool.Close()
			r.closeCache()
			return nil, fmt.Errorf("pdfium instance %d: %w", i, err)
		}
		w := &worker{idx: i, inst: inst, own: make(chan job)}
		r.workers = append(r.workers, w)
	}
	for _, w := range r.workers {
		r.wg.Add(1)
		go r.loop(w)
	}
	return r, nil
}

func (r *Renderer) closeCache() {
	if r.cache != nil {
		r.cache.Close(context.Background())
	}
}

func (r *Renderer) loop(w *worker) {
	defer r.wg.Done()
	for {
		var j job
		select {
		case <-r.quit:
			return
		case j = <-w.own:
		case j = <-r.jobs:
		}
		if j.ctx.Err() != nil {
			// Superseded (a pan or zoom moved on) while it waited.
			r.dropped.Add(1)
			continue
		}
		j.run(w)
	}
}

type result[T any] struct {
	v   T
	err error
}

// do runs fn on a free instance (or on only, when given) and waits for it.
// While it waits for an instance, a cancelled ctx withdraws the request.
func do[T any](ctx context.Context, r *Renderer, only *worker, fn func(w *worker) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		r.dropped.Add(1)
		return zero, err
	}
	out := make(chan result[T], 1)
	j := job{ctx: ctx, run: func(w *worker) {
		v, err := fn(w)
		out <- result[T]{v, err}
	}}
	queue := r.jobs
	if only != nil {
		queue = only.own
	}
	select {
	case queue <- j:
	case <-ctx.Done():
		r.dropped.Add(1)
		return zero, ctx.Err()
	case <-r.quit:
		return zero, pdfrender.ErrClosed
	}
	select {
	case res := <-out:
		return res.v, res.err
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// Close stops the workers and releases every instance, document and file.
func (r *Renderer) Close() error {
	r.once.Do(func() {
		close(r.quit)
		r.wg.Wait()
		r.mu.Lock()
		for id, d := range r.docs {
			d.file.Close()
			delete(r.docs, id)
		}
		r.mu.Unlock()
		// Closing the pool closes its instances and their documents.
		if err := r.pool.Close(); err != nil {
			r.log.Warn("close pdfium pool", "err", err)
		}
		r.closeCache()
	})
	return nil
}

// Stats reports counters and the tile cache's size.
func (r *Renderer) Stats() pdfrender.Stats {
	n, b := r.tiles.Size()
	return pdfrender.Stats{
		TilesRendered:   r.rendered.Load(),
		TileCacheHits:   r.hits.Load(),
		Dropped:         r.dropped.Load(),
		TileCacheBytes:  b,
		TileCacheTiles:  n,
		ThumbnailHits:   r.thumbHits.Load(),
		ThumbnailWrites: r.thumbWrites.Load(),
	}
}

// TileCache exposes the LRU (its bound and size) to tests and benchmarks.
func (r *Renderer) TileCache() *pdfrender.TileCache { return r.tiles }

// logWriter passes pdfium's console output to the log, one record a line.
type logWriter struct {
	log *slog.Logger
}

func (l *logWriter) Write(p []byte) (int, error) {
	for line := range strings.SplitSeq(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			l.log.Debug("pdfium", "out", line)
		}
	}
	return len(p), nil
}

// docState is one open file. refs[i] is the document's handle in instance
// i, opened there on first use and touched only by worker i's goroutine.
type docState struct {
	info     pdfrender.Document
	file     *os.File
	size     int64
	password string
	refs     []*references.FPDF_DOCUMENT
	closed   atomic.Bool

	mu     sync.Mutex
	xforms map[int]xform
	sha    string
}

func (r *Renderer) doc(id pdfrender.DocID) (*docState, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.docs[id]
	if !ok || d.closed.Load() {
		return nil, fmt.Errorf("pdfrender: document %d is not open", id)
	}
	return d, nil
}

func (d *docState) page(page int) (pdfrender.PageInfo, error) {
	if page < 0 || page >= len(d.info.Pages) {
		return pdfrender.PageInfo{}, fmt.Errorf("page %d outside 1..%d of %s", page+1, len(d.info.Pages), d.info.Path)
	}
	return d.info.Pages[page], nil
}

// ref is the document's handle in w's instance, opening it there first if
// needed: the file is read through its own section reader, on demand.
func (w *worker) ref(d *docState) (references.FPDF_DOCUMENT, error) {
	if d.closed.Load() {
		return "", fmt.Errorf("pdfrender: document %s is closed", d.info.Path)
	}
	if p := d.refs[w.idx]; p != nil {
		return *p, nil
	}
	req := &requests.OpenDocument{FileReader: io.NewSectionReader(d.file, 0, d.size), FileReaderSize: d.size}
	if d.password != "" {
		req.Password = &d.password
	}
	res, err := w.inst.OpenDocument(req)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", d.info.Path, err)
	}
	d.refs[w.idx] = &res.Document
	return res.Document, nil
}

func pageReq(ref references.FPDF_DOCUMENT, page int) requests.Page {
	return requests.Page{ByIndex: &requests.PageByIndex{Document: ref, Index: page}}
}

// Open reads the page count and sizes in one instance (sizes come from the
// page dictionaries without loading pages: 500 pages in ~11 ms, where
// loading each page to read its /Rotate parsed every content stream and
// took ~0.5 s); the other instance opens the file when it first needs it.
func (r *Renderer) Open(ctx context.Context, path string, opt pdfrender.OpenOptions) (*pdfrender.Document, error) {
	if opt.SHA256 != "" && !validSHA256(opt.SHA256) {
		return nil, fmt.Errorf("open %s: SHA-256 %q is not 64 hex digits", path, opt.SHA256)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d := &docState{
		info:     pdfrender.Document{Path: path, SHA256: strings.ToLower(opt.SHA256)},
		file:     f,
		size:     st.Size(),
		password: opt.Password,
		refs:     make([]*references.FPDF_DOCUMENT, len(r.workers)),
		xforms:   map[int]xform{},
	}
	d.sha = d.info.SHA256
	_, err = do(ctx, r, nil, func(w *worker) (struct{}, error) {
		ref, err := w.ref(d)
		if err != nil {
			return struct{}{}, err
		}
		n, err := w.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: ref})
		if err != nil {
			return struct{}{}, fmt.Errorf("page count of %s: %w", path, err)
		}
		d.info.Pages = make([]pdfrender.PageInfo, n.PageCount)
		for i := range d.info.Pages {
			sz, err := w.inst.FPDF_GetPageSizeByIndexF(&requests.FPDF_GetPageSizeByIndexF{Document: ref, Index: i})
			if err != nil {
				return struct{}{}, fmt.Errorf("size of page %d of %s: %w", i+1, path, err)
			}
			d.info.Pages[i] = pdfrender.PageInfo{Width: float64(sz.Size.Width), Height: float64(sz.Size.Height)}
		}
		return struct{}{}, nil
	})
	if err != nil {
		f.Close()
		return nil, err
	}
	r.mu.Lock()
	r.nextID++
	d.info.ID = r.nextID
	r.docs[d.info.ID] = d
	r.mu.Unlock()
	info := d.info
	return &info, nil
}

// PageRotation is the page's own /Rotate. It loads the page, so it is not
// part of Open; sizes from Open already have it applied.
func (r *Renderer) PageRotation(ctx context.Context, id pdfrender.DocID, page int) (pdfrender.Rotation, error) {
	d, err := r.doc(id)
	if err != nil {
		return 0, err
	}
	if _, err := d.page(page); err != nil {
		return 0, err
	}
	return do(ctx, r, nil, func(w *worker) (pdfrender.Rotation, error) {
		ref, err := w.ref(d)
		if err != nil {
			return 0, err
		}
		res, err := w.inst.FPDFPage_GetRotation(&requests.FPDFPage_GetRotation{Page: pageReq(ref, page)})
		if err != nil {
			return 0, fmt.Errorf("rotation of page %d of %s: %w", page+1, d.info.Path, err)
		}
		return pdfrender.Rotation(res.PageRotation), nil
	})
}

// CloseDoc releases the document in every instance and closes the file.
func (r *Renderer) CloseDoc(ctx context.Context, id pdfrender.DocID) error {
	d, err := r.doc(id)
	if err != nil {
		return err
	}
	d.closed.Store(true)
	// Closing must finish even if the caller gives up, or the handles leak.
	ctx = context.WithoutCancel(ctx)
	for _, w := range r.workers {
		_, err := do(ctx, r, w, func(w *worker) (struct{}, error) {
			if p := d.refs[w.idx]; p != nil {
				d.refs[w.idx] = nil
				if _, err := w.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: *p}); err != nil {
					return struct{}{}, fmt.Errorf("close %s: %w", d.info.Path, err)
				}
			}
			return struct{}{}, nil
		})
		if errors.Is(err, pdfrender.ErrClosed) {
			break
		}
		if err != nil {
			r.log.Warn("close document", "path", d.info.Path, "err", err)
		}
	}
	r.mu.Lock()
	delete(r.docs, id)
	r.mu.Unlock()
	r.tiles.DropDoc(id)
	return d.file.Close()
}

// hash is the document's hash, computed once when the caller did not
// give it.
func (d *docState) hash() (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sha != "" {
		return d.sha, nil
	}
	// Hash the open file, not the path: the path may name another file by now.
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(d.file, 0, d.size)); err != nil {
		return "", fmt.Errorf("hash %s: %w", d.info.Path, err)
	}
	d.sha = hex.EncodeToString(h.Sum(nil))
	return d.sha, nil
}

func validSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
