package app

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// Experts' annotations in the viewer (DESIGN.md §1 "Annotations"): the
// Store keeps those of every document version opened in this run, in
// memory, fed by the load on open and the annotation events; commands go
// through the outbox, so a mark made offline waits on disk and is drawn as
// pending meanwhile. Applicants never load them (the server refuses).

// Kinds of queued annotation commands (see outbox.go).
const (
	CommandAnnotCreate = "annotation_create"
	CommandAnnotUpdate = "annotation_update"
	CommandAnnotDelete = "annotation_delete"
	CommandAnnotStatus = "annotation_status"
	CommandAnnotReply  = "annotation_reply"
)

// Presence in the viewer: a client repeats its position every
// presenceEvery while the document stays open, so a mark lost or a viewer
// closed without a word fades after presenceTTL. A change of page is sent
// at once unless one went out less than presenceMinGap ago; then the last
// page is sent when the gap has passed.
const (
	presenceTTL    = 30 * time.Second
	presenceEvery  = 10 * time.Second
	presenceMinGap = 300 * time.Millisecond
)

// PresenceEvery is how often a viewer repeats its presence.
const PresenceEvery = presenceEvery

// PendingAnnotation is a queued annotation command as the screens show it.
type PendingAnnotation struct {
	VersionID    int64 // create: the version marked (from the path)
	AnnotationID int64 // the others: the annotation (from the path)
	Create       *wire.CreateAnnotationRequest
	Update       *wire.UpdateAnnotationRequest
	Delete       bool
	SeenVersion  int64 // delete: the version seen
	Status       *wire.AnnotationStatusRequest
	Reply        *wire.ReplyRequest
}

// pendingAnnotationOf reads an annotation command's path and body.
func pendingAnnotationOf(c client.Command) *PendingAnnotation {
	p := &PendingAnnotation{}
	path, query, _ := strings.Cut(c.Path, "?")
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) >= 2 {
		id, _ := strconv.ParseInt(parts[1], 10, 64)
		if parts[0] == "versions" {
			p.VersionID = id
		} else {
			p.AnnotationID = id
		}
	}
	switch c.Kind {
	case CommandAnnotCreate:
		var r wire.CreateAnnotationRequest
		if json.Unmarshal(c.Body, &r) == nil {
			p.Create = &r
		}
	case CommandAnnotUpdate:
		var r wire.UpdateAnnotationRequest
		if json.Unmarshal(c.Body, &r) == nil {
			p.Update = &r
		}
	case CommandAnnotDelete:
		p.Delete = true
		v, _ := strings.CutPrefix(query, "version=")
		p.SeenVersion, _ = strconv.ParseInt(v, 10, 64)
	case CommandAnnotStatus:
		var r wire.AnnotationStatusRequest
		if json.Unmarshal(c.Body, &r) == nil {
			p.Status = &r
		}
	case CommandAnnotReply:
		var r wire.ReplyRequest
		if json.Unmarshal(c.Body, &r) == nil {
			p.Reply = &r
		}
	}
	return p
}

// annotState is the Store's part for annotations and viewer presence.
// None of it is cached on disk: a version's annotations are loaded when it
// is opened.
type annotState struct {
	byVersion map[int64]map[int64]wire.Annotation // version → id → annotation
	watched   map[int64]bool                      // versions whose events are kept
	versionOf map[int64]int64                     // annotation → version
	gone      map[int64]bool                      // deleted ids: a late load never revives them
	gen       uint64                              // counts upserts
	touched   map[int64]uint64                    // annotation → gen of its last upsert
	loadMark  map[int64]uint64                    // version → gen when its load was asked
	created   map[uint64]int64                    // outbox command → the annotation it created
	presence  map[int64]map[int64]presenceMark    // version → user → where they are
	// What this client last told the others, per version (the throttle
	// of SendPresence).
	sent map[int64]*presenceOut
}

type presenceMark struct {
	name  string
	page  int
	until time.Time
}

type presenceOut struct {
	at      time.Time
	page    int
	trailer bool // a send is scheduled for the end of the gap
	want    int  // the page it will send
	appID   int64
}

