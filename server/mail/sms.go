package mail

import (
	"context"
	"log/slog"
	"unicode/utf8"
)

// SMSSender sends a short text message to a phone number. No real
// provider is wired yet: the server uses no SMS anywhere, and nothing
// critical (sign-in codes, deadlines) may depend on one until a provider
// with delivery reports is chosen.
type SMSSender interface {
	SendSMS(ctx context.Context, phone, text string) error
}

// LogSMS is NOT a delivery: it only writes a line to the log saying that
// an SMS would have been sent, with the phone number masked and the text's
// length (the text may hold codes or personal data, which never go to logs).
// It exists for development and demos.
type LogSMS struct {
	Log *slog.Logger
}

// SendSMS logs the would-be message and never fails.
func (l LogSMS) SendSMS(ctx context.Context, phone, text string) error {
	l.Log.InfoContext(ctx, "SMS not sent (logging stand-in, no SMS provider configured)",
		"phone", MaskPhone(phone), "chars", utf8.RuneCountInString(text))
	return nil
}

// MaskPhone keeps the last two digits: "+7 916 123-45-67" → "***67".
func MaskPhone(phone string) string {
	var digits []rune
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			digits = append(digits, r)
		}
	}
	if len(digits) < 2 {
		return "***"
	}
	return "***" + string(digits[len(digits)-2:])
}
