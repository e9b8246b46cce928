// Package reports turns a finished ginkgo run into the files people and CI read:
// JUnit XML with one testcase per expectation, carrying requirement IDs and
// measured values as properties.
package reports

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/refreshsuite/refreshsuite/scenarios"
)

// EntryName is the ginkgo report entry each spec carries its SpecData in.
const EntryName = "refreshsuite"

// SpecData is what a spec records about itself for the reports.
type SpecData struct {
	Scenario     string                  `json:"scenario"` // container name: id[variant]
	Expectation  string                  `json:"expectation"`
	Requirements []string                `json:"requirements"`
	Client       string                  `json:"client"`
	Library      string                  `json:"library"`
	Clock        string                  `json:"clock"`
	Measurements []scenarios.Measurement `json:"measurements,omitempty"`
	Deviation    string                  `json:"deviation,omitempty"` // the reason, when a known deviation reproduced
	Reference    string                  `json:"reference,omitempty"`
	Trace        string                  `json:"trace,omitempty"`
}

// Data extracts a spec's SpecData; ok is false for specs without one (setup
// nodes, specs skipped before they ran).
func Data(s types.SpecReport) (SpecData, bool) {
	for _, e := range s.ReportEntries {
		if e.Name != EntryName {
			continue
		}
		raw := e.Value.AsJSON
		if v := e.Value.GetRawValue(); v != nil {
			b, err := json.Marshal(v)
			if err != nil {
				return SpecData{}, false
			}
			raw = string(b)
		}
		var d SpecData
		if json.Unmarshal([]byte(raw), &d) == nil {
			return d, true
		}
	}
	return SpecData{}, false
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     float64      `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       float64         `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Time       float64         `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Failure    *junitMessage   `xml:"failure,omitempty"`
	Error      *junitMessage   `xml:"error,omitempty"`
	Skipped    *junitMessage   `xml:"skipped,omitempty"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// Options shape the JUnit file.
type Options struct {
	// DeviationsAsFailures reports reproduced known deviations as failures
	// instead of skipped testcases.
	DeviationsAsFailures bool
}

// WriteJUnit writes the report as JUnit XML: one testsuite per scenario
// container, one testcase per expectation.
func WriteJUnit(path string, r types.Report, opt Options) error {
	out := junitSuites{Name: "refreshsuite", Time: r.RunTime.Seconds()}
	bySuite := map[string]*junitSuite{}
	var order []string
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			if s.State.Is(types.SpecStateFailureStates) {
				// A failing suite-level node (browser launch, report writing) is an error
				// of the run, not of a spec: keep it visible.
				c := junitCase{Name: s.LeafNodeType.String(), Classname: "refreshsuite", Error: &junitMessage{Message: firstLine(s.Failure.Message), Text: s.Failure.Message}}
				js := suiteFor(bySuite, &order, "refreshsuite", s.StartTime)
				js.Cases = append(js.Cases, c)
				js.Tests++
				js.Errors++
			}
			continue
		}
		container := strings.Join(s.ContainerHierarchyTexts, " ")
		d, _ := Data(s)
		c := junitCase{Name: s.LeafNodeText, Classname: container, Time: s.RunTime.Seconds()}
		c.Properties = properties(d)
		js := suiteFor(bySuite, &order, container, s.StartTime)
		if len(js.Properties) == 0 && d.Client != "" {
			js.Properties = []junitProperty{{"client", d.Client}, {"library", d.Library}, {"clock", d.Clock}}
		}
		js.Tests++
		js.Time += s.RunTime.Seconds()
		switch {
		case s.State == types.SpecStatePassed:
		case s.State == types.SpecStateSkipped && d.Deviation != "" && opt.DeviationsAsFailures:
			c.Failure = &junitMessage{Message: "known deviation: " + d.Deviation, Type: "known-deviation", Text: s.Failure.Message}
			js.Failures++
		case s.State == types.SpecStateSkipped || s.State == types.SpecStatePending:
			c.Skipped = &junitMessage{Message: s.Failure.Message}
			js.Skipped++
		case s.State == types.SpecStateFailed:
			c.Failure = &junitMessage{Message: firstLine(s.Failure.Message), Type: "failed", Text: s.Failure.Message}
			js.Failures++
		default: // panicked, interrupted, aborted, timed out
			c.Error = &junitMessage{Message: s.State.String() + ": " + firstLine(s.Failure.Message), Type: s.State.String(), Text: s.Failure.Message}
			js.Errors++
		}
		js.Cases = append(js.Cases, c)
	}
	for _, name := range order {
		js := bySuite[name]
		out.Tests += js.Tests
		out.Failures += js.Failures
		out.Errors += js.Errors
		out.Skipped += js.Skipped
		out.Suites = append(out.Suites, *js)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := xml.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
}

func suiteFor(m map[string]*junitSuite, order *[]string, name string, start time.Time) *junitSuite {
	if js, ok := m[name]; ok {
		return js
	}
	js := &junitSuite{Name: name, Timestamp: start.UTC().Format(time.RFC3339)}
	m[name] = js
	*order = append(*order, name)
	return js
}

func properties(d SpecData) []junitProperty {
	var p []junitProperty
	add := func(k, v string) {
		if v != "" {
			p = append(p, junitProperty{k, v})
		}
	}
	reqs := append([]string(nil), d.Requirements...)
	sort.Strings(reqs)
	for _, r := range reqs {
		add("requirement", r)
	}
	add("client", d.Client)
	add("clock", d.Clock)
	add("known-deviation", d.Deviation)
	add("reference", d.Reference)
	add("trace", d.Trace)
	for _, m := range d.Measurements {
		pre := fmt.Sprintf("cycle%d.", m.Cycle)
		add(pre+"expected_ms", fmt.Sprintf("%.0f", m.ExpectedMs))
		if m.LatestMs > 0 {
			add(pre+"earliest_ms", fmt.Sprintf("%.0f", m.EarliestMs))
			add(pre+"latest_ms", fmt.Sprintf("%.0f", m.LatestMs))
		}
		add(pre+"measured_ms", fmt.Sprintf("%.0f", m.MeasuredMs))
		add(pre+"error_ms", fmt.Sprintf("%.0f", m.ErrorMs))
		if m.ToleranceMs > 0 {
			add(pre+"tolerance_ms", fmt.Sprintf("%.0f", m.ToleranceMs))
		}
	}
	return p
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
