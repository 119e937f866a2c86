package realtime_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/auth"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// expiryGrace is how long after a session's expiry its open streams may
// stay open: the security requirement, not a performance figure.
const expiryGrace = 5 * time.Second

// TestSessionExpiryClosesStreams: a session that reaches its idle limit or
// its absolute limit, with nothing else happening (no command, no frame
// from the client), has its open stream closed with 4500 within 5 s of the
// expiry moment the server itself computes; afterwards a command with the
// old token is a 401 and a new stream with it is refused with 4500.
func TestSessionExpiryClosesStreams(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		idle, absolute time.Duration
	}{
		// The absolute limit is far: only idleness ends the session.
		{name: "idle limit", idle: 3 * time.Second, absolute: time.Hour},
		// Idleness is far: only the absolute limit ends the session.
		{name: "absolute limit", idle: time.Hour, absolute: 5 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := testenv.Config()
			cfg.IdleTimeout, cfg.AbsoluteTimeout = tc.idle, tc.absolute
			s := testenv.Start(t, cfg)
			a := testenv.Applicant(t, s)
			token := a.C.Token()
			r := startStream(t, a.C, nil)

			expiry := sessionExpiry(t, s, token)
			if !expiry.After(time.Now()) {
				t.Skipf("the session expired (%v) before its stream was online: the machine is too slow for a %v limit", expiry, min(tc.idle, tc.absolute))
			}
			wantLimit := tc.idle
			if tc.absolute < tc.idle {
				wantLimit = tc.absolute
			}
			if left := time.Until(expiry); left > wantLimit {
				t.Fatalf("session ends in %v, more than its %v limit", left, wantLimit)
			}

			timer := time.NewTimer(time.Until(expiry.Add(expiryGrace)))
			defer timer.Stop()
			select {
			case <-r.done:
			case <-timer.C:
				t.Fatalf("stream still open %v after the session expired at %s", expiryGrace, expiry.Format(time.StampMilli))
			}
			closedAt := time.Now()
			wantTerminal4500(t, r.err)
			if closedAt.Before(expiry) {
				t.Fatalf("stream closed at %s, before the session's expiry %s", closedAt.Format(time.StampMilli), expiry.Format(time.StampMilli))
			}
			t.Logf("closed %v after expiry", closedAt.Sub(expiry).Round(time.Millisecond))
			if r.TL.LastState() != client.StateStopped {
				t.Fatalf("client state %v after expiry, want stopped", r.TL.LastState())
			}

			// The old token is dead for commands ...
			status, we := getWithToken(t, s, "/me", token)
			if status != http.StatusUnauthorized || we.Code != wire.CodeUnauthenticated {
				t.Fatalf("GET /me with the expired token: %d %+v, want 401 %s", status, we, wire.CodeUnauthenticated)
			}
			if _, err := a.C.CreateApplication(context.Background(), wire.ApplicationInput{}, client.NewIdempotencyKey()); wire.ErrorCode(err) != wire.CodeUnauthenticated {
				t.Fatalf("command with the expired token: %v, want %s", err, wire.CodeUnauthenticated)
			}
			// ... and for a new stream.
			ws := dialRaw(t, s)
			sendHello(t, ws, token, nil)
			frames, ce := readUntilClose(t, ws)
			if ce == nil || ce.Code != wire.CloseUnauthenticated {
				t.Fatalf("hello with the expired token: close %v after %+v, want %d", ce, frames, wire.CloseUnauthenticated)
			}
		})
	}
}

// TestExpiryFollowsActivityElsewhere: a stream's session deadline is not
// fixed at connect time. The session is kept alive by a request on another
// connection (the server re-reads the deadline when it comes), so the
// stream must stay open past the first deadline and close only at the
// extended one.
func TestExpiryFollowsActivityElsewhere(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config()
	// Requests refresh last_seen at most every 30 s (service.touchEvery),
	// so the idle limit must be longer than that for activity to count.
	cfg.IdleTimeout, cfg.AbsoluteTimeout = 33*time.Second, time.Hour
	if testing.Short() {
		t.Skip("waits over 30 s for the session's last_seen to be refreshed")
	}
	s := testenv.Start(t, cfg)
	a := testenv.Applicant(t, s)
	token := a.C.Token()
	r := startStream(t, a.C, nil)
	first := sessionExpiry(t, s, token)

	// Just after touchEvery (30 s) has passed since sign-in, one request
	// refreshes last_seen and so moves the deadline.
	touchAt := first.Add(-cfg.IdleTimeout + 31*time.Second)
	timer := time.NewTimer(time.Until(touchAt))
	<-timer.C
	if status, we := getWithToken(t, s, "/me", token); status != http.StatusOK {
		t.Fatalf("GET /me: %d %+v", status, we)
	}
	second := sessionExpiry(t, s, token)
	if !second.After(first) {
		t.Fatalf("a request at %s did not move the deadline %s (now %s)", touchAt.Format(time.StampMilli),
			first.Format(time.StampMilli), second.Format(time.StampMilli))
	}
	// Past the first deadline (and the grace), the stream is still open.
	timer.Reset(time.Until(first.Add(time.Second)))
	select {
	case <-r.done:
		t.Fatalf("stream closed (%v) at the stale deadline %s although the session lasts until %s", r.err,
			first.Format(time.StampMilli), second.Format(time.StampMilli))
	case <-timer.C:
	}
	timer.Reset(time.Until(second.Add(expiryGrace)))
	select {
	case <-r.done:
	case <-timer.C:
		t.Fatalf("stream still open %v after the extended expiry %s", expiryGrace, second.Format(time.StampMilli))
	}
	wantTerminal4500(t, r.err)
}

// sessionExpiry is the moment the server will consider token's session
// over if nothing else happens.
func sessionExpiry(t *testing.T, s *boot.Server, token string) time.Time {
	t.Helper()
	ctx := context.Background()
	// Read the row directly: Authenticate would refuse an expired session
	// and could itself refresh last_seen.
	sess, err := s.Service.Store().Read().SessionByTokenHash(ctx, auth.HashToken(token))
	if err != nil {
		t.Fatalf("session of the token: %v", err)
	}
	d, err := s.Service.SessionDeadline(ctx, sess.ID)
	if err != nil || d.IsZero() {
		t.Fatalf("session deadline: %v %v", d, err)
	}
	return d
}

// getWithToken makes one authenticated GET under the API prefix and
// decodes an error answer.
func getWithToken(t *testing.T, s *boot.Server, path, token string) (int, wire.Error) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+wire.APIPrefix+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var we wire.Error
	if resp.StatusCode != http.StatusOK {
		_ = json.NewDecoder(resp.Body).Decode(&we)
	}
	return resp.StatusCode, we
}
