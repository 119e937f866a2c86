package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/expertiza/expertiza/app/pdfrender"
	"github.com/expertiza/expertiza/app/pdfrender/pdfium"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// fileStamp identifies a cached file's bytes cheaply: a copy hashed once
// in this run is not hashed again while its size and time are unchanged
// (hashing a 300 MB volume costs most of a second on every open).
type fileStamp struct {
	size int64
	mod  time.Time
}

func stampOf(fi os.FileInfo) fileStamp { return fileStamp{size: fi.Size(), mod: fi.ModTime()} }

// LocalCopy is the path of a verified copy of v's content in the local
// file cache (the one Download uses), fetched first when the cache lacks
// it or holds a damaged copy. The content streams to disk and is hashed
// on the way; it is never held in memory whole. The path stays valid
// while the cache is open; callers must not modify the file.
func (w *Workspace) LocalCopy(ctx context.Context, v wire.DocumentVersion) (string, error) {
	dir := w.filesDir()
	if dir == "" {
		return "", wire.E(wire.CodeInvalid, "file",
			"Локальное хранилище файлов не открыто: войдите в систему заново.",
			"The local file store is not open: sign in again.")
	}
	if v.SHA256 != "" && !validSum(v.SHA256) {
		return "", wire.E(wire.CodeInvalid, "file",
			"У версии неверная контрольная сумма; обновите карточку.",
			"The version has a malformed checksum; reopen the card.")
	}
	if p := w.cachedFile(v.SHA256); p != "" {
		err := w.verifyCached(p, v.SHA256)
		if err == nil {
			return p, nil
		}
		w.log.Warn("damaged file in the cache, fetching again", "version", v.ID, "err", err)
		_ = os.Remove(p)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("file cache %s: %w", dir, err)
	}
	c, err := w.sess.client()
	if err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".view-*")
	if err != nil {
		return "", fmt.Errorf("file cache %s: %w", dir, err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing left to remove
	sum, err := c.Download(ctx, v.ID, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, client.ErrDigest) {
			return "", wire.E(wire.CodeInvalid, "file",
				"Полученный файл не совпадает с контрольной суммой на сервере; он не открыт. Повторите попытку.",
				"The received file does not match the server's checksum; it was not opened. Try again.")
		}
		return "", fmt.Errorf("download %s: %w", v.FileName, err)
	}
	if v.SHA256 != "" && sum != v.SHA256 {
		return "", wire.E(wire.CodeInvalid, "file",
			"Содержимое версии на сервере отличается от известного клиенту; обновите карточку.",
			"The version's content on the server differs from what this client knows; reopen the card.")
	}
	dst := filepath.Join(dir, sum)
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", fmt.Errorf("file cache %s: %w", dst, err)
	}
	if fi, err := os.Stat(dst); err == nil {
		w.verified.Store(dst, stampOf(fi))
	}
	return dst, nil
}

// verifyCached checks that the cached file at p hashes to sum, once per
// run while the file is unchanged.
func (w *Workspace) verifyCached(p, sum string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if s, ok := w.verified.Load(p); ok && s.(fileStamp) == stampOf(fi) {
		return nil
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("hash %s: %w", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%w: %s hashes to %s", client.ErrDigest, p, got)
	}
	w.verified.Store(p, stampOf(fi))
	return nil
}

func validSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// Renderers is the one PDF renderer of an app run, started on first use
// (a start loads PDFium's compiled code from the cache under the app's
// data folder: ~0.1 s; the very first start compiles it, ~4 s) and closed
// at exit. Two PDFium instances render in parallel; every open viewer
// shares them and their tile cache.
type Renderers struct {
	log  *slog.Logger
	make func(context.Context) (pdfrender.Renderer, error)

	mu     sync.Mutex
	r      pdfrender.Renderer
	closed bool
}

// NewRenderers prepares the renderer for an app whose data folder is
// dataDir ("" keeps nothing on disk: PDFium is compiled at each start and
// thumbnails are not kept).
func NewRenderers(log *slog.Logger, dataDir string) *Renderers {
	opt := pdfium.Options{Logger: log, Instances: 2}
	if dataDir != "" {
		opt.CacheDir = filepath.Join(dataDir, "pdfium-wazero")
		opt.ThumbDir = filepath.Join(dataDir, "thumbnails")
	}
	return NewRenderersWith(log, func(ctx context.Context) (pdfrender.Renderer, error) {
		return pdfium.New(ctx, opt)
	})
}

// NewRenderersWith starts renderers with start, for tests that share one
// renderer between many viewers.
func NewRenderersWith(log *slog.Logger, start func(context.Context) (pdfrender.Renderer, error)) *Renderers {
	return &Renderers{log: log, make: start}
}

// Get is the renderer, started on the first call. A failed start is
// tried again on the next call.
func (p *Renderers) Get(ctx context.Context) (pdfrender.Renderer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, pdfrender.ErrClosed
	}
	if p.r != nil {
		return p.r, nil
	}
	start := time.Now()
	r, err := p.make(ctx)
	if err != nil {
		return nil, fmt.Errorf("start the PDF renderer: %w", err)
	}
	p.log.Info("PDF renderer started", "took", time.Since(start))
	p.r = r
	return r, nil
}

// Close stops the renderer if it was started.
func (p *Renderers) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.r == nil {
		return nil
	}
	err := p.r.Close()
	p.r = nil
	return err
}
