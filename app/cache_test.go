package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/99designs/keyring"
	"github.com/google/go-cmp/cmp"

	"github.com/expertiza/expertiza/sync/wire"
)

// cacheState is everything the cache keeps, as the Store shows it.
type cacheState struct {
	Me      wire.User
	Seq     int64
	HasSeq  bool
	Apps    []wire.Application
	History map[int64][]wire.StatusChange
	Chats   map[int64][]wire.Message
	Docs    map[int64][]wire.Document
	Remarks map[int64][]wire.Remark
	Notices map[int64][]wire.Notice
	Notes   []wire.Notification
}

func stateOf(s *Store) cacheState {
	st := cacheState{Me: s.Me(), Apps: s.Applications(), History: map[int64][]wire.StatusChange{},
		Chats: map[int64][]wire.Message{}, Docs: map[int64][]wire.Document{}, Remarks: map[int64][]wire.Remark{},
		Notices: map[int64][]wire.Notice{}, Notes: s.Notifications()}
	st.Seq, st.HasSeq = s.Seq()
	for _, a := range st.Apps {
		st.History[a.ID] = s.History(a.ID)
		st.Chats[a.ID] = append(s.Messages(a.ID, wire.ChannelApplicant), s.Messages(a.ID, wire.ChannelStaff)...)
		st.Docs[a.ID] = s.Documents(a.ID)
		st.Remarks[a.ID] = s.Remarks(a.ID)
		st.Notices[a.ID] = s.Notices(a.ID)
	}
	return st
}

