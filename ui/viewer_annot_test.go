package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/samples"
	"github.com/expertiza/expertiza/sync/wire"
)

// annotFake is the server's annotation side for the screen tests: it
// keeps the rows' versions as the server does, refuses a stale version,
// and reaches the Store as the server's answers and events would.
type annotFake struct {
	nextID   int64
	creates  []wire.CreateAnnotationRequest
	updates  []annotUpdate
	deletes  [][2]int64 // id, seen version
	statuses []string
	replies  []string
	presence []string // "version:page"
	loads    []int64
}

type annotUpdate struct {
	id, seen int64
	ch       app.AnnotationChange
}

func (f *fakeBackend) annots() *annotFake {
	if f.annot == nil {
		f.annot = &annotFake{nextID: 700}
	}
	return f.annot
}

func (f *fakeBackend) emit(kind wire.EventKind, appID int64, data any) {
	b, _ := json.Marshal(data)
	if err := f.store.Apply(wire.Event{Kind: kind, AppID: appID, Data: b}); err != nil {
		panic(err)
	}
}

func (f *fakeBackend) LoadAnnotations(_ context.Context, versionID int64) error {
	a := f.annots()
	a.loads = append(a.loads, versionID)
	f.store.SetAnnotations(versionID, f.store.Annotations(versionID))
	return nil
}

func (f *fakeBackend) CreateAnnotation(_ context.Context, appID, versionID int64, r wire.CreateAnnotationRequest) (wire.Annotation, error) {
	a := f.annots()
	a.creates = append(a.creates, r)
	if f.offline {
		return wire.Annotation{}, f.queue(app.PendingCommand{Kind: app.CommandAnnotCreate, AppID: appID, Annot: &app.PendingAnnotation{VersionID: versionID, Create: &r}})
	}
	a.nextID++
	an := wire.Annotation{ID: a.nextID, AppID: appID, VersionID: versionID, Page: r.Page, Kind: r.Kind, Geometry: r.Geometry, Color: r.Color,
		Text: r.Text, Status: wire.AnnotOpen, AuthorID: f.me.ID, AuthorName: f.me.FullName, Version: 1}
	f.store.UpsertAnnotation(an)
	return an, nil
}

func (f *fakeBackend) current(id int64, seen int64) (wire.Annotation, error) {
	cur, ok := f.store.Annotation(id)
	if !ok {
		return wire.Annotation{}, wire.E(wire.CodeNotFound, "", "Пометка не найдена", "not found")
	}
	if cur.Version != seen {
		return wire.Annotation{}, wire.E(wire.CodeConflict, "version", "Пометка уже изменена другим пользователем — обновите её и повторите", "changed")
	}
	return cur, nil
}

func (f *fakeBackend) UpdateAnnotation(_ context.Context, it app.AnnotationItem, ch app.AnnotationChange) (wire.Annotation, error) {
	a := f.annots()
	a.updates = append(a.updates, annotUpdate{it.ID, it.Version, ch})
	cur, err := f.current(it.ID, it.Version)
	if err != nil {
		return wire.Annotation{}, err
	}
	if ch.Geometry != nil {
		cur.Geometry = *ch.Geometry
	}
	if ch.Color != nil {
		cur.Color = *ch.Color
	}
	if ch.Text != nil {
		cur.Text = *ch.Text
	}
	cur.Version++
	f.store.UpsertAnnotation(cur)
	return cur, nil
}

func (f *fakeBackend) DeleteAnnotation(_ context.Context, it app.AnnotationItem) error {
	a := f.annots()
	a.deletes = append(a.deletes, [2]int64{it.ID, it.Version})
	cur, err := f.current(it.ID, it.Version)
	if err != nil {
		return err
	}
	f.emit(wire.EventAnnotationDelete, cur.AppID, wire.AnnotationGone{ID: cur.ID, AppID: cur.AppID, VersionID: cur.VersionID})
	return nil
}

