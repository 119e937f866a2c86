package service

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/expertiza/expertiza/server/store"
	"github.com/expertiza/expertiza/sync/wire"
)

// The conclusion (sync/wire/conclusion.go describes its life). Rules:
//   - the lead expert alone edits the draft, while the application is
//     in_review or conclusion; a save names the draft version it saw;
//   - staff who see the application read the draft; an applicant of the
//     organisation reads the conclusion only once the application is
//     completed (403 before), anyone else gets 404;
//   - the verdict is proposed through ProposeVerdict only, which needs a
//     complete draft (wire.ConclusionProposalErrors); a later save
//     withdraws the proposal, so the manager approves what was proposed;
//   - approval (the conclusion → completed_* transition) freezes the
//     content in the same transaction; files are rendered afterwards by
//     the worker in conclusion_render.go.

// newGUID returns a random (version 4) UUID.
func conclGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported systems
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func conclCompleted(s wire.Status) bool {
	return s == wire.StatusCompletedPositive || s == wire.StatusCompletedNegative || s == wire.StatusArchived
}

// conclusionRow reads the stored conclusion, nil when no draft was saved.
func conclusionRow(ctx context.Context, q store.Q, appID int64) (*store.ConclusionRow, error) {
	row, err := q.Conclusion(ctx, appID)
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, nil
	}
	return row, err
}

// conclusionAccess loads the application for a reader of its conclusion.
func (s *Service) conclusionAccess(ctx context.Context, q store.Q, p *Principal, appID int64) (*store.AppRow, error) {
	a, err := s.loadVisible(ctx, q, p, appID, nil)
	if err != nil {
		return nil, err
	}
	if p.Role == wire.RoleApplicant && !conclCompleted(a.Status) {
		return nil, errForbidden("Заключение станет доступно заявителю после его утверждения",
			"The conclusion becomes available to the applicant once it is approved")
	}
	return a, nil
}

// composeConclusion builds what clients see: the frozen content of an
// approved conclusion, or the draft with the parts taken live from the
// application, its files, the remarks register and the assignments.
func (s *Service) composeConclusion(ctx context.Context, q store.Q, a *store.AppRow, row *store.ConclusionRow) (wire.Conclusion, error) {
	var c wire.Conclusion
	if row != nil && row.Snapshot != nil {
		if err := json.Unmarshal(row.Snapshot, &c); err != nil {
			return c, fmt.Errorf("conclusion %d snapshot: %w", a.ID, err)
		}
	} else {
		var err error
		if c, err = s.liveConclusion(ctx, q, a, row); err != nil {
			return c, err
		}
	}
	c.State = wire.ConclusionDraft
	c.Signatures = []wire.Signature{}
	if row != nil {
		c.Version = row.Version
		c.PDFSHA256, c.PDFSize, c.XMLSHA256, c.XMLSize, c.RenderedAt = row.PDFSHA256, row.PDFSize, row.XMLSHA256, row.XMLSize, row.RenderedAt
		c.Signatures = row.Signatures
		switch {
		case row.PDFSHA256 != "":
			c.State = wire.ConclusionReady
		case row.ApprovedAt != nil:
			c.State = wire.ConclusionRendering
		}
	}
	return c, nil
}

