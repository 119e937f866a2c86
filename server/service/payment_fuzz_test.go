package service_test

import (
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/sync/wire"
)

// FuzzPaymentSignature feeds arbitrary timestamp and signature headers and
// bodies to the gateway callback's authentication. Invariants: every
// refusal is a 401-class *wire.Error with messages that never echo the
// expected signature; a header is accepted only if it is exactly the HMAC
// of the timestamp and body (hex in either case, spaces trimmed) and the
// timestamp is within the allowed skew; the correct signature of the same
// timestamp and body is accepted exactly when the timestamp is; and no
// change of one body byte keeps a signature valid.
func FuzzPaymentSignature(f *testing.F) {
	now := time.Date(2026, 3, 2, 8, 15, 0, 0, time.UTC)
	secret := []byte("0123456789abcdef0123456789abcdef-fuzz")
	svc := service.New(nil, service.DefaultConfig(), nil, nil,
		service.WithClock(func() time.Time { return now }), service.WithPayments(service.PaymentConfig{Secret: secret}))
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"payment_id":"sbp-1","invoice_number":"СЧ-2026-000001","amount_kopecks":90000000,"paid_at":"2026-03-02T11:15:00+03:00"}`)
	good := wire.PaymentSignatureScheme + hex.EncodeToString(service.PaymentSignature(secret, ts, body))
	for _, s := range []struct{ ts, sig string }{
		{ts, good}, {ts, strings.ToUpper(good)}, {" " + ts + " ", " " + good + " "}, {ts, "v2=" + good[3:]}, {ts, good[:len(good)-2]},
		{strconv.FormatInt(now.Unix()-301, 10), good}, {"9223372036854775807", good}, {"-9223372036854775808", good}, {"1e9", good},
		{"", ""}, {ts, "v1="}, {ts, "v1=zz"}, {"+" + ts, good}, {"0x10", good},
	} {
		f.Add(s.ts, s.sig, body)
	}
	f.Fuzz(func(t *testing.T, timestamp, signature string, body []byte) {
		expected := hex.EncodeToString(service.PaymentSignature(secret, timestamp, body))
		err := svc.VerifyPaymentSignature(body, timestamp, signature)
		if err != nil {
			we, ok := wire.AsError(err)
			if !ok || we.Code != wire.CodeUnauthenticated || we.Message == "" || we.MessageEN == "" {
				t.Fatalf("refusal %v (%T), want an unauthenticated *wire.Error with messages", err, err)
			}
			if strings.Contains(we.Message+we.MessageEN, expected) {
				t.Fatalf("refusal reveals the expected signature: %+v", we)
			}
		} else {
			hexSig, ok := strings.CutPrefix(strings.TrimSpace(signature), wire.PaymentSignatureScheme)
			if !ok || !strings.EqualFold(hexSig, expected) {
				t.Fatalf("accepted signature %q for timestamp %q, expected %s", signature, timestamp, expected)
			}
		}
		tsOK := false
		if n, perr := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64); perr == nil {
			d := now.Sub(time.Unix(n, 0))
			tsOK = d <= wire.PaymentClockSkew && d >= -wire.PaymentClockSkew
		}
		if err == nil && !tsOK {
			t.Fatalf("accepted timestamp %q outside the skew", timestamp)
		}
		right := svc.VerifyPaymentSignature(body, timestamp, wire.PaymentSignatureScheme+expected)
		if (right == nil) != tsOK {
			t.Fatalf("the correct signature with timestamp %q: %v (timestamp acceptable: %v)", timestamp, right, tsOK)
		}
		if tsOK && len(body) > 0 {
			tampered := append([]byte(nil), body...)
			tampered[len(tampered)/2] ^= 1
			if svc.VerifyPaymentSignature(tampered, timestamp, wire.PaymentSignatureScheme+expected) == nil {
				t.Fatalf("a changed body kept its signature valid")
			}
		}
	})
}
