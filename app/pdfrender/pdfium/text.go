package pdfium

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/klippa-app/go-pdfium/enums"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/responses"

	"github.com/expertiza/expertiza/app/pdfrender"
)

// xform maps PDF user space (origin bottom-left, y up, before /Rotate,
// offset by the crop box) to page points (origin top-left of the page as
// displayed, y down): user = u0 + A·(x, y). pdfium's text and annotation
// APIs speak user space and do not flip anything themselves.
type xform struct {
	u0x, u0y           float64
	a11, a12, a21, a22 float64
}

// xformDevice is the device square the mapping is sampled on; the mapping
// is affine, so the size only has to be a positive integer.
const xformDevice = 1000

// xform learns the mapping from pdfium itself (FPDF_DeviceToPage at three
// corners of the unrotated display), so crop boxes, /Rotate and odd
// origins are handled exactly as the renderer draws them.
func (w *worker) xform(d *docState, ref references.FPDF_DOCUMENT, page int) (xform, error) {
	d.mu.Lock()
	x, ok := d.xforms[page]
	d.mu.Unlock()
	if ok {
		return x, nil
	}
	pi, err := d.page(page)
	if err != nil {
		return xform{}, err
	}
	at := func(dx, dy int) (float64, float64, error) {
		res, err := w.inst.FPDF_DeviceToPage(&requests.FPDF_DeviceToPage{
			Page: pageReq(ref, page), SizeX: xformDevice, SizeY: xformDevice, DeviceX: dx, DeviceY: dy,
		})
		if err != nil {
			return 0, 0, fmt.Errorf("page %d geometry: %w", page+1, err)
		}
		return res.PageX, res.PageY, nil
	}
	u0x, u0y, err := at(0, 0)
	if err != nil {
		return xform{}, err
	}
	u1x, u1y, err := at(xformDevice, 0)
	if err != nil {
		return xform{}, err
	}
	u2x, u2y, err := at(0, xformDevice)
	if err != nil {
		return xform{}, err
	}
	x = xform{
		u0x: u0x, u0y: u0y,
		a11: (u1x - u0x) / pi.Width, a12: (u2x - u0x) / pi.Height,
		a21: (u1y - u0y) / pi.Width, a22: (u2y - u0y) / pi.Height,
	}
	if x.a11*x.a22-x.a12*x.a21 == 0 {
		return xform{}, fmt.Errorf("page %d of %s has a degenerate geometry", page+1, d.info.Path)
	}
	d.mu.Lock()
	d.xforms[page] = x
	d.mu.Unlock()
	return x, nil
}

// toPage maps a user-space point to page points.
func (x xform) toPage(ux, uy float64) (float64, float64) {
	dx, dy := ux-x.u0x, uy-x.u0y
	det := x.a11*x.a22 - x.a12*x.a21
	return (x.a22*dx - x.a12*dy) / det, (-x.a21*dx + x.a11*dy) / det
}

// toUser maps a point in page points to user space.
func (x xform) toUser(px, py float64) (float64, float64) {
	return x.u0x + x.a11*px + x.a12*py, x.u0y + x.a21*px + x.a22*py
}

// rect maps a user-space box (any two opposite corners) to page points.
func (x xform) rect(l, t, r, b float64) pdfrender.Rect {
	ax, ay := x.toPage(l, t)
	bx, by := x.toPage(r, b)
	return pdfrender.Rect{X0: min(ax, bx), Y0: min(ay, by), X1: max(ax, bx), Y1: max(ay, by)}
}

// withText runs fn with the page's text page and closes it after.
func (w *worker) withText(d *docState, page int, fn func(ref references.FPDF_DOCUMENT, tp references.FPDF_TEXTPAGE, x xform) error) error {
	ref, err := w.ref(d)
	if err != nil {
		return err
	}
	if _, err := d.page(page); err != nil {
		return err
	}
	x, err := w.xform(d, ref, page)
	if err != nil {
		return err
	}
	tp, err := w.inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: pageReq(ref, page)})
	if err != nil {
		return fmt.Errorf("text of page %d of %s: %w", page+1, d.info.Path, err)
	}
	defer w.inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	return fn(ref, tp.TextPage, x)
}