func (s *Service) liveConclusion(ctx context.Context, q store.Q, a *store.AppRow, row *store.ConclusionRow) (wire.Conclusion, error) {
	c := wire.Conclusion{AppID: a.ID, ObjectName: a.ObjectName, ObjectAddress: a.ObjectAddress, WorksKind: a.WorksKind,
		ExpertiseKind: a.ExpertiseKind, OrgName: a.OrgName, OrgINN: a.OrgINN, ApplicationNumber: a.Number,
		SubmittedAt: a.SubmittedAt, PaidAt: a.PaidAt, Documents: []wire.ConclusionDocument{}, Findings: []wire.ConclusionFinding{}}
	if row != nil {
		c.GUID, c.ContractNumber, c.Verdict, c.Justification = row.GUID, row.ContractNumber, row.Verdict, row.Justification
		c.Findings = slices.Clone(row.Findings)
		created, updated := row.CreatedAt, row.UpdatedAt
		c.CreatedAt, c.UpdatedAt, c.UpdatedBy = &created, &updated, row.UpdatedByName
		c.Proposed = a.Status == wire.StatusConclusion && row.Verdict != "" && a.ProposedVerdict == row.Verdict
		if len(row.DocumentIDs) > 0 {
			docs, err := q.Documents(ctx, a.ID, 0)
			if err != nil {
				return c, err
			}
			for _, d := range docs {
				for _, v := range d.Versions {
					if slices.Contains(row.DocumentIDs, v.ID) {
						c.Documents = append(c.Documents, wire.ConclusionDocument{VersionID: v.ID, Section: d.Section, Name: d.Name,
							FileName: v.FileName, Number: v.Number, SHA256: v.SHA256})
					}
				}
			}
		}
	}
	slices.SortFunc(c.Findings, func(x, y wire.ConclusionFinding) int { return cmp.Compare(x.Section, y.Section) })
	slices.SortFunc(c.Documents, func(x, y wire.ConclusionDocument) int {
		return cmp.Or(cmp.Compare(x.Section, y.Section), cmp.Compare(x.Name, y.Name), cmp.Compare(x.Number, y.Number))
	})
	rs, err := q.Remarks(ctx, store.RemarkFilter{AppID: a.ID})
	if err != nil {
		return c, err
	}
	c.Remarks = wire.ConclusionRemarks(rs)
	lead := ""
	if a.LeadExpertID != 0 {
		u, err := q.UserByID(ctx, a.LeadExpertID)
		if err != nil {
			return c, err
		}
		lead = u.FullName
	}
	c.Experts = wire.ConclusionExperts(a.Application, lead)
	return c, nil
}

// emitConclusion sends the conclusion to those who may read it: staff
// while it is a draft, the organisation too once approved.
func (s *Service) emitConclusion(ctx context.Context, tx *store.Tx, a *store.AppRow) (wire.Conclusion, error) {
	row, err := conclusionRow(ctx, tx.Q, a.ID)
	if err != nil {
		return wire.Conclusion{}, err
	}
	c, err := s.composeConclusion(ctx, tx.Q, a, row)
	if err != nil {
		return wire.Conclusion{}, err
	}
	experts, err := tx.AppExpertIDs(ctx, a.ID)
	if err != nil {
		return wire.Conclusion{}, err
	}
	tx.Emit(store.EventRow{Kind: wire.EventConclusion, AppID: a.ID, OrgID: a.OrgID, ExpertIDs: experts,
		StaffOnly: row == nil || row.ApprovedAt == nil, Payload: mustJSON(c)})
	return c, nil
}

// Conclusion returns an application's conclusion to a caller who may read
// it. Before the first save staff get the draft's live parts (Version 0).
func (s *Service) Conclusion(ctx context.Context, p *Principal, appID int64) (wire.Conclusion, error) {
	q := s.st.Read()
	a, err := s.conclusionAccess(ctx, q, p, appID)
	if err != nil {
		return wire.Conclusion{}, err
	}
	row, err := conclusionRow(ctx, q, appID)
	if err != nil {
		return wire.Conclusion{}, err
	}
	if p.Role == wire.RoleApplicant && (row == nil || row.ApprovedAt == nil) {
		return wire.Conclusion{}, errNotFound("заключение", "conclusion")
	}
	return s.composeConclusion(ctx, q, a, row)
}

