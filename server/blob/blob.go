// Package blob keeps file contents addressed by their SHA-256 (DESIGN.md §4):
// a folder on disk by default (FS), S3-compatible object storage for
// deployments with several server replicas (S3). Both backends satisfy one
// Store interface and one conformance suite.
//
// A digest is the lowercase hex SHA-256 of the content, 64 characters; every
// method validates it before it touches a path or an object key, so a digest
// taken from a request cannot name anything outside the store.
//
// Deletion is the caller's garbage collection: the store keeps no reference
// counts, so the caller must not delete a digest that a concurrent Put may be
// re-adding (a Put that finds the blob present returns at once without
// writing it again).
package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/expertiza/expertiza/sync/wire"
)

// Store keeps file contents addressed by their SHA-256 (lowercase hex).
// Implementations are safe for concurrent use.
type Store interface {
	// Put stores r's bytes and returns their digest and size. When want is
	// not empty the computed digest must equal it, or Put returns
	// ErrDigestMismatch and stores nothing. Writes are atomic (a blob under
	// its final name is always whole) and deduplicated (the same content is
	// stored once; concurrent Puts of it are safe).
	Put(ctx context.Context, r io.Reader, want string) (digest string, size int64, err error)
	// Open returns a reader of the blob and its size. The reader seeks and
	// reads at offsets, so http.ServeContent can answer Range requests.
	// The S3 backend issues its requests under ctx, so keep ctx alive while
	// reading.
	Open(ctx context.Context, digest string) (ReadSeekCloser, int64, error)
	// Stat returns the blob's size, or ErrNotFound.
	Stat(ctx context.Context, digest string) (size int64, err error)
	// Delete removes the blob; deleting an absent blob is not an error, so a
	// garbage collector can retry.
	Delete(ctx context.Context, digest string) error
	// Walk calls fn for every stored blob, stopping at fn's first error,
	// which it returns. Blobs added or deleted during the walk may or may
	// not be seen.
	Walk(ctx context.Context, fn func(digest string, size int64) error) error
}

// ReadSeekCloser reads a blob sequentially or at offsets. *os.File and
// minio's *Object both are one.
type ReadSeekCloser interface {
	io.ReadSeekCloser
	io.ReaderAt
}

// The errors callers branch on (with errors.Is). They are protocol errors,
// so whatever wraps them reaches the user with a code and a message that
// says what happened.
var (
	ErrNotFound = wire.E(wire.CodeNotFound, "",
		"Файл не найден в хранилище.",
		"The file is not in the storage.")
	ErrDigestMismatch = wire.E(wire.CodeInvalid, "sha256",
		"Контрольная сумма файла не совпадает с переданной: файл повреждён при передаче, загрузите его ещё раз.",
		"The file's SHA-256 does not match the one sent: it was damaged in transit, upload it again.")
	ErrInvalidDigest = wire.E(wire.CodeInvalid, "sha256",
		"Контрольная сумма должна состоять из 64 строчных шестнадцатеричных символов (SHA-256).",
		"The checksum must be 64 lowercase hexadecimal characters (SHA-256).")
	ErrCorrupt = wire.E(wire.CodeInternal, "",
		"Файл в хранилище повреждён; сообщите администратору.",
		"The file in the storage is damaged; tell the administrator.")
)

// ValidateDigest returns ErrInvalidDigest (wrapped) unless d is 64 lowercase
// hex characters. Uppercase is refused rather than folded, so one content
// has exactly one name.
func ValidateDigest(d string) error {
	if len(d) != sha256.Size*2 || !isLowerHex(d) {
		return fmt.Errorf("digest %.80q: %w", d, ErrInvalidDigest)
	}
	return nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// checkWant validates the digest a caller expects, if any.
func checkWant(want string) error {
	if want == "" {
		return nil
	}
	return ValidateDigest(want)
}

// mismatch builds the error for content that did not hash to want.
func mismatch(got, want string) error {
	return fmt.Errorf("content hashes to %s, want %s: %w", got, want, ErrDigestMismatch)
}

// Verify re-hashes one blob and returns ErrCorrupt, wrapped with the digest,
// when its content no longer matches; other errors (ErrNotFound, I/O) are
// returned as they come.
func Verify(ctx context.Context, s Store, digest string) error {
	if err := ValidateDigest(digest); err != nil {
		return err
	}
	r, _, err := s.Open(ctx, digest)
	if err != nil {
		return fmt.Errorf("verify blob %s: %w", digest, err)
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, contextReader{ctx, r}); err != nil {
		return fmt.Errorf("verify blob %s: %w", digest, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != digest {
		return fmt.Errorf("blob %s: content hashes to %s: %w", digest, got, ErrCorrupt)
	}
	return nil
}

// Scrub verifies every blob of s, calling report for each corrupt or
// unreadable one. It returns how many blobs it checked and how many of them
// were bad; err is a failure to list the store or the end of ctx. A blob
// deleted between listing and reading is neither checked nor bad.
func Scrub(ctx context.Context, s Store, report func(digest string, err error)) (checked, bad int, err error) {
	err = s.Walk(ctx, func(digest string, _ int64) error {
		verr := Verify(ctx, s, digest)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(verr, ErrNotFound):
			return nil
		}
		checked++
		if verr != nil {
			bad++
			report(digest, verr)
		}
		return nil
	})
	if err != nil {
		return checked, bad, fmt.Errorf("scrub: %w", err)
	}
	return checked, bad, nil
}

// NewVerifyingReader passes r through and, when r ends, returns an error
// wrapping ErrCorrupt instead of io.EOF if the bytes read do not hash to
// digest. It is for readers of a whole blob (a download, a copy between
// stores): a reader that stops early learns nothing.
func NewVerifyingReader(r io.Reader, digest string) io.Reader {
	return &verifyingReader{r: r, h: sha256.New(), want: digest}
}

type verifyingReader struct {
	r    io.Reader
	h    hash.Hash
	want string
	end  error // io.EOF or the corruption error, returned from then on
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.end != nil {
		return 0, v.end
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		v.end = io.EOF
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want {
			v.end = fmt.Errorf("blob %s: content read hashes to %s: %w", v.want, got, ErrCorrupt)
		}
		return n, v.end
	}
	return n, err
}

// contextReader stops a long copy when ctx ends: io.Copy itself never looks
// at a context.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