// SearchPage finds every occurrence of query on the page. pdfium matches
// without case by default, for Cyrillic as well.
func (r *Renderer) SearchPage(ctx context.Context, id pdfrender.DocID, page int, query string) ([]pdfrender.Hit, error) {
	if strings.TrimSpace(query) == "" {
		return nil, nil
	}
	d, err := r.doc(id)
	if err != nil {
		return nil, err
	}
	return do(ctx, r, nil, func(w *worker) ([]pdfrender.Hit, error) {
		return w.search(d, page, query)
	})
}

func (w *worker) search(d *docState, page int, query string) ([]pdfrender.Hit, error) {
	var hits []pdfrender.Hit
	err := w.withText(d, page, func(_ references.FPDF_DOCUMENT, tp references.FPDF_TEXTPAGE, x xform) error {
		s, err := w.inst.FPDFText_FindStart(&requests.FPDFText_FindStart{TextPage: tp, Find: query, StartIndex: 0})
		if err != nil {
			return fmt.Errorf("search page %d: %w", page+1, err)
		}
		defer w.inst.FPDFText_FindClose(&requests.FPDFText_FindClose{Search: s.Search})
		for {
			next, err := w.inst.FPDFText_FindNext(&requests.FPDFText_FindNext{Search: s.Search})
			if err != nil {
				return fmt.Errorf("search page %d: %w", page+1, err)
			}
			if !next.GotMatch {
				return nil
			}
			at, err := w.inst.FPDFText_GetSchResultIndex(&requests.FPDFText_GetSchResultIndex{Search: s.Search})
			if err != nil {
				return fmt.Errorf("search page %d: %w", page+1, err)
			}
			n, err := w.inst.FPDFText_GetSchCount(&requests.FPDFText_GetSchCount{Search: s.Search})
			if err != nil {
				return fmt.Errorf("search page %d: %w", page+1, err)
			}
			rc, err := w.inst.FPDFText_CountRects(&requests.FPDFText_CountRects{TextPage: tp, StartIndex: at.Index, Count: n.Count})
			if err != nil {
				return fmt.Errorf("search page %d: %w", page+1, err)
			}
			hit := pdfrender.Hit{Page: page, CharIndex: at.Index}
			for i := range rc.Count {
				b, err := w.inst.FPDFText_GetRect(&requests.FPDFText_GetRect{TextPage: tp, Index: i})
				if err != nil {
					return fmt.Errorf("search page %d: %w", page+1, err)
				}
				hit.Rects = append(hit.Rects, x.rect(b.Left, b.Top, b.Right, b.Bottom))
			}
			hits = append(hits, hit)
		}
	})
	return hits, err
}

// Search runs over all pages, each page a separate request so a cancelled
// search stops between pages and tiles get their turn in between.
func (r *Renderer) Search(ctx context.Context, id pdfrender.DocID, query string) ([]pdfrender.Hit, error) {
	d, err := r.doc(id)
	if err != nil {
		return nil, err
	}
	var all []pdfrender.Hit
	for p := range d.info.Pages {
		hits, err := r.SearchPage(ctx, id, p, query)
		if err != nil {
			return all, err
		}
		all = append(all, hits...)
	}
	return all, nil
}

// TextInRect is the text pdfium finds inside r.
func (r *Renderer) TextInRect(ctx context.Context, id pdfrender.DocID, page int, rect pdfrender.Rect) (string, error) {
	d, err := r.doc(id)
	if err != nil {
		return "", err
	}
	return do(ctx, r, nil, func(w *worker) (string, error) {
		var text string
		err := w.withText(d, page, func(_ references.FPDF_DOCUMENT, tp references.FPDF_TEXTPAGE, x xform) error {
			ax, ay := x.toUser(rect.X0, rect.Y0)
			bx, by := x.toUser(rect.X1, rect.Y1)
			res, err := w.inst.FPDFText_GetBoundedText(&requests.FPDFText_GetBoundedText{
				TextPage: tp, Left: min(ax, bx), Right: max(ax, bx), Top: max(ay, by), Bottom: min(ay, by),
			})
			if err != nil {
				return fmt.Errorf("text in a rectangle of page %d: %w", page+1, err)
			}
			text = strings.ReplaceAll(res.Text, "\r\n", "\n")
			return nil
		})
		return text, err
	})
}

