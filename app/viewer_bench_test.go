package app

import (
	"context"
	"image"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app/pdfrender/samples"
	"github.com/expertiza/expertiza/sync/wire"
)

// waitTiles is a loader whose deliveries are counted against the set
// the benchmark waits for.
type waitTiles struct {
	mu      sync.Mutex
	want    map[TileReq]bool
	first   time.Time // first delivery of the current round
	done    chan struct{}
	errs    []error
	rounded bool
}

func (w *waitTiles) expect(reqs []TileReq) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.want = map[TileReq]bool{}
	for _, r := range reqs {
		w.want[r] = true
	}
	w.first = time.Time{}
	w.done = make(chan struct{})
	w.rounded = false
}

func (w *waitTiles) deliver(r TileResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.Err != nil {
		w.errs = append(w.errs, r.Err)
	}
	if w.first.IsZero() {
		w.first = time.Now()
	}
	delete(w.want, r.Req)
	if len(w.want) == 0 && !w.rounded {
		w.rounded = true
		close(w.done)
	}
}

// inView drops the margin requests: "ready" means what the screen shows.
func inView(l *Layout, reqs []TileReq, vp image.Rectangle) []TileReq {
	var out []TileReq
	for _, r := range reqs {
		if l.TileRect(r).Overlaps(vp) {
			out = append(out, r)
		}
	}
	return out
}

// BenchmarkViewerOpenToFirstTiles: through the viewer session, from
// "open this 500-page volume" to every tile of the first screen (a
// 1200×800 window at fit width) being ready, with the preview of page 1
// on the way; the renderer is already running, as after the first
// document of a run. app/pdfrender's BenchmarkOpenToFirstPage measures
// the renderer alone (open + one whole page) against pdftoppm and mutool.
func BenchmarkViewerOpenToFirstTiles(b *testing.B) {
	ctx := context.Background()
	r := testRenderer(b)
	path := writePDF(b, "long.pdf", samples.Long(500))
	const vw, vh = 1200, 800
	var total, preview time.Duration
	b.ResetTimer()
	for range b.N {
		w := &waitTiles{}
		start := time.Now()
		v, err := OpenViewer(ctx, r, path, wire.DocumentVersion{FileName: "long.pdf"})
		if err != nil {
			b.Fatal(err)
		}
		v.ApplyFit(vw, vh)
		l := NewTileLoader(r, v.Doc().ID, 2, w.deliver)
		lay := v.Layout(1, vw)
		vp := image.Rect(0, 0, vw, vh)
		reqs := inView(lay, lay.Visible(vp, vh/2), vp)
		w.expect(reqs)
		l.Want(reqs)
		<-w.done
		total += time.Since(start)
		preview += w.first.Sub(start)
		b.StopTimer()
		if len(w.errs) > 0 {
			b.Fatal(w.errs[0])
		}
		l.Close()
		v.Close(ctx)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "open-to-tiles-ms")
	b.ReportMetric(float64(preview.Microseconds())/1000/float64(b.N), "open-to-first-picture-ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkViewerPanA1: an A1 drawing at 200 % in a 1600×1000 window;
// after a pan of (300, 200) px, the time until every tile of the new view
// is ready through the session's loader (cached tiles come from the
// renderer's LRU, the newly exposed ones are rendered nearest-first on
// both instances). app/pdfrender's BenchmarkPanA1 measures the same pan
// calling the renderer directly, against pdftoppm.
func BenchmarkViewerPanA1(b *testing.B) {
	ctx := context.Background()
	r := testRenderer(b)
	v, err := OpenViewer(ctx, r, writePDF(b, "a1.pdf", samples.Drawing(40000)), wire.DocumentVersion{FileName: "a1.pdf"})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close(ctx)
	v.SetZoom(2)
	const vw, vh = 1600, 1000
	lay := v.Layout(1, vw)
	w := &waitTiles{}
	l := NewTileLoader(r, v.Doc().ID, 2, w.deliver)
	defer l.Close()
	show := func(x, y int) {
		vp := image.Rect(x, y, x+vw, y+vh)
		reqs := inView(lay, lay.Visible(vp, 0), vp)
		w.expect(reqs)
		l.Want(reqs)
		<-w.done
	}
	var pan time.Duration
	var rendered int64
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		r.TileCache().DropDoc(v.Doc().ID)
		show(1800, 900)
		before := r.Stats().TilesRendered
		b.StartTimer()
		start := time.Now()
		show(2100, 1100)
		pan += time.Since(start)
		rendered += r.Stats().TilesRendered - before
	}
	b.StopTimer()
	if len(w.errs) > 0 {
		b.Fatal(w.errs[0])
	}
	b.ReportMetric(float64(pan.Microseconds())/1000/float64(b.N), "pan-ms")
	b.ReportMetric(float64(rendered)/float64(b.N), "tiles-rendered-after-pan")
	b.ReportMetric(0, "ns/op")
}
