package auth

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		token, hash, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
		if err != nil || len(raw) != 32 || len(token) != 43 {
			t.Fatalf("token %q: %d bytes, err %v; want 43 URL-safe characters of 32 bytes", token, len(raw), err)
		}
		if want := sha256.Sum256([]byte(token)); !bytes.Equal(hash, want[:]) || !bytes.Equal(HashToken(token), hash) {
			t.Fatalf("hash of %q does not match HashToken", token)
		}
		if seen[token] {
			t.Fatalf("token %q repeated", token)
		}
		seen[token] = true
	}
}

func TestHashToken(t *testing.T) {
	tests := []struct{ token, hexHash string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(HashToken(tt.token)); got != tt.hexHash {
			t.Errorf("HashToken(%q) = %s, want %s", tt.token, got, tt.hexHash)
		}
	}
}
