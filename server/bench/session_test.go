package bench

// A scripted long session of the desktop client core, for memory: the
// client does what a user does — opens cards, writes in the chat, submits
// applications, reloads, restarts, loses the network — while others work
// on the same applications, and its memory is sampled throughout.
//
// The client runs in a process of its own (this test binary started again
// as TestClientSoakChild), so the resident set and the Go heap measured are
// the client's alone, as on a user's machine, not the in-process server's.
// Run with `make soak-client` (60 minutes) or, for a short run,
// EXPERTIZA_SOAK_CLIENT=2m go test -run '^TestClientSoak$' -v ./server/bench/

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

const (
	// soakEnv gives the length of the session, e.g. 60m; unset: skipped.
	soakEnv = "EXPERTIZA_SOAK_CLIENT"
	// soakProfileEnv names a folder where the client process writes heap
	// profiles after the warm-up and at the end (go tool pprof -base).
	soakProfileEnv = "EXPERTIZA_SOAK_PROFILE"
	// soakChildEnv is set for the client process: the path of its brief.
	soakChildEnv = "EXPERTIZA_SOAK_CLIENT_BRIEF"
	soakApps     = 200
)

// soakBrief is what the client process is told.
type soakBrief struct {
	ServerAddr string        `json:"server_addr"` // host:port; the client reaches it through its own proxy
	Login      string        `json:"login"`
	Password   string        `json:"password"`
	Apps       []int64       `json:"apps"`
	Duration   time.Duration `json:"duration"`
	Sample     time.Duration `json:"sample"`
	Report     string        `json:"report"`
}

// soakSample is one reading of the client's memory.
type soakSample struct {
	At         time.Duration `json:"at"`
	RSSKiB     int64         `json:"rss_kib"`      // VmRSS: everything resident, the cache file's mapped pages included
	AnonKiB    int64         `json:"rss_anon_kib"` // RssAnon: the process's own memory
	HeapKiB    int64         `json:"heap_kib"`     // Go heap in use now (HeapAlloc, garbage included)
	Goroutines int           `json:"goroutines"`
}

// soakReport is what the client process hands back.
type soakReport struct {
	Samples []soakSample `json:"samples"`
	// Warm and End are the live heap (HeapAlloc right after a forced GC)
	// at the end of the warm-up and at the end of the run.
	WarmLiveKiB, EndLiveKiB     int64
	WarmGoroutines, EndRoutines int
	Actions                     map[string]int
	// Data held, which legitimately grows with the session: messages and
	// notifications at the end, and their size as JSON after the warm-up
	// and at the end.
	Messages, Notifications int
	WarmDataKiB, EndDataKiB int64
}

// TestClientSoak runs the scripted session for $EXPERTIZA_SOAK_CLIENT.
// It fails if the client's live heap after GC at the end is more than
// twice what it was after the warm-up (the first sixth of the run), or if
// its goroutines doubled. Why twice: after the warm-up the live heap holds
// the steady state — the 200-application list, the chats opened, the
// stream, HTTP connections, the cache writer. What legitimately grows after
// that is the data others and the user add (messages, notifications,
// history), which the script's pace keeps to a small fraction of it (the
// report shows how much). A leak per action, reconnect or restart grows
// with their number — thousands of actions and hundreds of reconnects an
// hour — so a per-action leak of a few hundred bytes doubles the heap
// within the hour, while the noise of GC timing is a few percent.
func TestClientSoak(t *testing.T) {
	raw := os.Getenv(soakEnv)
	if raw == "" {
		t.Skipf("set %s=60m (or 2m) to run the scripted client session", soakEnv)
	}
	dur, err := time.ParseDuration(raw)
	if err != nil || dur < 30*time.Second {
		t.Fatalf("%s=%q: want a duration of at least 30s, e.g. 60m", soakEnv, raw)
	}
	ctx := context.Background()
	db := pgtest.NewDB(t)
	s := testenv.StartOn(t, db, testenv.Config())
	applicant := testenv.Applicant(t, s)
	member := testenv.Member(t, s, applicant)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	apps := createApps(t, s.URL(), applicant, soakApps)
	ids := make([]int64, len(apps))
	for i, a := range apps {
		ids[i] = a.ID
	}

	dir := t.TempDir()
	brief := soakBrief{ServerAddr: s.Addr.String(), Login: applicant.User.Login, Password: applicant.Password, Apps: ids,
		Duration: dur, Sample: min(max(dur/120, time.Second), 30*time.Second), Report: filepath.Join(dir, "report.json")}
	raw2, err := json.Marshal(brief)
	if err != nil {
		t.Fatal(err)
	}
	briefPath := filepath.Join(dir, "brief.json")
	if err := os.WriteFile(briefPath, raw2, 0o600); err != nil {
		t.Fatal(err)
	}

	// The others: a colleague of the applicant writes in the chats, a
	// manager returns submitted applications for correction.
	worldCtx, stopWorld := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; sleepCtx(worldCtx, 15*time.Second); i++ {
			id := ids[rand.IntN(len(ids))]
			if _, err := member.C.PostMessage(worldCtx, id, wire.PostMessageRequest{Channel: wire.ChannelApplicant,
				Body: fmt.Sprintf("Коллега: комментарий %d", i)}, client.NewIdempotencyKey()); err != nil && worldCtx.Err() == nil {
				t.Logf("colleague's message: %v", err)
			}
		}
	}()
	go func() {
		defer wg.Done()
		for sleepCtx(worldCtx, 5*time.Second) {
			list, err := manager.C.Applications(worldCtx, client.Filter{Statuses: []wire.Status{wire.StatusSubmitted}})
			if err != nil {
				continue
			}
			for _, a := range list {
				_, err := manager.C.Transition(worldCtx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusNeedsCorrection,
					Comment: "Приложите раздел ПЗ"}, client.NewIdempotencyKey())
				if err != nil && !app.IsConflict(err) && worldCtx.Err() == nil {
					t.Logf("manager's return: %v", err)
				}
			}
		}
	}()

	// The client process: this binary again, running only the child test.
	// Its own pgtest harness needs a server: it gets this one's database.
	cctx, cancel := context.WithTimeout(ctx, dur+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, os.Args[0], "-test.run=^TestClientSoakChild$", "-test.v", "-test.timeout=0", "-test.count=1")
	cmd.Env = append(os.Environ(), soakChildEnv+"="+briefPath, pgtest.URLEnv+"="+db)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	runErr := cmd.Run()
	stopWorld()
	wg.Wait()
	if runErr != nil {
		t.Fatalf("client process: %v", runErr)
	}
	data, err := os.ReadFile(brief.Report)
	if err != nil {
		t.Fatalf("client report: %v", err)
	}
	var rep soakReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	summary, err := analyseSoak(rep, dur/6)
	t.Log(summary)
	if err != nil {
		t.Fatal(err)
	}
}

