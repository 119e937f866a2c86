package fault_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestThousandClientsReconnect: EXPERTIZA_FAULT_CLIENTS (default 1,000)
// WebSocket clients, 50 users of two organisations, with the real client's
// reconnect backoff (200 ms doubling to 30 s, full jitter), are live on a
// server process that is then killed with SIGKILL and started again while
// messages keep being posted. Pass: every client comes back live and holds
// exactly the events the log says its user may see from its starting
// position — none skipped across the restart, none twice; the server
// stays up (the process runs, /readyz answers 200 and counts every client).
// Reported: the time from the restart to all clients live again.
func TestThousandClientsReconnect(t *testing.T) {
	sc := loadScale(t)
	db := newDB(t)
	srv := newProc(t, db)
	srv.start()
	setup := testenv.StartOn(t, db, testenv.Config())
	const users = 50
	var tokens []string
	var posters []*testenv.Actor
	var apps []int64
	for o := range 2 {
		owner := testenv.Applicant(t, setup)
		posters = append(posters, owner)
		apps = append(apps, newApp(t, owner.C, fmt.Sprintf("Мост №%d", o+1)).ID)
		tokens = append(tokens, owner.C.Token())
		for range users/2 - 1 {
			tokens = append(tokens, testenv.Member(t, setup, owner).C.Token())
		}
	}
	start := lastSeq(t, setup.URL())
	watchers := make([]*watcher, sc.conns)
	for i := range watchers {
		watchers[i] = watch(t, fmt.Sprintf("client%d", i), srv.URL(), tokens[i%len(tokens)], start, 200*time.Millisecond, 30*time.Second)
	}
	allLive := func(minOnlines int) func() bool {
		return func() bool {
			for _, w := range watchers {
				if on, n := w.rec.online(); !on || n < minOnlines {
					return false
				}
			}
			return true
		}
	}
	waitUntil(t, "every client live", allLive(1))

	ctx := context.Background()
	post := func(i int) {
		p := posters[i%2]
		key := client.NewIdempotencyKey()
		for {
			_, err := as(srv.URL(), p.C.Token()).PostMessage(ctx, apps[i%2], wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: fmt.Sprintf("Сообщение %d", i)}, key)
			if err == nil {
				return
			}
			if !retryable(err) {
				t.Fatalf("post: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for i := range 10 {
		post(i)
	}
	for r := range sc.factor {
		srv.kill()
		killed := time.Now()
		srv.start()
		restarted := time.Now()
		// Messages keep coming while the clients storm back.
		for i := range 10 {
			post(100*(r+1) + i)
		}
		waitUntil(t, "every client live again", allLive(r+2))
		t.Logf("restart %d: server down %v; all %d clients live again %v after the restart",
			r+1, restarted.Sub(killed).Round(time.Millisecond), len(watchers), time.Since(restarted).Round(time.Millisecond))
	}

	byToken := map[string][]wire.Event{}
	for _, tok := range tokens {
		byToken[tok] = replay(t, setup.URL(), tok, start)
	}
	events := 0
	for _, w := range watchers {
		events += checkStreamAgainst(t, w, byToken[w.token])
	}
	code, h, err := health(srv.URL())
	if err != nil || code != http.StatusOK || !srv.alive() || h.Clients != len(watchers) {
		t.Fatalf("server after the storm: readyz %d %+v %v, process alive %v; want 200 with %d clients", code, h, err, srv.alive(), len(watchers))
	}
	var counts []int
	for _, tok := range tokens {
		counts = append(counts, len(byToken[tok]))
	}
	sort.Ints(counts)
	t.Logf("%d clients (%d users) resumed without gaps or repeats: %d events checked (per user %d…%d)",
		len(watchers), len(tokens), events, counts[0], counts[len(counts)-1])
}
