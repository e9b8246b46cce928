package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
)

//go:embed report.html.tmpl
var reportTemplate string

var page = template.Must(template.New("report").Funcs(template.FuncMap{"num": num}).Parse(reportTemplate))

// The view of the results that report.html.tmpl draws.
type (
	htmlReport struct {
		Started, Duration string
		Totals            []pill
		Errors            []Spec
		Clients           []string
		Libraries         []string
		Groups            []matrixGroup
		Sections          []section
	}
	// pill is a count of specs in one state, or a single spec's state.
	pill struct {
		State State
		Text  string
	}
	matrixGroup struct {
		Scenario string
		Failing  bool
		Rows     []matrixRow
		sections []section
	}
	matrixRow struct {
		Variant string
		Cells   []matrixCell // one per client, in Clients order
	}
	matrixCell struct {
		Anchor string // "" when the client has no such container
		Pills  []pill
	}
	section struct {
		Anchor string
		Container
		Failing bool
		// Folded is set when no spec ran; Reason is why, when all say the same.
		Folded  bool
		Reason  string
		Pills   []pill
		Specs   []specView
		Chart   *timelineChart
		Entries []entryRow
		EndMs   float64
	}
	specView struct {
		Spec
		Pill         pill
		Measurements []measurementRow
		Windows      *windowChart
		ShowFailure  bool
		TraceHref    string
	}
	measurementRow struct {
		Cycle                                int
		Expected, Measured, Error, Tolerance string
		Pass                                 bool
	}
	entryRow struct {
		At, What, Fields string
	}
)

// stateOrder is the order counts are shown in: what needs attention first.
var stateOrder = []State{Failed, Error, KnownDeviation, Skipped, Passed}

var stateWords = map[State]string{Failed: "fail", Error: "error", KnownDeviation: "known deviation", Skipped: "skipped", Passed: "pass"}

func writeHTML(path, dir string, r *Results) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := page.Execute(f, buildHTML(r, dir)); err != nil {
		f.Close()
		return fmt.Errorf("report.html: %w", err)
	}
	return f.Close()
}

// buildHTML lays the results out: scenarios with a failure first, variants
// under their scenario, one column and one section per client.
func buildHTML(r *Results, dir string) htmlReport {
	v := htmlReport{
		Started:  r.Started.Format(time.RFC3339),
		Duration: (time.Duration(r.DurationMs) * time.Millisecond).Round(100 * time.Millisecond).String(),
		Errors:   r.Errors,
	}
	byScenario := map[string][]Container{}
	libraries := map[string]bool{}
	var all []Spec
	for _, c := range r.Containers {
		byScenario[c.ID()] = append(byScenario[c.ID()], c)
		if !slices.Contains(v.Clients, c.Client) {
			v.Clients = append(v.Clients, c.Client)
		}
		if c.Library != "" && !libraries[c.Library] {
			libraries[c.Library] = true
			v.Libraries = append(v.Libraries, c.Library)
		}
		all = append(all, c.Specs...)
	}
	sort.Strings(v.Clients)
	sort.Strings(v.Libraries)
	v.Totals = pills(append(all, r.Errors...))
	for id, cs := range byScenario {
		g := matrixGroup{Scenario: id}
		for _, c := range cs {
			g.Failing = g.Failing || failing(c.Specs)
		}
		sort.Slice(cs, func(i, j int) bool {
			if cs[i].Scenario != cs[j].Scenario {
				return cs[i].Scenario < cs[j].Scenario
			}
			return cs[i].Client < cs[j].Client
		})
		for _, c := range cs {
			if len(g.Rows) == 0 || g.Rows[len(g.Rows)-1].Variant != c.Variant() {
				g.Rows = append(g.Rows, matrixRow{Variant: c.Variant(), Cells: make([]matrixCell, len(v.Clients))})
			}
			row := &g.Rows[len(g.Rows)-1]
			s := newSection(c, dir)
			row.Cells[slices.Index(v.Clients, c.Client)] = matrixCell{Anchor: s.Anchor, Pills: s.Pills}
			g.sections = append(g.sections, s)
		}
		v.Groups = append(v.Groups, g)
	}
	sort.Slice(v.Groups, func(i, j int) bool {
		a, b := v.Groups[i], v.Groups[j]
		if a.Failing != b.Failing {
			return a.Failing
		}
		return a.Scenario < b.Scenario
	})
	for _, g := range v.Groups {
		v.Sections = append(v.Sections, g.sections...)
	}
	return v
}

var unsafeID = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

func newSection(c Container, dir string) section {
	s := section{Anchor: "c-" + unsafeID.ReplaceAllString(c.Name, "_"), Container: c, Failing: failing(c.Specs), Pills: pills(c.Specs), Chart: drawTimeline(c.Timeline)}
	s.File = relative(c.File)
	for _, sp := range c.Specs {
		sv := specView{Spec: sp, Pill: pill{State: sp.State, Text: stateWords[sp.State]}, Windows: drawWindows(sp.Measurements),
			ShowFailure: sp.Failure != "" && sp.Failure != sp.Message}
		for _, m := range sp.Measurements {
			sv.Measurements = append(sv.Measurements, measurementRow{Cycle: m.Cycle, Expected: expected(m),
				Measured: fmt.Sprintf("%.0f", m.MeasuredMs), Error: fmt.Sprintf("%+.0f", m.ErrorMs), Tolerance: tolerance(m), Pass: m.Pass})
		}
		if sp.Trace != "" {
			// A link that works where the report is opened next to its traces.
			if rel, err := filepath.Rel(dir, sp.Trace); err == nil && !strings.HasPrefix(rel, "..") {
				sv.TraceHref = filepath.ToSlash(rel) + "/"
			}
		}
		s.Specs = append(s.Specs, sv)
	}
	s.Folded, s.Reason = allSkipped(c.Specs)
	for _, e := range c.Timeline {
		s.Entries = append(s.Entries, entryRow{At: fmt.Sprintf("%.1f", e.Ms()), What: e.What, Fields: fields(e)})
		s.EndMs = max(s.EndMs, e.Ms())
	}
	return s
}

func expected(m scenarios.Measurement) string {
	if m.LatestMs > 0 {
		return fmt.Sprintf("%.0f .. %.0f", m.EarliestMs, m.LatestMs)
	}
	return fmt.Sprintf("%.0f", m.ExpectedMs)
}

func tolerance(m scenarios.Measurement) string {
	if m.LatestMs > 0 {
		return "window"
	}
	return fmt.Sprintf("± %.0f", m.ToleranceMs)
}

func pills(specs []Spec) []pill {
	n := map[State]int{}
	for _, s := range specs {
		n[s.State]++
	}
	var out []pill
	for _, st := range stateOrder {
		if n[st] > 0 {
			out = append(out, pill{State: st, Text: fmt.Sprintf("%d %s", n[st], stateWords[st])})
		}
	}
	return out
}

// allSkipped says whether no spec of a container ran, and the reason they
// all give, if they give one.
func allSkipped(specs []Spec) (bool, string) {
	if len(specs) == 0 {
		return false, ""
	}
	why := specs[0].Message
	for _, s := range specs {
		if s.State != Skipped {
			return false, ""
		}
		if s.Message != why {
			why = ""
		}
	}
	return true, why
}

func failing(specs []Spec) bool {
	for _, s := range specs {
		if s.State == Failed || s.State == Error {
			return true
		}
	}
	return false
}

// fields is an entry's fields as k=v, sorted, the empty ones left out.
func fields(e timeline.Entry) string {
	var parts []string
	for k, v := range e.Fields {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "  ")
}
