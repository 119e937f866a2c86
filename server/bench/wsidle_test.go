package bench

// Memory per idle WebSocket connection: 10,000 signed-in clients holding a
// stream open and doing nothing, against the bare gorilla hub of
// fanout_ref_test.go holding 10,000 connections. The clients live in a
// child process (this test binary started again, see wsHolderEnv), so the
// resident set measured in this process is the server's alone — and each
// process needs only one descriptor per connection.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

const (
	idleConns = 10000
	// wsHolderEnv, set to a JSON holderBrief, makes the test binary the
	// process that holds the client ends (see init).
	wsHolderEnv = "EXPERTIZA_BENCH_WS_HOLDER"
)

// holderBrief tells the child what to open.
type holderBrief struct {
	URL   string `json:"url"`
	Token string `json:"token"` // empty: the bare server, no hello
	Count int    `json:"count"`
}

// init turns the test binary into the connection holder before TestMain
// would start a PostgreSQL cluster it does not need.
func init() {
	if raw := os.Getenv(wsHolderEnv); raw != "" {
		if err := holdConnections(raw, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "ws holder:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// raiseNoFile lifts the soft open-files limit to want (at most the hard
// limit) and returns the limit now in force.
func raiseNoFile(want uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("read the open-files limit: %w", err)
	}
	if lim.Cur >= want {
		return lim.Cur, nil
	}
	lim.Cur = min(want, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("raise the open-files limit to %d: %w", lim.Cur, err)
	}
	return lim.Cur, nil
}

// holdConnections is the child: it opens the connections (completing our
// hello when there is a token), reads from each so pings are answered,
// prints "ready N", and holds them until its stdin closes.
func holdConnections(raw string, in io.Reader, out io.Writer) error {
	var br holderBrief
	if err := json.Unmarshal([]byte(raw), &br); err != nil {
		return fmt.Errorf("brief: %w", err)
	}
	if got, err := raiseNoFile(uint64(br.Count) + 256); err != nil || got < uint64(br.Count)+64 {
		return fmt.Errorf("open-files limit %d is too low for %d connections: %v", got, br.Count, err)
	}
	// Source addresses across 127.0.0.2–127.0.0.9: loopback is a /8 on
	// Linux, and one source address has only ~28,000 ephemeral ports, which
	// two runs of 10,000 plus TIME_WAIT would exhaust.
	var next atomic.Uint32
	dialer := websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			src := net.IPv4(127, 0, 0, byte(2+next.Add(1)%8))
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: src}}
			return d.DialContext(ctx, network, addr)
		}}
	conns := make([]*websocket.Conn, br.Count)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 32)
	for i := range conns {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ws, err := openIdle(&dialer, br)
			if err != nil {
				mu.Lock()
				firstErr = cmpErr(firstErr, fmt.Errorf("connection %d: %w", i, err))
				mu.Unlock()
				return
			}
			conns[i] = ws
			go func() {
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Fprintf(out, "ready %d\n", len(conns))
	_, _ = io.Copy(io.Discard, in)
	for _, ws := range conns {
		ws.Close()
	}
	return nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func openIdle(d *websocket.Dialer, br holderBrief) (*websocket.Conn, error) {
	ws, _, err := d.Dial(br.URL, nil)
	if err != nil {
		return nil, err
	}
	if br.Token == "" {
		return ws, nil
	}
	_ = ws.SetReadDeadline(time.Now().Add(time.Minute))
	if err := ws.WriteJSON(wire.Frame{Type: wire.FrameHello, Token: br.Token}); err != nil {
		ws.Close()
		return nil, err
	}
	var welcome wire.Frame
	if err := ws.ReadJSON(&welcome); err != nil || welcome.Type != wire.FrameWelcome {
		ws.Close()
		return nil, fmt.Errorf("welcome: %v %+v", err, welcome)
	}
	_ = ws.SetReadDeadline(time.Time{})
	return ws, nil
}

// serverMemory is this process's resident set and Go heap plus stacks,
// in KiB, after a full collection returned what it could to the OS.
func serverMemory(b *testing.B) (rssKiB, goKiB int64, goroutines int) {
	b.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	rss, _, err := procStatus()
	if err != nil {
		b.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return rss, int64(ms.HeapInuse+ms.StackInuse) >> 10, runtime.NumGoroutine()
}

// idleRun opens idleConns connections to url from a child process and
// reports this process's memory growth per connection; registered tells
// how many the server holds.
func idleRun(b *testing.B, url, token string, registered func() int) {
	b.Helper()
	if got, err := raiseNoFile(idleConns + 4096); err != nil || got < idleConns+1024 {
		b.Skipf("the open-files limit is %d, under the %d this benchmark needs (%v): raise the hard limit (ulimit -Hn) and run again", got, idleConns+1024, err)
	}
	brief, err := json.Marshal(holderBrief{URL: url, Token: token, Count: idleConns})
	if err != nil {
		b.Fatal(err)
	}
	var rss, gomem, gor float64
	for range b.N {
		time.Sleep(time.Second) // let the previous run's connections wind down
		rss0, go0, g0 := serverMemory(b)
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), wsHolderEnv+"="+string(brief))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || strings.TrimSpace(line) != "ready "+strconv.Itoa(idleConns) {
			stdin.Close()
			_ = cmd.Wait()
			b.Fatalf("the connection holder did not get ready: %q %v", line, err)
		}
		b.Logf("%d connections open in %v", idleConns, time.Since(start).Round(time.Millisecond))
		for deadline := time.Now().Add(time.Minute); registered() < idleConns; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("the server holds %d of %d connections", registered(), idleConns)
			}
		}
		time.Sleep(2 * time.Second) // idle: nothing but timers left running
		rss1, go1, g1 := serverMemory(b)
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("connection holder: %v", err)
		}
		rss += float64(rss1-rss0) / idleConns
		gomem += float64(go1-go0) / idleConns
		gor += float64(g1-g0) / idleConns
	}
	n := float64(b.N)
	b.ReportMetric(rss/n, "RSS-KiB/conn")
	b.ReportMetric(gomem/n, "heap+stack-KiB/conn")
	b.ReportMetric(gor/n, "goroutines/conn")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkWSIdle10k: the server's memory per signed-in, idle stream
// connection with 10,000 of them open (one applicant's session; each
// connection did the hello and got its welcome).
func BenchmarkWSIdle10k(b *testing.B) {
	s := testenv.Start(b, testenv.Config())
	app := testenv.Applicant(b, s)
	base := s.Hub.Clients()
	idleRun(b, "ws://"+s.URL()[len("http://"):]+wire.APIPrefix+"/ws", app.C.Token(),
		func() int { return s.Hub.Clients() - base })
}

// BenchmarkWSIdle10k_gorilla: the same 10,000 connections held by the
// bare gorilla hub (a reader and a writer goroutine with a 256-frame
// queue per connection, gorilla's chat example).
func BenchmarkWSIdle10k_gorilla(b *testing.B) {
	h := newBareHub()
	idleRun(b, serveBare(b, h), "", h.len)
}