// analyseSoak summarises the samples and applies the growth limits.
func analyseSoak(r soakReport, warm time.Duration) (string, error) {
	if len(r.Samples) < 3 {
		return "", fmt.Errorf("only %d memory samples", len(r.Samples))
	}
	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	first, last := r.Samples[0], r.Samples[len(r.Samples)-1]
	peak := slices.MaxFunc(r.Samples, func(a, b soakSample) int { return int(a.RSSKiB - b.RSSKiB) })
	var after []soakSample
	for _, s := range r.Samples {
		if s.At >= warm {
			after = append(after, s)
		}
	}
	rssSlope := slope(after, func(s soakSample) float64 { return mib(s.RSSKiB) })
	anonSlope := slope(after, func(s soakSample) float64 { return mib(s.AnonKiB) })
	heapSlope := slope(after, func(s soakSample) float64 { return mib(s.HeapKiB) })
	var b strings.Builder
	fmt.Fprintf(&b, "client memory over %v (%d samples):\n", last.At.Round(time.Second), len(r.Samples))
	fmt.Fprintf(&b, "  RSS   start %.1f MiB, peak %.1f MiB (at %v), end %.1f MiB; slope after warm-up %+.2f MiB/h (anonymous %+.2f MiB/h)\n",
		mib(first.RSSKiB), mib(peak.RSSKiB), peak.At.Round(time.Second), mib(last.RSSKiB), rssSlope, anonSlope)
	fmt.Fprintf(&b, "  heap  live after GC: %.2f MiB after warm-up (%v), %.2f MiB at the end (x%.2f); in-use slope %+.2f MiB/h\n",
		mib(r.WarmLiveKiB), warm.Round(time.Second), mib(r.EndLiveKiB), float64(r.EndLiveKiB)/float64(max(r.WarmLiveKiB, 1)), heapSlope)
	fmt.Fprintf(&b, "  goroutines %d after warm-up, %d at the end\n", r.WarmGoroutines, r.EndRoutines)
	fmt.Fprintf(&b, "  data held at the end: %d messages, %d notifications; as JSON %d KiB after warm-up, %d KiB at the end\n",
		r.Messages, r.Notifications, r.WarmDataKiB, r.EndDataKiB)
	keys := make([]string, 0, len(r.Actions))
	for k := range r.Actions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteString("  actions:")
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, r.Actions[k])
	}
	var errs []error
	if r.EndLiveKiB > 2*r.WarmLiveKiB {
		errs = append(errs, fmt.Errorf("live heap grew from %d KiB after warm-up to %d KiB: more than twice", r.WarmLiveKiB, r.EndLiveKiB))
	}
	if r.EndRoutines > 2*r.WarmGoroutines+10 {
		errs = append(errs, fmt.Errorf("goroutines grew from %d to %d", r.WarmGoroutines, r.EndRoutines))
	}
	return b.String(), errors.Join(errs...)
}

