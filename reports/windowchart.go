package reports

import (
	"fmt"
	"math"

	"github.com/refreshsuite/refreshsuite/scenarios"
)

// windowChart draws a timing spec's cycles: the window the expectation allowed
// and where the entry landed, in ms after the expectation's since entry.
// Measurements do not record when their since entry happened, so the windows
// cannot be put on the timeline's own axis; they get an axis of their own,
// zoomed onto the windows so that a miss by a few milliseconds shows.
type windowChart struct {
	W, H        float64
	Left, Right float64 // the axis
	Labels      []label
	Ticks       []tick
	AxisY       float64
	Items       []item
}

const (
	wcWidth = 420.0
	wcLeft  = 58.0
	wcRight = 400.0
)

func drawWindows(ms []scenarios.Measurement) *windowChart {
	if len(ms) == 0 {
		return nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, m := range ms {
		a, b := window(m)
		lo, hi = math.Min(lo, math.Min(a, m.MeasuredMs)), math.Max(hi, math.Max(b, m.MeasuredMs))
	}
	pad := math.Max((hi-lo)*0.15, 5)
	ax := newAxis(math.Max(lo-pad, 0), hi+pad, wcLeft, wcRight, 5)
	ch := &windowChart{W: wcWidth, Left: wcLeft, Right: wcRight, Ticks: ax.ticks()}
	for i, m := range ms {
		top := 4 + float64(i)*rowH
		y := top + rowH/2
		a, b := window(m)
		class, verdict := "ok", "in the window"
		if !m.Pass {
			class, verdict = "bad", "outside the window"
		}
		want := fmt.Sprintf("between %.0fms and %.0fms", a, b)
		if m.LatestMs == 0 {
			want = fmt.Sprintf("%.0fms ± %.0fms", m.ExpectedMs, m.ToleranceMs)
		}
		title := fmt.Sprintf("cycle %d: expected %s after since, measured %.0fms (error %+.0fms): %s", m.Cycle, want, m.MeasuredMs, m.ErrorMs, verdict)
		win := item{What: "window", Title: title, Rects: []box{{X: ax.x(a), Y: top + 3, W: math.Max(ax.x(b)-ax.x(a), 1), H: rowH - 6}}}
		if m.LatestMs == 0 {
			win.Rects = append(win.Rects, box{X: ax.x(m.ExpectedMs) - 0.5, Y: top + 1, W: 1, H: rowH - 2})
		}
		x := ax.x(m.MeasuredMs)
		ch.Items = append(ch.Items, win, item{What: "measured", Class: class, Title: title, Polys: []string{pts(x, y-6, x+5, y, x, y+6, x-5, y)}})
		ch.Labels = append(ch.Labels, label{X: wcLeft - 8, Y: y + 3.5, Anchor: "end", Text: fmt.Sprintf("cycle %d", m.Cycle)})
	}
	ch.AxisY = 4 + float64(len(ms))*rowH + 2
	ch.H = ch.AxisY + axisH + 2
	return ch
}

// window is the range a measurement allowed.
func window(m scenarios.Measurement) (lo, hi float64) {
	if m.LatestMs > 0 {
		return m.EarliestMs, m.LatestMs
	}
	return m.ExpectedMs - m.ToleranceMs, m.ExpectedMs + m.ToleranceMs
}
