// Package auth holds the storage-free building blocks of authentication:
// password hashing and policy, TOTP second factor, opaque session tokens and
// per-client rate limiting. The service layer wires them to Postgres.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// ErrMalformedHash reports a stored password hash that cannot be parsed; it
// means corrupted data, never a wrong password.
var ErrMalformedHash = errors.New("auth: malformed password hash")

const (
	saltLen = 16
	// Caps on parameters read back from a stored hash, so that a corrupted or
	// tampered row cannot make one login burn gigabytes or minutes.
	maxMemoryKiB = 1 << 22 // 4 GiB
	maxTime      = 64
	minKeyLen    = 16
	maxKeyLen    = 1024
)

// b64 is the PHC string encoding: standard alphabet, no padding. Strict
// rejects non-zero trailing bits so that one hash has one spelling.
var b64 = base64.RawStdEncoding.Strict()

// Hasher holds argon2id parameters. The zero value is invalid; start from
// DefaultHasher.
type Hasher struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
	KeyLen    uint32 // bytes
	// Gate bounds how many hashes run at once (nil: no bound). Each takes
	// MemoryKiB; a burst of sign-ins without a bound took the heap past
	// 300 MiB and made every other request wait (load test, 1,500 users).
	// Copies of a Hasher share it.
	Gate chan struct{}
}

// enter waits for a place at the gate; the returned func leaves it.
func (h Hasher) enter() func() {
	if h.Gate == nil {
		return func() {}
	}
	h.Gate <- struct{}{}
	return func() { <-h.Gate }
}

// DefaultHasher returns the OWASP-recommended argon2id configuration
// (m=19 MiB, t=2, p=1): about the cost a login endpoint can afford per
// attempt while still being expensive for offline guessing.
func DefaultHasher() Hasher {
	return Hasher{Time: 2, MemoryKiB: 19456, Threads: 1, KeyLen: 32, Gate: make(chan struct{}, runtime.NumCPU())}
}

func (h Hasher) validate() error {
	switch {
	case h.Time < 1 || h.Time > maxTime:
		return fmt.Errorf("auth: argon2 time %d out of range 1..%d", h.Time, maxTime)
	case h.Threads < 1:
		return errors.New("auth: argon2 threads must be at least 1")
	case h.MemoryKiB < 8*uint32(h.Threads) || h.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("auth: argon2 memory %d KiB out of range %d..%d", h.MemoryKiB, 8*uint32(h.Threads), maxMemoryKiB)
	case h.KeyLen < minKeyLen || h.KeyLen > maxKeyLen:
		return fmt.Errorf("auth: argon2 key length %d out of range %d..%d", h.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Hash returns password hashed with a fresh random salt, as a PHC string
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash) that carries its own parameters, so
// they can be raised later without invalidating stored hashes.
func (h Hasher) Hash(password string) (string, error) {
	if err := h.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: read salt: %w", err)
	}
	leave := h.enter()
	key := argon2.IDKey([]byte(password), salt, h.Time, h.MemoryKiB, h.Threads, h.KeyLen)
	leave()
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, h.MemoryKiB, h.Time, h.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded, using the parameters
// stored in encoded. needsRehash is true when the password matched but the
// stored parameters differ from h: the caller should store h.Hash(password)
// while it has the plaintext at hand.
func (h Hasher) Verify(encoded, password string) (ok, needsRehash bool, err error) {
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false, false, err
	}
	leave := h.enter()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen)
	leave()
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	same := p.Time == h.Time && p.MemoryKiB == h.MemoryKiB && p.Threads == h.Threads && p.KeyLen == h.KeyLen
	return true, !same || len(salt) != saltLen, nil
}

// DummyVerify spends the time of a Verify against a hash made by h and
// discards the result. Call it when the login names no user, so that the
// response time does not reveal which logins exist.
func (h Hasher) DummyVerify(password string) {
	if h.validate() != nil {
		return
	}
	var salt [saltLen]byte
	leave := h.enter()
	got := argon2.IDKey([]byte(password), salt[:], h.Time, h.MemoryKiB, h.Threads, h.KeyLen)
	leave()
	subtle.ConstantTimeCompare(got, make([]byte, len(got)))
}

func parseHash(encoded string) (p Hasher, salt, key []byte, err error) {
	fail := func(why string) (Hasher, []byte, []byte, error) {
		return Hasher{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return fail("want 5 '$'-separated fields")
	}
	if parts[1] != "argon2id" {
		return fail("algorithm is not argon2id")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return fail("unsupported version")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return fail("want parameters m,t,p")
	}
	var m, t, threads uint64
	for i, f := range []struct {
		name string
		bits int
		dst  *uint64
	}{{"m", 32, &m}, {"t", 32, &t}, {"p", 8, &threads}} {
		v, ok := strings.CutPrefix(params[i], f.name+"=")
		if !ok {
			return fail("want parameters m,t,p")
		}
		if *f.dst, err = strconv.ParseUint(v, 10, f.bits); err != nil {
			return fail("bad parameter " + f.name)
		}
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return fail("bad salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return fail("bad hash")
	}
	p = Hasher{Time: uint32(t), MemoryKiB: uint32(m), Threads: uint8(threads), KeyLen: uint32(len(key))}
	if verr := p.validate(); verr != nil {
		return fail(verr.Error())
	}
	return p, salt, key, nil
}