func (f *fakeBackend) SetAnnotationStatus(_ context.Context, it app.AnnotationItem, st wire.AnnotationStatus) (wire.Annotation, error) {
	a := f.annots()
	a.statuses = append(a.statuses, fmt.Sprintf("%d:%d:%s", it.ID, it.Version, st))
	cur, err := f.current(it.ID, it.Version)
	if err != nil {
		return wire.Annotation{}, err
	}
	cur.Status, cur.Version = st, cur.Version+1
	f.store.UpsertAnnotation(cur)
	return cur, nil
}

func (f *fakeBackend) ReplyAnnotation(_ context.Context, it app.AnnotationItem, text string) (wire.AnnotationReply, error) {
	a := f.annots()
	a.replies = append(a.replies, fmt.Sprintf("%d:%s", it.ID, text))
	r := wire.AnnotationReply{ID: int64(900 + len(a.replies)), AnnotationID: it.ID, AppID: it.AppID, AuthorID: f.me.ID, AuthorName: f.me.FullName, Text: text}
	f.emit(wire.EventAnnotationReply, it.AppID, r)
	return r, nil
}

func (f *fakeBackend) SendPresence(_, versionID int64, page int) {
	a := f.annots()
	a.presence = append(a.presence, fmt.Sprintf("%d:%d", versionID, page))
}

const annotApp, annotVersion = 7, 11

// openAnnotViewer opens TextDoc as version 11 of application 7 (in
// review, lead expert 30) for me.
func openAnnotViewer(t *testing.T, me wire.User, seed ...wire.Annotation) viewerFixture {
	t.Helper()
	e := newTestEnv(t, fyne.NewSize(400, 300))
	e.renderers = testRenderers(t)
	be := newFakeBackend(me)
	be.store.UpsertApplication(wire.Application{ID: annotApp, Status: wire.StatusInReview, LeadExpertID: 30, Version: 3})
	be.store.SetDocuments(annotApp, []wire.Document{{ID: 5, AppID: annotApp, Section: "07.01", Name: "ПЗ",
		Versions: []wire.DocumentVersion{{ID: annotVersion, DocumentID: 5, FileName: "ПЗ.pdf", Kind: "pdf"}}}})
	for _, a := range seed {
		be.store.UpsertAnnotation(a)
	}
	p := filepath.Join(t.TempDir(), "ПЗ.pdf")
	if err := os.WriteFile(p, samples.TextDoc(), 0o600); err != nil {
		t.Fatal(err)
	}
	be.viewFiles = map[int64]string{annotVersion: p}
	q := &postQueue{}
	vw := openViewerWith(e, be, wire.DocumentVersion{ID: annotVersion, FileName: "ПЗ.pdf", Kind: "pdf"}, q.post)
	q.drain()
	if vw.v == nil {
		t.Fatal("the viewer did not start")
	}
	vw.win.Resize(fyne.NewSize(1200, 860))
	t.Cleanup(func() { vw.win.Close() })
	q.pump(t, "the first screen", settled(vw))
	return viewerFixture{vw: vw, be: be, q: q, e: e}
}

// sheetPos is page point (x, y) of page (renderer frame) in sheet units.
func sheetPos(s *pageSheet, page int, x, y float64) fyne.Position {
	r := s.lay.FromPage(page, pdfrender.Rect{X0: x, Y0: y, X1: x, Y1: y})
	return fyne.NewPos(float32(r.X0)/s.scale, float32(r.Y0)/s.scale)
}

