package service

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Blobs is the content-addressed store files end up in (server/blob).
type Blobs interface {
	Put(ctx context.Context, r io.Reader, want string) (digest string, size int64, err error)
	Open(ctx context.Context, digest string) (io.ReadSeekCloser, int64, error)
}

// FileCheck is what validation learned about a file.
type FileCheck struct {
	Kind      string
	Pages     int
	PageSizes []wire.PageSize
	Encrypted bool
}

// Validator decides whether an uploaded file may become a version; its
// refusals are *wire.Error saying what to fix.
type Validator interface {
	Check(ctx context.Context, path, name string) (FileCheck, error)
}

// SignatureChecker parses a detached signature against the document it
// signs and returns a JSON report.
type SignatureChecker interface {
	Check(ctx context.Context, sig []byte, doc io.Reader) (json.RawMessage, error)
}

// Files configures document storage.
type Files struct {
	Blobs     Blobs
	SpoolDir  string // chunks of uploads in progress
	Validator Validator
	Signature SignatureChecker
	ChunkSize int   // bytes per chunk; default 8 MiB
	Quota     int64 // bytes per user; default 50 GiB
	StaleTTL  time.Duration
}

// WithFiles enables uploads and downloads.
func WithFiles(f Files) Option {
	return func(s *Service) {
		if f.ChunkSize <= 0 {
			f.ChunkSize = 8 << 20
		}
		if f.Quota <= 0 {
			f.Quota = 50 << 30
		}
		if f.StaleTTL <= 0 {
			f.StaleTTL = 24 * time.Hour
		}
		s.files = &f
	}
}

func (s *Service) requireFiles() error {
	if s.files == nil || s.files.Blobs == nil {
		return wire.E(wire.CodeInternal, "", "Хранилище файлов не настроено", "File storage is not configured")
	}
	return nil
}

// MaxSignatureBytes bounds a detached signature, which is read whole.
const MaxSignatureBytes = 10 << 20

// uploadStatuses are the statuses in which the applicant may add files.
var uploadStatuses = []wire.Status{wire.StatusDraft, wire.StatusNeedsCorrection, wire.StatusInReview, wire.StatusRemarksIssued}

