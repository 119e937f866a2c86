package app

import (
	"image"
	"image/color"

	xdraw "golang.org/x/image/draw"

	"github.com/expertiza/expertiza/app/pdfrender"
)

// DiffOptions tune the visual difference of two page pictures. The zero
// value takes the defaults.
type DiffOptions struct {
	// DPI both pages are rendered at: 60 finds a changed dimension
	// figure on a drawing while an A1 sheet stays under 3 megapixels.
	DPI float64
	// Threshold is the grey-level difference (0–255) from which a pixel
	// counts as changed: anti-aliasing of the same drawing differs by less.
	Threshold int
	// Cell is the side in pixels of the cells changed pixels are counted
	// in; a cell with fewer than MinPixels changed pixels is noise.
	Cell, MinPixels int
	// Merge is the distance in points under which two changed areas are
	// one region (the letters of a changed word, the segments of a moved
	// symbol).
	Merge float64
}

func (o DiffOptions) withDefaults() DiffOptions {
	if o.DPI <= 0 {
		o.DPI = 60
	}
	if o.Threshold <= 0 {
		o.Threshold = 64
	}
	if o.Cell <= 0 {
		o.Cell = 4
	}
	if o.MinPixels <= 0 {
		o.MinPixels = 2
	}
	if o.Merge <= 0 {
		o.Merge = 12
	}
	return o
}

// DiffRegion is one changed place, in points of the new page (top-left
// origin, y down). Removed counts the pixels dark in the old page only,
// Added those dark in the new one only.
type DiffRegion struct {
	Rect           pdfrender.Rect
	Removed, Added int
}

// PageDiff is the visual difference of a pair of pages.
type PageDiff struct {
	Regions []DiffRegion
	// ChangedPixels is how many pixels differ, of Pixels compared.
	ChangedPixels, Pixels int
	// Resized is set when the pages differ in size: the old page was
	// scaled onto the new one before comparing.
	Resized bool
}

// Changed reports whether anything changed.
func (d PageDiff) Changed() bool { return len(d.Regions) > 0 }

// DiffImages compares two renderings of the same size pixel by pixel and
// returns the changed regions in pixels: changed pixels are counted per
// cell, cells over the noise floor are joined when closer than merge
// pixels, and each group's bounding box (of the cells' changed pixels,
// not of the joining margin) is a region. Removed/Added are counted per
// region.
func DiffImages(old, new *image.RGBA, opt DiffOptions) (regions []image.Rectangle, removed, added []int, changed int) {
	opt = opt.withDefaults()
	b := new.Bounds().Intersect(old.Bounds())
	cell := opt.Cell
	cw, ch := (b.Dx()+cell-1)/cell, (b.Dy()+cell-1)/cell
	if cw == 0 || ch == 0 {
		return nil, nil, nil, 0
	}
	counts := make([]int32, cw*ch)
	// Per cell: the tight box of its changed pixels and the two kinds.
	boxes := make([]image.Rectangle, cw*ch)
	rem := make([]int32, cw*ch)
	add := make([]int32, cw*ch)
	th := opt.Threshold
	for y := b.Min.Y; y < b.Max.Y; y++ {
		oi, ni := old.PixOffset(b.Min.X, y), new.PixOffset(b.Min.X, y)
		op, np := old.Pix[oi:oi+4*b.Dx()], new.Pix[ni:ni+4*b.Dx()]
		cy := (y - b.Min.Y) / cell
		for x := 0; 4*x < len(np); x++ {
			k := 4 * x
			go_ := (299*int(op[k]) + 587*int(op[k+1]) + 114*int(op[k+2])) / 1000
			gn := (299*int(np[k]) + 587*int(np[k+1]) + 114*int(np[k+2])) / 1000
			d := gn - go_
			if d < th && d > -th {
				continue
			}
			changed++
			c := cy*cw + x/cell
			counts[c]++
			px := image.Rect(b.Min.X+x, y, b.Min.X+x+1, y+1)
			if boxes[c].Empty() {
				boxes[c] = px
			} else {
				boxes[c] = boxes[c].Union(px)
			}
			if d > 0 {
				rem[c]++ // lighter now: something was taken away
			} else {
				add[c]++
			}
		}
	}
	if changed == 0 {
		return nil, nil, nil, 0
	}
	live := make([]bool, cw*ch)
	for i, n := range counts {
		live[i] = int(n) >= opt.MinPixels
	}
	// Group live cells within reach of each other (a flood fill over the
	// cells, reaching r cells in every direction).
	r := max(1, int(opt.Merge*opt.DPI/72)/cell)
	group := make([]int32, cw*ch)
	for i := range group {
		group[i] = -1
	}
	var stack []int
	for start, ok := range live {
		if !ok || group[start] >= 0 {
			continue
		}
		g := int32(len(regions))
		var box image.Rectangle
		var nr, na int
		group[start] = g
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			box = box.Union(boxes[c])
			nr += int(rem[c])
			na += int(add[c])
			cx, cy := c%cw, c/cw
			for yy := max(cy-r, 0); yy <= min(cy+r, ch-1); yy++ {
				for xx := max(cx-r, 0); xx <= min(cx+r, cw-1); xx++ {
					k := yy*cw + xx
					if live[k] && group[k] < 0 {
						group[k] = g
						stack = append(stack, k)
					}
				}
			}
		}
		regions = append(regions, box)
		removed = append(removed, nr)
		added = append(added, na)
	}
	// Boxes of separate groups may still overlap (an L-shaped change
	// beside a small one): merge until none do.
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(regions) && !merged; i++ {
			for j := i + 1; j < len(regions); j++ {
				if regions[i].Overlaps(regions[j]) {
					regions[i] = regions[i].Union(regions[j])
					removed[i] += removed[j]
					added[i] += added[j]
					regions = append(regions[:j], regions[j+1:]...)
					removed = append(removed[:j], removed[j+1:]...)
					added = append(added[:j], added[j+1:]...)
					merged = true
					break
				}
			}
		}
	}
	return regions, removed, added, changed
}

