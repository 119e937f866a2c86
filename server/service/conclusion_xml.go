package service

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"time"

	"github.com/expertiza/expertiza/sync/wire"
)

// The XML export of a conclusion, after docs/conclusion-xml.md and its
// schema docs/conclusion.xsd (a simplified form of the official
// conclusion schema). Element names and order are the schema's; a change
// here is a change there first, and the tests validate what is produced
// against the XSD.

// ConclusionXMLNamespace is the target namespace of docs/conclusion.xsd.
const ConclusionXMLNamespace = "urn:expertiza:conclusion:1"

// ConclusionXMLSchemaVersion is the SchemaVersion attribute written.
const ConclusionXMLSchemaVersion = "1.0"

// XMLConclusion is the root element.
type XMLConclusion struct {
	XMLName           xml.Name             `xml:"urn:expertiza:conclusion:1 Conclusion"`
	SchemaVersion     string               `xml:"SchemaVersion,attr"`
	GUID              string               `xml:"ConclusionGUID"`
	Number            string               `xml:"ConclusionNumber"`
	Date              string               `xml:"ConclusionDate"` // xs:date, Moscow
	Dates             XMLDates             `xml:"Dates"`
	Basis             XMLBasis             `xml:"Basis"`
	Applicant         XMLApplicant         `xml:"Applicant"`
	ExaminationObject XMLExaminationObject `xml:"ExaminationObject"`
	Documents         *XMLDocuments        `xml:"Documents"` // nil: none (encoding/xml writes an empty a>b wrapper)
	Experts           XMLExperts           `xml:"Experts"`
	Sections          XMLSections          `xml:"Sections"`
	Remarks           *XMLRemarks          `xml:"Remarks"`
	Verdict           XMLVerdict           `xml:"Verdict"`
	Approval          XMLApproval          `xml:"Approval"`
	PrintForm         XMLPrintForm         `xml:"PrintForm"`
}

// XMLDates are the dates of the review.
type XMLDates struct {
	ApplicationSubmitted string `xml:"ApplicationSubmitted,omitempty"` // xs:date
	ReviewStarted        string `xml:"ReviewStarted,omitempty"`        // xs:date (payment)
	Approved             string `xml:"Approved"`                       // xs:dateTime
}

// XMLBasis is what the review was made on.
type XMLBasis struct {
	ApplicationNumber string `xml:"ApplicationNumber"`
	ContractNumber    string `xml:"ContractNumber,omitempty"`
}

// XMLApplicant is the applying organisation.
type XMLApplicant struct {
	Name string `xml:"Name"`
	INN  string `xml:"INN,omitempty"`
}

// XMLExaminationObject is the object of the expertise.
type XMLExaminationObject struct {
	Name          string `xml:"Name"`
	Address       string `xml:"Address"`
	WorksKind     string `xml:"WorksKind"`
	ExpertiseKind string `xml:"ExpertiseKind"`
}

// XMLDocuments, XMLExperts, XMLSections, XMLRemarks and XMLSectionCodes
// wrap the lists.
type (
	XMLDocuments    struct{ Document []XMLDocument }
	XMLExperts      struct{ Expert []XMLExpert }
	XMLSections     struct{ Section []XMLSection }
	XMLRemarks      struct{ Remark []XMLRemark }
	XMLSectionCodes struct{ Section []string }
)

// XMLDocument is one reviewed document version.
type XMLDocument struct {
	VersionID int64  `xml:"VersionID,attr"`
	Section   string `xml:"Section,attr"`
	Number    int    `xml:"Number,attr"`
	Name      string `xml:"Name"`
	FileName  string `xml:"FileName"`
	SHA256    string `xml:"SHA256"`
}

// XMLExpert is one expert with the sections they reviewed.
type XMLExpert struct {
	Lead     bool             `xml:"Lead,attr"`
	FullName string           `xml:"FullName"`
	Sections *XMLSectionCodes `xml:"Sections"`
}

// XMLSection is the finding on one section of the documentation.
type XMLSection struct {
	Code     string `xml:"Code,attr"`
	Title    string `xml:"Title"`
	Findings string `xml:"Findings"`
}

