package wire

import (
	"strings"
	"testing"
)

func TestConclusionInputErrors(t *testing.T) {
	ok := SaveConclusionRequest{ContractNumber: "Д-1", DocumentIDs: []int64{3, 5},
		Findings: []ConclusionFinding{{Section: "07.03", Text: "Соответствует"}}, Verdict: StatusCompletedNegative, Justification: "Есть"}
	for _, tc := range []struct {
		name  string
		edit  func(*SaveConclusionRequest)
		field string // "" for valid
	}{
		{"valid", func(*SaveConclusionRequest) {}, ""},
		{"empty draft", func(r *SaveConclusionRequest) { *r = SaveConclusionRequest{} }, ""},
		{"long contract number", func(r *SaveConclusionRequest) { r.ContractNumber = strings.Repeat("№", 101) }, "contract_number"},
		{"repeated document", func(r *SaveConclusionRequest) { r.DocumentIDs = []int64{3, 3} }, "document_ids"},
		{"zero document", func(r *SaveConclusionRequest) { r.DocumentIDs = []int64{0} }, "document_ids"},
		{"unknown section", func(r *SaveConclusionRequest) { r.Findings[0].Section = "08.01" }, "findings[0]"},
		{"supporting documents are no section", func(r *SaveConclusionRequest) { r.Findings[0].Section = SectionSupporting }, "findings[0]"},
		{"blank finding", func(r *SaveConclusionRequest) { r.Findings[0].Text = " \n" }, "findings[0]"},
		{"section twice", func(r *SaveConclusionRequest) {
			r.Findings = append(r.Findings, ConclusionFinding{Section: "07.03", Text: "x"})
		}, "findings[1]"},
		{"long finding", func(r *SaveConclusionRequest) { r.Findings[0].Text = strings.Repeat("я", MaxConclusionTextRunes+1) }, "findings[0]"},
		{"verdict not a completion", func(r *SaveConclusionRequest) { r.Verdict = StatusConclusion }, "verdict"},
		{"long justification", func(r *SaveConclusionRequest) { r.Justification = strings.Repeat("я", MaxConclusionTextRunes+1) }, "justification"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			r.Findings = append([]ConclusionFinding(nil), ok.Findings...)
			tc.edit(&r)
			errs := ConclusionInputErrors(r)
			switch {
			case tc.field == "" && len(errs) > 0:
				t.Fatalf("refused: %v", errs[0])
			case tc.field != "" && (len(errs) != 1 || errs[0].Field != tc.field || errs[0].Message == ""):
				t.Fatalf("errors %v, want one on %s", errs, tc.field)
			}
		})
	}
}

func TestConclusionProposalErrors(t *testing.T) {
	complete := Conclusion{Version: 2, Findings: []ConclusionFinding{{Section: "07.03", Text: "Да"}}, Justification: "Потому что",
		Documents: []ConclusionDocument{{VersionID: 1}},
		Remarks: []ConclusionRemark{{Number: 1, Criticality: CriticalityCritical, Status: RemarkAccepted},
			{Number: 2, Criticality: CriticalityOrdinary, Status: RemarkReopened}}}
	openCritical := complete
	openCritical.Remarks = append(append([]ConclusionRemark(nil), complete.Remarks...), ConclusionRemark{Number: 3, Criticality: CriticalityCritical, Status: RemarkAnswered})
	for _, tc := range []struct {
		name     string
		c        Conclusion
		verdict  Status
		hasFiles bool
		fields   []string
	}{
		{"complete positive", complete, StatusCompletedPositive, true, nil},
		{"complete negative", complete, StatusCompletedNegative, true, nil},
		{"never saved", Conclusion{}, StatusCompletedPositive, true, []string{"conclusion"}},
		{"no verdict", complete, "", true, []string{"verdict"}},
		{"nothing written", Conclusion{Version: 1}, StatusCompletedNegative, true, []string{"findings", "justification", "document_ids"}},
		{"no files to choose from", Conclusion{Version: 1, Findings: complete.Findings, Justification: "x"}, StatusCompletedNegative, false, nil},
		{"positive over an open critical remark", openCritical, StatusCompletedPositive, true, []string{"verdict"}},
		{"negative over an open critical remark", openCritical, StatusCompletedNegative, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range ConclusionProposalErrors(tc.c, tc.verdict, tc.hasFiles) {
				got = append(got, e.Field)
			}
			if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
				t.Fatalf("fields %v, want %v", got, tc.fields)
			}
		})
	}
}

func TestConclusionRemarksAndExperts(t *testing.T) {
	rs := []Remark{
		{ID: 9, Number: 2, Text: "b", Status: RemarkClosed, Answers: []RemarkAnswer{{Text: "first"}, {Text: "last"}}},
		{ID: 8, Text: "draft", Status: RemarkDraft},
		{ID: 7, Number: 1, Text: "a", Status: RemarkPublished},
	}
	got := ConclusionRemarks(rs)
	if len(got) != 2 || got[0].Number != 1 || got[1].Answer != "last" || got[0].Answer != "" {
		t.Fatalf("remarks %+v", got)
	}
	a := Application{LeadExpertID: 5, Assignments: []Assignment{{Section: "07.04", ExpertID: 6, ExpertName: "Б"},
		{Section: "07.05", ExpertID: 5, ExpertName: "А"}, {Section: "07.03", ExpertID: 5, ExpertName: "А"}}}
	ex := ConclusionExperts(a, "А")
	if len(ex) != 2 || !ex[0].Lead || ex[0].Name != "А" || strings.Join(ex[0].Sections, ",") != "07.03,07.05" || ex[1].Lead {
		t.Fatalf("experts %+v", ex)
	}
	if ex := ConclusionExperts(Application{LeadExpertID: 5}, "А"); len(ex) != 1 || len(ex[0].Sections) != 0 {
		t.Fatalf("a lead without sections: %+v", ex)
	}
}
