package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Notice letters: the PDF «Уведомление о замечаниях № N» the applicant
// receives for every published notice (DESIGN.md §1 "Remarks").
//
// The letter is rendered after the publication commits, by a worker, and
// not inside the publishing transaction, because:
//   - a failed render (the blob store down, a font cache wiped, a bug on
//     some odd text) must neither undo nor block the publication, which is
//     the legally significant act; inside the transaction it would do one
//     or the other;
//   - typesetting a notice of hundreds of remarks and writing it to the
//     blob store (S3 in a cluster) would hold the application's row lock
//     and a database connection all that time;
//   - the blob store is outside the transaction anyway.
//
// What is pending lives in the notice's row (letter_sha256 NULL, with the
// attempts, the next try and a lease; migration 00005), so it survives a
// restart and any replica's worker can do it. The publishing replica's
// worker is woken right after the commit, so the letter is usually ready
// within a fraction of a second; the workers also poll, which picks up
// retries and the work of a replica that died. A failed attempt is retried
// with a growing delay (capped at MaxBackoff), never given up: the letter
// is owed. The lease keeps two workers from rendering one letter at once;
// if both do anyway (a lease ran out), the first stored letter is the one
// recorded and announced.

// LetterRenderer typesets a document as PDF (*pdfdoc.Engine is one).
type LetterRenderer interface {
	Write(ctx context.Context, w io.Writer, d *pdfdoc.Document) error
}

// LetterConfig turns notice letters on. They need the file store
// (WithFiles), where they are kept.
type LetterConfig struct {
	// Renderer typesets the letters; nil means a pdfdoc engine with its
	// fonts under FontCache, made on the first letter (so a server that
	// never publishes never pays for it).
	Renderer  LetterRenderer
	FontCache string
	// Poll is how often the worker looks for due letters besides being
	// woken by publications; default 10 s.
	Poll time.Duration
	// Lease is how long a claimed letter is reserved for its worker; it
	// must exceed the time a render and store take. Default 2 minutes.
	Lease time.Duration
	// Backoff is the delay after the first failure, doubled after each
	// further one up to MaxBackoff; defaults 10 s and 15 minutes.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// Batch is how many letters one claim takes; default 10.
	Batch int
}