func (a *annotState) init() {
	a.byVersion = map[int64]map[int64]wire.Annotation{}
	a.watched = map[int64]bool{}
	a.versionOf = map[int64]int64{}
	a.gone = map[int64]bool{}
	a.touched = map[int64]uint64{}
	a.loadMark = map[int64]uint64{}
	a.created = map[uint64]int64{}
	a.presence = map[int64]map[int64]presenceMark{}
	a.sent = map[int64]*presenceOut{}
}

// byPageID orders annotations as the viewer lists them.
func byPageID(a, b wire.Annotation) int {
	return cmp.Or(cmp.Compare(a.Page, b.Page), cmp.Compare(a.ID, b.ID))
}

// watchAnnotations starts keeping the events of a version (before its
// load, so nothing committed meanwhile is missed).
func (s *Store) watchAnnotations(versionID int64) {
	s.mu.Lock()
	s.annot.watched[versionID] = true
	s.annot.loadMark[versionID] = s.annot.gen
	s.mu.Unlock()
}

// SetAnnotations installs a version's annotations as loaded; one that
// arrived by event at a higher version meanwhile is kept, one deleted
// meanwhile stays deleted.
func (s *Store) SetAnnotations(versionID int64, list []wire.Annotation) {
	s.mu.Lock()
	old := s.annot.byVersion[versionID]
	next := make(map[int64]wire.Annotation, len(list))
	for _, a := range list {
		if s.annot.gone[a.ID] {
			continue
		}
		if o, ok := old[a.ID]; ok && o.Version > a.Version {
			a = o
		}
		next[a.ID] = a
		s.annot.versionOf[a.ID] = versionID
	}
	// Ones that arrived after the load was asked stay too: an event or a
	// command's answer is never older than the list.
	mark, marked := s.annot.loadMark[versionID]
	for id, a := range old {
		if _, ok := next[id]; !ok && marked && s.annot.touched[id] > mark {
			next[id] = a
		}
	}
	s.annot.byVersion[versionID] = next
	s.annot.watched[versionID] = true
	s.mu.Unlock()
	s.changed()
}

// UpsertAnnotation puts an annotation the user just changed (or an event's)
// into the Store unless a newer version is known.
func (s *Store) UpsertAnnotation(a wire.Annotation) {
	s.mu.Lock()
	changed := s.upsertAnnotation(a, true)
	s.mu.Unlock()
	if changed {
		s.changed()
	}
}

func (s *Store) upsertAnnotation(a wire.Annotation, force bool) bool {
	if s.annot.gone[a.ID] || a.VersionID == 0 || (!force && !s.annot.watched[a.VersionID]) {
		return false
	}
	m := s.annot.byVersion[a.VersionID]
	if m == nil {
		m = map[int64]wire.Annotation{}
		s.annot.byVersion[a.VersionID] = m
	}
	if o, ok := m[a.ID]; ok {
		if o.Version > a.Version {
			return false
		}
		// Replies never change the row version and are never deleted:
		// keep any the other copy has.
		a.Replies = mergeReplies(o.Replies, a.Replies)
	}
	m[a.ID] = a
	s.annot.versionOf[a.ID] = a.VersionID
	s.annot.gen++
	s.annot.touched[a.ID] = s.annot.gen
	return true
}

func mergeReplies(a, b []wire.AnnotationReply) []wire.AnnotationReply {
	return mergeByID(a, b, func(r wire.AnnotationReply) int64 { return r.ID })
}

func (s *Store) removeAnnotation(id, versionID int64) {
	if versionID == 0 {
		versionID = s.annot.versionOf[id]
	}
	delete(s.annot.byVersion[versionID], id)
	delete(s.annot.versionOf, id)
	s.annot.gone[id] = true
}

func (s *Store) addReply(r wire.AnnotationReply) bool {
	v, ok := s.annot.versionOf[r.AnnotationID]
	if !ok {
		return false
	}
	a, ok := s.annot.byVersion[v][r.AnnotationID]
	if !ok {
		return false
	}
	a.Replies = mergeReplies(a.Replies, []wire.AnnotationReply{r})
	s.annot.byVersion[v][r.AnnotationID] = a
	return true
}

