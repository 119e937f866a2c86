package service

import (
	"context"
	"slices"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// defaultPreference applies when a user has not chosen: everything in the
// app and on the desktop; e-mail at once for what needs action, chat as a
// daily digest.
func defaultPreference(k wire.NotificationKind) wire.Preference {
	p := wire.Preference{Kind: k, InApp: true, Desktop: true, Email: true, EmailMode: wire.EmailInstant}
	if k == wire.NotifyMessage {
		p.EmailMode = wire.EmailDaily
	}
	return p
}

// preferences returns every kind's preference for a user.
func (s *Service) preferences(ctx context.Context, q store.Q, userID int64) ([]wire.Preference, error) {
	stored, err := q.Preferences(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]wire.Preference, 0, len(wire.AllNotificationKinds))
	for _, k := range wire.AllNotificationKinds {
		if p, ok := stored[k]; ok {
			out = append(out, p)
		} else {
			out = append(out, defaultPreference(k))
		}
	}
	return out, nil
}

// notifyUsers stores a notification for each user whose preferences want
// one and emits it to that user alone.
func (s *Service) notifyUsers(ctx context.Context, tx *store.Tx, userIDs []int64, appID int64, n wire.Notification) error {
	seen := map[int64]bool{}
	for _, uid := range userIDs {
		if uid == 0 || seen[uid] {
			continue
		}
		seen[uid] = true
		prefs, err := s.preferences(ctx, tx.Q, uid)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(prefs, func(p wire.Preference) bool { return p.Kind == n.Kind })
		p := prefs[i]
		if !p.InApp && !p.Desktop && !p.Email {
			continue
		}
		n.AppID = appID
		n.Desktop = p.Desktop
		stored, err := tx.InsertNotification(ctx, uid, n)
		if err != nil {
			return err
		}
		if err := s.mailInstant(ctx, tx, uid, p, stored); err != nil {
			return err
		}
		tx.Emit(store.EventRow{Kind: wire.EventNotification, AppID: appID, UserID: uid, Payload: mustJSON(stored)})
	}
	return nil
}

// notifyApp notifies everyone involved in an application except the actor:
// the applicant organisation's members, the assigned experts, and the
// managers.
func (s *Service) notifyApp(ctx context.Context, tx *store.Tx, a *store.AppRow, actorID int64, n wire.Notification) error {
	members, err := tx.OrgMemberIDs(ctx, a.OrgID)
	if err != nil {
		return err
	}
	experts, err := tx.AppExpertIDs(ctx, a.ID)
	if err != nil {
		return err
	}
	managers, err := tx.ManagerIDs(ctx)
	if err != nil {
		return err
	}
	all := slices.Concat(members, experts, managers)
	all = slices.DeleteFunc(all, func(id int64) bool { return id == actorID })
	return s.notifyUsers(ctx, tx, all, a.ID, n)
}

// Notifications lists the caller's feed.
func (s *Service) Notifications(ctx context.Context, p *Principal) ([]wire.Notification, error) {
	if err := requireFull(p); err != nil {
		return nil, err
	}
	return s.st.Read().Notifications(ctx, p.UserID, 500)
}

// MarkNotificationsRead marks the caller's notifications read.
func (s *Service) MarkNotificationsRead(ctx context.Context, p *Principal, r wire.MarkNotificationsReadRequest) ([]int64, error) {
	if err := requireFull(p); err != nil {
		return nil, err
	}
	return write(ctx, s, p, func(tx *store.Tx) ([]int64, error) {
		ids, err := tx.MarkNotificationsRead(ctx, p.UserID, r.IDs, r.UpTo)
		if err != nil {
			return nil, err
		}
		if ids == nil {
			ids = []int64{}
		}
		if len(ids) > 0 {
			tx.Emit(store.EventRow{Kind: wire.EventNotificationRead, UserID: p.UserID, Payload: mustJSON(map[string][]int64{"ids": ids})})
		}
		return ids, nil
	})
}

// Preferences returns the caller's notification preferences.
func (s *Service) Preferences(ctx context.Context, p *Principal) ([]wire.Preference, error) {
	if err := requireFull(p); err != nil {
		return nil, err
	}
	return s.preferences(ctx, s.st.Read(), p.UserID)
}

// SetPreferences stores the caller's choices.
func (s *Service) SetPreferences(ctx context.Context, p *Principal, r wire.PreferencesRequest) ([]wire.Preference, error) {
	if err := requireFull(p); err != nil {
		return nil, err
	}
	for _, pr := range r.Preferences {
		if !pr.Kind.Valid() {
			return nil, wire.E(wire.CodeInvalid, "preferences.kind", "Неизвестный вид уведомлений «"+string(pr.Kind)+"»", "Unknown notification kind "+string(pr.Kind))
		}
		switch pr.EmailMode {
		case wire.EmailInstant, wire.EmailDaily, wire.EmailWeekly:
		default:
			return nil, wire.E(wire.CodeInvalid, "preferences.email_mode", "Режим писем: instant, daily или weekly", "E-mail mode: instant, daily or weekly")
		}
	}
	return write(ctx, s, p, func(tx *store.Tx) ([]wire.Preference, error) {
		for _, pr := range r.Preferences {
			if err := tx.SetPreference(ctx, p.UserID, pr); err != nil {
				return nil, err
			}
		}
		return s.preferences(ctx, tx.Q, p.UserID)
	})
}
