package reports

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// Geometry shared by the report's SVG drawings, in SVG user units. The charts
// are drawn about as wide as the page shows them, so a unit is about a pixel
// and the labels' width can be computed instead of measured.
const (
	rowH  = 17.0 // one row of marks in a lane
	charW = 6.1  // one character of the 10px monospace labels
)

// item is one drawn element: data-what names its kind (tests count them, CSS
// colours them) and title is its tooltip.
type item struct {
	What  string
	Class string
	Title string
	Rects []box
	Polys []string // polygon points
	Dots  []dot
	Label *label
}

type box struct{ X, Y, W, H float64 }

type dot struct{ X, Y, R float64 }

type label struct {
	X, Y   float64
	Anchor string // start or end
	Text   string
}

type tick struct {
	X     float64
	Label string
}

// glyph is an item waiting for its row. With its label it occupies from..to
// horizontally, without it bareFrom..bareTo; it draws itself once its row's
// top is known, labelled or not.
type glyph struct {
	from, to         float64
	bareFrom, bareTo float64
	draw             func(top float64, labelled bool) []item
}

// pack puts glyphs, from left to right, into the first of at most maxRows
// rows where they overlap nothing, starting at top. A glyph that finds no room
// with its label goes without (its tooltip still has everything), and one that
// finds none at all goes over the row that frees up first, taking the labels
// it would cover with it: a burst of events makes a lane busy, never endless,
// and text never runs over text. It returns what the glyphs draw and how many
// rows they took.
func pack(gs []glyph, top float64, maxRows int) ([]item, int) {
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].bareFrom < gs[j].bareFrom })
	type placed struct {
		g        glyph
		row      int
		labelled bool
	}
	var ps []placed
	var ends []float64
	free := func(from float64) int {
		for r, end := range ends {
			if end <= from {
				return r
			}
		}
		if len(ends) < maxRows {
			ends = append(ends, math.Inf(-1))
			return len(ends) - 1
		}
		return -1
	}
	for _, g := range gs {
		p := placed{g: g, row: free(g.from), labelled: true}
		end := g.to
		if p.row < 0 {
			p.row, p.labelled, end = free(g.bareFrom), false, g.bareTo
		}
		if p.row < 0 {
			for r := range ends {
				if p.row < 0 || ends[r] < ends[p.row] {
					p.row = r
				}
			}
			for i := range ps {
				if ps[i].row == p.row && ps[i].g.to > g.bareFrom && ps[i].g.from < g.bareTo {
					ps[i].labelled = false
				}
			}
		}
		ends[p.row] = math.Max(ends[p.row], end)
		ps = append(ps, p)
	}
	var out []item
	for _, p := range ps {
		out = append(out, p.g.draw(top+float64(p.row)*rowH, p.labelled)...)
	}
	return out, len(ends)
}

// axis maps milliseconds onto left..right and chooses round ticks.
type axis struct {
	lo, hi      float64 // ms
	left, right float64 // units
	step        float64 // ms between ticks
}

// newAxis covers lo..hi with about n ticks at a round step (1, 2 or 5 times a
// power of ten), widening the range to whole steps.
func newAxis(lo, hi, left, right float64, n int) axis {
	if hi <= lo {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	return axis{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step, left: left, right: right, step: step}
}

func (a axis) x(ms float64) float64 {
	return a.left + (ms-a.lo)/(a.hi-a.lo)*(a.right-a.left)
}

func (a axis) ticks() []tick {
	var out []tick
	for v := a.lo; v <= a.hi+a.step/2; v += a.step {
		out = append(out, tick{X: a.x(v), Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return out
}

// marker is a shape at one instant with a label beside it: to its right, or
// to its left when the right edge is too close. Its extent keeps a few units
// clear on either side, so that neighbours' labels do not run together.
func marker(x, limit float64, what, class, shape, text, title string) glyph {
	text = clip(text, 30)
	w := float64(len([]rune(text))) * charW
	g := glyph{from: x - 9, to: x + 14 + w, bareFrom: x - 9, bareTo: x + 9}
	lx, anchor := x+8, "start"
	if g.to > limit {
		g.from, g.to = x-14-w, x+9
		lx, anchor = x-8, "end"
	}
	g.draw = func(top float64, labelled bool) []item {
		y := top + rowH/2
		it := item{What: what, Class: class, Title: title}
		if labelled {
			it.Label = &label{X: lx, Y: y + 3.5, Anchor: anchor, Text: text}
		}
		switch shape {
		case "diamond":
			it.Polys = []string{pts(x, y-5, x+5, y, x, y+5, x-5, y)}
		case "triangle":
			it.Polys = []string{pts(x-5, y-4.5, x+5, y-4.5, x, y+5)}
		case "square":
			it.Rects = []box{{X: x - 4, Y: y - 4, W: 8, H: 8}}
		default:
			it.Dots = []dot{{X: x, Y: y, R: 4}}
		}
		return []item{it}
	}
	return g
}

// bar spans x0..x1 with its label inside, cut to fit. An open bar goes on past
// the chart and ends in an arrow.
func bar(x0, x1 float64, open bool, what, class, text, title string) glyph {
	x1 = math.Max(x1, x0+2)
	fits := int((x1 - x0 - 6) / charW)
	if open {
		fits -= 2
	}
	text = clip(text, fits)
	return glyph{from: x0, to: x1, bareFrom: x0, bareTo: x1, draw: func(top float64, _ bool) []item {
		it := item{What: what, Class: class, Title: title, Rects: []box{{X: x0, Y: top + 2.5, W: x1 - x0, H: rowH - 5}}}
		if open {
			it.Polys = []string{pts(x1-1, top+1, x1+5, top+rowH/2, x1-1, top+rowH-1)}
		}
		if text != "" {
			it.Label = &label{X: x0 + 3, Y: top + rowH/2 + 3.5, Anchor: "start", Text: text}
		}
		return []item{it}
	}}
}

// clip shortens s to n characters, marking the cut; nothing fits below 3.
func clip(s string, n int) string {
	r := []rune(s)
	switch {
	case len(r) <= n:
		return s
	case n < 3:
		return ""
	}
	return string(r[:n-1]) + "…"
}

func pts(xy ...float64) string {
	var b strings.Builder
	for i, v := range xy {
		if i > 0 {
			b.WriteByte(" ,"[i%2])
		}
		b.WriteString(num(v))
	}
	return b.String()
}

// num writes a coordinate with at most one decimal: enough for a screen, and
// it keeps the file small.
func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }
