package auth

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cheap keeps tests fast; the format and logic do not depend on the cost.
var cheap = Hasher{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32}

func TestHashVerify(t *testing.T) {
	enc, err := cheap.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(enc) {
		t.Fatalf("unexpected encoding %q", enc)
	}
	tests := []struct {
		name               string
		hasher             Hasher
		password           string
		wantOK, wantRehash bool
	}{
		{"match", cheap, "correct horse battery staple", true, false},
		{"wrong password", cheap, "correct horse battery stapler", false, false},
		{"empty password", cheap, "", false, false},
		{"stronger memory wanted", Hasher{Time: 1, MemoryKiB: 128, Threads: 1, KeyLen: 32}, "correct horse battery staple", true, true},
		{"more passes wanted", Hasher{Time: 2, MemoryKiB: 64, Threads: 1, KeyLen: 32}, "correct horse battery staple", true, true},
		{"longer key wanted", Hasher{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 64}, "correct horse battery staple", true, true},
		{"no rehash on mismatch", Hasher{Time: 2, MemoryKiB: 64, Threads: 1, KeyLen: 32}, "wrong", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := tt.hasher.Verify(enc, tt.password)
			if err != nil || ok != tt.wantOK || rehash != tt.wantRehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, nil", ok, rehash, err, tt.wantOK, tt.wantRehash)
			}
		})
	}
}

func TestHashSaltsDiffer(t *testing.T) {
	a, err := cheap.Hash("same")
	if err != nil {
		t.Fatal(err)
	}
	b, err := cheap.Hash("same")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

// Hashes produced by the reference argon2 CLI (phc-winner-argon2, Debian
// package argon2) prove interoperability with other implementations:
//
//	echo -n "correct horse battery staple" | argon2 somesaltsomesalt -id -t 2 -m 10 -p 1 -l 32 -e
//	echo -n "пароль" | argon2 0123456789abcdef -id -t 1 -m 6 -p 2 -l 16 -e
func TestVerifyReferenceVectors(t *testing.T) {
	tests := []struct {
		encoded, password string
		wantRehash        bool
	}{
		{"$argon2id$v=19$m=1024,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Jl9aMRiFdmA52uqiivDqYVot6fVz3erNUlWPoxyg46A", "correct horse battery staple", true},
		{"$argon2id$v=19$m=64,t=1,p=2$MDEyMzQ1Njc4OWFiY2RlZg$Va/oRo9gvNCnwxlc6CG8vw", "пароль", true},
	}
	for _, tt := range tests {
		ok, rehash, err := cheap.Verify(tt.encoded, tt.password)
		if err != nil || !ok || rehash != tt.wantRehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want true, %v, nil", tt.encoded, ok, rehash, err, tt.wantRehash)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt, key = "c29tZXNhbHRzb21lc2FsdA", "Jl9aMRiFdmA52uqiivDqYVot6fVz3erNUlWPoxyg46A"
	tests := []struct{ name, encoded string }{
		{"empty", ""},
		{"plain text", "password"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"extra field", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + key + "$x"},
		{"params reordered", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"param not a number", "$argon2id$v=19$m=lots,t=1,p=1$" + salt + "$" + key},
		{"negative param", "$argon2id$v=19$m=64,t=-1,p=1$" + salt + "$" + key},
		{"zero passes", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads overflow", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key},
		{"absurd memory", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"bad base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$!!!"},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key},
		{"short key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAAAAAA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, _, err := cheap.Verify(tt.encoded, "password")
			if ok || !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("Verify = %v, %v; want false, ErrMalformedHash", ok, err)
			}
		})
	}
}

func TestHashRejectsInvalidHasher(t *testing.T) {
	for _, h := range []Hasher{{}, {Time: 1, MemoryKiB: 64, Threads: 0, KeyLen: 32}, {Time: 1, MemoryKiB: 4, Threads: 1, KeyLen: 32}, {Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 4}} {
		if _, err := h.Hash("x"); err == nil {
			t.Errorf("Hash with %+v succeeded", h)
		}
	}
}

func TestDefaultHasher(t *testing.T) {
	h := DefaultHasher()
	enc, err := h.Hash("Пароль из нескольких слов 🔑")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected parameters in %q", enc)
	}
	_, salt, key, err := parseHash(enc)
	if err != nil || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("salt %d bytes, key %d bytes, err %v; want 16, 32, nil", len(salt), len(key), err)
	}
	if ok, rehash, err := h.Verify(enc, "Пароль из нескольких слов 🔑"); !ok || rehash || err != nil {
		t.Fatalf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestGateBoundsConcurrentHashes(t *testing.T) {
	h := Hasher{Time: 1, MemoryKiB: 1024, Threads: 1, KeyLen: 32, Gate: make(chan struct{}, 2)}
	enc, err := h.Hash("пароль для проверки")
	if err != nil {
		t.Fatal(err)
	}
	// With the gate full, a verification waits until a place is free.
	h.Gate <- struct{}{}
	h.Gate <- struct{}{}
	done := make(chan bool)
	go func() {
		ok, _, _ := h.Verify(enc, "пароль для проверки")
		done <- ok
	}()
	select {
	case <-done:
		t.Fatal("a hash ran past a full gate")
	case <-time.After(50 * time.Millisecond):
	}
	<-h.Gate
	if ok := <-done; !ok {
		t.Error("the verification failed once let through")
	}
	if len(h.Gate) != 1 {
		t.Errorf("%d places taken after the hash left, want 1 (the test's)", len(h.Gate))
	}
}
