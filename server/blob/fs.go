package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// staleTemp is the age past which a temporary upload is a crash's leftover:
// a Put writes its temporary file continuously, so one untouched for an
// hour has no writer any more.
const staleTemp = time.Hour

// FS stores blobs as files under one folder: dir/ab/cd/<digest>, fanned out by
// the digest's first two bytes so no folder grows past a few thousand
// entries. Uploads are written to dir/tmp, on the same file system, so that
// a rename publishes them atomically.
type FS struct {
	dir string
	tmp string
}

var _ Store = (*FS)(nil)

// NewFS opens (creating it if needed) the store in dir and removes temporary
// files that a crashed process left in dir/tmp more than an hour ago.
func NewFS(dir string) (*FS, error) {
	f := &FS{dir: dir, tmp: filepath.Join(dir, "tmp")}
	if err := os.MkdirAll(f.tmp, 0o750); err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	if err := f.sweep(time.Now().Add(-staleTemp)); err != nil {
		return nil, fmt.Errorf("blob store %s: %w", dir, err)
	}
	return f, nil
}

// sweep removes temporary files last written before cutoff. Younger ones may
// belong to another process sharing the folder, mid-upload.
func (f *FS) sweep(cutoff time.Time) error {
	entries, err := os.ReadDir(f.tmp)
	if err != nil {
		return fmt.Errorf("clean temporary files: %w", err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("clean temporary files: %w", err)
		}
		if info.ModTime().Before(cutoff) {
			if err := os.RemoveAll(filepath.Join(f.tmp, e.Name())); err != nil {
				return fmt.Errorf("clean temporary files: %w", err)
			}
		}
	}
	return nil
}

// path is where a validated digest lives.
func (f *FS) path(digest string) string {
	return filepath.Join(f.dir, digest[:2], digest[2:4], digest)
}

// Put writes r to a temporary file while hashing it, syncs it, and renames it
// into place; when the blob is there already the temporary file is dropped.
func (f *FS) Put(ctx context.Context, r io.Reader, want string) (_ string, _ int64, err error) {
	defer wrap(&err, "put blob")
	if err := checkWant(want); err != nil {
		return "", 0, err
	}
	tmp, err := os.CreateTemp(f.tmp, "put-*")
	if err != nil {
		return "", 0, err
	}
	published := false
	defer func() {
		if !published {
			// After a failure or a dedup hit the temporary file is garbage;
			// if removing it fails, the next NewFS sweeps it.
			_ = os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), contextReader{ctx, r})
	if err == nil {
		// The data must be on disk before the rename makes it visible, or a
		// power cut could leave a final name over a hole.
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	digest := hex.EncodeToString(h.Sum(nil))
	if want != "" && digest != want {
		return "", 0, mismatch(digest, want)
	}
	final := f.path(digest)
	// A blob of another size under this name can only be damaged: replace it.
	if info, err := os.Stat(final); err == nil && info.Size() == size {
		return digest, size, nil
	}
	dir := filepath.Dir(final)
	if err := mkdirSynced(f.dir, dir); err != nil {
		return "", 0, err
	}
	// Two Puts of the same content may both get here; each rename replaces a
	// complete file with an identical one, which readers cannot tell apart.
	if err := os.Rename(tmp.Name(), final); err != nil {
		return "", 0, err
	}
	published = true
	if err := syncDir(dir); err != nil {
		return "", 0, err
	}
	return digest, size, nil
}

// mkdirSynced creates dir and any missing parents below root, syncing the
// parent of each folder it creates so the new entry survives a crash.
func mkdirSynced(root, dir string) error {
	if dir == root {
		return nil
	}
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	parent := filepath.Dir(dir)
	if err := mkdirSynced(root, parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o750); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil // a concurrent Put made it
		}
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open returns the blob's file.
func (f *FS) Open(ctx context.Context, digest string) (_ ReadSeekCloser, _ int64, err error) {
	defer wrap(&err, "open blob")
	if err := ValidateDigest(digest); err != nil {
		return nil, 0, err
	}
	file, err := os.Open(f.path(digest))
	if err != nil {
		return nil, 0, notFound(err, digest)
	}
	info, err := file.Stat()
	if err != nil {
		file.Close()
		return nil, 0, err
	}
	return file, info.Size(), nil
}

// Stat returns the blob's size.
func (f *FS) Stat(ctx context.Context, digest string) (_ int64, err error) {
	defer wrap(&err, "stat blob")
	if err := ValidateDigest(digest); err != nil {
		return 0, err
	}
	info, err := os.Stat(f.path(digest))
	if err != nil {
		return 0, notFound(err, digest)
	}
	return info.Size(), nil
}

// Delete removes the blob's file; the fan-out folders stay for the next one.
func (f *FS) Delete(ctx context.Context, digest string) (err error) {
	defer wrap(&err, "delete blob")
	if err := ValidateDigest(digest); err != nil {
		return err
	}
	if err := os.Remove(f.path(digest)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Walk reads the fan-out folders in order; names that do not fit the layout
// (dir/tmp, stray files) are passed over.
func (f *FS) Walk(ctx context.Context, fn func(digest string, size int64) error) (err error) {
	defer wrap(&err, "walk blobs")
	tops, err := readDirNames(f.dir)
	if err != nil {
		return err
	}
	for _, ab := range tops {
		if !isHexPair(ab) {
			continue
		}
		mids, err := readDirNames(filepath.Join(f.dir, ab))
		if err != nil {
			return err
		}
		for _, cd := range mids {
			if !isHexPair(cd) {
				continue
			}
			leaf := filepath.Join(f.dir, ab, cd)
			entries, err := os.ReadDir(leaf)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			for _, e := range entries {
				name := e.Name()
				if ValidateDigest(name) != nil || name[:2] != ab || name[2:4] != cd || !e.Type().IsRegular() {
					continue
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				info, err := e.Info()
				if errors.Is(err, fs.ErrNotExist) {
					continue // deleted since the listing
				}
				if err != nil {
					return err
				}
				if err := fn(name, info.Size()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// readDirNames lists the folders in dir; a folder deleted meanwhile is empty.
func readDirNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func isHexPair(s string) bool {
	return len(s) == 2 && isLowerHex(s)
}

// notFound maps a missing file to ErrNotFound.
func notFound(err error, digest string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blob %s: %w", digest, ErrNotFound)
	}
	return err
}

// wrap prefixes a returned error with the operation, in the manner of
// pkgsite's derrors.Wrap.
func wrap(errp *error, op string) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", op, *errp)
	}
}
