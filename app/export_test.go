package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/expertiza/expertiza/sync/wire"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
)

func TestExportCSV(t *testing.T) {
	apps := []wire.Application{
		{ID: 2, Number: "ГГЭ-2026-000002", Status: wire.StatusInReview, ObjectName: "Школа; корпус «Б»",
			OrgName: `ООО "Горпроект"`, OrgINN: "7707083893", ExpertiseKind: wire.KindProjectDocs,
			WorksKind: wire.WorksConstruction, Deadline: &wire.Date{Year: 2026, Month: 4, Day: 3}},
		{ID: 1, Number: "ГГЭ-2026-000001", Status: wire.StatusDraft, ObjectName: "Поликлиника"},
	}
	days := func(a wire.Application) (int, bool) { return -3, a.ID == 2 }
	got := ExportCSV(apps, days)

	if !bytes.HasPrefix(got, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("no UTF-8 BOM at the start: % x", got[:min(len(got), 8)])
	}
	if !bytes.Contains(got, []byte("\r\n")) {
		t.Errorf("lines do not end with CRLF")
	}
	r := csv.NewReader(bytes.NewReader(got[3:]))
	r.Comma = ';'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("the file does not parse back: %v", err)
	}
	want := [][]string{
		csvHeader,
		{"ГГЭ-2026-000002", "Проведение экспертизы", "-3", "03.04.2026", "Школа; корпус «Б»", "",
			`ООО "Горпроект"`, "7707083893", "Проектная документация", "Строительство", ""},
		{"ГГЭ-2026-000001", "Черновик", "", "", "Поликлиника", "", "", "", "", "", ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%s", len(rows), len(want), got)
	}
	for i := range want {
		if len(rows[i]) != len(want[i]) {
			t.Errorf("row %d has %d fields, want %d", i, len(rows[i]), len(want[i]))
			continue
		}
		for j := range want[i] {
			if rows[i][j] != want[i][j] {
				t.Errorf("row %d field %d = %q, want %q", i, j, rows[i][j], want[i][j])
			}
		}
	}
	if empty := ExportCSV(nil, nil); string(empty) != "\ufeff"+"Номер;Статус;Осталось рабочих дней;Срок этапа;Объект;Адрес объекта;Заявитель;ИНН;Предмет экспертизы;Вид работ;Подано\r\n" {
		t.Errorf("empty export = %q", empty)
	}
}

