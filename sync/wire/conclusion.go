package wire

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// This file holds the conclusion part of the protocol (DESIGN.md §1
// "Conclusion"): the lead expert's structured draft, the manager's
// approval (the existing conclusion → completed_* transition) and the
// rendered PDF and XML with their signatures.
//
// Life of a conclusion:
//   - in_review or conclusion: the lead expert edits the draft
//     (PUT /applications/{id}/conclusion, version-checked). Staff who see
//     the application read it; the applicant does not (403).
//   - conclusion: the lead proposes the verdict (POST /applications/{id}/
//     verdict, the one path that sets Application.ProposedVerdict); the
//     draft must then be complete (ConclusionDraftErrors). Saving the draft
//     again withdraws the proposal: the manager approves only what the
//     lead proposed last.
//   - the manager approves (POST /applications/{id}/transition to
//     completed_*): the content is frozen in the same transaction (Number
//     and ApprovedAt set), and a server worker renders the PDF and the XML
//     and stores them; conclusion.upsert then carries their SHA-256.
//   - completed: the organisation's applicants read the conclusion and
//     download both files; staff upload detached signatures of the PDF.

// EventConclusion carries a conclusion whenever it changes: draft edits
// reach staff only (the lead, the assigned experts, managers and
// administrators); from approval on, the organisation's applicants too.
// Data: Conclusion.
const EventConclusion EventKind = "conclusion.upsert"

// Limits of the draft's text fields, in characters.
const (
	MaxConclusionTextRunes   = 20000 // a finding, the justification
	MaxConclusionNumberRunes = 100   // the contract number
)

// ConclusionState is where a conclusion stands.
type ConclusionState string

const (
	ConclusionDraft     ConclusionState = "draft"     // being written by the lead expert
	ConclusionRendering ConclusionState = "rendering" // approved; the PDF and XML are being made
	ConclusionReady     ConclusionState = "ready"     // approved; PDF and XML stored
)

// ConclusionFinding is the experts' finding on one section of the
// documentation.
type ConclusionFinding struct {
	Section string `json:"section"` // classifier code such as "07.03"
	Text    string `json:"text"`
}

// ConclusionDocument is one document version the experts reviewed.
type ConclusionDocument struct {
	VersionID int64  `json:"version_id"`
	Section   string `json:"section"`
	Name      string `json:"name"`      // the logical file
	FileName  string `json:"file_name"` // of this version
	Number    int    `json:"number"`    // version number
	SHA256    string `json:"sha256"`
}

// ConclusionRemark is one published remark of the register as it was
// resolved: its final status, the expert's last resolution and the
// applicant's last answer.
type ConclusionRemark struct {
	Number      int          `json:"number"`
	Section     string       `json:"section"`
	Text        string       `json:"text"`
	NormRef     string       `json:"norm_ref"`
	Criticality Criticality  `json:"criticality"`
	Status      RemarkStatus `json:"status"`
	Resolution  string       `json:"resolution,omitempty"`
	Answer      string       `json:"answer,omitempty"`
}

// ConclusionExpert is an expert of the application with their sections.
type ConclusionExpert struct {
	ExpertID int64    `json:"expert_id"`
	Name     string   `json:"name"`
	Sections []string `json:"sections"`
	Lead     bool     `json:"lead"`
}

