package service

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// MaxMessageRunes bounds one chat message.
const MaxMessageRunes = 10000

// canUseChannel: the applicant channel is for everyone who sees the
// application; the staff channel for staff only.
func canUseChannel(p *Principal, ch wire.Channel) error {
	if !ch.Valid() {
		return wire.E(wire.CodeInvalid, "channel", "Канал: applicant или staff", "Channel: applicant or staff")
	}
	if ch == wire.ChannelStaff && !p.Role.Staff() {
		return errNotFound("канал", "channel")
	}
	return nil
}

// PostMessage posts to an application's chat.
func (s *Service) PostMessage(ctx context.Context, p *Principal, appID int64, r wire.PostMessageRequest) (wire.Message, error) {
	if err := canUseChannel(p, r.Channel); err != nil {
		return wire.Message{}, err
	}
	body := strings.TrimSpace(r.Body)
	if body == "" && len(r.Attachments) == 0 {
		return wire.Message{}, wire.E(wire.CodeInvalid, "body", "Пустое сообщение: напишите текст или приложите файл", "Empty message: write text or attach a file")
	}
	if utf8.RuneCountInString(body) > MaxMessageRunes {
		return wire.Message{}, wire.E(wire.CodeTooLarge, "body", "Сообщение длиннее 10 000 символов — сократите его или приложите файлом", "The message is over 10,000 characters — shorten it or attach it as a file")
	}
	if err := checkAttachmentList(r.Attachments); err != nil {
		return wire.Message{}, err
	}
	if p.Role == wire.RoleAdmin {
		return wire.Message{}, errForbidden("Администратор не участвует в переписке по заявлениям", "Administrators do not post in application chats")
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Message, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, appID, nil)
		if err != nil {
			return wire.Message{}, err
		}
		files, err := s.attachableFiles(ctx, tx, p, appID, r.Attachments)
		if err != nil {
			return wire.Message{}, err
		}
		m, err := tx.InsertMessage(ctx, wire.Message{AppID: appID, Channel: r.Channel, AuthorID: p.UserID, Body: body, Attachments: r.Attachments})
		if err != nil {
			return wire.Message{}, err
		}
		m.AuthorName = p.Name
		if err := s.attachFiles(ctx, tx, p, &m, files); err != nil {
			return wire.Message{}, err
		}
		experts, err := tx.AppExpertIDs(ctx, appID)
		if err != nil {
			return wire.Message{}, err
		}
		ev := store.EventRow{Kind: wire.EventMessage, AppID: appID, OrgID: a.OrgID, ExpertIDs: experts, Payload: mustJSON(m)}
		if r.Channel == wire.ChannelStaff {
			ev.OrgID, ev.StaffOnly = 0, true
		}
		tx.Emit(ev)
		// The author has read their own message.
		if _, err := tx.SetReadMark(ctx, p.UserID, wire.ReadMark{AppID: appID, Channel: r.Channel, LastReadID: m.ID}); err != nil {
			return wire.Message{}, err
		}
		recipients := experts
		if r.Channel == wire.ChannelApplicant {
			members, err := tx.OrgMemberIDs(ctx, a.OrgID)
			if err != nil {
				return wire.Message{}, err
			}
			recipients = append(recipients, members...)
		}
		var others []int64
		for _, id := range recipients {
			if id != p.UserID {
				others = append(others, id)
			}
		}
		preview := []rune(messagePreview(body, m.Files))
		if len(preview) > 140 {
			preview = append(preview[:140], '…')
		}
		if err := s.notifyUsers(ctx, tx, others, appID, wire.Notification{Kind: wire.NotifyMessage,
			Title: "Сообщение по заявлению " + a.Number, Body: p.Name + ": " + string(preview)}); err != nil {
			return wire.Message{}, err
		}
		return m, nil
	})
}

// Messages lists a channel's messages after afterID.
func (s *Service) Messages(ctx context.Context, p *Principal, appID int64, ch wire.Channel, afterID int64) ([]wire.Message, error) {
	if err := canUseChannel(p, ch); err != nil {
		return nil, err
	}
	q := s.st.Read()
	if _, err := s.loadVisible(ctx, q, p, appID, nil); err != nil {
		return nil, err
	}
	return q.Messages(ctx, appID, ch, afterID, 1000)
}

// MarkRead moves the caller's read mark; the event goes to the caller's
// other devices only.
func (s *Service) MarkRead(ctx context.Context, p *Principal, appID int64, r wire.MarkReadRequest) (wire.ReadMark, error) {
	if err := canUseChannel(p, r.Channel); err != nil {
		return wire.ReadMark{}, err
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.ReadMark, error) {
		if _, err := s.loadVisible(ctx, tx.Q, p, appID, nil); err != nil {
			return wire.ReadMark{}, err
		}
		last, err := tx.SetReadMark(ctx, p.UserID, wire.ReadMark{AppID: appID, Channel: r.Channel, LastReadID: r.LastReadID})
		if err != nil {
			return wire.ReadMark{}, err
		}
		m := wire.ReadMark{AppID: appID, Channel: r.Channel, LastReadID: last}
		tx.Emit(store.EventRow{Kind: wire.EventMessageRead, AppID: appID, UserID: p.UserID, Payload: mustJSON(m)})
		return m, nil
	})
}

// ReadMarks lists the caller's read marks of an application.
func (s *Service) ReadMarks(ctx context.Context, p *Principal, appID int64) ([]wire.ReadMark, error) {
	q := s.st.Read()
	if _, err := s.loadVisible(ctx, q, p, appID, nil); err != nil {
		return nil, err
	}
	return q.ReadMarks(ctx, p.UserID, appID)
}
