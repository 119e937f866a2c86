package pdfrender

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// ThumbStore keeps page thumbnails as PNG files in a folder, named by the
// document's SHA-256, the page and the size, so the same file opened from
// another path (or after a restart) finds its thumbnails again.
type ThumbStore struct {
	dir string
}

// NewThumbStore keeps thumbnails in dir (created when missing).
func NewThumbStore(dir string) (*ThumbStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("thumbnail folder: %w", err)
	}
	return &ThumbStore{dir: dir}, nil
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// path is <dir>/<first two hex digits>/<sha>-p<page>-s<size>.png; the
// two-digit folders keep any one folder small with thousands of documents.
func (s *ThumbStore) path(sha string, page, size int) (string, error) {
	if !hexSHA256.MatchString(sha) {
		return "", fmt.Errorf("thumbnail key %q is not a lower-case hex SHA-256", sha)
	}
	return filepath.Join(s.dir, sha[:2], fmt.Sprintf("%s-p%d-s%d.png", sha, page, size)), nil
}

// Get loads a stored thumbnail; ok is false when there is none (or it is
// unreadable, in which case it will simply be rendered again).
func (s *ThumbStore) Get(sha string, page, size int) (img *image.RGBA, ok bool, err error) {
	p, err := s.path(sha, page, size)
	if err != nil {
		return nil, false, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("thumbnail: %w", err)
	}
	defer f.Close()
	src, err := png.Decode(f)
	if err != nil {
		return nil, false, nil
	}
	if rgba, ok := src.(*image.RGBA); ok {
		return rgba, true, nil
	}
	// PNG without alpha decodes as NRGBA/RGB variants: every page is opaque,
	// so converting is exact.
	rgba := image.NewRGBA(src.Bounds())
	draw.Draw(rgba, rgba.Bounds(), src, src.Bounds().Min, draw.Src)
	return rgba, true, nil
}

// Put stores img, writing a temporary file and renaming it so a reader
// never sees half a PNG.
func (s *ThumbStore) Put(sha string, page, size int, img image.Image) error {
	p, err := s.path(sha, page, size)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".thumb-*")
	if err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	defer os.Remove(tmp.Name())
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(tmp, img); err != nil {
		tmp.Close()
		return fmt.Errorf("thumbnail png: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	return nil
}

// FileSHA256 hashes a file by streaming it.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
