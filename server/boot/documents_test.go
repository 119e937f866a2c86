package boot_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/pgtest"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

const testChunk = 64 << 10

func startFiles(t *testing.T, db, data string, quota int64) *boot.Server {
	t.Helper()
	s, err := boot.Start(context.Background(), boot.Config{Listen: "127.0.0.1:0", DatabaseURL: db, Service: testenv.Config(),
		Log: testenv.Logger(t), DataDir: data, ChunkSize: testChunk, Quota: quota,
		NoValidation: true}) // these tests send random bytes: they test the transfer, not the formats
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

func randomFile(t *testing.T, n int) ([]byte, string) {
	t.Helper()
	b := make([]byte, n)
	_, _ = rand.Read(b)
	sum := sha256.Sum256(b)
	return b, hex.EncodeToString(sum[:])
}

func draft(t *testing.T, a *testenv.Actor) wire.Application {
	t.Helper()
	str := func(s string) *string { return &s }
	works, kind, fin := wire.WorksConstruction, wire.KindProjectDocs, wire.FinancingBudget
	app, err := a.C.CreateApplication(context.Background(), wire.ApplicationInput{ObjectName: str("Школа"), ObjectAddress: str("г. Тверь"),
		WorksKind: &works, ExpertiseKind: &kind, Financing: &fin}, "")
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func putChunk(t *testing.T, c *client.Client, base, id string, idx int, data []byte) (int, wire.Upload) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, fmt.Sprintf("%s%s/uploads/%s/chunks/%d", base, wire.APIPrefix, id, idx), bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+c.Token())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u wire.Upload
	_ = jsonDecode(resp.Body, &u)
	return resp.StatusCode, u
}

func chunkOf(data []byte, i int) []byte { return data[i*testChunk : min(len(data), (i+1)*testChunk)] }

// TestUploadResumeAcrossServerRestart: chunks arrive out of order and one
// twice, the server restarts mid-upload, the client asks what is there and
// sends the rest; the file becomes version 1, downloadable whole and by
// range, with its SHA-256 in a header.
func TestUploadResumeAcrossServerRestart(t *testing.T) {
	ctx := context.Background()
	db, data := pgtest.NewDB(t), t.TempDir()
	s1 := startFiles(t, db, data, 0)
	app := testenv.Applicant(t, s1)
	a := draft(t, app)
	file, sum := randomFile(t, 3*testChunk+1234) // four chunks, the last short
	var up wire.Upload
	if err := app.C.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", a.ID),
		wire.CreateUploadRequest{Section: "07.03", FileName: "Раздел АР.pdf", Size: int64(len(file)), SHA256: sum}, &up, ""); err != nil {
		t.Fatal(err)
	}
	if up.Chunks != 4 || up.ChunkSize != testChunk {
		t.Fatalf("upload: %+v", up)
	}
	for _, i := range []int{2, 0, 2} {
		if st, _ := putChunk(t, app.C, s1.URL(), up.ID, i, chunkOf(file, i)); st != 200 {
			t.Fatalf("chunk %d: HTTP %d", i, st)
		}
	}
	if st, _ := putChunk(t, app.C, s1.URL(), up.ID, 1, chunkOf(file, 1)[:100]); st != 400 {
		t.Fatalf("short chunk: HTTP %d, want 400", st)
	}
	// Finishing early names what is missing.
	if err := app.C.Call(ctx, http.MethodPost, "/uploads/"+up.ID+"/finish", nil, nil, ""); wire.ErrorCode(err) != wire.CodeConflict {
		t.Fatalf("early finish: %v", err)
	}
	if err := s1.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	s2 := startFiles(t, db, data, 0)
	c2 := client.New(s2.URL())
	c2.SetToken(app.C.Token())
	var st wire.Upload
	if err := c2.Call(ctx, http.MethodGet, "/uploads/"+up.ID, nil, &st, ""); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(st.Received) != "[0 2]" {
		t.Fatalf("after restart the server has chunks %v, want [0 2]", st.Received)
	}
	for _, i := range []int{1, 3} {
		if code, _ := putChunk(t, c2, s2.URL(), up.ID, i, chunkOf(file, i)); code != 200 {
			t.Fatalf("chunk %d after restart: HTTP %d", i, code)
		}
	}
	var done wire.Upload
	if err := c2.Call(ctx, http.MethodPost, "/uploads/"+up.ID+"/finish", nil, &done, ""); err != nil {
		t.Fatal(err)
	}
	if done.State != "done" || done.VersionID == 0 {
		t.Fatalf("finish: %+v", done)
	}
	var again wire.Upload // finishing twice is harmless
	if err := c2.Call(ctx, http.MethodPost, "/uploads/"+up.ID+"/finish", nil, &again, ""); err != nil || again.VersionID != done.VersionID {
		t.Fatalf("second finish: %+v %v", again, err)
	}

	get := func(rng string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s%s/versions/%d/content", s2.URL(), wire.APIPrefix, done.VersionID), nil)
		req.Header.Set("Authorization", "Bearer "+app.C.Token())
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, body := get("")
	if resp.StatusCode != 200 || !bytes.Equal(body, file) || resp.Header.Get(wire.HeaderContentSHA256) != sum {
		t.Fatalf("download: %d, %d bytes, sha %q", resp.StatusCode, len(body), resp.Header.Get(wire.HeaderContentSHA256))
	}
	resp, body = get("bytes=1000-1999")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, file[1000:2000]) {
		t.Fatalf("range download: %d, %d bytes", resp.StatusCode, len(body))
	}
	docs, err := documents(ctx, c2, a.ID)
	if err != nil || len(docs) != 1 || docs[0].Section != "07.03" || len(docs[0].Versions) != 1 || docs[0].Versions[0].SHA256 != sum {
		t.Fatalf("documents: %+v %v", docs, err)
	}
	// Another organisation cannot download it.
	other := testenv.Applicant(t, s2)
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s%s/versions/%d/content", s2.URL(), wire.APIPrefix, done.VersionID), nil)
	req.Header.Set("Authorization", "Bearer "+other.C.Token())
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("another organisation's download: %v %v", resp.StatusCode, err)
	}
}

