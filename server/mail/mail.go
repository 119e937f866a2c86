// Package mail sends the server's e-mail: notifications one by one and as
// daily or weekly digests (DESIGN.md §1 "Other parts"). It renders messages
// from embedded Russian and English templates and hands them to an SMTP
// server. The durable queue, retries and scheduling live in the service and
// store; this package knows nothing of PostgreSQL.
package mail

import (
	"context"
	"errors"
	"time"
)

// Message is one rendered e-mail, ready to send. The queue stores exactly
// these fields, so a retry sends the same bytes under the same Message-ID.
type Message struct {
	To        string // bare address: user@example.ru
	ToName    string // display name, may be Cyrillic (RFC 2047-encoded on the wire)
	Subject   string
	Text      string // text/plain part
	HTML      string // text/html alternative
	MessageID string // without angle brackets: id@domain
	Date      time.Time
}

// Sender delivers a message. A nil error means the SMTP server accepted it
// (answered 250 to the end of DATA); the message must not be sent again.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Lang is a message language.
type Lang string

const (
	LangRU Lang = "ru" // the default: the product's users are Russian
	LangEN Lang = "en"
)

// ParseLang accepts "ru" and "en".
func ParseLang(s string) (Lang, error) {
	switch Lang(s) {
	case LangRU, LangEN:
		return Lang(s), nil
	}
	return "", errors.New(`language must be "ru" or "en"`)
}
