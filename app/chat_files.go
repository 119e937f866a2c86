package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/expertiza/expertiza/sync/client"
	"github.com/expertiza/expertiza/sync/wire"
)

// ErrFilesOffline says a message with files was not sent because the
// server cannot be reached: files go up at once, never through the outbox
// (a queue of multi-megabyte files on disk, sent on some later start, is
// not what a user expects). The error also carries the words to show.
var ErrFilesOffline = errors.New("files cannot be sent offline")

// IsFilesOffline reports whether err is the offline refusal of a message
// with files.
func IsFilesOffline(err error) bool { return errors.Is(err, ErrFilesOffline) }

func filesOffline(cause error) error {
	e := wire.E(wire.CodeConflict, "files",
		"Нет связи с сервером: файлы отправляются только при подключении. Сообщение не отправлено; текст без файлов можно отправить — он уйдёт, когда связь восстановится.",
		"No connection to the server: files are sent only while connected. The message was not sent; text without files can be sent and goes out when the connection returns.")
	if cause != nil {
		return fmt.Errorf("%w: %w (%w)", ErrFilesOffline, e, cause)
	}
	return fmt.Errorf("%w: %w", ErrFilesOffline, e)
}

// chatFile is a file the user chose to attach, checked and hashed.
type chatFile struct {
	path string
	name string
	sha  string
	size int64
}

// checkChatFiles reads each chosen file once: it must be a non-empty
// regular file; the same content chosen twice is attached once.
func checkChatFiles(paths []string) ([]chatFile, error) {
	if len(paths) > wire.MaxMessageFiles {
		return nil, wire.E(wire.CodeInvalid, "files",
			fmt.Sprintf("К сообщению можно приложить не больше %d файлов — отправьте остальные следующим сообщением", wire.MaxMessageFiles),
			fmt.Sprintf("A message takes at most %d files — send the rest in another message", wire.MaxMessageFiles))
	}
	out := make([]chatFile, 0, len(paths))
	for _, p := range paths {
		name := filepath.Base(p)
		st, err := os.Stat(p)
		switch {
		case err != nil:
			return nil, wire.E(wire.CodeInvalid, "files", "Файл не найден или недоступен: "+p, "The file cannot be read: "+p)
		case st.IsDir():
			return nil, wire.E(wire.CodeInvalid, "files", "Выберите файл, а не папку: "+name, "Choose a file, not a folder: "+name)
		case st.Size() == 0:
			return nil, wire.E(wire.CodeInvalid, "files", "Файл пуст: "+name, "The file is empty: "+name)
		}
		sum, size, err := client.FileSHA256(p)
		if err != nil {
			return nil, wire.E(wire.CodeInvalid, "files", "Файл не удалось прочитать: "+name, "The file cannot be read: "+name)
		}
		if slices.ContainsFunc(out, func(f chatFile) bool { return f.sha == sum }) {
			continue
		}
		out = append(out, chatFile{path: p, name: name, sha: sum, size: size})
	}
	return out, nil
}

// PostMessageWithFiles uploads each file to the application's chat and
// then posts the message naming them. progress (may be nil) is told the
// bytes the server has acknowledged over all files. Files need the
// network: offline nothing is sent and the error says so (IsFilesOffline);
// if an upload fails or is cancelled, nothing is posted. Once every file
// is on the server the message goes through the outbox like any other, so
// a connection lost at that moment only delays it. With no files this is
// PostMessage, queueable offline.
func (w *Workspace) PostMessageWithFiles(ctx context.Context, appID int64, ch wire.Channel, body string, paths []string, progress func(done, total int64)) (wire.Message, error) {
	if len(paths) == 0 {
		return w.PostMessage(ctx, appID, ch, body)
	}
	if !ch.Valid() {
		return wire.Message{}, wire.E(wire.CodeInvalid, "channel", "Канал: applicant или staff", "Channel: applicant or staff")
	}
	if st, _ := w.store.Connection(); st != client.StateOnline {
		return wire.Message{}, filesOffline(nil)
	}
	files, err := checkChatFiles(paths)
	if err != nil {
		return wire.Message{}, err
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Message{}, err
	}
	var total, base int64
	for _, f := range files {
		total += f.size
	}
	shas := make([]string, len(files))
	for i, f := range files {
		var step func(done, _ int64)
		if progress != nil {
			step = func(done, _ int64) { progress(base+done, total) }
		}
		if err := w.uploadChatFile(ctx, c, appID, f, step); err != nil {
			if errors.Is(err, client.ErrNetwork) {
				return wire.Message{}, filesOffline(err)
			}
			return wire.Message{}, err
		}
		base += f.size
		shas[i] = f.sha
	}
	req := wire.PostMessageRequest{Channel: ch, Body: strings.TrimSpace(body), Attachments: shas}
	return w.sendMessage(ctx, appID, req)
}

