package reports

import (
	"math"
	"sort"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// The timeline chart's frame: lane names on the left, the axis below.
const (
	tlWidth = 1100.0
	tlLeft  = 78.0
	tlRight = 1086.0
	lanePad = 4.0
	axisH   = 34.0
)

// timelineChart is a container's timeline drawn on the scenario clock, one
// lane per source.
type timelineChart struct {
	W, H        float64
	Left, Right float64 // the axis
	Lanes       []laneBox
	Ticks       []tick
	Guides      []float64 // x of every harness step, across all lanes
	AxisY       float64
	Items       []item
}

type laneBox struct {
	Name string
	Y, H float64
}

// lane is a source's marks, in groups that get rows of their own so that,
// say, token bars never share a row with request markers.
type lane struct {
	name   string
	groups []group
}

type group struct {
	glyphs  []glyph
	maxRows int
}

func drawTimeline(entries []timeline.Entry) *timelineChart {
	if len(entries) == 0 {
		return nil
	}
	es := append([]timeline.Entry(nil), entries...)
	// Entries keep the order they were added in, which the page's transport
	// delay can put a few milliseconds out of time order.
	sort.SliceStable(es, func(i, j int) bool { return es[i].At < es[j].At })
	end := es[len(es)-1].Ms()
	// The axis starts a little before the first mark other than a step: what
	// comes before is the page starting, and drawing it would squeeze the
	// scenario into the chart's last fifth. It ends a little after the last
	// entry, to leave room for the last marks' labels.
	first := end
	for _, e := range es {
		if marks[e.What] {
			first = e.Ms()
			break
		}
	}
	ax := newAxis(math.Max(first-0.03*(end-first), 0), math.Max(end+0.04*(end-first), first+100), tlLeft, tlRight, 12)
	d := drawing{ax: ax, end: end}
	lanes := []lane{
		{"harness", []group{{d.steps(es), 1}, {d.harness(es), 2}}},
		{"idp", []group{{d.tokens(es), 8}, {d.requests(es), 4}}},
		{"browser", []group{{d.frames(es), 3}, {d.messages(es), 3}}},
		{"client", []group{{d.client(es), 5}}},
	}
	ch := &timelineChart{W: tlWidth, Left: tlLeft, Right: tlRight, Ticks: ax.ticks()}
	y := 4.0
	for _, l := range lanes {
		top := y
		y += lanePad
		for _, g := range l.groups {
			items, rows := pack(g.glyphs, y, g.maxRows)
			ch.Items = append(ch.Items, items...)
			y += float64(rows) * rowH
		}
		if y == top+lanePad {
			y = top // nothing of this source to draw: no empty lane
			continue
		}
		y += lanePad
		ch.Lanes = append(ch.Lanes, laneBox{Name: l.name, Y: top, H: y - top})
	}
	for _, e := range es {
		if e.What == "harness.step" && e.Ms() >= ax.lo {
			ch.Guides = append(ch.Guides, ax.x(e.Ms()))
		}
	}
	ch.AxisY = y
	ch.H = y + axisH
	return ch
}

// marks are the kinds drawn as marks of their own, steps aside.
var marks = map[string]bool{
	"idp.token": true, "idp.authorize": true, "idp.fault": true, "app.fault": true,
	"browser.frame-attached": true, "browser.post-message": true, "browser.message": true,
	"client.event": true, "client.ready": true, "harness.forged-message": true,
}

// drawing turns entries into glyphs on one axis; end is the last entry's time,
// where whatever is still going is cut.
type drawing struct {
	ax  axis
	end float64
}

func (d drawing) marker(e timeline.Entry, what, class, shape, text string) glyph {
	return marker(d.ax.x(e.Ms()), tlRight, what, class, shape, text, tooltip(e))
}

// bar draws from..to, cut to the axis: a step that began before it starts at
// its left edge.
func (d drawing) bar(from, to float64, what, class, text, title string) glyph {
	open := to > d.end
	return bar(d.ax.x(math.Max(from, d.ax.lo)), d.ax.x(math.Min(to, d.end)), open, what, class, text, title)
}