// applyAnnotation applies the annotation events; it reports whether e was
// one. Events of versions not opened in this run are not kept: opening
// loads them.
func (s *Store) applyAnnotation(e wire.Event) (handled bool, err error) {
	switch e.Kind {
	case wire.EventAnnotation:
		var a wire.Annotation
		if err := e.Decode(&a); err != nil {
			return true, err
		}
		if a.AppID == 0 {
			a.AppID = e.AppID
		}
		s.upsertAnnotation(a, false)
	case wire.EventAnnotationDelete:
		var g wire.AnnotationGone
		if err := e.Decode(&g); err != nil {
			return true, err
		}
		s.removeAnnotation(g.ID, g.VersionID)
	case wire.EventAnnotationReply:
		var r wire.AnnotationReply
		if err := e.Decode(&r); err != nil {
			return true, err
		}
		s.addReply(r)
	default:
		return false, nil
	}
	return true, nil
}

// Annotations lists a version's annotations as the server has them, by
// page and id.
func (s *Store) Annotations(versionID int64) []wire.Annotation {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]wire.Annotation, 0, len(s.annot.byVersion[versionID]))
	for _, a := range s.annot.byVersion[versionID] {
		out = append(out, a)
	}
	slices.SortFunc(out, byPageID)
	return out
}

// Annotation is one annotation by id.
func (s *Store) Annotation(id int64) (wire.Annotation, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.annot.byVersion[s.annot.versionOf[id]][id]
	return a, ok
}

// CreatedFrom is the annotation a queued create made, once it was sent.
func (s *Store) CreatedFrom(cmd uint64) (int64, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.annot.created[cmd]
	return id, ok
}

func (s *Store) noteCreated(cmd uint64, a wire.Annotation) {
	s.mu.Lock()
	s.annot.created[cmd] = a.ID
	s.upsertAnnotation(a, true)
	s.mu.Unlock()
	s.changed()
}

func (s *Store) noteRemoved(id int64) {
	s.mu.Lock()
	s.removeAnnotation(id, 0)
	s.mu.Unlock()
	s.changed()
}

func (s *Store) noteReply(r wire.AnnotationReply) {
	s.mu.Lock()
	ok := s.addReply(r)
	s.mu.Unlock()
	if ok {
		s.changed()
	}
}

// PendingState says what of an annotation still waits in the outbox.
type PendingState int

const (
	NotPending    PendingState = iota
	PendingCreate              // made offline: no id yet
	PendingUpdate              // moved, recoloured or edited offline
	PendingDelete              // deleted offline
	PendingStatus              // status set offline
)

// AnnotationItem is an annotation as the viewer draws it: the server's
// copy with what the outbox still holds for it applied on top.
type AnnotationItem struct {
	wire.Annotation
	Pending    PendingState
	PendingCmd uint64 // the queued command of Pending
	// PendingReplies counts replies still queued (they are in Replies
	// with id 0).
	PendingReplies int
}

// Key names the item for the screens: the annotation id, or the queued
// create's command for one not sent yet.
func (it AnnotationItem) Key() string {
	if it.ID != 0 {
		return "a" + strconv.FormatInt(it.ID, 10)
	}
	return "q" + strconv.FormatUint(it.PendingCmd, 10)
}

