package pdfrender

import (
	"fmt"
	"math"
)

// View is how a page is shown: Zoom pixels per point (1 = 72 DPI) and a
// rotation on top of the page's own /Rotate.
type View struct {
	Zoom     float64
	Rotation Rotation
}

// Validate says what is wrong with v, if anything.
func (v View) Validate() error {
	if math.IsNaN(v.Zoom) || v.Zoom < MinZoom || v.Zoom > MaxZoom {
		return fmt.Errorf("pdfrender: zoom %v outside [%v, %v]", v.Zoom, MinZoom, MaxZoom)
	}
	if v.Rotation < 0 || v.Rotation > 3 {
		return fmt.Errorf("pdfrender: rotation %d is not 0..3 quarter turns", v.Rotation)
	}
	return nil
}

// DPI is the resolution v renders at.
func (v View) DPI() float64 { return v.Zoom * 72 }

// pixels rounds a length in pixels up, forgiving the float noise of a size
// like 595.0000001 so it does not gain a whole blank column.
func pixels(f float64) int { return max(1, int(math.Ceil(f-1e-6))) }

// unrotated is the page raster size before the view rotation.
func (v View) unrotated(p PageInfo) (w, h int) {
	return pixels(p.Width * v.Zoom), pixels(p.Height * v.Zoom)
}

// RasterSize is the size in pixels of the whole page at v.
func (v View) RasterSize(p PageInfo) (w, h int) {
	w, h = v.unrotated(p)
	if v.Rotation%2 == 1 {
		return h, w
	}
	return w, h
}

// TileGrid is how many tiles cover the page raster at v.
func (v View) TileGrid(p PageInfo) (cols, rows int) {
	w, h := v.RasterSize(p)
	return (w + TileSize - 1) / TileSize, (h + TileSize - 1) / TileSize
}

// TileBounds is the pixel rectangle of tile (tx, ty) in the page raster;
// ok is false when the tile lies outside the raster.
func (v View) TileBounds(p PageInfo, tx, ty int) (x0, y0, x1, y1 int, ok bool) {
	w, h := v.RasterSize(p)
	x0, y0 = tx*TileSize, ty*TileSize
	if tx < 0 || ty < 0 || x0 >= w || y0 >= h {
		return 0, 0, 0, 0, false
	}
	return x0, y0, min(x0+TileSize, w), min(y0+TileSize, h), true
}

// scale is the exact pixels-per-point of the raster along each page axis
// (the raster size is rounded to whole pixels, so it differs from Zoom by
// less than a pixel over the page).
func (v View) scale(p PageInfo) (sx, sy float64) {
	w, h := v.unrotated(p)
	return float64(w) / p.Width, float64(h) / p.Height
}

// PointToPixel maps a point of the page to the page raster at v.
func (v View) PointToPixel(p PageInfo, x, y float64) (px, py float64) {
	sx, sy := v.scale(p)
	w, h := v.unrotated(p)
	x, y = x*sx, y*sy
	switch v.Rotation {
	case 1:
		return float64(h) - y, x
	case 2:
		return float64(w) - x, float64(h) - y
	case 3:
		return y, float64(w) - x
	}
	return x, y
}

// PixelToPoint maps a pixel of the page raster at v back to page points.
func (v View) PixelToPoint(p PageInfo, px, py float64) (x, y float64) {
	sx, sy := v.scale(p)
	w, h := v.unrotated(p)
	switch v.Rotation {
	case 1:
		x, y = py, float64(h)-px
	case 2:
		x, y = float64(w)-px, float64(h)-py
	case 3:
		x, y = float64(w)-py, px
	default:
		x, y = px, py
	}
	return x / sx, y / sy
}

// RectToPixels maps a rectangle in page points to the page raster at v.
func (v View) RectToPixels(p PageInfo, r Rect) Rect {
	ax, ay := v.PointToPixel(p, r.X0, r.Y0)
	bx, by := v.PointToPixel(p, r.X1, r.Y1)
	return Rect{min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)}
}

// FitZoom is the zoom that fits the page (rotated by rot) in w×h pixels.
func FitZoom(p PageInfo, rot Rotation, w, h int) float64 {
	pw, ph := p.Width, p.Height
	if rot%2 == 1 {
		pw, ph = ph, pw
	}
	z := min(float64(w)/pw, float64(h)/ph)
	return min(max(z, MinZoom), MaxZoom)
}