// SaveConclusion replaces the lead expert's draft.
func (s *Service) SaveConclusion(ctx context.Context, p *Principal, appID int64, r wire.SaveConclusionRequest) (wire.Conclusion, error) {
	if errs := wire.ConclusionInputErrors(r); len(errs) > 0 {
		return wire.Conclusion{}, errs[0]
	}
	findings := make([]wire.ConclusionFinding, 0, len(r.Findings))
	for _, f := range r.Findings {
		findings = append(findings, wire.ConclusionFinding{Section: f.Section, Text: strings.TrimSpace(f.Text)})
	}
	slices.SortFunc(findings, func(x, y wire.ConclusionFinding) int { return cmp.Compare(x.Section, y.Section) })
	ids := slices.Clone(r.DocumentIDs)
	slices.Sort(ids)
	return write(ctx, s, p, func(tx *store.Tx) (wire.Conclusion, error) {
		a, err := s.loadVisible(ctx, tx.Q, p, appID, tx)
		if err != nil {
			return wire.Conclusion{}, err
		}
		if p.Role != wire.RoleExpert || a.LeadExpertID != p.UserID {
			return wire.Conclusion{}, errForbidden("Проект заключения готовит ведущий эксперт заявления", "Only the application's lead expert writes the conclusion")
		}
		if a.Status != wire.StatusInReview && a.Status != wire.StatusConclusion {
			return wire.Conclusion{}, wire.E(wire.CodeConflict, "status",
				"Проект заключения редактируется в статусах «Проведение экспертизы» и «Подготовка заключения»; сейчас: «"+a.Status.Label()+"»",
				"The conclusion draft is edited in the in-review and conclusion statuses; now: "+string(a.Status))
		}
		if len(ids) > 0 {
			own, err := tx.VersionsOfApp(ctx, appID, ids)
			if err != nil {
				return wire.Conclusion{}, err
			}
			if len(own) != len(ids) {
				return wire.Conclusion{}, wire.E(wire.CodeInvalid, "document_ids", "Рассмотренные документы выбираются из файлов этого заявления",
					"The reviewed documents must be files of this application")
			}
		}
		row, err := tx.ConclusionForUpdate(ctx, appID)
		switch {
		case wire.ErrorCode(err) == wire.CodeNotFound:
			if r.Version != 0 {
				e := wire.E(wire.CodeConflict, "version", "Проект заключения не найден в версии, которую вы видели — обновите вкладку «Заключение»",
					"The conclusion draft you saw is gone — reload it")
				return wire.Conclusion{}, e
			}
			row = &store.ConclusionRow{AppID: appID, GUID: conclGUID(), ContractNumber: strings.TrimSpace(r.ContractNumber), Findings: findings,
				Verdict: r.Verdict, Justification: strings.TrimSpace(r.Justification), UpdatedBy: p.UserID}
			if err := tx.InsertConclusion(ctx, row); err != nil {
				return wire.Conclusion{}, err
			}
		case err != nil:
			return wire.Conclusion{}, err
		default:
			row.ContractNumber, row.Findings, row.Verdict = strings.TrimSpace(r.ContractNumber), findings, r.Verdict
			row.Justification, row.UpdatedBy = strings.TrimSpace(r.Justification), p.UserID
			if err := tx.UpdateConclusionDraft(ctx, row, r.Version); err != nil {
				return wire.Conclusion{}, err
			}
		}
		if err := tx.ReplaceConclusionDocuments(ctx, appID, ids); err != nil {
			return wire.Conclusion{}, err
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "conclusion_save", ObjectType: "application", ObjectID: itoa(appID),
			Details: map[string]any{"findings": len(findings), "documents": len(ids), "verdict": r.Verdict}})
		if a.ProposedVerdict != "" {
			// The manager approves what the lead proposed; a changed draft
			// is a new proposal to make.
			if err := tx.SetStatus(ctx, a.ID, a.Version, store.StatusUpdate{To: a.Status}); err != nil {
				return wire.Conclusion{}, err
			}
			tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "verdict_withdraw", ObjectType: "application", ObjectID: itoa(appID),
				Details: map[string]any{"verdict": a.ProposedVerdict}})
			if _, err := s.emitApp(ctx, tx, a.ID, nil); err != nil {
				return wire.Conclusion{}, err
			}
			if a, err = tx.Application(ctx, a.ID); err != nil {
				return wire.Conclusion{}, err
			}
		}
		return s.emitConclusion(ctx, tx, a)
	})
}

