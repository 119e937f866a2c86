package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/expertiza/expertiza/pdfannot"
	"github.com/expertiza/expertiza/sync/wire"
)

// ExportAnnotated saves document version v to dst as a PDF carrying the
// experts' annotations of that version as standard PDF annotations (see
// pdfannot): Acrobat, Okular and browsers show them without Expertiza.
// opt chooses flattening, the «КОПИЯ» stamp and the language; its
// FontCacheDir should be the folder the client gives pdfdoc.New.
//
// The content comes from the local file cache when its bytes still hash
// to the version's SHA-256, and is downloaded (and cached) otherwise; the
// annotations are read from the server, so the export needs the network
// and the caller's right to see them (staff only). dst appears only
// complete: the file is written next to it and renamed. It returns how
// many annotations were exported.
func (w *Workspace) ExportAnnotated(ctx context.Context, v wire.DocumentVersion, dst string, opt pdfannot.Options) (int, error) {
	if v.Kind != "pdf" {
		return 0, wire.E(wire.CodeInvalid, "file", "Пометки можно выгрузить только вместе с PDF-файлом, а эта версия — «"+v.FileName+"»",
			"Annotations can only be exported with a PDF file; this version is "+v.FileName)
	}
	if v.Encrypted {
		return 0, wire.E(wire.CodeInvalid, "file", "PDF-файл версии защищён паролем: пометки в него не выгрузить",
			"The version's PDF file is password-protected: annotations cannot be exported into it")
	}
	c, err := w.sess.client()
	if err != nil {
		return 0, err
	}
	src, done, err := w.versionContent(ctx, v, filepath.Dir(dst))
	if err != nil {
		return 0, err
	}
	defer done()
	anns, err := c.VersionAnnotations(ctx, v.ID)
	if err != nil {
		return 0, fmt.Errorf("read the annotations of %s: %w", v.FileName, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".export-*.pdf")
	if err != nil {
		return 0, fmt.Errorf("save to %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	err = pdfannot.Write(ctx, src, tmp, anns, opt)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("export %s with annotations: %w", v.FileName, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return 0, fmt.Errorf("save to %s: %w", dst, err)
	}
	return len(anns), nil
}

// versionContent opens v's content, checked against its SHA-256 and
// rewound: the file cache's copy when it is intact, else a download
// through Download (which refills the cache) into a temporary file in dir.
// The checked bytes are read again from the same open file, so what is
// exported is what was verified (pdfcpu reads the whole file into memory
// anyway; keeping it in a file spares a second copy of a large drawing).
// done closes the file and removes a temporary one.
func (w *Workspace) versionContent(ctx context.Context, v wire.DocumentVersion, dir string) (_ *os.File, done func(), err error) {
	if cached := w.cachedFile(v.SHA256); cached != "" {
		f, err := openHashed(cached, v.SHA256)
		if err == nil {
			return f, func() { _ = f.Close() }, nil
		}
		w.log.Warn("cached file damaged, downloading it again", "sha256", v.SHA256, "err", err)
		_ = os.Remove(cached)
	}
	tmp, err := os.CreateTemp(dir, ".source-*.pdf")
	if err != nil {
		return nil, nil, fmt.Errorf("download %s: %w", v.FileName, err)
	}
	name := tmp.Name()
	_ = tmp.Close()
	if err := w.Download(ctx, v, name); err != nil {
		_ = os.Remove(name)
		return nil, nil, err
	}
	f, err := openHashed(name, v.SHA256)
	if err != nil {
		_ = os.Remove(name)
		return nil, nil, err
	}
	return f, func() { _ = f.Close(); _ = os.Remove(name) }, nil
}

// errHashMismatch says a file's bytes do not hash to what they should.
var errHashMismatch = errors.New("content does not match its SHA-256")

// openHashed opens a file, checks its SHA-256 (hex) and rewinds it.
func openHashed(path, want string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		f.Close()
		return nil, err
	}
	if hex.EncodeToString(h.Sum(nil)) != want {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, errHashMismatch)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
