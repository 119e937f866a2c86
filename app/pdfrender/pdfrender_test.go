package pdfrender

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestViewGeometry(t *testing.T) {
	a4 := PageInfo{Width: 595, Height: 842}
	tests := []struct {
		name       string
		v          View
		w, h       int
		cols, rows int
		// where the page's top-left corner lands in the raster
		cornerX, cornerY float64
	}{
		{"72 DPI", View{Zoom: 1}, 595, 842, 2, 2, 0, 0},
		{"150 DPI", View{Zoom: 150.0 / 72}, 1240, 1755, 3, 4, 0, 0},
		{"rotated 90", View{Zoom: 1, Rotation: 1}, 842, 595, 2, 2, 842, 0},
		{"rotated 180", View{Zoom: 1, Rotation: 2}, 595, 842, 2, 2, 595, 842},
		{"rotated 270", View{Zoom: 1, Rotation: 3}, 842, 595, 2, 2, 0, 595},
		{"tiny", View{Zoom: 0.01}, 6, 9, 1, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.v.Validate(); err != nil {
				t.Fatal(err)
			}
			w, h := tt.v.RasterSize(a4)
			cols, rows := tt.v.TileGrid(a4)
			if w != tt.w || h != tt.h || cols != tt.cols || rows != tt.rows {
				t.Errorf("raster %dx%d in %dx%d tiles, want %dx%d in %dx%d", w, h, cols, rows, tt.w, tt.h, tt.cols, tt.rows)
			}
			if x, y := tt.v.PointToPixel(a4, 0, 0); x != tt.cornerX || y != tt.cornerY {
				t.Errorf("top-left corner at (%v,%v), want (%v,%v)", x, y, tt.cornerX, tt.cornerY)
			}
			// Round trips.
			for _, p := range [][2]float64{{0, 0}, {100, 700}, {594.5, 1}, {297.5, 421}} {
				px, py := tt.v.PointToPixel(a4, p[0], p[1])
				x, y := tt.v.PixelToPoint(a4, px, py)
				if math.Abs(x-p[0]) > 1e-9 || math.Abs(y-p[1]) > 1e-9 {
					t.Errorf("(%v,%v) → (%v,%v) → (%v,%v)", p[0], p[1], px, py, x, y)
				}
			}
			// The last tile ends at the raster edge; the tile after it does not exist.
			x0, y0, x1, y1, ok := tt.v.TileBounds(a4, cols-1, rows-1)
			if !ok || x1 != w || y1 != h || x0 != (cols-1)*TileSize || y0 != (rows-1)*TileSize {
				t.Errorf("last tile (%d,%d)-(%d,%d) %v", x0, y0, x1, y1, ok)
			}
			if _, _, _, _, ok := tt.v.TileBounds(a4, cols, 0); ok {
				t.Error("tile past the right edge exists")
			}
		})
	}
	for _, bad := range []View{{Zoom: 0}, {Zoom: math.NaN()}, {Zoom: 40}, {Zoom: 1, Rotation: 4}, {Zoom: 1, Rotation: -1}} {
		if bad.Validate() == nil {
			t.Errorf("view %+v accepted", bad)
		}
	}
	if z := FitZoom(a4, 1, 842, 595); math.Abs(z-1) > 1e-12 {
		t.Errorf("fit rotated A4 into 842x595: zoom %v, want 1", z)
	}
	r := View{Zoom: 2, Rotation: 1}.RectToPixels(a4, Rect{X0: 10, Y0: 20, X1: 30, Y1: 60})
	if want := (Rect{X0: 1684 - 120, Y0: 20, X1: 1684 - 40, Y1: 60}); r != want {
		t.Errorf("rect at 200%% rotated 90: %+v, want %+v", r, want)
	}
}

func tile(w, h int) *image.RGBA { return image.NewRGBA(image.Rect(0, 0, w, h)) }

