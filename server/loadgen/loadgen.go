// Package loadgen simulates many applicants and experts working at once
// against a real sync server over HTTP and WebSocket: each user signs in
// (experts with a TOTP code), holds an event stream and, with think times,
// writes in chats, marks them read, moves applications between review and
// remarks, annotates document versions and downloads files, checking what
// it gets. It measures the latency of every operation, the delay from a
// command to the event reaching every other user who may see it, the
// errors, and the server's memory over time.
//
// Prepare builds the world through the service against the server's
// database; Run drives it through the protocol only (sync/client).
package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// Config drives a run.
type Config struct {
	Server   string        // base URL, http://host:port
	Duration time.Duration // from the first sign-in to the last action started
	// Rate is the actions per user per minute; think times between them
	// are exponential around 60/Rate seconds.
	Rate float64
	// Ramp spreads the users' sign-ins (argon2 hashing on the server) over
	// this long; 0 picks 100 ms per user. Latencies of commands started
	// during the ramp-up and after it are reported apart.
	Ramp time.Duration
	// Drain is how long to wait after the last action for the events still
	// on their way before counting them missing.
	Drain time.Duration
	// CompleteTour makes every user finish its first round of actions (one
	// of each kind its role does) even past Duration, so short runs cover
	// every operation (tests).
	CompleteTour bool
	// SpreadAddresses makes each user connect from its own loopback
	// address (127.100.x.y), as users on their own machines do; the
	// server's per-address sign-in limit then applies per user.
	SpreadAddresses bool
	Seed            uint64
	// Memory samples the server every SampleEvery (default 10 s).
	Memory      *MemorySampler
	SampleEvery time.Duration
	Log         *slog.Logger
}

