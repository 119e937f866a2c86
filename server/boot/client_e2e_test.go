package boot_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestDesktopCoreAgainstServer runs the desktop client's core (app/, no
// Fyne) against a real server: sign in, load the list when the stream goes
// live, see another user's status change arrive, and move the application
// with the version shown.
func TestDesktopCoreAgainstServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testenv.Start(t, testenv.Config())
	applicant := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := applicant.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Детский сад"), ObjectAddress: str("г. Ржев"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}

	log := testenv.Logger(t)
	sess := app.NewSession(log, app.NewDeviceID(), "test")
	if _, err := sess.Login(ctx, app.Credentials{Server: s.URL(), Login: applicant.User.Login, Password: applicant.Password}); err != nil {
		t.Fatal(err)
	}
	store := app.NewStore(log)
	ws := app.NewWorkspace(log, sess, store)
	changed := make(chan struct{}, 1)
	store.OnChange(func() {
		select {
		case changed <- struct{}{}:
		default:
		}
	})
	go func() { _ = ws.Run(ctx) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.After(time.Minute)
		for !cond() {
			select {
			case <-changed:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("the list to load", func() bool {
		return slices.ContainsFunc(store.Applications(), func(x wire.Application) bool { return x.ID == a.ID })
	})
	if st, _ := store.Connection(); st != client.StateOnline {
		t.Fatalf("connection state %v", st)
	}

	// Opening the card loads history, moves, chats and files.
	card, err := ws.OpenApplication(ctx, a.ID)
	if err != nil || card.App.ID != a.ID || card.Documents == nil || len(card.Transitions) == 0 {
		t.Fatalf("open card: %+v %v", card, err)
	}
	// The applicant submits through the core, with the version it shows.
	shown, _ := store.Application(a.ID)
	if _, err := ws.Transition(ctx, a.ID, shown.Version, wire.StatusSubmitted, ""); err != nil {
		t.Fatal(err)
	}
	// A manager elsewhere asks for corrections; the change arrives live.
	cur, err := manager.C.Application(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: cur.Version, To: wire.StatusNeedsCorrection, Comment: "Нет ГПЗУ"}, ""); err != nil {
		t.Fatal(err)
	}
	waitFor("the manager's change", func() bool {
		x, ok := store.Application(a.ID)
		return ok && x.Status == wire.StatusNeedsCorrection
	})
	// A move made with a stale version is refused with a conflict, not applied.
	_, err = ws.Transition(ctx, a.ID, shown.Version, wire.StatusWithdrawn, "Отзываем")
	if !app.IsConflict(err) {
		t.Fatalf("stale transition: %v, want a conflict", err)
	}
	if got, _ := manager.C.Application(ctx, a.ID); got.Status != wire.StatusNeedsCorrection {
		t.Fatalf("stale move changed the status to %s", got.Status)
	}
}
