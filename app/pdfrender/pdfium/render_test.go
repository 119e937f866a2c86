package pdfium

import (
	"context"
	"errors"
	"image"
	"image/draw"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/internal/testpdf"
)

// inset is the pixel rectangle of r at v, shrunk by m pixels on each side
// so anti-aliased edges do not count.
func inset(v pdfrender.View, p pdfrender.PageInfo, r testpdf.Rect, m int) image.Rectangle {
	px := v.RectToPixels(p, pdfrender.Rect{X0: r.X0, Y0: r.Y0, X1: r.X1, Y1: r.Y1})
	return image.Rect(int(math.Ceil(px.X0))+m, int(math.Ceil(px.Y0))+m, int(px.X1)-m, int(px.Y1)-m)
}

func TestOpen(t *testing.T) {
	text, drawing := open(t, textPDF(t)), open(t, drawingPDF(t))
	tests := []struct {
		name string
		got  []pdfrender.PageInfo
		want []pdfrender.PageInfo
	}{
		{"text: A4, A4 stored with /Rotate 90, A3 landscape", text.Pages, []pdfrender.PageInfo{
			{Width: 595, Height: 842}, {Width: 842, Height: 595}, {Width: 1191, Height: 842}}},
		{"A1 drawing", drawing.Pages, []pdfrender.PageInfo{{Width: testpdf.A1W, Height: testpdf.A1H}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("pages mismatch (-want +got):\n%s", diff)
			}
		})
	}
	for page, want := range []pdfrender.Rotation{0, 1, 0} {
		if got, err := shared.PageRotation(context.Background(), text.ID, page); err != nil || got != want {
			t.Errorf("page %d /Rotate: %d %v, want %d", page+1, got, err, want)
		}
	}
	if text.ID == drawing.ID {
		t.Errorf("two documents share id %d", text.ID)
	}

	notPDF := filepath.Join(t.TempDir(), "note.pdf")
	os.WriteFile(notPDF, []byte("this is not a PDF"), 0o600)
	for _, path := range []string{notPDF, filepath.Join(t.TempDir(), "missing.pdf")} {
		if _, err := shared.Open(context.Background(), path, pdfrender.OpenOptions{}); err == nil {
			t.Errorf("open %s: no error", filepath.Base(path))
		} else if !strings.Contains(err.Error(), path) {
			t.Errorf("open %s: error %q does not name the file", filepath.Base(path), err)
		}
	}
}

// TestRenderPixels checks rendered pixels where the test PDFs have known
// content: black boxes dark, glyphs dark, margins white, at several zooms
// and in every view rotation, on a page stored with /Rotate too.
func TestRenderPixels(t *testing.T) {
	t.Parallel() // after the tests that count renders; keeps both instances busy
	ctx := context.Background()
	text, drawing, scan := open(t, textPDF(t)), open(t, drawingPDF(t)), open(t, scanPDF(t))
	type region struct {
		what      string
		rect      testpdf.Rect
		minG, max float64 // mean grey must lie in [minG, max]
	}
	all4 := []pdfrender.Rotation{0, 1, 2, 3}
	heading := testpdf.Rect{X0: testpdf.TextDocHeadingX, Y0: testpdf.TextDocHeadingBaseline - 20, X1: testpdf.TextDocHeadingX + 300, Y1: testpdf.TextDocHeadingBaseline}
	tests := []struct {
		name    string
		doc     *pdfrender.Document
		page    int
		zooms   []float64
		rots    []pdfrender.Rotation
		regions []region
	}{
		{"text page", text, 0, []float64{0.5, 1, 2.5}, all4, []region{
			{"black box", testpdf.TextDocBox, 0, 5},
			{"left margin", testpdf.Rect{X0: 5, Y0: 300, X1: 60, Y1: 600}, 254, 255},
			{"heading glyphs", heading, 60, 230},
		}},
		{"page stored rotated", text, 1, []float64{1, 2}, all4, []region{
			{"black box", testpdf.TextDocRotatedBox, 0, 5},
			{"blank middle", testpdf.Rect{X0: 400, Y0: 350, X1: 800, Y1: 550}, 254, 255},
		}},
		// 40k paths cost ~0.4 s a render whatever the zoom: two views.
		{"A1 drawing", drawing, 0, []float64{0.3}, []pdfrender.Rotation{0, 3}, []region{
			{"black box", testpdf.DrawingBox, 0, 5},
			{"clear corner", testpdf.Rect{X0: 40, Y0: 40, X1: 90, Y1: 90}, 254, 255},
			{"segments", testpdf.Rect{X0: 800, Y0: 500, X1: 1600, Y1: 1200}, 20, 250},
		}},
		{"scan", scan, 0, []float64{0.5, 1}, []pdfrender.Rotation{0, 1}, []region{
			{"dark patch", testpdf.ScanDark, 0, 60},
			{"paper", testpdf.Rect{X0: 300, Y0: 400, X1: 500, Y1: 700}, 215, 245},
		}},
	}
	for _, tt := range tests {
		for _, z := range tt.zooms {
			for _, rot := range tt.rots {
				v := pdfrender.View{Zoom: z, Rotation: rot}
				img, err := shared.RenderPage(ctx, tt.doc.ID, tt.page, v)
				if err != nil {
					t.Fatalf("%s zoom %v rotation %d: %v", tt.name, z, rot, err)
				}
				p := tt.doc.Pages[tt.page]
				if w, h := v.RasterSize(p); img.Bounds() != image.Rect(0, 0, w, h) {
					t.Errorf("%s zoom %v rotation %d: raster %v, want %dx%d", tt.name, z, rot, img.Bounds(), w, h)
				}
				for _, r := range tt.regions {
					g := testpdf.Gray(img, inset(v, p, r.rect, 2))
					if g < r.minG || g > r.max {
						t.Errorf("%s zoom %v rotation %d: %s mean grey %.1f, want %v..%v", tt.name, z, rot, r.what, g, r.minG, r.max)
					}
				}
			}
		}
	}
}