func (c *Config) defaults(users int) {
	if c.Rate <= 0 {
		c.Rate = 2
	}
	if c.Ramp <= 0 {
		c.Ramp = time.Duration(users) * 100 * time.Millisecond
	}
	if c.Drain <= 0 {
		c.Drain = 30 * time.Second
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = 10 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
}

// Result is what a run measured.
type Result struct {
	Users, Applicants, Experts, Apps, Versions int
	Seed                                       uint64 // the seed the users' choices came from
	Started                                    time.Time
	Ramp, Elapsed                              time.Duration
	Ops                                        []OpStats // the whole run; errors are counted here
	OpsRamp, OpsSteady                         []OpStats // started during the ramp-up, after it
	Delivery                                   []DeliveryStats
	Examples                                   []string
	Memory                                     []MemorySample
	Streams                                    StreamStats
}

// StreamStats counts what happened to the users' event streams.
type StreamStats struct {
	Online     int `json:"online"`     // users whose stream went live
	Reconnects int `json:"reconnects"` // live again after a drop (slow-consumer drops included)
	Resyncs    int `json:"resyncs"`    // the server could not resume a stream
	Gaps       int `json:"gaps"`       // events out of sequence order (must be 0)
	Terminal   int `json:"terminal"`   // streams the server ended for good (must be 0)
}

// Errors is the number of failed operations.
func (r *Result) Errors() int {
	n := 0
	for _, o := range r.Ops {
		n += o.Errors
	}
	return n
}

// Missing is the number of events some user never received.
func (r *Result) Missing() int {
	n := 0
	for _, d := range r.Delivery {
		n += d.Missing
	}
	return n
}

// OK says the run had no errors, lost no event and kept every stream in order.
func (r *Result) OK() bool {
	return r.Errors() == 0 && r.Missing() == 0 && r.Streams.Gaps == 0 && r.Streams.Terminal == 0 && r.Streams.Online == r.Users
}

// runner is one run's shared state.
type runner struct {
	cfg     Config
	fx      *Fixture
	rec     *recorder
	trk     *tracker
	users   []*user
	byID    map[int64]*user
	apps    map[int64]*AppSpec
	members map[int64][]*user // applicants by organisation
	msgSeq  atomic.Int64
}

// Run drives the fixture's users against cfg.Server.
func Run(ctx context.Context, cfg Config, fx *Fixture) (*Result, error) {
	cfg.defaults(len(fx.Users))
	started := time.Now()
	steadyFrom := started.Add(cfg.Ramp)
	r := &runner{cfg: cfg, fx: fx, rec: newRecorder(steadyFrom), trk: newTracker(steadyFrom), byID: map[int64]*user{},
		apps: map[int64]*AppSpec{}, members: map[int64][]*user{}}
	res := &Result{Users: len(fx.Users), Apps: len(fx.Apps), Seed: cfg.Seed, Started: started}
	for i := range fx.Apps {
		r.apps[fx.Apps[i].ID] = &fx.Apps[i]
		res.Versions += len(fx.Apps[i].Versions)
	}
	seed := rand.New(rand.NewPCG(cfg.Seed, 0x10ad))
	for i := range fx.Users {
		spec := &fx.Users[i]
		u := &user{idx: i, spec: spec, r: r, rng: rand.New(rand.NewPCG(seed.Uint64(), uint64(i))),
			apps: map[int64]*appState{}, lastSeen: map[chanKey]int64{}, lastRead: map[chanKey]int64{}}
		hc := &http.Client{Timeout: 60 * time.Second}
		if cfg.SpreadAddresses {
			// The desktop client's transport (Go's default: idle keep-alive
			// connections dropped after 90 s, before the server's 2 min),
			// dialling from the user's own address.
			d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: userAddr(i)}}
			tr := http.DefaultTransport.(*http.Transport).Clone()
			tr.DialContext = d.DialContext
			hc.Transport = tr
		}
		u.c = client.New(cfg.Server, client.WithHTTPClient(hc), client.WithDeviceID("loadgen-"+spec.Login))
		r.users = append(r.users, u)
		r.byID[spec.ID] = u
		if spec.Role == wire.RoleApplicant {
			r.members[spec.OrgID] = append(r.members[spec.OrgID], u)
			res.Applicants++
		} else {
			res.Experts++
		}
	}
	for _, a := range fx.Apps {
		for _, m := range r.members[a.OrgID] {
			m.myApps = append(m.myApps, a.ID)
		}
		for _, e := range a.Experts {
			if u := r.byID[e]; u != nil {
				u.myApps = append(u.myApps, a.ID)
			}
		}
	}

	deadline := res.Started.Add(cfg.Duration)
	streamCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	var sampler sync.WaitGroup
	sampleCtx, stopSampling := context.WithCancel(ctx)
	if cfg.Memory != nil {
		sampler.Add(1)
		go func() {
			defer sampler.Done()
			cfg.Memory.Run(sampleCtx, res.Started, cfg.SampleEvery)
		}()
	}

	// Users start in a shuffled order, so applicants and experts ramp up
	// together.
	order := seed.Perm(len(r.users))
	var acting, streaming sync.WaitGroup
	for k, i := range order {
		u := r.users[i]
		at := res.Started.Add(time.Duration(int64(cfg.Ramp) * int64(k) / int64(len(order))))
		acting.Add(1)
		go func() {
			defer acting.Done()
			if !sleepUntil(ctx, at) {
				return
			}
			u.live(ctx, streamCtx, &streaming, deadline)
		}()
	}
	res.Ramp = cfg.Ramp
	acting.Wait()
	cfg.Log.Info("load: actions finished; waiting for events in flight", "missing", r.trk.missing())
	drainUntil := time.Now().Add(cfg.Drain)
	for r.trk.missing() > 0 && time.Now().Before(drainUntil) && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
	}
	res.Elapsed = time.Since(res.Started)
	stopStreams()
	streaming.Wait()
	stopSampling()
	sampler.Wait()
	if cfg.Memory != nil {
		res.Memory = cfg.Memory.Samples()
	}
	for _, u := range r.users {
		if u.onlineAt.Load() != 0 {
			res.Streams.Online++
		}
		res.Streams.Reconnects += int(u.reconnects.Load())
		res.Streams.Resyncs += int(u.resyncs.Load())
		res.Streams.Terminal += int(u.terminal.Load())
		if u.stream != nil {
			res.Streams.Gaps += u.stream.Gaps()
		}
	}
	res.Ops, res.OpsRamp, res.OpsSteady = r.rec.ops(phaseAll), r.rec.ops(phaseRamp), r.rec.ops(phaseSteady)
	res.Delivery = r.trk.stats()
	r.rec.mu.Lock()
	res.Examples = slices.Clone(r.rec.examples)
	r.rec.mu.Unlock()
	return res, ctx.Err()
}