// AnnotationItems lists what the viewer draws for a version: its
// annotations with queued changes applied, and the ones queued for
// creation, by page.
func (s *Store) AnnotationItems(versionID int64) []AnnotationItem {
	s.mu.RLock()
	defer s.mu.RUnlock()
	items := map[int64]*AnnotationItem{}
	var out []*AnnotationItem
	for _, a := range s.annot.byVersion[versionID] {
		it := &AnnotationItem{Annotation: a}
		items[a.ID] = it
		out = append(out, it)
	}
	for _, c := range s.out.pending {
		p := c.Annot
		if p == nil {
			continue
		}
		if p.Create != nil {
			if p.VersionID != versionID {
				continue
			}
			r := p.Create
			colour := cmp.Or(r.Color, wire.DefaultAnnotationColour)
			out = append(out, &AnnotationItem{Annotation: wire.Annotation{AppID: c.AppID, VersionID: versionID, Page: r.Page, Kind: r.Kind,
				Geometry: r.Geometry, Color: colour, Text: r.Text, Status: wire.AnnotOpen, AuthorID: s.me.ID, AuthorName: s.me.FullName,
				CreatedAt: c.QueuedAt}, Pending: PendingCreate, PendingCmd: c.ID})
			continue
		}
		it := items[p.AnnotationID]
		if it == nil {
			continue
		}
		switch {
		case p.Update != nil:
			if p.Update.Geometry != nil {
				it.Geometry = *p.Update.Geometry
			}
			if p.Update.Color != nil {
				it.Color = *p.Update.Color
			}
			if p.Update.Text != nil {
				it.Text = *p.Update.Text
			}
			it.Pending, it.PendingCmd = PendingUpdate, c.ID
		case p.Delete:
			it.Pending, it.PendingCmd = PendingDelete, c.ID
		case p.Status != nil:
			it.Status = p.Status.Status
			it.Pending, it.PendingCmd = PendingStatus, c.ID
		case p.Reply != nil:
			it.Replies = append(slices.Clone(it.Replies), wire.AnnotationReply{AnnotationID: it.ID, AppID: it.AppID,
				AuthorID: s.me.ID, AuthorName: s.me.FullName, Text: p.Reply.Text, CreatedAt: c.QueuedAt})
			it.PendingReplies++
		}
	}
	res := make([]AnnotationItem, len(out))
	for i, it := range out {
		res[i] = *it
	}
	slices.SortStableFunc(res, func(a, b AnnotationItem) int {
		// Queued creates after the server's rows of their page.
		return cmp.Or(cmp.Compare(a.Page, b.Page), cmp.Compare(queuedLast(a), queuedLast(b)), cmp.Compare(a.ID, b.ID), cmp.Compare(a.PendingCmd, b.PendingCmd))
	})
	return res
}

func queuedLast(it AnnotationItem) int {
	if it.ID == 0 {
		return 1
	}
	return 0
}

// pendingAnnot returns the queued annotation command cmd.
func (s *Store) pendingAnnot(cmd uint64) (PendingCommand, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.out.pending {
		if c.ID == cmd && c.Annot != nil {
			return c, true
		}
	}
	return PendingCommand{}, false
}

// item finds the current AnnotationItem of an annotation (id) or of a
// queued create (cmd).
func (s *Store) annotationItem(versionID, id int64, cmd uint64) (AnnotationItem, bool) {
	for _, it := range s.AnnotationItems(versionID) {
		if id != 0 && it.ID == id || id == 0 && it.ID == 0 && it.PendingCmd == cmd {
			return it, true
		}
	}
	return AnnotationItem{}, false
}

// --- presence ---

// Presence is another user viewing a document version.
type Presence struct {
	UserID int64
	Name   string
	Page   int // 1-based
}

// notePresence keeps another user's position in a version until it fades;
// page 0 says they closed it.
func (s *Store) notePresence(e wire.Ephemeral) {
	if e.UserID == 0 || e.VersionID == 0 {
		return
	}
	s.mu.Lock()
	if e.UserID == s.me.ID {
		s.mu.Unlock()
		return
	}
	m := s.annot.presence[e.VersionID]
	if m == nil {
		m = map[int64]presenceMark{}
		s.annot.presence[e.VersionID] = m
	}
	if e.Page <= 0 {
		delete(m, e.UserID)
	} else {
		m[e.UserID] = presenceMark{name: e.UserName, page: e.Page, until: s.chat.now().Add(presenceTTL)}
	}
	after := s.chat.after
	s.mu.Unlock()
	s.changed()
	if e.Page > 0 {
		after(presenceTTL+50*time.Millisecond, s.changed)
	}
}

// Presence lists the others viewing a version now, by page and name.
func (s *Store) Presence(versionID int64) []Presence {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.chat.now()
	var out []Presence
	for id, m := range s.annot.presence[versionID] {
		if now.Before(m.until) {
			out = append(out, Presence{UserID: id, Name: m.name, Page: m.page})
		}
	}
	slices.SortFunc(out, func(a, b Presence) int {
		return cmp.Or(cmp.Compare(a.Page, b.Page), cmp.Compare(a.Name, b.Name), cmp.Compare(a.UserID, b.UserID))
	})
	return out
}

