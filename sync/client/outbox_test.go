package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func openOutbox(t *testing.T, path string) *client.Outbox {
	t.Helper()
	o, err := client.OpenOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = o.Close() })
	return o
}

func mustEnqueue(t *testing.T, o *client.Outbox, c client.Command) client.Command {
	t.Helper()
	got, err := o.Enqueue(context.Background(), c)
	if err != nil {
		t.Fatalf("enqueue %+v: %v", c, err)
	}
	return got
}

func pending(t *testing.T, o *client.Outbox) []client.Command {
	t.Helper()
	p, err := o.Pending()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestOutboxDurableAcrossReopen queues commands, closes the file and opens
// it again: the same commands come back in order with the same keys, and
// IDs keep growing after removals and reopening.
func TestOutboxDurableAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	o, err := client.OpenOutbox(path)
	if err != nil {
		t.Fatal(err)
	}
	in := []client.Command{
		{Method: "post", Path: "/applications/1/messages", Body: json.RawMessage(`{ "channel": "applicant", "body": "первое" }`), Kind: "message", AppID: 1},
		{Method: http.MethodPost, Path: "/applications/1/transition", Body: json.RawMessage(`{"version":3,"to":"submitted"}`), Kind: "transition", AppID: 1, Key: "given-key"},
		{Method: http.MethodDelete, Path: "/applications/2?version=1", Kind: "delete", AppID: 2},
	}
	var queued []client.Command
	for _, c := range in {
		queued = append(queued, mustEnqueue(t, o, c))
	}
	for i, c := range queued {
		if c.ID == 0 || (i > 0 && c.ID <= queued[i-1].ID) {
			t.Fatalf("IDs not increasing: %d after %v", c.ID, queued[:i])
		}
		if c.Key == "" || c.QueuedAt.IsZero() {
			t.Fatalf("command %d: key %q queued at %v", i, c.Key, c.QueuedAt)
		}
	}
	if queued[0].Method != http.MethodPost || string(queued[0].Body) != `{"channel":"applicant","body":"первое"}` {
		t.Fatalf("method %q body %s: want upper case and compact", queued[0].Method, queued[0].Body)
	}
	if queued[1].Key != "given-key" || queued[0].Key == queued[2].Key {
		t.Fatalf("keys %q %q %q: a given key is kept, new ones are distinct", queued[0].Key, queued[1].Key, queued[2].Key)
	}
	// Another instance of the app cannot open the same outbox.
	if o2, err := client.OpenOutbox(path); err == nil {
		_ = o2.Close()
		t.Fatal("second open of a held outbox succeeded")
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}

	o = openOutbox(t, path)
	if diff := cmp.Diff(queued, pending(t, o)); diff != "" {
		t.Fatalf("after reopen (-queued +pending):\n%s", diff)
	}
	if o.Len() != 3 {
		t.Fatalf("Len %d, want 3", o.Len())
	}
	if found, err := o.Discard(queued[2].ID); err != nil || !found {
		t.Fatalf("discard: %v %v", found, err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	o = openOutbox(t, path)
	next := mustEnqueue(t, o, client.Command{Method: http.MethodPost, Path: "/x"})
	if next.ID <= queued[2].ID {
		t.Fatalf("ID %d reused after removal (last was %d)", next.ID, queued[2].ID)
	}
	want := append(queued[:2:2], next)
	if diff := cmp.Diff(want, pending(t, o)); diff != "" {
		t.Fatalf("pending (-want +got):\n%s", diff)
	}
}

func TestOutboxEnqueueRefusesBadCommands(t *testing.T) {
	o := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	for _, tc := range []struct {
		name string
		c    client.Command
	}{
		{"no method", client.Command{Path: "/x"}},
		{"method with space", client.Command{Method: "PO ST", Path: "/x"}},
		{"relative path", client.Command{Method: "POST", Path: "x"}},
		{"body not JSON", client.Command{Method: "POST", Path: "/x", Body: json.RawMessage(`{"a":`)}},
		{"key too long", client.Command{Method: "POST", Path: "/x", Key: strings.Repeat("k", 129)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := o.Enqueue(context.Background(), tc.c); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if o.Len() != 0 {
		t.Fatalf("Len %d after refusals", o.Len())
	}
}

// TestOutboxFlushClassifiesAnswers checks which answers remove a command
// and which stop the flush, against a server that answers each path with a
// scripted status.
func TestOutboxFlushClassifiesAnswers(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, wire.APIPrefix+"/")
		got = append(got, name+" "+r.Header.Get(wire.HeaderIdempotencyKey))
		w.Header().Set("Content-Type", "application/json")
		status, code := http.StatusOK, wire.Code("")
		switch name {
		case "conflict":
			status, code = http.StatusConflict, wire.CodeConflict
		case "forbidden":
			status, code = http.StatusForbidden, wire.CodeForbidden
		case "unauthenticated":
			status, code = http.StatusUnauthorized, wire.CodeUnauthenticated
		case "internal":
			status, code = http.StatusInternalServerError, wire.CodeInternal
		case "rate_limited":
			status, code = http.StatusTooManyRequests, wire.CodeRateLimited
		case "proxy":
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html>bad gateway</html>")
			return
		}
		w.WriteHeader(status)
		if code != "" {
			_ = json.NewEncoder(w).Encode(wire.E(code, "", "нет", "no"))
			return
		}
		fmt.Fprintf(w, `{"done":%q}`, name)
	}))
	defer srv.Close()
	cl := client.New(srv.URL)

	for _, tc := range []struct {
		stop     string // the answer under test, queued between two good commands
		refusal  bool   // true: moved to Failures and the flush goes on
		wantSent int
	}{
		{"conflict", true, 2},
		{"forbidden", true, 2},
		{"unauthenticated", false, 1},
		{"internal", false, 1},
		{"rate_limited", false, 1},
		{"proxy", false, 1},
	} {
		t.Run(tc.stop, func(t *testing.T) {
			got = nil
			o := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
			a := mustEnqueue(t, o, client.Command{Method: "POST", Path: "/a", Body: json.RawMessage(`{}`)})
			x := mustEnqueue(t, o, client.Command{Method: "POST", Path: "/" + tc.stop, Body: json.RawMessage(`{}`)})
			b := mustEnqueue(t, o, client.Command{Method: "POST", Path: "/b"})
			var results []client.Result
			sent, err := o.Flush(context.Background(), cl, func(r client.Result) { results = append(results, r) })
			if sent != tc.wantSent {
				t.Fatalf("sent %d, want %d (err %v)", sent, tc.wantSent, err)
			}
			failures, ferr := o.Failures()
			if ferr != nil {
				t.Fatal(ferr)
			}
			if tc.refusal {
				if err != nil {
					t.Fatalf("flush: %v", err)
				}
				if len(results) != 3 || results[0].Failed() || !results[1].Failed() || results[2].Failed() {
					t.Fatalf("results %+v: want ok, failed, ok", results)
				}
				if wire.ErrorCode(results[1].Err) != wire.Code(tc.stop) || results[1].Command.ID != x.ID {
					t.Fatalf("failure %+v", results[1])
				}
				if string(results[0].Response) != `{"done":"a"}` {
					t.Fatalf("response %s", results[0].Response)
				}
				if o.Len() != 0 || len(failures) != 1 || failures[0].Command.ID != x.ID || wire.ErrorCode(failures[0].Err) != wire.Code(tc.stop) {
					t.Fatalf("len %d failures %+v", o.Len(), failures)
				}
				if err := o.Dismiss(x.ID); err != nil {
					t.Fatal(err)
				}
				if f, _ := o.Failures(); len(f) != 0 {
					t.Fatalf("failures after dismiss: %+v", f)
				}
			} else {
				if err == nil || errors.Is(err, client.ErrNetwork) {
					t.Fatalf("flush error %v, want the refusal", err)
				}
				p := pending(t, o)
				if len(p) != 2 || p[0].ID != x.ID || p[1].ID != b.ID || p[0].Attempts != 1 || p[0].LastError == "" || p[0].Key != x.Key {
					t.Fatalf("pending %+v: want %s kept with its attempt, then b", p, tc.stop)
				}
				if len(results) != 1 || len(failures) != 0 {
					t.Fatalf("results %+v failures %+v", results, failures)
				}
			}
			want := []string{"a " + a.Key, tc.stop + " " + x.Key}
			if tc.refusal {
				want = append(want, "b "+b.Key)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// closedPortURL is an address nothing listens on: the client is offline.
func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

// TestOutboxAgainstServer queues chat messages offline and delivers them to
// a real server in order exactly once, replays a command whose answer was
// lost without duplicating it, and reports a stale transition as a conflict
// while the commands after it still go.
func TestOutboxAgainstServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	s := testenv.Start(t, testenv.Config())
	app := testenv.Applicant(t, s)
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingNonBudget
	a, err := app.C.CreateApplication(ctx, wire.ApplicationInput{ObjectName: str("Жилой дом"), ObjectAddress: str("г. Москва, ул. Тверская, 1"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	msgPath := fmt.Sprintf("/applications/%d/messages", a.ID)
	message := func(text string) client.Command {
		b, err := json.Marshal(wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: text})
		if err != nil {
			t.Fatal(err)
		}
		return client.Command{Method: http.MethodPost, Path: msgPath, Body: b, Kind: "message", AppID: a.ID}
	}
	bodies := func() []string {
		t.Helper()
		ms, err := app.C.Messages(ctx, a.ID, wire.ChannelApplicant, 0)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range ms {
			out = append(out, m.Body)
		}
		return out
	}
	path := filepath.Join(t.TempDir(), "outbox.db")
	ob := openOutbox(t, path)
	doFlush := func(cl *client.Client) (int, []client.Result, error) {
		var rs []client.Result
		n, err := ob.Flush(ctx, cl, func(r client.Result) { rs = append(rs, r) })
		return n, rs, err
	}

	// Offline: three messages wait, the flush fails on the network and keeps them.
	offline := client.New(closedPortURL(t))
	offline.SetToken(app.C.Token())
	var queued []client.Command
	for _, text := range []string{"первое", "второе", "третье"} {
		queued = append(queued, mustEnqueue(t, ob, message(text)))
	}
	n, rs, err := doFlush(offline)
	if !errors.Is(err, client.ErrNetwork) || n != 0 || len(rs) != 0 {
		t.Fatalf("offline flush: sent %d results %v err %v, want a network error", n, rs, err)
	}
	p := pending(t, ob)
	if len(p) != 3 || p[0].Attempts != 1 || p[0].LastError == "" || p[1].Attempts != 0 {
		t.Fatalf("after offline flush: %+v", p)
	}
	for i := range p {
		if p[i].ID != queued[i].ID || p[i].Key != queued[i].Key {
			t.Fatalf("pending[%d] = %d/%s, want %d/%s", i, p[i].ID, p[i].Key, queued[i].ID, queued[i].Key)
		}
	}
	// The app restarts before the network is back.
	if err := ob.Close(); err != nil {
		t.Fatal(err)
	}
	ob = openOutbox(t, path)

	// Online: all three arrive, in order, once.
	n, rs, err = doFlush(app.C)
	if err != nil || n != 3 || len(rs) != 3 {
		t.Fatalf("online flush: sent %d results %d err %v", n, len(rs), err)
	}
	var first wire.Message
	for i, r := range rs {
		var m wire.Message
		if r.Failed() || json.Unmarshal(r.Response, &m) != nil || r.Command.Key != queued[i].Key || m.Body != []string{"первое", "второе", "третье"}[i] {
			t.Fatalf("result %d: %+v", i, r)
		}
		if i == 0 {
			first = m
		}
	}
	if diff := cmp.Diff([]string{"первое", "второе", "третье"}, bodies()); diff != "" {
		t.Fatalf("server messages (-want +got):\n%s", diff)
	}
	if ob.Len() != 0 {
		t.Fatalf("Len %d after flush", ob.Len())
	}

	// The answer to the first message was lost: it is queued again under the
	// same key, and the server replays instead of posting it twice.
	again := mustEnqueue(t, ob, queued[0])
	if again.Key != queued[0].Key || again.ID <= queued[2].ID {
		t.Fatalf("re-enqueued %+v", again)
	}
	n, rs, err = doFlush(app.C)
	if err != nil || n != 1 || len(rs) != 1 || rs[0].Failed() {
		t.Fatalf("replay flush: sent %d results %+v err %v", n, rs, err)
	}
	var replayed wire.Message
	if err := json.Unmarshal(rs[0].Response, &replayed); err != nil || replayed.ID != first.ID {
		t.Fatalf("replayed message %+v (%v), want id %d", replayed, err, first.ID)
	}
	if got := bodies(); len(got) != 3 {
		t.Fatalf("server has %d messages after replay, want 3: %v", len(got), got)
	}

	// Offline, the applicant queues a message, a submission seen at the
	// current version and another message; meanwhile a colleague edits the
	// application, so the queued submission is stale.
	before := mustEnqueue(t, ob, message("перед подачей"))
	tb, _ := json.Marshal(wire.TransitionRequestBody{Version: a.Version, To: wire.StatusSubmitted})
	tr := mustEnqueue(t, ob, client.Command{Method: http.MethodPost, Path: fmt.Sprintf("/applications/%d/transition", a.ID), Body: tb, Kind: "transition", AppID: a.ID})
	after := mustEnqueue(t, ob, message("после подачи"))
	colleague := testenv.Member(t, s, app)
	edited, err := colleague.C.UpdateApplication(ctx, a.ID, wire.UpdateApplicationRequest{Version: a.Version,
		ApplicationInput: wire.ApplicationInput{ObjectName: str("Жилой дом, корпус 2")}}, client.NewIdempotencyKey())
	if err != nil {
		t.Fatal(err)
	}
	n, rs, err = doFlush(app.C)
	if err != nil || n != 2 || len(rs) != 3 {
		t.Fatalf("flush with a stale transition: sent %d results %+v err %v", n, rs, err)
	}
	for i, want := range []uint64{before.ID, tr.ID, after.ID} {
		if rs[i].Command.ID != want || rs[i].Failed() != (want == tr.ID) {
			t.Fatalf("result %d: %+v", i, rs[i])
		}
	}
	we, ok := wire.AsError(rs[1].Err)
	if !ok || we.Code != wire.CodeConflict {
		t.Fatalf("stale transition: %v, want conflict", rs[1].Err)
	}
	if we.Current != 0 && we.Current != edited.Version {
		t.Fatalf("conflict names version %d, current is %d", we.Current, edited.Version)
	}
	if ob.Len() != 0 {
		t.Fatalf("Len %d: the refused transition must leave the queue", ob.Len())
	}
	failures, err := ob.Failures()
	if err != nil || len(failures) != 1 || failures[0].Command.ID != tr.ID || wire.ErrorCode(failures[0].Err) != wire.CodeConflict {
		t.Fatalf("failures %+v (%v): want the transition with its conflict", failures, err)
	}
	cur, err := app.C.Application(ctx, a.ID)
	if err != nil || cur.Status != wire.StatusDraft || cur.ObjectName != "Жилой дом, корпус 2" {
		t.Fatalf("application %+v (%v): the colleague's edit must stand", cur, err)
	}
	if diff := cmp.Diff([]string{"первое", "второе", "третье", "перед подачей", "после подачи"}, bodies()); diff != "" {
		t.Fatalf("server messages (-want +got):\n%s", diff)
	}
}

// TestOutboxConcurrentFlushSendsOnce runs two flushes at once while more
// commands are queued: every command reaches the server exactly once, in
// queue order.
func TestOutboxConcurrentFlushSendsOnce(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get(wire.HeaderIdempotencyKey))
		mu.Unlock()
		fmt.Fprint(w, `{}`)
	}))
	defer srv.Close()
	cl := client.New(srv.URL)
	o := openOutbox(t, filepath.Join(t.TempDir(), "outbox.db"))
	var want []string
	for i := 0; i < 10; i++ {
		want = append(want, mustEnqueue(t, o, client.Command{Method: "POST", Path: fmt.Sprintf("/c/%d", i)}).Key)
	}
	var wg sync.WaitGroup
	var total atomic.Int64
	for i := 0; i < 2; i++ {
		wg.Go(func() {
			n, err := o.Flush(context.Background(), cl, nil)
			if err != nil {
				t.Errorf("flush: %v", err)
			}
			total.Add(int64(n))
		})
	}
	for i := 10; i < 20; i++ {
		want = append(want, mustEnqueue(t, o, client.Command{Method: "POST", Path: fmt.Sprintf("/c/%d", i)}).Key)
	}
	wg.Wait()
	// Commands queued after both flushes finished their last read wait for the next one.
	n, err := o.Flush(context.Background(), cl, nil)
	if err != nil {
		t.Fatal(err)
	}
	total.Add(int64(n))
	if total.Load() != 20 || o.Len() != 0 {
		t.Fatalf("sent %d, %d left", total.Load(), o.Len())
	}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Fatalf("keys sent (-want +got):\n%s", diff)
	}
}