// userAddr is user i's loopback source address.
func userAddr(i int) net.IP { return net.IPv4(127, 100, byte(i/250), byte(i%250+1)) }

func sleepUntil(ctx context.Context, at time.Time) bool {
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

type chanKey struct {
	app int64
	ch  wire.Channel
}

// appState is what a user's client knows of an application from the
// stream, as the desktop client's cache does.
type appState struct {
	status  wire.Status
	version int64
}

// ownAnnot is an annotation the user made and may change.
type ownAnnot struct {
	id, version, app, versionID int64
	kind                        wire.AnnotationKind
}

// user is one simulated person.
type user struct {
	idx    int
	spec   *UserSpec
	r      *runner
	rng    *rand.Rand // used by the acting goroutine only
	c      *client.Client
	myApps []int64
	stream *client.Stream

	onlineAt   atomic.Int64 // unix nanoseconds of the first time the stream went live
	reconnects atomic.Int64
	resyncs    atomic.Int64
	terminal   atomic.Int64
	online     chan struct{}
	onlineOnce sync.Once

	mu       sync.Mutex // guards what the stream and the actions share
	apps     map[int64]*appState
	lastSeen map[chanKey]int64 // newest message of others seen on the stream
	lastRead map[chanKey]int64
	annots   []ownAnnot
	lastStep int64 // last TOTP step used
}

// live is a user's session: sign in, open the stream, act until the
// deadline.
func (u *user) live(ctx, streamCtx context.Context, streaming *sync.WaitGroup, deadline time.Time) {
	if err := u.login(ctx); err != nil {
		return
	}
	start := time.Now()
	list, err := u.c.Applications(ctx, client.Filter{})
	u.r.rec.observe("apps_list", start, err)
	if err != nil {
		return
	}
	u.mu.Lock()
	for _, a := range list {
		u.apps[a.ID] = &appState{status: a.Status, version: a.Version}
	}
	u.mu.Unlock()
	if len(list) != len(u.myApps) {
		u.r.rec.fail("apps_list", fmt.Errorf("%s sees %d applications, the fixture gives %d", u.spec.Login, len(list), len(u.myApps)))
	}

	u.online = make(chan struct{})
	u.stream = u.c.NewStream(u, nil)
	streaming.Add(1)
	start = time.Now()
	go func() {
		defer streaming.Done()
		err := u.stream.Run(streamCtx)
		if streamCtx.Err() == nil {
			u.terminal.Add(1)
			u.r.rec.fail("stream", fmt.Errorf("%s: %w", u.spec.Login, err))
		}
	}()
	select {
	case <-u.online:
		u.r.rec.observe("ws_connect", start, nil)
	case <-time.After(30 * time.Second):
		u.r.rec.fail("ws_connect", fmt.Errorf("%s: %w: stream not live after 30 s", u.spec.Login, context.DeadlineExceeded))
		return
	case <-ctx.Done():
		return
	}

	tour := u.tour()
	mean := time.Duration(float64(time.Minute) / u.r.cfg.Rate)
	for {
		// Think: exponential, clipped so that no user idles for long.
		think := time.Duration(u.rng.ExpFloat64() * float64(mean))
		think = min(max(think, mean/10), 4*mean)
		wake := time.Now().Add(think)
		if len(tour) == 0 || !u.r.cfg.CompleteTour {
			if !wake.Before(deadline) {
				sleepUntil(ctx, deadline)
				return
			}
		}
		if !sleepUntil(ctx, wake) {
			return
		}
		var act action
		if len(tour) > 0 {
			act, tour = tour[0], tour[1:]
		} else {
			act = u.pick()
		}
		// An action in flight at the deadline finishes: cutting it off
		// would count as an error what is only the end of the test.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		u.do(actx, act)
		cancel()
	}
}

// login signs in over HTTP, experts with a TOTP code.
func (u *user) login(ctx context.Context) error {
	req := wire.LoginRequest{Login: u.spec.Login, Password: u.spec.Password}
	if u.spec.TOTPSecret != "" {
		code, err := u.nextCode()
		if err != nil {
			u.r.rec.fail("login", err)
			return err
		}
		req.TOTPCode = code
	}
	start := time.Now()
	_, err := u.c.Login(ctx, req)
	u.r.rec.observe("login", start, err)
	return err
}

// nextCode returns a code of a step this user has not used (the server
// takes each step once per user).
func (u *user) nextCode() (string, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	at := time.Now()
	step := at.Unix() / 30
	if step <= u.lastStep {
		step = u.lastStep + 1
		at = time.Unix(step*30, 0)
	}
	u.lastStep = step
	return totp.GenerateCode(u.spec.TOTPSecret, at)
}

// --- client.Handler: called by the stream's goroutine ---

// Event implements client.Handler.
func (u *user) Event(e wire.Event) {
	now := time.Now()
	switch e.Kind {
	case wire.EventMessage:
		var m wire.Message
		if json.Unmarshal(e.Data, &m) != nil {
			return
		}
		u.r.trk.arrive(fmt.Sprintf("m:%d", m.ID), u.idx, now)
		if m.AuthorID != u.spec.ID {
			k := chanKey{m.AppID, m.Channel}
			u.mu.Lock()
			u.lastSeen[k] = max(u.lastSeen[k], m.ID)
			u.mu.Unlock()
		}
	case wire.EventApplication:
		var a wire.Application
		if json.Unmarshal(e.Data, &a) != nil {
			return
		}
		u.r.trk.arrive(fmt.Sprintf("app:%d:%d", a.ID, a.Version), u.idx, now)
		u.noteApp(a)
	case wire.EventAnnotation:
		var an wire.Annotation
		if json.Unmarshal(e.Data, &an) != nil {
			return
		}
		u.r.trk.arrive(fmt.Sprintf("an:%d:%d", an.ID, an.Version), u.idx, now)
	case wire.EventAnnotationDelete:
		var g wire.AnnotationGone
		if json.Unmarshal(e.Data, &g) != nil {
			return
		}
		u.r.trk.arrive(fmt.Sprintf("an-del:%d", g.ID), u.idx, now)
	}
}

// noteApp keeps the newest known state of an application.
func (u *user) noteApp(a wire.Application) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if cur := u.apps[a.ID]; cur == nil || a.Version > cur.version {
		u.apps[a.ID] = &appState{status: a.Status, version: a.Version}
	}
}

