package realtime_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestPostgresRestart stops and starts PostgreSQL under a subscribed
// client. It is not parallel: every test of this binary shares the cluster.
// The client keeps (or regains) its stream; what was committed before the
// restart is neither lost nor repeated, and changes committed after it are
// delivered (the hub re-reads the log and re-LISTENs on its own).
func TestPostgresRestart(t *testing.T) {
	cl := pgtest.Cluster()
	if cl == nil {
		t.Skip("tests run against an external PostgreSQL: cannot restart it")
	}
	s := testenv.Start(t, testenv.Config())
	owner := testenv.Applicant(t, s)
	reader := testenv.Member(t, s, owner)
	app := newApp(t, owner, "Котельная")
	r := startStream(t, reader.C, nil)

	var sent []int64
	for i := range 5 {
		sent = append(sent, mustPost(t, owner.C, app.ID, wire.ChannelApplicant, fmt.Sprintf("до перезапуска %d", i)).ID)
	}
	r.TL.WaitFor(t, hang, "messages before the restart", func(rec *testenv.Recorder) bool { return len(messages(t, rec.Events())) == 5 })

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.Stop(ctx); err != nil {
		t.Fatalf("stop PostgreSQL: %v", err)
	}
	// Committed while the database is down: nothing, the command fails
	// (and is retried below with its key, like a real client would).
	if err := cl.Start(ctx); err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	for i := range 5 {
		// post retries network errors and internal errors (the pool's
		// connections died with the server) under the same idempotency key.
		sent = append(sent, mustPost(t, owner.C, app.ID, wire.ChannelApplicant, fmt.Sprintf("после перезапуска %d", i)).ID)
	}
	r.TL.WaitFor(t, hang, "messages committed after the restart", func(rec *testenv.Recorder) bool {
		return len(messages(t, rec.Events())) >= len(sent)
	})
	var got []int64
	for _, m := range messages(t, r.TL.Events()) {
		got = append(got, m.ID)
	}
	if !slices.Equal(got, sent) {
		t.Fatalf("received %v, committed %v", got, sent)
	}
	listed, err := owner.C.Messages(ctx, app.ID, wire.ChannelApplicant, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(sent) {
		t.Fatalf("server lists %d messages, %d posted", len(listed), len(sent))
	}
	checkIncreasing(t, r.TL.Events())
	if r.St.Gaps() != 0 {
		t.Fatalf("gaps: %d", r.St.Gaps())
	}
	// A new subscription works too, and ephemeral frames flow again (the
	// LISTEN connection came back).
	other := startStream(t, owner.C, nil)
	isPresence := func(e wire.Ephemeral) bool { return e.UserID == owner.ID && e.Doc == "after-restart" }
	sends := 0
	waitUntil(t, "presence after the restart", func() bool {
		// Presence is best effort (lost while nobody LISTENs): repeat it
		// now and then until one arrives.
		if sends%20 == 0 {
			_ = other.St.Send(wire.FramePresence, wire.Ephemeral{AppID: app.ID, Doc: "after-restart", Page: 1})
		}
		sends++
		return slices.ContainsFunc(r.TL.Ephemerals(), isPresence)
	})
}
