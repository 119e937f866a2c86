package service

import (
	"context"
	"slices"
	"strings"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Support requests: any signed-in user writes to the administrators.
// A request is its author's and the administrators' alone: anyone else
// gets 404 for it, exactly as for one that does not exist. Notifications
// (kind message, no application) tell the administrators of new requests
// and the author's replies, and the author of the administrators' replies
// and status changes.

// supportVisible reads a request the caller may see.
func supportVisible(p *Principal) func(wire.SupportRequest, error) (wire.SupportRequest, error) {
	return func(r wire.SupportRequest, err error) (wire.SupportRequest, error) { return seesSupport(p, r, err) }
}

func seesSupport(p *Principal, r wire.SupportRequest, err error) (wire.SupportRequest, error) {
	if err != nil {
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return wire.SupportRequest{}, errNotFound("обращение", "support request")
		}
		return wire.SupportRequest{}, err
	}
	if r.AuthorID != p.UserID && p.Role != wire.RoleAdmin {
		return wire.SupportRequest{}, errNotFound("обращение", "support request")
	}
	return r, nil
}

// CreateSupportRequest opens a request with its first message.
func (s *Service) CreateSupportRequest(ctx context.Context, p *Principal, r wire.CreateSupportRequest) (wire.SupportRequest, error) {
	if err := requireFull(p); err != nil {
		return wire.SupportRequest{}, err
	}
	if err := r.Validate(); err != nil {
		return wire.SupportRequest{}, err
	}
	subject, body := strings.TrimSpace(r.Subject), strings.TrimSpace(r.Body)
	return write(ctx, s, p, func(tx *store.Tx) (wire.SupportRequest, error) {
		number, err := tx.NextSupportNumber(ctx, wire.DateOf(tx.Now()).Year)
		if err != nil {
			return wire.SupportRequest{}, err
		}
		id, err := tx.InsertSupportRequest(ctx, number, p.UserID, subject, body)
		if err != nil {
			return wire.SupportRequest{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Device: p.Device, Action: wire.AuditSupportCreate,
			ObjectType: "support_request", ObjectID: itoa(id), Details: map[string]any{"number": number, "subject": subject}})
		admins, err := tx.AdminIDs(ctx)
		if err != nil {
			return wire.SupportRequest{}, err
		}
		admins = slices.DeleteFunc(admins, func(id int64) bool { return id == p.UserID })
		if err := s.notifyUsers(ctx, tx, admins, 0, wire.Notification{Kind: wire.NotifyMessage,
			Title: "Новое обращение " + number, Body: p.Name + ": " + subject}); err != nil {
			return wire.SupportRequest{}, err
		}
		return loadSupport(ctx, tx.Q, id)
	})
}

// loadSupport reads a request with its thread.
func loadSupport(ctx context.Context, q store.Q, id int64) (wire.SupportRequest, error) {
	r, err := q.SupportRequest(ctx, id)
	if err != nil {
		return wire.SupportRequest{}, err
	}
	if r.Messages, err = q.SupportMessages(ctx, id); err != nil {
		return wire.SupportRequest{}, err
	}
	return r, nil
}

// SupportRequests lists the caller's requests, or for administrators
// everyone's (mine narrows them to their own); status narrows the list.
func (s *Service) SupportRequests(ctx context.Context, p *Principal, mine bool, status wire.SupportStatus) ([]wire.SupportRequest, error) {
	if err := requireFull(p); err != nil {
		return nil, err
	}
	if status != "" && !status.Valid() {
		return nil, wire.E(wire.CodeInvalid, "status", "Статус обращения: new, in_progress, answered или closed", "Request status: new, in_progress, answered or closed")
	}
	author := p.UserID
	if p.Role == wire.RoleAdmin && !mine {
		author = 0
	}
	return s.st.Read().SupportRequests(ctx, author, status)
}

// SupportRequest reads one request with its thread.
func (s *Service) SupportRequest(ctx context.Context, p *Principal, id int64) (wire.SupportRequest, error) {
	if err := requireFull(p); err != nil {
		return wire.SupportRequest{}, err
	}
	q := s.st.Read()
	if _, err := supportVisible(p)(q.SupportRequest(ctx, id)); err != nil {
		return wire.SupportRequest{}, err
	}
	return loadSupport(ctx, q, id)
}

