package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/sync/wire"
)

// csvHeader names the columns of ExportCSV, in Russian: the file is for
// people in the expert organisation, who open it in Excel.
var csvHeader = []string{
	"Номер", "Статус", "Осталось рабочих дней", "Срок этапа", "Объект", "Адрес объекта",
	"Заявитель", "ИНН", "Предмет экспертизы", "Вид работ", "Подано",
}

// utf8BOM makes Excel read the file as UTF-8, so Cyrillic is not garbled.
const utf8BOM = "\ufeff"

// ExportCSV writes apps, in the given order, as CSV for Excel: UTF-8 with a
// byte order mark, ';' between fields (the separator Excel expects in a
// Russian locale), CRLF line ends. daysLeft gives the working days left of
// an application's current stage; when it reports false the cell is empty.
func ExportCSV(apps []wire.Application, daysLeft func(wire.Application) (int, bool)) []byte {
	var b bytes.Buffer
	b.WriteString(utf8BOM)
	w := csv.NewWriter(&b)
	w.Comma = ';'
	w.UseCRLF = true
	_ = w.Write(csvHeader) // writes to a bytes.Buffer cannot fail
	for _, a := range apps {
		days := ""
		if daysLeft != nil {
			if d, ok := daysLeft(a); ok {
				days = strconv.Itoa(d)
			}
		}
		deadline := ""
		if a.Deadline != nil && !a.Deadline.IsZero() {
			deadline = a.Deadline.Time().Format("02.01.2006")
		}
		submitted := ""
		if a.SubmittedAt != nil && !a.SubmittedAt.IsZero() {
			submitted = a.SubmittedAt.Local().Format("02.01.2006")
		}
		_ = w.Write([]string{
			a.Number, a.Status.Label(), days, deadline, a.ObjectName, a.ObjectAddress,
			a.OrgName, a.OrgINN, expertiseName(a.ExpertiseKind), worksName(a.WorksKind), submitted,
		})
	}
	w.Flush()
	return b.Bytes()
}

// ListFilter is the filter the applications list was shown with when it
// was exported; ExportPDF prints it under the title, so a reader of the
// paper knows what the register leaves out.
type ListFilter struct {
	Status wire.Status        // "" for any
	Kind   wire.ExpertiseKind // "" for any
	Query  string             // the search text, "" for none
	// From and To bound the filing date, inclusive (zero: open).
	From, To wire.Date
}

// describe says in Russian which applications the filter keeps, or ""
// when it keeps all.
func (f ListFilter) describe() string {
	var parts []string
	if f.Status != "" {
		parts = append(parts, "статус «"+f.Status.Label()+"»")
	}
	if f.Kind != "" {
		parts = append(parts, "предмет экспертизы «"+expertiseName(f.Kind)+"»")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		parts = append(parts, "поиск «"+q+"»")
	}
	ruDate := func(d wire.Date) string { return fmt.Sprintf("%02d.%02d.%04d", d.Day, int(d.Month), d.Year) }
	switch {
	case !f.From.IsZero() && !f.To.IsZero():
		parts = append(parts, "подано с "+ruDate(f.From)+" по "+ruDate(f.To))
	case !f.From.IsZero():
		parts = append(parts, "подано с "+ruDate(f.From))
	case !f.To.IsZero():
		parts = append(parts, "подано по "+ruDate(f.To))
	}
	if len(parts) == 0 {
		return ""
	}
	return "Отбор: " + strings.Join(parts, "; ")
}

// pdfColumns are the columns of ExportPDF. Only the ratios of the widths
// matter; they are the points each column gets on landscape A4 within
// pdfMargins, enough for «ГГЭ-2026-000123», the longest status label and
// «просрочено на 13 рабочих дней» at 8 pt on one line each.
var pdfColumns = []pdfdoc.Column{
	{Header: "Номер", Width: 80},
	{Header: "Объект", Width: 152},
	{Header: "Заявитель", Width: 130},
	{Header: "Статус", Width: 136},
	{Header: "Срок этапа", Width: 146, Align: pdfdoc.AlignCenter},
	{Header: "Эксперты", Width: 113},
}

// pdfMargins are narrower than pdfdoc's letter margins: a register is
// filed, not bound, and the table wants the width.
var pdfMargins = pdfdoc.Margins{Top: 15, Right: 10, Bottom: 15, Left: 20}

