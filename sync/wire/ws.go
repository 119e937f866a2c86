package wire

import "encoding/json"

// WebSocket frames are JSON text messages {"type": ..., ...}.
const (
	// client → server
	FrameHello    = "hello"    // first frame: token and resume point
	FramePresence = "presence" // I am viewing app/doc/page (ephemeral)
	FrameTyping   = "typing"   // I am typing in app/channel (ephemeral)

	// server → client
	FrameWelcome    = "welcome"     // authenticated; replay follows
	FrameEvent      = "event"       // one committed change
	FrameReplayDone = "replay_done" // replay finished, live events follow
	FrameResync     = "resync"      // cannot resume: reload state over HTTP, then resume from Seq
	FrameEphemeral  = "ephemeral"   // presence or typing of another user
	FrameError      = "error"       // a refused frame
)

// WebSocket close codes. 4000–4499: reconnect and resume; 4500–4999:
// terminal (do not reconnect without user action).
const (
	CloseReconnect       = 4000 // slow consumer, server shutting down: reconnect with backoff and resume
	CloseUnauthenticated = 4500 // session expired, revoked or invalid: sign in again
	CloseProtocol        = 4501 // malformed frames: a client bug
)

// Frame is the envelope of every WebSocket message.
type Frame struct {
	Type string `json:"type"`
	// hello
	Token string `json:"token,omitempty"`
	After *int64 `json:"after,omitempty"` // last sequence the client holds; nil: live only
	// welcome / replay_done / resync
	Seq  int64 `json:"seq,omitempty"`
	User *User `json:"user,omitempty"`
	// event
	Event *Event `json:"event,omitempty"`
	// ephemeral (in and out)
	Ephemeral *Ephemeral `json:"ephemeral,omitempty"`
	// error
	Error *Error `json:"error,omitempty"`
}

// Ephemeral is presence or typing; never stored.
type Ephemeral struct {
	Kind     string  `json:"kind"` // "presence" or "typing"
	AppID    int64   `json:"app_id"`
	UserID   int64   `json:"user_id,omitempty"` // filled by the server
	UserName string  `json:"user_name,omitempty"`
	Channel  Channel `json:"channel,omitempty"` // typing
	Doc      string  `json:"doc,omitempty"`     // presence: document version viewed
	Page     int     `json:"page,omitempty"`    // presence: page viewed
	// VersionID is the document version viewed (presence). When set, the
	// server checks it belongs to the application, and staff presence on a
	// document reaches staff only (their review work is internal).
	VersionID int64 `json:"version_id,omitempty"`
}

// Decode unmarshals the event data into v.
func (e Event) Decode(v any) error { return json.Unmarshal(e.Data, v) }
