package app

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expertiza/expertiza/pdfdoc"
	"github.com/expertiza/expertiza/pdfdoc/pdftest"
	"github.com/expertiza/expertiza/sync/wire"
)

func d(day int) wire.Date { return wire.Date{Year: 2026, Month: time.March, Day: day} }

func sampleWorkload() Report {
	return Report{Kind: wire.ReportWorkload, Query: wire.ReportQuery{From: d(1), To: d(31)}, Workload: &wire.WorkloadReport{From: d(1), To: d(31), Rows: []wire.WorkloadRow{
		{ExpertID: 1, ExpertName: "Абрамов А. А.", Applications: 3, Lead: 2, Sections: 2, OpenRemarks: 2,
			ByStatus: []wire.StatusCount{{Status: wire.StatusReturned, Count: 1}, {Status: wire.StatusRemarksIssued, Count: 2}}},
		{ExpertID: 2, ExpertName: "Борисова Б. Б.", Applications: 5, Lead: 1, Sections: 4, OpenRemarks: 1,
			ByStatus: []wire.StatusCount{{Status: wire.StatusInReview, Count: 5}}},
		{ExpertID: 3, ExpertName: "Власов В. В.", Applications: 1, Lead: 1, Sections: 1, OpenRemarks: 4,
			ByStatus: []wire.StatusCount{{Status: wire.StatusConclusion, Count: 1}}},
	}}}
}

func sampleStages() Report {
	row := func(st wire.Status, k wire.ExpertiseKind, n int, avg float64) wire.StageTimeRow {
		return wire.StageTimeRow{Stage: st, Kind: k, Count: n, AverageDays: avg, MinDays: 0, MaxDays: int(avg) + 1}
	}
	return Report{Kind: wire.ReportStageTimes, Query: wire.ReportQuery{From: d(1), To: d(31)}, Stages: &wire.StageTimesReport{From: d(1), To: d(31), Rows: []wire.StageTimeRow{
		row(wire.StatusSubmitted, "", 4, 1.25), row(wire.StatusSubmitted, wire.KindProjectDocs, 2, 1),
		row(wire.StatusNeedsCorrection, "", 1, 3), row(wire.StatusAwaitingContract, "", 1, 2),
		row(wire.StatusInReview, "", 2, 7), row(wire.StatusInReview, wire.KindSurveys, 1, 9),
	}}}
}

func sampleTimeline() Report {
	st := []wire.Status{wire.StatusSubmitted, wire.StatusInReview, wire.StatusReturned}
	var pts []wire.TimelinePoint
	for i := 1; i <= 14; i++ {
		c := []int{i % 4, i / 2, 1}
		pts = append(pts, wire.TimelinePoint{Day: d(i), Counts: c, Total: c[0] + c[1] + c[2]})
	}
	return Report{Kind: wire.ReportStatusTimeline, Query: wire.ReportQuery{From: d(1), To: d(14)},
		Timeline: &wire.StatusTimelineReport{From: d(1), To: d(14), Step: wire.StepDay, Statuses: st, Points: pts}}
}

func sampleDeadlines() Report {
	return Report{Kind: wire.ReportDeadlines, Deadlines: &wire.DeadlinesReport{Today: d(16), AtRisk: 1, Overdue: 1, Rows: []wire.DeadlineRow{
		{AppID: 4, Number: "ГГЭ-2026-000004", ObjectName: "Мост", Status: wire.StatusSubmitted, Stage: wire.StageCompleteness, Due: d(12), DaysLeft: -2, Overdue: true, LeadExpertName: "Абрамов А. А."},
		{AppID: 5, Number: "ГГЭ-2026-000005", ObjectName: "Склад", Status: wire.StatusInReview, Stage: wire.StageReview, Due: d(17), DaysLeft: 1},
	}}}
}

func decodePNG(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	return img
}

func same(c color.Color, want color.RGBA) bool {
	r, g, b, _ := c.RGBA()
	return uint8(r>>8) == want.R && uint8(g>>8) == want.G && uint8(b>>8) == want.B
}

// bars counts the bars of colour c: the runs of that colour along the row
// two pixels above the lowest row where it appears (the bars' feet; the
// legend is at the top).
func bars(img image.Image, c color.RGBA) int {
	b := img.Bounds()
	base := -1
	for y := b.Max.Y - 1; y >= b.Min.Y && base < 0; y-- {
		for x := b.Min.X; x < b.Max.X; x++ {
			if same(img.At(x, y), c) {
				base = y
				break
			}
		}
	}
	if base < 0 {
		return 0
	}
	runs, in := 0, false
	for x := b.Min.X; x < b.Max.X; x++ {
		on := same(img.At(x, base-2), c)
		if on && !in {
			runs++
		}
		in = on
	}
	return runs
}

