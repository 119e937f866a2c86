package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// Conclusion files: the PDF «Заключение государственной экспертизы № N»
// and its XML export, made from the content frozen at approval.
//
// They are made after the approval commits, by a retrying worker, not in
// the approving transaction, for the reasons notice letters are
// (review_letter.go): the approval is the legally significant act and must
// never be undone or blocked by a failed render or an unavailable blob
// store, and typesetting must not hold the application's row lock. The
// pending work is the conclusion row itself (approved_at set, pdf_sha256
// NULL, with attempts, next try and lease: migration 00007), so it
// survives restarts and any replica's worker does it; the approving
// replica's worker is woken after the commit, the others poll. A failed
// attempt is retried with a growing delay, never given up.

// ConclusionConfig turns the rendering of conclusions on; it needs the
// file store (WithFiles). Its knobs are those of every render worker
// (LetterConfig): renderer, font cache, poll, lease, backoff, batch.
type ConclusionConfig = LetterConfig

type conclusions struct {
	cfg ConclusionConfig
	renderWorker
}

// WithConclusions turns conclusion rendering on; RunConclusions does it.
func WithConclusions(c ConclusionConfig) Option {
	return func(s *Service) {
		c.defaults()
		s.conclusions = &conclusions{cfg: c, renderWorker: newRenderWorker(c.Renderer, c.FontCache)}
	}
}

// kickConclusions wakes the worker; it costs nothing when there is no work.
func (s *Service) kickConclusions() {
	if s.conclusions == nil {
		return
	}
	s.conclusions.wake()
}

// RunConclusions renders approved conclusions until ctx ends; it returns
// at once when rendering is off.
func (s *Service) RunConclusions(ctx context.Context) {
	if s.conclusions == nil {
		return
	}
	s.conclusions.loop(ctx, s, "conclusions", s.conclusions.cfg.Poll, func(ctx context.Context) (time.Duration, error) {
		if _, _, err := s.RenderDueConclusions(ctx); err != nil {
			return s.conclusions.cfg.Backoff, err
		}
		// Wake when the earliest failed rendering falls due again, by the
		// service clock (tests may freeze it); never a busy loop.
		if next, err := s.st.Read().NextConclusionRetry(ctx); err == nil && next != nil {
			return min(max(next.Sub(s.now()), 10*time.Millisecond), s.conclusions.cfg.Poll), nil
		}
		return 0, nil
	})
}

// RenderDueConclusions renders and stores every conclusion that is due
// and returns how many were stored and how many attempts failed.
func (s *Service) RenderDueConclusions(ctx context.Context) (stored, failed int, err error) {
	if s.conclusions == nil {
		return 0, 0, nil
	}
	cfg := &s.conclusions.cfg
	return renderDue(ctx, s, renderJobs[store.ConclusionClaim]{
		what: "conclusion rendering", key: "app", batch: cfg.Batch, backoff: cfg.backoff,
		claim: func(ctx context.Context, tx *store.Tx) ([]store.ConclusionClaim, error) {
			return tx.ClaimDueConclusions(ctx, cfg.Lease, cfg.Batch)
		},
		job:        func(c store.ConclusionClaim) (int64, int) { return c.AppID, c.Attempts },
		do:         s.storeConclusionFiles,
		markFailed: s.st.Read().MarkConclusionFailed,
	})
}