// Ephemeral implements client.Handler.
func (u *user) Ephemeral(wire.Ephemeral) {}

// Resync implements client.Handler.
func (u *user) Resync(int64) { u.resyncs.Add(1) }

// State implements client.Handler.
func (u *user) State(s client.State, _ error) {
	if s != client.StateOnline {
		return
	}
	if u.onlineAt.CompareAndSwap(0, time.Now().UnixNano()) {
		u.onlineOnce.Do(func() { close(u.online) })
		return
	}
	u.reconnects.Add(1)
}

// --- who must see what ---

// audience lists the users, other than the author, whose streams were live
// before start and who may see a change of app: every assigned expert, and
// unless staffOnly the organisation's applicants.
func (r *runner) audience(app *AppSpec, staffOnly bool, author int, start time.Time) []int {
	var out []int
	add := func(u *user) {
		if u == nil || u.idx == author {
			return
		}
		if at := u.onlineAt.Load(); at != 0 && at < start.UnixNano() {
			out = append(out, u.idx)
		}
	}
	for _, e := range app.Experts {
		add(r.byID[e])
	}
	if !staffOnly {
		for _, m := range r.members[app.OrgID] {
			add(m)
		}
	}
	return out
}

// --- actions ---

type action string

const (
	actPost          action = "post"
	actRead          action = "read"
	actOpen          action = "open"
	actDownload      action = "download"
	actStatus        action = "status"
	actNotifications action = "notifications"
	actList          action = "list"
	actAnnotCreate   action = "annot_create"
	actAnnotUpdate   action = "annot_update"
	actAnnotDelete   action = "annot_delete"
	actAnnotView     action = "annot_view"
)

