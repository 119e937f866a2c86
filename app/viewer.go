package app

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/sync/wire"
)

// Viewer zoom: 100 % shows one PDF point per screen unit; the steps are
// those of the zoom buttons and Ctrl+plus/minus.
const (
	ViewerMinZoom = 0.10
	ViewerMaxZoom = 8.00
	// ViewerGap is the space between pages and around them, in screen units.
	ViewerGap = 12
)

var zoomSteps = []float64{0.10, 0.25, 0.33, 0.50, 0.67, 0.75, 1, 1.25, 1.50, 2, 3, 4, 6, 8}

// Fit says whether the zoom follows the window: fit width and fit page
// are kept when the window is resized; any explicit zoom ends them.
type Fit int

const (
	FitNone Fit = iota
	FitWidth
	FitPage
)

// IsPDF reports whether the viewer can show version v: the server names
// the kind it detected from the content; older rows only have the name.
func IsPDF(v wire.DocumentVersion) bool {
	if v.Kind != "" {
		return v.Kind == "pdf"
	}
	return strings.EqualFold(filepath.Ext(v.FileName), ".pdf")
}

// OpenVersion is the "open for viewing" use case: it makes sure a verified
// copy of v is in the local file cache (downloading it if needed, never
// holding it whole in memory) and opens it in r.
func (w *Workspace) OpenVersion(ctx context.Context, r pdfrender.Renderer, v wire.DocumentVersion) (*Viewer, error) {
	if !IsPDF(v) {
		return nil, wire.E(wire.CodeInvalid, "file",
			"Просмотр доступен только для файлов PDF; этот файл можно скачать.",
			"Only PDF files can be viewed; download this file instead.")
	}
	path, err := w.LocalCopy(ctx, v)
	if err != nil {
		return nil, err
	}
	return OpenViewer(ctx, r, path, v)
}

// Viewer is one document open in the viewer: the renderer's document and
// what the user is looking at (page, zoom, rotation, fit) and searching
// for. Its methods are safe for concurrent use; the pictures are fetched
// by a TileLoader over Layout.Visible.
type Viewer struct {
	r       pdfrender.Renderer
	doc     *pdfrender.Document
	version wire.DocumentVersion

	mu     sync.Mutex
	page   int
	zoom   float64
	rot    pdfrender.Rotation
	fit    Fit
	search searchState
	closed bool
}

// OpenViewer opens the file at path, the content of version v, in r.
// The zoom starts at fit width.
func OpenViewer(ctx context.Context, r pdfrender.Renderer, path string, v wire.DocumentVersion) (*Viewer, error) {
	doc, err := r.Open(ctx, path, pdfrender.OpenOptions{SHA256: v.SHA256})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The user reads what to do; the log gets pdfium's reason.
		return nil, fmt.Errorf("%w (%w)", wire.E(wire.CodeInvalid, "file",
			"Файл не открывается как PDF: он повреждён или защищён паролем.",
			"The file does not open as a PDF: it is damaged or password-protected."), err)
	}
	if len(doc.Pages) == 0 {
		_ = r.CloseDoc(ctx, doc.ID)
		return nil, wire.E(wire.CodeInvalid, "file", "В файле PDF нет страниц.", "The PDF file has no pages.")
	}
	return &Viewer{r: r, doc: doc, version: v, zoom: 1, fit: FitWidth, search: searchState{current: -1}}, nil
}

// Renderer is the renderer the document is open in.
func (v *Viewer) Renderer() pdfrender.Renderer { return v.r }

// Doc is the open document: its id and page sizes.
func (v *Viewer) Doc() *pdfrender.Document { return v.doc }

// Version is the document version shown.
func (v *Viewer) Version() wire.DocumentVersion { return v.version }

// PageCount is the number of pages.
func (v *Viewer) PageCount() int { return len(v.doc.Pages) }

// Close closes the document in the renderer (the renderer stays, for the
// next document).
func (v *Viewer) Close(ctx context.Context) error {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return nil
	}
	v.closed = true
	v.search.gen++ // a search still running stops reporting
	v.mu.Unlock()
	return v.r.CloseDoc(ctx, v.doc.ID)
}

// Page is the current page (from 0).
func (v *Viewer) Page() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.page
}

