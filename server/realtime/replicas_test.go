package realtime_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestTwoReplicasOneDatabase: two server processes share only PostgreSQL.
// A client of server 1 receives, live and in order, what is committed
// through server 2; presence and typing sent on server 2 reach viewers on
// server 1 (they travel only by NOTIFY), and staff-channel typing never
// reaches an applicant.
func TestTwoReplicasOneDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := pgtest.NewDB(t)
	s1 := testenv.StartOn(t, db, testenv.Config())
	s2 := testenv.StartOn(t, db, testenv.Config())

	owner := testenv.Applicant(t, s2)         // works on server 2
	colleague := testenv.Member(t, s1, owner) // watches on server 1
	manager := testenv.Staff(t, s1, wire.RoleManager, 0)
	manager2 := testenv.Staff(t, s2, wire.RoleManager, 0)
	expert := testenv.Staff(t, s2, wire.RoleExpert, 0)

	rc := startStream(t, colleague.C, nil) // server 1
	rm := startStream(t, manager.C, nil)   // server 1
	ro := startStream(t, owner.C, nil)     // server 2
	rm2 := startStream(t, manager2.C, nil) // server 2
	re := startStream(t, expert.C, nil)    // server 2

	app := submit(t, owner, newApp(t, owner, "Торговый центр"))
	app, err := manager2.C.Assign(ctx, app.ID, wire.AssignRequest{Version: app.Version, LeadExpertID: expert.ID,
		Assignments: []wire.Assignment{{Section: "07.01", ExpertID: expert.ID}}}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	var sent []int64
	for i := range 20 {
		sent = append(sent, mustPost(t, owner.C, app.ID, wire.ChannelApplicant, fmt.Sprintf("через сервер 2: %d", i)).ID)
	}
	rc.TL.WaitFor(t, hang, "server 1 receives server 2's messages", func(r *testenv.Recorder) bool {
		return len(messages(t, r.Events())) == len(sent)
	})
	var got []int64
	for _, m := range messages(t, rc.TL.Events()) {
		got = append(got, m.ID)
	}
	if !slices.Equal(got, sent) {
		t.Fatalf("server 1 delivered %v, server 2 committed %v", got, sent)
	}
	if len(testenv.Kinds(rc.TL.Events(), wire.EventStatusChanged)) != 1 {
		t.Fatal("server 1 did not deliver the submission committed on server 2")
	}
	checkIncreasing(t, rc.TL.Events())
	if rc.St.Gaps() != 0 {
		t.Fatalf("gaps: %d", rc.St.Gaps())
	}
	// The other way round too.
	m := mustPost(t, colleague.C, app.ID, wire.ChannelApplicant, "через сервер 1")
	ro.TL.WaitFor(t, hang, "server 2 receives server 1's message", func(r *testenv.Recorder) bool { return hasMessage(t, r.Events(), m.ID) })

	// Presence from server 2 reaches the viewers on server 1, not its sender.
	if err := ro.St.Send(wire.FramePresence, wire.Ephemeral{AppID: app.ID, Doc: "v-42", Page: 7}); err != nil {
		t.Fatal(err)
	}
	isPresence := func(e wire.Ephemeral) bool {
		return e.Kind == wire.FramePresence && e.UserID == owner.ID && e.AppID == app.ID && e.Doc == "v-42" && e.Page == 7
	}
	rc.TL.WaitFor(t, hang, "presence on server 1", func(r *testenv.Recorder) bool { return slices.ContainsFunc(r.Ephemerals(), isPresence) })
	rm.TL.WaitFor(t, hang, "presence reaches the manager", func(r *testenv.Recorder) bool { return slices.ContainsFunc(r.Ephemerals(), isPresence) })
	re.TL.WaitFor(t, hang, "presence reaches the expert", func(r *testenv.Recorder) bool { return slices.ContainsFunc(r.Ephemerals(), isPresence) })

	// Staff typing from server 2, then applicant-channel typing by the same
	// sender: NOTIFY keeps their order, so once the second has reached the
	// applicant, the first would have too.
	if err := rm2.St.Send(wire.FrameTyping, wire.Ephemeral{AppID: app.ID, Channel: wire.ChannelStaff}); err != nil {
		t.Fatal(err)
	}
	if err := rm2.St.Send(wire.FrameTyping, wire.Ephemeral{AppID: app.ID, Channel: wire.ChannelApplicant}); err != nil {
		t.Fatal(err)
	}
	typing := func(ch wire.Channel) func(wire.Ephemeral) bool {
		return func(e wire.Ephemeral) bool {
			return e.Kind == wire.FrameTyping && e.UserID == manager2.ID && e.Channel == ch && e.UserName != ""
		}
	}
	rm.TL.WaitFor(t, hang, "staff typing on server 1's manager", func(r *testenv.Recorder) bool {
		return slices.ContainsFunc(r.Ephemerals(), typing(wire.ChannelStaff)) && slices.ContainsFunc(r.Ephemerals(), typing(wire.ChannelApplicant))
	})
	re.TL.WaitFor(t, hang, "staff typing reaches the assigned expert", func(r *testenv.Recorder) bool {
		return slices.ContainsFunc(r.Ephemerals(), typing(wire.ChannelStaff)) && slices.ContainsFunc(r.Ephemerals(), typing(wire.ChannelApplicant))
	})
	for name, r := range map[string]*runner{"colleague on server 1": rc, "owner on server 2": ro} {
		r.TL.WaitFor(t, hang, "applicant-channel typing reaches "+name, func(r *testenv.Recorder) bool {
			return slices.ContainsFunc(r.Ephemerals(), typing(wire.ChannelApplicant))
		})
		if slices.ContainsFunc(r.TL.Ephemerals(), typing(wire.ChannelStaff)) {
			t.Errorf("staff-channel typing reached the applicant (%s)", name)
		}
	}
	// An applicant cannot type into the staff channel at all.
	if err := ro.St.Send(wire.FrameTyping, wire.Ephemeral{AppID: app.ID, Channel: wire.ChannelStaff}); err != nil {
		t.Fatal(err)
	}
	if err := ro.St.Send(wire.FrameTyping, wire.Ephemeral{AppID: app.ID, Channel: wire.ChannelApplicant}); err != nil {
		t.Fatal(err)
	}
	ownerTyping := func(ch wire.Channel) func(wire.Ephemeral) bool {
		return func(e wire.Ephemeral) bool {
			return e.Kind == wire.FrameTyping && e.UserID == owner.ID && e.Channel == ch
		}
	}
	rm.TL.WaitFor(t, hang, "the applicant's typing", func(r *testenv.Recorder) bool {
		return slices.ContainsFunc(r.Ephemerals(), ownerTyping(wire.ChannelApplicant))
	})
	if slices.ContainsFunc(rm.TL.Ephemerals(), ownerTyping(wire.ChannelStaff)) {
		t.Error("an applicant's staff-channel typing was relayed")
	}
	// Nobody hears themselves.
	for _, e := range ro.TL.Ephemerals() {
		if e.UserID == owner.ID {
			t.Errorf("sender got its own ephemeral frame %+v", e)
		}
	}
}
