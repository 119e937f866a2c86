package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// chatShared is, per world, the submitted application with one message in
// each channel carrying a file: the applicant-channel one posted by the
// member, the staff-channel one by the lead.
type chatShared struct {
	app                wire.Application
	applicant, staff   wire.Message
	applicantVersionID int64 // the chat version behind the applicant's file
}

var (
	chatSharedMu sync.Mutex
	chatWorlds   = map[*world]*chatShared{}
)

func (w *world) chatShared() *chatShared {
	chatSharedMu.Lock()
	defer chatSharedMu.Unlock()
	if sh, ok := chatWorlds[w]; ok {
		return sh
	}
	a := w.app("submitted", false)
	up := chatUpload(w.t, w.actors["member"], a.ID, "Письмо заявителя.txt", "Ответ на запрос о комплектности")
	sh := &chatShared{app: a, applicantVersionID: up.VersionID,
		applicant: chatPost(w.t, w.actors["member"], a.ID, wire.ChannelApplicant, up),
		staff:     chatPost(w.t, w.actors["lead"], a.ID, wire.ChannelStaff, chatUpload(w.t, w.actors["lead"], a.ID, "Служебная записка.txt", "Только для экспертов")),
	}
	chatWorlds[w] = sh
	return sh
}

// chatFile is a finished chat upload and the digest of its content.
type chatFile struct {
	wire.Upload
	sha string
}

// chatUpload uploads text as a chat file of the application, by actor.
func chatUpload(t testing.TB, by *testenv.Actor, appID int64, name, text string) chatFile {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(text))
	up, err := by.C.StartUpload(ctx, appID, wire.SectionChat, "", path)
	if err != nil {
		t.Fatalf("fixture chat upload: %v", err)
	}
	if up, err = by.C.SendChunks(ctx, up, path, 1, nil); err != nil || up.VersionID == 0 {
		t.Fatalf("fixture chat upload: %+v %v", up, err)
	}
	return chatFile{Upload: up, sha: hex.EncodeToString(sum[:])}
}

// chatPost posts a message carrying the uploaded file.
func chatPost(t testing.TB, by *testenv.Actor, appID int64, ch wire.Channel, f chatFile) wire.Message {
	t.Helper()
	m, err := by.C.PostMessage(context.Background(), appID, wire.PostMessageRequest{Channel: ch, Body: "Файл во вложении", Attachments: []string{f.sha}}, "")
	if err != nil {
		t.Fatalf("fixture message with a file: %v", err)
	}
	if len(m.Files) != 1 || m.Files[0].SHA256 != f.sha {
		t.Fatalf("fixture message files: %+v", m.Files)
	}
	return m
}

// chatFileRequest builds the call of a chat-attachment row; ok is false
// for other rows.
func (w *world) chatFileRequest(r matrixRow) (method, path string, body any, ok bool) {
	switch {
	case strings.Contains(r.path, "/attachments/"):
		sh := w.chatShared()
		m := sh.applicant
		if strings.Contains(r.state, "staff-channel") {
			m = sh.staff
		}
		p := strings.NewReplacer("{id}", strconv.FormatInt(sh.app.ID, 10), "{mid}", strconv.FormatInt(m.ID, 10), "{sha}", m.Files[0].SHA256).Replace(r.path)
		return r.method, p, nil, true
	case r.path == "/api/v1/versions/{id}/content" && strings.Contains(r.state, "chat attachment"):
		sh := w.chatShared()
		return http.MethodGet, "/api/v1/versions/" + strconv.FormatInt(sh.applicantVersionID, 10) + "/content", nil, true
	}
	return "", "", nil, false
}