// SetPage makes page current, clamped to the document; it returns the
// page set.
func (v *Viewer) SetPage(page int) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.page = min(max(page, 0), len(v.doc.Pages)-1)
	return v.page
}

// ParsePage reads a page number typed by the user (from 1) and returns
// the page index, or a clear error.
func (v *Viewer) ParsePage(s string) (int, error) {
	var n int
	if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err != nil || n < 1 || n > len(v.doc.Pages) {
		return 0, wire.E(wire.CodeInvalid, "page",
			fmt.Sprintf("Введите номер страницы от 1 до %d", len(v.doc.Pages)),
			fmt.Sprintf("Enter a page number from 1 to %d", len(v.doc.Pages)))
	}
	return n - 1, nil
}

// Zoom is the zoom (1 = 100 %) and whether it follows the window.
func (v *Viewer) Zoom() (float64, Fit) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.zoom, v.fit
}

// SetZoom sets an explicit zoom, clamped to 10–800 %, and returns it.
func (v *Viewer) SetZoom(z float64) float64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fit = FitNone
	v.zoom = clampZoom(z)
	return v.zoom
}

func clampZoom(z float64) float64 {
	if math.IsNaN(z) {
		return 1
	}
	return min(max(z, ViewerMinZoom), ViewerMaxZoom)
}

// ZoomIn moves to the next zoom step above the current zoom.
func (v *Viewer) ZoomIn() float64 {
	z, _ := v.Zoom()
	for _, s := range zoomSteps {
		if s > z*1.001 {
			return v.SetZoom(s)
		}
	}
	return v.SetZoom(ViewerMaxZoom)
}

// ZoomOut moves to the next zoom step below the current zoom.
func (v *Viewer) ZoomOut() float64 {
	z, _ := v.Zoom()
	for i := len(zoomSteps) - 1; i >= 0; i-- {
		if zoomSteps[i] < z/1.001 {
			return v.SetZoom(zoomSteps[i])
		}
	}
	return v.SetZoom(ViewerMinZoom)
}

// SetFit makes the zoom follow the window (FitWidth, FitPage); Apply
// computes it for a viewport.
func (v *Viewer) SetFit(f Fit) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.fit = f
}

// ApplyFit recomputes a fitted zoom for a viewport of w×h screen units
// (on the current page's size) and returns the zoom in force.
func (v *Viewer) ApplyFit(w, h float64) float64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.fit == FitNone || w <= 0 || h <= 0 {
		return v.zoom
	}
	p := v.doc.Pages[v.page]
	pw, ph := p.Width, p.Height
	if v.rot%2 == 1 {
		pw, ph = ph, pw
	}
	z := (w - 2*ViewerGap) / pw
	if v.fit == FitPage {
		z = min(z, (h-2*ViewerGap)/ph)
	}
	v.zoom = clampZoom(z)
	return v.zoom
}

// Rotation is the view rotation in quarter turns clockwise.
func (v *Viewer) Rotation() pdfrender.Rotation {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.rot
}

// Rotate turns every page a quarter turn clockwise.
func (v *Viewer) Rotate() pdfrender.Rotation {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.rot = (v.rot + 1) % 4
	return v.rot
}

// Layout lays the pages out at the current zoom and rotation for a screen
// of scale pixels per unit, at least minWidth pixels wide.
func (v *Viewer) Layout(scale float64, minWidth int) *Layout {
	v.mu.Lock()
	z, rot := v.zoom, v.rot
	v.mu.Unlock()
	if scale <= 0 {
		scale = 1
	}
	view := pdfrender.View{Zoom: min(z*scale, pdfrender.MaxZoom), Rotation: rot}
	return NewLayout(v.doc.Pages, view, int(math.Round(ViewerGap*scale)), minWidth)
}

// Outline is the document's bookmarks.
func (v *Viewer) Outline(ctx context.Context) ([]pdfrender.OutlineItem, error) {
	return v.r.Outline(ctx, v.doc.ID)
}

// Annotations are the annotations stored in the file on page.
func (v *Viewer) Annotations(ctx context.Context, page int) ([]pdfrender.Annotation, error) {
	return v.r.Annotations(ctx, v.doc.ID, page)
}

// TextInRect is the text of page inside r (page points), for copying.
func (v *Viewer) TextInRect(ctx context.Context, page int, r pdfrender.Rect) (string, error) {
	return v.r.TextInRect(ctx, v.doc.ID, page, r)
}