// TestTilesMatchFullRender: the tiles of a page, put together, are the
// full render pixel for pixel, at fractional zooms and in rotation, edge
// tiles smaller than TileSize.
func TestTilesMatchFullRender(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	text, drawing := open(t, textPDF(t)), open(t, drawingPDF(t))
	tests := []struct {
		name string
		doc  *pdfrender.Document
		page int
		v    pdfrender.View
		// glyphs: a glyph taller than the tile margin that crosses the
		// margin's edge may render slightly differently (a few hundred
		// bytes); lines never differ by more than rounding.
		glyphs bool
	}{
		{"drawing 0.6", drawing, 0, pdfrender.View{Zoom: 0.6}, false},
		{"drawing 0.35 rotated 90", drawing, 0, pdfrender.View{Zoom: 0.35, Rotation: 1}, false},
		{"drawing 0.9 rotated 180", drawing, 0, pdfrender.View{Zoom: 0.9, Rotation: 2}, false},
		{"text 1.5", text, 0, pdfrender.View{Zoom: 1.5}, true},
		{"text 2", text, 0, pdfrender.View{Zoom: 2}, true},
		{"text stored rotated, 1.25 rotated 270", text, 1, pdfrender.View{Zoom: 1.25, Rotation: 3}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			full, err := shared.RenderPage(ctx, tt.doc.ID, tt.page, tt.v)
			if err != nil {
				t.Fatal(err)
			}
			p := tt.doc.Pages[tt.page]
			cols, rows := tt.v.TileGrid(p)
			if cols < 2 || rows < 2 {
				t.Fatalf("grid %dx%d: the case does not test seams", cols, rows)
			}
			joined := image.NewRGBA(full.Bounds())
			for ty := range rows {
				for tx := range cols {
					tile, err := shared.RenderTile(ctx, tt.doc.ID, tt.page, tt.v, tx, ty)
					if err != nil {
						t.Fatalf("tile %d,%d: %v", tx, ty, err)
					}
					b := tile.Image.Bounds()
					wantW, wantH := min(pdfrender.TileSize, full.Bounds().Dx()-tx*pdfrender.TileSize), min(pdfrender.TileSize, full.Bounds().Dy()-ty*pdfrender.TileSize)
					if tile.X != tx*pdfrender.TileSize || tile.Y != ty*pdfrender.TileSize || b.Dx() != wantW || b.Dy() != wantH {
						t.Fatalf("tile %d,%d at (%d,%d) size %dx%d, want (%d,%d) %dx%d", tx, ty, tile.X, tile.Y, b.Dx(), b.Dy(),
							tx*pdfrender.TileSize, ty*pdfrender.TileSize, wantW, wantH)
					}
					draw.Draw(joined, b.Add(image.Pt(tile.X, tile.Y)), tile.Image, image.Point{}, draw.Src)
				}
			}
			// Anti-aliasing may round a channel differently, by a level or
			// three; anything more is a visible seam.
			off, worst := 0, 0
			for i := range full.Pix {
				d := int(full.Pix[i]) - int(joined.Pix[i])
				worst = max(worst, d, -d)
				if d > 3 || d < -3 {
					off++
				}
			}
			if allowed := map[bool]int{false: 0, true: len(full.Pix) / 2000}[tt.glyphs]; off > allowed {
				t.Errorf("tiles differ from the full render by more than 3 levels in %d of %d bytes (allowed %d), worst by %d", off, len(full.Pix), allowed, worst)
			}
		})
	}
	if _, err := shared.RenderTile(ctx, text.ID, 0, pdfrender.View{Zoom: 1}, 5, 0); err == nil {
		t.Error("tile outside the grid: no error")
	}
	if _, err := shared.RenderTile(ctx, text.ID, 0, pdfrender.View{Zoom: 0}, 0, 0); err == nil {
		t.Error("zoom 0: no error")
	}
	if _, err := shared.RenderTile(ctx, text.ID, 7, pdfrender.View{Zoom: 1}, 0, 0); err == nil {
		t.Error("page 8 of 3: no error")
	}
}

