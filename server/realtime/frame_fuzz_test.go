package realtime

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/expertiza/expertiza/sync/wire"
)

// FuzzClientFrame feeds arbitrary messages through decodeClientFrame, the
// one decoder of what clients send on the WebSocket (the hello, then
// presence and typing). Invariants: a refusal is a *wire.Error (invalid)
// naming "frame" or "type" with messages in both languages, its English
// text short enough to be a close reason; an accepted frame came from a
// text message holding valid JSON, has an allowed type, and survives
// encoding and decoding again unchanged.
func FuzzClientFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"hello","token":"abc","after":42}`,
		`{"type":"presence","ephemeral":{"kind":"presence","app_id":1,"doc":"v7","page":3,"version_id":7}}`,
		`{"type":"typing","ephemeral":{"kind":"typing","app_id":1,"channel":"staff"}}`,
		`{"type":"presence"}`,
		`{"type":"typing","ephemeral":null}`,
		`{"type":"hello","after":-1}`,
		`{"type":"presence","ephemeral":{"app_id":1e400}}`,
		`{"type":"typing","ephemeral":{"app_id":1}} x`,
		`{"type":"event","event":{"seq":1}}`,
		`[1,2,3]`, `null`, `"hello"`, ``, "\xff\xfe", `{"type":"presence","ephemeral":{"page":"1"}}`,
	} {
		f.Add(false, []byte(s))
	}
	f.Add(true, []byte(`{"type":"hello","token":"abc"}`))
	allowedSets := [][]string{{wire.FrameHello}, {wire.FramePresence, wire.FrameTyping}}
	f.Fuzz(func(t *testing.T, binary bool, data []byte) {
		kind := websocket.TextMessage
		if binary {
			kind = websocket.BinaryMessage
		}
		for _, allowed := range allowedSets {
			fr, err := decodeClientFrame(kind, data, allowed...)
			if err != nil {
				we, ok := wire.AsError(err)
				if !ok {
					t.Fatalf("refusal %v (%T) is not a *wire.Error", err, err)
				}
				if we.Code != wire.CodeInvalid || (we.Field != "frame" && we.Field != "type") || we.Message == "" || we.MessageEN == "" {
					t.Fatalf("refusal %+v: want invalid, field frame or type, both messages", we)
				}
				if len(we.MessageEN) > 123 {
					t.Fatalf("refusal text %q is too long for a close reason", we.MessageEN)
				}
				continue
			}
			if binary || !json.Valid(data) || !slices.Contains(allowed, fr.Type) {
				t.Fatalf("accepted %q (binary %v) as %+v with allowed %v", data, binary, fr, allowed)
			}
			enc, err := json.Marshal(fr)
			if err != nil {
				t.Fatalf("accepted frame does not encode: %v", err)
			}
			again, err := decodeClientFrame(websocket.TextMessage, enc, allowed...)
			if err != nil {
				t.Fatalf("re-encoded frame %s refused: %v", enc, err)
			}
			if enc2, _ := json.Marshal(again); !bytes.Equal(enc, enc2) {
				t.Fatalf("round trip changed the frame:\n%s\n%s", enc, enc2)
			}
		}
	})
}
