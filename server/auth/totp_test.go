package auth

import (
	"bytes"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

const testSecret = "JBSWY3DPEHPK3PXP6QZ7KV3Z"

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestVerifyTOTP(t *testing.T) {
	now := time.Unix(1_700_000_025, 0) // 15 s into step 56666667
	const step = 56666667
	tests := []struct {
		name     string
		codeTime time.Time
		lastStep int64
		mangle   func(string) string
		wantStep int64
		wantErr  error
	}{
		{name: "current", codeTime: now, wantStep: step},
		{name: "previous step: clock 30 s behind", codeTime: now.Add(-30 * time.Second), wantStep: step - 1},
		{name: "next step: clock 30 s ahead", codeTime: now.Add(30 * time.Second), wantStep: step + 1},
		{name: "60 s behind", codeTime: now.Add(-60 * time.Second), wantErr: ErrTOTPInvalid},
		{name: "90 s behind", codeTime: now.Add(-90 * time.Second), wantErr: ErrTOTPInvalid},
		{name: "90 s ahead", codeTime: now.Add(90 * time.Second), wantErr: ErrTOTPInvalid},
		{name: "after an older code", codeTime: now, lastStep: step - 1, wantStep: step},
		{name: "replay of the same code", codeTime: now, lastStep: step, wantErr: ErrTOTPReplay},
		{name: "older than the last used code", codeTime: now.Add(-30 * time.Second), lastStep: step, wantErr: ErrTOTPReplay},
		{name: "spaces as displayed by apps", codeTime: now, mangle: func(c string) string { return c[:3] + " " + c[3:] }, wantStep: step},
		{name: "wrong digit", codeTime: now, mangle: func(c string) string { return c[:5] + string('0'+(c[5]-'0'+1)%10) }, wantErr: ErrTOTPInvalid},
		{name: "too short", codeTime: now, mangle: func(c string) string { return c[:5] }, wantErr: ErrTOTPInvalid},
		{name: "not digits", codeTime: now, mangle: func(string) string { return "12a456" }, wantErr: ErrTOTPInvalid},
		{name: "empty", codeTime: now, mangle: func(string) string { return "" }, wantErr: ErrTOTPInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code := codeAt(t, testSecret, tt.codeTime)
			if tt.mangle != nil {
				code = tt.mangle(code)
			}
			got, err := VerifyTOTP(testSecret, code, now, tt.lastStep)
			if !errors.Is(err, tt.wantErr) || got != tt.wantStep {
				t.Fatalf("VerifyTOTP(%q) = %d, %v; want %d, %v", code, got, err, tt.wantStep, tt.wantErr)
			}
		})
	}
}

// RFC 6238 appendix B vectors (SHA-1, 8 digits; the 6-digit code is the last
// six) check the implementation against the standard, not against itself.
func TestVerifyTOTPRFC6238(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // base32 of "12345678901234567890"
	tests := []struct {
		unix int64
		code string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
	}
	for _, tt := range tests {
		step, err := VerifyTOTP(secret, tt.code, time.Unix(tt.unix, 0), 0)
		if err != nil || step != tt.unix/30 {
			t.Errorf("VerifyTOTP at %d = %d, %v; want %d, nil", tt.unix, step, err, tt.unix/30)
		}
	}
}

func TestVerifyTOTPBadSecret(t *testing.T) {
	for _, secret := range []string{"", "JBSWY3DP", "not base32 at all!!"} {
		_, err := VerifyTOTP(secret, "123456", time.Unix(1_700_000_000, 0), 0)
		if err == nil || errors.Is(err, ErrTOTPInvalid) || errors.Is(err, ErrTOTPReplay) {
			t.Errorf("secret %q: err = %v, want a distinct error", secret, err)
		}
	}
}

func TestNewTOTPSecret(t *testing.T) {
	secret, url, err := NewTOTPSecret("Экспертиза", "p.ivanov@example.ru")
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(url)
	if err != nil {
		t.Fatal(err)
	}
	if key.Type() != "totp" || key.Issuer() != "Экспертиза" || key.AccountName() != "p.ivanov@example.ru" ||
		key.Secret() != secret || key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Fatalf("unexpected key %s", url)
	}
	if len(secret) != 32 { // 160 bits in base32
		t.Fatalf("secret %q is %d characters, want 32", secret, len(secret))
	}
	other, _, err := NewTOTPSecret("Экспертиза", "p.ivanov@example.ru")
	if err != nil || other == secret {
		t.Fatalf("second secret %q, err %v: want a different one", other, err)
	}
	now := time.Unix(1_700_000_000, 0)
	if _, err := VerifyTOTP(secret, codeAt(t, secret, now), now, 0); err != nil {
		t.Fatalf("a code for the new secret is refused: %v", err)
	}
	if _, _, err := NewTOTPSecret("", "x"); err == nil {
		t.Fatal("empty issuer accepted")
	}
}

func TestQRPNG(t *testing.T) {
	_, url, err := NewTOTPSecret("Экспертиза", "p.ivanov@example.ru")
	if err != nil {
		t.Fatal(err)
	}
	b, err := QRPNG(url, 256)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != 256 || r.Dy() != 256 {
		t.Fatalf("image is %v, want 256×256", r)
	}
	if _, err := QRPNG(url, 10); err == nil {
		t.Fatal("a QR code smaller than its modules was rendered")
	}
	if _, err := QRPNG("http://example.ru/%zz", 256); err == nil || !strings.Contains(err.Error(), "otpauth") {
		t.Fatalf("bad URL: err = %v", err)
	}
}
