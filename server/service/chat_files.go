package service

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Chat attachments. A file is uploaded to the application's chat section
// first (CreateUpload with wire.SectionChat); a message then names it by
// SHA-256. The only way back to its bytes is MessageAttachment, through a
// message the caller may read: the generic version download refuses chat
// versions, so a staff-channel file never reaches an applicant.

// checkAttachmentList checks the form of a message's attachment list
// before anything is looked up.
func checkAttachmentList(shas []string) error {
	if len(shas) > wire.MaxMessageFiles {
		return wire.E(wire.CodeInvalid, "attachments",
			fmt.Sprintf("К сообщению можно приложить не больше %d файлов; сейчас %d — отправьте остальные следующим сообщением", wire.MaxMessageFiles, len(shas)),
			fmt.Sprintf("A message takes at most %d files; it has %d — send the rest in another message", wire.MaxMessageFiles, len(shas)))
	}
	for i, sha := range shas {
		if !validSHA(sha) {
			return wire.E(wire.CodeInvalid, "attachments",
				fmt.Sprintf("Вложение %d: указывается SHA-256 загруженного файла — 64 шестнадцатеричных символа в нижнем регистре", i+1),
				fmt.Sprintf("Attachment %d: give the SHA-256 of an uploaded file — 64 lowercase hex characters", i+1))
		}
		if slices.Index(shas, sha) != i {
			return wire.E(wire.CodeInvalid, "attachments",
				fmt.Sprintf("Вложение %d повторяет вложение %d (тот же файл) — уберите повтор", i+1, slices.Index(shas, sha)+1),
				fmt.Sprintf("Attachment %d repeats attachment %d (the same file) — remove the repeat", i+1, slices.Index(shas, sha)+1))
		}
	}
	return nil
}

// readableChannels are the chat channels p may read.
func readableChannels(p *Principal) []wire.Channel {
	if p.Role.Staff() {
		return []wire.Channel{wire.ChannelApplicant, wire.ChannelStaff}
	}
	return []wire.Channel{wire.ChannelApplicant}
}

// attachableFiles resolves each SHA-256 to a finished chat upload of this
// application the caller may attach: their own, or one already in a
// message they may read. Anything else — never uploaded, still uploading,
// uploaded to another application, or a file of a channel they cannot
// read — is refused with the same message, naming the file.
func (s *Service) attachableFiles(ctx context.Context, tx *store.Tx, p *Principal, appID int64, shas []string) ([]store.ChatFile, error) {
	out := make([]store.ChatFile, 0, len(shas))
	for i, sha := range shas {
		f, err := tx.AttachableChatFile(ctx, appID, p.UserID, sha, readableChannels(p))
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return nil, wire.E(wire.CodeInvalid, "attachments",
				fmt.Sprintf("Вложение %d (SHA-256 %s…) не загружено в переписку этого заявления: загрузите файл (раздел chat), дождитесь окончания загрузки и отправьте сообщение снова", i+1, sha[:12]),
				fmt.Sprintf("Attachment %d (SHA-256 %s…) is not uploaded to this application's chat: upload the file (section chat), wait for it to finish and send the message again", i+1, sha[:12]))
		}
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// attachFiles links a new message to its files, fills them into the
// message (and so into its event) and records the attachment in the audit
// journal.
func (s *Service) attachFiles(ctx context.Context, tx *store.Tx, p *Principal, m *wire.Message, files []store.ChatFile) error {
	if len(files) == 0 {
		return nil
	}
	ids := make([]int64, len(files))
	m.Files = make([]wire.Attachment, len(files))
	details := make([]map[string]any, len(files))
	for i, f := range files {
		ids[i], m.Files[i] = f.VersionID, f.Attachment
		details[i] = map[string]any{"version": f.VersionID, "sha256": f.SHA256, "file_name": f.FileName, "size": f.Size}
	}
	if err := tx.AttachFiles(ctx, m.ID, ids); err != nil {
		return err
	}
	tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "chat_attach", ObjectType: "message", ObjectID: itoa(m.ID),
		Details: map[string]any{"app": m.AppID, "channel": m.Channel, "files": details}})
	return nil
}

// messagePreview is what a notification quotes of a message: its text, or
// the names of its files when it has none.
func messagePreview(body string, files []wire.Attachment) string {
	if body != "" || len(files) == 0 {
		return body
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.FileName
	}
	return "📎 " + strings.Join(names, ", ")
}

// MessageAttachment opens a file of a message for a caller who may see the
// application and read the message's channel (applicants never the staff
// channel); the SHA-256 must be one of the message's files. Every refusal
// is NotFound, as for a message that does not exist. A served download is
// recorded in the audit journal.
func (s *Service) MessageAttachment(ctx context.Context, p *Principal, appID, msgID int64, sha string) (io.ReadSeekCloser, wire.Attachment, error) {
	if err := s.requireFiles(); err != nil {
		return nil, wire.Attachment{}, err
	}
	if !validSHA(sha) {
		return nil, wire.Attachment{}, wire.E(wire.CodeInvalid, "sha", "SHA-256 в адресе: 64 шестнадцатеричных символа в нижнем регистре", "The SHA-256 in the path: 64 lowercase hex characters")
	}
	q := s.st.Read()
	a, err := s.loadVisible(ctx, q, p, appID, nil)
	if err != nil {
		return nil, wire.Attachment{}, err
	}
	gone := errNotFound("вложение сообщения", "message attachment")
	m, err := q.Message(ctx, appID, msgID)
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, wire.Attachment{}, gone
	}
	if err != nil {
		return nil, wire.Attachment{}, err
	}
	if !slices.Contains(readableChannels(p), m.Channel) {
		return nil, wire.Attachment{}, gone
	}
	i := slices.IndexFunc(m.Files, func(f wire.Attachment) bool { return f.SHA256 == sha })
	if i < 0 {
		return nil, wire.Attachment{}, gone
	}
	f := m.Files[i]
	r, _, err := s.files.Blobs.Open(ctx, f.SHA256)
	if err != nil {
		return nil, wire.Attachment{}, fmt.Errorf("open blob %s: %w", f.SHA256, err)
	}
	if _, err := s.st.Tx(ctx, func(tx *store.Tx) error {
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "chat_file_download", ObjectType: "message", ObjectID: itoa(m.ID),
			Details: map[string]any{"app": a.ID, "channel": m.Channel, "sha256": f.SHA256, "file_name": f.FileName}})
		return nil
	}); err != nil {
		r.Close()
		return nil, wire.Attachment{}, err
	}
	return r, f, nil
}