// SendPresence tells the others which page (1-based; 0: closed) of a
// version the user is on. A new page goes out at once, or at the end of
// presenceMinGap after the last one; the same page is repeated at most
// every presenceEvery. Offline it does nothing.
func (w *Workspace) SendPresence(appID, versionID int64, page int) {
	send, wait := w.store.presenceDue(appID, versionID, page, w.now())
	switch {
	case send:
		w.sendPresence(appID, versionID, page)
	case wait > 0:
		w.store.chat.after(wait, func() {
			if p, ok := w.store.presenceTrailer(versionID, w.now()); ok {
				w.sendPresence(appID, versionID, p)
			}
		})
	}
}

// presenceDue is SendPresence's throttle: send now, or schedule the
// trailing send after wait (0: nothing to do).
func (s *Store) presenceDue(appID, versionID int64, page int, now time.Time) (send bool, wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.annot.sent[versionID]
	if o == nil {
		o = &presenceOut{page: -1}
		s.annot.sent[versionID] = o
	}
	o.appID = appID
	gap := now.Sub(o.at)
	switch {
	case page != 0 && page == o.page && gap < presenceEvery:
		o.trailer = false // back on the page already announced
		return false, 0
	case page != 0 && gap < presenceMinGap:
		o.want = page
		if o.trailer {
			return false, 0
		}
		o.trailer = true
		return false, presenceMinGap - gap
	}
	o.at, o.page, o.trailer = now, page, false
	return true, 0
}

// presenceTrailer is the page a scheduled send announces, if it is still
// due.
func (s *Store) presenceTrailer(versionID int64, now time.Time) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.annot.sent[versionID]
	if o == nil || !o.trailer {
		return 0, false
	}
	o.trailer, o.at, o.page = false, now, o.want
	return o.page, true
}

func (w *Workspace) sendPresence(appID, versionID int64, page int) {
	w.omu.Lock()
	st := w.stream
	w.omu.Unlock()
	if st == nil {
		return
	}
	if err := st.Send(wire.FramePresence, wire.Ephemeral{Kind: wire.FramePresence, AppID: appID, VersionID: versionID, Page: page}); err != nil {
		w.log.Debug("presence not sent", "err", err)
	}
}

// --- use cases ---

// LoadAnnotations reads a version's annotations into the Store (when the
// viewer opens it); events keep them current afterwards.
func (w *Workspace) LoadAnnotations(ctx context.Context, versionID int64) error {
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	w.store.watchAnnotations(versionID)
	list, err := c.VersionAnnotations(ctx, versionID)
	if err != nil {
		return fmt.Errorf("annotations of version %d: %w", versionID, err)
	}
	w.store.SetAnnotations(versionID, list)
	return nil
}

// QueuedError is the error of an annotation command that waits in the
// outbox; it wraps ErrQueued.
type QueuedError struct {
	Cmd uint64 // the outbox command
	Err error
}

func (e *QueuedError) Error() string { return e.Err.Error() }
func (e *QueuedError) Unwrap() error { return e.Err }

// QueuedCommand is the outbox command of an error that only means "sent
// later".
func QueuedCommand(err error) (uint64, bool) {
	var q *QueuedError
	if errors.As(err, &q) {
		return q.Cmd, true
	}
	return 0, false
}

// errWaitPrevious refuses a second version-checked change of an
// annotation while the first still waits in the outbox: it would name a
// version the server has not made yet.
func errWaitPrevious() error {
	return wire.E(wire.CodeConflict, "version", "Предыдущее изменение этой пометки ещё не отправлено — дождитесь связи с сервером",
		"The previous change of this annotation has not been sent yet — wait for the connection")
}

func errNotSentYet() error {
	return wire.E(wire.CodeConflict, "id", "Пометка ещё не отправлена на сервер — дождитесь связи",
		"The annotation has not reached the server yet — wait for the connection")
}

// annotSubmit sends an annotation command through the outbox; offline the
// error is a *QueuedError.
func (w *Workspace) annotSubmit(ctx context.Context, kind string, appID int64, method, path string, body any) (json.RawMessage, error) {
	raw, cmd, err := w.submitCmd(ctx, kind, appID, method, path, body)
	if IsQueued(err) {
		return nil, &QueuedError{Cmd: cmd, Err: err}
	}
	return raw, err
}

func annotPath(id int64, rest string) string {
	return "/annotations/" + strconv.FormatInt(id, 10) + rest
}

