package app

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// Kinds of queued remark commands (see outbox.go).
const (
	CommandRemarkCreate = "remark_create"
	CommandRemarkAnswer = "remark_answer"
	CommandRemarkStatus = "remark_status"
)

// reviewState is the Store's part for the remarks register.
type reviewState struct {
	remarks map[int64][]wire.Remark // by application, in register order
	notices map[int64][]wire.Notice // by application, oldest first
}

func (r *reviewState) init() {
	r.remarks = map[int64][]wire.Remark{}
	r.notices = map[int64][]wire.Notice{}
}

// registerOrder sorts remarks as the register lists them: published ones
// by number, then drafts by creation.
func registerOrder(a, b wire.Remark) int {
	switch {
	case a.Number != 0 && b.Number != 0:
		return cmp.Compare(a.Number, b.Number)
	case a.Number != 0:
		return -1
	case b.Number != 0:
		return 1
	}
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
}

// SetRemarks installs an application's remarks as loaded; a remark that
// arrived by event at a higher version meanwhile is kept.
func (s *Store) SetRemarks(appID int64, rs []wire.Remark) {
	s.mu.Lock()
	old := map[int64]wire.Remark{}
	for _, r := range s.review.remarks[appID] {
		old[r.ID] = r
	}
	out := make([]wire.Remark, 0, len(rs))
	for _, r := range rs {
		if o, ok := old[r.ID]; ok && o.Version > r.Version {
			r = o
		}
		out = append(out, r)
	}
	slices.SortFunc(out, registerOrder)
	s.review.remarks[appID] = out
	s.mu.Unlock()
	s.changed()
}

// SetNotices installs an application's notices.
func (s *Store) SetNotices(appID int64, ns []wire.Notice) {
	s.mu.Lock()
	s.review.notices[appID] = slices.Clone(ns)
	s.mu.Unlock()
	s.changed()
}

// UpsertRemark puts a remark the user just changed into the Store (its
// event follows and changes nothing).
func (s *Store) UpsertRemark(r wire.Remark) {
	s.mu.Lock()
	changed := s.upsertRemark(r)
	s.mu.Unlock()
	if changed {
		s.changed()
	}
}

func (s *Store) upsertRemark(r wire.Remark) bool {
	list := s.review.remarks[r.AppID]
	i := slices.IndexFunc(list, func(x wire.Remark) bool { return x.ID == r.ID })
	if i >= 0 {
		if list[i].Version > r.Version {
			return false
		}
		list[i] = r
	} else {
		list = append(list, r)
	}
	slices.SortFunc(list, registerOrder)
	s.review.remarks[r.AppID] = list
	return true
}

// Remarks lists an application's remarks the user may see, in register
// order.
func (s *Store) Remarks(appID int64) []wire.Remark {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.review.remarks[appID])
}

// Notices lists an application's notices, oldest first.
func (s *Store) Notices(appID int64) []wire.Notice {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.review.notices[appID])
}

// applyReview applies the review events; it reports whether e was one.
func (s *Store) applyReview(e wire.Event) (handled bool, err error) {
	switch e.Kind {
	case wire.EventRemark:
		var r wire.Remark
		if err := e.Decode(&r); err != nil {
			return true, err
		}
		if r.AppID == 0 {
			r.AppID = e.AppID
		}
		s.upsertRemark(r)
	case wire.EventRemarkDelete:
		var g wire.RemarkGone
		if err := e.Decode(&g); err != nil {
			return true, err
		}
		if g.AppID == 0 {
			g.AppID = e.AppID
		}
		s.review.remarks[g.AppID] = slices.DeleteFunc(s.review.remarks[g.AppID], func(r wire.Remark) bool { return r.ID == g.ID })
	case wire.EventNoticePublished, wire.EventNoticeLetter: // the letter event carries the notice with its letter's digest
		var n wire.Notice
		if err := e.Decode(&n); err != nil {
			return true, err
		}
		if n.AppID == 0 {
			n.AppID = e.AppID
		}
		list := slices.DeleteFunc(s.review.notices[n.AppID], func(x wire.Notice) bool { return x.ID == n.ID })
		list = append(list, n)
		slices.SortFunc(list, func(a, b wire.Notice) int { return cmp.Compare(a.Number, b.Number) })
		s.review.notices[n.AppID] = list
	default:
		return false, nil
	}
	return true, nil
}

// loadReview reads an application's remarks and notices into the Store.
func (w *Workspace) loadReview(ctx context.Context, c *client.Client, id int64) error {
	rs, err := c.Remarks(ctx, id, 0)
	if err != nil {
		return fmt.Errorf("remarks of application %d: %w", id, err)
	}
	ns, err := c.Notices(ctx, id)
	if err != nil {
		return fmt.Errorf("notices of application %d: %w", id, err)
	}
	w.store.SetRemarks(id, rs)
	w.store.SetNotices(id, ns)
	return nil
}

// RemarkMoves lists what the user may do with a remark now, after the
// one remark table (the server checks again).
func RemarkMoves(r wire.Remark, a wire.Application, me wire.User) []wire.RemarkStatus {
	act := wire.RemarkActor{Role: me.Role, Member: me.Role == wire.RoleApplicant && me.OrgID != 0 && me.OrgID == a.OrgID,
		Author: r.AuthorID == me.ID, Lead: a.LeadExpertID == me.ID && me.ID != 0}
	var out []wire.RemarkStatus
	for _, to := range wire.AllRemarkStatuses {
		if wire.CheckRemarkTransition(r.Status, to, act, "x") == nil {
			out = append(out, to)
		}
	}
	return out
}

