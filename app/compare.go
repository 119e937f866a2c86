package app

import (
	"context"
	"fmt"
	"image"
	"math"
	"strings"
	"sync"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/sync/wire"
)

// PreviousVersion is the version before v in its document (versions are
// listed newest first); ok is false when v is the first or not listed.
func PreviousVersion(d wire.Document, v wire.DocumentVersion) (wire.DocumentVersion, bool) {
	for i, x := range d.Versions {
		if x.ID == v.ID {
			if i+1 < len(d.Versions) {
				return d.Versions[i+1], true
			}
			return wire.DocumentVersion{}, false
		}
	}
	return wire.DocumentVersion{}, false
}

// CompareMode is how a comparison is shown.
type CompareMode int

const (
	// CompareSideBySide shows the old page left of the new one, the pairs
	// one under the other, with one scroll and one zoom for both.
	CompareSideBySide CompareMode = iota
	// CompareOverlay shows the new page with what changed coloured: what
	// the old page had in red, what the new one has in green.
	CompareOverlay
)

// Compare is a comparison of two versions of a document, both open in
// the same renderer: the alignment of their pages, the visual difference
// of each pair (computed on demand and kept), the zoom the two are shown
// at, and the remarks on the old version carried over to the new one.
// Its methods are safe for concurrent use.
type Compare struct {
	Old, New *Viewer
	opt      DiffOptions

	mu      sync.Mutex
	rows    []PagePair
	aligned bool
	diffs   map[[2]int]*PageDiff
	zoom    float64
	fit     Fit
	mode    CompareMode
}

// NewCompare compares old with new. Until Align runs, pages are paired by
// position.
func NewCompare(old, new *Viewer, opt DiffOptions) *Compare {
	return &Compare{Old: old, New: new, opt: opt.withDefaults(),
		rows: IndexPairs(old.PageCount(), new.PageCount()), diffs: map[[2]int]*PageDiff{}, zoom: 1, fit: FitWidth}
}

// Close closes both documents.
func (c *Compare) Close(ctx context.Context) error {
	err1 := c.Old.Close(ctx)
	err2 := c.New.Close(ctx)
	if err1 != nil {
		return err1
	}
	return err2
}

// Rows are the page pairs in document order.
func (c *Compare) Rows() []PagePair {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]PagePair(nil), c.rows...)
}

// Aligned reports whether the rows come from the pages' contents (Align)
// rather than their positions.
func (c *Compare) Aligned() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.aligned
}

// Fingerprints reads the text of every page of v (and a small picture of
// the pages with little text) for the alignment. progress, when not nil,
// is told the pages done.
func Fingerprints(ctx context.Context, v *Viewer, progress func(done int)) ([]PageFingerprint, error) {
	r, doc := v.Renderer(), v.Doc()
	out := make([]PageFingerprint, len(doc.Pages))
	var b strings.Builder
	for i := range doc.Pages {
		chars, err := r.Chars(ctx, doc.ID, i)
		if err != nil {
			return nil, fmt.Errorf("text of page %d: %w", i+1, err)
		}
		b.Reset()
		for _, ch := range chars {
			b.WriteRune(ch.Rune)
		}
		text := b.String()
		out[i] = TextFingerprint(text)
		if needsVisual(text) {
			img, err := r.RenderPreview(ctx, doc.ID, i, 0, 64)
			if err != nil {
				return nil, fmt.Errorf("picture of page %d: %w", i+1, err)
			}
			out[i].Visual = VisualFingerprint(img)
		}
		if progress != nil {
			progress(i + 1)
		}
	}
	return out, nil
}

// Align pairs the pages by their contents (AlignPages over Fingerprints
// of both versions, read in parallel) and returns the rows.
func (c *Compare) Align(ctx context.Context) ([]PagePair, error) {
	var (
		wg         sync.WaitGroup
		fo, fn     []PageFingerprint
		errO, errN error
	)
	wg.Go(func() { fo, errO = Fingerprints(ctx, c.Old, nil) })
	wg.Go(func() { fn, errN = Fingerprints(ctx, c.New, nil) })
	wg.Wait()
	if errO != nil {
		return nil, fmt.Errorf("old version: %w", errO)
	}
	if errN != nil {
		return nil, fmt.Errorf("new version: %w", errN)
	}
	rows := AlignPages(fo, fn)
	c.mu.Lock()
	c.rows, c.aligned = rows, true
	c.mu.Unlock()
	return rows, nil
}

