package boot_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"

	"github.com/expertiza/expertiza/app"
	"github.com/expertiza/expertiza/server/boot"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// chatPDF writes a real two-page PDF (pdfcpu's creator) under name and
// returns its bytes.
func chatPDF(t *testing.T, dir, name string) (string, []byte) {
	t.Helper()
	js := `{"paper": "A4", "pages": {
		"1": {"content": {"text": [{"value": "Response to remark 1", "pos": [72, 72], "font": {"name": "Helvetica", "size": 20}}]}},
		"2": {"content": {"text": [{"value": "Corrected sheet 3", "pos": [72, 72], "font": {"name": "Helvetica", "size": 20}}]}}}}`
	var out bytes.Buffer
	if err := api.Create(nil, strings.NewReader(js), &out, model.NewDefaultConfiguration()); err != nil {
		t.Fatalf("create PDF: %v", err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, out.Bytes()
}

// rawGet GETs an API path with a bearer token and returns the answer
// with its body read.
func rawGet(t *testing.T, s *boot.Server, token, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.URL()+wire.APIPrefix+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// chatFileUpload uploads a file to an application's chat with the plain
// client and returns the finished upload and the file's SHA-256.
func chatFileUpload(t *testing.T, by *testenv.Actor, appID int64, path string) (wire.Upload, string) {
	t.Helper()
	ctx := context.Background()
	sum, _, err := client.FileSHA256(path)
	if err != nil {
		t.Fatal(err)
	}
	up, err := by.C.StartUpload(ctx, appID, wire.SectionChat, "", path)
	if err != nil {
		t.Fatal(err)
	}
	if up, err = by.C.SendChunks(ctx, up, path, 1, nil); err != nil || up.VersionID == 0 {
		t.Fatalf("chat upload: %+v %v", up, err)
	}
	return up, sum
}

// TestChatAttachments runs chat files against a real server: the
// applicant's desktop core attaches a PDF to an applicant-channel message
// and the manager's saves it byte-identical through the message; the raw
// endpoint answers with the digest, the Cyrillic name and ranges. A
// staff-channel file is 404 to the applicant both through its message and
// by version id (the generic download serves no chat file to anyone). A
// file of another application, a digest never uploaded and a staff file
// named by the applicant are refused with words naming the attachment;
// staff may forward a file they can read. Attaching and downloading leave
// audit rows.
func TestChatAttachments(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := testenv.Start(t, testenv.Config())
	applicant := testenv.Applicant(t, s)
	manager := testenv.Staff(t, s, wire.RoleManager, 0)
	a := draft(t, applicant)
	var err error
	if a, err = applicant.C.Transition(ctx, a.ID, wire.TransitionRequestBody{Version: a.Version, To: wire.StatusSubmitted}, ""); err != nil {
		t.Fatal(err)
	}
	log := testenv.Logger(t)
	open := func(login, password, code string) (*app.Workspace, *app.Store) {
		t.Helper()
		sess := app.NewSession(log, app.NewDeviceID(), "test")
		if _, err := sess.Login(ctx, app.Credentials{Server: s.URL(), Login: login, Password: password, TOTPCode: code}); err != nil {
			t.Fatal(err)
		}
		st := app.NewStore(log)
		ws := app.NewWorkspace(log, sess, st)
		if err := ws.UseCache(t.TempDir()); err != nil {
			t.Fatal(err)
		}
		go func() { _ = ws.Run(ctx) }()
		return ws, st
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	online := func(st *app.Store) bool { c, _ := st.Connection(); return c == client.StateOnline }
	aws, ast := open(applicant.User.Login, applicant.Password, "")
	mws, mst := open(manager.User.Login, manager.Password, manager.NextCode(t))
	waitFor("both online", func() bool { return online(ast) && online(mst) })
	for _, ws := range []*app.Workspace{aws, mws} {
		if _, err := ws.OpenApplication(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
	}

	// The applicant attaches a PDF with a Cyrillic name.
	dir := t.TempDir()
	const name = "Ответ на замечания №1.pdf"
	pdfPath, pdf := chatPDF(t, dir, name)
	sum := sha256.Sum256(pdf)
	pdfSHA := hex.EncodeToString(sum[:])
	var last, total int64
	m, err := aws.PostMessageWithFiles(ctx, a.ID, wire.ChannelApplicant, "Прилагаю ответ", []string{pdfPath, pdfPath}, func(d, tot int64) { last, total = d, tot })
	if err != nil {
		t.Fatal(err)
	}
	want := []wire.Attachment{{SHA256: pdfSHA, FileName: name, Size: int64(len(pdf))}}
	if !slices.Equal(m.Files, want) || !slices.Equal(m.Attachments, []string{pdfSHA}) {
		t.Fatalf("posted files %+v attachments %v, want %+v (the same file chosen twice goes once)", m.Files, m.Attachments, want)
	}
	if total != int64(len(pdf)) || last != total {
		t.Errorf("progress ended at %d of %d, want %d of %d", last, total, len(pdf), len(pdf))
	}

	// The manager's client gets it by its event, with the file described,
	// and saves it byte-identical through the message.
	var got wire.Message
	waitFor("the message at the manager", func() bool {
		for _, x := range mst.Messages(a.ID, wire.ChannelApplicant) {
			if x.ID == m.ID {
				got = x
				return true
			}
		}
		return false
	})
	if !slices.Equal(got.Files, want) {
		t.Fatalf("the manager's copy of the message has files %+v, want %+v", got.Files, want)
	}
	dst := filepath.Join(t.TempDir(), "saved.pdf")
	if err := mws.DownloadAttachment(ctx, got, got.Files[0], dst); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(dst); !bytes.Equal(b, pdf) {
		t.Fatal("the manager's saved file differs from the applicant's PDF")
	}
	// Read back from the server (not the event), the files are there too.
	ms, err := manager.C.Messages(ctx, a.ID, wire.ChannelApplicant, 0)
	if err != nil || len(ms) == 0 || !slices.Equal(ms[len(ms)-1].Files, want) {
		t.Fatalf("messages from the server: %+v %v", ms, err)
	}

	// The endpoint itself: digest, name (RFC 5987), ranges.
	attPath := fmt.Sprintf("/applications/%d/messages/%d/attachments/%s", a.ID, m.ID, pdfSHA)
	resp, body := rawGet(t, s, manager.C.Token(), attPath, nil)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, pdf) {
		t.Fatalf("attachment download: HTTP %d, %d bytes", resp.StatusCode, len(body))
	}
	if h := resp.Header.Get(wire.HeaderContentSHA256); h != pdfSHA {
		t.Errorf("X-Content-SHA256 %q, want %s", h, pdfSHA)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''%D0%9E%D1%82%D0%B2%D0%B5%D1%82%20") || !strings.HasSuffix(cd, ".pdf") {
		t.Errorf("Content-Disposition %q does not carry the Cyrillic name in RFC 5987 form", cd)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
		t.Errorf("Content-Type %q, want application/pdf", ct)
	}
	resp, body = rawGet(t, s, manager.C.Token(), attPath, map[string]string{"Range": "bytes=100-"})
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, pdf[100:]) {
		t.Errorf("ranged download: HTTP %d, %d bytes, want 206 with %d", resp.StatusCode, len(body), len(pdf)-100)
	}
	// A digest that is not one of the message's files, and a message of
	// another application, are 404.
	other := draft(t, applicant)
	for _, p := range []string{
		fmt.Sprintf("/applications/%d/messages/%d/attachments/%s", a.ID, m.ID, strings.Repeat("a", 64)),
		fmt.Sprintf("/applications/%d/messages/%d/attachments/%s", other.ID, m.ID, pdfSHA),
	} {
		if resp, _ := rawGet(t, s, applicant.C.Token(), p, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: HTTP %d, want 404", p, resp.StatusCode)
		}
	}

	// A staff-channel file: the applicant reaches it neither through its
	// message nor by version id; nobody gets any chat file by version id.
	memoPath := filepath.Join(dir, "Служебная записка.txt")
	if err := os.WriteFile(memoPath, []byte("Замечания к разделу КР не согласованы с ведущим экспертом."), 0o600); err != nil {
		t.Fatal(err)
	}
	memoUp, memoSHA := chatFileUpload(t, manager, a.ID, memoPath)
	staffMsg, err := manager.C.PostMessage(ctx, a.ID, wire.PostMessageRequest{Channel: wire.ChannelStaff, Body: "Для экспертов", Attachments: []string{memoSHA}}, "")
	if err != nil || len(staffMsg.Files) != 1 {
		t.Fatalf("staff message with a file: %+v %v", staffMsg, err)
	}
	staffPath := fmt.Sprintf("/applications/%d/messages/%d/attachments/%s", a.ID, staffMsg.ID, memoSHA)
	if resp, _ := rawGet(t, s, applicant.C.Token(), staffPath, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("applicant GET of a staff-channel attachment: HTTP %d, want 404", resp.StatusCode)
	}
	if resp, b := rawGet(t, s, manager.C.Token(), staffPath, nil); resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), "Замечания") {
		t.Errorf("manager GET of the staff-channel attachment: HTTP %d", resp.StatusCode)
	}
	var applicantVersion int64
	for _, e := range mustAudit(t, s, applicant.ID) {
		if e.Action == "file_upload" && e.Details["sha256"] == pdfSHA {
			fmt.Sscan(e.ObjectID, &applicantVersion)
		}
	}
	if applicantVersion == 0 {
		t.Fatal("no file_upload audit row for the applicant's chat file")
	}
	for _, tc := range []struct {
		who     *testenv.Actor
		version int64
	}{{applicant, memoUp.VersionID}, {manager, memoUp.VersionID}, {applicant, applicantVersion}, {manager, applicantVersion}} {
		if resp, _ := rawGet(t, s, tc.who.C.Token(), fmt.Sprintf("/versions/%d/content", tc.version), nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: generic download of chat version %d: HTTP %d, want 404", tc.who.User.Login, tc.version, resp.StatusCode)
		}
	}
	if _, err := applicant.C.Download(ctx, memoUp.VersionID, io.Discard); wire.ErrorCode(err) != wire.CodeNotFound {
		t.Errorf("client download of a staff chat version as the applicant: %v, want not_found", err)
	}

	// Refused attachments, each with words naming the file.
	strayPath := filepath.Join(dir, "Чужое.txt")
	if err := os.WriteFile(strayPath, []byte("Файл другого заявления"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, straySHA := chatFileUpload(t, applicant, other.ID, strayPath)
	for _, tc := range []struct {
		name string
		by   *testenv.Actor
		ch   wire.Channel
		sha  string
	}{
		{"a file uploaded to another application", applicant, wire.ChannelApplicant, straySHA},
		{"a digest never uploaded", applicant, wire.ChannelApplicant, strings.Repeat("0", 64)},
		{"a staff-channel file named by the applicant", applicant, wire.ChannelApplicant, memoSHA},
	} {
		_, err := tc.by.C.PostMessage(ctx, a.ID, wire.PostMessageRequest{Channel: tc.ch, Body: "Смотрите файл", Attachments: []string{tc.sha}}, "")
		we, ok := wire.AsError(err)
		if !ok || we.Code != wire.CodeInvalid || we.Field != "attachments" || !strings.Contains(we.Message, "Вложение 1") {
			t.Errorf("%s: %v, want invalid attachments naming the file", tc.name, err)
		}
	}
	// Staff forward what they can read: the applicant's PDF into the staff
	// channel.
	fwd, err := manager.C.PostMessage(ctx, a.ID, wire.PostMessageRequest{Channel: wire.ChannelStaff, Body: "Пересылаю ответ заявителя", Attachments: []string{pdfSHA}}, "")
	if err != nil || !slices.Equal(fwd.Files, want) {
		t.Errorf("manager forwards the applicant's file: %+v %v", fwd.Files, err)
	}

	// Audit rows: the attachment and the downloads.
	if !slices.ContainsFunc(mustAudit(t, s, applicant.ID), func(e auditRow) bool { return e.Action == "chat_attach" && e.ObjectID == fmt.Sprint(m.ID) }) {
		t.Error("no chat_attach audit row for the applicant's message")
	}
	downloads := 0
	for _, e := range mustAudit(t, s, manager.ID) {
		if e.Action == "chat_file_download" && e.Details["sha256"] == pdfSHA {
			downloads++
		}
	}
	if downloads < 3 { // the workspace's, the whole and the ranged raw GET
		t.Errorf("%d chat_file_download audit rows for the manager, want at least 3", downloads)
	}
}

// auditRow is what the test reads of a journal row.
type auditRow struct {
	Action, ObjectID string
	Details          map[string]any
}

func mustAudit(t *testing.T, s *boot.Server, userID int64) []auditRow {
	t.Helper()
	rows, err := s.Service.Store().Read().AuditFor(context.Background(), userID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]auditRow, len(rows))
	for i, r := range rows {
		out[i] = auditRow{Action: r.Action, ObjectID: r.ObjectID, Details: r.Details}
	}
	return out
}