// dragOn drags the mouse over page from one page point to another as
// the desktop driver reports it (FINDINGS.md): events carry the pointer's
// position on the sheet and the distance since the previous event (from
// the press, for the first), then DragEnd.
func dragOn(f viewerFixture, page int, x0, y0, x1, y1 float64) {
	s := f.vw.sheet
	from, to := sheetPos(s, page, x0, y0), sheetPos(s, page, x1, y1)
	mid := fyne.NewPos((from.X+to.X)/2, (from.Y+to.Y)/2)
	s.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: mid}, Dragged: fyne.NewDelta(mid.X-from.X, mid.Y-from.Y)})
	s.Dragged(&fyne.DragEvent{PointEvent: fyne.PointEvent{Position: to}, Dragged: fyne.NewDelta(to.X-mid.X, to.Y-mid.Y)})
	s.DragEnd()
	f.q.drain()
}

func tapOn(f viewerFixture, page int, x, y float64) {
	f.vw.sheet.Tapped(&fyne.PointEvent{Position: sheetPos(f.vw.sheet, page, x, y)})
	f.q.drain()
}

// closeTo compares wire rectangles within tol points (the screen's pixel
// grid rounds what the mouse can reach).
func closeTo(a, b wire.Rect, tol float64) bool {
	return math.Abs(a.X1-b.X1) <= tol && math.Abs(a.Y1-b.Y1) <= tol && math.Abs(a.X2-b.X2) <= tol && math.Abs(a.Y2-b.Y2) <= tol
}

func overlayRects(s *pageSheet, stroke string) int {
	want := parseColour(stroke)
	n := 0
	for _, o := range s.overlay.Objects {
		if r, ok := o.(*canvas.Rectangle); ok && r.StrokeColor == want && r.StrokeWidth > 0 {
			n++
		}
	}
	return n
}

