package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/sync/wire"
)

// The remarks register of one application exported for people: CSV for
// Excel and PDF for the file, in Russian like ExportCSV and ExportPDF.

// remarksCSVHeader names the columns of ExportRemarksCSV.
var remarksCSVHeader = []string{
	"№", "Раздел", "Замечание", "Нормативный документ", "Критичность", "Статус", "Эксперт",
	"Ответ", "Исправленные версии", "Направлено", "Дата ответа", "Комментарий эксперта", "Изменено",
}

// versionNames names document versions «АР», версия 2 from the
// application's documents, for the corrected-versions column.
type versionNames map[int64]string

func newVersionNames(docs []wire.Document) versionNames {
	names := versionNames{}
	for _, d := range docs {
		for _, v := range d.Versions {
			names[v.ID] = "«" + d.Name + "», версия " + strconv.Itoa(v.Number)
		}
	}
	return names
}

// name is the version's name, or its id when the documents given do not
// have it (a version the user's cache has not loaded).
func (n versionNames) name(id int64) string {
	if s, ok := n[id]; ok {
		return s
	}
	return "версия файла #" + strconv.FormatInt(id, 10)
}

// corrected lists the versions the remark's answers point to, each once,
// in the order the answers gave them.
func (n versionNames) corrected(r wire.Remark) []string {
	var ids []int64
	for _, a := range r.Answers {
		for _, id := range a.VersionIDs {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, n.name(id))
	}
	return out
}

// answersText is the applicant's answers: the one text, or, when the
// remark was answered more than once, each with its date, oldest first.
func answersText(r wire.Remark) string {
	switch len(r.Answers) {
	case 0:
		return ""
	case 1:
		return r.Answers[0].Text
	}
	parts := make([]string, 0, len(r.Answers))
	for _, a := range r.Answers {
		parts = append(parts, a.CreatedAt.Local().Format("02.01.2006")+": "+a.Text)
	}
	return strings.Join(parts, "\n")
}

// lastAnswerDate is when the remark was last answered, "" if never.
func lastAnswerDate(r wire.Remark) string {
	if len(r.Answers) == 0 {
		return ""
	}
	return r.Answers[len(r.Answers)-1].CreatedAt.Local().Format("02.01.2006")
}

func remarkNumber(r wire.Remark) string {
	if r.Number == 0 {
		return "" // a draft has no number yet
	}
	return strconv.Itoa(r.Number)
}

func publishedDate(r wire.Remark) string {
	if r.PublishedAt == nil || r.PublishedAt.IsZero() {
		return ""
	}
	return r.PublishedAt.Local().Format("02.01.2006")
}

// ExportRemarksCSV writes remarks, in the given order, with their answers
// as CSV for Excel, the way ExportCSV does (UTF-8 with a byte order mark,
// ';', CRLF). docs are the application's documents; they name the
// corrected versions the answers point to.
func ExportRemarksCSV(rs []wire.Remark, docs []wire.Document) []byte {
	names := newVersionNames(docs)
	var b bytes.Buffer
	b.WriteString(utf8BOM)
	w := csv.NewWriter(&b)
	w.Comma = ';'
	w.UseCRLF = true
	_ = w.Write(remarksCSVHeader) // writes to a bytes.Buffer cannot fail
	for _, r := range rs {
		_ = w.Write([]string{
			remarkNumber(r), wire.RemarkSectionLabel(r.Section), r.Text, r.NormRef, r.Criticality.Label(), r.Status.Label(),
			r.AuthorName, answersText(r), strings.Join(names.corrected(r), "\n"), publishedDate(r), lastAnswerDate(r),
			r.Resolution, r.UpdatedAt.Local().Format("02.01.2006 15:04"),
		})
	}
	w.Flush()
	return b.Bytes()
}

// remarksPDFColumns are the columns of ExportRemarksPDF on landscape A4
// within pdfMargins, in points (only the ratios matter): «Документы
// заявления», «Несущественное», «Исправленные» and «направлено» fit in
// theirs at 8 pt; the remark and the answer get the rest.
var remarksPDFColumns = []pdfdoc.Column{
	{Header: "№", Width: 22, Align: pdfdoc.AlignCenter},
	{Header: "Раздел", Width: 58},
	{Header: "Замечание", Width: 150},
	{Header: "Нормативный документ", Width: 90},
	{Header: "Критичность", Width: 80},
	{Header: "Статус", Width: 84},
	{Header: "Ответ", Width: 132},
	{Header: "Исправленные версии", Width: 78},
	{Header: "Даты", Width: 63},
}

// datesCell is the dates of a remark, one per line: sent, answered.
func datesCell(r wire.Remark) string {
	var lines []string
	if d := publishedDate(r); d != "" {
		lines = append(lines, "направлено "+d)
	}
	if d := lastAnswerDate(r); d != "" {
		lines = append(lines, "ответ "+d)
	}
	return strings.Join(lines, "\n")
}

// ExportRemarksPDF writes an application's remarks, in the given order,
// as a register on landscape A4 pages: «Реестр замечаний», the
// application, its object and the time it was made (now), counts, then a
// table — number; section; remark; normative reference; criticality;
// status, with the expert's comment when the answer was not accepted;
// the applicant's answers; the corrected versions (named from docs); when
// it was sent and answered. The header row repeats on every page and every
// page is numbered.
func ExportRemarksPDF(ctx context.Context, eng *pdfdoc.Engine, w io.Writer, app wire.Application, rs []wire.Remark,
	docs []wire.Document, now time.Time) error {
	names := newVersionNames(docs)
	critical, open := 0, 0
	rows := make([][]string, 0, len(rs))
	for _, r := range rs {
		if r.Criticality == wire.CriticalityCritical {
			critical++
		}
		if r.Status == wire.RemarkPublished || r.Status == wire.RemarkReopened {
			open++
		}
		status := r.Status.Label()
		if c := strings.TrimSpace(r.Resolution); c != "" && r.Status == wire.RemarkReopened {
			status += ": " + c
		}
		rows = append(rows, []string{
			remarkNumber(r), wire.RemarkSectionLabel(r.Section), r.Text, r.NormRef, r.Criticality.Label(), status,
			answersText(r), strings.Join(names.corrected(r), "\n"), datesCell(r),
		})
	}
	meta := []string{
		joinNonEmpty(", ", "Заявление № "+app.Number, prefixed("заявитель ", app.OrgName)),
		"Объект: " + joinNonEmpty(", ", app.ObjectName, app.ObjectAddress),
		"По состоянию на " + now.Format("02.01.2006 15:04"),
		fmt.Sprintf("Замечаний: %d, из них существенных: %d; ждут ответа заявителя: %d", len(rs), critical, open),
	}
	blocks := []pdfdoc.Block{pdfdoc.Table{Columns: remarksPDFColumns, Rows: rows}}
	if len(rs) == 0 {
		blocks = append(blocks, pdfdoc.Paragraph{Text: "Замечаний нет."})
	}
	err := eng.Write(ctx, w, &pdfdoc.Document{
		Title:     "Реестр замечаний",
		Meta:      meta,
		Blocks:    blocks,
		Landscape: true,
		Margins:   pdfMargins,
		Generated: now,
	})
	if err != nil {
		return fmt.Errorf("export the remarks register to PDF: %w", err)
	}
	return nil
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}
