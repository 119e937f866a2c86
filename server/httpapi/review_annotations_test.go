package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestAnnotationsLive: two experts on the same version see each other's
// annotations, edits, replies and deletions arrive over the WebSocket; a
// retried create applies once; a stale version is a conflict; only the
// author or a manager edits; applicants get nothing, neither by reading
// nor pushed.
func TestAnnotationsLive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newReviewCast(t)
	app, vid := inReview(t, c.member, c.manager, c.lead, c.assigned)
	_, leadRec := c.lead.Subscribe(t, nil)
	_, assignedRec := c.assigned.Subscribe(t, nil)
	_, memberRec := c.member.Subscribe(t, nil)
	_, managerRec := c.manager.Subscribe(t, nil)

	// Create, retried with the same idempotency key: one row, same answer.
	key := client.NewIdempotencyKey()
	an, err := c.assigned.C.CreateAnnotation(ctx, vid, rectOn(72), key)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.assigned.C.CreateAnnotation(ctx, vid, rectOn(72), key)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if again.ID != an.ID || again.Version != an.Version {
		t.Errorf("retry answered annotation %d v%d, first attempt %d v%d", again.ID, again.Version, an.ID, an.Version)
	}
	list, err := c.lead.C.VersionAnnotations(ctx, vid)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != an.ID || list[0].AuthorID != c.assigned.ID || list[0].Geometry.Rect == nil || *list[0].Geometry.Rect != *rectOn(72).Geometry.Rect {
		t.Fatalf("after a retried create the version has %+v, want exactly annotation %d as drawn", list, an.ID)
	}
	if an.AppID != app.ID || an.VersionID != vid || an.DocumentID == 0 || an.Status != wire.AnnotOpen || an.AuthorName == "" {
		t.Errorf("created annotation %+v", an)
	}

	// The other expert (the lead) and the manager receive it live.
	waitEvent(t, leadRec, wire.EventAnnotation, "the assigned expert's annotation at the lead", func(a wire.Annotation) bool { return a.ID == an.ID })
	waitEvent(t, managerRec, wire.EventAnnotation, "the annotation at the manager", func(a wire.Annotation) bool { return a.ID == an.ID })

	// The lead draws one too; the assigned expert receives it.
	mine, err := c.lead.C.CreateAnnotation(ctx, vid, wire.CreateAnnotationRequest{Page: 2, Kind: wire.AnnotArrow, Color: "#0055ff",
		Geometry: wire.Geometry{Points: []wire.Point{{X: 100, Y: 100}, {X: 300, Y: 400}}}}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, assignedRec, wire.EventAnnotation, "the lead's annotation at the assigned expert", func(a wire.Annotation) bool { return a.ID == mine.ID })

	// A reply from the lead reaches the author.
	rep, err := c.lead.C.ReplyAnnotation(ctx, an.ID, "Согласен, высота 2,5 м мала", client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, assignedRec, wire.EventAnnotationReply, "the reply", func(r wire.AnnotationReply) bool { return r.ID == rep.ID && r.AnnotationID == an.ID })

	// Only the author or a manager changes it: the lead may not.
	moved := wire.Geometry{Rect: &wire.Rect{X1: 80, Y1: 90, X2: 200, Y2: 170}}
	_, err = c.lead.C.UpdateAnnotation(ctx, an.ID, wire.UpdateAnnotationRequest{Version: an.Version, Geometry: &moved}, "")
	wantCode(t, err, wire.CodeForbidden, "")
	if err := c.lead.C.DeleteAnnotation(ctx, an.ID, an.Version, ""); err == nil {
		t.Fatal("the lead deleted another expert's annotation")
	}

	// The author moves it; a second edit from the old version is stale.
	upd, err := c.assigned.C.UpdateAnnotation(ctx, an.ID, wire.UpdateAnnotationRequest{Version: an.Version, Geometry: &moved}, "")
	if err != nil {
		t.Fatal(err)
	}
	if upd.Version != an.Version+1 || *upd.Geometry.Rect != *moved.Rect || len(upd.Replies) != 1 {
		t.Errorf("updated annotation %+v", upd)
	}
	colour := "#00aa00"
	_, err = c.assigned.C.UpdateAnnotation(ctx, an.ID, wire.UpdateAnnotationRequest{Version: an.Version, Color: &colour}, "")
	if we := wantCode(t, err, wire.CodeConflict, "version"); we.Current != upd.Version {
		t.Errorf("conflict names current version %d, want %d", we.Current, upd.Version)
	}
	waitEvent(t, leadRec, wire.EventAnnotation, "the moved annotation at the lead", func(a wire.Annotation) bool {
		return a.ID == an.ID && a.Version == upd.Version && a.Geometry.Rect != nil && *a.Geometry.Rect == *moved.Rect
	})

	// The lead may resolve it; a manager may edit it.
	res, err := c.lead.C.SetAnnotationStatus(ctx, an.ID, wire.AnnotationStatusRequest{Version: upd.Version, Status: wire.AnnotResolved}, "")
	if err != nil || res.Status != wire.AnnotResolved {
		t.Fatalf("lead resolves: %+v %v", res, err)
	}
	_, err = c.assigned.C.SetAnnotationStatus(ctx, mine.ID, wire.AnnotationStatusRequest{Version: mine.Version, Status: wire.AnnotRejected}, "")
	wantCode(t, err, wire.CodeForbidden, "")
	text := "Уточнено менеджером"
	if _, err := c.manager.C.UpdateAnnotation(ctx, mine.ID, wire.UpdateAnnotationRequest{Version: mine.Version, Text: &text}, ""); err != nil {
		t.Fatalf("manager edits: %v", err)
	}

	// The author deletes; the lead hears of it; it is gone from the lists.
	if err := c.assigned.C.DeleteAnnotation(ctx, an.ID, res.Version, ""); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, leadRec, wire.EventAnnotationDelete, "the deletion", func(g wire.AnnotationGone) bool { return g.ID == an.ID && g.VersionID == vid })
	all, err := c.assigned.C.Annotations(ctx, app.ID, 0)
	if err != nil || len(all) != 1 || all[0].ID != mine.ID {
		t.Fatalf("after the deletion the application has %+v (%v), want only %d", all, err, mine.ID)
	}

	// Applicants: refused when reading, never pushed; other staff: the
	// unassigned expert does not find it, the admin reads but may not draw.
	_, err = c.member.C.VersionAnnotations(ctx, vid)
	wantCode(t, err, wire.CodeForbidden, "")
	_, err = c.member.C.Annotations(ctx, app.ID, 0)
	wantCode(t, err, wire.CodeForbidden, "")
	_, err = c.member.C.CreateAnnotation(ctx, vid, rectOn(10), "")
	wantCode(t, err, wire.CodeForbidden, "")
	_, err = c.member.C.ReplyAnnotation(ctx, mine.ID, "а мы видим?", "")
	wantCode(t, err, wire.CodeNotFound, "")
	_, err = c.unassigned.C.VersionAnnotations(ctx, vid)
	wantCode(t, err, wire.CodeNotFound, "")
	if got, err := c.admin.C.VersionAnnotations(ctx, vid); err != nil || len(got) != 1 {
		t.Errorf("admin reads %d annotations, %v; want 1", len(got), err)
	}
	_, err = c.admin.C.CreateAnnotation(ctx, vid, rectOn(10), "")
	wantCode(t, err, wire.CodeForbidden, "")

	wantActions(t, auditActions(t, c.s, c.assigned.ID), "annotation_create", "annotation_update", "annotation_delete")
	wantActions(t, auditActions(t, c.s, c.lead.ID), "annotation_create", "annotation_reply", "annotation_status")

	// A replayed create answers exactly as the first: 201, marked replayed.
	body, _ := json.Marshal(rectOn(300))
	key = client.NewIdempotencyKey()
	for i, wantReplay := range []string{"", "true"} {
		req, _ := http.NewRequest(http.MethodPost, c.s.URL()+wire.APIPrefix+"/versions/"+strconv.FormatInt(vid, 10)+"/annotations", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.lead.C.Token())
		req.Header.Set(wire.HeaderIdempotencyKey, key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Idempotent-Replayed") != wantReplay {
			t.Errorf("attempt %d: HTTP %d, Idempotent-Replayed %q; want 201, %q", i+1, resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), wantReplay)
		}
	}

	fence(t, c.lead, app.ID, memberRec)
	for _, e := range memberRec.Events() {
		if strings.HasPrefix(string(e.Kind), "annotation.") {
			t.Errorf("the applicant received %s (seq %d): annotations are staff-only", e.Kind, e.Seq)
		}
	}
}