// ReplySupport adds a message to the thread. An administrator's reply
// answers the request; the author's puts an answered one back in work. A
// closed request takes no replies: the author opens a new one.
func (s *Service) ReplySupport(ctx context.Context, p *Principal, id int64, r wire.SupportReplyRequest) (wire.SupportRequest, error) {
	if err := requireFull(p); err != nil {
		return wire.SupportRequest{}, err
	}
	if err := r.Validate(); err != nil {
		return wire.SupportRequest{}, err
	}
	body := strings.TrimSpace(r.Body)
	return write(ctx, s, p, func(tx *store.Tx) (wire.SupportRequest, error) {
		cur, err := supportVisible(p)(tx.SupportRequestForUpdate(ctx, id))
		if err != nil {
			return wire.SupportRequest{}, err
		}
		if cur.Status == wire.SupportClosed {
			return wire.SupportRequest{}, wire.E(wire.CodeConflict, "status", "Обращение "+cur.Number+" закрыто — создайте новое",
				"Request "+cur.Number+" is closed — open a new one")
		}
		if _, err := tx.InsertSupportMessage(ctx, id, p.UserID, body); err != nil {
			return wire.SupportRequest{}, err
		}
		byAdmin := p.Role == wire.RoleAdmin && p.UserID != cur.AuthorID
		next := wire.SupportAfterReply(cur.Status, byAdmin)
		if next != cur.Status {
			err = tx.SetSupportStatus(ctx, id, 0, next)
		} else {
			err = tx.TouchSupportRequest(ctx, id)
		}
		if err != nil {
			return wire.SupportRequest{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Device: p.Device, Action: wire.AuditSupportReply,
			ObjectType: "support_request", ObjectID: itoa(id), Details: map[string]any{"number": cur.Number, "from": cur.Status, "to": next}})
		n := wire.Notification{Kind: wire.NotifyMessage, Title: "Ответ по обращению " + cur.Number, Body: cur.Subject}
		var to []int64
		if byAdmin {
			to = []int64{cur.AuthorID}
		} else {
			n.Title = "Сообщение по обращению " + cur.Number
			n.Body = p.Name + ": " + cur.Subject
			if to, err = tx.AdminIDs(ctx); err != nil {
				return wire.SupportRequest{}, err
			}
			to = slices.DeleteFunc(to, func(id int64) bool { return id == p.UserID })
		}
		if err := s.notifyUsers(ctx, tx, to, 0, n); err != nil {
			return wire.SupportRequest{}, err
		}
		return loadSupport(ctx, tx.Q, id)
	})
}

// SetSupportStatus moves a request by hand: administrators take, close
// and reopen requests; the author may close their own.
func (s *Service) SetSupportStatus(ctx context.Context, p *Principal, id int64, r wire.SupportStatusRequest) (wire.SupportRequest, error) {
	if err := requireFull(p); err != nil {
		return wire.SupportRequest{}, err
	}
	if !r.Status.Valid() {
		return wire.SupportRequest{}, wire.E(wire.CodeInvalid, "status", "Статус обращения: new, in_progress, answered или closed", "Request status: new, in_progress, answered or closed")
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.SupportRequest, error) {
		cur, err := supportVisible(p)(tx.SupportRequestForUpdate(ctx, id))
		if err != nil {
			return wire.SupportRequest{}, err
		}
		admin := p.Role == wire.RoleAdmin
		if r.Version != 0 && r.Version != cur.Version {
			e := wire.E(wire.CodeConflict, "version", "Обращение уже изменилось — обновите его и повторите", "The request was changed meanwhile — reload it and try again")
			e.Current = cur.Version
			return wire.SupportRequest{}, e
		}
		if !wire.SupportMove(cur.Status, r.Status, admin) {
			if !admin && r.Status != wire.SupportClosed {
				return wire.SupportRequest{}, errForbidden("Автор обращения может только закрыть его", "The author may only close the request")
			}
			return wire.SupportRequest{}, wire.E(wire.CodeConflict, "status", "Из статуса «"+string(cur.Status)+"» в «"+string(r.Status)+"» обращение не переводится",
				"A request does not move from "+string(cur.Status)+" to "+string(r.Status))
		}
		if err := tx.SetSupportStatus(ctx, id, cur.Version, r.Status); err != nil {
			return wire.SupportRequest{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Device: p.Device, Action: wire.AuditSupportStatus,
			ObjectType: "support_request", ObjectID: itoa(id), Details: map[string]any{"number": cur.Number, "from": cur.Status, "to": r.Status}})
		if p.UserID != cur.AuthorID {
			if err := s.notifyUsers(ctx, tx, []int64{cur.AuthorID}, 0, wire.Notification{Kind: wire.NotifyMessage,
				Title: "Обращение " + cur.Number + ": " + supportStatusRU(r.Status), Body: cur.Subject}); err != nil {
				return wire.SupportRequest{}, err
			}
		}
		return loadSupport(ctx, tx.Q, id)
	})
}

func supportStatusRU(s wire.SupportStatus) string {
	switch s {
	case wire.SupportNew:
		return "новое"
	case wire.SupportInProgress:
		return "в работе"
	case wire.SupportAnswered:
		return "дан ответ"
	case wire.SupportClosed:
		return "закрыто"
	}
	return string(s)
}