// uploadChatFile sends one file to the application's chat section; a
// cancelled transfer is dropped on the server.
func (w *Workspace) uploadChatFile(ctx context.Context, c *client.Client, appID int64, f chatFile, progress func(done, total int64)) error {
	var up wire.Upload
	if err := c.Call(ctx, http.MethodPost, fmt.Sprintf("/applications/%d/uploads", appID),
		wire.CreateUploadRequest{Section: wire.SectionChat, FileName: f.name, Size: f.size, SHA256: f.sha}, &up, ""); err != nil {
		return fmt.Errorf("start upload of %s: %w", f.name, err)
	}
	if _, err := c.SendChunks(ctx, up, f.path, uploadParallel, progress); err != nil {
		if ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if cerr := c.Call(cctx, http.MethodDelete, "/uploads/"+up.ID, nil, nil, ""); cerr != nil {
				w.log.Info("chat upload not cancelled on the server", "upload", up.ID, "err", cerr)
			}
		}
		return fmt.Errorf("upload %s: %w", f.name, err)
	}
	return nil
}

// sendMessage posts a prepared message: through the outbox when there is
// one (on disk first, sent once), else directly with retries.
func (w *Workspace) sendMessage(ctx context.Context, appID int64, req wire.PostMessageRequest) (wire.Message, error) {
	if w.box() != nil {
		raw, err := w.submit(ctx, CommandMessage, appID, http.MethodPost, messagesPath(appID), req)
		if err != nil {
			return wire.Message{}, fmt.Errorf("post to %s chat of application %d: %w", req.Channel, appID, err)
		}
		var m wire.Message
		if err := json.Unmarshal(raw, &m); err != nil {
			return wire.Message{}, fmt.Errorf("post to chat: decode answer: %w", err)
		}
		w.store.AddMessage(m)
		return m, nil
	}
	c, err := w.sess.client()
	if err != nil {
		return wire.Message{}, err
	}
	key := client.NewIdempotencyKey()
	m, err := retryNetwork(ctx, func() (wire.Message, error) {
		return c.PostMessage(ctx, appID, req, key)
	})
	if err != nil {
		return wire.Message{}, fmt.Errorf("post to %s chat of application %d: %w", req.Channel, appID, err)
	}
	w.store.AddMessage(m)
	return m, nil
}

// DownloadAttachment saves a file of a chat message to dst. A copy in the
// local file cache is used when its bytes still hash to the file's SHA-256
// (so a file seen once opens offline); otherwise it is fetched through the
// message and verified before dst appears (written beside it and renamed,
// so a failed or tampered download never leaves a file under the chosen
// name).
func (w *Workspace) DownloadAttachment(ctx context.Context, msg wire.Message, file wire.Attachment, dst string) error {
	if !slices.ContainsFunc(msg.Files, func(f wire.Attachment) bool { return f.SHA256 == file.SHA256 }) {
		return wire.E(wire.CodeInvalid, "file", "Этого файла нет в сообщении", "The message has no such file")
	}
	if cached := w.cachedFile(file.SHA256); cached != "" {
		if err := copyVerified(cached, dst, file.SHA256); err == nil {
			return nil
		}
		_ = os.Remove(cached) // damaged: fetch again
	}
	c, err := w.sess.client()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
	if err != nil {
		return fmt.Errorf("save to %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name())
	err = c.DownloadAttachment(ctx, msg.AppID, msg.ID, file.SHA256, tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(err, client.ErrDigest) {
			return wire.E(wire.CodeInvalid, "file",
				"Полученный файл не совпадает с контрольной суммой; он не сохранён. Повторите загрузку.",
				"The received file does not match its checksum; it was not saved. Download it again.")
		}
		return fmt.Errorf("download %s: %w", file.FileName, err)
	}
	if dir := w.filesDir(); dir != "" {
		if err := copyVerified(tmp.Name(), filepath.Join(dir, file.SHA256), file.SHA256); err != nil {
			w.log.Warn("file cache not written", "err", err)
		}
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("save to %s: %w", dst, err)
	}
	return nil
}
