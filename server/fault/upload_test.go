package fault_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// makePDF writes a valid PDF of about size bytes: pages of text made of
// random hex, which does not compress, so the file spans many chunks.
func makePDF(t testing.TB, path string, size int) []byte {
	t.Helper()
	var js strings.Builder
	js.WriteString(`{"paper": "A4", "pages": {`)
	const perPage = 60 * 90 // hex characters per page
	pages := size/(perPage/2) + 1
	for i := 1; i <= pages; i++ {
		if i > 1 {
			js.WriteString(",")
		}
		fmt.Fprintf(&js, `"%d": {"content": {"text": [`, i)
		for l := range 60 {
			if l > 0 {
				js.WriteString(",")
			}
			b := make([]byte, 45)
			_, _ = rand.Read(b)
			fmt.Fprintf(&js, `{"value": "%x", "pos": [20, %d], "font": {"name": "Courier", "size": 6}}`, b, 800-l*12)
		}
		js.WriteString("]}}")
	}
	js.WriteString("}}")
	var out bytes.Buffer
	if err := api.Create(nil, strings.NewReader(js.String()), &out, model.NewDefaultConfiguration()); err != nil {
		t.Fatalf("create PDF: %v", err)
	}
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// serverOf stands in for a *boot.Server where testenv needs only its
// address (registering applicants against a server process).
func serverOf(t testing.TB, p *proc) *boot.Server {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", p.opts.Listen)
	if err != nil {
		t.Fatal(err)
	}
	return &boot.Server{Addr: a}
}

// TestUploadKilledMidway kills the server process with SIGKILL during an
// upload — once when a third of the chunks are acknowledged, once inside
// FinishUpload (the PDF is being validated: a stand-in worker announces
// itself and hangs) — restarts it, and resumes the upload from what the
// server says it holds. Pass: the upload completes; the version's bytes
// are those of the file (download and SHA-256); exactly one version, one
// finished upload pointing at it, one file_upload audit row, one
// document event; no chunk acknowledged before the kill is lost; the spool
// folder is empty; the blob folder holds exactly the one blob; the audit
// chain verifies.
func TestUploadKilledMidway(t *testing.T) {
	for _, tc := range []struct {
		name   string
		finish bool
	}{{"at one third", false}, {"during finish", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			db := newDB(t)
			srv := newProc(t, db)
			srv.opts.ChunkSize = 64 << 10
			marker := filepath.Join(t.TempDir(), "validating")
			if tc.finish {
				srv.opts.HoldMarker = marker
			}
			srv.start()
			owner := testenv.Applicant(t, serverOf(t, srv))
			app := newApp(t, owner.C, "Котельная")
			path := filepath.Join(t.TempDir(), "Пояснительная записка.pdf")
			content := makePDF(t, path, 700<<10)
			sum := sha256.Sum256(content)
			digest := hex.EncodeToString(sum[:])
			up, err := owner.C.StartUpload(ctx, app.ID, "07.01", "Пояснительная записка", path)
			if err != nil {
				t.Fatal(err)
			}
			chunks := (len(content) + up.ChunkSize - 1) / up.ChunkSize

			acked := int64(0)
			cctx, cancel := context.WithCancel(ctx)
			sent := make(chan error, 1)
			go func() {
				_, err := owner.C.SendChunks(cctx, up, path, 1, func(done, total int64) {
					acked = done
					if !tc.finish && done*3 >= total {
						srv.kill()
						cancel()
					}
				})
				sent <- err
			}()
			if tc.finish {
				waitUntil(t, "the server to start validating in FinishUpload", func() bool { _, err := os.Stat(marker); return err == nil })
				srv.kill()
			}
			err = <-sent
			cancel()
			if err == nil {
				t.Fatal("the upload finished although the server was killed")
			}
			srv.opts.HoldMarker = ""
			srv.start()

			st, err := owner.C.UploadStatus(ctx, up.ID)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != "open" || int64(len(st.Received))*int64(up.ChunkSize) < min(acked, int64(len(content))) {
				t.Fatalf("after the kill the server holds %d chunks (state %s); %d bytes were acknowledged", len(st.Received), st.State, acked)
			}
			heldAtKill := len(st.Received)
			done, err := owner.C.SendChunks(ctx, up, path, 2, nil)
			if err != nil || done.State != "done" || done.VersionID == 0 {
				t.Fatalf("resume after the kill: %+v %v", done, err)
			}
			var got bytes.Buffer
			if sha, err := owner.C.Download(ctx, done.VersionID, &got); err != nil || sha != digest || !bytes.Equal(got.Bytes(), content) {
				t.Fatalf("download after resume: %v (sha %s, want %s; %d bytes, want %d)", err, sha, digest, got.Len(), len(content))
			}
			pool, err := pgxpool.New(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			checkOneVersion(t, pool, app.ID, up.ID, digest, done.VersionID)
			if left := spoolFiles(t, srv.opts.Data); len(left) != 0 {
				t.Errorf("spool not cleaned: %v", left)
			}
			want := filepath.Join(digest[:2], digest[2:4], digest)
			if blobs := blobFiles(t, srv.opts.Data); len(blobs) != 1 || blobs[0] != want {
				t.Errorf("blob folder holds %v, want only %s", blobs, want)
			}
			rows := checkAudit(t, pool)
			t.Logf("%s: %d of %d chunks held at the kill, resumed to version %d, byte-identical; audit chain of %d rows verifies",
				tc.name, heldAtKill, chunks, done.VersionID, rows)
		})
	}
}

// checkOneVersion fails unless the upload left exactly one version of the
// file, one finished upload row pointing at it, one audit row, one event.
func checkOneVersion(t testing.TB, pool *pgxpool.Pool, appID int64, uploadID, digest string, versionID int64) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []struct {
		what string
		sql  string
		args []any
	}{
		{"versions of the file", `SELECT count(*) FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE d.app_id = $1`, []any{appID}},
		{"versions with its digest", `SELECT count(*) FROM document_versions WHERE sha256 = $1 AND id = $2`, []any{digest, versionID}},
		{"finished upload rows", `SELECT count(*) FROM uploads WHERE id = $1 AND state = 'done' AND result_version = $2`, []any{uploadID, versionID}},
		{"uploads of the application", `SELECT count(*) FROM uploads WHERE app_id = $1`, []any{appID}},
		{"file_upload audit rows", `SELECT count(*) FROM audit_log WHERE action = $1 AND object_id = $2`, []any{wire.AuditFileUpload, fmt.Sprint(versionID)}},
		{"document events", `SELECT count(*) FROM change_log WHERE kind = $1 AND app_id = $2`, []any{string(wire.EventDocumentVersion), appID}},
	} {
		var n int
		if err := pool.QueryRow(ctx, c.sql, c.args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if n != 1 {
			t.Errorf("%s: %d, want 1", c.what, n)
		}
	}
}
