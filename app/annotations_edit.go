package app

import (
	"context"
	"sync"

	"github.com/expertiza/expertiza/sync/wire"
)

// AnnotationOps are the annotation use cases the editor calls:
// app.Workspace implements them (screen tests stand in for it).
type AnnotationOps interface {
	Store() *Store
	CreateAnnotation(ctx context.Context, appID, versionID int64, r wire.CreateAnnotationRequest) (wire.Annotation, error)
	UpdateAnnotation(ctx context.Context, it AnnotationItem, ch AnnotationChange) (wire.Annotation, error)
	DeleteAnnotation(ctx context.Context, it AnnotationItem) error
	DiscardPending(id uint64) (bool, error)
}

var _ AnnotationOps = (*Workspace)(nil)

// AnnotationEditor is one viewer session's editing of a version's
// annotations, with undo and redo of the user's own steps. Each undo is a
// new command to the server, named with the row version the user's own
// last step produced: if someone else changed the annotation since, the
// server refuses it as a conflict and nothing of theirs is overwritten.
// Methods are safe for concurrent use but meant to be called one at a time
// (the viewer's UI goroutine, through its background calls).
type AnnotationEditor struct {
	ops              AnnotationOps
	appID, versionID int64

	mu         sync.Mutex
	undo, redo []annotStep
}

// NewAnnotationEditor starts an editing session on a version of an
// application.
func NewAnnotationEditor(ops AnnotationOps, appID, versionID int64) *AnnotationEditor {
	return &AnnotationEditor{ops: ops, appID: appID, versionID: versionID}
}

type stepKind int

const (
	stepCreate stepKind = iota
	stepUpdate
	stepDelete
)

// annotHandle follows one annotation through the session: its id once the
// server made it, or the queued create's command before; version is the
// row version the user's own last step produced (0: not known yet, the
// step is queued). Steps share it, so an undo that re-creates a deleted
// annotation moves every step onto the new one.
type annotHandle struct {
	id      int64
	cmd     uint64
	version int64
}

// shape is what a step changes: the fields of an annotation that undo
// restores.
type shape struct {
	page     int
	kind     wire.AnnotationKind
	geometry wire.Geometry
	color    string
	text     string
}

func shapeOf(a wire.Annotation) shape {
	return shape{page: a.Page, kind: a.Kind, geometry: a.Geometry, color: a.Color, text: a.Text}
}

type annotStep struct {
	kind          stepKind
	h             *annotHandle
	before, after shape
	// delCmd is a queued delete's command (undo takes it back out).
	delCmd uint64
}

// CanUndo and CanRedo say whether the buttons do anything.
func (e *AnnotationEditor) CanUndo() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.undo) > 0
}

func (e *AnnotationEditor) CanRedo() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.redo) > 0
}

// track notes the outcome of a command on h; it reports whether the
// command took (sent or queued).
func track(h *annotHandle, a wire.Annotation, err error) bool {
	if cmd, ok := QueuedCommand(err); ok {
		if h.id == 0 {
			h.cmd = cmd
		}
		h.version = 0
		return true
	}
	if err != nil {
		return false
	}
	h.id, h.version = a.ID, a.Version
	return true
}

func (e *AnnotationEditor) push(s annotStep) {
	e.mu.Lock()
	e.undo = append(e.undo, s)
	e.redo = nil
	e.mu.Unlock()
}

// Create marks a page; the error is nil or a refusal (a queued create is
// a success: the item is drawn as pending).
func (e *AnnotationEditor) Create(ctx context.Context, r wire.CreateAnnotationRequest) (AnnotationItem, error) {
	if r.Color == "" {
		r.Color = wire.DefaultAnnotationColour
	}
	h := &annotHandle{}
	a, err := e.ops.CreateAnnotation(ctx, e.appID, e.versionID, r)
	if !track(h, a, err) {
		return AnnotationItem{}, err
	}
	after := shape{page: r.Page, kind: r.Kind, geometry: r.Geometry, color: r.Color, text: r.Text}
	e.push(annotStep{kind: stepCreate, h: h, after: after})
	it, _ := e.resolve(h)
	return it, nil
}

// Update changes an item (seen at its Version).
func (e *AnnotationEditor) Update(ctx context.Context, it AnnotationItem, ch AnnotationChange) (AnnotationItem, error) {
	if ch.empty() {
		return it, nil
	}
	h := e.handleOf(it)
	before := shapeOf(it.Annotation)
	a, err := e.ops.UpdateAnnotation(ctx, it, ch)
	if !track(h, a, err) {
		return AnnotationItem{}, err
	}
	e.push(annotStep{kind: stepUpdate, h: h, before: before, after: shapeOf(ch.apply(it.Annotation))})
	cur, _ := e.resolve(h)
	return cur, nil
}

// Delete deletes an item.
func (e *AnnotationEditor) Delete(ctx context.Context, it AnnotationItem) error {
	h := e.handleOf(it)
	err := e.ops.DeleteAnnotation(ctx, it)
	cmd, queued := QueuedCommand(err)
	if err != nil && !queued {
		return err
	}
	e.push(annotStep{kind: stepDelete, h: h, before: shapeOf(it.Annotation), delCmd: cmd})
	return nil
}