// Chars are the page's characters with boxes in page points.
func (r *Renderer) Chars(ctx context.Context, id pdfrender.DocID, page int) ([]pdfrender.Char, error) {
	d, err := r.doc(id)
	if err != nil {
		return nil, err
	}
	return do(ctx, r, nil, func(w *worker) ([]pdfrender.Char, error) {
		ref, err := w.ref(d)
		if err != nil {
			return nil, err
		}
		if _, err := d.page(page); err != nil {
			return nil, err
		}
		x, err := w.xform(d, ref, page)
		if err != nil {
			return nil, err
		}
		res, err := w.inst.GetPageTextStructured(&requests.GetPageTextStructured{
			Page: pageReq(ref, page), Mode: requests.GetPageTextStructuredModeChars,
		})
		if err != nil {
			return nil, fmt.Errorf("characters of page %d of %s: %w", page+1, d.info.Path, err)
		}
		out := make([]pdfrender.Char, 0, len(res.Chars))
		for _, c := range res.Chars {
			ch, _ := utf8.DecodeRuneInString(c.Text)
			if c.Text == "" {
				ch = utf8.RuneError
			}
			p := c.PointPosition
			var box pdfrender.Rect
			if p.Right > p.Left && p.Top > p.Bottom {
				box = x.rect(p.Left, p.Top, p.Right, p.Bottom)
			}
			out = append(out, pdfrender.Char{Rune: ch, Box: box})
		}
		return out, nil
	})
}

// Outline walk bounds.
const (
	maxOutlineItems = 10000
	maxOutlineDepth = 32
)

// Outline walks the bookmarks with pdfium's primitive calls, bounded (a
// crafted file can make the sibling chain loop, and pdfium does not notice).
// go-pdfium v1.20.0's wasm FPDFBookmark_GetDest calls the wrong export, so
// direct /Dest pages come from the library's GetBookmarks, which reads them
// correctly but fails on an empty title and has no bound: it runs only
// over a tree the bounded walk found finite, and its pages are merged in.
func (r *Renderer) Outline(ctx context.Context, id pdfrender.DocID) ([]pdfrender.OutlineItem, error) {
	d, err := r.doc(id)
	if err != nil {
		return nil, err
	}
	return do(ctx, r, nil, func(w *worker) ([]pdfrender.OutlineItem, error) {
		ref, err := w.ref(d)
		if err != nil {
			return nil, err
		}
		count, truncated := 0, false
		var walk func(parent *references.FPDF_BOOKMARK, depth int) ([]pdfrender.OutlineItem, error)
		walk = func(parent *references.FPDF_BOOKMARK, depth int) ([]pdfrender.OutlineItem, error) {
			first, err := w.inst.FPDFBookmark_GetFirstChild(&requests.FPDFBookmark_GetFirstChild{Document: ref, Bookmark: parent})
			if err != nil {
				return nil, fmt.Errorf("outline of %s: %w", d.info.Path, err)
			}
			if first.Bookmark != nil && depth >= maxOutlineDepth {
				truncated = true
				return nil, nil
			}
			var items []pdfrender.OutlineItem
			for bm := first.Bookmark; bm != nil; {
				if count++; count > maxOutlineItems {
					truncated = true
					break
				}
				item := pdfrender.OutlineItem{Page: w.actionPage(ref, *bm)}
				if t, err := w.inst.FPDFBookmark_GetTitle(&requests.FPDFBookmark_GetTitle{Bookmark: *bm}); err == nil {
					item.Title = t.Title
				}
				if item.Children, err = walk(bm, depth+1); err != nil {
					return nil, err
				}
				items = append(items, item)
				next, err := w.inst.FPDFBookmark_GetNextSibling(&requests.FPDFBookmark_GetNextSibling{Document: ref, Bookmark: *bm})
				if err != nil {
					return nil, fmt.Errorf("outline of %s: %w", d.info.Path, err)
				}
				bm = next.Bookmark
			}
			return items, nil
		}
		items, err := walk(nil, 0)
		if err != nil {
			return nil, err
		}
		if truncated {
			r.log.Warn("outline cut at its bound: it loops or is too large", "path", d.info.Path, "items", maxOutlineItems, "depth", maxOutlineDepth)
			return items, nil
		}
		if all, err := w.inst.GetBookmarks(&requests.GetBookmarks{Document: ref}); err == nil {
			mergeDestPages(items, all.Bookmarks)
		}
		return items, nil
	})
}

