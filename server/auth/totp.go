package auth

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP errors are plain sentinels rather than *wire.Error: both map to the
// same protocol code, and wire.Error matches by code, so they would be
// indistinguishable to errors.Is. The service decides what the user sees.
var (
	// ErrTOTPInvalid: the code matches none of the accepted time steps.
	ErrTOTPInvalid = errors.New("auth: invalid one-time code")
	// ErrTOTPReplay: the code is right but its time step was already used;
	// accepting it would let an observed code be reused within its window.
	ErrTOTPReplay = errors.New("auth: one-time code already used")
)

// What every common authenticator app supports; other settings are silently
// ignored by some of them, which yields wrong codes.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	totpAlgo   = otp.AlgorithmSHA1
	totpSkew   = 1 // steps accepted either side of now: tolerates clock drift
	// An empty or tiny secret still yields codes; refuse anything under 80
	// bits (16 base32 characters) rather than accept a guessable key.
	minSecretLen = 16
)

// NewTOTPSecret creates a random 160-bit TOTP secret. It returns the base32
// secret to store and the otpauth:// URL to show as a QR code (QRPNG) or for
// manual entry.
func NewTOTPSecret(issuer, account string) (secret, otpauthURL string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      totpPeriod,
		SecretSize:  20,
		Digits:      totpDigits,
		Algorithm:   totpAlgo,
	})
	if err != nil {
		return "", "", fmt.Errorf("auth: generate TOTP secret: %w", err)
	}
	return key.Secret(), key.URL(), nil
}

// QRPNG renders otpauthURL as a size×size PNG QR code.
func QRPNG(otpauthURL string, size int) ([]byte, error) {
	key, err := otp.NewKeyFromURL(otpauthURL)
	if err != nil {
		return nil, fmt.Errorf("auth: parse otpauth URL: %w", err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("auth: render QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("auth: encode QR PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// VerifyTOTP checks code against secret at now, accepting the current time
// step and one either side. It returns the matched step, which the caller
// must store as the new lastStep: a step <= lastStep is refused with
// ErrTOTPReplay so that each code works once. A wrong code yields
// ErrTOTPInvalid; any other error means the stored secret is unusable.
func VerifyTOTP(secret, code string, now time.Time, lastStep int64) (step int64, err error) {
	// Apps display "123 456"; users type it that way.
	code = strings.ReplaceAll(code, " ", "")
	if len(code) != totpDigits.Length() || strings.Trim(code, "0123456789") != "" {
		return 0, ErrTOTPInvalid
	}
	if len(strings.TrimSpace(secret)) < minSecretLen {
		return 0, errors.New("auth: TOTP secret too short")
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: totpDigits, Algorithm: totpAlgo}
	current := now.Unix() / totpPeriod
	matched, replayed := int64(-1), false
	// Every candidate is computed and compared so that the time taken does
	// not depend on which step matched.
	for s := current - totpSkew; s <= current+totpSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), opts)
		if err != nil {
			return 0, fmt.Errorf("auth: compute TOTP: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		if s <= lastStep {
			replayed = true
		} else if matched < 0 {
			matched = s
		}
	}
	switch {
	case matched >= 0:
		return matched, nil
	case replayed:
		return 0, ErrTOTPReplay
	default:
		return 0, ErrTOTPInvalid
	}
}
