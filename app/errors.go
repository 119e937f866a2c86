package app

import (
	"context"
	"errors"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// IsTOTPRequired reports whether a login needs a one-time code: the
// password was right, and the login screen must now ask for the code.
func IsTOTPRequired(err error) bool { return wire.ErrorCode(err) == wire.CodeTOTPRequired }

// IsConflict reports whether a command was refused because the data changed
// since the user saw it (or is in a state that no longer allows it).
func IsConflict(err error) bool { return wire.ErrorCode(err) == wire.CodeConflict }

// IsSignedOut reports whether the server no longer accepts this session.
func IsSignedOut(err error) bool {
	return wire.ErrorCode(err) == wire.CodeUnauthenticated || errors.Is(err, client.ErrTerminal)
}

// UserMessage is what to tell the user about err: the server's own words
// in the interface language when it refused, a plain sentence otherwise.
// The raw error goes to the log, not to the screen.
func UserMessage(err error, english bool) string {
	if err == nil {
		return ""
	}
	if we, ok := wire.AsError(err); ok {
		if english && we.MessageEN != "" {
			return we.MessageEN
		}
		if we.Message != "" {
			return we.Message
		}
	}
	pick := func(ru, en string) string {
		if english {
			return en
		}
		return ru
	}
	switch {
	case errors.Is(err, client.ErrTerminal):
		return pick("Сеанс завершён. Войдите снова.", "The session has ended. Sign in again.")
	case errors.Is(err, client.ErrNetwork), errors.Is(err, context.DeadlineExceeded):
		return pick("Нет связи с сервером. Проверьте адрес сервера и подключение к сети.",
			"Cannot reach the server. Check the server address and the network connection.")
	case errors.Is(err, context.Canceled):
		return pick("Операция отменена.", "The operation was cancelled.")
	}
	return pick("Непредвиденная ошибка. Подробности записаны в журнал приложения.",
		"Unexpected error. The details are in the application log.")
}

// Tone is how a status reads at a glance; the UI maps it to colours.
type Tone int

const (
	ToneNeutral   Tone = iota // nothing to do yet, or archived
	ToneActive                // the office is working on it
	ToneAttention             // the applicant must act
	ToneSuccess               // positive conclusion
	ToneFailure               // negative conclusion, returned, withdrawn
)

// StatusTone classifies a status for colouring lists.
func StatusTone(s wire.Status) Tone {
	switch s {
	case wire.StatusSubmitted, wire.StatusAwaitingPayment, wire.StatusInReview, wire.StatusConclusion:
		return ToneActive
	case wire.StatusNeedsCorrection, wire.StatusRemarksIssued, wire.StatusAwaitingContract:
		return ToneAttention
	case wire.StatusCompletedPositive:
		return ToneSuccess
	case wire.StatusCompletedNegative, wire.StatusReturned, wire.StatusWithdrawn:
		return ToneFailure
	}
	return ToneNeutral
}
