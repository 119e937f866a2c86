package service_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/server/service"
)

func key(b byte) []byte { return bytes.Repeat([]byte{b}, service.PDKeyLen) }

// TestPDKeys: a sealed value opens only for its user, its field and a ring
// holding its key, and any altered byte makes it fail.
func TestPDKeys(t *testing.T) {
	ring, err := service.NewPDKeys(key(1), key(2))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("11223344595")
	sealed, err := ring.Seal(7, "snils", plain)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := ring.Seal(7, "snils", plain)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of one value are equal: the nonce is not random")
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("the plaintext is in the sealed value")
	}
	if !ring.SealedWithCurrent(sealed) {
		t.Fatal("sealed with another key than the current one")
	}
	flip := func(i int) []byte { b := bytes.Clone(sealed); b[i] ^= 1; return b }
	oldOnly, _ := service.NewPDKeys(key(2))
	tests := []struct {
		name   string
		ring   *service.PDKeys
		user   int64
		field  string
		sealed []byte
		errHas string // "" opens
	}{
		{"as sealed", ring, 7, "snils", sealed, ""},
		{"current key in a rotated ring", mustRing(t, key(3), key(1)), 7, "snils", sealed, ""},
		{"another user", ring, 8, "snils", sealed, "does not open"},
		{"another field", ring, 7, "passport", sealed, "does not open"},
		{"key not in the ring", oldOnly, 7, "snils", sealed, "not in the key ring"},
		{"format byte", ring, 7, "snils", flip(0), "unknown format"},
		{"key id relabelled", ring, 7, "snils", flip(1), "not in the key ring"},
		{"nonce", ring, 7, "snils", flip(12), "does not open"},
		{"ciphertext", ring, 7, "snils", flip(len(sealed) - 20), "does not open"},
		{"tag", ring, 7, "snils", flip(len(sealed) - 1), "does not open"},
		{"truncated", ring, 7, "snils", sealed[:20], "truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Open(tt.user, tt.field, tt.sealed)
			switch {
			case tt.errHas == "" && (err != nil || !bytes.Equal(got, plain)):
				t.Fatalf("open: %q %v", got, err)
			case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
				t.Fatalf("open: %q %v, want an error with %q", got, err, tt.errHas)
			}
		})
	}
	if _, err := service.NewPDKeys(key(1)[:16]); err == nil {
		t.Fatal("a 16-byte key was accepted")
	}
}

func mustRing(t *testing.T, keys ...[]byte) *service.PDKeys {
	t.Helper()
	r, err := service.NewPDKeys(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func BenchmarkPDKeysSealOpen(b *testing.B) {
	ring, err := service.NewPDKeys(key(1))
	if err != nil {
		b.Fatal(err)
	}
	plain := []byte("11223344595")
	for b.Loop() {
		s, err := ring.Seal(7, "snils", plain)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ring.Open(7, "snils", s); err != nil {
			b.Fatal(err)
		}
	}
}