// CreateAnnotation marks a page of a version (checked here as the server
// would, with the page size the server knows when the version carries it).
func (w *Workspace) CreateAnnotation(ctx context.Context, appID, versionID int64, r wire.CreateAnnotationRequest) (wire.Annotation, error) {
	if r.Color == "" {
		r.Color = wire.DefaultAnnotationColour
	}
	if err := checkAnnotation(r.Kind, r.Geometry, r.Color, r.Text); err != nil {
		return wire.Annotation{}, err
	}
	raw, err := w.annotSubmit(ctx, CommandAnnotCreate, appID, http.MethodPost, "/versions/"+strconv.FormatInt(versionID, 10)+"/annotations", r)
	if err != nil {
		return wire.Annotation{}, err
	}
	var a wire.Annotation
	if err := json.Unmarshal(raw, &a); err != nil {
		return wire.Annotation{}, fmt.Errorf("create annotation: decode answer: %w", err)
	}
	w.store.UpsertAnnotation(a)
	return a, nil
}

// checkAnnotation is what the client checks before queuing: the kind's
// geometry shape (the page bounds are the server's), colour and text.
func checkAnnotation(kind wire.AnnotationKind, g wire.Geometry, colour, text string) error {
	if err := wire.ValidateGeometry(kind, g, wire.PageSize{W: 1e6, H: 1e6}); err != nil {
		return err
	}
	if err := wire.ValidateColour(colour); err != nil {
		return err
	}
	return wire.ValidateAnnotationText(kind, text)
}

// AnnotationChange is what an update changes; nil fields stay.
type AnnotationChange struct {
	Geometry *wire.Geometry
	Color    *string
	Text     *string
}

func (ch AnnotationChange) empty() bool {
	return ch.Geometry == nil && ch.Color == nil && ch.Text == nil
}

// apply returns it with the change made.
func (ch AnnotationChange) apply(a wire.Annotation) wire.Annotation {
	if ch.Geometry != nil {
		a.Geometry = *ch.Geometry
	}
	if ch.Color != nil {
		a.Color = *ch.Color
	}
	if ch.Text != nil {
		a.Text = *ch.Text
	}
	return a
}

// replaceQueued swaps a queued command for a new one, unless the outbox
// is sending right now (the old one may be on the wire). ok is false when
// the old command is no longer queued.
func (w *Workspace) replaceQueued(cmd uint64) (bool, error) {
	if w.store.Sync().Syncing {
		return false, errWaitPrevious()
	}
	o := w.box()
	if o == nil {
		return false, nil
	}
	ok, err := o.Discard(cmd)
	if err != nil {
		return false, fmt.Errorf("outbox: %w", err)
	}
	w.refreshPending()
	return ok, nil
}

// UpdateAnnotation moves, resizes, recolours or re-words an annotation
// seen as it (its Version is the one named to the server: a change made by
// someone else since is a conflict, shown and never overwritten). A change
// of one still queued replaces the queued command, so the outbox holds at
// most one version-checked command per annotation.
func (w *Workspace) UpdateAnnotation(ctx context.Context, it AnnotationItem, ch AnnotationChange) (wire.Annotation, error) {
	if ch.empty() {
		return it.Annotation, nil
	}
	next := ch.apply(it.Annotation)
	if err := checkAnnotation(it.Kind, next.Geometry, next.Color, next.Text); err != nil {
		return wire.Annotation{}, err
	}
	switch it.Pending {
	case PendingCreate:
		pc, ok := w.store.pendingAnnot(it.PendingCmd)
		if !ok || pc.Annot.Create == nil {
			return w.updateSent(ctx, it, ch)
		}
		replaced, err := w.replaceQueued(it.PendingCmd)
		if err != nil {
			return wire.Annotation{}, err
		}
		if !replaced {
			return w.updateSent(ctx, it, ch)
		}
		r := *pc.Annot.Create
		r.Geometry, r.Color, r.Text = next.Geometry, next.Color, next.Text
		return w.CreateAnnotation(ctx, pc.AppID, it.VersionID, r)
	case PendingUpdate:
		pc, ok := w.store.pendingAnnot(it.PendingCmd)
		if !ok || pc.Annot.Update == nil {
			return w.updateSent(ctx, it, ch)
		}
		replaced, err := w.replaceQueued(it.PendingCmd)
		if err != nil {
			return wire.Annotation{}, err
		}
		if !replaced {
			return w.updateSent(ctx, it, ch)
		}
		merged := *pc.Annot.Update
		if ch.Geometry != nil {
			merged.Geometry = ch.Geometry
		}
		if ch.Color != nil {
			merged.Color = ch.Color
		}
		if ch.Text != nil {
			merged.Text = ch.Text
		}
		return w.sendUpdate(ctx, it.AppID, it.ID, merged)
	case PendingDelete, PendingStatus:
		return wire.Annotation{}, errWaitPrevious()
	}
	return w.sendUpdate(ctx, it.AppID, it.ID, wire.UpdateAnnotationRequest{Version: it.Version, Geometry: ch.Geometry, Color: ch.Color, Text: ch.Text})
}