// TestTileCacheServesRepeats: the second request for a tile is a cache hit
// and returns the same raster.
func TestTileCacheServesRepeats(t *testing.T) {
	ctx := context.Background()
	d := open(t, drawingPDF(t))
	v := pdfrender.View{Zoom: 0.77}
	before := shared.Stats()
	a, err := shared.RenderTile(ctx, d.ID, 0, v, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := shared.RenderTile(ctx, d.ID, 0, v, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	after := shared.Stats()
	if a.Image != b.Image {
		t.Error("the repeated tile was rendered again")
	}
	if after.TilesRendered-before.TilesRendered != 1 || after.TileCacheHits-before.TileCacheHits != 1 {
		t.Errorf("rendered %d, hits %d; want 1 and 1", after.TilesRendered-before.TilesRendered, after.TileCacheHits-before.TileCacheHits)
	}
	if after.TileCacheBytes > shared.TileCache().MaxBytes() {
		t.Errorf("cache holds %d bytes over its bound %d", after.TileCacheBytes, shared.TileCache().MaxBytes())
	}
}

// TestCancelledRequestIsDropped: a tile request cancelled while both
// instances are busy (a pan superseded it) never reaches pdfium.
func TestCancelledRequestIsDropped(t *testing.T) {
	ctx := context.Background()
	d := open(t, drawingPDF(t))
	release := make(chan struct{})
	var busy sync.WaitGroup
	for range shared.workers {
		busy.Add(1)
		started := make(chan struct{})
		go func() {
			defer busy.Done()
			do(ctx, shared, nil, func(*worker) (struct{}, error) {
				close(started)
				<-release
				return struct{}{}, nil
			})
		}()
		<-started
	}
	before := shared.Stats()
	tileCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := shared.RenderTile(tileCtx, d.ID, 0, pdfrender.View{Zoom: 1.9}, 2, 2)
		done <- err
	}()
	cancel()
	err := <-done
	close(release)
	busy.Wait()
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled tile: error %v, want context.Canceled", err)
	}
	after := shared.Stats()
	if after.TilesRendered != before.TilesRendered {
		t.Errorf("a cancelled tile was rendered")
	}
	if after.Dropped-before.Dropped != 1 {
		t.Errorf("dropped %d requests, want 1", after.Dropped-before.Dropped)
	}
	// The instances still work.
	if _, err := shared.RenderTile(ctx, d.ID, 0, pdfrender.View{Zoom: 1.9}, 2, 2); err != nil {
		t.Errorf("tile after the cancellation: %v", err)
	}
}