// slope is the least-squares slope of y over the samples, per hour.
func slope(ss []soakSample, y func(soakSample) float64) float64 {
	if len(ss) < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for _, s := range ss {
		x := s.At.Hours()
		sx, sy, sxx, sxy = sx+x, sy+y(s), sxx+x*x, sxy+x*y(s)
	}
	n := float64(len(ss))
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// TestClientSoakChild is the client process of TestClientSoak; it does
// nothing unless started by it.
func TestClientSoakChild(t *testing.T) {
	path := os.Getenv(soakChildEnv)
	if path == "" {
		t.Skip("the client process of TestClientSoak")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var br soakBrief
	if err := json.Unmarshal(raw, &br); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	proxy := testenv.NewProxy(t, br.ServerAddr)
	in := signIn(t, proxy.URL(), &testenv.Actor{User: wire.User{Login: br.Login}, Password: br.Password})
	d := in.open(t)
	d.run()
	d.waitFor(t, "the first load", time.Minute, func() bool { return d.synced() && len(d.store.Applications()) == len(br.Apps) })

	start := time.Now()
	rep := soakReport{Actions: map[string]int{}}
	var mu sync.Mutex
	sample := func() {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss, anon, err := procStatus()
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		rep.Samples = append(rep.Samples, soakSample{At: time.Since(start), RSSKiB: rss, AnonKiB: anon,
			HeapKiB: int64(ms.HeapAlloc >> 10), Goroutines: runtime.NumGoroutine()})
		mu.Unlock()
	}
	liveHeap := func() int64 {
		// Twice: sync.Pool contents survive one collection (the test
		// harness's migration parser leaves 16 MiB there at start).
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc >> 10)
	}
	profile := func(name string) {
		dir := os.Getenv(soakProfileEnv)
		if dir == "" {
			return
		}
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Error(err)
		}
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		sample()
		for sleepCtx(sampleCtx, br.Sample) {
			sample()
		}
	}()

	// The compressed pace: a user acts every few seconds; here every
	// 0.3–1.2 s. The network drops every 30 s for 1–3 s; the client is
	// restarted (window closed and opened again) a few times per run.
	warmEnd := start.Add(br.Duration / 6)
	end := start.Add(br.Duration)
	nextCut := start.Add(30 * time.Second)
	restartEvery := min(max(br.Duration/4, 30*time.Second), 5*time.Minute)
	nextRestart := start.Add(restartEvery)
	warmed := false
	var open wire.Application // the card on screen
	count := func(what string, err error) {
		switch {
		case err == nil:
		case app.IsQueued(err):
			what += "-queued"
		case app.IsConflict(err):
			what += "-conflict"
		case errors.Is(err, client.ErrNetwork):
			what += "-offline"
		default:
			what += "-error"
			t.Logf("%s: %v", what, err)
		}
		rep.Actions[what]++
	}
	for i := 0; time.Now().Before(end); i++ {
		now := time.Now()
		if !warmed && now.After(warmEnd) {
			warmed = true
			rep.WarmLiveKiB, rep.WarmGoroutines = liveHeap(), runtime.NumGoroutine()
			_, _, rep.WarmDataKiB = held(d.store)
			profile("warm.pprof")
			fmt.Printf("soak: warm-up done at %v: live heap %d KiB, %d goroutines\n", now.Sub(start).Round(time.Second), rep.WarmLiveKiB, rep.WarmGoroutines)
		}
		switch {
		case now.After(nextCut):
			nextCut = now.Add(30 * time.Second)
			proxy.SetDown(true)
			time.Sleep(time.Second + time.Duration(rand.Int64N(int64(2*time.Second))))
			// While offline the user keeps reading and writing.
			_, err := d.ws.PostMessage(ctx, br.Apps[rand.IntN(len(br.Apps))], wire.ChannelApplicant, fmt.Sprintf("Написано без сети %d", i))
			count("post", err)
			proxy.SetDown(false)
			rep.Actions["network-cut"]++
			continue
		case now.After(nextRestart):
			nextRestart = now.Add(restartEvery)
			d.close(t)
			d = in.open(t)
			d.run()
			rep.Actions["restart"]++
			continue
		}
		switch r := rand.IntN(100); {
		case r < 40: // open a card
			id := br.Apps[rand.IntN(len(br.Apps))]
			c, err := d.ws.OpenApplication(ctx, id)
			if err == nil {
				open = c.App
			}
			count("open", err)
		case r < 50: // write in the open card's chat
			if open.ID == 0 {
				continue
			}
			_, err := d.ws.PostMessage(ctx, open.ID, wire.ChannelApplicant, fmt.Sprintf("Ответ заявителя %d: исправлено", i))
			count("post", err)
		case r < 65: // submit the open card if it can be
			if open.ID == 0 || (open.Status != wire.StatusDraft && open.Status != wire.StatusNeedsCorrection) {
				continue
			}
			a, err := d.ws.Transition(ctx, open.ID, open.Version, wire.StatusSubmitted, "")
			if err == nil {
				open = a
			}
			count("submit", err)
		case r < 70: // the reload button
			count("reload", d.ws.Reload(ctx))
		case r < 75: // read the notifications
			count("notifications-read", d.ws.MarkNotificationsRead(ctx))
		default: // scroll the list: the screen re-reads the Store
			rows := d.store.Applications()
			_ = d.store.Messages(rows[rand.IntN(len(rows))].ID, wire.ChannelApplicant)
			rep.Actions["list"]++
		}
		time.Sleep(300*time.Millisecond + time.Duration(rand.Int64N(int64(900*time.Millisecond))))
	}

	// The end: the network is back and everything queued is sent.
	proxy.SetDown(false)
	d.waitFor(t, "the outbox drained", 2*time.Minute, func() bool { return d.online() && len(d.store.Pending()) == 0 })
	for _, r := range d.store.Refused() {
		// A submission queued over a version the manager changed meanwhile
		// is refused; anything else is a failure.
		if r.Err == nil || (r.Err.Code != wire.CodeConflict && r.Err.Code != wire.CodeIllegalTransition) {
			t.Errorf("queued command refused: %+v %+v", r, r.Err)
		}
	}
	stopSampling()
	<-sampled
	sample()
	rep.EndLiveKiB, rep.EndRoutines = liveHeap(), runtime.NumGoroutine()
	profile("end.pprof")
	rep.Messages, rep.Notifications, rep.EndDataKiB = held(d.store)
	d.close(t)
	out, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(br.Report, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// held counts the chat messages and notifications the Store holds and
// their size as JSON (a rough measure of the data in the heap).
func held(st *app.Store) (msgs, notes int, kib int64) {
	size := 0
	for _, a := range st.Applications() {
		ms := st.Messages(a.ID, wire.ChannelApplicant)
		msgs += len(ms)
		raw, _ := json.Marshal(ms)
		size += len(raw)
	}
	ns := st.Notifications()
	raw, _ := json.Marshal(ns)
	return msgs, len(ns), int64(size+len(raw)) >> 10
}

// procStatus reads VmRSS and RssAnon of this process, in KiB.
func procStatus() (rss, anon int64, err error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, fmt.Errorf("read the resident set: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "RssAnon":
			anon = n
		}
	}
	return rss, anon, sc.Err()
}

// TestAnalyseSoak checks the limits the soak applies, so that a leaking
// run fails and a steady one passes.
func TestAnalyseSoak(t *testing.T) {
	steady := func(heap func(i int) int64) []soakSample {
		var ss []soakSample
		for i := range 60 {
			ss = append(ss, soakSample{At: time.Duration(i) * time.Minute, RSSKiB: 30 << 10, AnonKiB: 20 << 10, HeapKiB: heap(i), Goroutines: 12})
		}
		return ss
	}
	flat := steady(func(int) int64 { return 2 << 10 })
	tests := []struct {
		name    string
		rep     soakReport
		wantErr bool
	}{
		{"steady", soakReport{Samples: flat, WarmLiveKiB: 1200, EndLiveKiB: 1300, WarmGoroutines: 13, EndRoutines: 12}, false},
		{"data growth within twice", soakReport{Samples: flat, WarmLiveKiB: 1200, EndLiveKiB: 2400, WarmGoroutines: 13, EndRoutines: 14}, false},
		{"heap more than doubled", soakReport{Samples: flat, WarmLiveKiB: 1200, EndLiveKiB: 2401, WarmGoroutines: 13, EndRoutines: 13}, true},
		{"goroutines leak", soakReport{Samples: flat, WarmLiveKiB: 1200, EndLiveKiB: 1200, WarmGoroutines: 13, EndRoutines: 37}, true},
		{"too few samples", soakReport{Samples: flat[:2], WarmLiveKiB: 1200, EndLiveKiB: 1200}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := analyseSoak(tt.rep, 10*time.Minute)
			if (err != nil) != tt.wantErr {
				t.Fatalf("analyseSoak: %v, want error %v", err, tt.wantErr)
			}
		})
	}
	// 1 MiB more every 10 minutes is 6 MiB/h.
	rising := steady(func(i int) int64 { return int64(i) * 1024 / 10 })
	if got := slope(rising, func(s soakSample) float64 { return float64(s.HeapKiB) / 1024 }); got < 5.99 || got > 6.01 {
		t.Fatalf("slope = %v MiB/h, want 6", got)
	}
}
