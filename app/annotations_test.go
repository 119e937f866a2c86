package app

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/samples"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6 }

func TestAnnotationFrames(t *testing.T) {
	a4 := pdfrender.PageInfo{Width: 595, Height: 842}
	// The renderer's frame (top-left, y down) and wire's (bottom-left, y up).
	points := []struct {
		name      string
		x, y      float64 // renderer
		wantX, wY float64 // wire
	}{
		{"top-left corner", 0, 0, 0, 842},
		{"bottom-left corner", 0, 842, 0, 0},
		{"top-right corner", 595, 0, 595, 842},
		{"inside", 100, 42, 100, 800},
	}
	for _, tt := range points {
		w := PageToWire(a4, tt.x, tt.y)
		if !near(w.X, tt.wantX) || !near(w.Y, tt.wY) {
			t.Errorf("%s: PageToWire = %+v, want (%v, %v)", tt.name, w, tt.wantX, tt.wY)
		}
		if x, y := WireToPage(a4, w); !near(x, tt.x) || !near(y, tt.y) {
			t.Errorf("%s: back to (%v, %v)", tt.name, x, y)
		}
	}
	r := RectToWire(a4, pdfrender.Rect{X0: 72, Y0: 42, X1: 300, Y1: 142})
	if r != (wire.Rect{X1: 72, Y1: 700, X2: 300, Y2: 800}) {
		t.Errorf("RectToWire = %+v", r)
	}
	if back := RectFromWire(a4, r); back != (pdfrender.Rect{X0: 72, Y0: 42, X1: 300, Y1: 142}) {
		t.Errorf("RectFromWire = %+v", back)
	}
	// A geometry of every shape goes to wire and back unchanged, with the
	// quad corners keeping their meaning (upper-left first: larger y in wire).
	view := wire.Geometry{
		Rect:   &wire.Rect{X1: 10, Y1: 20, X2: 30, Y2: 60},
		Quads:  []wire.Quad{{72, 130, 300, 130, 72, 144, 300, 144}},
		Points: []wire.Point{{X: 1, Y: 2}, {X: 3, Y: 4}},
		Ink:    [][]wire.Point{{{X: 5, Y: 6}, {X: 7, Y: 8}}},
	}
	wg := GeometryToWire(a4, view)
	if *wg.Rect != (wire.Rect{X1: 10, Y1: 782, X2: 30, Y2: 822}) {
		t.Errorf("rect in wire %+v", *wg.Rect)
	}
	if q := wg.Quads[0]; q[1] != 712 || q[5] != 698 || q[1] <= q[5] {
		t.Errorf("quad in wire %v: upper corners must be above the lower ones", q)
	}
	if wg.Points[1] != (wire.Point{X: 3, Y: 838}) || wg.Ink[0][1] != (wire.Point{X: 7, Y: 834}) {
		t.Errorf("points in wire %+v %+v", wg.Points, wg.Ink)
	}
	if !geometryEqual(GeometryToView(a4, wg), view) {
		t.Errorf("round trip %+v", GeometryToView(a4, wg))
	}

	// Through the layout at every view rotation: the wire point near the
	// page's top-left corner (as displayed) lands where the rotated page
	// shows that corner. Zoom 2, gap 10; the page is 100×200 points.
	page := pdfrender.PageInfo{Width: 100, Height: 200}
	pt := wire.Point{X: 10, Y: 190} // renderer (10, 10)
	rotations := []struct {
		rot  pdfrender.Rotation
		x, y float64 // in the page's rectangle on the strip, pixels
	}{
		{0, 20, 20},        // as is
		{1, 400 - 20, 20},  // a quarter turn clockwise: top-left goes top-right
		{2, 200 - 20, 380}, // upside down
		{3, 20, 200 - 20},  // three quarters: top-left goes bottom-left
	}
	for _, tt := range rotations {
		l := NewLayout([]pdfrender.PageInfo{page}, pdfrender.View{Zoom: 2, Rotation: tt.rot}, 10, 0)
		o := l.PageRect(0).Min
		x, y := l.WireToStrip(0, pt)
		if !near(x-float64(o.X), tt.x) || !near(y-float64(o.Y), tt.y) {
			t.Errorf("rotation %d: strip (%v, %v), want (%v, %v) from the page's corner", tt.rot, x-float64(o.X), y-float64(o.Y), tt.x, tt.y)
		}
		back := l.StripToWire(0, x, y)
		if !near(back.X, pt.X) || !near(back.Y, pt.Y) {
			t.Errorf("rotation %d: back to %+v", tt.rot, back)
		}
	}
}