// prepareProposal is ProposeVerdict's part for the conclusion: the draft
// must be complete, and its verdict becomes the proposed one.
func (s *Service) prepareProposal(ctx context.Context, tx *store.Tx, a *store.AppRow, p *Principal, verdict wire.Status) error {
	row, err := tx.ConclusionForUpdate(ctx, a.ID)
	if err != nil && wire.ErrorCode(err) != wire.CodeNotFound {
		return err
	}
	if wire.ErrorCode(err) == wire.CodeNotFound {
		row = nil
	}
	c, err := s.composeConclusion(ctx, tx.Q, a, row)
	if err != nil {
		return err
	}
	present, err := tx.SectionsPresent(ctx, a.ID)
	if err != nil {
		return err
	}
	hasFiles := slices.ContainsFunc(present, func(s string) bool { return s != wire.SectionChat })
	if errs := wire.ConclusionProposalErrors(c, verdict, hasFiles); len(errs) > 0 {
		return errs[0]
	}
	if row.Verdict != verdict {
		if err := tx.SetConclusionVerdict(ctx, a.ID, verdict, p.UserID); err != nil {
			return err
		}
	}
	return nil
}

// conclusionStep is transition's part for the conclusion: the manager's
// approval (conclusion → completed_*) freezes it.
func (s *Service) conclusionStep(ctx context.Context, tx *store.Tx, a *store.AppRow, to wire.Status, actorID int64, actorName, actorLogin, ip string) error {
	if a.Status != wire.StatusConclusion || (to != wire.StatusCompletedPositive && to != wire.StatusCompletedNegative) {
		return nil
	}
	return s.approveConclusion(ctx, tx, a, to, actorID, actorName, actorLogin, ip)
}

// approveConclusion freezes the conclusion when the manager approves the
// proposed verdict (transition's conclusion → completed_* edge, in its
// transaction): it gets its number, and the content as approved becomes
// what is rendered and served from now on.
func (s *Service) approveConclusion(ctx context.Context, tx *store.Tx, a *store.AppRow, to wire.Status, actorID int64, actorName, actorLogin, ip string) error {
	row, err := tx.ConclusionForUpdate(ctx, a.ID)
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return wire.E(wire.CodeConflict, "conclusion", "Проект заключения не сохранён: ведущий эксперт должен подготовить его и предложить вывод заново",
			"No conclusion draft is saved: the lead expert must write it and propose the verdict again")
	}
	if err != nil {
		return err
	}
	c, err := s.composeConclusion(ctx, tx.Q, a, row)
	if err != nil {
		return err
	}
	number, err := tx.NextConclusionNumber(ctx, wire.DateOf(tx.Now()).Year)
	if err != nil {
		return err
	}
	now := tx.Now()
	c.Number, c.ApprovedAt, c.ApprovedBy, c.Verdict, c.Proposed = number, &now, actorName, to, true
	// Render state and signatures live in their columns, not the snapshot.
	c.State, c.Signatures, c.Version = "", nil, 0
	if err := tx.ApproveConclusion(ctx, a.ID, number, actorID, mustJSON(c)); err != nil {
		return err
	}
	tx.Audit(store.AuditEntry{ActorID: actorID, ActorLogin: actorLogin, IP: ip, Action: "conclusion_approve", ObjectType: "application", ObjectID: itoa(a.ID),
		Details: map[string]any{"number": number, "verdict": to, "guid": c.GUID}})
	_, err = s.emitConclusion(ctx, tx, a)
	return err
}

// conclusionPending is the refusal of a file not rendered yet.
func conclusionPending(number string) error {
	return wire.E(wire.CodeConflict, "pdf_sha256",
		"Файлы заключения № "+number+" ещё формируются: они станут доступны сами (событие conclusion.upsert), повторите позже",
		"The files of conclusion "+number+" are still being prepared: they become available by themselves (event conclusion.upsert); try again later")
}

