// Package pdfrender is the client's PDF rendering port (DESIGN.md §5): the
// interface the viewer and its tests depend on, the geometry shared by the
// tiles, the text and the overlay, a byte-bounded LRU of rendered tiles and
// the on-disk thumbnail store. The go-pdfium implementation lives in
// app/pdfrender/pdfium so code that only needs the port does not link the
// WebAssembly engine.
//
// Coordinates. Everything a Renderer reports about a page (search hits,
// character boxes, annotation rectangles, text selection rectangles) is in
// page points: 1/72 inch, origin at the top-left corner of the page as it is
// displayed with the page's own /Rotate applied, x to the right, y down. The
// PDF's user space (origin bottom-left, y up, before /Rotate) never leaks out.
// Pixels follow from a View: zoom is pixels per point (zoom 1 = 72 DPI, one
// pixel per point) and a view rotation in quarter turns clockwise on top of
// the page's /Rotate; View.PointToPixel and View.PixelToPoint convert.
package pdfrender

import (
	"context"
	"errors"
	"image"
)

// TileSize is the side of a tile in pixels; tiles on the right and bottom
// edges of a page raster are smaller.
const TileSize = 512

// Zoom limits: below MinZoom a page is a few pixels, above MaxZoom (2304
// DPI) the raster of an A0 sheet no longer fits pdfium's 32-bit sizes.
const (
	MinZoom = 0.01
	MaxZoom = 32.0
)

// ErrClosed is returned after Close.
var ErrClosed = errors.New("pdfrender: renderer closed")

// DocID names an open document inside one Renderer.
type DocID uint64

// Rotation is a view rotation in quarter turns clockwise (0..3).
type Rotation int

// PageInfo is one page's size in points as displayed: its /Rotate already
// applied, so a landscape sheet stored rotated reports landscape.
type PageInfo struct {
	Width, Height float64
}

// Document is what Open learns about a file without rendering anything.
type Document struct {
	ID     DocID
	Path   string
	SHA256 string // hex; given to Open or computed when first needed
	Pages  []PageInfo
}

// OpenOptions tune Open.
type OpenOptions struct {
	// SHA256 of the file (hex) when the caller already knows it — files come
	// from the content-addressed store, so it usually does. Otherwise it is
	// computed on the first thumbnail request.
	SHA256   string
	Password string
}

// Tile is one TileSize×TileSize (or smaller, at the edges) piece of a page
// raster. Image starts at (0,0); X, Y place it in the page raster. The image
// may be shared with the tile cache: callers must not modify it.
type Tile struct {
	Image *image.RGBA
	X, Y  int
}

// Rect is an axis-aligned rectangle in page points (X0 <= X1, Y0 <= Y1).
type Rect struct {
	X0, Y0, X1, Y1 float64
}

// Empty reports whether r has no area.
func (r Rect) Empty() bool { return r.X1 <= r.X0 || r.Y1 <= r.Y0 }

// Union is the smallest rectangle holding both; an empty side is ignored.
func (r Rect) Union(o Rect) Rect {
	if r.Empty() {
		return o
	}
	if o.Empty() {
		return r
	}
	return Rect{min(r.X0, o.X0), min(r.Y0, o.Y0), max(r.X1, o.X1), max(r.Y1, o.Y1)}
}

// OutlineItem is one bookmark. Page is -1 when the bookmark points nowhere
// inside the document (an external link or a broken destination).
type OutlineItem struct {
	Title    string
	Page     int
	Children []OutlineItem
}

// Hit is one search match: a match that wraps a line has several rectangles.
type Hit struct {
	Page      int
	CharIndex int // index of the first character in the page's text
	Rects     []Rect
}

// Char is one character of a page's text. Characters pdfium generates (the
// spaces and line breaks between text runs) have an empty Box.
type Char struct {
	Rune rune
	Box  Rect
}

// Annotation is an annotation stored inside the PDF, read for display only.
type Annotation struct {
	Subtype  string // PDF name without the slash: Text, Square, Highlight, …
	Rect     Rect
	Contents string
	Author   string // /T
	Modified string // /M as written in the file (a PDF date string)
}

// Stats count what a Renderer did; the viewer shows them in its debug panel
// and the tests assert on them.
type Stats struct {
	TilesRendered   int64
	TileCacheHits   int64
	Dropped         int64 // requests cancelled before they reached pdfium
	TileCacheBytes  int64
	TileCacheTiles  int
	ThumbnailHits   int64
	ThumbnailWrites int64
}

// Renderer renders and reads PDF files. All methods are safe for concurrent
// use; a request whose context is cancelled while it waits for a pdfium
// instance is dropped without rendering and returns the context's error.
type Renderer interface {
	// Open reads the document's page count and page sizes. The file stays
	// open (read on demand, never loaded whole) until CloseDoc.
	Open(ctx context.Context, path string, opt OpenOptions) (*Document, error)
	CloseDoc(ctx context.Context, doc DocID) error
	// PageRotation is the page's own /Rotate in quarter turns clockwise,
	// for information: page sizes and every coordinate already include it.
	// It loads the page, which is why Open does not read it.
	PageRotation(ctx context.Context, doc DocID, page int) (Rotation, error)

	// RenderTile renders tile (tx, ty) of the page raster at view v, with
	// the annotations stored in the file drawn as any viewer would; the
	// client's own annotations are an overlay and never enter a tile.
	RenderTile(ctx context.Context, doc DocID, page int, v View, tx, ty int) (*Tile, error)
	// RenderPreview renders the whole page fitted into maxSide×maxSide
	// pixels: the quick low-resolution picture shown while tiles arrive.
	RenderPreview(ctx context.Context, doc DocID, page int, rot Rotation, maxSide int) (*image.RGBA, error)
	// RenderPage renders the whole page raster at v (for export and
	// comparison; the viewer uses tiles).
	RenderPage(ctx context.Context, doc DocID, page int, v View) (*image.RGBA, error)
	// Thumbnail is the page fitted into size×size pixels, cached on disk
	// as PNG under the document's SHA-256, the page and the size.
	Thumbnail(ctx context.Context, doc DocID, page int, size int) (*image.RGBA, error)

	Outline(ctx context.Context, doc DocID) ([]OutlineItem, error)
	// SearchPage finds query on one page, ignoring case (Cyrillic too).
	SearchPage(ctx context.Context, doc DocID, page int, query string) ([]Hit, error)
	// Search runs SearchPage over every page in order.
	Search(ctx context.Context, doc DocID, query string) ([]Hit, error)
	// TextInRect is the text whose characters lie inside r, lines separated
	// by line breaks, for copying a selection.
	TextInRect(ctx context.Context, doc DocID, page int, r Rect) (string, error)
	// Chars are the page's characters with their boxes, for snapping
	// highlights and selections to the text.
	Chars(ctx context.Context, doc DocID, page int) ([]Char, error)
	// Annotations are the annotations stored in the file on that page.
	Annotations(ctx context.Context, doc DocID, page int) ([]Annotation, error)

	Stats() Stats
	Close() error
}