type weighted struct {
	a action
	w int
}

// The mixes of a working day: applicants mostly talk, read and fetch
// files; experts annotate, talk among themselves and send remarks.
var (
	applicantMix = []weighted{{actPost, 25}, {actRead, 20}, {actOpen, 15}, {actDownload, 15}, {actStatus, 10}, {actNotifications, 10}, {actList, 5}}
	expertMix    = []weighted{{actPost, 20}, {actRead, 15}, {actAnnotCreate, 15}, {actAnnotUpdate, 10}, {actAnnotDelete, 5}, {actAnnotView, 5},
		{actDownload, 15}, {actStatus, 5}, {actOpen, 5}, {actNotifications, 5}}
)

func (u *user) mix() []weighted {
	if u.spec.Role == wire.RoleApplicant {
		return applicantMix
	}
	return expertMix
}

func (u *user) pick() action {
	mix := u.mix()
	total := 0
	for _, m := range mix {
		total += m.w
	}
	n := u.rng.IntN(total)
	for _, m := range mix {
		if n < m.w {
			return m.a
		}
		n -= m.w
	}
	return mix[0].a
}

// tour is one of each action of the role in random order; an expert
// annotates first so that changing and deleting find something, and
// deletes last.
func (u *user) tour() []action {
	var t []action
	for _, m := range u.mix() {
		if m.a != actAnnotCreate && m.a != actAnnotDelete {
			t = append(t, m.a)
		}
	}
	u.rng.Shuffle(len(t), func(i, j int) { t[i], t[j] = t[j], t[i] })
	if u.spec.Role == wire.RoleExpert {
		t = append(append([]action{actAnnotCreate}, t...), actAnnotDelete)
	}
	return t
}

func (u *user) randomApp() *AppSpec {
	return u.r.apps[u.myApps[u.rng.IntN(len(u.myApps))]]
}

func (u *user) do(ctx context.Context, a action) {
	switch a {
	case actPost:
		u.post(ctx)
	case actRead:
		u.read(ctx)
	case actOpen:
		u.open(ctx)
	case actDownload:
		u.download(ctx)
	case actStatus:
		u.status(ctx)
	case actNotifications:
		u.notifications(ctx)
	case actList:
		start := time.Now()
		_, err := u.c.Applications(ctx, client.Filter{})
		u.r.rec.observe("apps_list", start, err)
	case actAnnotCreate:
		u.annotCreate(ctx)
	case actAnnotUpdate:
		u.annotUpdate(ctx)
	case actAnnotDelete:
		u.annotDelete(ctx)
	case actAnnotView:
		app := u.randomApp()
		v := app.Versions[u.rng.IntN(len(app.Versions))]
		start := time.Now()
		_, err := u.c.VersionAnnotations(ctx, v.ID)
		u.r.rec.observe("annot_list", start, err)
	}
}