func validSHA(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// CreateUpload starts a resumable upload of one file.
func (s *Service) CreateUpload(ctx context.Context, p *Principal, appID int64, r wire.CreateUploadRequest) (wire.Upload, error) {
	if err := s.requireFiles(); err != nil {
		return wire.Upload{}, err
	}
	r.FileName, r.Name, r.Section = strings.TrimSpace(r.FileName), strings.TrimSpace(r.Name), strings.TrimSpace(r.Section)
	switch {
	case r.Size <= 0:
		return wire.Upload{}, wire.E(wire.CodeInvalid, "size", "Размер файла должен быть больше нуля", "The file size must be positive")
	case !validSHA(r.SHA256):
		return wire.Upload{}, wire.E(wire.CodeInvalid, "sha256", "Укажите SHA-256 файла: 64 шестнадцатеричных символа в нижнем регистре", "Give the file's SHA-256: 64 lowercase hex characters")
	case r.FileName == "" || utf8.RuneCountInString(r.FileName) > 255 || strings.ContainsAny(r.FileName, "/\\\x00"):
		return wire.Upload{}, wire.E(wire.CodeInvalid, "file_name", "Имя файла: от 1 до 255 символов без / и \\", "File name: 1 to 255 characters without / or \\")
	}
	if r.Name == "" {
		r.Name = r.FileName
	}
	q := s.st.Read()
	a, err := s.loadVisible(ctx, q, p, appID, nil)
	if err != nil {
		return wire.Upload{}, err
	}
	switch {
	case r.Section == wire.SectionChat:
		// Chat attachments: anyone who may post in the application's chat.
		if p.Role == wire.RoleAdmin {
			return wire.Upload{}, errForbidden("Администратор не участвует в переписке по заявлениям", "Administrators do not post in application chats")
		}
	case r.SignsVersion != 0:
		ref, err := q.VersionRef(ctx, r.SignsVersion)
		if err != nil || ref.AppID != appID {
			return wire.Upload{}, errNotFound("версия файла", "file version")
		}
		r.Section, r.Name = ref.Section, ref.Name
		fallthrough
	default:
		if p.Role != wire.RoleApplicant {
			return wire.Upload{}, errForbidden("Документацию загружает заявитель", "Only the applicant uploads documentation")
		}
		if _, ok := wire.SectionByCode(r.Section); !ok && r.Section != wire.SectionSupporting {
			return wire.Upload{}, wire.E(wire.CodeInvalid, "section", "Неизвестный раздел «"+r.Section+"»: используйте код классификатора (например, 07.03) или app для документов заявления",
				"Unknown section "+r.Section+": use a classifier code such as 07.03, or app for supporting documents")
		}
		if !slices.Contains(uploadStatuses, a.Status) {
			return wire.Upload{}, wire.E(wire.CodeConflict, "status", "Файлы можно загружать в статусах «Черновик», «Требуется доработка», «Проведение экспертизы» и «Направлены замечания»; сейчас: «"+a.Status.Label()+"»",
				"Files can be uploaded in draft, needs-correction, in-review and remarks-issued statuses; now: "+string(a.Status))
		}
	}
	if r.SignsVersion != 0 && r.Size > MaxSignatureBytes {
		return wire.Upload{}, wire.E(wire.CodeTooLarge, "size", "Файл подписи больше 10 МБ: загрузите открепленную подпись (.sig), а не подписанный документ целиком",
			"The signature file is over 10 MB: upload the detached signature (.sig), not the signed document")
	}
	used, err := q.UsedBytes(ctx, p.UserID)
	if err != nil {
		return wire.Upload{}, err
	}
	if used+r.Size > s.files.Quota {
		return wire.Upload{}, wire.E(wire.CodeTooLarge, "size", fmt.Sprintf("Превышена квота: занято %d МБ из %d МБ — обратитесь к администратору", used>>20, s.files.Quota>>20),
			fmt.Sprintf("Quota exceeded: %d MB of %d MB used — contact the administrator", used>>20, s.files.Quota>>20))
	}
	idb := make([]byte, 16)
	_, _ = rand.Read(idb)
	u := store.UploadRow{Upload: wire.Upload{ID: hex.EncodeToString(idb), AppID: appID, FileName: r.FileName, Size: r.Size, ChunkSize: s.files.ChunkSize, State: "open"},
		UserID: p.UserID, Section: r.Section, Name: r.Name, SHA256: r.SHA256, SignsVersion: r.SignsVersion}
	if err := os.MkdirAll(s.files.SpoolDir, 0o700); err != nil {
		return wire.Upload{}, fmt.Errorf("spool folder: %w", err)
	}
	f, err := os.OpenFile(s.spoolPath(u.ID), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return wire.Upload{}, fmt.Errorf("create spool file: %w", err)
	}
	if err := f.Truncate(r.Size); err != nil {
		f.Close()
		return wire.Upload{}, wire.E(wire.CodeTooLarge, "size", "На сервере не хватает места для файла — повторите позже", "The server has no room for the file — try later")
	}
	f.Close()
	if _, err := s.st.Tx(ctx, func(tx *store.Tx) error { return tx.InsertUpload(ctx, u) }); err != nil {
		os.Remove(s.spoolPath(u.ID))
		return wire.Upload{}, err
	}
	u.Chunks = int((u.Size + int64(u.ChunkSize) - 1) / int64(u.ChunkSize))
	u.Received = []int{}
	return u.Upload, nil
}

func (s *Service) spoolPath(id string) string { return filepath.Join(s.files.SpoolDir, id+".part") }

// ownUpload loads an upload of the caller; anyone else's is NotFound.
func (s *Service) ownUpload(ctx context.Context, p *Principal, id string) (*store.UploadRow, error) {
	if err := s.requireFiles(); err != nil {
		return nil, err
	}
	if err := requireFull(p); err != nil {
		return nil, err
	}
	u, err := s.st.Read().Upload(ctx, id)
	if err != nil || u.UserID != p.UserID {
		return nil, errNotFound("загрузка", "upload")
	}
	return u, nil
}

// UploadStatus tells which chunks the server has, for resuming.
func (s *Service) UploadStatus(ctx context.Context, p *Principal, id string) (wire.Upload, error) {
	u, err := s.ownUpload(ctx, p, id)
	if err != nil {
		return wire.Upload{}, err
	}
	out := u.Upload
	if out.Error != "" {
		out.Error = uploadError(out.Error).Message
	}
	return out, nil
}

// uploadError decodes the refusal stored with a failed upload.
func uploadError(stored string) *wire.Error {
	var e wire.Error
	if json.Unmarshal([]byte(stored), &e) != nil || e.Code == "" {
		return wire.E(wire.CodeInvalid, "file", stored, stored)
	}
	return &e
}

// PutChunk writes chunk idx (exactly its expected length) and acknowledges
// it once it is on disk. Chunks may come in any order and in parallel; a
// repeated chunk overwrites the same bytes.
func (s *Service) PutChunk(ctx context.Context, p *Principal, id string, idx int, body io.Reader) (wire.Upload, error) {
	u, err := s.ownUpload(ctx, p, id)
	if err != nil {
		return wire.Upload{}, err
	}
	if u.State != "open" {
		return wire.Upload{}, wire.E(wire.CodeConflict, "state", "Загрузка уже завершена ("+u.State+")", "The upload is already finished ("+u.State+")")
	}
	if idx < 0 || idx >= u.Chunks {
		return wire.Upload{}, wire.E(wire.CodeInvalid, "chunk", fmt.Sprintf("Номер части вне диапазона 0…%d", u.Chunks-1), fmt.Sprintf("Chunk index outside 0…%d", u.Chunks-1))
	}
	off := int64(idx) * int64(u.ChunkSize)
	want := min(int64(u.ChunkSize), u.Size-off)
	// Read the whole chunk first: a short or long body must not touch bytes
	// already acknowledged.
	buf := make([]byte, want+1)
	n, err := io.ReadFull(body, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return wire.Upload{}, wire.E(wire.CodeInvalid, "chunk", "Передача части прервалась — отправьте её ещё раз", "The chunk transfer broke off — send it again")
	}
	if int64(n) != want {
		return wire.Upload{}, wire.E(wire.CodeInvalid, "chunk", fmt.Sprintf("Часть %d должна иметь размер %d байт, получено не меньше %d", idx, want, n),
			fmt.Sprintf("Chunk %d must be %d bytes, got at least %d", idx, want, n))
	}
	f, err := os.OpenFile(s.spoolPath(id), os.O_WRONLY, 0)
	if err != nil {
		return wire.Upload{}, wire.E(wire.CodeConflict, "state", "Временный файл загрузки утрачен — начните загрузку заново", "The upload's spool file is gone — start the upload again")
	}
	defer f.Close()
	if _, err := f.WriteAt(buf[:n], off); err != nil {
		return wire.Upload{}, noRoom(fmt.Errorf("write chunk: %w", err))
	}
	if err := f.Sync(); err != nil {
		return wire.Upload{}, noRoom(fmt.Errorf("sync spool: %w", err))
	}
	got, err := s.st.Read().AckChunk(ctx, id, idx, int(want))
	if err != nil {
		return wire.Upload{}, err
	}
	// Milestones (25, 50, 75 %) go to the uploader's other devices.
	pct := got * 100 / u.Chunks
	prev := (got - 1) * 100 / u.Chunks
	if pct/25 != prev/25 && pct < 100 {
		_, _ = write(ctx, s, nil, func(tx *store.Tx) (struct{}, error) {
			tx.Emit(store.EventRow{Kind: wire.EventUploadProgress, AppID: u.AppID, UserID: p.UserID,
				Payload: mustJSON(wire.UploadProgress{UploadID: id, AppID: u.AppID, Percent: pct / 25 * 25})})
			return struct{}{}, nil
		})
	}
	u2, err := s.st.Read().Upload(ctx, id)
	if err != nil {
		return wire.Upload{}, err
	}
	return u2.Upload, nil
}

// FinishUpload checks the whole file's SHA-256 against the claim,
// validates it, stores the blob and makes it a new version (or a
// signature). Finishing twice returns the same outcome.
func (s *Service) FinishUpload(ctx context.Context, p *Principal, id string) (wire.Upload, error) {
	u, err := s.ownUpload(ctx, p, id)
	if err != nil {
		return wire.Upload{}, err
	}
	switch u.State {
	case "done":
		return u.Upload, nil
	case "failed":
		return u.Upload, uploadError(u.Error)
	}
	if len(u.Received) != u.Chunks {
		missing := u.Chunks - len(u.Received)
		return wire.Upload{}, wire.E(wire.CodeConflict, "chunks", fmt.Sprintf("Не хватает %d частей из %d — дошлите их и завершите снова", missing, u.Chunks),
			fmt.Sprintf("%d of %d chunks are missing — send them and finish again", missing, u.Chunks))
	}
	path := s.spoolPath(id)
	fail := func(e *wire.Error) (wire.Upload, error) {
		stored, _ := json.Marshal(e) // both languages, for a repeated finish
		_, _ = s.st.Tx(ctx, func(tx *store.Tx) error { return tx.FinishUpload(ctx, id, "failed", string(stored), 0) })
		os.Remove(path)
		return wire.Upload{}, e
	}
	sum, err := hashFile(path)
	if err != nil {
		return wire.Upload{}, err
	}
	if sum != u.SHA256 {
		return fail(wire.E(wire.CodeInvalid, "sha256", "Контрольная сумма SHA-256 полученного файла не совпадает с заявленной: файл повреждён при передаче — загрузите его заново",
			"The SHA-256 of the received file does not match the declared one: it was damaged in transit — upload it again"))
	}
	check := FileCheck{Kind: strings.TrimPrefix(strings.ToLower(filepath.Ext(u.FileName)), ".")}
	if s.files.Validator != nil && u.Section != wire.SectionChat {
		check, err = s.files.Validator.Check(ctx, path, u.FileName)
		if err != nil {
			if we, ok := wire.AsError(err); ok {
				return fail(we)
			}
			return wire.Upload{}, err
		}
	}
	var report json.RawMessage
	if u.SignsVersion != 0 {
		if report, err = s.checkSignature(ctx, path, u.SignsVersion); err != nil {
			if we, ok := wire.AsError(err); ok {
				return fail(we)
			}
			return wire.Upload{}, err
		}
	}
	size, err := s.storeBlob(ctx, path, u.SHA256)
	if err != nil {
		return wire.Upload{}, noRoom(fmt.Errorf("store blob: %w", err))
	}
	out, err := write(ctx, s, nil, func(tx *store.Tx) (wire.Upload, error) {
		cur, err := tx.UploadForUpdate(ctx, id)
		if err != nil {
			return wire.Upload{}, err
		}
		if cur.State == "done" { // a concurrent finish won
			return cur.Upload, nil
		}
		a, err := tx.ApplicationForUpdate(ctx, u.AppID)
		if err != nil {
			return wire.Upload{}, err
		}
		if u.Section != wire.SectionChat && !slices.Contains(uploadStatuses, a.Status) {
			// The application moved on while the file was uploading.
			return wire.Upload{}, wire.E(wire.CodeConflict, "status", "Заявление перешло в статус «"+a.Status.Label()+"», в котором файлы не принимаются; загрузка сохранена — завершите её, когда статус позволит",
				"The application moved to "+string(a.Status)+", which does not accept files; the upload is kept — finish it when the status allows")
		}
		var versionID int64
		if u.SignsVersion != 0 {
			if err := tx.InsertSignature(ctx, u.SignsVersion, u.SHA256, size, u.FileName, report, p.UserID); err != nil {
				return wire.Upload{}, err
			}
			versionID = u.SignsVersion
		} else {
			if _, versionID, err = tx.InsertVersion(ctx, store.NewVersion{AppID: u.AppID, Section: u.Section, Name: u.Name, SHA256: u.SHA256,
				Size: size, FileName: u.FileName, Kind: check.Kind, Pages: check.Pages, PageSizes: check.PageSizes, Encrypted: check.Encrypted,
				UploadedBy: p.UserID}); err != nil {
				return wire.Upload{}, err
			}
		}
		if err := tx.FinishUpload(ctx, id, "done", "", versionID); err != nil {
			return wire.Upload{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: uploadAction(u.SignsVersion), ObjectType: "document_version", ObjectID: itoa(versionID),
			Details: map[string]any{"app": u.AppID, "section": u.Section, "name": u.Name, "sha256": u.SHA256, "size": size, "signature": u.SignsVersion != 0}})
		if u.Section != wire.SectionChat {
			if err := s.emitDocument(ctx, tx, a, versionID); err != nil {
				return wire.Upload{}, err
			}
			if err := s.notifyApp(ctx, tx, a, p.UserID, wire.Notification{Kind: wire.NotifyStatus, AppID: a.ID, Title: "Новая версия файла",
				Body: "Заявление " + a.Number + ": загружен файл «" + u.FileName + "» (раздел " + u.Section + ")."}); err != nil {
				return wire.Upload{}, err
			}
		}
		done := u.Upload
		done.State, done.VersionID, done.Received = "done", versionID, u.Received
		return done, nil
	})
	if err != nil {
		return wire.Upload{}, err
	}
	os.Remove(path)
	return out, nil
}

// noRoom turns a full disk (or quota) under the spool or the blob store
// into the refusal the user can act on, as CreateUpload words it; the
// chunk is not acknowledged and the upload stays open, so it can be
// resumed once there is room. Other errors pass unchanged.
func noRoom(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return fmt.Errorf("%w (%w)", wire.E(wire.CodeTooLarge, "", "На сервере не хватает места для файла — повторите позже", "The server has no room for the file — try later"), err)
	}
	return err
}