func TestViewerAnnotationDrawMoveDeleteUndo(t *testing.T) {
	f := openAnnotViewer(t, wire.User{ID: 30, Role: wire.RoleExpert, FullName: "Петров П. П."})
	vw, be := f.vw, f.be
	l := vw.annots
	if l == nil || l.toolbar == nil {
		t.Fatal("an expert's viewer has no annotation tools")
	}
	if got := be.annots().loads; !slices.Equal(got, []int64{annotVersion}) {
		t.Errorf("annotations loaded for %v, want the version opened", got)
	}
	if !slices.Contains(be.annots().presence, "11:1") {
		t.Errorf("presence sent %v, want page 1 of version 11", be.annots().presence)
	}
	red := annotColours[0].hex

	// Draw a rectangle by drag: page points 100,100 → 200,150 from the top
	// are 100,692 → 200,742 in wire's frame of the 842 pt high page.
	test.Tap(l.toolBtns["rect"])
	dragOn(f, 0, 100, 100, 200, 150)
	cr := be.annots().creates
	if len(cr) != 1 || cr[0].Kind != wire.AnnotRect || cr[0].Page != 1 || cr[0].Color != red || cr[0].Geometry.Rect == nil {
		t.Fatalf("creates %+v", cr)
	}
	if !closeTo(*cr[0].Geometry.Rect, wire.Rect{X1: 100, Y1: 692, X2: 200, Y2: 742}, 1) {
		t.Fatalf("rectangle %+v, want 100,692–200,742 in wire's frame", *cr[0].Geometry.Rect)
	}
	if err := wire.ValidateGeometry(wire.AnnotRect, cr[0].Geometry, wire.PageSize{W: 595, H: 842}); err != nil {
		t.Error(err)
	}
	if n := overlayRects(vw.sheet, red); n != 1 {
		t.Errorf("%d red rectangles drawn, want the new one", n)
	}
	first := be.store.Annotations(annotVersion)[0]

	// Select it and move it 50 pt right and 20 pt down: the update names
	// version 1 and moves it by (+50, −20) in wire's frame.
	test.Tap(l.toolBtns["select"])
	tapOn(f, 0, 150, 125)
	if l.selected != (app.AnnotationItem{Annotation: first}).Key() {
		t.Fatalf("selected %q after a click on the mark", l.selected)
	}
	if !l.deleteBtn.Visible() {
		t.Error("the author has no delete button")
	}
	dragOn(f, 0, 150, 125, 200, 145)
	up := be.annots().updates
	if len(up) != 1 || up[0].id != first.ID || up[0].seen != 1 || up[0].ch.Geometry == nil {
		t.Fatalf("updates %+v", up)
	}
	moved := *up[0].ch.Geometry.Rect
	if !closeTo(moved, wire.Rect{X1: 150, Y1: 672, X2: 250, Y2: 722}, 1.5) {
		t.Fatalf("moved to %+v, want 150,672–250,722", moved)
	}

	// Del deletes it (seen at version 2).
	vw.typedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	f.q.drain()
	if d := be.annots().deletes; len(d) != 1 || d[0] != [2]int64{first.ID, 2} {
		t.Fatalf("deletes %v", d)
	}
	if n := overlayRects(vw.sheet, red); n != 0 || len(be.store.Annotations(annotVersion)) != 0 {
		t.Fatalf("after the delete %d rectangles drawn", n)
	}

	// Ctrl+Z brings it back where it was moved to (a new create); Ctrl+Z
	// again undoes the move on the new row; Ctrl+Y redoes it.
	shortcut(vw, fyne.KeyZ, fyne.KeyModifierShortcutDefault)
	f.q.drain()
	cr = be.annots().creates
	if len(cr) != 2 || *cr[1].Geometry.Rect != moved || cr[1].Color != red {
		t.Fatalf("undo of the delete: creates %+v", cr)
	}
	restored := be.store.Annotations(annotVersion)
	if len(restored) != 1 || overlayRects(vw.sheet, red) < 1 {
		t.Fatalf("restored %+v", restored)
	}
	vw.win.Canvas().(fyne.Shortcutable).TypedShortcut(&fyne.ShortcutUndo{})
	f.q.drain()
	up = be.annots().updates
	if len(up) != 2 || up[1].id != restored[0].ID || up[1].seen != 1 || !closeTo(*up[1].ch.Geometry.Rect, *cr[0].Geometry.Rect, 1e-9) {
		t.Fatalf("undo of the move: updates %+v", up)
	}
	shortcut(vw, fyne.KeyY, fyne.KeyModifierShortcutDefault)
	f.q.drain()
	up = be.annots().updates
	if len(up) != 3 || up[2].seen != 2 || *up[2].ch.Geometry.Rect != moved {
		t.Fatalf("redo of the move: updates %+v", up)
	}
	if a := be.store.Annotations(annotVersion); len(a) != 1 || *a[0].Geometry.Rect != moved || a[0].Version != 3 {
		t.Errorf("after redo the Store has %+v", a)
	}

	// Recolouring the selection sends the new colour.
	l.selectItem(app.AnnotationItem{Annotation: be.store.Annotations(annotVersion)[0]}.Key())
	l.colourSel.SetSelectedIndex(4)
	f.q.drain()
	up = be.annots().updates
	if last := up[len(up)-1]; last.ch.Color == nil || *last.ch.Color != annotColours[4].hex || last.seen != 3 {
		t.Errorf("recolour %+v", last)
	}
}

