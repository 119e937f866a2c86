package fault_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestResponseCutAfterCommit puts toxiproxy (run in-process) between the
// clients and the server and cuts every command's answer after the server
// committed it: the first byte of the answer is the earliest a toxic on the
// downstream direction can act, and the server writes nothing before its
// transaction commits. Per toxic, for messages and status moves:
//   - the client gets a network error (the answer never arrived);
//   - the command is in the database already, exactly once;
//   - resent with the same idempotency key and body, the server answers
//     with the stored answer (Idempotent-Replayed: true, same message id or
//     application version) and applies nothing a second time.
//
// At the end the nothing-lost condition, every stream and the audit chain
// are checked as in the other tests.
func TestResponseCutAfterCommit(t *testing.T) {
	sc := loadScale(t)
	perToxic := 5 * sc.factor
	db := newDB(t)
	w := newWorld(t, db)
	s := testenv.StartOn(t, db, testenv.Config())
	w.watchAll(s.URL()) // streams go direct: the toxics are for commands

	ts := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(prometheus.NewRegistry()), zerolog.Nop())
	px := toxiproxy.NewProxy(ts, "expertiza", "127.0.0.1:0", s.Addr.String())
	if err := px.Start(); err != nil {
		t.Fatalf("toxiproxy: %v", err)
	}
	t.Cleanup(px.Stop)
	base := "http://" + px.Listen
	raw := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	pool := w.pool()
	defer pool.Close()
	ctx := context.Background()

	toxics := []struct{ name, json string }{
		// The answer is closed (FIN) before its first byte.
		{"limit_data 0 bytes", `{"name":"cut","type":"limit_data","stream":"downstream","attributes":{"bytes":0}}`},
		// The answer is closed inside its status line and headers.
		{"limit_data 20 bytes", `{"name":"cut","type":"limit_data","stream":"downstream","attributes":{"bytes":20}}`},
		// The connection is reset (RST) when the answer starts.
		{"reset_peer", `{"name":"cut","type":"reset_peer","stream":"downstream","attributes":{"timeout":0}}`},
	}
	cuts := 0
	for _, tx := range toxics {
		for i := range perToxic {
			wk := w.workers[i%len(w.workers)]
			o := wk.next()
			if _, err := px.Toxics.AddToxicJson(strings.NewReader(tx.json)); err != nil {
				t.Fatalf("add toxic %s: %v", tx.name, err)
			}
			path, body, tok := commandOf(wk, o)
			err := as(base, tok).Call(ctx, http.MethodPost, path, json.RawMessage(body), nil, o.key)
			if err := px.Toxics.RemoveToxic(ctx, "cut"); err != nil {
				t.Fatalf("remove toxic: %v", err)
			}
			if !errors.Is(err, client.ErrNetwork) {
				t.Fatalf("%s: command through the toxic answered %v, want a network error", tx.name, err)
			}
			cuts++
			if n := appliedCount(t, pool, o); n != 1 {
				t.Fatalf("%s: the cut command is in the database %d times, want 1 (committed before the answer was cut)", tx.name, n)
			}
			// The client resends: same key, same body.
			req, _ := http.NewRequest(http.MethodPost, base+wire.APIPrefix+path, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set(wire.HeaderIdempotencyKey, o.key)
			resp, err := raw.Do(req)
			if err != nil {
				t.Fatalf("%s: resend: %v", tx.name, err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 || resp.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("%s: resend answered %d (replayed %q): %s", tx.name, resp.StatusCode, resp.Header.Get("Idempotent-Replayed"), answer)
			}
			settle(t, wk, o, answer)
			if n := appliedCount(t, pool, o); n != 1 {
				t.Fatalf("%s: after the resend the command is in the database %d times, want 1", tx.name, n)
			}
		}
	}
	w.checkNothingLost()
	events := 0
	for _, wt := range w.watchers {
		events += checkStream(t, wt, w.setup.URL())
	}
	msgs, moves := w.totals()
	t.Logf("%d answers cut after commit (%d per toxic: limit_data 0 B, limit_data 20 B, reset_peer); %d messages and %d moves each applied once, every resend replayed; %d events checked over %d streams",
		cuts, perToxic, msgs, moves, events, len(w.watchers))
}

// commandOf is the HTTP form of o: path, JSON body (as client.Call sends
// it) and the token of the user who sends it.
func commandOf(wk *worker, o *op) (string, []byte, string) {
	app := "/applications/" + strconv.FormatInt(o.appID, 10)
	if o.isMessage() {
		b, _ := json.Marshal(wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: o.body})
		return app + "/messages", b, wk.c.Token()
	}
	b, _ := json.Marshal(wire.TransitionRequestBody{Version: o.version, To: o.to, Comment: o.comment})
	tok := wk.app.Token()
	if o.to == wire.StatusNeedsCorrection {
		tok = wk.mgr.Token()
	}
	return app + "/transition", b, tok
}

// settle records the server's answer to o in its worker's log.
func settle(t testing.TB, wk *worker, o *op, answer []byte) {
	t.Helper()
	wk.mu.Lock()
	defer wk.mu.Unlock()
	if o.isMessage() {
		var m wire.Message
		if err := json.Unmarshal(answer, &m); err != nil || m.ID == 0 {
			t.Fatalf("answer to a message: %v %s", err, answer)
		}
		o.msgID = m.ID
	} else {
		var a wire.Application
		if err := json.Unmarshal(answer, &a); err != nil || a.Status != o.to {
			t.Fatalf("answer to a move to %s: %v %s", o.to, err, answer)
		}
		o.newVer = a.Version
		wk.status, wk.version = o.to, a.Version
	}
	o.acked = true
	wk.pending = nil
}

// appliedCount is how many times o is in the database.
func appliedCount(t testing.TB, pool *pgxpool.Pool, o *op) int {
	t.Helper()
	sql, arg := `SELECT count(*) FROM messages WHERE app_id = $1 AND body = $2`, o.body
	if !o.isMessage() {
		sql, arg = `SELECT count(*) FROM status_history WHERE app_id = $1 AND comment = $2`, o.comment
	}
	var n int
	if err := pool.QueryRow(context.Background(), sql, o.appID, arg).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