// storeConclusionFiles renders one claimed conclusion as PDF and XML,
// stores both and records them, announcing the conclusion.
func (s *Service) storeConclusionFiles(ctx context.Context, claim store.ConclusionClaim) error {
	q := s.st.Read()
	row, err := q.Conclusion(ctx, claim.AppID)
	if err != nil {
		return err
	}
	var c wire.Conclusion
	if err := json.Unmarshal(row.Snapshot, &c); err != nil {
		return fmt.Errorf("conclusion %d snapshot: %w", claim.AppID, err)
	}
	pdf, err := s.RenderConclusionPDF(ctx, c)
	if err != nil {
		return err
	}
	pdfSHA, err := s.putBlob(ctx, pdf)
	if err != nil {
		return fmt.Errorf("store the PDF of conclusion %s: %w", c.Number, err)
	}
	xmlDoc, err := ConclusionXML(c, pdfSHA)
	if err != nil {
		return err
	}
	xmlSHA, err := s.putBlob(ctx, xmlDoc)
	if err != nil {
		return fmt.Errorf("store the XML of conclusion %s: %w", c.Number, err)
	}
	res, err := s.st.Tx(ctx, func(tx *store.Tx) error {
		ok, err := tx.SetConclusionFiles(ctx, claim.AppID, pdfSHA, int64(len(pdf)), xmlSHA, int64(len(xmlDoc)))
		if err != nil || !ok {
			return err
		}
		a, err := tx.Application(ctx, claim.AppID)
		if err != nil {
			return err
		}
		tx.Audit(store.AuditEntry{ActorLogin: "system", Action: "conclusion_render", ObjectType: "application", ObjectID: itoa(a.ID),
			Details: map[string]any{"number": c.Number, "pdf_sha256": pdfSHA, "xml_sha256": xmlSHA, "attempts": claim.Attempts}})
		if _, err := s.emitConclusion(ctx, tx, a); err != nil {
			return err
		}
		return s.notifyApp(ctx, tx, a, 0, wire.Notification{Kind: wire.NotifyStatus, AppID: a.ID, Title: "Заключение № " + c.Number,
			Body: "По заявлению " + a.Number + " («" + a.ObjectName + "») сформировано заключение: " + wire.ConclusionVerdictLabel(c.Verdict) +
				". Файлы PDF и XML доступны в карточке заявления."})
	})
	if err != nil {
		return fmt.Errorf("record the files of conclusion %s: %w", c.Number, err)
	}
	if res.LastSeq > 0 && s.pub != nil {
		s.pub.Poke(res.LastSeq)
	}
	s.log.Info("conclusion rendered", "app", claim.AppID, "number", c.Number, "pdf_bytes", len(pdf), "xml_bytes", len(xmlDoc))
	return nil
}

func (s *Service) putBlob(ctx context.Context, b []byte) (string, error) {
	sum := sha256.Sum256(b)
	digest := hex.EncodeToString(sum[:])
	if _, _, err := s.files.Blobs.Put(ctx, bytes.NewReader(b), digest); err != nil {
		return "", err
	}
	return digest, nil
}

// RenderConclusionPDF typesets an approved conclusion.
func (s *Service) RenderConclusionPDF(ctx context.Context, c wire.Conclusion) ([]byte, error) {
	if s.conclusions == nil {
		return nil, wire.E(wire.CodeInternal, "", "Формирование заключений не настроено", "Conclusion rendering is not configured")
	}
	eng, err := s.conclusions.renderer(ctx)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := eng.Write(ctx, &b, ConclusionDocument(c)); err != nil {
		return nil, fmt.Errorf("render conclusion %s: %w", c.Number, err)
	}
	return b.Bytes(), nil
}

func conclWorksLabel(w wire.WorksKind) string {
	switch w {
	case wire.WorksConstruction:
		return "Строительство"
	case wire.WorksReconstruction:
		return "Реконструкция"
	case wire.WorksOverhaul:
		return "Капитальный ремонт"
	}
	return string(w)
}

func conclSectionTitle(code string) string {
	if sec, ok := wire.SectionByCode(code); ok {
		return sec.Code + " " + sec.Short + " — " + sec.Title
	}
	return wire.RemarkSectionLabel(code)
}

func conclDate(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.In(conclZone).Format("02.01.2006")
}

func conclOrDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "—"
	}
	return s
}

// Columns of the conclusion's tables on portrait A4 (relative widths).
var (
	conclusionDocColumns = []pdfdoc.Column{
		{Header: "№", Width: 18, Align: pdfdoc.AlignCenter},
		{Header: "Раздел", Width: 44},
		{Header: "Документ", Width: 120},
		{Header: "Версия", Width: 36, Align: pdfdoc.AlignCenter},
		{Header: "SHA-256", Width: 110},
	}
	conclusionRemarkColumns = []pdfdoc.Column{
		{Header: "№", Width: 20, Align: pdfdoc.AlignCenter},
		{Header: "Раздел", Width: 60},
		{Header: "Замечание", Width: 124},
		{Header: "Нормативный документ", Width: 76},
		{Header: "Итог", Width: 64},
		{Header: "Ответ заявителя / решение эксперта", Width: 110},
	}
	conclusionExpertColumns = []pdfdoc.Column{
		{Header: "Эксперт", Width: 150},
		{Header: "Разделы", Width: 200},
		{Header: "Роль", Width: 90},
	}
)