// CreateRemark writes a draft remark (private until the lead publishes
// it). Offline it is queued.
func (w *Workspace) CreateRemark(ctx context.Context, appID int64, r wire.CreateRemarkRequest) (wire.Remark, error) {
	if err := wire.ValidateRemarkText(r.Text, r.NormRef, r.Criticality, false); err != nil {
		return wire.Remark{}, err
	}
	return w.remarkCommand(ctx, CommandRemarkCreate, appID, http.MethodPost, "/applications/"+strconv.FormatInt(appID, 10)+"/remarks", r,
		func(ctx context.Context, c *client.Client, key string) (wire.Remark, error) {
			return c.CreateRemark(ctx, appID, r, key)
		})
}

// AnswerRemark is the applicant's answer, with the corrected versions
// (already uploaded) it points to. Offline it is queued.
func (w *Workspace) AnswerRemark(ctx context.Context, rm wire.Remark, text string, versionIDs []int64) (wire.Remark, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return wire.Remark{}, wire.E(wire.CodeInvalid, "text", "Напишите ответ на замечание", "Write the answer to the remark")
	}
	req := wire.AnswerRemarkRequest{Version: rm.Version, Text: text, VersionIDs: versionIDs}
	return w.remarkCommand(ctx, CommandRemarkAnswer, rm.AppID, http.MethodPost, "/remarks/"+strconv.FormatInt(rm.ID, 10)+"/answers", req,
		func(ctx context.Context, c *client.Client, key string) (wire.Remark, error) {
			return c.AnswerRemark(ctx, rm.ID, req, key)
		})
}

// SetRemarkStatus is an expert's verdict on an answer: accepted,
// reopened (with what is missing) or closed. Offline it is queued.
func (w *Workspace) SetRemarkStatus(ctx context.Context, rm wire.Remark, to wire.RemarkStatus, comment string) (wire.Remark, error) {
	comment = strings.TrimSpace(comment)
	if to == wire.RemarkReopened && comment == "" {
		return wire.Remark{}, wire.E(wire.CodeCommentRequired, "comment", "Укажите, что не устроило в ответе", "Say what is missing in the answer")
	}
	req := wire.RemarkStatusRequest{Version: rm.Version, Status: to, Comment: comment}
	return w.remarkCommand(ctx, CommandRemarkStatus, rm.AppID, http.MethodPost, "/remarks/"+strconv.FormatInt(rm.ID, 10)+"/status", req,
		func(ctx context.Context, c *client.Client, key string) (wire.Remark, error) {
			return c.SetRemarkStatus(ctx, rm.ID, req, key)
		})
}

// PublishRemarks is the lead expert's notice: the drafts (and reopened
// remarks) named go to the applicant at once and the application moves
// to remarks_issued. It is a formal act made online, never queued.
func (w *Workspace) PublishRemarks(ctx context.Context, a wire.Application, ids []int64, comment string) (wire.Notice, error) {
	if len(ids) == 0 {
		return wire.Notice{}, wire.E(wire.CodeInvalid, "remark_ids", "Отметьте замечания для направления заявителю", "Choose the remarks to publish")
	}
	for _, id := range ids {
		for _, r := range w.store.Remarks(a.ID) {
			if r.ID == id && r.Status == wire.RemarkDraft {
				if err := wire.ValidateRemarkText(r.Text, r.NormRef, r.Criticality, true); err != nil {
					return wire.Notice{}, fmt.Errorf("remark «%s»: %w", shorten(r.Text, 40), err)
				}
			}
		}
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Notice{}, err
	}
	key := client.NewIdempotencyKey()
	n, err := retryNetwork(ctx, func() (wire.Notice, error) {
		return c.PublishRemarks(ctx, a.ID, wire.PublishRemarksRequest{Version: a.Version, RemarkIDs: ids, Comment: strings.TrimSpace(comment)}, key)
	})
	if err != nil {
		return wire.Notice{}, fmt.Errorf("publish remarks of application %d: %w", a.ID, err)
	}
	return n, nil
}

// remarkCommand sends a remark command through the outbox when there is
// one (queued offline), directly otherwise.
func (w *Workspace) remarkCommand(ctx context.Context, kind string, appID int64, method, path string, body any,
	direct func(context.Context, *client.Client, string) (wire.Remark, error)) (wire.Remark, error) {
	if w.box() != nil {
		raw, err := w.submit(ctx, kind, appID, method, path, body)
		if err != nil {
			return wire.Remark{}, err
		}
		var r wire.Remark
		if err := json.Unmarshal(raw, &r); err != nil {
			return wire.Remark{}, fmt.Errorf("%s: decode answer: %w", kind, err)
		}
		w.store.UpsertRemark(r)
		return r, nil
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Remark{}, err
	}
	key := client.NewIdempotencyKey()
	r, err := retryNetwork(ctx, func() (wire.Remark, error) { return direct(ctx, c, key) })
	if err != nil {
		return wire.Remark{}, err
	}
	w.store.UpsertRemark(r)
	return r, nil
}

func shorten(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}
