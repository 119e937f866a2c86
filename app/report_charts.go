package app

import (
	"bytes"
	"fmt"
	"image/color"
	"image/png"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/expertiza/expertiza/sync/wire"
)

// Report charts are drawn with gonum.org/v1/plot into PNG bytes, so the
// screen shows them as an image and the PDF export embeds the same
// picture. Text is Liberation Sans, which plot embeds and which has
// Cyrillic; labels are Russian like the exports.

// Chart colours. Bars of one series have exactly one colour, so a test
// can count them by their pixels.
var (
	ColourApplications = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff} // workload: applications
	ColourOpenRemarks  = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff} // workload: open remarks
	ColourStageTime    = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff} // stage times
)

// statusColours give each status one colour in every timeline.
var statusColours = map[wire.Status]color.RGBA{
	wire.StatusDraft:             {0xc7, 0xc7, 0xc7, 0xff},
	wire.StatusSubmitted:         {0x1f, 0x77, 0xb4, 0xff},
	wire.StatusNeedsCorrection:   {0xff, 0x7f, 0x0e, 0xff},
	wire.StatusReturned:          {0x7f, 0x7f, 0x7f, 0xff},
	wire.StatusAwaitingContract:  {0x9e, 0xda, 0xe5, 0xff},
	wire.StatusAwaitingPayment:   {0x17, 0xbe, 0xcf, 0xff},
	wire.StatusInReview:          {0x2c, 0xa0, 0x2c, 0xff},
	wire.StatusRemarksIssued:     {0xd6, 0x27, 0x28, 0xff},
	wire.StatusConclusion:        {0x94, 0x67, 0xbd, 0xff},
	wire.StatusCompletedPositive: {0x8c, 0x56, 0x4b, 0xff},
	wire.StatusCompletedNegative: {0xe3, 0x77, 0xc2, 0xff},
	wire.StatusWithdrawn:         {0xbc, 0xbd, 0x22, 0xff},
	wire.StatusArchived:          {0x44, 0x44, 0x44, 0xff},
}

// StatusColour is the colour of a status's area in the timeline chart.
func StatusColour(s wire.Status) color.RGBA { return statusColours[s] }

// screenDPI is the resolution at scale 1: a chart of 960 pixels is 10
// inches, its 10-point labels readable on a screen.
const screenDPI = 96

// RenderReportChart draws the report's chart as a PNG of exactly w×h
// pixels; scale enlarges the text and lines with the pixels (2 for print).
// It returns nil when the report has no chart (deadlines) or no data.
func RenderReportChart(r Report, w, h int, scale float64) ([]byte, error) {
	if w < 100 || h < 100 || !(scale > 0) {
		return nil, fmt.Errorf("chart of %d×%d pixels at scale %g: want at least 100×100 and a positive scale", w, h, scale)
	}
	var p *plot.Plot
	var legend *plot.Legend
	switch {
	case r.Workload != nil && len(r.Workload.Rows) > 0:
		p = workloadChart(r.Workload, w, scale)
	case r.Timeline != nil && len(r.Timeline.Statuses) > 0 && len(r.Timeline.Points) > 0:
		p, legend = timelineChart(r.Timeline)
	case r.Stages != nil && len(r.Stages.Rows) > 0:
		p = stageChart(r.Stages, w, scale)
	default:
		return nil, nil
	}
	dpi := int(math.Round(screenDPI * scale))
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(w)*vg.Inch/vg.Length(dpi), vg.Length(h)*vg.Inch/vg.Length(dpi)), vgimg.UseDPI(dpi))
	dc := draw.New(c)
	if legend != nil {
		// The legend gets a column of its own at the right: over the
		// stacked areas it would hide the data.
		lw := legendWidth(legend)
		legend.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-lw, 0, 0, 0))
		dc = draw.Crop(dc, 0, -lw-vg.Points(6), 0, 0)
	}
	p.Draw(dc)
	img := c.Image()
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		return nil, fmt.Errorf("chart drawn %d×%d pixels, want %d×%d", b.Dx(), b.Dy(), w, h)
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, fmt.Errorf("encode chart: %w", err)
	}
	return out.Bytes(), nil
}

// newPlot is a plot with sans-serif text and a white background.
func newPlot(title string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font,
		&p.X.Tick.Label.Font, &p.Y.Tick.Label.Font, &p.Legend.TextStyle.Font} {
		f.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Label.Font.Size = vg.Points(9)
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	p.Y.Min = 0
	p.Add(plotter.NewGrid())
	return p
}

