package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/expertiza/expertiza/server/blob"
)

// TestFSAdopt: a verified spool file moves into the store by rename, a
// second copy of the same content is dropped, and a bad digest is refused
// without touching the file.
func TestFSAdopt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := blob.NewFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("спул загрузки")
	sum := sha256.Sum256(content)
	digest := hex.EncodeToString(sum[:])
	spool := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, content, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := spool("a.part")
	if n, err := s.Adopt(ctx, first, digest); err != nil || n != int64(len(content)) {
		t.Fatalf("adopt: %d %v", n, err)
	}
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Fatalf("the spool file is still there: %v", err)
	}
	r, _, err := s.Open(ctx, digest)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if !bytes.Equal(got, content) {
		t.Fatalf("adopted content %q", got)
	}
	second := spool("b.part")
	if _, err := s.Adopt(ctx, second, digest); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(second); !os.IsNotExist(err) {
		t.Fatal("a duplicate spool file was kept")
	}
	bad := spool("c.part")
	if _, err := s.Adopt(ctx, bad, "not-a-digest"); err == nil {
		t.Fatal("a malformed digest was accepted")
	}
	if _, err := os.Stat(bad); err != nil {
		t.Fatalf("a refused file was touched: %v", err)
	}
}