// Adopter is a blob store that can take a verified file by rename.
type Adopter interface {
	Adopt(ctx context.Context, path, digest string) (int64, error)
}

// storeBlob moves the verified spool file into the blob store: by rename
// when the store can (no second copy of a large file), else by copying.
func (s *Service) storeBlob(ctx context.Context, path, digest string) (int64, error) {
	if a, ok := s.files.Blobs.(Adopter); ok {
		return a.Adopt(ctx, path, digest)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open spool: %w", err)
	}
	defer f.Close()
	_, size, err := s.files.Blobs.Put(ctx, f, digest)
	return size, err
}

func (s *Service) checkSignature(ctx context.Context, sigPath string, versionID int64) (json.RawMessage, error) {
	if s.files.Signature == nil {
		return json.RawMessage(`{"verdict":"not_checked"}`), nil
	}
	sigBytes, err := os.ReadFile(sigPath)
	if err != nil {
		return nil, err
	}
	ref, err := s.st.Read().VersionRef(ctx, versionID)
	if err != nil {
		return nil, err
	}
	doc, _, err := s.files.Blobs.Open(ctx, ref.SHA256)
	if err != nil {
		return nil, fmt.Errorf("open signed document: %w", err)
	}
	defer doc.Close()
	return s.files.Signature.Check(ctx, sigBytes, doc)
}

