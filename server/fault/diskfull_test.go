package fault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// mountTmpfs mounts a tmpfs of size bytes on a new folder, unmounted when
// the test ends; it skips the test where mounting is not allowed.
func mountTmpfs(t testing.TB, size int) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d,mode=0700", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a small tmpfs here (needs root or CAP_SYS_ADMIN): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// TestDiskFull runs the server's data folder (blob folder and the upload
// spool beside it, on one file system by design) on a 2 MiB tmpfs and
// uploads 400 KiB files until the disk is full. Pass: the upload that does
// not fit is refused with a clear error saying the server has no room
// («не хватает места»), not an internal error; nothing of it is stored (no
// version, no blob, no temporary file in the blob folder, and its spool
// goes when it is cancelled); the server stays up (/readyz 200, commands
// still work); every earlier file downloads byte-identical.
func TestDiskFull(t *testing.T) {
	data := mountTmpfs(t, 2<<20)
	db := newDB(t)
	ctx := context.Background()
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: db, Service: testenv.Config(), Log: testenv.Logger(t), DataDir: data,
		ValidateWorker: testenv.ValidateWorker, FontCache: testenv.FontCache(), ChunkSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
	})
	owner := testenv.Applicant(t, s)
	a := newApp(t, owner.C, "Склад")
	dir := t.TempDir()

	type stored struct {
		version int64
		content []byte
	}
	var kept []stored
	var refused error
	var refusedUpload wire.Upload
	var refusedDigest string
	for i := 0; refused == nil; i++ {
		if i > 20 {
			t.Fatal("20 files of 400 KiB fitted on a 2 MiB disk: the tmpfs limit does not work")
		}
		// Random text: every file has its own digest.
		noise := make([]byte, 300<<10)
		_, _ = rand.Read(noise)
		content := []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><смета номер="%d"><шум>%s</шум></смета>`, i, hex.EncodeToString(noise)[:400<<10]))
		path := filepath.Join(dir, fmt.Sprintf("Смета-%d.xml", i))
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		up, err := owner.C.StartUpload(ctx, a.ID, "07.18", fmt.Sprintf("Смета %d", i), path)
		if err != nil {
			refused = err
			break
		}
		done, err := owner.C.SendChunks(ctx, up, path, 1, nil)
		if err != nil {
			sum := sha256.Sum256(content)
			refused, refusedUpload, refusedDigest = err, up, hex.EncodeToString(sum[:])
			break
		}
		kept = append(kept, stored{done.VersionID, content})
	}
	we, ok := wire.AsError(refused)
	if !ok || we.Code == wire.CodeInternal || !strings.Contains(we.Message, "не хватает места") {
		t.Fatalf("upload on a full disk refused with %v; want a clear «не хватает места» error", refused)
	}
	if len(kept) == 0 {
		t.Fatal("not even one file fitted: the test proves nothing")
	}

	// Nothing of the refused file is stored.
	pool, err := pgxpool.New(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var versions int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE d.app_id = $1`, a.ID).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != len(kept) {
		t.Errorf("%d versions stored, %d files fitted", versions, len(kept))
	}
	blobs := blobFiles(t, data)
	if len(blobs) != len(kept) {
		t.Errorf("blob folder holds %v for %d stored files (a half-written blob or temporary left?)", blobs, len(kept))
	}
	for _, b := range blobs {
		if refusedDigest != "" && strings.HasSuffix(b, refusedDigest) {
			t.Errorf("the refused file's blob %s is in the store", b)
		}
	}
	if refusedUpload.ID != "" {
		req, _ := http.NewRequest(http.MethodDelete, s.URL()+wire.APIPrefix+"/uploads/"+refusedUpload.ID, nil)
		req.Header.Set("Authorization", "Bearer "+owner.C.Token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode/100 != 2 {
			t.Fatalf("cancel the refused upload: %v %v", resp, err)
		}
		resp.Body.Close()
		if left := spoolFiles(t, data); len(left) != 0 {
			t.Errorf("spool after cancelling the refused upload: %v", left)
		}
	}

	// The server is up and serves.
	if code, h, err := health(s.URL()); err != nil || code != http.StatusOK {
		t.Fatalf("readyz on a full disk: %d %+v %v", code, h, err)
	}
	if _, err := owner.C.PostMessage(ctx, a.ID, wire.PostMessageRequest{Channel: wire.ChannelApplicant, Body: "Диск сервера заполнен, файл не принят"}, client.NewIdempotencyKey()); err != nil {
		t.Fatalf("a command on a full disk: %v", err)
	}
	for _, k := range kept {
		var got bytes.Buffer
		if _, err := owner.C.Download(ctx, k.version, &got); err != nil || !bytes.Equal(got.Bytes(), k.content) {
			t.Fatalf("earlier file %d after the disk filled: %v (%d bytes, want %d)", k.version, err, got.Len(), len(k.content))
		}
	}
	checkAudit(t, pool)
	t.Logf("tmpfs of 2 MiB: %d files of 400 KiB stored, the next refused with %q (code %s); earlier files intact, server up",
		len(kept), we.Message, we.Code)
}
