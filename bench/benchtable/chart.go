package benchtable

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Bar colours: at or better than the reference, and worse.
var (
	ColourBetter = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	ColourWorse  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// Chart draws a horizontal bar per row with a reference: the bar runs from
// parity (1×) to the ratio on a log₂ axis, so 2× worse and 2× better are
// bars of the same length on either side. It returns PNG bytes, nil when
// no row has a reference.
func Chart(rows []Row, title string) ([]byte, error) {
	trim := CommonPrefix(rows)
	var bars ratioBars
	for _, r := range rows {
		if r.HasRef && !math.IsNaN(r.Ratio) && r.Ratio > 0 {
			bars = append(bars, bar{label: r.Figure(trim) + " vs " + r.RefName, ratio: r.Ratio})
		}
	}
	if len(bars) == 0 {
		return nil, nil
	}
	// Top to bottom in table order: plot's y grows upwards.
	names := make([]string, len(bars))
	for i, b := range bars {
		names[len(bars)-1-i] = b.label
	}
	p := plot.New()
	p.Title.Text = title
	for _, f := range []*font.Font{&p.Title.TextStyle.Font, &p.X.Label.TextStyle.Font, &p.X.Tick.Label.Font, &p.Y.Tick.Label.Font} {
		f.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Tick.Label.Font.Size = vg.Points(9)
	p.Y.Tick.Label.Font.Size = vg.Points(8)
	p.X.Label.Text = "ours ÷ reference as cost (log scale): left of 1× better, right worse"
	p.X.Label.TextStyle.Font.Size = vg.Points(9)
	p.NominalY(names...)
	lo, hi := bars.extent()
	p.X.Min, p.X.Max = lo, hi
	p.X.Tick.Marker = log2Ticks{}
	grid := plotter.NewGrid()
	grid.Horizontal.Color = color.Transparent
	p.Add(grid, bars)

	const width = 1400
	height := 120 + 18*len(bars)
	dpi := 96
	c := vgimg.NewWith(vgimg.UseWH(vg.Length(width)*vg.Inch/vg.Length(dpi), vg.Length(height)*vg.Inch/vg.Length(dpi)),
		vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	p.Draw(draw.New(c))
	var out bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&out); err != nil {
		return nil, fmt.Errorf("encode the chart: %w", err)
	}
	return out.Bytes(), nil
}

type bar struct {
	label string
	ratio float64
}

// ratioBars is the plotter: y is the row (top row first), x is log₂ ratio.
type ratioBars []bar

func (bs ratioBars) extent() (lo, hi float64) {
	lo, hi = -1, 1 // at least ½× to 2×
	for _, b := range bs {
		x := math.Log2(b.ratio)
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	// Room for the value printed at the bar's end.
	pad := (hi - lo) * 0.12
	return math.Floor(lo - pad), math.Ceil(hi + pad)
}

func (bs ratioBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	lo, hi := bs.extent()
	return lo, hi, 0, float64(len(bs) - 1)
}

func (bs ratioBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	half := vg.Points(5)
	txt := draw.TextStyle{Color: color.Black, Font: font.From(plot.DefaultFont, vg.Points(8)), Handler: plot.DefaultTextHandler, YAlign: draw.YCenter}
	txt.Font.Variant = "Sans"
	for i, b := range bs {
		y := trY(float64(len(bs) - 1 - i))
		x0, x1 := trX(0), trX(math.Log2(b.ratio))
		col := ColourWorse
		if b.ratio <= 1 {
			col = ColourBetter
		}
		lx, rx := min(x0, x1), max(x0, x1)
		if rx-lx < 1 {
			rx = lx + 1 // parity still shows
		}
		c.FillPolygon(col, []vg.Point{{X: lx, Y: y - half}, {X: rx, Y: y - half}, {X: rx, Y: y + half}, {X: lx, Y: y + half}})
		label := FormatRatio(b.ratio)
		if b.ratio > 1 {
			txt.XAlign = draw.XLeft
			c.FillText(txt, vg.Point{X: x1 + vg.Points(3), Y: y}, label)
		} else {
			txt.XAlign = draw.XRight
			c.FillText(txt, vg.Point{X: x1 - vg.Points(3), Y: y}, label)
		}
	}
	// Parity.
	c.StrokeLine2(draw.LineStyle{Color: color.Black, Width: vg.Points(1)}, trX(0), c.Min.Y, trX(0), c.Max.Y)
}

// log2Ticks labels whole powers of two as ratios: ¼×, ½×, 1×, 2×, 4×…
type log2Ticks struct{}

func (log2Ticks) Ticks(lo, hi float64) []plot.Tick {
	step := 1.0
	for (hi-lo)/step > 12 {
		step *= 2
	}
	var out []plot.Tick
	for e := math.Ceil(lo/step) * step; e <= hi; e += step {
		label := ""
		switch {
		case e >= 0:
			label = fmt.Sprintf("%g×", math.Exp2(e))
		default:
			label = fmt.Sprintf("1/%g×", math.Exp2(-e))
		}
		out = append(out, plot.Tick{Value: e, Label: label})
	}
	return out
}
