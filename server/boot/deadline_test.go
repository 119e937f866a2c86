package boot_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// TestDeadlineReminders: as the completeness deadline approaches and
// passes, managers are told once per threshold, and the applicant sees the
// days left fall and turn overdue.
func TestDeadlineReminders(t *testing.T) {
	ctx := context.Background()
	msk := time.FixedZone("MSK", 3*3600)
	clk := &clock{now: time.Now()} // real time while signing in: TOTP codes are made with it
	cfg := testenv.Config()
	cfg.IdleTimeout, cfg.AbsoluteTimeout = 2000*time.Hour, 2000*time.Hour // the clock jumps weeks ahead
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: cfg,
		Log: testenv.Logger(t), Clock: clk.Now, ReminderEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	app := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	clk.Set(time.Date(2026, 12, 25, 10, 0, 0, 0, msk)) // Friday before the New Year holidays
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := app.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Дом"), ObjectAddress: str("Москва"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	if a, err = app.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusSubmitted}, ""); err != nil {
		t.Fatal(err)
	}
	// Fri 25 Dec + 3 working days: 28, 29, 30 Dec (31 Dec and 1–11 Jan are off).
	if a.Deadline == nil || a.Deadline.String() != "2026-12-30" {
		t.Fatalf("completeness deadline %v, want 2026-12-30", a.Deadline)
	}
	deadlineNotes := func() []wire.Notification {
		ns, err := manager.C.Notifications(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []wire.Notification
		for _, n := range ns {
			if n.Kind == wire.NotifyDeadline && n.AppID == a.ID {
				out = append(out, n)
			}
		}
		return out
	}
	steps := []struct {
		at       time.Time
		daysLeft int
		notes    int
	}{
		{time.Date(2026, 12, 28, 9, 0, 0, 0, msk), 2, 0},
		{time.Date(2026, 12, 29, 9, 0, 0, 0, msk), 1, 1},
		{time.Date(2026, 12, 29, 18, 0, 0, 0, msk), 1, 1}, // same threshold: not again
		{time.Date(2026, 12, 30, 9, 0, 0, 0, msk), 0, 2},
		{time.Date(2027, 1, 5, 9, 0, 0, 0, msk), -1, 3},  // holidays: still the first day overdue
		{time.Date(2027, 1, 13, 9, 0, 0, 0, msk), -3, 3}, // 11, 12 and 13 January 2027 are working days
	}
	for _, st := range steps {
		clk.Set(st.at)
		if _, err := s.Service.RemindDeadlines(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := app.C.Application(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DaysLeft == nil || *got.DaysLeft != st.daysLeft {
			t.Errorf("%s: days left %v, want %d", st.at.Format("02.01"), deref(got.DaysLeft), st.daysLeft)
		}
		if n := len(deadlineNotes()); n != st.notes {
			t.Errorf("%s: %d deadline notifications, want %d", st.at.Format("02.01"), n, st.notes)
		}
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