var phrases = []string{
	"Направляем откорректированные листы раздела.",
	"Прошу уточнить замечание по п. 5.3 СП 54.13330.2022.",
	"Расчёт фундаментов выполнен с учётом отчёта ИГИ.",
	"Коллеги, по разделу КР есть вопросы к нагрузкам на перекрытие.",
	"Ответы на замечания будут направлены до пятницы.",
	"Спецификации приведены к форме 7 ГОСТ 21.501-2018.",
}

// post writes in the chat: applicants in the applicant channel, experts
// there or among staff.
func (u *user) post(ctx context.Context) {
	app := u.randomApp()
	ch := wire.ChannelApplicant
	if u.spec.Role == wire.RoleExpert && u.rng.IntN(10) < 4 {
		ch = wire.ChannelStaff
	}
	body := fmt.Sprintf("%s (№ %d)", phrases[u.rng.IntN(len(phrases))], u.r.msgSeq.Add(1))
	start := time.Now()
	m, err := u.c.PostMessage(ctx, app.ID, wire.PostMessageRequest{Channel: ch, Body: body}, client.NewIdempotencyKey())
	u.r.rec.observe("chat_post", start, err)
	if err != nil {
		return
	}
	u.r.trk.expect("chat_message", fmt.Sprintf("m:%d", m.ID), start, u.r.audience(app, ch == wire.ChannelStaff, u.idx, start))
	u.mu.Lock()
	k := chanKey{app.ID, ch}
	u.lastRead[k] = max(u.lastRead[k], m.ID) // the server moves the author's own read mark
	u.mu.Unlock()
}

// read marks a chat read up to the newest message the stream brought; with
// nothing unread it opens a chat's history and marks that read.
func (u *user) read(ctx context.Context) {
	u.mu.Lock()
	var unread []chanKey
	for k, seen := range u.lastSeen {
		if seen > u.lastRead[k] {
			unread = append(unread, k)
		}
	}
	slices.SortFunc(unread, func(a, b chanKey) int {
		if a.app != b.app {
			return int(a.app - b.app)
		}
		return int(a.ch[0]) - int(b.ch[0])
	})
	var k chanKey
	var upTo int64
	if len(unread) > 0 {
		k = unread[u.rng.IntN(len(unread))]
		upTo = u.lastSeen[k]
	}
	u.mu.Unlock()
	if upTo == 0 {
		app := u.randomApp()
		k = chanKey{app.ID, wire.ChannelApplicant}
		if u.spec.Role == wire.RoleExpert && u.rng.IntN(2) == 0 {
			k.ch = wire.ChannelStaff
		}
		start := time.Now()
		msgs, err := u.c.Messages(ctx, k.app, k.ch, 0)
		u.r.rec.observe("chat_history", start, err)
		if err != nil {
			return
		}
		if len(msgs) == 0 {
			u.r.rec.fail("chat_history", fmt.Errorf("application %d channel %s has no messages, prepare posted one", k.app, k.ch))
			return
		}
		upTo = msgs[len(msgs)-1].ID
	}
	start := time.Now()
	mark, err := u.c.MarkRead(ctx, k.app, wire.MarkReadRequest{Channel: k.ch, LastReadID: upTo})
	u.r.rec.observe("mark_read", start, err)
	if err != nil {
		return
	}
	u.mu.Lock()
	u.lastRead[k] = max(u.lastRead[k], mark.LastReadID)
	u.mu.Unlock()
}

// open is opening an application's card: the application and its files.
func (u *user) open(ctx context.Context) {
	app := u.randomApp()
	start := time.Now()
	a, err := u.c.Application(ctx, app.ID)
	u.r.rec.observe("app_get", start, err)
	if err == nil {
		u.noteApp(a)
	}
	start = time.Now()
	docs, err := u.c.Documents(ctx, app.ID)
	u.r.rec.observe("documents", start, err)
	if err == nil {
		n := 0
		for _, d := range docs {
			n += len(d.Versions)
		}
		if n < len(app.Versions) {
			u.r.rec.fail("documents", fmt.Errorf("application %d lists %d versions, %d were uploaded", app.ID, n, len(app.Versions)))
		}
	}
}

