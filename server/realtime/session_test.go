package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// wantTerminal4500 fails unless err is the stream's terminal end caused by
// a close with code 4500 (not a reconnect refused later for another reason).
func wantTerminal4500(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, client.ErrTerminal) {
		t.Fatalf("stream ended with %v, want ErrTerminal", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("(%d ", wire.CloseUnauthenticated)) {
		t.Fatalf("stream ended with %v, want close code %d", err, wire.CloseUnauthenticated)
	}
}

// TestSessionEndClosesSockets: logging out closes that session's socket with
// 4500 (the client stops), while the same user's other session stays online
// and keeps receiving; disabling a user closes all their sockets.
func TestSessionEndClosesSockets(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())

	t.Run("logout", func(t *testing.T) {
		a := testenv.Applicant(t, s)
		other := secondSession(t, s, a)
		r1 := startStream(t, a.C, nil)
		r2 := startStream(t, other.C, nil)
		if err := a.C.Logout(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantTerminal4500(t, r1.WaitEnd(t, "the logged-out session's stream to end"))
		if r1.TL.LastState() != client.StateStopped {
			t.Fatalf("state %v after logout, want stopped", r1.TL.LastState())
		}
		// The other session heard of the revocation, then keeps going.
		newApp(t, other, "После выхода с другого устройства")
		r2.TL.WaitFor(t, hang, "the other session's event", func(r *testenv.Recorder) bool {
			return len(testenv.Kinds(r.Events(), wire.EventApplication)) == 1
		})
		revoked := testenv.Kinds(r2.TL.Events(), wire.EventSessionRevoked)
		if len(revoked) != 1 || revoked[0].Seq > testenv.Kinds(r2.TL.Events(), wire.EventApplication)[0].Seq {
			t.Fatalf("other session's stream: %s", kinds(r2.TL.Events()))
		}
		if r2.Ended() || r2.TL.LastState() != client.StateOnline {
			t.Fatalf("the other session's stream went %v", r2.TL.LastState())
		}
		for _, it := range r2.TL.Items() {
			if it.ev == nil && it.resync == nil && (it.state == client.StateOffline || it.state == client.StateStopped) {
				t.Fatalf("the other session's stream went %v", it.state)
			}
		}
	})

	t.Run("disable", func(t *testing.T) {
		a := testenv.Applicant(t, s)
		other := secondSession(t, s, a)
		bystander := testenv.Member(t, s, a)
		r1 := startStream(t, a.C, nil)
		r2 := startStream(t, other.C, nil)
		rb := startStream(t, bystander.C, nil)
		if err := s.Service.SetUserDisabled(context.Background(), nil, a.ID, true); err != nil {
			t.Fatal(err)
		}
		wantTerminal4500(t, r1.WaitEnd(t, "the first session's stream to end"))
		wantTerminal4500(t, r2.WaitEnd(t, "the second session's stream to end"))
		// A colleague of the same organisation is not affected.
		newApp(t, bystander, "Коллега продолжает")
		rb.TL.WaitFor(t, hang, "the colleague's event", func(r *testenv.Recorder) bool {
			return len(testenv.Kinds(r.Events(), wire.EventApplication)) == 1
		})
		if rb.Ended() || len(testenv.Kinds(rb.TL.Events(), wire.EventSessionRevoked)) != 0 {
			t.Fatalf("colleague's stream: ended %v, %s", rb.Ended(), kinds(rb.TL.Events()))
		}
	})
}

// TestIdleSessionClosesSocket: with no request at all, the socket of a
// session that reaches its idle limit is closed with 4500.
func TestIdleSessionClosesSocket(t *testing.T) {
	t.Parallel()
	cfg := testenv.Config()
	cfg.IdleTimeout = 2 * time.Second
	s := testenv.Start(t, cfg)
	a := testenv.Applicant(t, s)
	r := startStream(t, a.C, nil)
	wantTerminal4500(t, r.WaitEnd(t, "the idle session's socket to close"))
	if r.TL.LastState() != client.StateStopped {
		t.Fatalf("state %v, want stopped", r.TL.LastState())
	}
}

