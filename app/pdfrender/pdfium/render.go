package pdfium

import (
	"context"
	"fmt"
	"image"

	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/requests"

	"github.com/expertiza/expertiza/app/pdfrender"
)

// maxRasterPixels bounds RenderPage: 64 MP is 256 MiB of RGBA, and the
// bitmap lives in wasm memory, which never shrinks. Larger views use tiles.
const maxRasterPixels = 64 << 20

// renderFlags: annotations stored in the file are drawn (stamps, notes —
// they belong to the document as received); RGBA byte order for Go.
const renderFlags = enums.FPDF_RENDER_FLAG_ANNOT | enums.FPDF_RENDER_FLAG_REVERSE_BYTE_ORDER

// tileMargin is how far past its edges a tile is rendered and then cut:
// pdfium anti-aliases a path differently within a few pixels of the
// bitmap's edge (up to 119 of 255 levels on the A1 drawing), which showed
// as broken lines along the seams; with 8 pixels of margin a tile matches
// the full render within 3 levels, for 6% more pixels. Glyphs taller than
// the margin that cross its edge can still differ slightly.
const tileMargin = 8

// region renders the width×height pixel window at (x0, y0) of the page's
// raster at v, rendering margin pixels more on every side and keeping only
// the window. The whole page is laid out at raster size and shifted so only
// the window falls on the bitmap; pdfium clips to the bitmap and skips what
// lies outside, so a tile costs about its share of the page.
func (w *worker) region(d *docState, page int, v pdfrender.View, x0, y0, width, height, margin int) (*image.RGBA, error) {
	ref, err := w.ref(d)
	if err != nil {
		return nil, err
	}
	pi, err := d.page(page)
	if err != nil {
		return nil, err
	}
	fullW, fullH := v.RasterSize(pi)
	bw, bh := width+2*margin, height+2*margin
	bm, err := w.inst.FPDFBitmap_Create(&requests.FPDFBitmap_Create{Width: bw, Height: bh, Alpha: 1})
	if err != nil {
		return nil, fmt.Errorf("bitmap %dx%d: %w", bw, bh, err)
	}
	defer w.inst.FPDFBitmap_Destroy(&requests.FPDFBitmap_Destroy{Bitmap: bm.Bitmap})
	// Opaque white paper, as every viewer shows it.
	if _, err := w.inst.FPDFBitmap_FillRect(&requests.FPDFBitmap_FillRect{Bitmap: bm.Bitmap, Width: bw, Height: bh, Color: 0xFFFFFFFF}); err != nil {
		return nil, fmt.Errorf("fill bitmap: %w", err)
	}
	if _, err := w.inst.FPDF_RenderPageBitmap(&requests.FPDF_RenderPageBitmap{
		Bitmap: bm.Bitmap, Page: pageReq(ref, page),
		StartX: margin - x0, StartY: margin - y0, SizeX: fullW, SizeY: fullH,
		Rotate: enums.FPDF_PAGE_ROTATION(v.Rotation), Flags: renderFlags,
	}); err != nil {
		return nil, fmt.Errorf("render page %d of %s: %w", page+1, d.info.Path, err)
	}
	stride, err := w.inst.FPDFBitmap_GetStride(&requests.FPDFBitmap_GetStride{Bitmap: bm.Bitmap})
	if err != nil {
		return nil, fmt.Errorf("bitmap stride: %w", err)
	}
	buf, err := w.inst.FPDFBitmap_GetBuffer(&requests.FPDFBitmap_GetBuffer{Bitmap: bm.Bitmap})
	if err != nil {
		return nil, fmt.Errorf("bitmap buffer: %w", err)
	}
	// buf is a view into wasm memory, reused by the next render: copy it
	// out before the bitmap is destroyed.
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		src := (y+margin)*stride.Stride + margin*4
		copy(img.Pix[y*img.Stride:y*img.Stride+width*4], buf.Buffer[src:src+width*4])
	}
	return img, nil
}