// download fetches a version, verified against the SHA-256 the server
// sends (the client checks) and the one recorded at upload (checked here).
func (u *user) download(ctx context.Context) {
	app := u.randomApp()
	v := app.Versions[u.rng.IntN(len(app.Versions))]
	start := time.Now()
	n := &countWriter{}
	sum, err := u.c.Download(ctx, v.ID, n)
	u.r.rec.observe("download", start, err)
	if err == nil && (sum != v.SHA256 || n.n != v.Size) {
		u.r.rec.fail("download", fmt.Errorf("%w: version %d: got %d bytes with SHA-256 %s, uploaded %d bytes with %s", client.ErrDigest, v.ID, n.n, sum, v.Size, v.SHA256))
	}
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)

// status makes the move this user owns when the application stands where
// it can: the lead expert sends remarks, the responsible applicant answers
// them. Each side moves only out of its own status, so the two never race.
func (u *user) status(ctx context.Context) {
	var from, to wire.Status
	var comment string
	if u.spec.Role == wire.RoleExpert {
		from, to, comment = wire.StatusInReview, wire.StatusRemarksIssued, "Направлены замечания по разделам (нагрузочный тест)"
	} else {
		from, to = wire.StatusRemarksIssued, wire.StatusInReview
	}
	var cand []*AppSpec
	var vers []int64
	u.mu.Lock()
	for _, id := range u.myApps {
		app := u.r.apps[id]
		owner := app.Lead
		if u.spec.Role == wire.RoleApplicant {
			owner = app.Responsible
		}
		if st := u.apps[id]; owner == u.spec.ID && st != nil && st.status == from {
			cand = append(cand, app)
			vers = append(vers, st.version)
		}
	}
	u.mu.Unlock()
	if len(cand) == 0 {
		// Nothing to move right now: the user looks at a card instead.
		u.open(ctx)
		return
	}
	i := u.rng.IntN(len(cand))
	app := cand[i]
	start := time.Now()
	a, err := u.c.Transition(ctx, app.ID, wire.TransitionRequestBody{Version: vers[i], To: to, Comment: comment}, client.NewIdempotencyKey())
	u.r.rec.observe("transition", start, err)
	if err != nil {
		return
	}
	u.noteApp(a)
	u.r.trk.expect("status_change", fmt.Sprintf("app:%d:%d", a.ID, a.Version), start, u.r.audience(app, false, u.idx, start))
}

func (u *user) notifications(ctx context.Context) {
	start := time.Now()
	ns, err := u.c.Notifications(ctx)
	u.r.rec.observe("notifications", start, err)
	if err != nil || len(ns) == 0 {
		return
	}
	var top int64
	for _, n := range ns {
		top = max(top, n.ID)
	}
	start = time.Now()
	_, err = u.c.MarkNotificationsRead(ctx, wire.MarkNotificationsReadRequest{UpTo: top})
	u.r.rec.observe("notifications_read", start, err)
}

var annotKinds = []wire.AnnotationKind{wire.AnnotRect, wire.AnnotCloud, wire.AnnotEllipse, wire.AnnotNote, wire.AnnotArrow,
	wire.AnnotLine, wire.AnnotInk, wire.AnnotHighlight}