func TestViewerAnnotationShapesAndText(t *testing.T) {
	f := openAnnotViewer(t, wire.User{ID: 30, Role: wire.RoleExpert, FullName: "Петров П. П."})
	vw, be, l := f.vw, f.be, f.vw.annots
	kinds := []struct {
		tool  string
		check func(wire.Geometry) error
	}{
		{"arrow", func(g wire.Geometry) error {
			if len(g.Points) != 2 || math.Abs(g.Points[0].X-300) > 1 || math.Abs(g.Points[0].Y-(842-300)) > 1 {
				return fmt.Errorf("points %+v, want from 300,542", g.Points)
			}
			return nil
		}},
		{"ellipse", func(g wire.Geometry) error {
			if g.Rect == nil {
				return fmt.Errorf("no rect")
			}
			return nil
		}},
		{"cloud", func(g wire.Geometry) error {
			if g.Rect == nil {
				return fmt.Errorf("no rect")
			}
			return nil
		}},
		{"ink", func(g wire.Geometry) error {
			if len(g.Ink) != 1 || len(g.Ink[0]) < 2 {
				return fmt.Errorf("ink %+v", g.Ink)
			}
			return nil
		}},
	}
	for i, k := range kinds {
		test.Tap(l.toolBtns[k.tool])
		dragOn(f, 0, 300, 300, 380, 360)
		cr := be.annots().creates
		if len(cr) != i+1 || string(cr[i].Kind) != k.tool {
			t.Fatalf("%s: creates %+v", k.tool, cr)
		}
		if err := k.check(cr[i].Geometry); err != nil {
			t.Errorf("%s: %v", k.tool, err)
		}
		if err := wire.ValidateGeometry(cr[i].Kind, cr[i].Geometry, wire.PageSize{W: 595, H: 842}); err != nil {
			t.Errorf("%s: the server would refuse it: %v", k.tool, err)
		}
	}
	// Ellipse, cloud and ink are painted by rasters over the page.
	rasters := 0
	for _, o := range vw.sheet.overlay.Objects {
		if _, ok := o.(*canvas.Raster); ok {
			rasters++
		}
	}
	if rasters != 3 {
		t.Errorf("%d raster shapes drawn, want ellipse, cloud and ink", rasters)
	}

	// A highlight snaps to the text lines under the drag: the first two
	// body lines (baselines 142 and 160 pt from the top).
	test.Tap(l.toolBtns["highlight"])
	dragOn(f, 0, 60, 128, 560, 165)
	cr := be.annots().creates
	if last := cr[len(cr)-1]; last.Kind != wire.AnnotHighlight || len(last.Geometry.Quads) != 2 {
		t.Fatalf("highlight %+v", last)
	}
	// A note asks for its text first.
	test.Tap(l.toolBtns["note"])
	dragOn(f, 0, 60, 400, 260, 460)
	if l.dlgEntry == nil {
		t.Fatal("the note's text was not asked")
	}
	l.dlgEntry.SetText("Проверить отметку низа плиты")
	l.dlg.(interface{ Submit() }).Submit()
	f.q.drain()
	cr = be.annots().creates
	if last := cr[len(cr)-1]; last.Kind != wire.AnnotNote || last.Text != "Проверить отметку низа плиты" {
		t.Fatalf("note %+v", last)
	}
	if !containsTextIn(vw.sheet.overlay, "Проверить отметку низа плиты") {
		t.Error("the note's text is not drawn")
	}
}

// containsTextIn reports whether a canvas text in c shows s.
func containsTextIn(c *fyne.Container, s string) bool {
	for _, o := range c.Objects {
		if t, ok := o.(*canvas.Text); ok && t.Text == s {
			return true
		}
	}
	return false
}