// TestTileCacheBound fills the cache far past its bound with full and edge
// tiles: after every Put the bytes held stay within the bound, and what is
// evicted is the least recently used.
func TestTileCacheBound(t *testing.T) {
	full := cost(tile(TileSize, TileSize))
	c := NewTileCache(10 * full)
	key := func(i int) TileKey { return NewTileKey(1, i/100, View{Zoom: 1}, i%100, 0) }
	for i := range 200 {
		w := TileSize
		if i%3 == 0 {
			w = 37 // an edge tile
		}
		c.Put(key(i), tile(w, TileSize))
		if _, b := c.Size(); b > c.MaxBytes() {
			t.Fatalf("after %d puts the cache holds %d bytes, over its bound %d", i+1, b, c.MaxBytes())
		}
		// Touch tile 0 now and then: used recently, it must survive.
		if i%4 == 0 {
			if _, ok := c.Get(key(0)); !ok {
				t.Fatalf("after %d puts the recently used tile 0 was evicted", i+1)
			}
		}
	}
	if _, ok := c.Get(key(1)); ok {
		t.Error("tile 1, unused since its Put, survived 200 puts into room for 10")
	}
	if _, ok := c.Get(key(199)); !ok {
		t.Error("the newest tile was evicted")
	}
	n, b := c.Size()
	if n < 10 || b > c.MaxBytes() {
		t.Errorf("%d tiles, %d bytes of %d", n, b, c.MaxBytes())
	}

	// A raster larger than the whole bound is not kept and evicts nothing.
	c.Put(TileKey{Doc: 2, Preview: true}, tile(4*TileSize, 4*TileSize))
	if _, ok := c.Get(TileKey{Doc: 2, Preview: true}); ok {
		t.Error("a raster over the bound was kept")
	}
	if n2, _ := c.Size(); n2 != n {
		t.Errorf("an oversized raster changed the cache from %d to %d tiles", n, n2)
	}

	// Replacing a key does not count it twice.
	c.Put(key(199), tile(TileSize, TileSize))
	c.Put(key(199), tile(TileSize, TileSize))
	if _, b2 := c.Size(); b2 > c.MaxBytes() {
		t.Errorf("replacing: %d bytes", b2)
	}

	// Closing a document forgets its tiles only.
	c.Put(TileKey{Doc: 3}, tile(8, 8))
	c.DropDoc(1)
	if n3, b3 := c.Size(); n3 != 1 || b3 != cost(tile(8, 8)) {
		t.Errorf("after dropping document 1: %d tiles, %d bytes; want only document 3's", n3, b3)
	}
}

func TestThumbStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "thumbs")
	s, err := NewThumbStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	sha := strings.Repeat("0f", 32)
	if _, ok, err := s.Get(sha, 0, 128); ok || err != nil {
		t.Fatalf("empty store: ok %v err %v", ok, err)
	}
	img := tile(30, 40)
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	for i := 3; i < len(img.Pix); i += 4 {
		img.Pix[i] = 255 // pages are opaque
	}
	img.Set(3, 4, color.RGBA{200, 10, 20, 255})
	if err := s.Put(sha, 4, 128, img); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Get(sha, 4, 128)
	if err != nil || !ok {
		t.Fatalf("stored thumbnail: ok %v err %v", ok, err)
	}
	if diff := cmp.Diff(img.Pix, got.Pix); diff != "" {
		t.Errorf("thumbnail changed on disk (-put +got):\n%s", diff)
	}
	if _, ok, _ := s.Get(sha, 4, 256); ok {
		t.Error("another size found the same thumbnail")
	}
	if _, err := os.Stat(filepath.Join(dir, "0f", sha+"-p4-s128.png")); err != nil {
		t.Errorf("thumbnail file: %v", err)
	}
	// A damaged file is a miss, rendered again, not an error.
	os.WriteFile(filepath.Join(dir, "0f", sha+"-p5-s128.png"), []byte("not a png"), 0o600)
	if _, ok, err := s.Get(sha, 5, 128); ok || err != nil {
		t.Errorf("damaged thumbnail: ok %v err %v, want a miss", ok, err)
	}
	for _, bad := range []string{"", "../../etc/passwd", strings.Repeat("0F", 32)} {
		if err := s.Put(bad, 0, 128, img); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}