// geometry makes a shape of kind inside a page of size p.
func (u *user) geometry(kind wire.AnnotationKind, p wire.PageSize) wire.Geometry {
	w, h := math.Max(p.W, 100), math.Max(p.H, 100)
	x := 20 + u.rng.Float64()*(w-120)
	y := 20 + u.rng.Float64()*(h-120)
	dx, dy := 20+u.rng.Float64()*70, 10+u.rng.Float64()*70
	switch kind {
	case wire.AnnotArrow, wire.AnnotLine:
		return wire.Geometry{Points: []wire.Point{{X: x, Y: y}, {X: x + dx, Y: y + dy}}}
	case wire.AnnotInk:
		var s []wire.Point
		for i := 0; i < 12; i++ {
			s = append(s, wire.Point{X: x + float64(i)*dx/12, Y: y + dy/2 + math.Sin(float64(i))*dy/3})
		}
		return wire.Geometry{Ink: [][]wire.Point{s}}
	case wire.AnnotHighlight:
		return wire.Geometry{Quads: []wire.Quad{{x, y + 12, x + dx, y + 12, x, y, x + dx, y}}}
	}
	return wire.Geometry{Rect: &wire.Rect{X1: x, Y1: y, X2: x + dx, Y2: y + dy}}
}

func (u *user) annotCreate(ctx context.Context) {
	app := u.randomApp()
	v := app.Versions[u.rng.IntN(len(app.Versions))]
	page := u.rng.IntN(len(v.Pages))
	kind := annotKinds[u.rng.IntN(len(annotKinds))]
	req := wire.CreateAnnotationRequest{Page: page + 1, Kind: kind, Geometry: u.geometry(kind, v.Pages[page])}
	if kind == wire.AnnotNote || u.rng.IntN(3) == 0 {
		req.Text = phrases[u.rng.IntN(len(phrases))]
	}
	start := time.Now()
	an, err := u.c.CreateAnnotation(ctx, v.ID, req, client.NewIdempotencyKey())
	u.r.rec.observe("annot_create", start, err)
	if err != nil {
		return
	}
	u.mu.Lock()
	u.annots = append(u.annots, ownAnnot{id: an.ID, version: an.Version, app: app.ID, versionID: v.ID, kind: kind})
	u.mu.Unlock()
	u.r.trk.expect("annotation", fmt.Sprintf("an:%d:%d", an.ID, an.Version), start, u.r.audience(app, true, u.idx, start))
}

// takeAnnot picks one of the user's own annotations (ok false: none yet).
func (u *user) takeAnnot() (int, ownAnnot, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.annots) == 0 {
		return 0, ownAnnot{}, false
	}
	i := u.rng.IntN(len(u.annots))
	return i, u.annots[i], true
}

func (u *user) annotUpdate(ctx context.Context) {
	i, a, ok := u.takeAnnot()
	if !ok {
		u.annotCreate(ctx)
		return
	}
	text := phrases[u.rng.IntN(len(phrases))] + " (уточнено)"
	colour := fmt.Sprintf("#%02x%02x00", u.rng.IntN(256), u.rng.IntN(256))
	start := time.Now()
	an, err := u.c.UpdateAnnotation(ctx, a.id, wire.UpdateAnnotationRequest{Version: a.version, Text: &text, Color: &colour}, client.NewIdempotencyKey())
	u.r.rec.observe("annot_update", start, err)
	if err != nil {
		return
	}
	u.mu.Lock()
	u.annots[i].version = an.Version
	u.mu.Unlock()
	u.r.trk.expect("annotation", fmt.Sprintf("an:%d:%d", an.ID, an.Version), start, u.r.audience(u.r.apps[a.app], true, u.idx, start))
}

func (u *user) annotDelete(ctx context.Context) {
	i, a, ok := u.takeAnnot()
	if !ok {
		u.annotCreate(ctx)
		return
	}
	start := time.Now()
	err := u.c.DeleteAnnotation(ctx, a.id, a.version, client.NewIdempotencyKey())
	u.r.rec.observe("annot_delete", start, err)
	if err != nil {
		return
	}
	u.mu.Lock()
	u.annots = slices.Delete(u.annots, i, i+1)
	u.mu.Unlock()
	u.r.trk.expect("annotation_delete", fmt.Sprintf("an-del:%d", a.id), start, u.r.audience(u.r.apps[a.app], true, u.idx, start))
}