// TestAnnotationGeometry: every kind accepts its own shape; a bad shape is
// refused with a code, the field to fix and a message in both languages.
func TestAnnotationGeometry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newReviewCast(t)
	_, vid := inReview(t, c.member, c.manager, c.lead, c.assigned)
	rect := func(x1, y1, x2, y2 float64) wire.Geometry {
		return wire.Geometry{Rect: &wire.Rect{X1: x1, Y1: y1, X2: x2, Y2: y2}}
	}
	line := []wire.Point{{X: 10, Y: 10}, {X: 500, Y: 800}}
	quad := wire.Quad{72, 720, 300, 720, 72, 700, 300, 700}
	good := []wire.CreateAnnotationRequest{
		{Page: 1, Kind: wire.AnnotHighlight, Geometry: wire.Geometry{Quads: []wire.Quad{quad}}},
		{Page: 1, Kind: wire.AnnotRect, Geometry: rect(0, 0, 595, 842)},
		{Page: 2, Kind: wire.AnnotCloud, Geometry: rect(10, 10, 20, 20), Color: "#123abc"},
		{Page: 3, Kind: wire.AnnotEllipse, Geometry: rect(100, 100, 200, 150)},
		{Page: 1, Kind: wire.AnnotArrow, Geometry: wire.Geometry{Points: line}},
		{Page: 1, Kind: wire.AnnotLine, Geometry: wire.Geometry{Points: line}},
		{Page: 1, Kind: wire.AnnotNote, Geometry: rect(300, 300, 400, 350), Text: "Нет отметки уровня чистого пола"},
		{Page: 1, Kind: wire.AnnotInk, Geometry: wire.Geometry{Ink: [][]wire.Point{line, {{X: 1, Y: 1}, {X: 2, Y: 2}, {X: 3, Y: 5}}}}},
	}
	kinds := map[wire.AnnotationKind]bool{}
	for _, r := range good {
		an, err := c.assigned.C.CreateAnnotation(ctx, vid, r, "")
		if err != nil {
			t.Errorf("%s: %v", r.Kind, err)
			continue
		}
		kinds[an.Kind] = true
		if an.Color == "" || (r.Color != "" && an.Color != r.Color) {
			t.Errorf("%s: colour %q", r.Kind, an.Color)
		}
	}
	if len(kinds) != len(wire.AllAnnotationKinds) {
		t.Errorf("accepted kinds %v, want all of %v", kinds, wire.AllAnnotationKinds)
	}

	huge := math.MaxFloat64
	for _, tc := range []struct {
		name  string
		req   wire.CreateAnnotationRequest
		code  wire.Code
		field string
		says  string // a word the Russian message must contain
	}{
		{"outside the page", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotRect, Geometry: rect(500, 100, 600, 200)}, wire.CodeInvalid, "geometry", "страницы"},
		{"negative", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotRect, Geometry: rect(-1, 100, 60, 200)}, wire.CodeInvalid, "geometry", "страницы"},
		{"enormous", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotEllipse, Geometry: rect(1, 1, huge, 2)}, wire.CodeInvalid, "geometry", "конечными"},
		{"inverted rect", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotCloud, Geometry: rect(200, 200, 100, 300)}, wire.CodeInvalid, "geometry", "x2"},
		{"rect missing", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotRect}, wire.CodeInvalid, "geometry", "rect"},
		{"wrong shape for kind", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotRect, Geometry: wire.Geometry{Rect: rect(1, 1, 2, 2).Rect, Points: line}}, wire.CodeInvalid, "geometry", "points"},
		{"one-point line", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotLine, Geometry: wire.Geometry{Points: line[:1]}}, wire.CodeInvalid, "geometry", "две"},
		{"zero-length arrow", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotArrow, Geometry: wire.Geometry{Points: []wire.Point{{X: 5, Y: 5}, {X: 5, Y: 5}}}}, wire.CodeInvalid, "geometry", "совпадают"},
		{"no quads", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotHighlight}, wire.CodeInvalid, "geometry", "quads"},
		{"quad off the page", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotHighlight, Geometry: wire.Geometry{Quads: []wire.Quad{{72, 900, 300, 900, 72, 880, 300, 880}}}}, wire.CodeInvalid, "geometry", "страницы"},
		{"ink dot", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotInk, Geometry: wire.Geometry{Ink: [][]wire.Point{{{X: 1, Y: 1}}}}}, wire.CodeInvalid, "geometry", "двух"},
		{"page 0", wire.CreateAnnotationRequest{Page: 0, Kind: wire.AnnotRect, Geometry: rect(1, 1, 2, 2)}, wire.CodeInvalid, "page", "1…3"},
		{"page past the end", wire.CreateAnnotationRequest{Page: 4, Kind: wire.AnnotRect, Geometry: rect(1, 1, 2, 2)}, wire.CodeInvalid, "page", "1…3"},
		{"unknown kind", wire.CreateAnnotationRequest{Page: 1, Kind: "star", Geometry: rect(1, 1, 2, 2)}, wire.CodeInvalid, "kind", "star"},
		{"bad colour", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotRect, Geometry: rect(1, 1, 2, 2), Color: "red"}, wire.CodeInvalid, "color", "#rrggbb"},
		{"note without text", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotNote, Geometry: rect(1, 1, 2, 2)}, wire.CodeInvalid, "text", "текст"},
		{"text too long", wire.CreateAnnotationRequest{Page: 1, Kind: wire.AnnotRect, Geometry: rect(1, 1, 2, 2), Text: strings.Repeat("ж", wire.MaxAnnotationTextRunes+1)}, wire.CodeTooLarge, "text", "4000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.assigned.C.CreateAnnotation(ctx, vid, tc.req, "")
			we := wantCode(t, err, tc.code, tc.field)
			if !strings.Contains(we.Message, tc.says) {
				t.Errorf("message %q does not mention %q", we.Message, tc.says)
			}
		})
	}

	// An edit is held to the same rules.
	an, err := c.assigned.C.CreateAnnotation(ctx, vid, rectOn(72), "")
	if err != nil {
		t.Fatal(err)
	}
	off := rect(0, 0, 596, 10)
	_, err = c.assigned.C.UpdateAnnotation(ctx, an.ID, wire.UpdateAnnotationRequest{Version: an.Version, Geometry: &off}, "")
	wantCode(t, err, wire.CodeInvalid, "geometry")

	// Annotations go on pages: a file without pages (XML) refuses them.
	path := filepath.Join(t.TempDir(), "ПЗ.xml")
	if err := os.WriteFile(path, fixtureFile, 0o600); err != nil {
		t.Fatal(err)
	}
	up, err := c.member.C.StartUpload(ctx, an.AppID, "07.01", "ПЗ", path)
	if err != nil {
		t.Fatal(err)
	}
	if up, err = c.member.C.SendChunks(ctx, up, path, 1, nil); err != nil {
		t.Fatal(err)
	}
	_, err = c.assigned.C.CreateAnnotation(ctx, up.VersionID, rectOn(72), "")
	if we := wantCode(t, err, wire.CodeInvalid, "version_id"); !strings.Contains(we.Message, "PDF") {
		t.Errorf("message %q does not say annotations need a PDF", we.Message)
	}
}

