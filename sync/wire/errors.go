package wire

import (
	"errors"
	"fmt"
)

// Code classifies an error; clients branch on it, and the server maps it to an
// HTTP status and a WebSocket error frame in one table (server/httpapi).
type Code string

const (
	CodeInvalid            Code = "invalid"             // the request is malformed or a field is wrong
	CodeUnauthenticated    Code = "unauthenticated"     // no, expired or revoked session
	CodeInvalidCredentials Code = "invalid_credentials" // login refused (never says why)
	CodeTOTPRequired       Code = "totp_required"       // password accepted, a one-time code is needed
	CodeEnrolmentRequired  Code = "enrolment_required"  // the session may only enrol a second factor
	CodeForbidden          Code = "forbidden"           // authenticated but not allowed
	CodeNotFound           Code = "not_found"           // absent or not visible to the caller
	CodeConflict           Code = "conflict"            // stale version or duplicate
	CodeIllegalTransition  Code = "illegal_transition"  // the workflow does not allow this move
	CodeCommentRequired    Code = "comment_required"    // the transition needs a comment
	CodeDeadline           Code = "deadline"            // refused because of a deadline rule
	CodeTooLarge           Code = "too_large"           // body or file over the limit
	CodeRateLimited        Code = "rate_limited"        // too many attempts, retry later
	CodeIdempotencyReuse   Code = "idempotency_reuse"   // the key was used for another request
	CodeResyncRequired     Code = "resync_required"     // the event stream cannot be resumed
	CodeUnavailable        Code = "unavailable"         // the database is unreachable for now: retry later under the same key
	CodeInternal           Code = "internal"            // our fault; details are in the server log
)

// Error is the one error type of the protocol. Message is Russian (the
// default interface language), MessageEN its English counterpart; both say
// what to fix.
type Error struct {
	Code      Code   `json:"code"`
	Message   string `json:"message"`
	MessageEN string `json:"message_en,omitempty"`
	Field     string `json:"field,omitempty"`
	// Current carries the server's current version on conflicts so the
	// client can show what changed instead of overwriting it.
	Current int64 `json:"current_version,omitempty"`
}

func (e *Error) Error() string {
	msg := e.MessageEN
	if msg == "" {
		msg = e.Message
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", e.Code, e.Field, msg)
	}
	return fmt.Sprintf("%s: %s", e.Code, msg)
}

// Is lets errors.Is(err, &Error{Code: c}) match on the code alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Field == "" || t.Field == e.Field)
}

// E builds an error with Russian and English text.
func E(code Code, field, ru, en string) *Error {
	return &Error{Code: code, Field: field, Message: ru, MessageEN: en}
}

// ErrorCode returns the protocol code of err, or CodeInternal when err is not
// (or does not wrap) an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns the *Error inside err, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