// XMLRemark is one remark of the register as resolved.
type XMLRemark struct {
	Number      int    `xml:"Number,attr"`
	Section     string `xml:"Section,attr"`
	Criticality string `xml:"Criticality,attr"`
	Status      string `xml:"Status,attr"`
	Text        string `xml:"Text"`
	NormRef     string `xml:"NormRef"`
	Answer      string `xml:"Answer,omitempty"`
	Resolution  string `xml:"Resolution,omitempty"`
}

// XMLVerdict is the result with its justification.
type XMLVerdict struct {
	Result        string `xml:"Result,attr"` // positive or negative
	Justification string `xml:"Justification"`
}

// XMLApproval says who approved the conclusion.
type XMLApproval struct {
	ApprovedBy string `xml:"ApprovedBy"`
}

// XMLPrintForm names the PDF rendering of the same conclusion.
type XMLPrintForm struct {
	SHA256 string `xml:"SHA256"`
}

// conclZone is the time zone of every date of a conclusion.
var conclZone = time.FixedZone("MSK", 3*3600)

func xmlDate(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.In(conclZone).Format("2006-01-02")
}

// ConclusionXML writes an approved conclusion as XML; pdfSHA is the
// SHA-256 of its PDF rendering.
func ConclusionXML(c wire.Conclusion, pdfSHA string) ([]byte, error) {
	if c.ApprovedAt == nil || c.Number == "" {
		return nil, fmt.Errorf("conclusion of application %d is not approved", c.AppID)
	}
	result := "negative"
	if c.Verdict == wire.StatusCompletedPositive {
		result = "positive"
	}
	x := XMLConclusion{
		SchemaVersion: ConclusionXMLSchemaVersion,
		GUID:          c.GUID,
		Number:        c.Number,
		Date:          xmlDate(c.ApprovedAt),
		Dates: XMLDates{ApplicationSubmitted: xmlDate(c.SubmittedAt), ReviewStarted: xmlDate(c.PaidAt),
			Approved: c.ApprovedAt.In(conclZone).Format(time.RFC3339)},
		Basis:     XMLBasis{ApplicationNumber: c.ApplicationNumber, ContractNumber: c.ContractNumber},
		Applicant: XMLApplicant{Name: c.OrgName, INN: c.OrgINN},
		ExaminationObject: XMLExaminationObject{Name: c.ObjectName, Address: c.ObjectAddress, WorksKind: string(c.WorksKind),
			ExpertiseKind: string(c.ExpertiseKind)},
		Verdict:   XMLVerdict{Result: result, Justification: c.Justification},
		Approval:  XMLApproval{ApprovedBy: c.ApprovedBy},
		PrintForm: XMLPrintForm{SHA256: pdfSHA},
	}
	if len(c.Documents) > 0 {
		x.Documents = &XMLDocuments{}
	}
	if len(c.Remarks) > 0 {
		x.Remarks = &XMLRemarks{}
	}
	for _, d := range c.Documents {
		x.Documents.Document = append(x.Documents.Document, XMLDocument{VersionID: d.VersionID, Section: d.Section, Number: d.Number, Name: d.Name,
			FileName: d.FileName, SHA256: d.SHA256})
	}
	for _, e := range c.Experts {
		var secs *XMLSectionCodes // a lead with no section of their own has no Sections element
		if len(e.Sections) > 0 {
			secs = &XMLSectionCodes{Section: e.Sections}
		}
		x.Experts.Expert = append(x.Experts.Expert, XMLExpert{Lead: e.Lead, FullName: e.Name, Sections: secs})
	}
	for _, f := range c.Findings {
		title := f.Section
		if sec, ok := wire.SectionByCode(f.Section); ok {
			title = sec.Title
		}
		x.Sections.Section = append(x.Sections.Section, XMLSection{Code: f.Section, Title: title, Findings: f.Text})
	}
	for _, r := range c.Remarks {
		x.Remarks.Remark = append(x.Remarks.Remark, XMLRemark{Number: r.Number, Section: r.Section, Criticality: string(r.Criticality), Status: string(r.Status),
			Text: r.Text, NormRef: r.NormRef, Answer: r.Answer, Resolution: r.Resolution})
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(x); err != nil {
		return nil, fmt.Errorf("encode the XML of conclusion %s: %w", c.Number, err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