// fill puts a bit of everything into s, by loads and by events.
func fill(t *testing.T, s *Store) {
	t.Helper()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s.SetMe(wire.User{ID: 5, Login: "ivanov", FullName: "Иванов И. И.", Role: wire.RoleApplicant})
	s.ReplaceApplications(s.Tick(), []wire.Application{application(1, 1, wire.StatusDraft), application(2, 3, wire.StatusSubmitted), application(3, 1, wire.StatusDraft)})
	s.SetHistory(2, []wire.StatusChange{{ID: 10, AppID: 2, From: wire.StatusDraft, To: wire.StatusSubmitted, ActorName: "Иванов", At: at}})
	s.SetMessages(2, wire.ChannelApplicant, []wire.Message{{ID: 100, AppID: 2, Channel: wire.ChannelApplicant, Body: "Здравствуйте", CreatedAt: at}})
	s.SetMessages(3, wire.ChannelApplicant, []wire.Message{{ID: 101, AppID: 3, Channel: wire.ChannelApplicant, Body: "Черновик", CreatedAt: at}})
	s.SetDocuments(2, []wire.Document{{ID: 7, AppID: 2, Section: "07.03", Name: "АР", Versions: []wire.DocumentVersion{{ID: 1, Number: 1, Review: wire.ReviewPending, Version: 1}}}})
	s.SetNotifications([]wire.Notification{{ID: 1, Title: "Подано", CreatedAt: at}, {ID: 2, Title: "Принято", CreatedAt: at}})
	s.SetRemarks(2, []wire.Remark{{ID: 50, AppID: 2, Number: 1, Section: "07.03", Text: "Нет разреза", NormRef: "ГОСТ", Status: wire.RemarkPublished, Version: 2, CreatedAt: at}})
	s.MarkRead([]int64{1})
	for _, e := range []wire.Event{
		event(t, 41, wire.EventStatusChanged, 2, wire.StatusChange{ID: 11, AppID: 2, From: wire.StatusSubmitted, To: wire.StatusNeedsCorrection, ActorName: "Петров", At: at}),
		event(t, 42, wire.EventApplication, 2, application(2, 4, wire.StatusNeedsCorrection)),
		event(t, 43, wire.EventMessage, 2, wire.Message{ID: 102, AppID: 2, Channel: wire.ChannelApplicant, Body: "Нет ГПЗУ", CreatedAt: at}),
		event(t, 44, wire.EventDocumentVersion, 2, wire.Document{ID: 7, AppID: 2, Section: "07.03", Name: "АР", Versions: []wire.DocumentVersion{{ID: 2, Number: 2, Review: wire.ReviewPending, Version: 1}}}),
		event(t, 45, wire.EventNotification, 2, wire.Notification{ID: 3, Title: "Замечания", CreatedAt: at}),
		event(t, 46, wire.EventApplicationGone, 3, map[string]int64{"id": 3}),
		event(t, 47, wire.EventRemark, 2, wire.Remark{ID: 51, AppID: 2, Number: 2, Section: "07.04", Text: "Нет расчёта", Status: wire.RemarkPublished, Version: 1, CreatedAt: at}),
		event(t, 48, wire.EventNoticePublished, 2, wire.Notice{ID: 5, AppID: 2, Number: 1, RemarkIDs: []int64{50, 51}, PublishedAt: at}),
	} {
		if err := s.Apply(e); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCacheRoundTrip(t *testing.T) {
	dir := t.TempDir()
	const server = "https://expertiza.example"
	c, err := OpenCache(dir, server, 5)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(quietLog())
	if err := s.AttachCache(c, time.Hour); err != nil { // only the final flush writes
		t.Fatal(err)
	}
	fill(t, s)
	want := stateOf(s)
	if want.Seq != 48 || !want.HasSeq || len(want.Apps) != 2 || len(want.Docs[2]) != 1 || len(want.Docs[2][0].Versions) != 2 ||
		len(want.Remarks[2]) != 2 || len(want.Notices[2]) != 1 {
		t.Fatalf("filled state %+v", want)
	}
	if err := s.DetachCache(true); err != nil {
		t.Fatal(err)
	}

	// A cold start: a new store gets everything from the file alone.
	c2, err := OpenCache(dir, server, 5)
	if err != nil {
		t.Fatal(err)
	}
	s2 := NewStore(quietLog())
	if err := s2.AttachCache(c2, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, stateOf(s2)); d != "" {
		t.Fatalf("reopened cache differs (-want +got):\n%s", d)
	}
	if s2.Unread() != 2 {
		t.Fatalf("unread %d, want 2", s2.Unread())
	}
	// Later changes are written in the background by the timer.
	if err := s2.Apply(event(t, 47, wire.EventApplication, 1, application(1, 2, wire.StatusSubmitted))); err != nil {
		t.Fatal(err)
	}
	s2.SetDocuments(2, nil) // no change: nothing to write
	time.Sleep(200 * time.Millisecond)
	want2 := stateOf(s2)
	if err := s2.DetachCache(false); err != nil { // nothing pending: the timer wrote it
		t.Fatal(err)
	}
	c3, err := OpenCache(dir, server, 5)
	if err != nil {
		t.Fatal(err)
	}
	s3 := NewStore(quietLog())
	if err := s3.AttachCache(c3, 0); err != nil {
		t.Fatal(err)
	}
	defer s3.DetachCache(false)
	if d := cmp.Diff(want2, stateOf(s3)); d != "" {
		t.Fatalf("background write lost (-want +got):\n%s", d)
	}

	// Another user, or another server, has a cache of its own.
	if CachePath(dir, server, 6) == c.Path() || CachePath(dir, "https://other.example", 5) == c.Path() {
		t.Fatal("cache paths collide")
	}
}

func TestCacheResyncSavesNoPosition(t *testing.T) {
	c, err := OpenCache(t.TempDir(), "https://expertiza.example", 5)
	if err != nil {
		t.Fatal(err)
	}
	s := NewStore(quietLog())
	if err := s.AttachCache(c, time.Hour); err != nil {
		t.Fatal(err)
	}
	defer s.DetachCache(false)
	if err := s.Apply(event(t, 7, wire.EventApplication, 1, application(1, 1, wire.StatusDraft))); err != nil {
		t.Fatal(err)
	}
	// A reload that fails leaves lists older than the resync position: a
	// restart then must not resume from it.
	s.SetReloader(func(context.Context) error { return context.DeadlineExceeded })
	s.Resync(90)
	b, _, _ := s.takeBatch(s.cl)
	if !b.seqSet || b.seq != nil {
		t.Fatalf("position saved during a resync: %+v", b)
	}
	s.SetReloader(func(context.Context) error { return nil })
	s.Resync(95)
	b, _, _ = s.takeBatch(s.cl)
	if !b.seqSet || len(b.seq) != 8 || b.seq[7] != 95 {
		t.Fatalf("position after the reload: %+v", b)
	}
}

// signedIn returns a session restored from a remembered token, which needs
// no network.
func signedIn(t *testing.T, server string, u wire.User) *Session {
	t.Helper()
	kr := keyring.NewArrayKeyring(nil)
	sess := NewSession(quietLog(), "dev", "test")
	sess.SetKeyring(kr)
	if err := kr.Set(keyring.Item{Key: tokenKey(server), Data: mustJSON(savedSession{Server: server, Token: "tok", User: u})}); err != nil {
		t.Fatal(err)
	}
	if _, err := sess.RestoreToken(server); err != nil {
		t.Fatal(err)
	}
	return sess
}

func TestLogoutWipesCacheAndToken(t *testing.T) {
	dir := t.TempDir()
	const server = "http://127.0.0.1:1" // nobody listens: logout on the server fails, locally it still happens
	me := wire.User{ID: 5, Login: "ivanov", Role: wire.RoleApplicant}
	sess := signedIn(t, server, me)
	ws := NewWorkspace(quietLog(), sess, NewStore(quietLog()))
	if err := ws.UseCache(dir); err != nil {
		t.Fatal(err)
	}
	fill(t, ws.Store())
	if err := ws.Store().FlushCache(); err != nil {
		t.Fatal(err)
	}
	path := CachePath(dir, server, me.ID)
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ws.Logout(ctx)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("cache file after logout: %v", err)
	}
	if len(ws.Store().Applications()) != 0 {
		t.Fatal("store not cleared")
	}
	if _, err := sess.RestoreToken(server); err != ErrNoSavedToken {
		t.Fatalf("token after logout: %v", err)
	}
	// Signing in again starts from an empty cache.
	sess = signedIn(t, server, me)
	ws = NewWorkspace(quietLog(), sess, NewStore(quietLog()))
	if err := ws.UseCache(dir); err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if n := len(ws.Store().Applications()); n != 0 {
		t.Fatalf("%d applications after logout and a new sign-in", n)
	}
	if _, ok := ws.Store().Seq(); ok {
		t.Fatal("sequence survived logout")
	}
}

func TestTokenInFileKeyring(t *testing.T) {
	dir := t.TempDir()
	open := func() keyring.Keyring {
		kr, err := keyring.Open(keyring.Config{
			ServiceName:      KeyringService,
			AllowedBackends:  []keyring.BackendType{keyring.FileBackend},
			FileDir:          filepath.Join(dir, "keyring"),
			FilePasswordFunc: keyring.FixedStringPrompt(filePassword("dev")),
		})
		if err != nil {
			t.Fatal(err)
		}
		return kr
	}
	const server = "https://expertiza.example"
	me := wire.User{ID: 5, Login: "ivanov"}
	sess := signedIn(t, server, me)
	sess.SetKeyring(open())
	if err := sess.SaveToken(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, "keyring", "session https:%2F%2Fexpertiza.example"))
	if err != nil {
		entries, _ := os.ReadDir(filepath.Join(dir, "keyring"))
		t.Fatalf("keyring file: %v (dir: %v)", err, entries)
	}
	if string(raw) == "" || containsToken(raw) {
		t.Fatal("token stored in clear")
	}

	// After a restart: a new session and a new keyring handle.
	s2 := NewSession(quietLog(), "dev", "test")
	s2.SetKeyring(open())
	u, err := s2.RestoreToken(server)
	if err != nil || u.ID != me.ID || !s2.SignedIn() || s2.Server() != server {
		t.Fatalf("restored %+v %v", u, err)
	}
	c, _ := s2.client()
	if c.Token() != "tok" {
		t.Fatalf("token %q", c.Token())
	}
	if _, err := NewSession(quietLog(), "dev", "test").RestoreToken(server); err != ErrNoSavedToken {
		t.Fatalf("without a keyring: %v", err)
	}
	// A wrong password (another machine) does not open it.
	other, _ := keyring.Open(keyring.Config{AllowedBackends: []keyring.BackendType{keyring.FileBackend},
		FileDir: filepath.Join(dir, "keyring"), FilePasswordFunc: keyring.FixedStringPrompt("wrong")})
	if _, err := other.Get(tokenKey(server)); err == nil {
		t.Fatal("opened with a wrong password")
	}
}

func containsToken(b []byte) bool {
	for i := 0; i+len(`"tok"`) <= len(b); i++ {
		if string(b[i:i+len(`"tok"`)]) == `"tok"` {
			return true
		}
	}
	return false
}

func TestOpenKeyringFallsBack(t *testing.T) {
	kr, backend := OpenKeyring(quietLog(), t.TempDir(), "dev")
	if kr == nil || backend == "" {
		t.Fatal("no keyring")
	}
	t.Logf("token backend here: %s", backend)
	if backend == TokensOSKeyring {
		return // a desktop: do not write into the user's real keyring
	}
	if err := kr.Set(keyring.Item{Key: "k", Data: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if it, err := kr.Get("k"); err != nil || string(it.Data) != "v" {
		t.Fatalf("get %q %v", it.Data, err)
	}
}
