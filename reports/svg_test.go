package reports

import "testing"

// TestPack: a burst of markers at one instant stays within its rows, and no
// label is drawn over another mark or label of its row.
func TestPack(t *testing.T) {
	var gs []glyph
	for i := 0; i < 12; i++ {
		gs = append(gs, marker(500+float64(i%3), 1000, "client-event", "", "circle", "token_received", "t"))
	}
	gs = append(gs, marker(900, 1000, "client-event", "", "circle", "near the right edge", "t"))
	items, rows := pack(gs, 0, 3)
	if rows != 3 || len(items) != len(gs) {
		t.Fatalf("%d items in %d rows, want %d in 3", len(items), rows, len(gs))
	}
	type span struct {
		from, to float64
		text     string
	}
	byRow := map[float64][]span{}
	labels := 0
	for _, it := range items {
		x := it.Dots[0].X
		s := span{from: x - 4, to: x + 4}
		if it.Label != nil {
			labels++
			s.text = it.Label.Text
			w := float64(len([]rune(it.Label.Text))) * charW
			if it.Label.Anchor == "end" {
				s.from = it.Label.X - w
			} else {
				s.to = it.Label.X + w
			}
		}
		byRow[it.Dots[0].Y] = append(byRow[it.Dots[0].Y], s)
	}
	for _, row := range byRow {
		for i, a := range row {
			for _, b := range row[i+1:] {
				if (a.text != "" || b.text != "") && a.from < b.to && b.from < a.to {
					t.Errorf("%+v and %+v overlap, and one has a label", a, b)
				}
			}
		}
	}
	if labels < 3 {
		t.Errorf("%d labels, want one per row at least", labels)
	}
	if last := items[len(items)-1]; last.Label == nil || last.Label.Anchor != "end" {
		t.Errorf("a marker near the right edge: label %+v, want it on the left", last.Label)
	}
}

func TestAxis(t *testing.T) {
	a := newAxis(0, 22192, 0, 1000, 12)
	if a.step != 2000 || a.hi != 24000 || len(a.ticks()) != 13 || a.x(12000) != 500 {
		t.Errorf("axis = %+v, %d ticks", a, len(a.ticks()))
	}
}