func TestViewerAnnotationsOfOthersAndLive(t *testing.T) {
	other := wire.Annotation{ID: 501, AppID: annotApp, VersionID: annotVersion, Page: 1, Kind: wire.AnnotRect, Color: "#00aa00",
		Geometry: wire.Geometry{Rect: &wire.Rect{X1: 100, Y1: 600, X2: 300, Y2: 700}}, Status: wire.AnnotOpen, AuthorID: 31, AuthorName: "Иванов И. И.", Version: 4}
	f := openAnnotViewer(t, wire.User{ID: 32, Role: wire.RoleExpert, FullName: "Сидоров С. С."}, other)
	vw, be, l := f.vw, f.be, f.vw.annots
	if n := overlayRects(vw.sheet, "#00aa00"); n != 1 {
		t.Fatalf("%d of the colleague's rectangles drawn", n)
	}
	// Someone else's mark: selectable, discussable, not deletable.
	tapOn(f, 0, 200, 842-650)
	if l.selected != "a501" {
		t.Fatalf("selected %q", l.selected)
	}
	if l.deleteBtn.Visible() || l.textBtn.Visible() || !l.threadBtn.Visible() {
		t.Errorf("buttons for another's mark: delete %v text %v thread %v", l.deleteBtn.Visible(), l.textBtn.Visible(), l.threadBtn.Visible())
	}
	vw.typedKey(&fyne.KeyEvent{Name: fyne.KeyDelete})
	dragOn(f, 0, 200, 842-650, 250, 842-650)
	f.q.drain()
	if a := be.annots(); len(a.deletes) != 0 || len(a.updates) != 0 {
		t.Errorf("another's mark was changed: %+v %+v", a.deletes, a.updates)
	}

	// The thread: a reply is sent; «Сделать замечанием» makes a draft
	// remark from the annotation.
	test.Tap(l.threadBtn)
	l.dlgEntry.SetText("Согласен, нужен разрез")
	l.dlgSend()
	f.q.drain()
	if got := be.annots().replies; !slices.Equal(got, []string{"501:Согласен, нужен разрез"}) {
		t.Errorf("replies %v", got)
	}
	it, _ := l.selectedItem()
	if len(it.Replies) != 1 {
		t.Errorf("the reply did not reach the mark: %+v", it.Replies)
	}
	l.openThread(it)
	b := findButton(l.dlgBox, "Сделать замечанием")
	if b == nil {
		t.Fatal("no «Сделать замечанием» for an expert")
	}
	test.Tap(b)
	l.dlgEntry.SetText("Нет разреза 2-2")
	l.dlg.(interface{ Submit() }).Submit()
	f.q.drain()
	if rs := be.store.Remarks(annotApp); len(rs) != 1 || rs[0].Text != "Нет разреза 2-2" {
		t.Fatalf("remarks %+v", rs)
	}
	if !slices.Equal(be.remarkCalls, []string{"create:Нет разреза 2-2"}) {
		t.Errorf("remark calls %v", be.remarkCalls)
	}

	// Live: a colleague's new mark arrives by event and is drawn and
	// listed; presence puts their initials by the page field.
	be.emit(wire.EventAnnotation, annotApp, wire.Annotation{ID: 502, AppID: annotApp, VersionID: annotVersion, Page: 1, Kind: wire.AnnotRect,
		Color: "#0000aa", Geometry: wire.Geometry{Rect: &wire.Rect{X1: 50, Y1: 50, X2: 90, Y2: 90}}, Status: wire.AnnotOpen, AuthorID: 31, AuthorName: "Иванов И. И.", Version: 1})
	be.store.Ephemeral(wire.Ephemeral{Kind: wire.FramePresence, AppID: annotApp, UserID: 31, UserName: "Иванов Иван", VersionID: annotVersion, Page: 1})
	if n := overlayRects(vw.sheet, "#0000aa"); n != 1 {
		t.Errorf("the live mark is not drawn (%d)", n)
	}
	if vw.annots.presence.Text != "ИИ" {
		t.Errorf("presence %q, want the colleague's initials", vw.annots.presence.Text)
	}
	if !strings.Contains(labelTexts(l.panel), "Иванов Иван (стр. 1)") {
		t.Errorf("panel: %q", labelTexts(l.panel))
	}
	// The panel lists both marks; filtered by author and status.
	if n := countListButtons(l); n != 2 {
		t.Errorf("%d marks listed, want 2", n)
	}
	l.statusFilter.SetSelected(annotStatusLabel(wire.AnnotResolved))
	if n := countListButtons(l); n != 0 {
		t.Errorf("%d resolved marks listed", n)
	}
	l.statusFilter.SetSelectedIndex(0)
	// A row jumps to its mark and selects it.
	vw.goToPage(2)
	f.q.drain()
	test.Tap(l.list.Objects[0].(*widget.Button))
	f.q.drain()
	if vw.pageEntry.Text != "1" || l.selected == "" {
		t.Errorf("the list row led to page %q, selection %q", vw.pageEntry.Text, l.selected)
	}
	// The colleague deletes theirs: it disappears here.
	be.emit(wire.EventAnnotationDelete, annotApp, wire.AnnotationGone{ID: 502, AppID: annotApp, VersionID: annotVersion})
	if n := overlayRects(vw.sheet, "#0000aa"); n != 0 {
		t.Error("a mark deleted elsewhere is still drawn")
	}
}

