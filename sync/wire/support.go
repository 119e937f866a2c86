package wire

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Support requests: any user writes to the administrators from the app.
// A request has a number (ПОД-2026-000123, per calendar year), a status and
// a thread; only its author and administrators see it.

// SupportStatus is where a request stands.
type SupportStatus string

const (
	SupportNew        SupportStatus = "new"         // written, nobody has taken it yet
	SupportInProgress SupportStatus = "in_progress" // an administrator works on it, or the author wrote again
	SupportAnswered   SupportStatus = "answered"    // an administrator replied last
	SupportClosed     SupportStatus = "closed"      // settled; no more replies
)

// AllSupportStatuses lists the statuses in lifecycle order.
var AllSupportStatuses = []SupportStatus{SupportNew, SupportInProgress, SupportAnswered, SupportClosed}

// Valid reports whether s is known.
func (s SupportStatus) Valid() bool {
	for _, x := range AllSupportStatuses {
		if x == s {
			return true
		}
	}
	return false
}

// SupportMove reports whether a caller may set status to from the
// current one by hand. Administrators take a request (new → in_progress),
// close it, and reopen a closed one; the author may only close it.
// Replies move the status on their own (SupportAfterReply).
func SupportMove(from, to SupportStatus, admin bool) bool {
	if from == to || !to.Valid() {
		return false
	}
	if !admin {
		return to == SupportClosed
	}
	switch to {
	case SupportInProgress:
		return from == SupportNew || from == SupportClosed || from == SupportAnswered
	case SupportClosed:
		return true
	}
	return false
}

// SupportAfterReply is the status after a reply: an administrator's
// answers the request; the author's puts an answered one back in work.
// A closed request takes no replies.
func SupportAfterReply(from SupportStatus, byAdmin bool) SupportStatus {
	if byAdmin {
		return SupportAnswered
	}
	if from == SupportAnswered {
		return SupportInProgress
	}
	return from
}

// SupportRequest is one request; Messages are filled when one request is
// read, not in lists.
type SupportRequest struct {
	ID            int64            `json:"id"`
	Number        string           `json:"number"`
	AuthorID      int64            `json:"author_id"`
	AuthorName    string           `json:"author_name"`
	AuthorLogin   string           `json:"author_login"`
	Subject       string           `json:"subject"`
	Status        SupportStatus    `json:"status"`
	Version       int64            `json:"version"`
	CreatedAt     time.Time        `json:"created_at"`
	UpdatedAt     time.Time        `json:"updated_at"`
	MessageCount  int              `json:"message_count"`
	LastMessageAt time.Time        `json:"last_message_at"`
	Messages      []SupportMessage `json:"messages,omitempty"`
}

// SupportMessage is one message of a request's thread.
type SupportMessage struct {
	ID         int64     `json:"id"`
	AuthorID   int64     `json:"author_id"`
	AuthorName string    `json:"author_name"`
	Staff      bool      `json:"staff"` // written by an administrator
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// Limits of a request's texts.
const (
	MaxSupportSubject = 200
	MaxSupportBody    = 10000
)

// CreateSupportRequest opens a request with its first message.
type CreateSupportRequest struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
}

// Validate checks the subject and the text.
func (r CreateSupportRequest) Validate() error {
	if strings.TrimSpace(r.Subject) == "" {
		return E(CodeInvalid, "subject", "Укажите тему обращения", "Enter the subject")
	}
	if utf8.RuneCountInString(r.Subject) > MaxSupportSubject {
		return E(CodeInvalid, "subject", "Тема длиннее 200 символов — сократите её", "The subject is over 200 characters — shorten it")
	}
	return validSupportBody(r.Body)
}

// SupportReplyRequest adds a message to a request's thread.
type SupportReplyRequest struct {
	Body string `json:"body"`
}

// Validate checks the text.
func (r SupportReplyRequest) Validate() error { return validSupportBody(r.Body) }

func validSupportBody(s string) error {
	if strings.TrimSpace(s) == "" {
		return E(CodeInvalid, "body", "Напишите текст сообщения", "Write the message")
	}
	if utf8.RuneCountInString(s) > MaxSupportBody {
		return E(CodeInvalid, "body", "Сообщение длиннее 10 000 символов — сократите его", "The message is over 10,000 characters — shorten it")
	}
	return nil
}

// SupportStatusRequest changes a request's status by hand.
type SupportStatusRequest struct {
	Version int64         `json:"version"`
	Status  SupportStatus `json:"status"`
}