// Conclusion is the conclusion of one application. Until approval the
// object, remarks, experts and documents are composed live from the
// application, the remarks register, the assignments and the files; at
// approval they are frozen and never change again.
type Conclusion struct {
	AppID int64           `json:"app_id"`
	GUID  string          `json:"guid,omitempty"` // UUID v4, given when the draft is first saved
	State ConclusionState `json:"state"`
	// Number is given at approval («Заключение государственной
	// экспертизы № …»).
	Number string `json:"number,omitempty"`

	// Object.
	ObjectName    string        `json:"object_name"`
	ObjectAddress string        `json:"object_address"`
	WorksKind     WorksKind     `json:"works_kind"`
	ExpertiseKind ExpertiseKind `json:"expertise_kind"`
	OrgName       string        `json:"org_name"`
	OrgINN        string        `json:"org_inn"`

	// Basis.
	ApplicationNumber string `json:"application_number"`
	ContractNumber    string `json:"contract_number"`

	Documents []ConclusionDocument `json:"documents"`
	Findings  []ConclusionFinding  `json:"findings"`
	Remarks   []ConclusionRemark   `json:"remarks"`
	Experts   []ConclusionExpert   `json:"experts"`

	// Verdict is the lead's choice in the draft (completed_positive or
	// completed_negative; "" none yet). Proposed reports whether it is the
	// application's proposed verdict the manager may approve.
	Verdict       Status `json:"verdict,omitempty"`
	Proposed      bool   `json:"proposed"`
	Justification string `json:"justification"`

	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	PaidAt      *time.Time `json:"paid_at,omitempty"`
	CreatedAt   *time.Time `json:"created_at,omitempty"` // nil: no draft saved yet
	UpdatedAt   *time.Time `json:"updated_at,omitempty"`
	UpdatedBy   string     `json:"updated_by,omitempty"`
	ApprovedAt  *time.Time `json:"approved_at,omitempty"`
	ApprovedBy  string     `json:"approved_by,omitempty"`

	// The rendered files, once stored.
	PDFSHA256  string      `json:"pdf_sha256,omitempty"`
	PDFSize    int64       `json:"pdf_size,omitempty"`
	XMLSHA256  string      `json:"xml_sha256,omitempty"`
	XMLSize    int64       `json:"xml_size,omitempty"`
	RenderedAt *time.Time  `json:"rendered_at,omitempty"`
	Signatures []Signature `json:"signatures"`

	// Version is 0 before the first save; a save names the version it saw.
	Version int64 `json:"version"`
}

// SaveConclusionRequest replaces the lead expert's draft. Version is the
// conclusion version the lead saw (0 when none was saved yet).
type SaveConclusionRequest struct {
	Version        int64               `json:"version"`
	ContractNumber string              `json:"contract_number"`
	DocumentIDs    []int64             `json:"document_ids"` // versions of the application's documentation
	Findings       []ConclusionFinding `json:"findings"`
	Verdict        Status              `json:"verdict,omitempty"`
	Justification  string              `json:"justification"`
}

// ConclusionInputErrors checks a draft as typed, naming every fault with
// its field (findings[i] for one finding), so a form marks them all; the
// server refuses with the first.
func ConclusionInputErrors(r SaveConclusionRequest) []*Error {
	var out []*Error
	if utf8.RuneCountInString(strings.TrimSpace(r.ContractNumber)) > MaxConclusionNumberRunes {
		out = append(out, E(CodeInvalid, "contract_number", fmt.Sprintf("Номер договора: не длиннее %d символов", MaxConclusionNumberRunes),
			fmt.Sprintf("Contract number: at most %d characters", MaxConclusionNumberRunes)))
	}
	seenDoc := map[int64]bool{}
	for _, id := range r.DocumentIDs {
		if id <= 0 || seenDoc[id] {
			out = append(out, E(CodeInvalid, "document_ids", "Список рассмотренных документов содержит неверный или повторный идентификатор версии",
				"The reviewed documents list has an invalid or repeated version id"))
			break
		}
		seenDoc[id] = true
	}
	seen := map[string]bool{}
	for i, f := range r.Findings {
		field := fmt.Sprintf("findings[%d]", i)
		sec, ok := SectionByCode(f.Section)
		switch {
		case !ok:
			out = append(out, E(CodeInvalid, field, "Неизвестный раздел «"+f.Section+"»: используйте код классификатора (например, 07.03)",
				"Unknown section "+f.Section+": use a classifier code such as 07.03"))
		case seen[f.Section]:
			out = append(out, E(CodeInvalid, field, "Выводы по разделу "+sec.Code+" "+sec.Short+" указаны дважды: оставьте один текст на раздел",
				"Section "+sec.Code+" has two findings: keep one text per section"))
		case strings.TrimSpace(f.Text) == "":
			out = append(out, E(CodeInvalid, field, "Напишите выводы по разделу "+sec.Code+" "+sec.Short+" или уберите раздел",
				"Write the finding for section "+sec.Code+" or remove it"))
		case utf8.RuneCountInString(f.Text) > MaxConclusionTextRunes:
			out = append(out, E(CodeInvalid, field, fmt.Sprintf("Выводы по разделу %s длиннее %d символов: сократите их", sec.Code, MaxConclusionTextRunes),
				fmt.Sprintf("The finding for section %s is over %d characters: shorten it", sec.Code, MaxConclusionTextRunes)))
		}
		seen[f.Section] = true
	}
	if r.Verdict != "" && r.Verdict != StatusCompletedPositive && r.Verdict != StatusCompletedNegative {
		out = append(out, E(CodeInvalid, "verdict", "Вывод: положительное (completed_positive) или отрицательное (completed_negative) заключение",
			"Verdict: completed_positive or completed_negative"))
	}
	if utf8.RuneCountInString(r.Justification) > MaxConclusionTextRunes {
		out = append(out, E(CodeInvalid, "justification", fmt.Sprintf("Обоснование длиннее %d символов: сократите его", MaxConclusionTextRunes),
			fmt.Sprintf("The justification is over %d characters: shorten it", MaxConclusionTextRunes)))
	}
	return out
}