func (c *LetterConfig) defaults() {
	if c.Poll <= 0 {
		c.Poll = 10 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.Backoff <= 0 {
		c.Backoff = 10 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 15 * time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = 10
	}
}

// backoff is the delay after the given number of failed attempts.
func (c *LetterConfig) backoff(attempts int) time.Duration {
	d := c.Backoff
	for i := 1; i < attempts && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}

// letters is the worker's state.
type letters struct {
	cfg LetterConfig
	renderWorker
}

// WithLetters turns notice letters on; RunLetters does the work.
func WithLetters(c LetterConfig) Option {
	return func(s *Service) {
		c.defaults()
		s.letters = &letters{cfg: c, renderWorker: newRenderWorker(c.Renderer, c.FontCache)}
	}
}

// kickLetters wakes the worker after a publication committed.
func (s *Service) kickLetters() {
	if s.letters == nil {
		return
	}
	s.letters.wake()
}

// RunLetters renders pending letters, woken by every publication and every
// Poll, until ctx ends; it returns at once when letters are off.
func (s *Service) RunLetters(ctx context.Context) {
	if s.letters == nil {
		return
	}
	s.letters.loop(ctx, s, "notice letters", s.letters.cfg.Poll, func(ctx context.Context) (time.Duration, error) {
		_, failed, err := s.RenderDueLetters(ctx)
		if failed > 0 || err != nil {
			return s.letters.cfg.Backoff, err
		}
		return 0, nil
	})
}

// RenderDueLetters renders and stores every letter that is due, batch by
// batch, and returns how many were stored and how many attempts failed.
// Each letter is claimed in a short transaction, rendered and stored with
// no transaction open, and recorded in a second one that also announces
// it.
func (s *Service) RenderDueLetters(ctx context.Context) (stored, failed int, err error) {
	if s.letters == nil {
		return 0, 0, nil
	}
	cfg := &s.letters.cfg
	return renderDue(ctx, s, renderJobs[store.LetterClaim]{
		what: "notice letter", key: "notice", batch: cfg.Batch, backoff: cfg.backoff,
		claim: func(ctx context.Context, tx *store.Tx) ([]store.LetterClaim, error) {
			return tx.ClaimDueLetters(ctx, cfg.Lease, cfg.Batch)
		},
		job:        func(c store.LetterClaim) (int64, int) { return c.NoticeID, c.Attempts },
		do:         s.storeLetter,
		markFailed: s.st.Read().MarkLetterFailed,
	})
}

// storeLetter renders one claimed letter, puts it in the blob store,
// records its digest and announces it to the notice's audience.
func (s *Service) storeLetter(ctx context.Context, c store.LetterClaim) error {
	pdf, err := s.RenderNoticeLetter(ctx, c.NoticeID)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(pdf)
	digest := hex.EncodeToString(sum[:])
	if _, _, err := s.files.Blobs.Put(ctx, bytes.NewReader(pdf), digest); err != nil {
		return fmt.Errorf("store the letter of notice %d: %w", c.NoticeID, err)
	}
	var recorded bool
	res, err := s.st.Tx(ctx, func(tx *store.Tx) error {
		ok, err := tx.SetNoticeLetter(ctx, c.NoticeID, digest)
		if err != nil || !ok {
			recorded = false
			return err
		}
		recorded = true
		n, err := tx.Notice(ctx, c.NoticeID)
		if err != nil {
			return err
		}
		a, err := tx.Application(ctx, n.AppID)
		if err != nil {
			return err
		}
		tx.Audit(store.AuditEntry{ActorLogin: "system", Action: "notice_letter", ObjectType: "remark_notice", ObjectID: itoa(n.ID),
			Details: map[string]any{"app": n.AppID, "number": n.Number, "sha256": digest, "size": len(pdf), "attempts": c.Attempts}})
		return s.emitRemarkEvent(ctx, tx, a, 0, false, wire.EventNoticeLetter, mustJSON(n))
	})
	if err != nil {
		return fmt.Errorf("record the letter of notice %d: %w", c.NoticeID, err)
	}
	if res.LastSeq > 0 && s.pub != nil {
		s.pub.Poke(res.LastSeq)
	}
	if recorded {
		s.log.Info("notice letter stored", "notice", c.NoticeID, "bytes", len(pdf), "attempt", c.Attempts)
	}
	return nil
}

// RenderNoticeLetter typesets a notice's letter from the database as it is
// now (a published remark's text, reference and number never change).
func (s *Service) RenderNoticeLetter(ctx context.Context, noticeID int64) ([]byte, error) {
	if s.letters == nil {
		return nil, wire.E(wire.CodeInternal, "", "Формирование писем не настроено", "Letters are not configured")
	}
	q := s.st.Read()
	n, err := q.Notice(ctx, noticeID)
	if err != nil {
		return nil, err
	}
	a, err := q.Application(ctx, n.AppID)
	if err != nil {
		return nil, err
	}
	rs, err := q.Remarks(ctx, store.RemarkFilter{AppID: n.AppID, IDs: n.RemarkIDs})
	if err != nil {
		return nil, err
	}
	files := map[int64]*store.VersionRef{}
	for _, r := range rs {
		if r.VersionID == 0 || files[r.VersionID] != nil {
			continue
		}
		ref, err := q.VersionRef(ctx, r.VersionID)
		if err != nil {
			return nil, fmt.Errorf("version %d of remark %d: %w", r.VersionID, r.ID, err)
		}
		files[r.VersionID] = ref
	}
	doc := letterDocument(n, a, rs, files, s.answerDeadline(a))
	eng, err := s.letters.renderer(ctx)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := eng.Write(ctx, &b, doc); err != nil {
		return nil, fmt.Errorf("render the letter of notice %d: %w", noticeID, err)
	}
	return b.Bytes(), nil
}

// answerDeadline is the last date the applicant's answers are accepted:
// the latest date from which more than AnswerCutoffDays working days are
// left to the review deadline (the rule AnswerRemark enforces). It is the
// zero Date when the application has no review deadline.
func (s *Service) answerDeadline(a *store.AppRow) wire.Date {
	if a.ReviewDue == nil || a.ReviewDue.IsZero() {
		return wire.Date{}
	}
	cal, due := s.Calendar(), *a.ReviewDue
	// The cutoff is at most a few dozen working days; a year bounds the
	// walk whatever the calendar says.
	for d, i := due, 0; i < 366; d, i = d.AddDays(-1), i+1 {
		if cal.WorkdaysUntil(d, due) > s.cfg.AnswerCutoffDays {
			return d
		}
	}
	return wire.Date{}
}

// letterZone is Moscow time, the time of every date in a letter.
var letterZone = time.FixedZone("MSK", 3*3600)

// letterColumns are the remarks table of a letter on portrait A4; only
// the ratios matter. They are the points each column gets within the
// default margins: «Несущественное» and «07.03 ПОД» fit on one line at
// 8 pt, the text column takes what is left.
var letterColumns = []pdfdoc.Column{
	{Header: "№", Width: 20, Align: pdfdoc.AlignCenter},
	{Header: "Раздел", Width: 44},
	{Header: "Замечание", Width: 160},
	{Header: "Нормативный документ", Width: 84},
	{Header: "Критичность", Width: 80},
	{Header: "Где", Width: 80},
}

// generatedComment is the status change comment PublishRemarks writes
// when the lead gives none; a letter does not repeat it.
func generatedComment(number, remarks int) string {
	return fmt.Sprintf("Уведомление о замечаниях № %d (замечаний: %d)", number, remarks)
}

// letterDocument lays out a notice's letter: the addressee (the applicant
// organisation and its ИНН), the application and its object, the date, the
// lead expert, an introduction, the remarks table, the answer deadline and
// the signature line.
func letterDocument(n wire.Notice, a *store.AppRow, rs []wire.Remark, files map[int64]*store.VersionRef, answerBy wire.Date) *pdfdoc.Document {
	date := n.PublishedAt.In(letterZone)
	ruDate := func(d wire.Date) string { return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year) }
	object := a.ObjectName
	if a.ObjectAddress != "" {
		object += ", " + a.ObjectAddress
	}
	meta := []string{
		"Кому: " + a.OrgName + prefixedWith(", ИНН ", a.OrgINN),
		"Заявление № " + a.Number,
		"Объект: " + object,
		"Дата: " + date.Format("02.01.2006"),
		"Ведущий эксперт: " + n.PublishedByName,
	}
	critical := 0
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		if r.Criticality == wire.CriticalityCritical {
			critical++
		}
		text := r.Text
		if r.NoticeID != 0 && r.NoticeID != n.ID {
			// A reopened remark sent again: say so, and why.
			text += "\n\nНаправляется повторно: ответ не принят."
			if c := strings.TrimSpace(r.Resolution); c != "" {
				text += " " + c
			}
		}
		rows = append(rows, []string{strconv.Itoa(r.Number), wire.RemarkSectionLabel(r.Section), text, r.NormRef,
			r.Criticality.Label(), anchorCell(r, files)})
	}
	blocks := []pdfdoc.Block{
		pdfdoc.Paragraph{Text: "По результатам рассмотрения документации, представленной на государственную экспертизу по заявлению № " +
			a.Number + " (объект «" + a.ObjectName + "»), направляем замечания. Просим устранить их и ответить на каждое замечание " +
			"в системе «Экспертиза»: текстом ответа и ссылками на исправленные файлы, загруженные в заявление.", SpaceAfter: 8},
	}
	if c := strings.TrimSpace(n.Comment); c != "" && c != generatedComment(n.Number, len(n.RemarkIDs)) {
		blocks = append(blocks, pdfdoc.Paragraph{Text: "Комментарий ведущего эксперта: " + c, SpaceAfter: 8})
	}
	blocks = append(blocks,
		pdfdoc.Paragraph{Text: fmt.Sprintf("Замечаний: %d, из них существенных: %d.", len(rs), critical), Bold: true},
		pdfdoc.Table{Columns: letterColumns, Rows: rows, SpaceAfter: 10},
	)
	if !answerBy.IsZero() {
		today := wire.DateOf(n.PublishedAt)
		due := ""
		if a.ReviewDue != nil {
			due = " Срок проведения экспертизы истекает " + ruDate(*a.ReviewDue) + "."
		}
		if answerBy.Before(today) {
			blocks = append(blocks, pdfdoc.Paragraph{Text: "Приём ответов на замечания закрыт " + ruDate(answerBy) +
				"." + due + " По вопросу ответов обратитесь к менеджеру экспертной организации.", Bold: true})
		} else {
			blocks = append(blocks, pdfdoc.Paragraph{Text: "Ответы на замечания принимаются до " + ruDate(answerBy) +
				" включительно." + due, Bold: true})
		}
	}
	blocks = append(blocks,
		pdfdoc.Spacer{Height: 24},
		pdfdoc.Paragraph{Text: "Ведущий эксперт  ____________________  " + n.PublishedByName},
	)
	return &pdfdoc.Document{
		Title:     "Уведомление о замечаниях № " + strconv.Itoa(n.Number),
		Meta:      meta,
		Blocks:    blocks,
		Generated: date,
		Author:    n.PublishedByName,
	}
}