// mergeDestPages fills the pages of items that have none from the same
// positions in the library's bookmark tree.
func mergeDestPages(items []pdfrender.OutlineItem, lib []responses.GetBookmarksBookmark) {
	for i := range min(len(items), len(lib)) {
		if items[i].Page < 0 && lib[i].DestInfo != nil && lib[i].DestInfo.PageIndex >= 0 {
			items[i].Page = lib[i].DestInfo.PageIndex
		}
		mergeDestPages(items[i].Children, lib[i].Children)
	}
}

// actionPage is the page a bookmark's GoTo action leads to, -1 when it
// has none or it leads outside the file.
func (w *worker) actionPage(ref references.FPDF_DOCUMENT, bm references.FPDF_BOOKMARK) int {
	act, err := w.inst.FPDFBookmark_GetAction(&requests.FPDFBookmark_GetAction{Bookmark: bm})
	if err != nil || act.Action == nil {
		return -1
	}
	typ, err := w.inst.FPDFAction_GetType(&requests.FPDFAction_GetType{Action: *act.Action})
	if err != nil || typ.Type != enums.FPDF_ACTION_ACTION_GOTO {
		return -1
	}
	dest, err := w.inst.FPDFAction_GetDest(&requests.FPDFAction_GetDest{Document: ref, Action: *act.Action})
	if err != nil || dest.Dest == nil {
		return -1
	}
	idx, err := w.inst.FPDFDest_GetDestPageIndex(&requests.FPDFDest_GetDestPageIndex{Document: ref, Dest: *dest.Dest})
	if err != nil || idx.Index < 0 {
		return -1
	}
	return idx.Index
}

// annotSubtypes are the PDF names of pdfium's annotation subtypes.
var annotSubtypes = map[enums.FPDF_ANNOTATION_SUBTYPE]string{
	enums.FPDF_ANNOT_SUBTYPE_TEXT: "Text", enums.FPDF_ANNOT_SUBTYPE_LINK: "Link",
	enums.FPDF_ANNOT_SUBTYPE_FREETEXT: "FreeText", enums.FPDF_ANNOT_SUBTYPE_LINE: "Line",
	enums.FPDF_ANNOT_SUBTYPE_SQUARE: "Square", enums.FPDF_ANNOT_SUBTYPE_CIRCLE: "Circle",
	enums.FPDF_ANNOT_SUBTYPE_POLYGON: "Polygon", enums.FPDF_ANNOT_SUBTYPE_POLYLINE: "PolyLine",
	enums.FPDF_ANNOT_SUBTYPE_HIGHLIGHT: "Highlight", enums.FPDF_ANNOT_SUBTYPE_UNDERLINE: "Underline",
	enums.FPDF_ANNOT_SUBTYPE_SQUIGGLY: "Squiggly", enums.FPDF_ANNOT_SUBTYPE_STRIKEOUT: "StrikeOut",
	enums.FPDF_ANNOT_SUBTYPE_STAMP: "Stamp", enums.FPDF_ANNOT_SUBTYPE_CARET: "Caret",
	enums.FPDF_ANNOT_SUBTYPE_INK: "Ink", enums.FPDF_ANNOT_SUBTYPE_POPUP: "Popup",
	enums.FPDF_ANNOT_SUBTYPE_FILEATTACHMENT: "FileAttachment", enums.FPDF_ANNOT_SUBTYPE_SOUND: "Sound",
	enums.FPDF_ANNOT_SUBTYPE_MOVIE: "Movie", enums.FPDF_ANNOT_SUBTYPE_WIDGET: "Widget",
	enums.FPDF_ANNOT_SUBTYPE_SCREEN: "Screen", enums.FPDF_ANNOT_SUBTYPE_PRINTERMARK: "PrinterMark",
	enums.FPDF_ANNOT_SUBTYPE_TRAPNET: "TrapNet", enums.FPDF_ANNOT_SUBTYPE_WATERMARK: "Watermark",
	enums.FPDF_ANNOT_SUBTYPE_THREED: "3D", enums.FPDF_ANNOT_SUBTYPE_RICHMEDIA: "RichMedia",
	enums.FPDF_ANNOT_SUBTYPE_REDACT: "Redact",
}