// updateSent updates an item whose queued command went out meanwhile:
// the Store now has the server's copy.
func (w *Workspace) updateSent(ctx context.Context, it AnnotationItem, ch AnnotationChange) (wire.Annotation, error) {
	id := it.ID
	if id == 0 {
		var ok bool
		if id, ok = w.store.CreatedFrom(it.PendingCmd); !ok {
			return wire.Annotation{}, errNotSentYet()
		}
	}
	cur, ok := w.store.annotationItem(it.VersionID, id, 0)
	if !ok || cur.Pending != NotPending {
		return wire.Annotation{}, errWaitPrevious()
	}
	return w.UpdateAnnotation(ctx, cur, ch)
}

func (w *Workspace) sendUpdate(ctx context.Context, appID, id int64, r wire.UpdateAnnotationRequest) (wire.Annotation, error) {
	raw, err := w.annotSubmit(ctx, CommandAnnotUpdate, appID, http.MethodPatch, annotPath(id, ""), r)
	if err != nil {
		w.afterRefusal(ctx, id, err)
		return wire.Annotation{}, err
	}
	var a wire.Annotation
	if err := json.Unmarshal(raw, &a); err != nil {
		return wire.Annotation{}, fmt.Errorf("update annotation: decode answer: %w", err)
	}
	w.store.UpsertAnnotation(a)
	return a, nil
}

// afterRefusal reloads the annotation's version after a conflict, so the
// screen shows what the other user made of it (the event may already have
// brought it; a reload costs one request).
func (w *Workspace) afterRefusal(ctx context.Context, id int64, err error) {
	if !IsConflict(err) || IsQueued(err) {
		return
	}
	if a, ok := w.store.Annotation(id); ok {
		if lerr := w.LoadAnnotations(ctx, a.VersionID); lerr != nil {
			w.log.Info("annotations not reloaded after a conflict", "err", lerr)
		}
	}
}

// DeleteAnnotation deletes an annotation seen as it; a queued one is
// simply taken out of the outbox.
func (w *Workspace) DeleteAnnotation(ctx context.Context, it AnnotationItem) error {
	seen := it.Version
	switch it.Pending {
	case PendingCreate:
		replaced, err := w.replaceQueued(it.PendingCmd)
		if err != nil || replaced {
			return err
		}
		id, ok := w.store.CreatedFrom(it.PendingCmd)
		if !ok {
			return errNotSentYet()
		}
		cur, ok := w.store.annotationItem(it.VersionID, id, 0)
		if !ok {
			return nil
		}
		return w.DeleteAnnotation(ctx, cur)
	case PendingUpdate:
		pc, ok := w.store.pendingAnnot(it.PendingCmd)
		if ok && pc.Annot.Update != nil {
			replaced, err := w.replaceQueued(it.PendingCmd)
			if err != nil {
				return err
			}
			if replaced {
				seen = pc.Annot.Update.Version
			}
		}
	case PendingDelete:
		return nil
	case PendingStatus:
		return errWaitPrevious()
	}
	_, err := w.annotSubmit(ctx, CommandAnnotDelete, it.AppID, http.MethodDelete, annotPath(it.ID, "?version="+strconv.FormatInt(seen, 10)), nil)
	if err != nil {
		w.afterRefusal(ctx, it.ID, err)
		return err
	}
	w.store.noteRemoved(it.ID)
	return nil
}

