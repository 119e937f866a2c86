package app

import (
	"bytes"
	"encoding/csv"
	"strconv"

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