func documents(ctx context.Context, c *client.Client, appID int64) ([]wire.Document, error) {
	var docs []wire.Document
	return docs, c.Call(ctx, http.MethodGet, fmt.Sprintf("/applications/%d/documents", appID), nil, &docs, "")
}

// upload sends a whole file and finishes it.
// name is the logical file: uploads under the same name are its versions.
func upload(t *testing.T, s *boot.Server, c *client.Client, appID int64, section, name string, file []byte, sum string, fileName ...string) (wire.Upload, error) {
	t.Helper()
	ctx := context.Background()
	var up wire.Upload
	if err := c.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", appID),
		wire.CreateUploadRequest{Section: section, Name: name, FileName: append(fileName, name)[0], Size: int64(len(file)), SHA256: sum}, &up, ""); err != nil {
		return up, err
	}
	for i := 0; i < up.Chunks; i++ {
		if st, _ := putChunk(t, c, s.URL(), up.ID, i, chunkOf(file, i)); st != 200 {
			t.Fatalf("chunk %d: HTTP %d", i, st)
		}
	}
	var done wire.Upload
	err := c.Call(ctx, http.MethodPost, "/uploads/"+up.ID+"/finish", nil, &done, "")
	return done, err
}

// TestVersionsKeepTheirReview: a corrected file is version 2; version 1
// keeps its content and its rejection; a watcher hears of both.
func TestVersionsKeepTheirReview(t *testing.T) {
	ctx := context.Background()
	s := startFiles(t, pgtest.NewDB(t), t.TempDir(), 0)
	app := testenv.Applicant(t, s)
	watcher := testenv.Member(t, s, app)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	expert := testenv.Staff(t, s, wire.RoleExpert, 0)
	_, rec := watcher.Subscribe(t, nil)
	a := draft(t, app)
	v1, sum1 := randomFile(t, 5000)
	up1, err := upload(t, s, app.C, a.ID, "07.04", "КР.pdf", v1, sum1)
	if err != nil {
		t.Fatal(err)
	}
	a, _ = app.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusSubmitted}, "")
	if a, err = manager.C.Assign(ctx, a.ID, wire.AssignRequest{Version: a.Version, Assignments: []wire.Assignment{{Section: "07.04", ExpertID: expert.ID}}}, ""); err != nil {
		t.Fatal(err)
	}
	// An upload while the office checks completeness is refused.
	if _, err := upload(t, s, app.C, a.ID, "07.04", "КР.pdf", v1, sum1); wire.ErrorCode(err) != wire.CodeConflict {
		t.Fatalf("upload while submitted: %v", err)
	}
	docs, _ := documents(ctx, expert.C, a.ID)
	var reviewed wire.Document
	if err := expert.C.Call(ctx, http.MethodPost, fmt.Sprintf("/versions/%d/review", up1.VersionID),
		wire.ReviewRequest{Version: docs[0].Versions[0].Version, Status: wire.ReviewRejected}, &reviewed, ""); wire.ErrorCode(err) != wire.CodeCommentRequired {
		t.Fatalf("rejection without a comment: %v", err)
	}
	if err := expert.C.Call(ctx, http.MethodPost, fmt.Sprintf("/versions/%d/review", up1.VersionID),
		wire.ReviewRequest{Version: docs[0].Versions[0].Version, Status: wire.ReviewRejected, Comment: "Нет расчёта фундаментов"}, &reviewed, ""); err != nil {
		t.Fatal(err)
	}
	// The applicant cannot review.
	if err := app.C.Call(ctx, http.MethodPost, fmt.Sprintf("/versions/%d/review", up1.VersionID),
		wire.ReviewRequest{Version: reviewed.Versions[0].Version, Status: wire.ReviewAccepted}, nil, ""); wire.ErrorCode(err) != wire.CodeForbidden {
		t.Fatalf("applicant review: %v", err)
	}
	a, _ = manager.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusNeedsCorrection, Comment: "Дополните КР"}, "")
	v2, sum2 := randomFile(t, 7000)
	up2, err := upload(t, s, app.C, a.ID, "07.04", "КР.pdf", v2, sum2, "КР изм.1.pdf")
	if err != nil {
		t.Fatal(err)
	}
	docs, err = documents(ctx, app.C, a.ID)
	if err != nil || len(docs) != 1 || len(docs[0].Versions) != 2 {
		t.Fatalf("documents: %+v %v", docs, err)
	}
	newest, old := docs[0].Versions[0], docs[0].Versions[1]
	if newest.ID != up2.VersionID || newest.Number != 2 || newest.Review != wire.ReviewPending ||
		newest.FileName != "КР изм.1.pdf" || old.Number != 1 || old.Review != wire.ReviewRejected || old.ReviewComment != "Нет расчёта фундаментов" || old.SHA256 != sum1 {
		t.Fatalf("versions: %+v", docs[0].Versions)
	}
	rec.WaitFor(t, 5*time.Second, "document events", func(r *testenv.Recorder) bool {
		return len(testenv.Kinds(r.Events(), wire.EventDocumentVersion)) >= 2
	})
	var c wire.Completeness
	if err := app.C.Call(ctx, http.MethodGet, fmt.Sprintf("/applications/%d/completeness", a.ID), nil, &c, ""); err != nil {
		t.Fatal(err)
	}
	if len(c.Missing) != len(c.Required)-1 {
		t.Fatalf("completeness: %+v", c)
	}
}