// IsConclusionPending reports whether err is the refusal of a conclusion
// file not rendered yet (the HTTP layer adds Retry-After).
func IsConclusionPending(err error) bool {
	we, ok := wire.AsError(err)
	return ok && we.Code == wire.CodeConflict && we.Field == "pdf_sha256"
}

// ConclusionFile is a stored file of a conclusion being served.
type ConclusionFile struct {
	SHA256      string
	Name        string
	ContentType string
}

// ConclusionFileKinds are the files a conclusion is served as.
const (
	ConclusionFilePDF = "pdf"
	ConclusionFileXML = "xml"
)

// OpenConclusionFile opens the conclusion's PDF or XML for a caller who
// may read the conclusion once it is rendered.
func (s *Service) OpenConclusionFile(ctx context.Context, p *Principal, appID int64, kind string) (io.ReadSeekCloser, ConclusionFile, error) {
	if err := s.requireFiles(); err != nil {
		return nil, ConclusionFile{}, err
	}
	q := s.st.Read()
	a, err := s.conclusionAccess(ctx, q, p, appID)
	if err != nil {
		return nil, ConclusionFile{}, err
	}
	row, err := conclusionRow(ctx, q, appID)
	if err != nil {
		return nil, ConclusionFile{}, err
	}
	if row == nil || row.ApprovedAt == nil {
		if p.Role == wire.RoleApplicant {
			return nil, ConclusionFile{}, errNotFound("заключение", "conclusion")
		}
		return nil, ConclusionFile{}, wire.E(wire.CodeConflict, "status", "Заключение ещё не утверждено: файлы формируются после утверждения менеджером",
			"The conclusion is not approved yet: its files are made once a manager approves it")
	}
	if row.PDFSHA256 == "" {
		return nil, ConclusionFile{}, conclusionPending(row.Number)
	}
	f := ConclusionFile{SHA256: row.PDFSHA256, Name: "Заключение " + row.Number + " (" + a.Number + ").pdf", ContentType: "application/pdf"}
	if kind == ConclusionFileXML {
		f = ConclusionFile{SHA256: row.XMLSHA256, Name: "Заключение " + row.Number + " (" + a.Number + ").xml", ContentType: "application/xml"}
	}
	r, _, err := s.files.Blobs.Open(ctx, f.SHA256)
	if err != nil {
		return nil, ConclusionFile{}, fmt.Errorf("open the %s of conclusion %s (blob %s): %w", kind, row.Number, f.SHA256, err)
	}
	return r, f, nil
}

// conclSignatureExts are the detached signature files accepted.
var conclSignatureExts = []string{".sig", ".p7s"}