// pdfEngine returns a pdfdoc engine with its fonts under the test's
// temporary directory.
func pdfEngine(t *testing.T) *pdfdoc.Engine {
	t.Helper()
	eng, err := pdfdoc.New(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func TestExportPDF(t *testing.T) {
	apps := []wire.Application{
		{ID: 2, Number: "ГГЭ-2026-000002", Status: wire.StatusInReview,
			ObjectName: "Школа на 550 мест", ObjectAddress: "г. Краснодар, ул. Красная, 1",
			OrgName: `ООО "Горпроект"`, OrgINN: "7707083893", ExpertiseKind: wire.KindProjectDocs,
			Deadline: &wire.Date{Year: 2026, Month: 4, Day: 3}, LeadExpertID: 7,
			Assignments: []wire.Assignment{
				{Section: "07.01", ExpertID: 7, ExpertName: "Петров П. П."},
				{Section: "07.03", ExpertID: 8, ExpertName: "Сидорова А. В."},
				{Section: "07.04", ExpertID: 7, ExpertName: "Петров П. П."},
			}},
		{ID: 3, Number: "ГГЭ-2026-000003", Status: wire.StatusSubmitted, ObjectName: "Школа искусств",
			Deadline: &wire.Date{Year: 2026, Month: 2, Day: 20}},
		{ID: 1, Number: "ГГЭ-2026-000001", Status: wire.StatusDraft, ObjectName: "Поликлиника"},
	}
	days := func(a wire.Application) (int, bool) {
		switch a.ID {
		case 2:
			return -13, true // the longest deadline text fits on one line
		case 3:
			return 21, true
		}
		return 0, false
	}
	now := time.Date(2026, 2, 1, 10, 30, 0, 0, time.UTC)
	filter := ListFilter{Status: wire.StatusInReview, Kind: wire.KindProjectDocs, Query: " школа "}
	var b bytes.Buffer
	if err := ExportPDF(context.Background(), pdfEngine(t), &b, apps, days, filter, now); err != nil {
		t.Fatal(err)
	}
	pdf := b.Bytes()
	pdftest.Validate(t, pdf, model.ValidationStrict)
	info := pdftest.Info(t, pdf)
	if info["Title"] != "Реестр заявлений" || !strings.HasPrefix(info["Page size"], "841.89 x 595.28") {
		t.Errorf("title %q, page size %q: want «Реестр заявлений» on landscape A4", info["Title"], info["Page size"])
	}
	pages := pdftest.Pages(t, pdf)
	if len(pages) != 1 {
		t.Fatalf("%d pages, want 1", len(pages))
	}
	text := pages[0]
	for _, want := range [][]string{
		{"Реестр заявлений"},
		{"По состоянию на 01.02.2026 10:30"},
		{"Отбор: статус «Проведение экспертизы»; предмет экспертизы «Проектная документация»; поиск «школа»"},
		{"Заявлений: 3"},
		{"Номер", "Объект", "Заявитель", "Статус", "Срок этапа", "Эксперты"},
		{"ГГЭ-2026-000002", "Школа на 550 мест", `ООО "Горпроект"`, "Проведение экспертизы", "03.04.2026", "Петров П. П. (ведущий)"},
		{"г. Краснодар, ул. Красная, 1", "ИНН 7707083893", "просрочено на 13 рабочих дней", "Сидорова А. В."},
		{"ГГЭ-2026-000003", "Школа искусств", "На проверке комплектности", "20.02.2026"},
		{"осталось 21 рабочий день"},
		{"ГГЭ-2026-000001", "Поликлиника", "Черновик"},
		{"Сформировано 01.02.2026 10:30", "Страница 1 из 1"},
	} {
		if pdftest.Line(text, want...) == "" {
			t.Errorf("no line with %q in order:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "Петров П. П."); n != 1 {
		t.Errorf("the lead expert of two sections is listed %d times, want once", n)
	}
	for _, f := range pdftest.Fonts(t, pdf) {
		if !f.Embedded || !f.Subset || !f.ToUnicode {
			t.Errorf("font %+v is not an embedded subset with a ToUnicode map", f)
		}
	}
}

// A long list runs over pages with the header and page numbers on each.
func TestExportPDFManyPages(t *testing.T) {
	apps := make([]wire.Application, 400)
	for i := range apps {
		apps[i] = wire.Application{ID: int64(i + 1), Number: fmt.Sprintf("ГГЭ-2026-%06d", i+1),
			Status: wire.StatusRemarksIssued, ObjectName: fmt.Sprintf("Жилой дом № %d", i+1), OrgName: "АО «Стройинвест»"}
	}
	var b bytes.Buffer
	if err := ExportPDF(context.Background(), pdfEngine(t), &b, apps, nil, ListFilter{}, time.Now()); err != nil {
		t.Fatal(err)
	}
	pages := pdftest.Pages(t, b.Bytes())
	if len(pages) < 5 {
		t.Fatalf("%d pages for 400 applications", len(pages))
	}
	if strings.Contains(pages[0], "Отбор:") {
		t.Errorf("no filter was set, yet the register describes one")
	}
	next := 1
	for i, p := range pages {
		if pdftest.Line(p, "Номер", "Объект", "Заявитель", "Статус", "Срок этапа", "Эксперты") == "" {
			t.Errorf("page %d has no header row", i+1)
		}
		if pdftest.Line(p, fmt.Sprintf("Страница %d из %d", i+1, len(pages))) == "" {
			t.Errorf("page %d has no page number", i+1)
		}
		for line := range strings.SplitSeq(p, "\n") {
			if strings.Contains(line, "ГГЭ-2026-") {
				if pdftest.Line(line, fmt.Sprintf("ГГЭ-2026-%06d", next), fmt.Sprintf("Жилой дом № %d", next), "Направлены замечания") == "" {
					t.Fatalf("page %d: want application %d, got %q", i+1, next, line)
				}
				next++
			}
		}
	}
	if next != 401 {
		t.Errorf("the register lists %d applications, want 400", next-1)
	}
}

func TestExportPDFEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := ExportPDF(context.Background(), pdfEngine(t), &b, nil, nil, ListFilter{Query: "нет такого"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	text := strings.Join(pdftest.Pages(t, b.Bytes()), "")
	for _, want := range []string{"Заявлений: 0", "Нет заявлений, отвечающих отбору.", "Отбор: поиск «нет такого»"} {
		if !strings.Contains(text, want) {
			t.Errorf("no %q in:\n%s", want, text)
		}
	}
}

func TestWorkingDays(t *testing.T) {
	for n, want := range map[int]string{
		0: "0 рабочих дней", 1: "1 рабочий день", 2: "2 рабочих дня", 4: "4 рабочих дня", 5: "5 рабочих дней",
		11: "11 рабочих дней", 12: "12 рабочих дней", 21: "21 рабочий день", 22: "22 рабочих дня", 111: "111 рабочих дней",
	} {
		if got := workingDays(n); got != want {
			t.Errorf("workingDays(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestListFilterDescribe(t *testing.T) {
	d := func(m time.Month, day int) wire.Date { return wire.Date{Year: 2026, Month: m, Day: day} }
	tests := []struct {
		name string
		f    ListFilter
		want string
	}{
		{"nothing", ListFilter{}, ""},
		{"range", ListFilter{From: d(3, 1), To: d(3, 31)}, "Отбор: подано с 01.03.2026 по 31.03.2026"},
		{"from", ListFilter{From: d(3, 1)}, "Отбор: подано с 01.03.2026"},
		{"to and status", ListFilter{Status: wire.StatusDraft, To: d(12, 9)}, "Отбор: статус «Черновик»; подано по 09.12.2026"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.describe(); got != tt.want {
				t.Errorf("describe() = %q, want %q", got, tt.want)
			}
		})
	}
}
