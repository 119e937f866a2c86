package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/expertiza/expertiza/pdfannot"
	"github.com/expertiza/expertiza/sync/wire"
)

// The export against a real server is server/boot's
// TestExportAnnotatedThroughTheDesktopCore; these tests cover what needs
// no server: refusals before any request and the verified file cache.

func offlineWorkspace(t *testing.T) *Workspace {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	w := NewWorkspace(log, NewSession(log, NewDeviceID(), "test"), NewStore(log))
	w.files = t.TempDir()
	return w
}

func TestExportAnnotatedRefusesBeforeFetching(t *testing.T) {
	w := offlineWorkspace(t)
	dst := filepath.Join(t.TempDir(), "out.pdf")
	tests := []struct {
		name string
		v    wire.DocumentVersion
		code wire.Code
	}{
		{"not a PDF", wire.DocumentVersion{ID: 1, Kind: "xlsx", FileName: "Смета.xlsx"}, wire.CodeInvalid},
		{"password-protected", wire.DocumentVersion{ID: 1, Kind: "pdf", FileName: "АР.pdf", Encrypted: true}, wire.CodeInvalid},
		// A PDF it may export, but nobody is signed in.
		{"signed out", wire.DocumentVersion{ID: 1, Kind: "pdf", FileName: "АР.pdf"}, wire.CodeUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := w.ExportAnnotated(context.Background(), tt.v, dst, pdfannot.Options{}); wire.ErrorCode(err) != tt.code {
				t.Fatalf("ExportAnnotated: %v, want %s", err, tt.code)
			}
			if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists after a refused export (%v)", dst, err)
			}
		})
	}
}

func TestVersionContentUsesOnlyAVerifiedCacheCopy(t *testing.T) {
	content := []byte("%PDF-1.4 pretend content")
	s := sha256.Sum256(content)
	sum := hex.EncodeToString(s[:])
	v := wire.DocumentVersion{ID: 7, Kind: "pdf", FileName: "АР.pdf", SHA256: sum, Size: int64(len(content))}

	w := offlineWorkspace(t)
	cached := filepath.Join(w.files, sum)
	if err := os.WriteFile(cached, content, 0o600); err != nil {
		t.Fatal(err)
	}
	// Signed out, so only the cache can answer.
	f, done, err := w.versionContent(context.Background(), v, t.TempDir())
	if err != nil {
		t.Fatalf("from the cache: %v", err)
	}
	got, err := io.ReadAll(f)
	done()
	if err != nil || string(got) != string(content) {
		t.Fatalf("from the cache: %q, %v", got, err)
	}

	// A damaged copy is dropped and the content fetched again, which
	// fails here for want of a session, rather than exporting it.
	if err := os.WriteFile(cached, []byte("%PDF-1.4 tampered content"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, _, err := w.versionContent(context.Background(), v, dir); wire.ErrorCode(err) != wire.CodeUnauthenticated {
		t.Fatalf("with a damaged cache copy: %v, want a download attempt refused for want of a session", err)
	}
	if _, err := os.Stat(cached); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the damaged cache copy is still there (%v)", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("the failed download left %d files behind", len(es))
	}
}

func TestOpenHashed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	tests := []struct {
		want    string
		wantErr error
	}{
		{abc, nil},
		{"", errHashMismatch},
		{"00" + abc[2:], errHashMismatch},
	}
	for _, tt := range tests {
		f, err := openHashed(p, tt.want)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("openHashed(%q): %v, want %v", tt.want, err, tt.wantErr)
		}
		if err != nil {
			continue
		}
		// Rewound: the caller reads what was checked from the start.
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil || string(b) != "abc" {
			t.Errorf("openHashed(%q) reads %q, %v", tt.want, b, err)
		}
	}
}
