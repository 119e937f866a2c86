package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// uploadParallel is how many chunks are in flight at once: enough to fill
// a long fat link, few enough not to starve the event stream.
const uploadParallel = 4

// UploadRequest is a file the user chose to add to an application.
type UploadRequest struct {
	AppID   int64
	Section string // classifier code, or wire.SectionSupporting
	Name    string // the logical document; a new version when it exists
	Path    string // the file on this computer
}

// Upload sends a file to an application in resumable chunks. progress
// (may be nil) is told the bytes the server has acknowledged. Cancelling
// ctx stops the transfer and tells the server to drop what it received
// (the server also drops abandoned uploads after a day). The new version
// reaches the Store by its event once the server has checked the file.
func (w *Workspace) Upload(ctx context.Context, r UploadRequest, progress func(done, total int64)) (wire.Upload, error) {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		r.Name = strings.TrimSuffix(filepath.Base(r.Path), filepath.Ext(r.Path))
	}
	if r.Section == "" {
		return wire.Upload{}, wire.E(wire.CodeInvalid, "section", "Выберите раздел документации", "Choose a documentation section")
	}
	st, err := os.Stat(r.Path)
	switch {
	case err != nil:
		return wire.Upload{}, wire.E(wire.CodeInvalid, "file", "Файл не найден или недоступен: "+r.Path, "The file cannot be read: "+r.Path)
	case st.IsDir():
		return wire.Upload{}, wire.E(wire.CodeInvalid, "file", "Выберите файл, а не папку", "Choose a file, not a folder")
	case st.Size() == 0:
		return wire.Upload{}, wire.E(wire.CodeInvalid, "file", "Файл пуст", "The file is empty")
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Upload{}, err
	}
	up, err := c.StartUpload(ctx, r.AppID, r.Section, r.Name, r.Path)
	if err != nil {
		return wire.Upload{}, fmt.Errorf("start upload of %s: %w", filepath.Base(r.Path), err)
	}
	done, err := c.SendChunks(ctx, up, r.Path, uploadParallel, progress)
	if err != nil {
		if ctx.Err() != nil {
			// The user cancelled: the server need not keep the chunks.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if cerr := c.Call(cctx, http.MethodDelete, "/uploads/"+up.ID, nil, nil, ""); cerr != nil {
				w.log.Info("upload not cancelled on the server", "upload", up.ID, "err", cerr)
			}
		}
		return done, fmt.Errorf("upload %s: %w", filepath.Base(r.Path), err)
	}
	return done, nil
}

// filesDir is where downloaded contents are kept, named by SHA-256.
func (w *Workspace) filesDir() string {
	w.omu.Lock()
	defer w.omu.Unlock()
	return w.files
}

// Download saves a version's content to dst. A copy in the local file
// cache is used when its bytes still hash to the version's SHA-256;
// otherwise the content is fetched and verified before dst appears (dst
// is written next to itself and renamed, so a failed or tampered download
// never leaves a file under the chosen name).
func (w *Workspace) Download(ctx context.Context, v wire.DocumentVersion, dst string) error {
	c, err := w.sess.client()
	if err != nil && w.cachedFile(v.SHA256) == "" {
		return err
	}
	return w.saveVerified(ctx, v.SHA256, v.FileName, dst, func(out io.Writer) (string, error) {
		return c.Download(ctx, v.ID, out)
	})
}

// DownloadNoticeLetter saves the PDF letter of a notice to dst, verified
// like Download; a letter still being rendered is refused with the
// server's conflict («письмо готовится»).
func (w *Workspace) DownloadNoticeLetter(ctx context.Context, n wire.Notice, dst string) error {
	c, err := w.sess.client()
	if err != nil && w.cachedFile(n.LetterSHA256) == "" {
		return err
	}
	return w.saveVerified(ctx, n.LetterSHA256, fmt.Sprintf("notice-%d.pdf", n.Number), dst, func(out io.Writer) (string, error) {
		return c.NoticeLetter(ctx, n.ID, out)
	})
}

// saveVerified writes content known by its SHA-256 (want; "" when the
// client does not know it yet) to dst: from the local content cache when
// a copy there still hashes right, else through fetch, which streams the
// content and returns the digest the server named after checking it.
// The bytes land under dst only once verified, and go to the cache.
func (w *Workspace) saveVerified(ctx context.Context, want, name, dst string, fetch func(io.Writer) (string, error)) error {
	if cached := w.cachedFile(want); cached != "" {
		if err := copyVerified(cached, dst, want); err == nil {
			return nil
		}
		_ = os.Remove(cached) // damaged: fetch again
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
	if err != nil {
		return fmt.Errorf("save to %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name())
	sum, err := fetch(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, client.ErrDigest) {
			return wire.E(wire.CodeInvalid, "file",
				"Полученный файл не совпадает с контрольной суммой на сервере; он не сохранён. Повторите загрузку.",
				"The received file does not match the server's checksum; it was not saved. Download it again.")
		}
		return fmt.Errorf("download %s: %w", name, err)
	}
	if want != "" && sum != want {
		return wire.E(wire.CodeInvalid, "file",
			"Содержимое файла на сервере отличается от известного клиенту; обновите карточку.",
			"The file's content on the server differs from what this client knows; reopen the card.")
	}
	if dir := w.filesDir(); dir != "" {
		if err := copyVerified(tmp.Name(), filepath.Join(dir, sum), sum); err != nil {
			w.log.Warn("file cache not written", "err", err)
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("save to %s: %w", dst, err)
	}
	return nil
}

// cachedFile is the cached content with this SHA-256, or "".
func (w *Workspace) cachedFile(sum string) string {
	dir := w.filesDir()
	if dir == "" || len(sum) != 64 || strings.ContainsAny(sum, `/\.`) {
		return ""
	}
	p := filepath.Join(dir, sum)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// copyVerified copies src to dst through a temporary file, and only if
// the bytes hash to sum.
func copyVerified(src, dst, sum string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%w: %s", client.ErrDigest, src)
	}
	return os.Rename(tmp.Name(), dst)
}