// Diff is the visual difference of the pair of old page op and new page
// np, rendered at the options' DPI, computed once. An inserted or removed
// page (op or np = -1) has no diff.
func (c *Compare) Diff(ctx context.Context, op, np int) (PageDiff, error) {
	if op < 0 || np < 0 || op >= c.Old.PageCount() || np >= c.New.PageCount() {
		return PageDiff{}, nil
	}
	key := [2]int{op, np}
	c.mu.Lock()
	if d := c.diffs[key]; d != nil {
		c.mu.Unlock()
		return *d, nil
	}
	c.mu.Unlock()
	v := pdfrender.View{Zoom: c.opt.DPI / 72}
	var (
		wg         sync.WaitGroup
		errO, errN error
	)
	var oldImg, newImg *image.RGBA
	wg.Go(func() { oldImg, errO = c.Old.Renderer().RenderPage(ctx, c.Old.Doc().ID, op, v) })
	wg.Go(func() { newImg, errN = c.New.Renderer().RenderPage(ctx, c.New.Doc().ID, np, v) })
	wg.Wait()
	if errO != nil {
		return PageDiff{}, fmt.Errorf("old page %d: %w", op+1, errO)
	}
	if errN != nil {
		return PageDiff{}, fmt.Errorf("new page %d: %w", np+1, errN)
	}
	d := DiffPages(oldImg, newImg, c.New.Doc().Pages[np], c.opt)
	c.mu.Lock()
	c.diffs[key] = &d
	c.mu.Unlock()
	return d, nil
}

// CachedDiff is the diff of a pair if it was computed.
func (c *Compare) CachedDiff(op, np int) (PageDiff, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d := c.diffs[[2]int{op, np}]
	if d == nil {
		return PageDiff{}, false
	}
	return *d, true
}

// Mode is how the comparison is shown.
func (c *Compare) Mode() CompareMode {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mode
}

// SetMode switches between side by side and overlay.
func (c *Compare) SetMode(m CompareMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mode = m
}

// Zoom is the one zoom of both versions (1 = 100 %) and whether it
// follows the window.
func (c *Compare) Zoom() (float64, Fit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.zoom, c.fit
}

// SetZoom sets an explicit zoom, clamped to 10–800 %.
func (c *Compare) SetZoom(z float64) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fit = FitNone
	c.zoom = clampZoom(z)
	return c.zoom
}

// ZoomIn moves to the next zoom step.
func (c *Compare) ZoomIn() float64 {
	z, _ := c.Zoom()
	for _, s := range zoomSteps {
		if s > z*1.001 {
			return c.SetZoom(s)
		}
	}
	return c.SetZoom(ViewerMaxZoom)
}

// ZoomOut moves to the previous zoom step.
func (c *Compare) ZoomOut() float64 {
	z, _ := c.Zoom()
	for i := len(zoomSteps) - 1; i >= 0; i-- {
		if zoomSteps[i] < z/1.001 {
			return c.SetZoom(zoomSteps[i])
		}
	}
	return c.SetZoom(ViewerMinZoom)
}

// SetFit makes the zoom follow the window.
func (c *Compare) SetFit(f Fit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fit = f
}

// ApplyFit recomputes a fitted zoom for a viewport of w×h units: the
// widest page of either version fits its column (two columns side by
// side, one in overlay), the tallest fits the height for FitPage.
func (c *Compare) ApplyFit(w, h float64) float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fit == FitNone || w <= 0 || h <= 0 {
		return c.zoom
	}
	var pw, ph float64
	for _, p := range c.Old.Doc().Pages {
		pw, ph = max(pw, p.Width), max(ph, p.Height)
	}
	for _, p := range c.New.Doc().Pages {
		pw, ph = max(pw, p.Width), max(ph, p.Height)
	}
	cols := 1.0
	if c.mode == CompareSideBySide {
		cols = 2
	}
	z := (w - (cols+1)*ViewerGap) / (cols * pw)
	if c.fit == FitPage {
		z = min(z, (h-2*ViewerGap)/ph)
	}
	c.zoom = clampZoom(z)
	return c.zoom
}

// Layout lays out the rows at the current zoom and mode for a screen of
// scale pixels per unit, at least minWidth pixels wide.
func (c *Compare) Layout(scale float64, minWidth int) *CompareLayout {
	c.mu.Lock()
	z, mode, rows := c.zoom, c.mode, c.rows
	c.mu.Unlock()
	if scale <= 0 {
		scale = 1
	}
	view := pdfrender.View{Zoom: min(z*scale, pdfrender.MaxZoom)}
	return NewCompareLayout(rows, c.Old.Doc().Pages, c.New.Doc().Pages, view, int(math.Round(ViewerGap*scale)), minWidth, mode)
}
