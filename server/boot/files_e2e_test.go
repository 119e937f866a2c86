package boot_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// TestWorkspaceUploadCancelDownload drives the desktop core's file use
// cases against a real server: a cancelled upload is dropped on the
// server; a finished one arrives in the Store by its event with progress
// reported up to the whole size; a download lands under the chosen name
// only verified, is served from the local cache when the network is cut,
// and a damaged cache copy is never handed out.
func TestWorkspaceUploadCancelDownload(t *testing.T) {
	ctx := context.Background()
	s := startFiles(t, pgtest.NewDB(t), t.TempDir(), 0)
	proxy := testenv.NewProxy(t, s.Addr.String())
	applicant := testenv.Applicant(t, s)
	a := draft(t, applicant)
	content, sum := randomFile(t, 12*testChunk+5)
	src := filepath.Join(t.TempDir(), "Том 5. ЭС.pdf")
	if err := os.WriteFile(src, content, 0o600); err != nil {
		t.Fatal(err)
	}
	log := testenv.Logger(t)
	sess := app.NewSession(log, app.NewDeviceID(), "test")
	if _, err := sess.Login(ctx, app.Credentials{Server: proxy.URL(), Login: applicant.User.Login, Password: applicant.Password}); err != nil {
		t.Fatal(err)
	}
	store := app.NewStore(log)
	ws := app.NewWorkspace(log, sess, store)
	cacheDir := t.TempDir()
	if err := ws.UseCache(cacheDir); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() { _ = ws.Run(runCtx) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the list", func() bool { _, ok := store.Application(a.ID); return ok })

	bad := []struct {
		name string
		req  app.UploadRequest
	}{
		{"no section", app.UploadRequest{AppID: a.ID, Path: src}},
		{"missing file", app.UploadRequest{AppID: a.ID, Section: "07.05", Path: src + ".nope"}},
		{"a folder", app.UploadRequest{AppID: a.ID, Section: "07.05", Path: t.TempDir()}},
	}
	for _, tt := range bad {
		if _, err := ws.Upload(ctx, tt.req, nil); wire.ErrorCode(err) != wire.CodeInvalid {
			t.Errorf("%s: %v, want a clear refusal", tt.name, err)
		}
	}

	// Cancelled after a few chunks: the server forgets the upload.
	cctx, cancel := context.WithCancel(ctx)
	up, err := ws.Upload(cctx, app.UploadRequest{AppID: a.ID, Section: "07.05", Name: "Том 5. ЭС", Path: src}, func(done, total int64) {
		if done >= 3*testChunk {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled upload: %v", err)
	}
	if up.ID != "" {
		if _, err := applicant.C.UploadStatus(ctx, up.ID); wire.ErrorCode(err) != wire.CodeNotFound {
			t.Errorf("the server still has the cancelled upload: %v", err)
		}
	}

	var last, total int64
	done, err := ws.Upload(ctx, app.UploadRequest{AppID: a.ID, Section: "07.05", Name: "Том 5. ЭС", Path: src}, func(d, tot int64) { last, total = d, tot })
	if err != nil || done.VersionID == 0 {
		t.Fatalf("upload: %+v %v", done, err)
	}
	if total != int64(len(content)) || last != total {
		t.Errorf("progress ended at %d of %d, want %d of %d", last, total, len(content), len(content))
	}
	var v wire.DocumentVersion
	waitFor("the new version in the Store", func() bool {
		for _, d := range store.Documents(a.ID) {
			for _, x := range d.Versions {
				if x.ID == done.VersionID {
					v = x
					return true
				}
			}
		}
		return false
	})
	if v.SHA256 != sum {
		t.Fatalf("version sha %s, want %s", v.SHA256, sum)
	}

	dst := filepath.Join(t.TempDir(), "ЭС.pdf")
	if err := ws.Download(ctx, v, dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); !bytes.Equal(b, content) {
		t.Fatal("downloaded bytes differ")
	}
	// Offline, the verified copy in the cache serves the next download.
	proxy.SetDown(true)
	dst2 := filepath.Join(t.TempDir(), "ЭС-2.pdf")
	if err := ws.Download(ctx, v, dst2); err != nil {
		t.Fatalf("download from the cache offline: %v", err)
	}
	if b, _ := os.ReadFile(dst2); !bytes.Equal(b, content) {
		t.Fatal("cached copy differs")
	}
	// A damaged cache copy is not handed out: offline, the download fails
	// and leaves nothing under the chosen name.
	cached := filepath.Join(app.FilesDir(cacheDir, proxy.URL(), applicant.User.ID), sum)
	b, err := os.ReadFile(cached)
	if err != nil {
		t.Fatal(err)
	}
	b[10] ^= 1
	if err := os.WriteFile(cached, b, 0o600); err != nil {
		t.Fatal(err)
	}
	dst3 := filepath.Join(t.TempDir(), "ЭС-3.pdf")
	if err := ws.Download(ctx, v, dst3); err == nil {
		t.Fatal("damaged cache copy handed out")
	}
	if _, err := os.Stat(dst3); !os.IsNotExist(err) {
		t.Fatalf("a failed download left %s: %v", dst3, err)
	}
	// Online again, the content is fetched and verified afresh.
	proxy.SetDown(false)
	if err := ws.Download(ctx, v, dst3); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst3); !bytes.Equal(b, content) {
		t.Fatal("re-fetched bytes differ")
	}
}