// anchorCell says where a remark points: the file, its version and the
// page, or the section as a whole.
func anchorCell(r wire.Remark, files map[int64]*store.VersionRef) string {
	ref := files[r.VersionID]
	if r.VersionID == 0 || ref == nil {
		return "Раздел в целом"
	}
	out := "«" + ref.Name + "», версия " + strconv.FormatInt(ref.Version, 10)
	if r.Anchor != nil && r.Anchor.Page > 0 {
		out += ", стр. " + strconv.Itoa(r.Anchor.Page)
	}
	return out
}

func prefixedWith(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// letterPending is the refusal of a letter not stored yet.
func letterPending(n wire.Notice) error {
	return wire.E(wire.CodeConflict, "letter_sha256",
		"Письмо к уведомлению № "+strconv.Itoa(n.Number)+" ещё формируется: оно станет доступно само (событие notice.letter), повторите позже",
		"The letter of notice "+strconv.Itoa(n.Number)+" is still being prepared: it becomes available by itself (event notice.letter); try again later")
}

// IsLetterPending reports whether err is NoticeLetter's refusal of a
// letter that is not ready yet (the HTTP layer adds Retry-After).
func IsLetterPending(err error) bool {
	we, ok := wire.AsError(err)
	return ok && we.Code == wire.CodeConflict && we.Field == "letter_sha256"
}

// NoticeLetter opens a notice's letter for a caller who may see the notice:
// whoever sees its application (the organisation's applicants, its
// experts, managers and administrators). Anyone else gets NotFound, as for
// a notice that does not exist.
func (s *Service) NoticeLetter(ctx context.Context, p *Principal, noticeID int64) (io.ReadSeekCloser, wire.Notice, error) {
	if err := s.requireFiles(); err != nil {
		return nil, wire.Notice{}, err
	}
	q := s.st.Read()
	n, err := q.Notice(ctx, noticeID)
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, wire.Notice{}, errNotFound("уведомление", "notice")
	}
	if err != nil {
		return nil, wire.Notice{}, err
	}
	if _, err := s.loadVisible(ctx, q, p, n.AppID, nil); err != nil {
		if wire.ErrorCode(err) == wire.CodeNotFound {
			return nil, wire.Notice{}, errNotFound("уведомление", "notice")
		}
		return nil, wire.Notice{}, err
	}
	if n.LetterSHA256 == "" {
		return nil, n, letterPending(n)
	}
	r, _, err := s.files.Blobs.Open(ctx, n.LetterSHA256)
	if err != nil {
		return nil, n, fmt.Errorf("open the letter of notice %d (blob %s): %w", n.ID, n.LetterSHA256, err)
	}
	return r, n, nil
}
