package service_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/expertiza/expertiza/server/service"
	"github.com/expertiza/expertiza/server/testenv"
	"github.com/expertiza/expertiza/sync/wire"
)

// conclusionXSD is the schema the export is documented with.
// conclusionXSD is the schema, by absolute path: xmllint reports a relative
// one it cannot open only as "failed to load external entity".
var conclusionXSD = func() string {
	p, err := filepath.Abs("../../docs/conclusion.xsd")
	if err != nil {
		panic(err)
	}
	return p
}()

// validateXSD runs xmllint (Debian libxml2-utils, in `make deps`) on doc
// against the schema and returns its complaint, "" when valid.
func validateXSD(t *testing.T, doc []byte) string {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal("xmllint not found: install libxml2-utils (make deps)")
	}
	p := filepath.Join(t.TempDir(), "conclusion.xml")
	if err := os.WriteFile(p, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xmllint", "--noout", "--nonet", "--schema", conclusionXSD, p).CombinedOutput()
	if err != nil {
		return strings.TrimSpace(string(out))
	}
	return ""
}

// sampleConclusion is an approved conclusion with every part filled,
// text long enough to wrap, and characters XML must escape.
func sampleConclusion() wire.Conclusion {
	submitted := time.Date(2026, 2, 2, 9, 0, 0, 0, time.UTC)
	paid := time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC)
	approved := time.Date(2026, 4, 20, 21, 30, 0, 0, time.UTC) // 21 April in Moscow
	return wire.Conclusion{
		AppID: 7, GUID: "0b8d5a0e-6a1f-4c2b-9d3e-5f6a7b8c9d0e", Number: "ГГЭ-З-2026-000042",
		ObjectName: "Средняя школа на 1100 мест", ObjectAddress: "г. Тверь, мкр. Южный", WorksKind: wire.WorksConstruction,
		ExpertiseKind: wire.KindProjectDocs, OrgName: "ООО «СтройПроект» & партнёры", OrgINN: "7707083893",
		ApplicationNumber: "ГГЭ-2026-000123", ContractNumber: "Д-17/2026",
		Documents: []wire.ConclusionDocument{{VersionID: 11, Section: "07.03", Name: "АР", FileName: "АР изм.1.pdf", Number: 2,
			SHA256: strings.Repeat("ab", 32)}},
		Findings: []wire.ConclusionFinding{
			{Section: "07.03", Text: "Архитектурные решения соответствуют заданию на проектирование и требованиям СП 118.13330.2022."},
			{Section: "07.04", Text: "Конструктивные решения обеспечивают механическую безопасность здания <класс КС-2>."},
		},
		Remarks: []wire.ConclusionRemark{
			{Number: 1, Section: "07.03", Text: "Высота этажа 2,5 м мала", NormRef: "СП 54.13330.2022 п. 5.8", Criticality: wire.CriticalityCritical,
				Status: wire.RemarkAccepted, Answer: "Высота этажа увеличена до 3,0 м", Resolution: "Принято"},
			{Number: 2, Section: "app", Text: "Нет выписки СРО", NormRef: "ГрК РФ ст. 55.8", Criticality: wire.CriticalityOrdinary, Status: wire.RemarkClosed},
		},
		Experts: []wire.ConclusionExpert{{ExpertID: 3, Name: "Петров Пётр Петрович", Sections: []string{"07.03"}, Lead: true},
			{ExpertID: 4, Name: "Сидорова Анна Викторовна", Sections: []string{"07.04"}}},
		Verdict: wire.StatusCompletedPositive, Proposed: true,
		Justification: "Проектная документация соответствует требованиям технических регламентов; замечания устранены.",
		SubmittedAt:   &submitted, PaidAt: &paid, ApprovedAt: &approved, ApprovedBy: "Менеджерова Мария",
	}
}

