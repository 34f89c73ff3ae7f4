package console

import (
	"math"
	"strconv"
	"strings"

	"github.com/chargedesk/chargedesk"
)

// Small bar charts drawn on the server as inline SVG. Go computes the
// geometry; the "chart" template (reports.html) writes the elements, so
// html/template escapes every text and attribute. The page's CSP allows no
// style attributes: bars and text take their look from classes in
// console.css.

// chart is one SVG bar chart.
type chart struct {
	// Title names the chart for assistive technology (<title>, aria-label).
	Title         string
	Width, Height int
	Bars          []chartBar
	Labels        []chartLabel
	// Empty: nothing to draw; the page says so instead.
	Empty bool
}

// chartBar is a rectangle with a tooltip.
type chartBar struct {
	X, Y, W, H float64
	Class      string
	Tip        string
}

// chartLabel is a line of text; Anchor is start, middle or end.
type chartLabel struct {
	X, Y   float64
	Text   string
	Anchor string
}

// px rounds a coordinate to a tenth of a pixel.
func px(v float64) float64 { return math.Round(v*10) / 10 }

// dayChart draws a bar per day: the conversations of the day, and within
// it, from the bottom, those resolved without a person.
func dayChart(days []chargedesk.SupportDay) chart {
	const width, height, left, right, top, bottom = 720, 200, 40, 8, 12, 30
	c := chart{Title: "Conversations per day, and those resolved without a person", Width: width, Height: height}
	most := 0
	for _, d := range days {
		most = max(most, d.Conversations)
	}
	if len(days) == 0 || most == 0 {
		c.Empty = true
		return c
	}
	plotW, plotH := float64(width-left-right), float64(height-top-bottom)
	slot := plotW / float64(len(days))
	barW := max(slot*0.8, 1)
	base := float64(top) + plotH
	for i, d := range days {
		x := float64(left) + float64(i)*slot + (slot-barW)/2
		day := d.Day.Format("2006-01-02")
		tip := day + ": " + plural(d.Conversations, "conversation") + ", " + strconv.Itoa(d.ResolvedByAgent) + " resolved without a person"
		if d.Conversations > 0 {
			h := float64(d.Conversations) / float64(most) * plotH
			c.Bars = append(c.Bars, chartBar{X: px(x), Y: px(base - h), W: px(barW), H: px(h), Class: "bar-total", Tip: tip})
		}
		if d.ResolvedByAgent > 0 {
			h := float64(d.ResolvedByAgent) / float64(most) * plotH
			c.Bars = append(c.Bars, chartBar{X: px(x), Y: px(base - h), W: px(barW), H: px(h), Class: "bar-agent", Tip: tip})
		}
	}
	c.Bars = append(c.Bars, chartBar{X: left, Y: base, W: plotW, H: 1, Class: "axis-line"})
	c.Labels = append(c.Labels,
		chartLabel{X: left - 6, Y: top + 4, Text: strconv.Itoa(most), Anchor: "end"},
		chartLabel{X: left - 6, Y: base, Text: "0", Anchor: "end"},
		chartLabel{X: left, Y: height - 10, Text: days[0].Day.Format("Jan 2"), Anchor: "start"})
	if len(days) > 1 {
		c.Labels = append(c.Labels, chartLabel{X: float64(width - right), Y: height - 10, Text: days[len(days)-1].Day.Format("Jan 2"), Anchor: "end"})
	}
	if len(days) > 4 {
		mid := days[len(days)/2]
		c.Labels = append(c.Labels, chartLabel{X: px(float64(left) + (float64(len(days)/2)+0.5)*slot), Y: height - 10,
			Text: mid.Day.Format("Jan 2"), Anchor: "middle"})
	}
	return c
}

// categoryChart draws a horizontal bar per category, most first.
func categoryChart(counts []chargedesk.Count) chart {
	const width, labelW, countW, rowH, top = 720, 190, 60, 24, 6
	c := chart{Title: "Escalations by category", Width: width, Height: top*2 + rowH*len(counts)}
	if len(counts) == 0 {
		c.Empty = true
		return c
	}
	most := 0
	for _, n := range counts {
		most = max(most, n.N)
	}
	plotW := float64(width - labelW - countW)
	for i, n := range counts {
		y := float64(top + i*rowH)
		w := max(float64(n.N)/float64(most)*plotW, 1)
		name := strings.ReplaceAll(n.Name, "_", " ")
		c.Bars = append(c.Bars, chartBar{X: labelW, Y: y + 4, W: px(w), H: rowH - 8, Class: "bar-category",
			Tip: name + ": " + plural(n.N, "escalation")})
		c.Labels = append(c.Labels,
			chartLabel{X: labelW - 8, Y: y + 16, Text: name, Anchor: "end"},
			chartLabel{X: px(labelW + w + 6), Y: y + 16, Text: strconv.Itoa(n.N), Anchor: "start"})
	}
	return c
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
