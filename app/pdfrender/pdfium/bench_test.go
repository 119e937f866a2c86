package pdfium

// Benchmarks of the renderer against poppler's pdftoppm and MuPDF's mutool
// on the same pages at the same DPI, in the same run; `make bench-render`
// runs them. The tools are separate processes, so their times include
// starting and parsing the file; ours are reported both with the document
// already open (what the viewer pays per page) and with open+close.

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/internal/testpdf"
)

// measureRSS, set by BenchmarkRSS500, makes runTool report peak RSS
// (through the test binary as a wrapper, see childRSSEnv) instead of time.
var measureRSS bool

// runTool runs an external renderer and returns its wall time, or with
// measureRSS its peak RSS in bytes; ok is false when it is not installed.
func runTool(b *testing.B, name string, args ...string) (time.Duration, int64, bool) {
	b.Helper()
	if _, err := exec.LookPath(name); err != nil {
		return 0, 0, false
	}
	if measureRSS {
		exe, err := os.Executable()
		if err != nil {
			b.Fatal(err)
		}
		cmd := exec.Command(exe, append([]string{name}, args...)...)
		cmd.Env = append(os.Environ(), childRSSEnv+"=1")
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			b.Fatalf("peak RSS of %s: %q", name, out)
		}
		return 0, n, true
	}
	cmd := exec.Command(name, args...)
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return time.Since(start), 0, true
}

func pdftoppm(b *testing.B, path string, dpi int, crop ...int) (time.Duration, int64, bool) {
	args := []string{"-r", strconv.Itoa(dpi), "-f", "1", "-l", "1", "-singlefile"}
	if len(crop) == 4 {
		args = append(args, "-x", strconv.Itoa(crop[0]), "-y", strconv.Itoa(crop[1]), "-W", strconv.Itoa(crop[2]), "-H", strconv.Itoa(crop[3]))
	}
	args = append(args, path, filepath.Join(b.TempDir(), "out"))
	return runTool(b, "pdftoppm", args...)
}

func mutool(b *testing.B, path string, dpi int) (time.Duration, int64, bool) {
	return runTool(b, "mutool", "draw", "-q", "-r", strconv.Itoa(dpi), "-o", filepath.Join(b.TempDir(), "out.ppm"), path, "1")
}

func ms(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }

// uncachedTile renders a tile the way RenderTile does on a miss, so every
// iteration measures pdfium rather than the LRU.
func uncachedTile(b *testing.B, r *Renderer, id pdfrender.DocID, v pdfrender.View, tx, ty int) {
	d, err := r.doc(id)
	if err != nil {
		b.Fatal(err)
	}
	x0, y0, x1, y1, ok := v.TileBounds(d.info.Pages[0], tx, ty)
	if !ok {
		b.Fatalf("tile %d,%d outside the page", tx, ty)
	}
	if _, err := do(context.Background(), r, nil, func(w *worker) (any, error) {
		return w.region(d, 0, v, x0, y0, x1-x0, y1-y0, tileMargin)
	}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStartup: New+Close without a compilation cache (every start
// compiles PDFium) against New+Close from a warm cache on disk.
func BenchmarkStartup(b *testing.B) {
	ctx := context.Background()
	var cold, warm time.Duration
	warmDir := b.TempDir()
	if r, err := New(ctx, Options{CacheDir: warmDir}); err == nil { // fill it
		r.Close()
	} else {
		b.Fatal(err)
	}
	for range b.N {
		start := time.Now()
		r, err := New(ctx, Options{})
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
		cold += time.Since(start)
		start = time.Now()
		if r, err = New(ctx, Options{CacheDir: warmDir}); err != nil {
			b.Fatal(err)
		}
		r.Close()
		warm += time.Since(start)
	}
	b.ReportMetric(ms(cold, b.N), "no-cache-ms")
	b.ReportMetric(ms(warm, b.N), "disk-cache-ms")
	b.ReportMetric(cold.Seconds()/warm.Seconds(), "no-cache/disk-cache")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkVsTools: one page at 150 DPI, ours (document open; and
// open+render+close) and a 512 px tile from the middle of the page,
// against pdftoppm (page, and the same tile cropped) and mutool (page).
func BenchmarkVsTools(b *testing.B) {
	const dpi = 150
	ctx := context.Background()
	docs := []struct {
		name string
		path func(testing.TB) string
	}{{"text-A4", textPDF}, {"drawing-A1-40k", drawingPDF}, {"scan-A4-300dpi", scan300PDF}}
	for _, dc := range docs {
		b.Run(dc.name, func(b *testing.B) {
			path := dc.path(b)
			d := open(b, path)
			v := pdfrender.View{Zoom: dpi / 72.0}
			cols, rows := v.TileGrid(d.Pages[0])
			tx, ty := cols/2, rows/2
			x0, y0, x1, y1, _ := v.TileBounds(d.Pages[0], tx, ty)
			// One warm-up render: the first touches fonts and images.
			if _, err := shared.RenderPage(ctx, d.ID, 0, v); err != nil {
				b.Fatal(err)
			}
			var page, openPage, tile, popPage, popTile, muPage time.Duration
			var haveP, haveM bool
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := shared.RenderPage(ctx, d.ID, 0, v); err != nil {
					b.Fatal(err)
				}
				page += time.Since(start)

				start = time.Now()
				d2, err := shared.Open(ctx, path, pdfrender.OpenOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := shared.RenderPage(ctx, d2.ID, 0, v); err != nil {
					b.Fatal(err)
				}
				shared.CloseDoc(ctx, d2.ID)
				openPage += time.Since(start)

				start = time.Now()
				uncachedTile(b, shared, d.ID, v, tx, ty)
				tile += time.Since(start)

				var el time.Duration
				if el, _, haveP = pdftoppm(b, path, dpi); haveP {
					popPage += el
					el, _, _ = pdftoppm(b, path, dpi, x0, y0, x1-x0, y1-y0)
					popTile += el
				}
				if el, _, haveM = mutool(b, path, dpi); haveM {
					muPage += el
				}
			}
			b.StopTimer()
			b.ReportMetric(ms(page, b.N), "page-ms")
			b.ReportMetric(ms(openPage, b.N), "open+page-ms")
			b.ReportMetric(ms(tile, b.N), "tile512-ms")
			if haveP {
				b.ReportMetric(ms(popPage, b.N), "pdftoppm-page-ms")
				b.ReportMetric(page.Seconds()/popPage.Seconds(), "page/pdftoppm")
				b.ReportMetric(openPage.Seconds()/popPage.Seconds(), "open+page/pdftoppm")
				b.ReportMetric(tile.Seconds()/popTile.Seconds(), "tile/pdftoppm-crop")
			}
			if haveM {
				b.ReportMetric(ms(muPage, b.N), "mutool-page-ms")
				b.ReportMetric(page.Seconds()/muPage.Seconds(), "page/mutool")
				b.ReportMetric(openPage.Seconds()/muPage.Seconds(), "open+page/mutool")
			}
			b.ReportMetric(0, "ns/op")
		})
	}
}

// longPDF is the 500-page volume, written once per benchmark binary.
func longPDF(b *testing.B) string {
	return fixture(b, "long500.pdf", func() []byte { return testpdf.Long(500) })
}

// BenchmarkOpenToFirstPage: from opening a 500-page document to its first
// page rendered at 150 DPI (and to its first 256 px preview), against the
// tools rendering page 1 of the same file.
func BenchmarkOpenToFirstPage(b *testing.B) {
	const dpi = 150
	ctx := context.Background()
	path := longPDF(b)
	var first, preview, pop, mu time.Duration
	var haveP, haveM bool
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		d, err := shared.Open(ctx, path, pdfrender.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Pages) != 500 {
			b.Fatalf("%d pages", len(d.Pages))
		}
		if _, err := shared.RenderPreview(ctx, d.ID, 0, 0, 256); err != nil {
			b.Fatal(err)
		}
		preview += time.Since(start)
		shared.CloseDoc(ctx, d.ID)

		start = time.Now()
		if d, err = shared.Open(ctx, path, pdfrender.OpenOptions{}); err != nil {
			b.Fatal(err)
		}
		if _, err := shared.RenderPage(ctx, d.ID, 0, pdfrender.View{Zoom: dpi / 72.0}); err != nil {
			b.Fatal(err)
		}
		first += time.Since(start)
		shared.CloseDoc(ctx, d.ID)

		var el time.Duration
		if el, _, haveP = pdftoppm(b, path, dpi); haveP {
			pop += el
		}
		if el, _, haveM = mutool(b, path, dpi); haveM {
			mu += el
		}
	}
	b.StopTimer()
	b.ReportMetric(ms(first, b.N), "open+page1-ms")
	b.ReportMetric(ms(preview, b.N), "open+preview-ms")
	if haveP {
		b.ReportMetric(ms(pop, b.N), "pdftoppm-ms")
		b.ReportMetric(first.Seconds()/pop.Seconds(), "ours/pdftoppm")
	}
	if haveM {
		b.ReportMetric(ms(mu, b.N), "mutool-ms")
		b.ReportMetric(first.Seconds()/mu.Seconds(), "ours/mutool")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPanA1: a 1600×1000 viewport on the A1 drawing at 200% (144 DPI)
// is rendered, then panned by (300, 200) px and re-rendered the way the
// viewer does it — the visible tiles requested at once, cached ones served
// by the LRU — against rendering the panned viewport with every tile
// missing, and pdftoppm rendering the same viewport as a crop.
func BenchmarkPanA1(b *testing.B) {
	ctx := context.Background()
	d := open(b, drawingPDF(b))
	v := pdfrender.View{Zoom: 2}
	const vw, vh = 1600, 1000
	x, y := 1800, 900
	viewport := func(cacheOn bool, x, y int) {
		var wg sync.WaitGroup
		for ty := y / pdfrender.TileSize; ty <= (y+vh-1)/pdfrender.TileSize; ty++ {
			for tx := x / pdfrender.TileSize; tx <= (x+vw-1)/pdfrender.TileSize; tx++ {
				wg.Go(func() {
					if cacheOn {
						if _, err := shared.RenderTile(ctx, d.ID, 0, v, tx, ty); err != nil {
							b.Error(err)
						}
					} else {
						uncachedTile(b, shared, d.ID, v, tx, ty)
					}
				})
			}
		}
		wg.Wait()
	}
	var pan, cold, pop time.Duration
	var haveP bool
	b.ResetTimer()
	for range b.N {
		shared.TileCache().DropDoc(d.ID)
		viewport(true, x, y)
		before := shared.Stats().TilesRendered
		start := time.Now()
		viewport(true, x+300, y+200)
		pan += time.Since(start)
		b.ReportMetric(float64(shared.Stats().TilesRendered-before), "tiles-rendered-after-pan")

		start = time.Now()
		viewport(false, x+300, y+200)
		cold += time.Since(start)

		var el time.Duration
		if el, _, haveP = pdftoppm(b, d.Path, 144, x+300, y+200, vw, vh); haveP {
			pop += el
		}
	}
	b.StopTimer()
	b.ReportMetric(ms(pan, b.N), "pan-ms")
	b.ReportMetric(ms(cold, b.N), "viewport-uncached-ms")
	if haveP {
		b.ReportMetric(ms(pop, b.N), "pdftoppm-crop-ms")
		b.ReportMetric(pan.Seconds()/pop.Seconds(), "pan/pdftoppm")
		b.ReportMetric(cold.Seconds()/pop.Seconds(), "uncached/pdftoppm")
	}
	b.ReportMetric(0, "ns/op")
}

// rss is this process's resident set in bytes.
func rss(b *testing.B) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc: RSS not measurable here")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	b.Skip("no VmRSS")
	return 0
}

// BenchmarkRSS500: resident memory of a fresh renderer (two instances,
// warm compilation cache), then with the 500-page document open and its
// first page rendered at 150 DPI, against the peak RSS of pdftoppm and
// mutool rendering that page.
func BenchmarkRSS500(b *testing.B) {
	ctx := context.Background()
	path := longPDF(b)
	fi, _ := os.Stat(path)
	var base, withDoc, pop, mu int64
	measureRSS = true
	defer func() { measureRSS = false }()
	for range b.N {
		runtime.GC()
		debug.FreeOSMemory()
		before := rss(b)
		r, err := New(ctx, Options{CacheDir: wazeroCacheDir()})
		if err != nil {
			b.Fatal(err)
		}
		started := rss(b)
		d, err := r.Open(ctx, path, pdfrender.OpenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.RenderPage(ctx, d.ID, 0, pdfrender.View{Zoom: 150 / 72.0}); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		opened := rss(b)
		r.Close()
		base, withDoc = max(base, started-before), max(withDoc, opened-before)
		if _, m, ok := pdftoppm(b, path, 150); ok {
			pop = max(pop, m)
		}
		if _, m, ok := mutool(b, path, 150); ok {
			mu = max(mu, m)
		}
	}
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	b.ReportMetric(mib(fi.Size()), "file-MiB")
	b.ReportMetric(mib(base), "renderer-RSS-MiB")
	b.ReportMetric(mib(withDoc), "with-500p-doc-RSS-MiB")
	b.ReportMetric(mib(withDoc-base), "doc-delta-MiB")
	if pop > 0 {
		b.ReportMetric(mib(pop), "pdftoppm-peak-RSS-MiB")
		b.ReportMetric(float64(withDoc)/float64(pop), "ours/pdftoppm")
	}
	if mu > 0 {
		b.ReportMetric(mib(mu), "mutool-peak-RSS-MiB")
		b.ReportMetric(float64(withDoc)/float64(mu), "ours/mutool")
	}
	b.ReportMetric(0, "ns/op")
}