// TestParallelTiles renders a viewport's tiles from many goroutines at once
// (run with -race): both instances work, every tile arrives.
func TestParallelTiles(t *testing.T) {
	ctx := context.Background()
	d := open(t, drawingPDF(t))
	v := pdfrender.View{Zoom: 0.45}
	cols, rows := v.TileGrid(d.Pages[0])
	var wg sync.WaitGroup
	errs := make(chan error, cols*rows)
	for ty := range rows {
		for tx := range cols {
			wg.Go(func() {
				tile, err := shared.RenderTile(ctx, d.ID, 0, v, tx, ty)
				if err == nil && tile.Image.Bounds().Empty() {
					err = errors.New("empty tile")
				}
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestPreviewAndThumbnail(t *testing.T) {
	ctx := context.Background()
	d := open(t, textPDF(t))
	prev, err := shared.RenderPreview(ctx, d.ID, 0, 0, 128)
	if err != nil {
		t.Fatal(err)
	}
	if b := prev.Bounds(); max(b.Dx(), b.Dy()) != 128 || b.Dx() != 91 {
		t.Errorf("preview of A4 in 128 px: %v, want 91x128", b)
	}
	v := pdfrender.View{Zoom: pdfrender.FitZoom(d.Pages[0], 0, 128, 128)}
	if g := testpdf.Gray(prev, inset(v, d.Pages[0], testpdf.TextDocBox, 1)); g > 10 {
		t.Errorf("preview: black box grey %.1f", g)
	}
	land, err := shared.RenderPreview(ctx, d.ID, 0, 1, 128)
	if err != nil {
		t.Fatal(err)
	}
	if b := land.Bounds(); b.Dx() != 128 || b.Dy() != 91 {
		t.Errorf("preview rotated 90: %v, want 128x91", b)
	}

	before := shared.Stats()
	th, err := shared.Thumbnail(ctx, d.ID, 2, 200)
	if err != nil {
		t.Fatal(err)
	}
	if b := th.Bounds(); b.Dx() != 200 || b.Dy() != 142 {
		t.Errorf("thumbnail of A3 landscape in 200 px: %v, want 200x142", b)
	}
	sha, err := pdfrender.FileSHA256(d.Path)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(thumbDir, sha[:2], sha+"-p2-s200.png")
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("thumbnail not on disk: %v", err)
	}
	again, err := shared.Thumbnail(ctx, d.ID, 2, 200)
	if err != nil {
		t.Fatal(err)
	}
	after := shared.Stats()
	if after.ThumbnailWrites-before.ThumbnailWrites != 1 || after.ThumbnailHits-before.ThumbnailHits != 1 {
		t.Errorf("thumbnail writes %d, hits %d; want 1 and 1", after.ThumbnailWrites-before.ThumbnailWrites, after.ThumbnailHits-before.ThumbnailHits)
	}
	if !cmp.Equal(th.Pix, again.Pix) {
		t.Error("the thumbnail read from disk differs from the one rendered")
	}
}

func TestCloseDoc(t *testing.T) {
	ctx := context.Background()
	d, err := shared.Open(ctx, textPDF(t), pdfrender.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Render in both instances so both hold the document.
	var wg sync.WaitGroup
	for tx := range 2 {
		wg.Go(func() { shared.RenderTile(ctx, d.ID, 0, pdfrender.View{Zoom: 2}, tx, 0) })
	}
	wg.Wait()
	if err := shared.CloseDoc(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := shared.RenderTile(ctx, d.ID, 0, pdfrender.View{Zoom: 2}, 0, 0); err == nil {
		t.Error("tile of a closed document: no error")
	}
	if err := shared.CloseDoc(ctx, d.ID); err == nil {
		t.Error("closing twice: no error")
	}
}

// TestOwnRenderer: a renderer of its own starts from the warm compilation
// cache, works, and refuses work after Close.
func TestOwnRenderer(t *testing.T) {
	ctx := context.Background()
	r, err := New(ctx, Options{CacheDir: wazeroCacheDir(), Instances: 1, TileCacheBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Open(ctx, textPDF(t), pdfrender.OpenOptions{SHA256: strings.Repeat("AB", 32)})
	if err != nil {
		t.Fatal(err)
	}
	if d.SHA256 != strings.Repeat("ab", 32) {
		t.Errorf("given hash kept as %q", d.SHA256)
	}
	if _, err := r.Open(ctx, textPDF(t), pdfrender.OpenOptions{SHA256: "abc"}); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
		t.Errorf("open with a malformed hash: %v", err)
	}
	if _, err := r.Thumbnail(ctx, d.ID, 0, 64); err != nil {
		t.Errorf("thumbnail without a thumbnail folder: %v", err)
	}
	r.Close()
	if _, err := r.RenderTile(ctx, d.ID, 0, pdfrender.View{Zoom: 1}, 0, 0); err == nil {
		t.Error("render after Close: no error")
	}
	if _, err := r.Open(ctx, textPDF(t), pdfrender.OpenOptions{}); !errors.Is(err, pdfrender.ErrClosed) {
		t.Errorf("open after Close: %v, want ErrClosed", err)
	}
}
