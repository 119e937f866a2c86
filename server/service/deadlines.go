package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// reminderThresholds are the working days left at which people are told:
// amber begins at 5, the last day, and the first day overdue.
var reminderThresholds = []int{5, 1, 0, -1}

// RemindDeadlines notifies the people working on applications whose stage
// deadline reached a threshold; each reminder is sent once, whichever
// server process gets there first. It returns how many went out.
func (s *Service) RemindDeadlines(ctx context.Context) (int, error) {
	running, err := s.st.Read().RunningDeadlines(ctx)
	if err != nil {
		return 0, err
	}
	today := wire.DateOf(s.now())
	sent := 0
	for _, d := range running {
		left := s.Calendar().WorkdaysUntil(today, d.Due)
		threshold, ok := pickThreshold(left)
		if !ok {
			continue
		}
		_, err := write(ctx, s, nil, func(tx *store.Tx) (struct{}, error) {
			fresh, err := tx.ClaimReminder(ctx, d.AppID, d.Kind, d.Due, threshold)
			if err != nil || !fresh {
				return struct{}{}, err
			}
			a, err := tx.Application(ctx, d.AppID)
			if err != nil {
				return struct{}{}, err
			}
			stage := "проверки комплектности"
			if d.Kind == "review" {
				stage = "экспертизы"
			}
			title := fmt.Sprintf("Срок %s: осталось %d раб. дн.", stage, left)
			if left < 0 {
				title = "Срок " + stage + " истёк"
			}
			body := fmt.Sprintf("Заявление %s («%s»): срок %s — %s.", a.Number, a.ObjectName, stage, d.Due)
			n := wire.Notification{Kind: wire.NotifyDeadline, AppID: a.ID, Title: title, Body: body}
			// The office always; the applicant only about the review term,
			// which their answers depend on.
			if d.Kind == "completeness" {
				managers, err := tx.ManagerIDs(ctx)
				if err != nil {
					return struct{}{}, err
				}
				err = s.notifyUsers(ctx, tx, managers, a.ID, n)
			} else {
				err = s.notifyApp(ctx, tx, a, 0, n)
			}
			if err == nil {
				sent++
			}
			return struct{}{}, err
		})
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func pickThreshold(left int) (int, bool) {
	for _, t := range reminderThresholds {
		if left == t {
			return t, true
		}
	}
	return 0, false
}

// IdempotencyRetention is how long a command's outcome is kept for retries;
// a client's outbox retries far sooner.
const IdempotencyRetention = 7 * 24 * time.Hour

// RunReminders checks deadlines, drops expired idempotency keys and
// removes abandoned uploads, every interval until ctx ends.
func (s *Service) RunReminders(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := s.RemindDeadlines(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("deadline reminders failed", "err", err)
		} else if n > 0 {
			s.log.Info("deadline reminders sent", slog.Int("count", n))
		}
		if _, err := s.st.Read().PruneIdempotencyKeys(ctx, s.now().Add(-IdempotencyRetention)); err != nil && ctx.Err() == nil {
			s.log.Warn("pruning idempotency keys failed", "err", err)
		}
		if n, err := s.CleanStaleUploads(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("cleaning stale uploads failed", "err", err)
		} else if n > 0 {
			s.log.Info("stale uploads removed", slog.Int("count", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
