// Package bench measures the sync server: event fan-out to 1,000
// WebSocket clients, command throughput, and commit-to-delivery latency
// across two server processes. Run with `make bench`.
package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// listener is a bare WebSocket client that timestamps message events.
type listener struct {
	ws  *websocket.Conn
	got chan time.Time
}

func listen(b *testing.B, base, token string) *listener {
	b.Helper()
	u := "ws://" + base[len("http://"):] + wire.APIPrefix + "/ws"
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: token}); err != nil {
		b.Fatal(err)
	}
	var welcome wire.Frame
	if err := ws.ReadJSON(&welcome); err != nil || welcome.Type != wire.FrameWelcome {
		b.Fatalf("welcome: %v %+v", err, welcome)
	}
	l := &listener{ws: ws, got: make(chan time.Time, 4096)}
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				close(l.got)
				return
			}
			var f wire.Frame
			if json.Unmarshal(data, &f) == nil && f.Type == wire.FrameEvent && f.Event.Kind == wire.EventMessage {
				l.got <- time.Now()
			}
		}
	}()
	return l
}

// world is an applicant organisation with one application.
func world(b *testing.B, s *boot.Server) (*testenv.Actor, wire.Application) {
	b.Helper()
	app := testenv.Applicant(b, s)
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	a, err := app.C.CreateApplication(context.Background(), wire.ApplicationInput{ObjectName: str("Дом"), ObjectAddress: str("Москва"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		b.Fatal(err)
	}
	return app, a
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

func report(b *testing.B, lat []time.Duration) {
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(0, "ns/op") // per-op time is meaningless here
}

// post sends one chat message and returns when the command was issued.
func post(b *testing.B, c *client.Client, appID int64, i int) time.Time {
	start := time.Now()
	if _, err := c.PostMessage(context.Background(), appID, wire.PostMessageRequest{Channel: wire.ChannelApplicant,
		Body: fmt.Sprintf("сообщение %d", i)}, ""); err != nil {
		b.Fatal(err)
	}
	return start
}

// BenchmarkFanout1000: one command, delivered to 1,000 connected clients of
// the organisation; latency from issuing the command to each client
// receiving the event.
func BenchmarkFanout1000(b *testing.B) {
	const clients = 1000
	s := testenv.Start(b, testenv.Config())
	app, a := world(b, s)
	ls := make([]*listener, clients)
	for i := range ls {
		c := client.New(s.URL())
		if _, err := c.Login(context.Background(), wire.LoginRequest{Login: app.User.Login, Password: app.Password}); err != nil {
			b.Fatal(err)
		}
		ls[i] = listen(b, s.URL(), c.Token())
	}
	b.Cleanup(func() {
		for _, l := range ls {
			l.ws.Close()
		}
	})
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := post(b, app.C, a.ID, i)
		for _, l := range ls {
			at, ok := <-l.got
			if !ok {
				b.Fatal("a client was disconnected")
			}
			lat = append(lat, at.Sub(start))
		}
	}
	b.StopTimer()
	report(b, lat)
}

// BenchmarkCommands: chat messages committed per second by 16 concurrent
// clients (each a transaction with change-log append, notifications and
// audit).
func BenchmarkCommands(b *testing.B) {
	s := testenv.Start(b, testenv.Config())
	app, a := world(b, s)
	b.SetParallelism(8) // 8 × GOMAXPROCS writers
	b.ResetTimer()
	start := time.Now()
	var mu sync.Mutex
	n := 0
	b.RunParallel(func(pb *testing.PB) {
		c := client.New(s.URL())
		c.SetToken(app.C.Token())
		for pb.Next() {
			post(b, c, a.ID, 0)
			mu.Lock()
			n++
			mu.Unlock()
		}
	})
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "commands/s")
}

// BenchmarkCrossServer: a command through server B reaches a client of
// server A (LISTEN/NOTIFY wake-up, then A's tail read).
func BenchmarkCrossServer(b *testing.B) {
	db := pgtest.NewDB(b)
	sa := testenv.StartOn(b, db, testenv.Config())
	sb := testenv.StartOn(b, db, testenv.Config())
	app, a := world(b, sa)
	cb := client.New(sb.URL())
	cb.SetToken(app.C.Token())
	l := listen(b, sa.URL(), app.C.Token())
	defer l.ws.Close()
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := post(b, cb, a.ID, i)
		at, ok := <-l.got
		if !ok {
			b.Fatal("disconnected")
		}
		lat = append(lat, at.Sub(start))
	}
	b.StopTimer()
	report(b, lat)
}