// Annotations lists the page's annotations except pop-ups (a pop-up only
// shows its parent's /Contents, which the parent already carries).
func (r *Renderer) Annotations(ctx context.Context, id pdfrender.DocID, page int) ([]pdfrender.Annotation, error) {
	d, err := r.doc(id)
	if err != nil {
		return nil, err
	}
	return do(ctx, r, nil, func(w *worker) ([]pdfrender.Annotation, error) {
		ref, err := w.ref(d)
		if err != nil {
			return nil, err
		}
		if _, err := d.page(page); err != nil {
			return nil, err
		}
		x, err := w.xform(d, ref, page)
		if err != nil {
			return nil, err
		}
		pg := pageReq(ref, page)
		n, err := w.inst.FPDFPage_GetAnnotCount(&requests.FPDFPage_GetAnnotCount{Page: pg})
		if err != nil {
			return nil, fmt.Errorf("annotations of page %d of %s: %w", page+1, d.info.Path, err)
		}
		var out []pdfrender.Annotation
		for i := range n.Count {
			a, err := w.inst.FPDFPage_GetAnnot(&requests.FPDFPage_GetAnnot{Page: pg, Index: i})
			if err != nil {
				return nil, fmt.Errorf("annotation %d of page %d: %w", i+1, page+1, err)
			}
			ann, keep := w.annotation(a.Annotation, x)
			w.inst.FPDFPage_CloseAnnot(&requests.FPDFPage_CloseAnnot{Annotation: a.Annotation})
			if keep {
				out = append(out, ann)
			}
		}
		return out, nil
	})
}

func (w *worker) annotation(a references.FPDF_ANNOTATION, x xform) (pdfrender.Annotation, bool) {
	var ann pdfrender.Annotation
	st, err := w.inst.FPDFAnnot_GetSubtype(&requests.FPDFAnnot_GetSubtype{Annotation: a})
	if err != nil || st.Subtype == enums.FPDF_ANNOT_SUBTYPE_POPUP {
		return ann, false
	}
	ann.Subtype = annotSubtypes[st.Subtype]
	if ann.Subtype == "" {
		ann.Subtype = "Unknown"
	}
	if rc, err := w.inst.FPDFAnnot_GetRect(&requests.FPDFAnnot_GetRect{Annotation: a}); err == nil {
		ann.Rect = x.rect(float64(rc.Rect.Left), float64(rc.Rect.Top), float64(rc.Rect.Right), float64(rc.Rect.Bottom))
	}
	// A missing key is an error in the library; it just means empty here.
	str := func(key string) string {
		v, err := w.inst.FPDFAnnot_GetStringValue(&requests.FPDFAnnot_GetStringValue{Annotation: a, Key: key})
		if err != nil {
			return ""
		}
		return v.Value
	}
	ann.Contents, ann.Author, ann.Modified = str("Contents"), str("T"), str("M")
	return ann, true
}