// SetAnnotationStatus resolves, rejects or reopens an annotation (its
// author, the lead expert or a manager; the server checks).
func (w *Workspace) SetAnnotationStatus(ctx context.Context, it AnnotationItem, st wire.AnnotationStatus) (wire.Annotation, error) {
	if !st.Valid() {
		return wire.Annotation{}, wire.E(wire.CodeInvalid, "status", "Статус пометки: open, resolved или rejected", "Annotation status: open, resolved or rejected")
	}
	switch it.Pending {
	case PendingCreate:
		return wire.Annotation{}, errNotSentYet()
	case PendingUpdate, PendingDelete, PendingStatus:
		return wire.Annotation{}, errWaitPrevious()
	}
	raw, err := w.annotSubmit(ctx, CommandAnnotStatus, it.AppID, http.MethodPost, annotPath(it.ID, "/status"), wire.AnnotationStatusRequest{Version: it.Version, Status: st})
	if err != nil {
		w.afterRefusal(ctx, it.ID, err)
		return wire.Annotation{}, err
	}
	var a wire.Annotation
	if err := json.Unmarshal(raw, &a); err != nil {
		return wire.Annotation{}, fmt.Errorf("annotation status: decode answer: %w", err)
	}
	w.store.UpsertAnnotation(a)
	return a, nil
}

// ReplyAnnotation adds a reply to an annotation's thread.
func (w *Workspace) ReplyAnnotation(ctx context.Context, it AnnotationItem, text string) (wire.AnnotationReply, error) {
	text = strings.TrimSpace(text)
	if err := wire.ValidateReply(text); err != nil {
		return wire.AnnotationReply{}, err
	}
	if it.ID == 0 {
		return wire.AnnotationReply{}, errNotSentYet()
	}
	raw, err := w.annotSubmit(ctx, CommandAnnotReply, it.AppID, http.MethodPost, annotPath(it.ID, "/replies"), wire.ReplyRequest{Text: text})
	if err != nil {
		return wire.AnnotationReply{}, err
	}
	var r wire.AnnotationReply
	if err := json.Unmarshal(raw, &r); err != nil {
		return wire.AnnotationReply{}, fmt.Errorf("annotation reply: decode answer: %w", err)
	}
	w.store.noteReply(r)
	return r, nil
}

// applyAnnotationResult puts a sent annotation command's answer into the
// Store (outbox.go's applyResult).
func (w *Workspace) applyAnnotationResult(r client.Result) {
	switch r.Command.Kind {
	case CommandAnnotCreate:
		var a wire.Annotation
		if err := json.Unmarshal(r.Response, &a); err == nil {
			w.store.noteCreated(r.Command.ID, a)
		}
	case CommandAnnotUpdate, CommandAnnotStatus:
		var a wire.Annotation
		if err := json.Unmarshal(r.Response, &a); err == nil {
			w.store.UpsertAnnotation(a)
		}
	case CommandAnnotDelete:
		if p := pendingAnnotationOf(r.Command); p.AnnotationID != 0 {
			w.store.noteRemoved(p.AnnotationID)
		}
	case CommandAnnotReply:
		var rep wire.AnnotationReply
		if err := json.Unmarshal(r.Response, &rep); err == nil {
			w.store.noteReply(rep)
		}
	}
}

// AnnotationPermissions says what the user may do with an annotation,
// after the server's rules (which check again): the author or a manager
// edits and deletes; they and the lead expert set its status; experts and
// managers reply.
type AnnotationPermissions struct {
	Edit, Status, Reply bool
}

// AnnotationRights is what me may do with it in application a.
func AnnotationRights(it wire.Annotation, a wire.Application, me wire.User) AnnotationPermissions {
	author := it.AuthorID == me.ID && me.ID != 0
	manager := me.Role == wire.RoleManager
	lead := me.Role == wire.RoleExpert && a.LeadExpertID == me.ID && me.ID != 0
	writer := me.Role == wire.RoleExpert || manager
	return AnnotationPermissions{
		Edit:   writer && (author || manager),
		Status: writer && (author || manager || lead),
		Reply:  writer,
	}
}

// CanAnnotate reports whether me gets the annotation tools: experts and
// managers (administrators read annotations, applicants never see them).
func CanAnnotate(me wire.User) bool {
	return me.Role == wire.RoleExpert || me.Role == wire.RoleManager
}