// integerTicks marks whole numbers only: the charts count applications
// and days.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	step := 1.0
	for (max-min)/step > 8 {
		switch {
		case step*2*8 >= max-min:
			step *= 2
		case step*5*8 >= max-min:
			step *= 5
		default:
			step *= 10
		}
	}
	var out []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max+1e-9; v += step {
		out = append(out, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return out
}

// barWidth shares the plot's width among n groups of k bars.
func barWidth(w int, scale float64, n, k int) vg.Length {
	points := vg.Length(float64(w) / (screenDPI * scale) * 72) // the canvas width in points
	return points * 0.8 / vg.Length(n) / vg.Length(k+1)
}

// rotateIfCrowded slants the category labels when there are many.
func rotateIfCrowded(p *plot.Plot, n int) {
	if n > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 7
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
}

func workloadChart(r *wire.WorkloadReport, w int, scale float64) *plot.Plot {
	p := newPlot("Загрузка экспертов")
	p.Y.Label.Text = "Количество"
	p.Y.Tick.Marker = integerTicks{}
	n := len(r.Rows)
	apps, remarks := make(plotter.Values, n), make(plotter.Values, n)
	names := make([]string, n)
	maxV := 1.0
	for i, row := range r.Rows {
		apps[i], remarks[i], names[i] = float64(row.Applications), float64(row.OpenRemarks), row.ExpertName
		maxV = max(maxV, apps[i], remarks[i])
	}
	bw := barWidth(w, scale, n, 2)
	a, _ := plotter.NewBarChart(apps, bw) // errors only for a non-positive width or NaN values
	a.Color, a.LineStyle.Width, a.Offset = ColourApplications, 0, -bw/2
	o, _ := plotter.NewBarChart(remarks, bw)
	o.Color, o.LineStyle.Width, o.Offset = ColourOpenRemarks, 0, bw/2
	p.Add(a, o)
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5 // half a slot of air at both ends
	rotateIfCrowded(p, n)
	p.Y.Max = maxV * 1.15 // room for the legend above the tallest bar
	p.Legend.Add("Заявления в работе", a)
	p.Legend.Add("Открытые замечания", o)
	p.Legend.Top = true
	return p
}

func stageChart(r *wire.StageTimesReport, w int, scale float64) *plot.Plot {
	p := newPlot("Среднее время этапов, рабочих дней")
	var vals plotter.Values
	var names []string
	var labels []string
	for _, row := range r.Rows {
		if row.Kind != "" {
			continue // the chart shows every kind together; the table has the split
		}
		vals = append(vals, row.AverageDays)
		names = append(names, row.Stage.Label())
		labels = append(labels, ruDecimal(row.AverageDays))
	}
	bw := barWidth(w, scale, len(vals), 1)
	b, _ := plotter.NewBarChart(vals, bw*1.6)
	b.Color, b.LineStyle.Width = ColourStageTime, 0
	p.Add(b)
	xys := make(plotter.XYs, len(vals))
	maxV := 1.0
	for i, v := range vals {
		xys[i] = plotter.XY{X: float64(i), Y: v}
		maxV = max(maxV, v)
	}
	if l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels}); err == nil {
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Variant = "Sans"
			l.TextStyle[i].Font.Size = vg.Points(9)
			l.TextStyle[i].XAlign = draw.XCenter
		}
		l.Offset = vg.Point{Y: vg.Points(3)}
		p.Add(l)
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.5, float64(len(vals))-0.5
	p.Y.Tick.Marker = integerTicks{}
	rotateIfCrowded(p, len(vals))
	p.Y.Max = maxV * 1.15
	return p
}

// timelineChart stacks the statuses' counts as areas, the first status at
// the bottom: each status's line is the running total up to it, filled
// down to zero, drawn from the top series down so each covers the ones
// above only where they overlap.
func timelineChart(r *wire.StatusTimelineReport) (*plot.Plot, *plot.Legend) {
	p := newPlot("Заявления по статусам")
	p.Y.Label.Text = "Заявлений"
	p.Y.Tick.Marker = integerTicks{}
	n := len(r.Points)
	xs := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i)
	}
	if n == 1 {
		xs = []float64{-0.5, 0.5} // one day: a band, not a line
	}
	cum := make([][]float64, len(r.Statuses))
	maxV := 1.0
	for s := range r.Statuses {
		cum[s] = make([]float64, n)
		for i, pt := range r.Points {
			cum[s][i] = float64(pt.Counts[s])
			if s > 0 {
				cum[s][i] += cum[s-1][i]
			}
			maxV = max(maxV, cum[s][i])
		}
	}
	legend := plot.NewLegend()
	legend.TextStyle.Font.Variant = "Sans"
	legend.TextStyle.Font.Size = vg.Points(9)
	legend.Top = true
	lines := make([]*plotter.Line, len(r.Statuses))
	for s, st := range r.Statuses {
		xys := make(plotter.XYs, len(xs))
		for i, x := range xs {
			xys[i] = plotter.XY{X: x, Y: cum[s][min(i, n-1)]}
		}
		l, _ := plotter.NewLine(xys) // errors only for NaN or infinite values
		l.FillColor = StatusColour(st)
		l.Color = StatusColour(st)
		l.Width = 0
		lines[s] = l
	}
	for s := len(lines) - 1; s >= 0; s-- {
		p.Add(lines[s])
	}
	// The legend lists the statuses top down, as they are stacked.
	for s := len(lines) - 1; s >= 0; s-- {
		legend.Add(r.Statuses[s].Label(), lines[s])
	}
	p.X.Min, p.X.Max = xs[0], xs[len(xs)-1]
	p.Y.Max = maxV * 1.05
	p.X.Tick.Marker = dayTicks(r.Points)
	return p, &legend
}

// dayTicks labels at most ten of the points with their dates.
func dayTicks(points []wire.TimelinePoint) plot.TickerFunc {
	return func(_, _ float64) []plot.Tick {
		n := len(points)
		step := max(1, (n+9)/10)
		var out []plot.Tick
		for i := 0; i < n; i += step {
			d := points[i].Day
			out = append(out, plot.Tick{Value: float64(i), Label: fmt.Sprintf("%02d.%02d", d.Day, int(d.Month))})
		}
		return out
	}
}

// legendWidth is the width the legend's longest entry needs.
func legendWidth(l *plot.Legend) vg.Length {
	return l.Rectangle(draw.Canvas{}).Max.X + vg.Points(8)
}
