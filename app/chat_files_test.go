package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
)

func TestCheckChatFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pdf := write("Ответ.pdf", "%PDF-1.7 ответ")
	copyOf := write("Копия ответа.pdf", "%PDF-1.7 ответ") // same content, another name
	png := write("Схема.png", "PNG схема")
	empty := write("Пустой.txt", "")
	many := make([]string, wire.MaxMessageFiles+1)
	for i := range many {
		many[i] = write(fmt.Sprintf("f%d.txt", i), fmt.Sprint(i))
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	tests := []struct {
		name    string
		paths   []string
		want    []string // names kept, in order
		wantErr string   // part of the Russian refusal
	}{
		{"two files", []string{pdf, png}, []string{"Ответ.pdf", "Схема.png"}, ""},
		{"the same content twice goes once", []string{pdf, copyOf, png}, []string{"Ответ.pdf", "Схема.png"}, ""},
		{"a missing file", []string{pdf, filepath.Join(dir, "нет.pdf")}, nil, "Файл не найден"},
		{"a folder", []string{dir}, nil, "а не папку"},
		{"an empty file", []string{empty}, nil, "Файл пуст: Пустой.txt"},
		{"too many", many, nil, "не больше 10 файлов"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkChatFiles(tt.paths)
			if tt.wantErr != "" {
				we, ok := wire.AsError(err)
				if !ok || we.Field != "files" || !strings.Contains(we.Message, tt.wantErr) {
					t.Fatalf("error %v, want a refusal saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range got {
				names = append(names, f.name)
			}
			if fmt.Sprint(names) != fmt.Sprint(tt.want) {
				t.Fatalf("kept %v, want %v", names, tt.want)
			}
			if got[0].sha != sum("%PDF-1.7 ответ") || got[0].size != int64(len("%PDF-1.7 ответ")) {
				t.Errorf("first file %+v: wrong digest or size", got[0])
			}
		})
	}
}

// TestPostMessageWithFilesOffline: without a live connection nothing is
// uploaded or queued, and the refusal says files need the network.
func TestPostMessageWithFilesOffline(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	st := NewStore(log)
	w := NewWorkspace(log, NewSession(log, NewDeviceID(), "test"), st)
	p := filepath.Join(t.TempDir(), "Ответ.pdf")
	if err := os.WriteFile(p, []byte("%PDF-1.7"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := w.PostMessageWithFiles(context.Background(), 1, wire.ChannelApplicant, "Ответ", []string{p}, nil)
	if !IsFilesOffline(err) || IsQueued(err) {
		t.Fatalf("offline post with files: %v, want the offline refusal, not a queued command", err)
	}
	if msg := UserMessage(err, false); !strings.Contains(msg, "файлы отправляются только при подключении") {
		t.Errorf("the user is told %q", msg)
	}
	if len(st.Pending()) != 0 {
		t.Errorf("something was queued: %+v", st.Pending())
	}
}

// TestDownloadAttachmentNotInMessage refuses a file the message does not
// carry before anything is fetched.
func TestDownloadAttachmentNotInMessage(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	w := NewWorkspace(log, NewSession(log, NewDeviceID(), "test"), NewStore(log))
	m := wire.Message{ID: 1, AppID: 1, Files: []wire.Attachment{{SHA256: strings.Repeat("a", 64), FileName: "a.pdf", Size: 1}}}
	dst := filepath.Join(t.TempDir(), "b.pdf")
	err := w.DownloadAttachment(context.Background(), m, wire.Attachment{SHA256: strings.Repeat("b", 64), FileName: "b.pdf"}, dst)
	if wire.ErrorCode(err) != wire.CodeInvalid {
		t.Fatalf("download of a file not in the message: %v", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("a refused download left %s", dst)
	}
}
