package realtime_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestResumeAcrossNetworkCuts: while a writer posts 200 chat messages, the
// reader's connection is cut several times by a real TCP fault (once right
// after a reconnect, while it is replaying). Every message arrives exactly
// once, in strictly increasing sequence, with no gap the client could see,
// and matches what the server lists over HTTP. The writer's commands cross
// another cuttable link and are retried with their idempotency keys, so
// each applies once.
func TestResumeAcrossNetworkCuts(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	owner := testenv.Applicant(t, s)
	reader := testenv.Member(t, s, owner)
	app := newApp(t, owner, "Жилой дом с подземной автостоянкой")

	streamLink := newProxy(t, s.Addr.String())
	httpLink := newProxy(t, s.Addr.String())
	r := startStream(t, clientAs(reader, streamLink.URL()), nil)
	wc := clientAs(owner, httpLink.URL())

	const total = 200
	cutAt := map[int]bool{20: true, 55: true, 90: true, 130: true, 170: true}
	var sent []int64
	cuts := 0
	for i := range total {
		if cutAt[i] {
			cuts++
			n := streamLink.Accepted()
			streamLink.Cut()
			httpLink.Cut()
			if i == 90 {
				// Cut again as soon as the stream has redialled: the
				// second fault lands during hello or replay.
				waitUntil(t, "the stream to redial", func() bool { return streamLink.Accepted() > n })
				streamLink.Cut()
				cuts++
			}
		}
		m, err := post(wc, app.ID, wire.ChannelApplicant, fmt.Sprintf("Сообщение №%d", i))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		sent = append(sent, m.ID)
	}
	// The writer's link was cut too: some commands went out twice.
	if httpLink.Accepted() < 2 {
		t.Fatalf("the writer's link was never re-established (%d connections)", httpLink.Accepted())
	}

	r.TL.WaitFor(t, hang, "every message", func(rec *testenv.Recorder) bool {
		return len(messages(t, rec.Events())) >= total
	})
	if got := streamLink.Accepted(); got < cuts+1 {
		t.Fatalf("stream connected %d times for %d cuts: the faults missed it", got, cuts)
	}
	evs := r.TL.Events()
	checkIncreasing(t, evs)
	if g := r.St.Gaps(); g != 0 {
		t.Fatalf("stream saw %d repeated or backward sequence numbers", g)
	}
	var got []int64
	seen := map[int64]bool{}
	for _, m := range messages(t, evs) {
		if seen[m.ID] {
			t.Fatalf("message %d delivered twice", m.ID)
		}
		seen[m.ID] = true
		got = append(got, m.ID)
	}
	listed, err := owner.C.Messages(context.Background(), app.ID, wire.ChannelApplicant, 0)
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, m := range listed {
		want = append(want, m.ID)
	}
	if len(want) != total {
		t.Fatalf("server lists %d messages after %d idempotent posts", len(want), total)
	}
	slices.Sort(sent)
	if !slices.Equal(sent, want) {
		t.Fatalf("posted ids %v, listed %v", sent, want)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("received ids (in order) %v\nlisted ids %v", got, want)
	}
}