func countListButtons(l *annotLayer) int {
	n := 0
	for _, o := range l.list.Objects {
		if _, ok := o.(*widget.Button); ok {
			n++
		}
	}
	return n
}

func TestViewerAnnotationRolesAndOffline(t *testing.T) {
	// An applicant's viewer has no annotations at all.
	f := openAnnotViewer(t, wire.User{ID: 40, Role: wire.RoleApplicant, OrgID: 1})
	if f.vw.annots != nil || len(f.be.annots().loads) != 0 {
		t.Fatal("an applicant's viewer shows annotations")
	}
	for _, tab := range f.vw.side.Items {
		if tab.Text == "Пометки" {
			t.Error("an applicant has the «Пометки» tab")
		}
	}

	// A manager may delete an expert's mark.
	mark := wire.Annotation{ID: 601, AppID: annotApp, VersionID: annotVersion, Page: 1, Kind: wire.AnnotLine, Color: "#e53935",
		Geometry: wire.Geometry{Points: []wire.Point{{X: 100, Y: 700}, {X: 300, Y: 700}}}, Status: wire.AnnotOpen, AuthorID: 31, AuthorName: "Иванов И. И.", Version: 2}
	m := openAnnotViewer(t, wire.User{ID: 50, Role: wire.RoleManager, FullName: "Менеджер"}, mark)
	tapOn(m, 0, 200, 142)
	if m.vw.annots.selected != "a601" || !m.vw.annots.deleteBtn.Visible() {
		t.Fatalf("manager: selected %q, delete shown %v", m.vw.annots.selected, m.vw.annots.deleteBtn.Visible())
	}
	// Dragging the line's end handle moves only that end.
	m.vw.annots.selectItem("a601")
	dragOn(m, 0, 300, 142, 320, 200)
	up := m.be.annots().updates
	if len(up) != 1 || up[0].seen != 2 {
		t.Fatalf("updates %+v", up)
	}
	if p := up[0].ch.Geometry.Points; p[0] != (wire.Point{X: 100, Y: 700}) || math.Abs(p[1].X-320) > 1 || math.Abs(p[1].Y-642) > 1 {
		t.Errorf("line end moved to %+v, want 320,642 with the start kept", p)
	}

	// Offline, a new mark is queued and drawn as pending, and the outbox
	// list on the card says what it is.
	m.be.offline = true
	test.Tap(m.vw.annots.toolBtns["rect"])
	dragOn(m, 0, 400, 400, 450, 450)
	items := m.be.store.AnnotationItems(annotVersion)
	if len(items) != 2 || items[1].Pending != app.PendingCreate {
		t.Fatalf("items %+v", items)
	}
	if !strings.Contains(m.vw.status.Text, "будет отправлено") {
		t.Errorf("status %q", m.vw.status.Text)
	}
	if got := commandText(m.be.store.Pending()[0]); got != "Пометка «прямоугольник» на стр. 1" {
		t.Errorf("pending command text %q", got)
	}
	if !strings.Contains(buttonTexts(m.vw.annots.list), "ожидает отправки") {
		t.Errorf("the panel does not show the pending mark: %q", buttonTexts(m.vw.annots.list))
	}
}

func buttonTexts(o fyne.CanvasObject) string {
	var parts []string
	for _, x := range test.LaidOutObjects(o) {
		if b, ok := x.(*widget.Button); ok {
			parts = append(parts, b.Text)
		}
	}
	return strings.Join(parts, "\n")
}
