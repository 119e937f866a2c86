package app

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/expertiza/expertiza/sync/wire"
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