func TestReportCharts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      Report
		w, h   int
		scale  float64
		counts map[color.RGBA]int // bars per colour
		areas  []wire.Status      // colours that must cover some pixels
	}{
		{"workload on screen", sampleWorkload(), 960, 420, 1, map[color.RGBA]int{ColourApplications: 3, ColourOpenRemarks: 3}, nil},
		{"workload for print", sampleWorkload(), 1920, 840, 2, map[color.RGBA]int{ColourApplications: 3, ColourOpenRemarks: 3}, nil},
		{"stage times", sampleStages(), 960, 420, 1, map[color.RGBA]int{ColourStageTime: 4}, nil},
		{"timeline", sampleTimeline(), 960, 420, 1, nil, []wire.Status{wire.StatusSubmitted, wire.StatusInReview, wire.StatusReturned}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := RenderReportChart(tc.r, tc.w, tc.h, tc.scale)
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, b)
			if got := img.Bounds().Size(); got != image.Pt(tc.w, tc.h) {
				t.Fatalf("chart is %v pixels, want %d×%d", got, tc.w, tc.h)
			}
			for c, want := range tc.counts {
				if got := bars(img, c); got != want {
					t.Errorf("%d bars of %v, want %d", got, c, want)
				}
			}
			for _, st := range tc.areas {
				n := 0
				for y := 0; y < tc.h; y += 2 {
					for x := 0; x < tc.w; x += 2 {
						if same(img.At(x, y), StatusColour(st)) {
							n++
						}
					}
				}
				if n < 200 {
					t.Errorf("status %s covers %d sampled pixels: its area is missing", st, n)
				}
			}
			if os.Getenv("REPORT_CHARTS") != "" { // look at them: REPORT_CHARTS=dir go test -run TestReportCharts
				_ = os.WriteFile(filepath.Join(os.Getenv("REPORT_CHARTS"), strings.ReplaceAll(tc.name, " ", "_")+".png"), b, 0o644)
			}
		})
	}
	// A taller bar is taller: Борисова's 5 applications against Власов's 1.
	img := decodePNG(t, must(RenderReportChart(sampleWorkload(), 960, 420, 1)))
	heights := barHeights(img, ColourApplications)
	if len(heights) != 3 || !(heights[1] > 4*heights[2]) || !(heights[0] > heights[2]) {
		t.Errorf("application bar heights %v, want them to follow 3, 5, 1", heights)
	}
	for _, r := range []Report{sampleDeadlines(), {Kind: wire.ReportWorkload, Workload: &wire.WorkloadReport{}}} {
		if b, err := RenderReportChart(r, 960, 420, 1); b != nil || err != nil {
			t.Errorf("%s with no chart data: %d bytes, %v", r.Kind, len(b), err)
		}
	}
	if _, err := RenderReportChart(sampleWorkload(), 50, 420, 1); err == nil {
		t.Error("a 50-pixel chart was drawn")
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// barHeights measures each bar of colour c standing on the chart's
// baseline (the lowest row of that colour), left to right, in pixels; the
// legend's swatch does not reach the baseline.
func barHeights(img image.Image, c color.RGBA) []int {
	b := img.Bounds()
	base := -1
	for y := b.Max.Y - 1; y >= b.Min.Y && base < 0; y-- {
		for x := b.Min.X; x < b.Max.X; x++ {
			if same(img.At(x, y), c) {
				base = y
				break
			}
		}
	}
	var out []int
	in := false
	for x := b.Min.X; x < b.Max.X; x++ {
		h := 0
		for y := base; y >= b.Min.Y && same(img.At(x, y), c); y-- {
			h++
		}
		switch {
		case h > 0 && !in:
			out = append(out, h)
			in = true
		case h == 0:
			in = false
		}
	}
	return out
}

func TestReportTables(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Report
		want []string // rows joined with " | "
	}{
		{"workload", sampleWorkload(), []string{
			"Абрамов А. А. | 3 | 2 | 2 | 2 | Возвращено без рассмотрения: 1, Направлены замечания: 2",
			"Борисова Б. Б. | 5 | 1 | 4 | 1 | Проведение экспертизы: 5",
			"Власов В. В. | 1 | 1 | 1 | 4 | Подготовка заключения: 1",
		}},
		{"deadlines", sampleDeadlines(), []string{
			"ГГЭ-2026-000004 | Мост | На проверке комплектности | Проверка комплектности | 12.03.2026 | просрочено на 2 рабочих дня | Абрамов А. А.",
			"ГГЭ-2026-000005 | Склад | Проведение экспертизы | Экспертиза | 17.03.2026 | осталось 1 рабочий день | ",
		}},
		{"stage times", sampleStages(), []string{
			"На проверке комплектности | Все | 4 | 1,3 | 0 | 2",
			"На проверке комплектности | Проектная документация | 2 | 1,0 | 0 | 2",
			"Требуется доработка | Все | 1 | 3,0 | 0 | 4",
			"Ожидает договора | Все | 1 | 2,0 | 0 | 3",
			"Проведение экспертизы | Все | 2 | 7,0 | 0 | 8",
			"Проведение экспертизы | Результаты инженерных изысканий | 1 | 9,0 | 0 | 10",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tab := tc.r.Table()
			if len(tab.Numeric) != len(tab.Columns) || len(tab.Widths) != len(tab.Columns) {
				t.Fatalf("%d columns, %d alignments, %d widths", len(tab.Columns), len(tab.Numeric), len(tab.Widths))
			}
			var got []string
			for _, r := range tab.Rows {
				got = append(got, strings.Join(r, " | "))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	tl := sampleTimeline().Table()
	if strings.Join(tl.Columns, "|") != "Дата|На проверке комплектности|Проведение экспертизы|Возвращено без рассмотрения|Всего" ||
		strings.Join(tl.Rows[3], "|") != "04.03.2026|0|2|1|3" || len(tl.Rows) != 14 {
		t.Errorf("timeline table %v / %v", tl.Columns, tl.Rows[3])
	}
}

func TestExportReportCSV(t *testing.T) {
	b := ExportReportCSV(sampleWorkload())
	want := "\ufeffЭксперт;Заявлений;Ведущий;Разделов;Открытых замечаний;Заявления по статусам\r\n" +
		"Абрамов А. А.;3;2;2;2;Возвращено без рассмотрения: 1, Направлены замечания: 2\r\n"
	if !strings.HasPrefix(string(b), want) {
		t.Errorf("CSV starts %q, want %q", string(b)[:min(len(b), len(want)+20)], want)
	}
	if n := strings.Count(string(b), "\r\n"); n != 4 {
		t.Errorf("%d lines, want a header and 3 rows", n)
	}
}

// TestExportReportPDF: the PDF has the chart as a print-resolution image
// and the table as text.
func TestExportReportPDF(t *testing.T) {
	eng, err := pdfdoc.New(context.Background(), filepath.Join(t.TempDir(), "fonts"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		r      Report
		images int
		lines  [][]string // words each of some line of the text holds, in order
	}{
		{"workload", sampleWorkload(), 1, [][]string{
			{"Загрузка экспертов"}, {"Период: с 01.03.2026 по 31.03.2026"}, {"Все эксперты"},
			{"Эксперт", "Заявлений", "Ведущий", "Разделов"},
			{"Борисова Б. Б.", "5", "1", "4", "1", "Проведение экспертизы: 5"},
		}},
		{"deadlines", sampleDeadlines(), 0, [][]string{
			{"Сроки под угрозой и просроченные"}, {"под угрозой 1, просрочено 1"},
			{"ГГЭ-2026-000004", "Мост", "12.03.2026", "просрочено на 2"},
		}},
		{"stage times", sampleStages(), 1, [][]string{
			{"Среднее время этапов"}, {"Проведение экспертизы", "Все", "2", "7,0"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := ExportReportPDF(context.Background(), eng, &b, tc.r, now); err != nil {
				t.Fatal(err)
			}
			imgs := pdftest.Images(t, b.Bytes())
			if len(imgs) != tc.images {
				t.Fatalf("%d images, want %d", len(imgs), tc.images)
			}
			for _, im := range imgs {
				if im.Width != ReportChartWidth*2 || im.Height != ReportChartHeight*2 {
					t.Errorf("chart embedded at %d×%d pixels", im.Width, im.Height)
				}
			}
			text := strings.Join(pdftest.Pages(t, b.Bytes()), "\n")
			for _, parts := range tc.lines {
				if pdftest.Line(text, parts...) == "" {
					t.Errorf("no line with %q in:\n%s", parts, pdftest.Describe(text))
				}
			}
		})
	}
}