// handleOf finds the session's handle of an item, so later steps on an
// annotation share it, or makes one.
func (e *AnnotationEditor) handleOf(it AnnotationItem) *annotHandle {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, list := range [][]annotStep{e.undo, e.redo} {
		for i := len(list) - 1; i >= 0; i-- {
			h := list[i].h
			if it.ID != 0 && h.id == it.ID || it.ID == 0 && h.id == 0 && h.cmd == it.PendingCmd {
				return h
			}
		}
	}
	return &annotHandle{id: it.ID, cmd: it.PendingCmd, version: it.Version}
}

// resolve finds h's annotation as the viewer draws it now.
func (e *AnnotationEditor) resolve(h *annotHandle) (AnnotationItem, bool) {
	st := e.ops.Store()
	if h.id == 0 && h.cmd != 0 {
		if id, ok := st.CreatedFrom(h.cmd); ok {
			h.id = id
		}
	}
	it, ok := st.annotationItem(e.versionID, h.id, h.cmd)
	if ok && h.version != 0 && it.Pending == NotPending {
		// Name the version the user's own last step made: a change by
		// someone else since makes the server refuse.
		it.Version = h.version
	}
	return it, ok
}

// errGone says the annotation an undo or redo would change no longer
// exists.
func errGone() error {
	return wire.E(wire.CodeNotFound, "id", "Пометка уже удалена — отменять нечего", "The annotation no longer exists — nothing to undo")
}

// Undo takes back the user's last step with a new command; on a refusal
// the step stays to be undone.
func (e *AnnotationEditor) Undo(ctx context.Context) error {
	e.mu.Lock()
	if len(e.undo) == 0 {
		e.mu.Unlock()
		return nil
	}
	s := e.undo[len(e.undo)-1]
	e.mu.Unlock()
	if err := e.revert(ctx, &s, true); err != nil {
		return err
	}
	e.mu.Lock()
	e.undo = e.undo[:len(e.undo)-1]
	e.redo = append(e.redo, s)
	e.mu.Unlock()
	return nil
}

// Redo makes the last undone step again.
func (e *AnnotationEditor) Redo(ctx context.Context) error {
	e.mu.Lock()
	if len(e.redo) == 0 {
		e.mu.Unlock()
		return nil
	}
	s := e.redo[len(e.redo)-1]
	e.mu.Unlock()
	if err := e.revert(ctx, &s, false); err != nil {
		return err
	}
	e.mu.Lock()
	e.redo = e.redo[:len(e.redo)-1]
	e.undo = append(e.undo, s)
	e.mu.Unlock()
	return nil
}

// revert undoes s (back true) or makes it again (back false). "Exists"
// and "gone" swap: undoing a create deletes, undoing a delete creates.
func (e *AnnotationEditor) revert(ctx context.Context, s *annotStep, back bool) error {
	remove := s.kind == stepCreate && back || s.kind == stepDelete && !back
	recreate := s.kind == stepDelete && back || s.kind == stepCreate && !back
	switch {
	case remove:
		it, ok := e.resolve(s.h)
		if !ok {
			return errGone()
		}
		err := e.ops.DeleteAnnotation(ctx, it)
		cmd, queued := QueuedCommand(err)
		if err != nil && !queued {
			return err
		}
		s.delCmd = cmd
		return nil
	case recreate:
		if s.delCmd != 0 {
			// The delete never left: take it back out of the outbox.
			if ok, err := e.ops.DiscardPending(s.delCmd); err != nil || ok {
				s.delCmd = 0
				return err
			}
		}
		sh := s.before
		if s.kind == stepCreate {
			sh = s.after
		}
		a, err := e.ops.CreateAnnotation(ctx, e.appID, e.versionID, wire.CreateAnnotationRequest{Page: sh.page, Kind: sh.kind,
			Geometry: sh.geometry, Color: sh.color, Text: sh.text})
		// The annotation is a new one: every step on the old follows it.
		nh := annotHandle{}
		if !track(&nh, a, err) {
			return err
		}
		*s.h = nh
		s.delCmd = 0
		return nil
	}
	it, ok := e.resolve(s.h)
	if !ok {
		return errGone()
	}
	to := s.after
	if back {
		to = s.before
	}
	var ch AnnotationChange
	if !geometryEqual(to.geometry, it.Geometry) {
		g := to.geometry
		ch.Geometry = &g
	}
	if to.color != it.Color {
		c := to.color
		ch.Color = &c
	}
	if to.text != it.Text {
		t := to.text
		ch.Text = &t
	}
	if ch.empty() {
		return nil
	}
	a, err := e.ops.UpdateAnnotation(ctx, it, ch)
	if !track(s.h, a, err) {
		return err
	}
	return nil
}

func geometryEqual(a, b wire.Geometry) bool {
	ra, rb := a.Rect, b.Rect
	if (ra == nil) != (rb == nil) || ra != nil && *ra != *rb {
		return false
	}
	if len(a.Quads) != len(b.Quads) || len(a.Points) != len(b.Points) || len(a.Ink) != len(b.Ink) {
		return false
	}
	for i := range a.Quads {
		if a.Quads[i] != b.Quads[i] {
			return false
		}
	}
	for i := range a.Points {
		if a.Points[i] != b.Points[i] {
			return false
		}
	}
	for i := range a.Ink {
		if len(a.Ink[i]) != len(b.Ink[i]) {
			return false
		}
		for j := range a.Ink[i] {
			if a.Ink[i][j] != b.Ink[i][j] {
				return false
			}
		}
	}
	return true
}