// ConclusionDocument lays out an approved conclusion: the title with its
// number, the object, the basis, the documents reviewed, the findings per
// section, the remarks and how each was resolved, the experts, and the
// verdict with its justification.
func ConclusionDocument(c wire.Conclusion) *pdfdoc.Document {
	h := func(n int, text string) pdfdoc.Block {
		return pdfdoc.Paragraph{Text: strconv.Itoa(n) + ". " + text, Bold: true, Size: 12, SpaceAfter: 6}
	}
	p := func(text string) pdfdoc.Block { return pdfdoc.Paragraph{Text: text, SpaceAfter: 4} }
	blocks := []pdfdoc.Block{
		h(1, "Сведения об объекте экспертизы"),
		p("Наименование объекта: " + conclOrDash(c.ObjectName)),
		p("Адрес (местоположение): " + conclOrDash(c.ObjectAddress)),
		p("Вид работ: " + conclWorksLabel(c.WorksKind)),
		p("Предмет экспертизы: " + c.ExpertiseKind.Label()),
		p("Заявитель: " + conclOrDash(c.OrgName) + conclINN(c.OrgINN)),
		pdfdoc.Spacer{Height: 6},
		h(2, "Основания для проведения экспертизы"),
		p("Заявление № " + c.ApplicationNumber + " от " + conclDate(c.SubmittedAt)),
		p("Договор № " + conclOrDash(c.ContractNumber)),
		pdfdoc.Spacer{Height: 6},
		h(3, "Рассмотренная документация"),
	}
	if len(c.Documents) == 0 {
		blocks = append(blocks, p("Документы не указаны."))
	} else {
		rows := make([][]string, 0, len(c.Documents))
		for i, d := range c.Documents {
			rows = append(rows, []string{strconv.Itoa(i + 1), wire.RemarkSectionLabel(d.Section), d.Name + "\n" + d.FileName,
				strconv.Itoa(d.Number), d.SHA256})
		}
		blocks = append(blocks, pdfdoc.Table{Columns: conclusionDocColumns, Rows: rows})
	}
	blocks = append(blocks, pdfdoc.Spacer{Height: 6}, h(4, "Выводы по разделам документации"))
	for _, f := range c.Findings {
		blocks = append(blocks, pdfdoc.Paragraph{Text: conclSectionTitle(f.Section), Bold: true, SpaceAfter: 3}, p(f.Text))
	}
	blocks = append(blocks, pdfdoc.Spacer{Height: 6}, h(5, "Замечания и их устранение"))
	if len(c.Remarks) == 0 {
		blocks = append(blocks, p("Замечания заявителю не направлялись."))
	} else {
		rows := make([][]string, 0, len(c.Remarks))
		for _, r := range c.Remarks {
			outcome := r.Answer
			if res := strings.TrimSpace(r.Resolution); res != "" {
				outcome = strings.TrimSpace(outcome + "\n\nЭксперт: " + res)
			}
			rows = append(rows, []string{strconv.Itoa(r.Number), wire.RemarkSectionLabel(r.Section), r.Text + "\n(" + r.Criticality.Label() + ")",
				r.NormRef, r.Status.Label(), conclOrDash(outcome)})
		}
		blocks = append(blocks, pdfdoc.Table{Columns: conclusionRemarkColumns, Rows: rows})
	}
	blocks = append(blocks, pdfdoc.Spacer{Height: 6}, h(6, "Сведения об экспертах"))
	rows := make([][]string, 0, len(c.Experts))
	for _, e := range c.Experts {
		var secs []string
		for _, code := range e.Sections {
			secs = append(secs, wire.RemarkSectionLabel(code))
		}
		role := "Эксперт"
		if e.Lead {
			role = "Ведущий эксперт"
		}
		rows = append(rows, []string{e.Name, conclOrDash(strings.Join(secs, ", ")), role})
	}
	blocks = append(blocks, pdfdoc.Table{Columns: conclusionExpertColumns, Rows: rows})
	blocks = append(blocks, pdfdoc.Spacer{Height: 6}, h(7, "Выводы по результатам экспертизы"),
		pdfdoc.Paragraph{Text: wire.ConclusionVerdictLabel(c.Verdict) + ".", Bold: true, SpaceAfter: 4},
		p(c.Justification),
		pdfdoc.Spacer{Height: 24})
	for _, e := range c.Experts {
		if e.Lead {
			blocks = append(blocks, p("Ведущий эксперт  ____________________  "+e.Name))
		}
	}
	blocks = append(blocks, p("Утвердил  ____________________  "+conclOrDash(c.ApprovedBy)+",  "+conclDate(c.ApprovedAt)))
	var generated time.Time
	if c.ApprovedAt != nil {
		generated = c.ApprovedAt.In(conclZone)
	}
	return &pdfdoc.Document{
		Title:    "Заключение государственной экспертизы № " + c.Number,
		Subtitle: wire.ConclusionVerdictLabel(c.Verdict),
		Meta: []string{
			"Дата утверждения: " + conclDate(c.ApprovedAt),
			"Идентификатор заключения: " + c.GUID,
			"Заявление № " + c.ApplicationNumber,
		},
		Blocks:    blocks,
		Generated: generated,
		Author:    c.ApprovedBy,
	}
}

func conclINN(inn string) string {
	if inn == "" {
		return ""
	}
	return ", ИНН " + inn
}