// TestUploadRefusals: a wrong checksum fails the upload and stores
// nothing; the quota is enforced; someone else's upload is not found.
func TestUploadRefusals(t *testing.T) {
	ctx := context.Background()
	s := startFiles(t, pgtest.NewDB(t), t.TempDir(), 100_000)
	app := testenv.Applicant(t, s)
	a := draft(t, app)
	file, _ := randomFile(t, 3000)
	_, wrong := randomFile(t, 10)
	if _, err := upload(t, s, app.C, a.ID, "07.01", "ПЗ.pdf", file, wrong); wire.ErrorCode(err) != wire.CodeInvalid {
		t.Fatalf("wrong checksum: %v", err)
	}
	if docs, _ := documents(ctx, app.C, a.ID); len(docs) != 0 {
		t.Fatalf("a failed upload left documents: %+v", docs)
	}
	big, bigSum := randomFile(t, 10)
	err := app.C.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", a.ID),
		wire.CreateUploadRequest{Section: "07.01", FileName: "big.pdf", Size: 200_000, SHA256: bigSum}, nil, "")
	if wire.ErrorCode(err) != wire.CodeTooLarge {
		t.Fatalf("over quota: %v", err)
	}
	_ = big
	var up wire.Upload
	if err := app.C.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", a.ID),
		wire.CreateUploadRequest{Section: "07.01", FileName: "ПЗ.pdf", Size: 10, SHA256: bigSum}, &up, ""); err != nil {
		t.Fatal(err)
	}
	other := testenv.Applicant(t, s)
	if st, _ := putChunk(t, other.C, s.URL(), up.ID, 0, big); st != 404 {
		t.Fatalf("another user's chunk: HTTP %d", st)
	}
	for _, bad := range []wire.CreateUploadRequest{
		{Section: "99.99", FileName: "x.pdf", Size: 10, SHA256: bigSum},
		{Section: "07.01", FileName: "../x.pdf", Size: 10, SHA256: bigSum},
		{Section: "07.01", FileName: "x.pdf", Size: 0, SHA256: bigSum},
		{Section: "07.01", FileName: "x.pdf", Size: 10, SHA256: "abc"},
	} {
		if err := app.C.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", a.ID), bad, nil, ""); wire.ErrorCode(err) != wire.CodeInvalid {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

// TestClientUploadResumeAndTamperedDownload: the client library sends
// chunks in parallel, is interrupted, resumes where the server stands, and
// on download refuses bytes that no longer match their SHA-256.
func TestClientUploadResumeAndTamperedDownload(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	s := startFiles(t, pgtest.NewDB(t), data, 0)
	app := testenv.Applicant(t, s)
	a := draft(t, app)
	content, sum := randomFile(t, 20*testChunk+17)
	path := filepath.Join(t.TempDir(), "Том 3. АР.pdf")
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	up, err := app.C.StartUpload(ctx, a.ID, "07.03", "Том 3. АР", path)
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	_, err = app.C.SendChunks(cctx, up, path, 3, func(done, total int64) {
		if done >= 5*testChunk {
			cancel() // the user closes the laptop lid
		}
	})
	if err == nil {
		t.Fatal("interrupted upload reported success")
	}
	st, err := app.C.UploadStatus(ctx, up.ID)
	if err != nil || len(st.Received) == 0 || len(st.Received) == st.Chunks {
		t.Fatalf("after interruption the server holds %d of %d chunks (%v)", len(st.Received), st.Chunks, err)
	}
	done, err := app.C.SendChunks(ctx, up, path, 3, nil)
	if err != nil || done.State != "done" {
		t.Fatalf("resumed upload: %+v %v", done, err)
	}
	var buf bytes.Buffer
	got, err := app.C.Download(ctx, done.VersionID, &buf)
	if err != nil || got != sum || !bytes.Equal(buf.Bytes(), content) {
		t.Fatalf("download: %v, %d bytes", err, buf.Len())
	}
	// Someone alters the stored file behind the server's back.
	blobPath := filepath.Join(data, "blobs", sum[:2], sum[2:4], sum)
	b, err := os.ReadFile(blobPath)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(blobPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := app.C.Download(ctx, done.VersionID, io.Discard); !errors.Is(err, client.ErrDigest) {
		t.Fatalf("tampered download: %v, want ErrDigest", err)
	}
}

// TestStaleUploadsRemoved: an upload untouched past its lifetime is
// removed with its spool file; a live one stays.
func TestStaleUploadsRemoved(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	s, err := boot.Start(ctx, boot.Config{Listen: "127.0.0.1:0", DatabaseURL: pgtest.NewDB(t), Service: testenv.Config(),
		Log: testenv.Logger(t), DataDir: data, ChunkSize: testChunk, UploadTTL: time.Hour, ReminderEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	app := testenv.Applicant(t, s)
	a := draft(t, app)
	_, sum := randomFile(t, 10)
	var old, fresh wire.Upload
	for _, up := range []*wire.Upload{&old, &fresh} {
		if err := app.C.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", a.ID),
			wire.CreateUploadRequest{Section: "07.01", FileName: "ПЗ.pdf", Size: 10, SHA256: sum}, up, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Pool.Exec(ctx, `UPDATE uploads SET updated_at = now() - interval '2 hours' WHERE id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}
	n, err := s.Service.CleanStaleUploads(ctx)
	if err != nil || n != 1 {
		t.Fatalf("removed %d stale uploads (%v), want 1", n, err)
	}
	if _, err := app.C.UploadStatus(ctx, old.ID); wire.ErrorCode(err) != wire.CodeNotFound {
		t.Fatalf("stale upload still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(data, "uploads", old.ID+".part")); !os.IsNotExist(err) {
		t.Fatalf("spool file of the stale upload: %v", err)
	}
	if _, err := app.C.UploadStatus(ctx, fresh.ID); err != nil {
		t.Fatalf("live upload removed: %v", err)
	}
}

// TestDetachedSignature: a .sig uploaded for a version is kept beside it
// with the parsed report; a signature of another document says so.
func TestDetachedSignature(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed: apt-get install openssl")
	}
	ctx := context.Background()
	s := startFiles(t, pgtest.NewDB(t), t.TempDir(), 0)
	app := testenv.Applicant(t, s)
	a := draft(t, app)
	dir := t.TempDir()
	doc, docSum := randomFile(t, 3000)
	other, _ := randomFile(t, 3000)
	docPath, otherPath := filepath.Join(dir, "ПЗ.pdf"), filepath.Join(dir, "other.pdf")
	os.WriteFile(docPath, doc, 0o600)
	os.WriteFile(otherPath, other, 0o600)
	run := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	key, cert := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=Иванов Иван/O=ООО Ромашка/C=RU", "-utf8")
	good, bad := filepath.Join(dir, "good.sig"), filepath.Join(dir, "bad.sig")
	run("cms", "-sign", "-binary", "-in", docPath, "-signer", cert, "-inkey", key, "-outform", "DER", "-md", "sha256", "-out", good)
	run("cms", "-sign", "-binary", "-in", otherPath, "-signer", cert, "-inkey", key, "-outform", "DER", "-md", "sha256", "-out", bad)

	v, err := upload(t, s, app.C, a.ID, "07.01", "ПЗ.pdf", doc, docSum)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{good, bad} {
		sigBytes, _ := os.ReadFile(p)
		sum := sha256.Sum256(sigBytes)
		var up wire.Upload
		if err := app.C.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", a.ID), wire.CreateUploadRequest{
			FileName: filepath.Base(p), Size: int64(len(sigBytes)), SHA256: hex.EncodeToString(sum[:]), SignsVersion: v.VersionID}, &up, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := app.C.SendChunks(ctx, up, p, 1, nil); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := documents(ctx, app.C, a.ID)
	if err != nil || len(docs) != 1 || len(docs[0].Versions) != 1 || len(docs[0].Versions[0].Signatures) != 2 {
		t.Fatalf("documents: %+v %v", docs, err)
	}
	verdicts := []string{}
	for _, sg := range docs[0].Versions[0].Signatures {
		var rep struct {
			Signers []struct {
				Subject string
				Verdict string
			}
		}
		if err := json.Unmarshal(sg.Report, &rep); err != nil || len(rep.Signers) != 1 {
			t.Fatalf("report %s: %v", sg.Report, err)
		}
		if !strings.Contains(rep.Signers[0].Subject, "Иванов Иван") {
			t.Errorf("signer subject %q", rep.Signers[0].Subject)
		}
		verdicts = append(verdicts, rep.Signers[0].Verdict)
	}
	if fmt.Sprint(verdicts) != "[valid digest_mismatch]" {
		t.Fatalf("verdicts %v, want [valid digest_mismatch]", verdicts)
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestUploadProgressEvents: the uploader's other devices hear the 25, 50
// and 75 % milestones and then the new version; another organisation
// hears nothing.
func TestUploadProgressEvents(t *testing.T) {
	s := startFiles(t, pgtest.NewDB(t), t.TempDir(), 0)
	app := testenv.Applicant(t, s)
	other := testenv.Applicant(t, s)
	a := draft(t, app)
	tablet := &testenv.Actor{User: app.User, Password: app.Password, C: client.New(s.URL())}
	tablet.Login(t)
	_, rec := tablet.Subscribe(t, nil)
	_, otherRec := other.Subscribe(t, nil)
	file, sum := randomFile(t, 8*testChunk)
	if _, err := upload(t, s, app.C, a.ID, "07.03", "АР.pdf", file, sum); err != nil {
		t.Fatal(err)
	}
	rec.WaitFor(t, 5*time.Second, "the new version", func(r *testenv.Recorder) bool {
		return len(testenv.Kinds(r.Events(), wire.EventDocumentVersion)) == 1
	})
	var got []int
	for _, e := range testenv.Kinds(rec.Events(), wire.EventUploadProgress) {
		var p wire.UploadProgress
		if err := e.Decode(&p); err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Percent)
	}
	if fmt.Sprint(got) != "[25 50 75]" {
		t.Fatalf("milestones %v, want [25 50 75]", got)
	}
	if n := len(otherRec.Events()); n != 0 {
		t.Fatalf("another organisation received %d events", n)
	}
}
