package app

import (
	"context"
	"fmt"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/sync/wire"
)

// RemarkOnNew is a remark made on the old version, carried to the new
// one: the pages it is on in both (from 0; NewPage -1 when its page was
// removed), its place in both (page points, top-left origin, y down; both
// empty when the remark names only a page) and whether something changed
// under it.
type RemarkOnNew struct {
	Remark           wire.Remark
	OldPage, NewPage int
	OldRect, NewRect pdfrender.Rect
	Changed          bool
	// Regions are the changed regions under the remark (all of the
	// page's for a remark without a place).
	Regions []DiffRegion
}

// HasRect reports whether the remark has a place on its page.
func (r RemarkOnNew) HasRect() bool { return !r.OldRect.Empty() }

// anchorSlack widens a remark's place when looking for changes under it:
// an expert's rectangle drawn around a dimension rarely covers the
// dimension's every pixel.
const anchorSlack = 4.0

// MapRect carries a rectangle from page from to page to: unchanged for
// pages of the same size, scaled with the page otherwise (a sheet
// reissued in another format keeps its drawing in proportion).
func MapRect(r pdfrender.Rect, from, to pdfrender.PageInfo) pdfrender.Rect {
	if from == to || from.Width <= 0 || from.Height <= 0 {
		return r
	}
	sx, sy := to.Width/from.Width, to.Height/from.Height
	return pdfrender.Rect{X0: r.X0 * sx, Y0: r.Y0 * sy, X1: r.X1 * sx, Y1: r.Y1 * sy}
}

func intersects(a, b pdfrender.Rect) bool {
	return a.X0 < b.X1 && b.X0 < a.X1 && a.Y0 < b.Y1 && b.Y0 < a.Y1
}

// MapRemarks carries the remarks anchored to pages of the old version to
// the new one through the page alignment and says which have a change
// under them: a remark with a place when a changed region meets it, a
// remark naming only a page when anything on that page changed, a remark
// whose page was removed always. Remarks on other versions, or on the old
// version as a whole, are left out. The pairs' diffs are computed as
// needed (and kept).
func (c *Compare) MapRemarks(ctx context.Context, remarks []wire.Remark) ([]RemarkOnNew, error) {
	oldID := c.Old.Version().ID
	rows := c.Rows()
	newOf := make(map[int]int, len(rows))
	for _, r := range rows {
		if r.Old >= 0 {
			newOf[r.Old] = r.New
		}
	}
	oldPages, newPages := c.Old.Doc().Pages, c.New.Doc().Pages
	var out []RemarkOnNew
	for _, rm := range remarks {
		if rm.VersionID != oldID || rm.Anchor == nil || rm.Anchor.Page < 1 || rm.Anchor.Page > len(oldPages) {
			continue
		}
		op := rm.Anchor.Page - 1
		m := RemarkOnNew{Remark: rm, OldPage: op, NewPage: newOf[op]}
		if rm.Anchor.Rect != nil {
			m.OldRect = RectFromWire(oldPages[op], *rm.Anchor.Rect)
		}
		if m.NewPage < 0 {
			m.Changed = true
			out = append(out, m)
			continue
		}
		if m.HasRect() {
			m.NewRect = MapRect(m.OldRect, oldPages[op], newPages[m.NewPage])
		}
		d, err := c.Diff(ctx, op, m.NewPage)
		if err != nil {
			return nil, fmt.Errorf("remark %d: %w", rm.ID, err)
		}
		probe := pdfrender.Rect{X0: m.NewRect.X0 - anchorSlack, Y0: m.NewRect.Y0 - anchorSlack, X1: m.NewRect.X1 + anchorSlack, Y1: m.NewRect.Y1 + anchorSlack}
		for _, g := range d.Regions {
			if !m.HasRect() || intersects(g.Rect, probe) {
				m.Regions = append(m.Regions, g)
			}
		}
		m.Changed = len(m.Regions) > 0
		out = append(out, m)
	}
	return out, nil
}