// AddConclusionSignature keeps a detached signature of the rendered
// conclusion PDF, checked by the same checker as signatures of documents
// (server/sig). Experts of the application and managers sign; the same
// file again changes nothing.
func (s *Service) AddConclusionSignature(ctx context.Context, p *Principal, appID int64, fileName string, body io.Reader) (wire.Conclusion, error) {
	if err := s.requireFiles(); err != nil {
		return wire.Conclusion{}, err
	}
	fileName = strings.TrimSpace(fileName)
	if fileName == "" || utf8.RuneCountInString(fileName) > 255 || strings.ContainsAny(fileName, "/\\\x00") ||
		!slices.Contains(conclSignatureExts, strings.ToLower(filepath.Ext(fileName))) {
		return wire.Conclusion{}, wire.E(wire.CodeInvalid, "file_name", "Укажите имя файла открепленной подписи: .sig или .p7s, до 255 символов без / и \\",
			"Name the detached signature file: .sig or .p7s, up to 255 characters without / or \\")
	}
	q := s.st.Read()
	a, err := s.loadVisible(ctx, q, p, appID, nil)
	if err != nil {
		return wire.Conclusion{}, err
	}
	if p.Role != wire.RoleExpert && p.Role != wire.RoleManager {
		return wire.Conclusion{}, errForbidden("Подписи заключения загружают эксперты заявления и менеджеры", "Only the application's experts and managers sign the conclusion")
	}
	row, err := conclusionRow(ctx, q, appID)
	if err != nil {
		return wire.Conclusion{}, err
	}
	if row == nil || row.PDFSHA256 == "" {
		return wire.Conclusion{}, wire.E(wire.CodeConflict, "pdf_sha256", "Подписать можно только сформированное заключение: дождитесь его PDF",
			"Only a rendered conclusion can be signed: wait for its PDF")
	}
	sigBytes, err := io.ReadAll(io.LimitReader(body, MaxSignatureBytes+1))
	if err != nil {
		return wire.Conclusion{}, wire.E(wire.CodeInvalid, "file", "Передача файла подписи прервалась — отправьте его ещё раз", "The signature transfer broke off — send it again")
	}
	switch {
	case len(sigBytes) == 0:
		return wire.Conclusion{}, wire.E(wire.CodeInvalid, "file", "Файл подписи пуст", "The signature file is empty")
	case len(sigBytes) > MaxSignatureBytes:
		return wire.Conclusion{}, wire.E(wire.CodeTooLarge, "file", "Файл подписи больше 10 МБ: загрузите открепленную подпись (.sig), а не подписанный документ целиком",
			"The signature file is over 10 MB: upload the detached signature (.sig), not the signed document")
	}
	report := json.RawMessage(`{"verdict":"not_checked"}`)
	if s.files.Signature != nil {
		pdf, _, err := s.files.Blobs.Open(ctx, row.PDFSHA256)
		if err != nil {
			return wire.Conclusion{}, fmt.Errorf("open the conclusion PDF: %w", err)
		}
		report, err = s.files.Signature.Check(ctx, sigBytes, pdf)
		pdf.Close()
		if err != nil {
			return wire.Conclusion{}, err
		}
	}
	sum := sha256.Sum256(sigBytes)
	digest := hex.EncodeToString(sum[:])
	if _, _, err := s.files.Blobs.Put(ctx, bytes.NewReader(sigBytes), digest); err != nil {
		return wire.Conclusion{}, fmt.Errorf("store the conclusion signature: %w", err)
	}
	return write(ctx, s, p, func(tx *store.Tx) (wire.Conclusion, error) {
		added, err := tx.InsertConclusionSignature(ctx, appID, digest, int64(len(sigBytes)), fileName, report, p.UserID)
		if err != nil {
			return wire.Conclusion{}, err
		}
		if !added {
			row, err := conclusionRow(ctx, tx.Q, appID)
			if err != nil {
				return wire.Conclusion{}, err
			}
			return s.composeConclusion(ctx, tx.Q, a, row)
		}
		tx.Audit(store.AuditEntry{ActorID: p.UserID, ActorLogin: p.Login, IP: p.IP, Action: "conclusion_sign", ObjectType: "application", ObjectID: itoa(appID),
			Details: map[string]any{"sha256": digest, "file_name": fileName, "number": row.Number}})
		return s.emitConclusion(ctx, tx, a)
	})
}

// OpenConclusionSignature opens one signature file of a conclusion for a
// caller who may read the conclusion.
func (s *Service) OpenConclusionSignature(ctx context.Context, p *Principal, appID, sigID int64) (io.ReadSeekCloser, wire.Signature, error) {
	if err := s.requireFiles(); err != nil {
		return nil, wire.Signature{}, err
	}
	q := s.st.Read()
	if _, err := s.conclusionAccess(ctx, q, p, appID); err != nil {
		return nil, wire.Signature{}, err
	}
	sg, err := q.ConclusionSignature(ctx, appID, sigID)
	if wire.ErrorCode(err) == wire.CodeNotFound {
		return nil, wire.Signature{}, errNotFound("подпись заключения", "conclusion signature")
	}
	if err != nil {
		return nil, wire.Signature{}, err
	}
	r, _, err := s.files.Blobs.Open(ctx, sg.SHA256)
	if err != nil {
		return nil, wire.Signature{}, fmt.Errorf("open conclusion signature %d (blob %s): %w", sigID, sg.SHA256, err)
	}
	return r, sg, nil
}