// TestDocumentPresence: staff viewing a document version reach the other
// staff only; an applicant's presence reaches the application's audience;
// a version of nothing visible is never relayed.
func TestDocumentPresence(t *testing.T) {
	t.Parallel()
	c := newReviewCast(t)
	app, vid := inReview(t, c.member, c.manager, c.lead, c.assigned)
	leadSt, leadRec := c.lead.Subscribe(t, nil)
	assignedSt, assignedRec := c.assigned.Subscribe(t, nil)
	memberSt, memberRec := c.member.Subscribe(t, nil)
	_, otherRec := c.other.Subscribe(t, nil)

	if err := leadSt.Send(wire.FramePresence, wire.Ephemeral{AppID: app.ID, VersionID: vid, Page: 2}); err != nil {
		t.Fatal(err)
	}
	if err := leadSt.Send(wire.FramePresence, wire.Ephemeral{AppID: app.ID, VersionID: vid + 1000, Page: 1}); err != nil {
		t.Fatal(err)
	}
	assignedRec.WaitFor(t, hang, "the lead's presence on the version", func(r *testenv.Recorder) bool {
		return slices.ContainsFunc(r.Ephemerals(), func(e wire.Ephemeral) bool {
			return e.Kind == wire.FramePresence && e.UserID == c.lead.ID && e.VersionID == vid && e.Page == 2
		})
	})
	// Fence: presence without a document goes to everyone who sees the
	// application, after the lead's frames.
	if err := assignedSt.Send(wire.FramePresence, wire.Ephemeral{AppID: app.ID}); err != nil {
		t.Fatal(err)
	}
	memberRec.WaitFor(t, hang, "the assigned expert's application presence", func(r *testenv.Recorder) bool {
		return slices.ContainsFunc(r.Ephemerals(), func(e wire.Ephemeral) bool { return e.UserID == c.assigned.ID })
	})
	for _, e := range memberRec.Ephemerals() {
		if e.UserID == c.lead.ID {
			t.Errorf("the applicant received staff presence on a document: %+v", e)
		}
	}
	for _, e := range assignedRec.Ephemerals() {
		if e.VersionID == vid+1000 {
			t.Errorf("presence on a version of no visible application was relayed: %+v", e)
		}
	}
	if err := memberSt.Send(wire.FramePresence, wire.Ephemeral{AppID: app.ID, VersionID: vid, Page: 3}); err != nil {
		t.Fatal(err)
	}
	leadRec.WaitFor(t, hang, "the applicant's presence", func(r *testenv.Recorder) bool {
		return slices.ContainsFunc(r.Ephemerals(), func(e wire.Ephemeral) bool { return e.UserID == c.member.ID && e.VersionID == vid })
	})
	if n := len(otherRec.Ephemerals()); n != 0 {
		t.Errorf("another organisation's applicant received %d presence frames", n)
	}
}