// TestConclusionXMLValidAgainstSchema: the export validates against
// docs/conclusion.xsd and carries the conclusion's content; a document the
// schema must refuse is refused, so the validation is real.
func TestConclusionXMLValidAgainstSchema(t *testing.T) {
	c := sampleConclusion()
	pdfSHA := strings.Repeat("0f", 32)
	doc, err := service.ConclusionXML(c, pdfSHA)
	if err != nil {
		t.Fatal(err)
	}
	if msg := validateXSD(t, doc); msg != "" {
		t.Fatalf("the export is not valid against the schema:\n%s\n%s", msg, doc)
	}
	var x service.XMLConclusion
	if err := xml.Unmarshal(doc, &x); err != nil {
		t.Fatal(err)
	}
	checks := []struct{ what, got, want string }{
		{"GUID", x.GUID, c.GUID},
		{"number", x.Number, c.Number},
		{"date (Moscow)", x.Date, "2026-04-21"},
		{"approved", x.Dates.Approved, "2026-04-21T00:30:00+03:00"},
		{"submitted", x.Dates.ApplicationSubmitted, "2026-02-02"},
		{"object", x.ExaminationObject.Name, c.ObjectName},
		{"applicant", x.Applicant.Name, c.OrgName},
		{"contract", x.Basis.ContractNumber, c.ContractNumber},
		{"verdict", x.Verdict.Result, "positive"},
		{"justification", x.Verdict.Justification, c.Justification},
		{"print form", x.PrintForm.SHA256, pdfSHA},
		{"finding 07.04", x.Sections.Section[1].Findings, c.Findings[1].Text},
		{"section title", x.Sections.Section[0].Title, "Архитектурные решения"},
		{"remark answer", x.Remarks.Remark[0].Answer, c.Remarks[0].Answer},
		{"remark status", x.Remarks.Remark[1].Status, "closed"},
		{"lead", x.Experts.Expert[0].FullName, c.Experts[0].Name},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: %q, want %q", ch.what, ch.got, ch.want)
		}
	}
	if x.Documents == nil || len(x.Documents.Document) != 1 || x.Documents.Document[0].SHA256 != c.Documents[0].SHA256 || !x.Experts.Expert[0].Lead || x.Experts.Expert[1].Lead {
		t.Errorf("documents %+v, experts %+v", x.Documents, x.Experts)
	}

	for _, tc := range []struct{ name, from, to string }{
		{"not a v4 GUID", c.GUID, "0b8d5a0e-6a1f-1c2b-9d3e-5f6a7b8c9d0e"},
		{"unknown verdict", `Result="positive"`, `Result="maybe"`},
		{"bad section code", `Code="07.04"`, `Code="7.4"`},
		{"draft remark", `Status="closed"`, `Status="draft"`},
	} {
		bad := bytes.Replace(doc, []byte(tc.from), []byte(tc.to), 1)
		if bytes.Equal(bad, doc) {
			t.Fatalf("%s: nothing replaced", tc.name)
		}
		if validateXSD(t, bad) == "" {
			t.Errorf("%s: the schema accepted it", tc.name)
		}
	}
	if _, err := service.ConclusionXML(wire.Conclusion{AppID: 1}, pdfSHA); err == nil {
		t.Error("a conclusion that is not approved was exported")
	}
}

// TestConclusionPDF typesets the sample: the number in the title, every
// part's text, page numbers and the embedded Cyrillic font.
func TestConclusionPDF(t *testing.T) {
	eng, err := pdfdoc.New(context.Background(), testenv.FontCache())
	if err != nil {
		t.Fatal(err)
	}
	c := sampleConclusion()
	var b bytes.Buffer
	if err := eng.Write(context.Background(), &b, service.ConclusionDocument(c)); err != nil {
		t.Fatal(err)
	}
	pages := pdftest.Pages(t, b.Bytes())
	flat := strings.Join(strings.Fields(strings.Join(pages, "\n")), " ")
	for _, want := range []string{
		"Заключение государственной экспертизы № ГГЭ-З-2026-000042", "Положительное заключение",
		c.ObjectName, c.ObjectAddress, "Договор № Д-17/2026", "Заявление № ГГЭ-2026-000123",
		"07.03 АР — Архитектурные решения", "СП 118.13330.2022", "механическую безопасность здания <класс КС-2>",
		"Петров Пётр Петрович", "Ведущий эксперт", "замечания устранены", "Страница 1 из",
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("the PDF lacks %q:\n%s", want, flat)
		}
	}
	// Table cells wrap: their words come in order, other cells' between.
	var words []string
	for _, w := range pdftest.Words(t, b.Bytes()) {
		words = append(words, w.Text)
	}
	for _, r := range c.Remarks {
		for _, phrase := range []string{r.Text, r.NormRef, r.Status.Label(), r.Answer} {
			if !inOrder(words, phrase) {
				t.Errorf("remark %d: the PDF lacks %q", r.Number, phrase)
			}
		}
	}
	if !pdftestHasCyrillicFont(t, b.Bytes()) {
		t.Error("no embedded font")
	}
}

func pdftestHasCyrillicFont(t *testing.T, pdf []byte) bool {
	for _, f := range pdftest.Fonts(t, pdf) {
		if f.Embedded && strings.Contains(f.Name, "DejaVu") {
			return true
		}
	}
	return false
}

// inOrder reports whether every word of phrase appears in ws in order.
func inOrder(ws []string, phrase string) bool {
	want := strings.Fields(phrase)
	i := 0
	for _, w := range ws {
		if i < len(want) && w == want[i] {
			i++
		}
	}
	return i == len(want)
}

// BenchmarkConclusionFiles renders a large conclusion (200 remarks with
// answers, 20 findings) as PDF and XML, what the worker does per approval.
func BenchmarkConclusionFiles(b *testing.B) {
	eng, err := pdfdoc.New(context.Background(), testenv.FontCache())
	if err != nil {
		b.Fatal(err)
	}
	c := sampleConclusion()
	for i := range 200 {
		c.Remarks = append(c.Remarks, wire.ConclusionRemark{Number: i + 3, Section: "07.04", Text: strings.Repeat("Несущая способность ", 8),
			NormRef: "СП 22.13330.2016 п. 5.6", Criticality: wire.CriticalityOrdinary, Status: wire.RemarkAccepted, Answer: strings.Repeat("Исправлено ", 6)})
	}
	for _, s := range wire.Sections[:20] {
		c.Findings = append(c.Findings, wire.ConclusionFinding{Section: s.Code, Text: strings.Repeat("Соответствует требованиям. ", 20)})
	}
	b.ResetTimer()
	for b.Loop() {
		var buf bytes.Buffer
		if err := eng.Write(context.Background(), &buf, service.ConclusionDocument(c)); err != nil {
			b.Fatal(err)
		}
		if _, err := service.ConclusionXML(c, strings.Repeat("0f", 32)); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
	}
}