// DiffPages compares two page renderings at opt.DPI: the old page is
// scaled onto the new one's raster when their sizes differ, and the
// regions come back in points of the new page.
func DiffPages(old, new *image.RGBA, newPage pdfrender.PageInfo, opt DiffOptions) PageDiff {
	opt = opt.withDefaults()
	var d PageDiff
	if old.Bounds().Size() != new.Bounds().Size() {
		scaled := image.NewRGBA(new.Bounds())
		xdraw.ApproxBiLinear.Scale(scaled, scaled.Bounds(), old, old.Bounds(), xdraw.Src, nil)
		old, d.Resized = scaled, true
	}
	regions, rem, add, changed := DiffImages(old, new, opt)
	d.ChangedPixels, d.Pixels = changed, new.Bounds().Dx()*new.Bounds().Dy()
	v := pdfrender.View{Zoom: opt.DPI / 72}
	for i, r := range regions {
		r = r.Sub(new.Bounds().Min)
		x0, y0 := v.PixelToPoint(newPage, float64(r.Min.X), float64(r.Min.Y))
		x1, y1 := v.PixelToPoint(newPage, float64(r.Max.X), float64(r.Max.Y))
		d.Regions = append(d.Regions, DiffRegion{Rect: pdfrender.Rect{X0: x0, Y0: y0, X1: x1, Y1: y1}, Removed: rem[i], Added: add[i]})
	}
	return d
}

// Overlay colours (the usual ones of drawing-comparison tools): what only
// the old page has in red, what only the new one has in green, what both
// have in grey so the colours stand out.
var (
	OverlayRemoved = color.RGBA{R: 0xd0, G: 0x10, B: 0x10, A: 0xff}
	OverlayAdded   = color.RGBA{R: 0x10, G: 0xa0, B: 0x20, A: 0xff}
)

// OverlayInto draws into dst (the size of new) the overlay of two
// renderings of the same size: where they agree, the new page lightened;
// where the old one is darker, red; where the new one is, green — each as
// strong as the difference.
func OverlayInto(dst, old, new *image.RGBA) {
	b := new.Bounds().Intersect(old.Bounds()).Intersect(dst.Bounds())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		oi, ni, di := old.PixOffset(b.Min.X, y), new.PixOffset(b.Min.X, y), dst.PixOffset(b.Min.X, y)
		op, np, dp := old.Pix[oi:oi+4*b.Dx()], new.Pix[ni:ni+4*b.Dx()], dst.Pix[di:di+4*b.Dx()]
		for k := 0; k+3 < len(np); k += 4 {
			go_ := (299*int(op[k]) + 587*int(op[k+1]) + 114*int(op[k+2])) / 1000
			gn := (299*int(np[k]) + 587*int(np[k+1]) + 114*int(np[k+2])) / 1000
			d := gn - go_
			switch {
			case d > 32: // darker before: removed
				mix(dp[k:k+4:k+4], OverlayRemoved, d)
			case d < -32: // darker now: added
				mix(dp[k:k+4:k+4], OverlayAdded, -d)
			default:
				// Unchanged: the new page at 60 % contrast.
				g := uint8(255 - (255-gn)*6/10)
				dp[k], dp[k+1], dp[k+2], dp[k+3] = g, g, g, 0xff
			}
		}
	}
}

// mix is white blended towards c by strength/255.
func mix(p []uint8, c color.RGBA, strength int) {
	s := min(255, strength*3/2)
	p[0] = uint8(255 - (255-int(c.R))*s/255)
	p[1] = uint8(255 - (255-int(c.G))*s/255)
	p[2] = uint8(255 - (255-int(c.B))*s/255)
	p[3] = 0xff
}