// TestLiveSubscriptionMissesNothingAfterWelcome opens many live-only
// subscriptions while messages are committed concurrently. Each welcome says
// the position the live stream continues from: every visible event after it
// must follow, with none skipped (a client resuming later from its position
// would never get a skipped one).
func TestLiveSubscriptionMissesNothingAfterWelcome(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	owner := testenv.Applicant(t, s)
	reader := testenv.Member(t, s, owner)
	app := newApp(t, owner, "Школа на 550 мест")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := post(owner.C, app.ID, wire.ChannelApplicant, fmt.Sprintf("поток %d, сообщение %d", w, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	type sub struct {
		welcome int64
		seqs    []int64
		done    chan error
	}
	var subs []*sub
	const markerBody = "последнее"
	for range 100 {
		ws := dialRaw(t, s)
		sendHello(t, ws, reader.C.Token(), nil)
		f := mustFrame(t, ws)
		if f.Type != wire.FrameWelcome {
			t.Fatalf("first frame %q, want welcome", f.Type)
		}
		sb := &sub{welcome: f.Seq, done: make(chan error, 1)}
		subs = append(subs, sb)
		go func(ws *websocket.Conn) {
			for {
				f, err := readFrame(ws)
				if err != nil {
					sb.done <- err
					return
				}
				if f.Type != wire.FrameEvent {
					continue
				}
				sb.seqs = append(sb.seqs, f.Event.Seq)
				if f.Event.Kind == wire.EventMessage {
					var m wire.Message
					if f.Event.Decode(&m) == nil && m.Body == markerBody {
						sb.done <- nil
						return
					}
				}
			}
		}(ws)
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	mustPost(t, owner.C, app.ID, wire.ChannelApplicant, markerBody)
	for i, sb := range subs {
		if err := <-sb.done; err != nil {
			t.Fatalf("subscription %d: %v", i, err)
		}
	}
	// Everything the reader may see, from the log itself.
	ws := dialRaw(t, s)
	zero := int64(0)
	sendHello(t, ws, reader.C.Token(), &zero)
	var visible []int64
	for {
		f := mustFrame(t, ws)
		if f.Type == wire.FrameReplayDone {
			break
		}
		if f.Type == wire.FrameEvent {
			visible = append(visible, f.Event.Seq)
		}
	}
	last := subs[0].seqs[len(subs[0].seqs)-1]
	for i, sb := range subs {
		var want []int64
		for _, q := range visible {
			if q > sb.welcome && q <= last {
				want = append(want, q)
			}
		}
		if !slices.Equal(sb.seqs, want) {
			var missing []int64
			for _, q := range want {
				if !slices.Contains(sb.seqs, q) {
					missing = append(missing, q)
				}
			}
			t.Fatalf("subscription %d (welcome %d) missed %v of the %d visible events after its welcome", i, sb.welcome, missing, len(want))
		}
	}
}

// TestReplayFromSavedPosition: a client that kept its position while
// offline gets, on reconnecting, exactly the visible events it missed, then
// replay_done, then live events; a control stream that never went away
// tells what "exactly" is.
func TestReplayFromSavedPosition(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	owner := testenv.Applicant(t, s)
	reader := testenv.Member(t, s, owner)
	app := newApp(t, owner, "Поликлиника")
	ctl := startStream(t, reader.C, nil)

	first := startStream(t, reader.C, nil)
	for i := range 3 {
		mustPost(t, owner.C, app.ID, wire.ChannelApplicant, fmt.Sprintf("до отключения %d", i))
	}
	first.TL.WaitFor(t, hang, "messages before going offline", func(r *testenv.Recorder) bool { return len(messages(t, r.Events())) == 3 })
	first.Stop()
	saved := first.St.Seq()

	// Offline: messages, a status change and its notifications.
	var missed []int64
	for i := range 4 {
		missed = append(missed, mustPost(t, owner.C, app.ID, wire.ChannelApplicant, fmt.Sprintf("пока не было связи %d", i)).ID)
	}
	app = submit(t, owner, app)
	markRead(t, reader, ctl.TL.Recorder, app.ID) // a user-only event, and ctl has everything up to here

	var want []wire.Event
	for _, e := range ctl.TL.Events() {
		if e.Seq > saved {
			want = append(want, e)
		}
	}
	if len(testenv.Kinds(want, wire.EventStatusChanged)) != 1 || len(testenv.Kinds(want, wire.EventNotification)) == 0 {
		t.Fatalf("control stream: %d events missed, without the expected kinds", len(want))
	}

	second := startStream(t, reader.C, &saved)
	live := mustPost(t, owner.C, app.ID, wire.ChannelApplicant, "снова на связи")
	second.TL.WaitFor(t, hang, "the live message", func(r *testenv.Recorder) bool { return hasMessage(t, r.Events(), live.ID) })

	var replayed, after []wire.Event
	online := false
	for _, it := range second.TL.Items() {
		switch {
		case it.resync != nil:
			t.Fatalf("resync while resuming from a valid position %d", saved)
		case it.ev != nil && !online:
			replayed = append(replayed, *it.ev)
		case it.ev != nil:
			after = append(after, *it.ev)
		case it.state == client.StateOnline:
			online = true
		}
	}
	if len(replayed) != len(want) {
		t.Fatalf("replayed %d events, missed %d", len(replayed), len(want))
	}
	for i := range want {
		if replayed[i].Seq != want[i].Seq || replayed[i].Kind != want[i].Kind || string(replayed[i].Data) != string(want[i].Data) {
			t.Fatalf("replayed event %d: %d %s, want %d %s", i, replayed[i].Seq, replayed[i].Kind, want[i].Seq, want[i].Kind)
		}
	}
	for _, id := range missed {
		if !hasMessage(t, replayed, id) {
			t.Fatalf("missed message %d not replayed", id)
		}
	}
	if !hasMessage(t, after, live.ID) || hasMessage(t, replayed, live.ID) {
		t.Fatal("the live message must come after replay_done")
	}
	for _, e := range after {
		if e.Seq <= want[len(want)-1].Seq {
			t.Fatalf("live event %d repeats the replay", e.Seq)
		}
	}
	ctl.TL.WaitFor(t, hang, "control sees the live message", func(r *testenv.Recorder) bool { return hasMessage(t, r.Events(), live.ID) })
	var ctlAfter []int64
	for _, e := range ctl.TL.Events() {
		if e.Seq > want[len(want)-1].Seq && e.Seq <= second.St.Seq() {
			ctlAfter = append(ctlAfter, e.Seq)
		}
	}
	var gotAfter []int64
	for _, e := range after {
		gotAfter = append(gotAfter, e.Seq)
	}
	if !slices.Equal(gotAfter, ctlAfter) {
		t.Fatalf("live events %v, control saw %v", gotAfter, ctlAfter)
	}
	if second.St.Gaps() != 0 {
		t.Fatalf("gaps: %d", second.St.Gaps())
	}
}

// TestResyncFromUnknownPosition: a client resuming from a sequence the log
// never reached (a restored database) is told to resynchronise, then gets
// replay_done and live events from the server's position.
func TestResyncFromUnknownPosition(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	owner := testenv.Applicant(t, s)
	app := newApp(t, owner, "Детский сад")
	mustPost(t, owner.C, app.ID, wire.ChannelApplicant, "до")

	t.Run("raw", func(t *testing.T) {
		ws := dialRaw(t, s)
		far := int64(1e9)
		sendHello(t, ws, owner.C.Token(), &far)
		w := mustFrame(t, ws)
		if w.Type != wire.FrameWelcome {
			t.Fatalf("first frame %q, want welcome", w.Type)
		}
		rs := mustFrame(t, ws)
		if rs.Type != wire.FrameResync {
			t.Fatalf("second frame %q, want resync", rs.Type)
		}
		if rs.Seq < 0 || rs.Seq >= far {
			t.Fatalf("resync from %d", rs.Seq)
		}
		var f wire.Frame
		for f = mustFrame(t, ws); f.Type == wire.FrameEvent; f = mustFrame(t, ws) {
			if f.Event.Seq <= rs.Seq {
				t.Fatalf("event %d at or before the resync point %d", f.Event.Seq, rs.Seq)
			}
		}
		if f.Type != wire.FrameReplayDone {
			t.Fatalf("frame %q after resync, want replay_done", f.Type)
		}
		m := mustPost(t, owner.C, app.ID, wire.ChannelApplicant, "после resync")
		for {
			f := mustFrame(t, ws)
			if f.Type == wire.FrameEvent && f.Event.Kind == wire.EventMessage && hasMessage(t, []wire.Event{*f.Event}, m.ID) {
				break
			}
		}
	})
	t.Run("stream", func(t *testing.T) {
		far := int64(1e9)
		r := startStream(t, owner.C, &far)
		rs := r.TL.Resyncs()
		if len(rs) != 1 {
			t.Fatalf("resyncs %v, want one", rs)
		}
		m := mustPost(t, owner.C, app.ID, wire.ChannelApplicant, "после resync (stream)")
		r.TL.WaitFor(t, hang, "live message after resync", func(rec *testenv.Recorder) bool { return hasMessage(t, rec.Events(), m.ID) })
		if r.St.Seq() >= far || r.St.Gaps() != 0 {
			t.Fatalf("position %d gaps %d after resync", r.St.Seq(), r.St.Gaps())
		}
		checkIncreasing(t, r.TL.Events())
	})
}

// TestReplayHandsOverToLive: a client comes back to a large backlog while
// writers keep committing. Events committed while the server replays the
// backlog are queued and sent after it: none lost, none repeated.
func TestReplayHandsOverToLive(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	owner := testenv.Applicant(t, s)
	reader := testenv.Member(t, s, owner)
	app := newApp(t, owner, "Спортивный комплекс")
	link := newProxy(t, s.Addr.String())
	r := startStream(t, clientAs(reader, link.URL()), nil)

	var (
		mu   sync.Mutex
		sent []int64
		wg   sync.WaitGroup
		stop = make(chan struct{})
		errs = make(chan error, 4)
	)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(sent) }
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				m, err := post(owner.C, app.ID, wire.ChannelApplicant, fmt.Sprintf("писатель %d: %d", w, i))
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				sent = append(sent, m.ID)
				mu.Unlock()
			}
		})
	}
	for round := range 3 {
		link.SetDown(true)
		base := count()
		waitUntil(t, "a backlog to build up", func() bool { return count() >= base+250 })
		n := link.Accepted()
		link.SetDown(false)
		waitUntil(t, fmt.Sprintf("the stream to come back (round %d)", round), func() bool {
			return link.Accepted() > n && r.TL.LastState() == client.StateOnline
		})
		target := count()
		r.TL.WaitFor(t, hang, "the backlog", func(rec *testenv.Recorder) bool { return len(messages(t, rec.Events())) >= target })
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	total := count()
	r.TL.WaitFor(t, hang, "every message", func(rec *testenv.Recorder) bool { return len(messages(t, rec.Events())) >= total })
	checkIncreasing(t, r.TL.Events())
	if r.St.Gaps() != 0 {
		t.Fatalf("gaps: %d", r.St.Gaps())
	}
	got := map[int64]bool{}
	for _, m := range messages(t, r.TL.Events()) {
		if got[m.ID] {
			t.Fatalf("message %d twice", m.ID)
		}
		got[m.ID] = true
	}
	mu.Lock()
	defer mu.Unlock()
	for _, id := range sent {
		if !got[id] {
			t.Fatalf("message %d never arrived", id)
		}
	}
	if len(got) != len(sent) {
		t.Fatalf("%d messages arrived, %d sent", len(got), len(sent))
	}
}