// RenderTile renders one tile, from the LRU when it holds it.
func (r *Renderer) RenderTile(ctx context.Context, id pdfrender.DocID, page int, v pdfrender.View, tx, ty int) (*pdfrender.Tile, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	d, err := r.doc(id)
	if err != nil {
		return nil, err
	}
	pi, err := d.page(page)
	if err != nil {
		return nil, err
	}
	x0, y0, x1, y1, ok := v.TileBounds(pi, tx, ty)
	if !ok {
		cols, rows := v.TileGrid(pi)
		return nil, fmt.Errorf("tile (%d,%d) outside the %dx%d grid of page %d at zoom %v", tx, ty, cols, rows, page+1, v.Zoom)
	}
	key := pdfrender.NewTileKey(id, page, v, tx, ty)
	if img, ok := r.tiles.Get(key); ok {
		r.hits.Add(1)
		return &pdfrender.Tile{Image: img, X: x0, Y: y0}, nil
	}
	img, err := do(ctx, r, nil, func(w *worker) (*image.RGBA, error) {
		img, err := w.region(d, page, v, x0, y0, x1-x0, y1-y0, tileMargin)
		if err == nil {
			// Cached here, not by the caller: a tile whose requester gave
			// up mid-render is still worth keeping.
			r.rendered.Add(1)
			r.tiles.Put(key, img)
		}
		return img, err
	})
	if err != nil {
		return nil, err
	}
	return &pdfrender.Tile{Image: img, X: x0, Y: y0}, nil
}

// RenderPreview renders the page fitted into maxSide×maxSide, cached in the
// LRU like a tile.
func (r *Renderer) RenderPreview(ctx context.Context, id pdfrender.DocID, page int, rot pdfrender.Rotation, maxSide int) (*image.RGBA, error) {
	if maxSide < 1 || maxSide > 4096 {
		return nil, fmt.Errorf("preview size %d outside 1..4096 pixels", maxSide)
	}
	d, err := r.doc(id)
	if err != nil {
		return nil, err
	}
	pi, err := d.page(page)
	if err != nil {
		return nil, err
	}
	v := pdfrender.View{Zoom: pdfrender.FitZoom(pi, rot, maxSide, maxSide), Rotation: rot}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	key := pdfrender.TileKey{Doc: id, Page: page, Rotation: rot, TX: maxSide, Preview: true}
	if img, ok := r.tiles.Get(key); ok {
		r.hits.Add(1)
		return img, nil
	}
	img, err := r.whole(ctx, d, page, v)
	if err != nil {
		return nil, err
	}
	r.tiles.Put(key, img)
	return img, nil
}

// RenderPage renders the whole raster of a page at v, uncached.
func (r *Renderer) RenderPage(ctx context.Context, id pdfrender.DocID, page int, v pdfrender.View) (*image.RGBA, error) {
	if err := v.Validate(); err != nil {
		return nil, err
	}
	d, err := r.doc(id)
	if err != nil {
		return nil, err
	}
	return r.whole(ctx, d, page, v)
}

func (r *Renderer) whole(ctx context.Context, d *docState, page int, v pdfrender.View) (*image.RGBA, error) {
	pi, err := d.page(page)
	if err != nil {
		return nil, err
	}
	w, h := v.RasterSize(pi)
	if int64(w)*int64(h) > maxRasterPixels {
		return nil, fmt.Errorf("page %d at zoom %v is %dx%d pixels, over %d MP: render it in tiles", page+1, v.Zoom, w, h, maxRasterPixels>>20)
	}
	return do(ctx, r, nil, func(wk *worker) (*image.RGBA, error) {
		return wk.region(d, page, v, 0, 0, w, h, 0)
	})
}

// Thumbnail is the page fitted into size×size pixels, read from the
// thumbnail folder when it was rendered before (by any run).
func (r *Renderer) Thumbnail(ctx context.Context, id pdfrender.DocID, page int, size int) (*image.RGBA, error) {
	if size < 16 || size > 1024 {
		return nil, fmt.Errorf("thumbnail size %d outside 16..1024 pixels", size)
	}
	d, err := r.doc(id)
	if err != nil {
		return nil, err
	}
	if _, err := d.page(page); err != nil {
		return nil, err
	}
	var sha string
	if r.thumbs != nil {
		if sha, err = d.hash(); err != nil {
			return nil, err
		}
		img, ok, err := r.thumbs.Get(sha, page, size)
		if err != nil {
			return nil, err
		}
		if ok {
			r.thumbHits.Add(1)
			return img, nil
		}
	}
	pi, _ := d.page(page)
	img, err := r.whole(ctx, d, page, pdfrender.View{Zoom: pdfrender.FitZoom(pi, 0, size, size)})
	if err != nil {
		return nil, err
	}
	if r.thumbs != nil {
		if err := r.thumbs.Put(sha, page, size, img); err != nil {
			// A thumbnail that cannot be saved is still shown.
			r.log.Warn("save thumbnail", "path", d.info.Path, "page", page+1, "err", err)
		} else {
			r.thumbWrites.Add(1)
		}
	}
	return img, nil
}