func TestGeometryEditing(t *testing.T) {
	box := wire.Geometry{Rect: &wire.Rect{X1: 10, Y1: 10, X2: 30, Y2: 20}}
	if g := MoveGeometry(box, 5, -3); *g.Rect != (wire.Rect{X1: 15, Y1: 7, X2: 35, Y2: 17}) {
		t.Errorf("moved %+v", *g.Rect)
	}
	line := wire.Geometry{Points: []wire.Point{{X: 0, Y: 0}, {X: 10, Y: 10}}}
	if g := ResizeGeometry(line, wire.Rect{X1: 0, Y1: 0, X2: 20, Y2: 40}); g.Points[1] != (wire.Point{X: 20, Y: 40}) {
		t.Errorf("resized line %+v", g.Points)
	}
	page := pdfrender.PageInfo{Width: 100, Height: 100}
	if g := ClampGeometry(page, MoveGeometry(box, 90, 0)); g.Rect.X2 != 100 {
		t.Errorf("clamped %+v", *g.Rect)
	}
	hits := []struct {
		name string
		kind wire.AnnotationKind
		g    wire.Geometry
		x, y float64
		want bool
	}{
		{"inside a box", wire.AnnotRect, box, 20, 15, true},
		{"outside a box", wire.AnnotRect, box, 50, 15, false},
		{"on a line", wire.AnnotLine, line, 5, 5.5, true},
		{"off a line", wire.AnnotArrow, line, 9, 1, false},
		{"on ink", wire.AnnotInk, wire.Geometry{Ink: [][]wire.Point{{{X: 0, Y: 0}, {X: 0, Y: 50}}}}, 1, 25, true},
		{"in a highlighted line", wire.AnnotHighlight, wire.Geometry{Quads: []wire.Quad{{0, 0, 50, 0, 0, 10, 50, 10}}}, 25, 5, true},
	}
	for _, h := range hits {
		if got := HitGeometry(h.kind, h.g, h.x, h.y, 2); got != h.want {
			t.Errorf("%s: hit %v, want %v", h.name, got, h.want)
		}
	}
	for _, tt := range []struct {
		kind   wire.AnnotationKind
		x1, y1 float64
		ok     bool
	}{
		{wire.AnnotRect, 50, 40, true}, {wire.AnnotNote, 11, 11, false}, {wire.AnnotArrow, 10, 50, true}, {wire.AnnotLine, 10.5, 10.5, false},
	} {
		if _, ok := ShapeFromDrag(tt.kind, 10, 10, tt.x1, tt.y1); ok != tt.ok {
			t.Errorf("%s drag to (%v, %v): ok %v", tt.kind, tt.x1, tt.y1, ok)
		}
	}
	stroke := []wire.Point{{X: 0, Y: 0}, {X: 0.1, Y: 0}, {X: 0.2, Y: 0}, {X: 5, Y: 0}, {X: 5.1, Y: 0}}
	if got := SimplifyStroke(stroke, 1); len(got) != 3 || got[2] != stroke[4] {
		t.Errorf("simplified %+v", got)
	}
}