// searchState is the last search. gen tells a running search whether it
// is still the latest.
type searchState struct {
	gen      int
	query    string
	hits     []pdfrender.Hit
	byPage   map[int][]int // page → indexes into hits
	current  int           // index into hits, -1 when none
	searched int           // pages searched so far
	done     bool
}

// SearchStatus is what the search box shows.
type SearchStatus struct {
	Query    string
	Hits     int
	Current  int // from 0; -1 when there is no hit
	Searched int // pages searched so far
	Pages    int
	Done     bool
}

func (s *searchState) status(pages int) SearchStatus {
	return SearchStatus{Query: s.query, Hits: len(s.hits), Current: s.current, Searched: s.searched, Pages: pages, Done: s.done}
}

// Search finds query on every page, ignoring case, page by page so the
// count grows while a 500-page volume is searched; progress (may be nil)
// is called after each page. The first hit at or after the current page
// becomes current. A later Search (or Close) supersedes this one, which
// then returns context.Canceled; so does cancelling ctx.
func (v *Viewer) Search(ctx context.Context, query string, progress func(SearchStatus)) (SearchStatus, error) {
	query = strings.TrimSpace(query)
	v.mu.Lock()
	v.search = searchState{gen: v.search.gen + 1, query: query, byPage: map[int][]int{}, current: -1}
	gen, from := v.search.gen, v.page
	if query == "" {
		v.search.done = true
		st := v.search.status(len(v.doc.Pages))
		v.mu.Unlock()
		return st, nil
	}
	v.mu.Unlock()
	for page := range v.doc.Pages {
		hits, err := v.r.SearchPage(ctx, v.doc.ID, page, query)
		if err != nil {
			if ctx.Err() != nil {
				return SearchStatus{}, ctx.Err()
			}
			return SearchStatus{}, fmt.Errorf("search page %d: %w", page+1, err)
		}
		v.mu.Lock()
		if v.search.gen != gen || v.closed {
			v.mu.Unlock()
			return SearchStatus{}, context.Canceled
		}
		s := &v.search
		for _, h := range hits {
			s.byPage[page] = append(s.byPage[page], len(s.hits))
			s.hits = append(s.hits, h)
		}
		// The first hit on or after the page being read; failing that
		// (all hits are above it), the first hit of all.
		if len(hits) > 0 && (s.current < 0 || s.hits[s.current].Page < from) && page >= from {
			s.current = s.byPage[page][0]
		}
		s.searched = page + 1
		if page == len(v.doc.Pages)-1 {
			if s.current < 0 && len(s.hits) > 0 {
				s.current = 0
			}
			s.done = true
		}
		st := s.status(len(v.doc.Pages))
		v.mu.Unlock()
		if progress != nil {
			progress(st)
		}
	}
	return v.SearchStatus(), nil
}

// SearchStatus is the state of the last search.
func (v *Viewer) SearchStatus() SearchStatus {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.search.status(len(v.doc.Pages))
}

// CurrentHit is the current search hit; ok is false when there is none.
func (v *Viewer) CurrentHit() (pdfrender.Hit, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.search.current < 0 {
		return pdfrender.Hit{}, false
	}
	return v.search.hits[v.search.current], true
}

// NextHit makes the next hit current (after the last: the first) and
// returns it; PrevHit goes back. ok is false when nothing was found.
func (v *Viewer) NextHit() (pdfrender.Hit, bool) { return v.stepHit(1) }

// PrevHit makes the previous hit current (before the first: the last).
func (v *Viewer) PrevHit() (pdfrender.Hit, bool) { return v.stepHit(-1) }

func (v *Viewer) stepHit(d int) (pdfrender.Hit, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := &v.search
	n := len(s.hits)
	if n == 0 {
		return pdfrender.Hit{}, false
	}
	if s.current < 0 {
		s.current = 0
	} else {
		s.current = ((s.current+d)%n + n) % n
	}
	return s.hits[s.current], true
}

// HitsOn are the hits on page and, for each, whether it is the current
// one (drawn stronger).
func (v *Viewer) HitsOn(page int) (hits []pdfrender.Hit, current []bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, i := range v.search.byPage[page] {
		hits = append(hits, v.search.hits[i])
		current = append(current, i == v.search.current)
	}
	return hits, current
}
