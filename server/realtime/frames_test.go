package realtime_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestHostileClientFrames: after a good hello, every malformed frame from
// the client ends the connection with 4501 (a client bug: the client stops
// instead of reconnecting into the same mistake) or, for an oversize frame,
// with the protocol's "message too big"; a well-formed frame the server
// refuses gets an error frame and the connection stays up. The frames are
// the seed corpus of FuzzClientFrame, sent through the real socket.
func TestHostileClientFrames(t *testing.T) {
	t.Parallel()
	s := testenv.Start(t, testenv.Config())
	a := testenv.Applicant(t, s)

	cases := []struct {
		name    string
		kind    int // websocket.TextMessage or BinaryMessage
		data    []byte
		close   int       // expected close code; 0: stays open
		errCode wire.Code // with close == 0: the error frame's code, "" for none
	}{
		{name: "not JSON", kind: websocket.TextMessage, data: []byte("это не JSON"), close: wire.CloseProtocol},
		{name: "truncated JSON", kind: websocket.TextMessage, data: []byte(`{"type":"presence","ephemeral":{"app_id":`), close: wire.CloseProtocol},
		{name: "trailing garbage", kind: websocket.TextMessage, data: []byte(`{"type":"typing","ephemeral":{"app_id":1}} x`), close: wire.CloseProtocol},
		{name: "array", kind: websocket.TextMessage, data: []byte(`[1,2,3]`), close: wire.CloseProtocol},
		{name: "wrong type of a field", kind: websocket.TextMessage, data: []byte(`{"type":"presence","ephemeral":{"app_id":"one"}}`), close: wire.CloseProtocol},
		{name: "binary frame", kind: websocket.BinaryMessage, data: []byte{0, 1, 2, 0xff}, close: wire.CloseProtocol},
		{name: "unknown type", kind: websocket.TextMessage, data: []byte(`{"type":"shutdown"}`), close: wire.CloseProtocol},
		{name: "second hello", kind: websocket.TextMessage, data: []byte(`{"type":"hello","token":"x"}`), close: wire.CloseProtocol},
		{name: "deep nesting", kind: websocket.TextMessage, data: []byte(`{"type":"presence","ephemeral":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`), close: wire.CloseProtocol},
		{name: "over the frame limit", kind: websocket.TextMessage, data: append([]byte(`{"type":"typing","x":"`), append(bytes.Repeat([]byte("a"), 70<<10), `"}`...)...), close: websocket.CloseMessageTooBig},
		{name: "presence of an application not visible", kind: websocket.TextMessage, data: []byte(`{"type":"presence","ephemeral":{"kind":"presence","app_id":999999}}`), errCode: wire.CodeNotFound},
		{name: "presence without its body", kind: websocket.TextMessage, data: []byte(`{"type":"presence"}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ws := dialRaw(t, s)
			sendHello(t, ws, a.C.Token(), nil)
			if f := mustFrame(t, ws); f.Type != wire.FrameWelcome {
				t.Fatalf("first frame %+v, want welcome", f)
			}
			if err := ws.WriteMessage(tc.kind, tc.data); err != nil {
				if tc.close == websocket.CloseMessageTooBig {
					// The server stopped reading at its limit and closed
					// while the rest was still being written.
					return
				}
				t.Fatal(err)
			}
			if tc.close != 0 {
				frames, ce := readUntilClose(t, ws)
				if ce == nil || ce.Code != tc.close {
					t.Fatalf("close %v after %+v, want code %d", ce, frames, tc.close)
				}
				return
			}
			if tc.errCode != "" {
				f := mustFrame(t, ws)
				if f.Type != wire.FrameError || f.Error == nil || f.Error.Code != tc.errCode || f.Error.Message == "" {
					t.Fatalf("answer %+v, want an error frame %s", f, tc.errCode)
				}
			}
			// Still open: a well-formed frame that is refused is not a
			// protocol violation. A ping proves the server still reads.
			if err := ws.WriteMessage(websocket.PingMessage, []byte("still there?")); err != nil {
				t.Fatal(err)
			}
			pong := make(chan struct{}, 1)
			ws.SetPongHandler(func(string) error { pong <- struct{}{}; return nil })
			go func() { _, _, _ = ws.ReadMessage() }()
			select {
			case <-pong:
			case <-time.After(hang):
				t.Fatalf("no pong within %v: the server stopped reading", hang)
			}
		})
	}
}