func TestSnapHighlight(t *testing.T) {
	ch := func(x, y float64) pdfrender.Char {
		return pdfrender.Char{Rune: 'а', Box: pdfrender.Rect{X0: x, Y0: y, X1: x + 6, Y1: y + 10}}
	}
	chars := []pdfrender.Char{ch(10, 100), ch(16, 100), ch(22, 101), {Rune: ' '}, ch(10, 120), ch(16, 120), ch(10, 140)}
	tests := []struct {
		name string
		drag pdfrender.Rect
		want []pdfrender.Rect
	}{
		{"two lines", pdfrender.Rect{X0: 0, Y0: 95, X1: 100, Y1: 132}, []pdfrender.Rect{{X0: 10, Y0: 100, X1: 28, Y1: 111}, {X0: 10, Y0: 120, X1: 22, Y1: 130}}},
		{"part of a line", pdfrender.Rect{X0: 15, Y0: 95, X1: 21, Y1: 115}, []pdfrender.Rect{{X0: 16, Y0: 100, X1: 22, Y1: 110}}},
		{"no text", pdfrender.Rect{X0: 200, Y0: 0, X1: 300, Y1: 50}, nil},
	}
	for _, tt := range tests {
		if got := SnapHighlight(chars, tt.drag); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
	g := HighlightGeometry(pdfrender.PageInfo{Width: 200, Height: 300}, []pdfrender.Rect{{X0: 10, Y0: 100, X1: 28, Y1: 111}})
	if want := (wire.Quad{10, 200, 28, 200, 10, 189, 28, 189}); len(g.Quads) != 1 || g.Quads[0] != want {
		t.Errorf("quads %v, want %v", g.Quads, want)
	}
	if err := wire.ValidateGeometry(wire.AnnotHighlight, g, wire.PageSize{W: 200, H: 300}); err != nil {
		t.Errorf("the server would refuse the quads: %v", err)
	}
}

// On a real PDF the snapped lines hold exactly the text lines dragged over.
func TestSnapHighlightRealPDF(t *testing.T) {
	ctx := context.Background()
	r := testRenderer(t)
	doc, err := r.Open(ctx, writePDF(t, "snap.pdf", samples.TextDoc()), pdfrender.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.CloseDoc(ctx, doc.ID)
	chars, err := r.Chars(ctx, doc.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Body lines' baselines are 142, 160, 178, 196 pt from the top, 12 pt
	// text: the drag covers the middles of the first three.
	lines := SnapHighlight(chars, pdfrender.Rect{X0: 60, Y0: 128, X1: 560, Y1: 183})
	if len(lines) != 3 {
		t.Fatalf("%d lines snapped, want 3: %+v", len(lines), lines)
	}
	want := []string{"Раздел 1. Пояснительная записка к проекту.", "Проект организации строительства жилого дома.", "Expertiza test page: проект, Проект, ПРОЕКТ."}
	for i, l := range lines {
		got, err := r.TextInRect(ctx, doc.ID, 0, l)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(got) != want[i] {
			t.Errorf("line %d holds %q, want %q", i+1, got, want[i])
		}
	}
	g := HighlightGeometry(doc.Pages[0], lines)
	if err := wire.ValidateGeometry(wire.AnnotHighlight, g, wire.PageSize{W: doc.Pages[0].Width, H: doc.Pages[0].Height}); err != nil {
		t.Error(err)
	}
}

func annotEvent(t *testing.T, seq int64, kind wire.EventKind, data any) wire.Event {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	return wire.Event{Seq: seq, Kind: kind, AppID: 7, Data: b}
}

func TestStoreAnnotationEvents(t *testing.T) {
	s := NewStore(slog.New(slog.DiscardHandler))
	s.SetMe(wire.User{ID: 1})
	rect := wire.Geometry{Rect: &wire.Rect{X1: 1, Y1: 1, X2: 5, Y2: 5}}
	an := func(id, version int64, page int, colour string) wire.Annotation {
		return wire.Annotation{ID: id, AppID: 7, VersionID: 11, Page: page, Kind: wire.AnnotRect, Geometry: rect, Color: colour, Version: version, Status: wire.AnnotOpen}
	}
	// Before the version is opened, its events are not kept.
	s.Event(annotEvent(t, 1, wire.EventAnnotation, an(99, 1, 1, "#000000")))
	if n := len(s.Annotations(11)); n != 0 {
		t.Fatalf("%d annotations kept for a version never opened", n)
	}
	s.watchAnnotations(11)
	// An event arrives while the load is in flight; the load then brings an
	// older copy of it and one deleted meanwhile.
	s.Event(annotEvent(t, 2, wire.EventAnnotation, an(1, 2, 2, "#00ff00")))
	s.Event(annotEvent(t, 3, wire.EventAnnotationDelete, wire.AnnotationGone{ID: 3, AppID: 7, VersionID: 11}))
	s.Event(annotEvent(t, 4, wire.EventAnnotation, an(4, 1, 1, "#0000ff")))
	s.SetAnnotations(11, []wire.Annotation{an(1, 1, 2, "#ff0000"), an(2, 1, 1, "#ff0000"), an(3, 1, 1, "#ff0000")})
	got := s.Annotations(11)
	var ids []int64
	for _, a := range got {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []int64{2, 4, 1}) {
		t.Fatalf("annotations %v, want 2 and 4 (page 1), then 1 (page 2)", ids)
	}
	if a, _ := s.Annotation(1); a.Color != "#00ff00" || a.Version != 2 {
		t.Errorf("the older load overwrote the event: %+v", a)
	}
	steps := []struct {
		name  string
		event wire.Event
		check func() string
	}{
		{"an older upsert is ignored", annotEvent(t, 5, wire.EventAnnotation, an(1, 1, 2, "#ff0000")), func() string {
			if a, _ := s.Annotation(1); a.Color != "#00ff00" {
				return a.Color
			}
			return ""
		}},
		{"a reply joins its thread", annotEvent(t, 6, wire.EventAnnotationReply, wire.AnnotationReply{ID: 50, AnnotationID: 2, Text: "Согласен"}), func() string {
			if a, _ := s.Annotation(2); len(a.Replies) != 1 || a.Replies[0].Text != "Согласен" {
				return fmt.Sprint(a.Replies)
			}
			return ""
		}},
		{"an upsert keeps the replies", annotEvent(t, 7, wire.EventAnnotation, an(2, 2, 1, "#123456")), func() string {
			if a, _ := s.Annotation(2); len(a.Replies) != 1 || a.Color != "#123456" {
				return fmt.Sprintf("%+v", a)
			}
			return ""
		}},
		{"a delete removes it", annotEvent(t, 8, wire.EventAnnotationDelete, wire.AnnotationGone{ID: 4, AppID: 7, VersionID: 11}), func() string {
			if _, ok := s.Annotation(4); ok {
				return "still there"
			}
			return ""
		}},
		{"a late upsert of a deleted one does not revive it", annotEvent(t, 9, wire.EventAnnotation, an(4, 1, 1, "#0000ff")), func() string {
			if _, ok := s.Annotation(4); ok {
				return "revived"
			}
			return ""
		}},
	}
	for _, st := range steps {
		s.Event(st.event)
		if bad := st.check(); bad != "" {
			t.Errorf("%s: %s", st.name, bad)
		}
	}
	if err := s.Apply(wire.Event{Seq: 10, Kind: wire.EventAnnotation, Data: []byte(`{"id":`)}); err == nil {
		t.Error("malformed annotation data was accepted")
	}
}

func TestPresenceFades(t *testing.T) {
	s := NewStore(slog.New(slog.DiscardHandler))
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s.chat.now = func() time.Time { return now }
	var scheduled []time.Duration
	s.chat.after = func(d time.Duration, _ func()) any { scheduled = append(scheduled, d); return nil }
	s.SetMe(wire.User{ID: 1})
	pres := func(user int64, name string, version int64, page int) {
		s.Ephemeral(wire.Ephemeral{Kind: wire.FramePresence, AppID: 7, UserID: user, UserName: name, VersionID: version, Page: page})
	}
	pres(2, "Петров П. П.", 11, 3)
	pres(3, "Иванов И. И.", 11, 1)
	pres(1, "Я", 11, 2)       // my own echo
	pres(4, "Сидоров", 12, 1) // another version
	want := []Presence{{UserID: 3, Name: "Иванов И. И.", Page: 1}, {UserID: 2, Name: "Петров П. П.", Page: 3}}
	if got := s.Presence(11); !slices.Equal(got, want) {
		t.Fatalf("presence %+v, want %+v", got, want)
	}
	if len(scheduled) != 3 || scheduled[0] <= presenceTTL {
		t.Errorf("refreshes scheduled %v", scheduled)
	}
	pres(3, "Иванов И. И.", 11, 0) // closed the document
	now = now.Add(presenceTTL - time.Second)
	pres(2, "Петров П. П.", 11, 4) // repeated while viewing: stays
	now = now.Add(2 * time.Second)
	if got := s.Presence(11); !slices.Equal(got, []Presence{{UserID: 2, Name: "Петров П. П.", Page: 4}}) {
		t.Errorf("after one left and one moved: %+v", got)
	}
	if got := s.Presence(12); len(got) != 0 {
		t.Errorf("version 12's viewer did not fade: %+v", got)
	}

	// The sending side's throttle.
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return at.Add(time.Duration(n) * time.Millisecond) }
	calls := []struct {
		name string
		page int
		at   time.Time
		send bool
		wait time.Duration
	}{
		{"first page goes at once", 1, ms(0), true, 0},
		{"same page soon after: nothing", 1, ms(100), false, 0},
		{"a new page within the gap waits", 2, ms(100), false, presenceMinGap - 100*time.Millisecond},
		{"another within the gap joins the wait", 3, ms(200), false, 0},
		{"same page after the repeat interval", 1, ms(0).Add(presenceEvery + time.Millisecond), true, 0},
		{"closing goes at once", 0, ms(0).Add(presenceEvery + 2*time.Millisecond), true, 0},
	}
	for i, c := range calls {
		send, wait := s.presenceDue(7, 11, c.page, c.at)
		if send != c.send || wait != c.wait {
			t.Errorf("%s: send %v wait %v, want %v %v", c.name, send, wait, c.send, c.wait)
		}
		if i == 3 {
			if p, ok := s.presenceTrailer(11, ms(300)); !ok || p != 3 {
				t.Errorf("the trailing send announces page %d (%v), want the last page 3", p, ok)
			}
		}
	}
}

// annotServer is the sync server's annotation endpoints in memory, with
// its version checks, for the outbox and undo tests; down makes it
// unreachable.
type annotServer struct {
	mu     sync.Mutex
	rows   map[int64]wire.Annotation
	nextID int64
	keys   map[string][]byte // idempotency key → answer
	calls  []string
	down   bool
}

func (s *annotServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, wire.APIPrefix)
	reply := func(code int, v any) {
		b, _ := json.Marshal(v)
		if k := r.Header.Get("Idempotency-Key"); k != "" && code < 300 {
			s.keys[k] = b
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		w.Write(b)
	}
	if path == "/auth/login" {
		reply(200, wire.LoginResponse{Token: "tok", Scope: wire.ScopeFull, User: wire.User{ID: 1, Login: "expert", Role: wire.RoleExpert, FullName: "Эксперт"}})
		return
	}
	if s.down {
		hj, _ := w.(http.Hijacker)
		c, _, _ := hj.Hijack()
		c.Close()
		return
	}
	if k := r.Header.Get("Idempotency-Key"); k != "" && s.keys[k] != nil {
		w.Header().Set("Content-Type", "application/json")
		w.Write(s.keys[k])
		return
	}
	s.calls = append(s.calls, r.Method+" "+path)
	conflict := func(cur int64) {
		e := wire.E(wire.CodeConflict, "version", "Пометка уже изменена", "changed")
		e.Current = cur
		reply(409, e)
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	id, _ := strconv.ParseInt(parts[1], 10, 64)
	switch {
	case r.Method == http.MethodGet && parts[0] == "versions":
		out := []wire.Annotation{}
		for _, a := range s.rows {
			if a.VersionID == id {
				out = append(out, a)
			}
		}
		reply(200, out)
	case r.Method == http.MethodPost && parts[0] == "versions":
		var req wire.CreateAnnotationRequest
		json.NewDecoder(r.Body).Decode(&req)
		s.nextID++
		a := wire.Annotation{ID: s.nextID, AppID: 7, VersionID: id, Page: req.Page, Kind: req.Kind, Geometry: req.Geometry, Color: req.Color,
			Text: req.Text, Status: wire.AnnotOpen, AuthorID: 1, Version: 1, Replies: []wire.AnnotationReply{}}
		s.rows[a.ID] = a
		reply(201, a)
	case r.Method == http.MethodPatch:
		var req wire.UpdateAnnotationRequest
		json.NewDecoder(r.Body).Decode(&req)
		a, ok := s.rows[id]
		if !ok {
			reply(404, wire.E(wire.CodeNotFound, "", "нет", "none"))
			return
		}
		if a.Version != req.Version {
			conflict(a.Version)
			return
		}
		a = AnnotationChange{Geometry: req.Geometry, Color: req.Color, Text: req.Text}.apply(a)
		a.Version++
		s.rows[id] = a
		reply(200, a)
	case r.Method == http.MethodDelete:
		a, ok := s.rows[id]
		if !ok {
			reply(404, wire.E(wire.CodeNotFound, "", "нет", "none"))
			return
		}
		if v, _ := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64); v != a.Version {
			conflict(a.Version)
			return
		}
		delete(s.rows, id)
		w.WriteHeader(http.StatusNoContent)
	default:
		reply(404, wire.E(wire.CodeNotFound, "", "нет", "none"))
	}
}

// someoneElse changes a row as another expert would.
func (s *annotServer) someoneElse(id int64, colour string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.rows[id]
	a.Color, a.Version = colour, a.Version+1
	s.rows[id] = a
}

func (s *annotServer) setDown(d bool) {
	s.mu.Lock()
	s.down = d
	s.mu.Unlock()
}

func (s *annotServer) row(id int64) (wire.Annotation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.rows[id]
	return a, ok
}

func (s *annotServer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows)
}

func annotWorkspace(t *testing.T) (*Workspace, *annotServer) {
	t.Helper()
	srv := &annotServer{rows: map[int64]wire.Annotation{}, keys: map[string][]byte{}}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	st := NewStore(quietLog())
	w := NewWorkspace(quietLog(), NewSession(quietLog(), "dev", "host"), st)
	st.SetReloader(nil)
	if _, err := w.Session().Login(context.Background(), Credentials{Server: hs.URL, Login: "expert", Password: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := w.UseCache(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	st.SetMe(wire.User{ID: 1, Role: wire.RoleExpert, FullName: "Эксперт"})
	return w, srv
}

func box(x1, y1, x2, y2 float64) wire.Geometry {
	return wire.Geometry{Rect: &wire.Rect{X1: x1, Y1: y1, X2: x2, Y2: y2}}
}

func onlyItem(t *testing.T, st *Store) AnnotationItem {
	t.Helper()
	items := st.AnnotationItems(11)
	if len(items) != 1 {
		t.Fatalf("%d items, want 1: %+v", len(items), items)
	}
	return items[0]
}

// Offline, marks wait in the outbox and are drawn as pending; changes to
// a mark still queued replace its command; sent once back online.
func TestAnnotationsQueuedOffline(t *testing.T) {
	ctx := context.Background()
	w, srv := annotWorkspace(t)
	st := w.Store()
	if err := w.LoadAnnotations(ctx, 11); err != nil {
		t.Fatal(err)
	}
	srv.setDown(true)
	_, err := w.CreateAnnotation(ctx, 7, 11, wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotRect, Geometry: box(10, 10, 50, 50)})
	cmd, ok := QueuedCommand(err)
	if !ok || !IsQueued(err) {
		t.Fatalf("create offline: %v, want queued", err)
	}
	it := onlyItem(t, st)
	if it.Pending != PendingCreate || it.PendingCmd != cmd || it.ID != 0 || it.Color != wire.DefaultAnnotationColour || it.AuthorID != 1 {
		t.Fatalf("pending item %+v", it)
	}
	if p := st.PendingFor(7); len(p) != 1 || p[0].Annot == nil || p[0].Annot.Create == nil || p[0].Annot.VersionID != 11 {
		t.Fatalf("outbox shows %+v", p)
	}
	// Moving it offline replaces the queued create: still one command.
	g := box(20, 20, 60, 60)
	if _, err := w.UpdateAnnotation(ctx, it, AnnotationChange{Geometry: &g}); !IsQueued(err) {
		t.Fatalf("move of a queued mark: %v", err)
	}
	it = onlyItem(t, st)
	if p := st.Pending(); len(p) != 1 || *it.Geometry.Rect != *g.Rect || it.Pending != PendingCreate {
		t.Fatalf("after the move: %d queued, item %+v", len(p), it)
	}
	if _, err := w.SetAnnotationStatus(ctx, it, wire.AnnotResolved); wire.ErrorCode(err) != wire.CodeConflict {
		t.Errorf("status of a mark not sent yet: %v", err)
	}
	srv.setDown(false)
	if err := w.FlushOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	it = onlyItem(t, st)
	if it.ID == 0 || it.Pending != NotPending || *it.Geometry.Rect != *g.Rect {
		t.Fatalf("after sending: %+v", it)
	}
	if srv.count() != 1 {
		t.Errorf("server holds %d rows, want 1", srv.count())
	}

	// A recolour offline is pending; a second one merges into it and
	// names the version first seen.
	srv.setDown(true)
	red, blue := "#aa0000", "#0000aa"
	if _, err := w.UpdateAnnotation(ctx, it, AnnotationChange{Color: &red}); !IsQueued(err) {
		t.Fatal(err)
	}
	it2 := onlyItem(t, st)
	if it2.Pending != PendingUpdate || it2.Color != red {
		t.Fatalf("pending recolour %+v", it2)
	}
	if _, err := w.UpdateAnnotation(ctx, it2, AnnotationChange{Color: &blue}); !IsQueued(err) {
		t.Fatal(err)
	}
	if p := st.Pending(); len(p) != 1 || p[0].Annot.Update == nil || p[0].Annot.Update.Version != 1 || *p[0].Annot.Update.Color != blue {
		t.Fatalf("queue after two recolours: %+v", p)
	}
	// Deleting it offline: the delete waits and names the seen version.
	if err := w.DeleteAnnotation(ctx, onlyItem(t, st)); !IsQueued(err) {
		t.Fatal(err)
	}
	if it3 := onlyItem(t, st); it3.Pending != PendingDelete {
		t.Fatalf("pending delete %+v", it3)
	}
	srv.setDown(false)
	if err := w.FlushOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(st.AnnotationItems(11)); n != 0 || srv.count() != 0 {
		t.Errorf("after sending the delete: %d items, %d rows", n, srv.count())
	}
}

// A change over someone else's is refused, shown, and the Store shows
// theirs; undo and redo are new commands and never overwrite either.
func TestAnnotationUndoRedo(t *testing.T) {
	ctx := context.Background()
	w, srv := annotWorkspace(t)
	st := w.Store()
	st.State(client.StateOnline, nil)
	if err := w.LoadAnnotations(ctx, 11); err != nil {
		t.Fatal(err)
	}
	ed := NewAnnotationEditor(w, 7, 11)
	it, err := ed.Create(ctx, wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotRect, Geometry: box(10, 10, 50, 50), Color: "#ff0000"})
	if err != nil || it.ID == 0 {
		t.Fatalf("create: %+v %v", it, err)
	}
	moved := box(100, 100, 140, 140)
	it, err = ed.Update(ctx, it, AnnotationChange{Geometry: &moved})
	if err != nil {
		t.Fatal(err)
	}
	row := func() wire.Annotation { a, _ := srv.row(it.ID); return a }
	if r := row(); r.Version != 2 || *r.Geometry.Rect != *moved.Rect {
		t.Fatalf("server after the move %+v", r)
	}
	steps := []struct {
		name    string
		do      func() error
		rect    *wire.Rect // nil: the annotation is gone
		version int64
	}{
		{"undo the move", func() error { return ed.Undo(ctx) }, &wire.Rect{X1: 10, Y1: 10, X2: 50, Y2: 50}, 3},
		{"undo the create deletes", func() error { return ed.Undo(ctx) }, nil, 0},
		{"redo the create makes it again", func() error { return ed.Redo(ctx) }, &wire.Rect{X1: 10, Y1: 10, X2: 50, Y2: 50}, 1},
		{"redo the move", func() error { return ed.Redo(ctx) }, moved.Rect, 2},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		items := st.AnnotationItems(11)
		if s.rect == nil {
			if len(items) != 0 || srv.count() != 0 {
				t.Fatalf("%s: %d items, %d rows left", s.name, len(items), srv.count())
			}
			continue
		}
		if len(items) != 1 || *items[0].Geometry.Rect != *s.rect || items[0].Version != s.version {
			t.Fatalf("%s: items %+v", s.name, items)
		}
		it = items[0]
		if r := row(); *r.Geometry.Rect != *s.rect {
			t.Fatalf("%s: server has %+v", s.name, r)
		}
	}
	if ed.CanRedo() || !ed.CanUndo() {
		t.Errorf("after redoing everything: undo %v redo %v", ed.CanUndo(), ed.CanRedo())
	}

	// Someone else recolours it; undoing the move is refused, theirs stays,
	// the Store shows theirs, and the step can still be undone later.
	srv.someoneElse(it.ID, "#00ff00")
	err = ed.Undo(ctx)
	if !IsConflict(err) {
		t.Fatalf("undo over someone else's change: %v, want a conflict", err)
	}
	if r := row(); r.Color != "#00ff00" || *r.Geometry.Rect != *moved.Rect {
		t.Errorf("the server's row was overwritten: %+v", r)
	}
	if a, _ := st.Annotation(it.ID); a.Color != "#00ff00" || a.Version != 3 {
		t.Errorf("the Store did not take the other change: %+v", a)
	}
	if !ed.CanUndo() {
		t.Error("the refused undo was dropped")
	}
	// A direct update naming a stale version is refused too.
	stale := it
	stale.Version = 1
	c := "#123456"
	if _, err := w.UpdateAnnotation(ctx, stale, AnnotationChange{Color: &c}); !IsConflict(err) {
		t.Errorf("stale update: %v", err)
	}

	// Delete, then undo: the annotation comes back (a new row) with its shape.
	cur := onlyItem(t, st)
	if err := ed.Delete(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if srv.count() != 0 {
		t.Fatal("not deleted")
	}
	if err := ed.Undo(ctx); err != nil {
		t.Fatal(err)
	}
	back := onlyItem(t, st)
	if back.ID == cur.ID || *back.Geometry.Rect != *moved.Rect || back.Color != "#00ff00" {
		t.Errorf("restored %+v", back)
	}
}
