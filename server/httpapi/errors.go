package httpapi

import (
	"errors"
	"net/http"

	"github.com/expertiza/expertiza/sync/wire"
)

// statusOf is the one table from protocol codes to HTTP statuses.
var statusOf = map[wire.Code]int{
	wire.CodeInvalid:            http.StatusBadRequest,
	wire.CodeUnauthenticated:    http.StatusUnauthorized,
	wire.CodeInvalidCredentials: http.StatusUnauthorized,
	wire.CodeTOTPRequired:       http.StatusUnauthorized,
	wire.CodeEnrolmentRequired:  http.StatusForbidden,
	wire.CodeForbidden:          http.StatusForbidden,
	wire.CodeNotFound:           http.StatusNotFound,
	wire.CodeConflict:           http.StatusConflict,
	wire.CodeIllegalTransition:  http.StatusConflict,
	wire.CodeCommentRequired:    http.StatusUnprocessableEntity,
	wire.CodeDeadline:           http.StatusConflict,
	wire.CodeTooLarge:           http.StatusRequestEntityTooLarge,
	wire.CodeRateLimited:        http.StatusTooManyRequests,
	wire.CodeIdempotencyReuse:   http.StatusUnprocessableEntity,
	wire.CodeResyncRequired:     http.StatusConflict,
	wire.CodeUnavailable:        http.StatusServiceUnavailable,
	wire.CodeInternal:           http.StatusInternalServerError,
}

// HTTPStatus maps an error to its HTTP status.
func HTTPStatus(err error) int {
	var we *wire.Error
	if errors.As(err, &we) {
		if s, ok := statusOf[we.Code]; ok {
			return s
		}
	}
	return http.StatusInternalServerError
}

// publicError is what the client sees: protocol errors as they are,
// anything else as an opaque internal error (details go to the log only).
func publicError(err error) *wire.Error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	return wire.E(wire.CodeInternal, "", "Внутренняя ошибка сервера; повторите позже. Подробности — в журнале сервера.",
		"Internal server error; try again later. Details are in the server log.")
}
