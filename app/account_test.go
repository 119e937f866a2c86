package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// accountServer answers the login and the account calls the way the sync
// server does, and records the sessions ended.
type accountServer struct {
	ended  []string
	tokens []string
}

func (a *accountServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	reply := func(v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	a.tokens = append(a.tokens, r.Header.Get("Authorization"))
	switch {
	case r.Method == http.MethodPost && r.URL.Path == wire.APIPrefix+"/auth/login":
		reply(wire.LoginResponse{Token: "tok", Scope: wire.ScopeFull, User: wire.User{ID: 7, Login: "ivanov"}})
	case r.Method == http.MethodGet && r.URL.Path == wire.APIPrefix+"/auth/sessions":
		reply([]wire.Session{
			{ID: 1, Device: "old laptop", LastSeen: at},
			{ID: 3, Device: "phone", LastSeen: at.Add(2 * time.Hour)},
			{ID: 2, Device: "this", LastSeen: at.Add(time.Hour), Current: true},
		})
	case r.Method == http.MethodDelete && len(r.URL.Path) > len(wire.APIPrefix+"/auth/sessions/"):
		a.ended = append(a.ended, r.URL.Path[len(wire.APIPrefix+"/auth/sessions/"):])
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && r.URL.Path == wire.APIPrefix+"/auth/logins":
		reply([]wire.LoginEvent{
			{At: at, IP: "10.0.0.1", Success: true},
			{At: at.Add(time.Hour), IP: "10.0.0.2", Success: false, NewDev: true},
		})
	default:
		http.NotFound(w, r)
	}
}

func TestWorkspaceAccount(t *testing.T) {
	ctx := context.Background()
	fake := &accountServer{}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	w := NewWorkspace(quietLog(), NewSession(quietLog(), "dev", "host"), NewStore(quietLog()))

	if _, err := w.Sessions(ctx); wire.ErrorCode(err) != wire.CodeUnauthenticated {
		t.Errorf("Sessions while signed out: %v, want unauthenticated", err)
	}
	if _, err := w.Session().Login(ctx, Credentials{Server: srv.URL, Login: "ivanov", Password: "x"}); err != nil {
		t.Fatal(err)
	}

	ss, err := w.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	if !slices.Equal(ids, []int64{2, 3, 1}) {
		t.Errorf("sessions in order %v, want the current one, then by last seen: [2 3 1]", ids)
	}

	if err := w.EndSession(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fake.ended, []string{"3"}) {
		t.Errorf("ended %v", fake.ended)
	}

	ls, err := w.Logins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ls) != 2 || ls[0].IP != "10.0.0.2" || !ls[0].NewDev {
		t.Errorf("logins %+v, want the newest first", ls)
	}
	if got := fake.tokens[len(fake.tokens)-1]; got != "Bearer tok" {
		t.Errorf("account calls sent %q", got)
	}
}