// emitDocument sends the logical file with the one version that changed.
func (s *Service) emitDocument(ctx context.Context, tx *store.Tx, a *store.AppRow, versionID int64) error {
	ref, err := tx.VersionRef(ctx, versionID)
	if err != nil {
		return err
	}
	docs, err := tx.Documents(ctx, a.ID, ref.DocID)
	if err != nil || len(docs) == 0 {
		return err
	}
	d := docs[0]
	d.Versions = slices.DeleteFunc(d.Versions, func(v wire.DocumentVersion) bool { return v.ID != versionID })
	experts, err := tx.AppExpertIDs(ctx, a.ID)
	if err != nil {
		return err
	}
	tx.Emit(store.EventRow{Kind: wire.EventDocumentVersion, AppID: a.ID, OrgID: a.OrgID, ExpertIDs: experts,
		OrgOnly: a.Status == wire.StatusDraft, Payload: mustJSON(d)})
	return nil
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("open spool: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash spool: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CancelUpload drops an unfinished upload.
func (s *Service) CancelUpload(ctx context.Context, p *Principal, id string) error {
	u, err := s.ownUpload(ctx, p, id)
	if err != nil {
		return err
	}
	if u.State == "done" {
		return wire.E(wire.CodeConflict, "state", "Загрузка уже завершена", "The upload is already finished")
	}
	os.Remove(s.spoolPath(id))
	if err := s.st.Read().DeleteUpload(ctx, id); err != nil {
		return err
	}
	return s.auditAccess(ctx, p, wire.AuditUploadCancel, "upload", id, map[string]any{"app": u.AppID, "file_name": u.FileName, "section": u.Section})
}

// CleanStaleUploads removes uploads untouched for longer than StaleTTL.
func (s *Service) CleanStaleUploads(ctx context.Context) (int, error) {
	if s.files == nil {
		return 0, nil
	}
	ids, err := s.st.Read().StaleUploads(ctx, s.now().Add(-s.files.StaleTTL))
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		os.Remove(s.spoolPath(id))
		if err := s.st.Read().DeleteUpload(ctx, id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// Documents lists an application's files and versions.
func (s *Service) Documents(ctx context.Context, p *Principal, appID int64) ([]wire.Document, error) {
	q := s.st.Read()
	if _, err := s.loadVisible(ctx, q, p, appID, nil); err != nil {
		return nil, err
	}
	return q.Documents(ctx, appID, 0)
}

// Completeness lists mandatory sections without files.
func (s *Service) Completeness(ctx context.Context, p *Principal, appID int64) (wire.Completeness, error) {
	q := s.st.Read()
	a, err := s.loadVisible(ctx, q, p, appID, nil)
	if err != nil {
		return wire.Completeness{}, err
	}
	present, err := q.SectionsPresent(ctx, appID)
	if err != nil {
		return wire.Completeness{}, err
	}
	req := wire.RequiredSections(a.ExpertiseKind)
	out := wire.Completeness{Required: req, Missing: []string{}}
	for _, sec := range req {
		if !slices.Contains(present, sec) {
			out.Missing = append(out.Missing, sec)
		}
	}
	return out, nil
}

// Download opens a version's content for a caller who may see it. Chat
// attachments are not versions to this door: they are NotFound here.
func (s *Service) Download(ctx context.Context, p *Principal, versionID int64) (io.ReadSeekCloser, *store.VersionRef, error) {
	if err := s.requireFiles(); err != nil {
		return nil, nil, err
	}
	q := s.st.Read()
	ref, err := q.VersionRef(ctx, versionID)
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, nil, errNotFound("файл", "file")
	}
	if err != nil {
		return nil, nil, err
	}
	if ref.Section == wire.SectionChat {
		// A chat attachment is reached only through a message the caller
		// may read (MessageAttachment): by version id, a staff-channel
		// file would reach anyone who sees the application.
		return nil, nil, errNotFound("файл", "file")
	}
	if _, err := s.loadVisible(ctx, q, p, ref.AppID, nil); err != nil {
		return nil, nil, err
	}
	r, _, err := s.files.Blobs.Open(ctx, ref.SHA256)
	if err != nil {
		return nil, nil, fmt.Errorf("open blob %s: %w", ref.SHA256, err)
	}
	return r, ref, nil
}

// Review sets a version's review status (assigned experts and managers).
func (s *Service) Review(ctx context.Context, p *Principal, versionID int64, r wire.ReviewRequest) (wire.Document, error) {
	switch r.Status {
	case wire.ReviewAccepted, wire.ReviewPending:
	case wire.ReviewRejected:
		if strings.TrimSpace(r.Comment) == "" {
			return wire.Document{}, wire.E(wire.CodeCommentRequired, "comment", "Укажите, почему файл отклонён", "Say why the file is rejected")
		}
	default:
		return wire.Document{}, wire.E(wire.CodeInvalid, "status", "Статус проверки: pending, accepted или rejected", "Review status: pending, accepted or rejected")
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Document, error) {
		ref, err := tx.VersionRef(ctx, versionID)
		if err != nil {
			return wire.Document{}, errNotFound("файл", "file")
		}
		a, err := s.loadVisible(ctx, tx.Q, p, ref.AppID, nil)
		if err != nil {
			return wire.Document{}, err
		}
		if p.Role != wire.RoleExpert && p.Role != wire.RoleManager {
			return wire.Document{}, errForbidden("Файлы проверяют эксперты и менеджеры", "Experts and managers review files")
		}
		if err := tx.SetReview(ctx, versionID, r.Version, r.Status, strings.TrimSpace(r.Comment), p.UserID); err != nil {
			return wire.Document{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "file_review", ObjectType: "document_version", ObjectID: itoa(versionID),
			Details: map[string]any{"app": a.ID, "status": r.Status}})
		if err := s.emitDocument(ctx, tx, a, versionID); err != nil {
			return wire.Document{}, err
		}
		docs, err := tx.Documents(ctx, a.ID, ref.DocID)
		if err != nil || len(docs) == 0 {
			return wire.Document{}, errors.Join(err, errNotFound("файл", "file"))
		}
		return docs[0], nil
	})
}

// ChunkSize is the upload chunk size (the HTTP layer bounds chunk bodies
// with it).
func (s *Service) ChunkSize() int {
	if s.files == nil {
		return 8 << 20
	}
	return s.files.ChunkSize
}