// ExportPDF writes apps, in the given order, as a register on landscape A4
// pages: «Реестр заявлений», the time it was made (now) and the filter it
// was made with, then a table — number; object and its address; applicant
// and its ИНН; status; the current stage's deadline and the working days
// left (daysLeft, as in ExportCSV); the experts assigned, the lead marked.
// The header row repeats on every page and every page is numbered. Like
// ExportCSV it is in Russian: it is a paper for the expert organisation's
// files.
func ExportPDF(ctx context.Context, eng *pdfdoc.Engine, w io.Writer, apps []wire.Application,
	daysLeft func(wire.Application) (int, bool), filter ListFilter, now time.Time) error {
	rows := make([][]string, 0, len(apps))
	for _, a := range apps {
		rows = append(rows, []string{
			a.Number,
			joinLines(a.ObjectName, a.ObjectAddress),
			joinLines(a.OrgName, prefixed("ИНН ", a.OrgINN)),
			a.Status.Label(),
			deadlineCell(a, daysLeft),
			expertsCell(a),
		})
	}
	meta := []string{"По состоянию на " + now.Format("02.01.2006 15:04")}
	if d := filter.describe(); d != "" {
		meta = append(meta, d)
	}
	meta = append(meta, "Заявлений: "+strconv.Itoa(len(apps)))
	blocks := []pdfdoc.Block{pdfdoc.Table{Columns: pdfColumns, Rows: rows}}
	if len(apps) == 0 {
		blocks = append(blocks, pdfdoc.Paragraph{Text: "Нет заявлений, отвечающих отбору."})
	}
	err := eng.Write(ctx, w, &pdfdoc.Document{
		Title:     "Реестр заявлений",
		Meta:      meta,
		Blocks:    blocks,
		Landscape: true,
		Margins:   pdfMargins,
		Generated: now,
	})
	if err != nil {
		return fmt.Errorf("export the applications list to PDF: %w", err)
	}
	return nil
}

// deadlineCell shows the stage deadline and, under it, the working days
// left or overdue, in the words the list on screen uses.
func deadlineCell(a wire.Application, daysLeft func(wire.Application) (int, bool)) string {
	deadline := ""
	if a.Deadline != nil && !a.Deadline.IsZero() {
		deadline = a.Deadline.Time().Format("02.01.2006")
	}
	days := ""
	if daysLeft != nil {
		if d, ok := daysLeft(a); ok {
			if d < 0 {
				days = "просрочено на " + workingDays(-d)
			} else {
				days = "осталось " + workingDays(d)
			}
		}
	}
	return joinLines(deadline, days)
}

// workingDays is "1 рабочий день", "3 рабочих дня", "5 рабочих дней".
func workingDays(n int) string {
	word := "рабочих дней"
	switch {
	case n%10 == 1 && n%100 != 11:
		word = "рабочий день"
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		word = "рабочих дня"
	}
	return strconv.Itoa(n) + " " + word
}

// expertsCell lists each assigned expert once, in assignment order, one
// per line, with the lead expert marked.
func expertsCell(a wire.Application) string {
	seen := map[int64]bool{}
	var names []string
	for _, as := range a.Assignments {
		if seen[as.ExpertID] || as.ExpertName == "" {
			continue
		}
		seen[as.ExpertID] = true
		name := as.ExpertName
		if as.ExpertID == a.LeadExpertID {
			name += " (ведущий)"
		}
		names = append(names, name)
	}
	return strings.Join(names, "\n")
}

func joinLines(first, second string) string {
	switch {
	case first == "":
		return second
	case second == "":
		return first
	}
	return first + "\n" + second
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

func expertiseName(k wire.ExpertiseKind) string {
	switch k {
	case wire.KindProjectDocs:
		return "Проектная документация"
	case wire.KindSurveys:
		return "Результаты инженерных изысканий"
	case wire.KindProjectDocsAndSurvey:
		return "Проектная документация и результаты инженерных изысканий"
	case wire.KindEstimate:
		return "Достоверность сметной стоимости"
	}
	return string(k)
}

func worksName(k wire.WorksKind) string {
	switch k {
	case wire.WorksConstruction:
		return "Строительство"
	case wire.WorksReconstruction:
		return "Реконструкция"
	case wire.WorksOverhaul:
		return "Капитальный ремонт"
	}
	return string(k)
}