// TestHelloErrors: the first frame must be a hello with a valid token of a
// full session; otherwise an error frame and a close code say why.
func TestHelloErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := testenv.Start(t, testenv.Config())
	a := testenv.Applicant(t, s)

	// check dials, lets send write the first frame (if any) and expects one
	// error frame with errCode, then a close with code.
	check := func(t *testing.T, send func(*websocket.Conn) error, code int, errCode wire.Code) {
		t.Helper()
		ws := dialRaw(t, s)
		if send != nil {
			if err := send(ws); err != nil {
				t.Fatal(err)
			}
		}
		frames, ce := readUntilClose(t, ws)
		if ce == nil {
			t.Fatalf("connection ended without a close frame after %+v", frames)
		}
		if ce.Code != code {
			t.Fatalf("close code %d (%s), want %d", ce.Code, ce.Text, code)
		}
		if len(frames) != 1 || frames[0].Type != wire.FrameError || frames[0].Error == nil || frames[0].Error.Code != errCode {
			t.Fatalf("frames before close: %+v, want one error %s", frames, errCode)
		}
	}
	text := func(msg string) func(*websocket.Conn) error {
		return func(ws *websocket.Conn) error { return ws.WriteMessage(websocket.TextMessage, []byte(msg)) }
	}

	t.Run("garbage", func(t *testing.T) {
		t.Parallel()
		check(t, text("это не JSON"), wire.CloseProtocol, wire.CodeInvalid)
	})
	t.Run("not hello", func(t *testing.T) {
		t.Parallel()
		check(t, text(`{"type":"presence","ephemeral":{"kind":"presence","app_id":1}}`), wire.CloseProtocol, wire.CodeInvalid)
	})
	t.Run("no hello", func(t *testing.T) {
		t.Parallel()
		check(t, nil, wire.CloseProtocol, wire.CodeInvalid) // after the server's hello wait
	})
	t.Run("bad token", func(t *testing.T) {
		t.Parallel()
		check(t, text(`{"type":"hello","token":"not-a-real-token"}`), wire.CloseUnauthenticated, wire.CodeUnauthenticated)
	})
	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		check(t, text(`{"type":"hello"}`), wire.CloseUnauthenticated, wire.CodeUnauthenticated)
	})
	t.Run("ended session", func(t *testing.T) {
		t.Parallel()
		b := secondSession(t, s, a)
		token := b.C.Token()
		if err := b.C.Logout(ctx); err != nil {
			t.Fatal(err)
		}
		check(t, text(`{"type":"hello","token":"`+token+`"}`), wire.CloseUnauthenticated, wire.CodeUnauthenticated)
	})
	t.Run("enrolment only", func(t *testing.T) {
		t.Parallel()
		n := testenv.Unique()
		pw := fmt.Sprintf("expert password without totp %d", n)
		res, err := s.Service.AddUser(ctx, nil, service.NewUserInput{Login: fmt.Sprintf("newexpert%d", n), Password: pw,
			FullName: "Эксперт Новый", Role: wire.RoleExpert, TOTP: false})
		if err != nil {
			t.Fatal(err)
		}
		c := client.New(s.URL())
		lr, err := c.Login(ctx, wire.LoginRequest{Login: res.User.Login, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if lr.Scope != wire.ScopeEnrol {
			t.Fatalf("scope %q, want %q", lr.Scope, wire.ScopeEnrol)
		}
		check(t, text(`{"type":"hello","token":"`+lr.Token+`"}`), wire.CloseUnauthenticated, wire.CodeEnrolmentRequired)
		// The client library stops for good rather than retrying.
		r := startStreamNoWait(t, c, nil)
		err = r.WaitEnd(t, "the enrolment-only stream to stop")
		if !errors.Is(err, client.ErrTerminal) || wire.ErrorCode(err) != wire.CodeEnrolmentRequired {
			t.Fatalf("stream ended with %v, want ErrTerminal with enrolment_required", err)
		}
	})
	t.Run("bad token via client", func(t *testing.T) {
		t.Parallel()
		c := client.New(s.URL())
		c.SetToken("not-a-real-token")
		r := startStreamNoWait(t, c, nil)
		err := r.WaitEnd(t, "the stream with a bad token to stop")
		if !errors.Is(err, client.ErrTerminal) || wire.ErrorCode(err) != wire.CodeUnauthenticated {
			t.Fatalf("stream ended with %v, want ErrTerminal with unauthenticated", err)
		}
	})
}