// ConclusionProposalErrors says what a saved draft lacks before its
// verdict can be proposed for approval: the verdict, the justification,
// findings, and the reviewed documents when the application has files.
// A positive verdict is refused while a critical remark is unresolved.
func ConclusionProposalErrors(c Conclusion, verdict Status, hasFiles bool) []*Error {
	var out []*Error
	if c.Version == 0 {
		return []*Error{E(CodeConflict, "conclusion", "Сначала сохраните проект заключения: выводы по разделам и обоснование",
			"Save the conclusion draft first: findings and justification")}
	}
	if verdict != StatusCompletedPositive && verdict != StatusCompletedNegative {
		out = append(out, E(CodeInvalid, "verdict", "Выберите вывод: положительное или отрицательное заключение",
			"Choose the verdict: positive or negative"))
	}
	if len(c.Findings) == 0 {
		out = append(out, E(CodeInvalid, "findings", "Напишите выводы хотя бы по одному разделу документации",
			"Write the finding for at least one section"))
	}
	if strings.TrimSpace(c.Justification) == "" {
		out = append(out, E(CodeInvalid, "justification", "Напишите обоснование вывода", "Write the justification of the verdict"))
	}
	if hasFiles && len(c.Documents) == 0 {
		out = append(out, E(CodeInvalid, "document_ids", "Отметьте рассмотренные документы", "Choose the documents reviewed"))
	}
	if verdict == StatusCompletedPositive {
		var open []string
		for _, r := range c.Remarks {
			if r.Criticality == CriticalityCritical && r.Status != RemarkAccepted && r.Status != RemarkClosed {
				open = append(open, fmt.Sprint(r.Number))
			}
		}
		if len(open) > 0 {
			out = append(out, E(CodeConflict, "verdict", "Положительное заключение невозможно: не устранены существенные замечания № "+strings.Join(open, ", "),
				"A positive verdict is impossible: critical remarks "+strings.Join(open, ", ")+" are not resolved"))
		}
	}
	return out
}

// ConclusionRemarks lists the register's published remarks (drafts are
// not part of a conclusion) by number, with the last answer of each.
func ConclusionRemarks(rs []Remark) []ConclusionRemark {
	out := []ConclusionRemark{}
	for _, r := range rs {
		if r.Status == RemarkDraft || r.Number == 0 {
			continue
		}
		cr := ConclusionRemark{Number: r.Number, Section: r.Section, Text: r.Text, NormRef: r.NormRef, Criticality: r.Criticality,
			Status: r.Status, Resolution: r.Resolution}
		if n := len(r.Answers); n > 0 {
			cr.Answer = r.Answers[n-1].Text
		}
		out = append(out, cr)
	}
	slices.SortFunc(out, func(a, b ConclusionRemark) int { return a.Number - b.Number })
	return out
}

// ConclusionExperts lists an application's experts, the lead first, each
// with the sections assigned; the lead is listed even without a section.
func ConclusionExperts(a Application, leadName string) []ConclusionExpert {
	out := []ConclusionExpert{}
	idx := map[int64]int{}
	add := func(id int64, name string) int {
		if i, ok := idx[id]; ok {
			return i
		}
		out = append(out, ConclusionExpert{ExpertID: id, Name: name, Sections: []string{}, Lead: id == a.LeadExpertID})
		idx[id] = len(out) - 1
		return len(out) - 1
	}
	if a.LeadExpertID != 0 {
		add(a.LeadExpertID, leadName)
	}
	for _, as := range a.Assignments {
		i := add(as.ExpertID, as.ExpertName)
		if out[i].Name == "" {
			out[i].Name = as.ExpertName
		}
		if !slices.Contains(out[i].Sections, as.Section) {
			out[i].Sections = append(out[i].Sections, as.Section)
		}
	}
	for i := range out {
		slices.Sort(out[i].Sections)
	}
	return out
}

// ConclusionVerdictLabel is the verdict as a conclusion prints it.
func ConclusionVerdictLabel(v Status) string {
	switch v {
	case StatusCompletedPositive:
		return "Положительное заключение"
	case StatusCompletedNegative:
		return "Отрицательное заключение"
	}
	return "Вывод не выбран"
}
