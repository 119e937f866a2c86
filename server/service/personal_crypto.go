package service

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// Personal data is sealed with AES-256-GCM. A sealed value is
//
//	format (1 byte, pdFormat) | key id (8 bytes) | nonce (12 bytes) | ciphertext and tag
//
// and its additional data binds the header, the field name and the user
// id, so a value cannot be moved to another user or another field, nor
// relabelled with another key id, without failing to open.
const (
	pdFormat    = 1
	pdKeyIDLen  = 8
	pdHeaderLen = 1 + pdKeyIDLen
	// PDKeyLen is the length of a personal-data key: AES-256.
	PDKeyLen = 32
)

// PDKeyID names a key without revealing it: the first 8 bytes of the
// SHA-256 of a domain label and the key.
func PDKeyID(key []byte) [pdKeyIDLen]byte {
	h := sha256.New()
	h.Write([]byte("expertiza personal-data key id\x00"))
	h.Write(key)
	var id [pdKeyIDLen]byte
	copy(id[:], h.Sum(nil))
	return id
}

// PDKeys is the key ring of personal data: the current key seals, every
// key opens. Keys rotate by putting a new key first and re-encrypting
// (Service.ReencryptPersonalData); docs/personal-data.md has the steps.
type PDKeys struct {
	current [pdKeyIDLen]byte
	aeads   map[[pdKeyIDLen]byte]cipher.AEAD
}

// NewPDKeys builds a key ring; keys[0] is the current key. Every key is
// 32 bytes.
func NewPDKeys(keys ...[]byte) (*PDKeys, error) {
	if len(keys) == 0 {
		return nil, errors.New("personal-data key ring: no key")
	}
	k := &PDKeys{aeads: map[[pdKeyIDLen]byte]cipher.AEAD{}}
	for i, key := range keys {
		if len(key) != PDKeyLen {
			return nil, fmt.Errorf("personal-data key %d: %d bytes, want %d", i+1, len(key), PDKeyLen)
		}
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("personal-data key %d: %w", i+1, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("personal-data key %d: %w", i+1, err)
		}
		id := PDKeyID(key)
		if i == 0 {
			k.current = id
		}
		k.aeads[id] = aead
	}
	return k, nil
}

// CurrentID is the hex id of the key that seals.
func (k *PDKeys) CurrentID() string { return hex.EncodeToString(k.current[:]) }

func pdAdditional(header []byte, userID int64, field string) []byte {
	ad := append([]byte{}, header...)
	ad = append(ad, "|expertiza/pd|"+field+"|"+strconv.FormatInt(userID, 10)...)
	return ad
}

// Seal encrypts one field of one user under the current key with a fresh
// random nonce.
func (k *PDKeys) Seal(userID int64, field string, plaintext []byte) ([]byte, error) {
	aead := k.aeads[k.current]
	out := make([]byte, pdHeaderLen+aead.NonceSize(), pdHeaderLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = pdFormat
	copy(out[1:pdHeaderLen], k.current[:])
	nonce := out[pdHeaderLen:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("personal-data nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, pdAdditional(out[:pdHeaderLen], userID, field)), nil
}

// Open decrypts a sealed field of a user. It fails when the key is not in
// the ring or the value was altered, moved or relabelled.
func (k *PDKeys) Open(userID int64, field string, sealed []byte) ([]byte, error) {
	if len(sealed) < pdHeaderLen || sealed[0] != pdFormat {
		return nil, errors.New("personal data: unknown format")
	}
	var id [pdKeyIDLen]byte
	copy(id[:], sealed[1:pdHeaderLen])
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("personal data: sealed with key %s, which is not in the key ring", hex.EncodeToString(id[:]))
	}
	if len(sealed) < pdHeaderLen+aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("personal data: truncated value")
	}
	nonce := sealed[pdHeaderLen : pdHeaderLen+aead.NonceSize()]
	pt, err := aead.Open(nil, nonce, sealed[pdHeaderLen+aead.NonceSize():], pdAdditional(sealed[:pdHeaderLen], userID, field))
	if err != nil {
		return nil, fmt.Errorf("personal data of user %d (%s) does not open: altered, moved or wrong key: %w", userID, field, err)
	}
	return pt, nil
}

// SealedWithCurrent reports whether a sealed value uses the current key.
func (k *PDKeys) SealedWithCurrent(sealed []byte) bool {
	return len(sealed) >= pdHeaderLen && bytes.Equal(sealed[1:pdHeaderLen], k.current[:])
}
