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
	"github.com/refreshsuite/refreshsuite/timeline"
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
	// Message is the verdict's explanation (expected vs found), pass or fail.
	Message string `json:"message,omitempty"`
	// Timeline is the scenario container's whole timeline; every spec of the
	// container carries the same one, and writers keep one copy per container.
	Timeline []timeline.Entry `json:"timeline,omitempty"`
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

// JUnit is the XML document, for writing and for reading back.
type JUnit struct {
	XMLName  xml.Name `xml:"testsuites"`
	Name     string   `xml:"name,attr"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Time     float64  `xml:"time,attr"`
	Suites   []Suite  `xml:"testsuite"`
}

// Suite is one scenario container.
type Suite struct {
	Name       string     `xml:"name,attr"`
	Tests      int        `xml:"tests,attr"`
	Failures   int        `xml:"failures,attr"`
	Errors     int        `xml:"errors,attr"`
	Skipped    int        `xml:"skipped,attr"`
	Time       float64    `xml:"time,attr"`
	Timestamp  string     `xml:"timestamp,attr"`
	Properties []Property `xml:"properties>property,omitempty"`
	Cases      []Case     `xml:"testcase"`
}

// Property is a name/value pair.
type Property struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

// Case is one expectation.
type Case struct {
	Name       string     `xml:"name,attr"`
	Classname  string     `xml:"classname,attr"`
	Time       float64    `xml:"time,attr"`
	Properties []Property `xml:"properties>property,omitempty"`
	Failure    *Message   `xml:"failure,omitempty"`
	Error      *Message   `xml:"error,omitempty"`
	Skipped    *Message   `xml:"skipped,omitempty"`
	SystemOut  string     `xml:"system-out,omitempty"`
}

// Message is a failure, error or skip.
type Message struct {
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
	out := JUnit{Name: "refreshsuite", Time: r.RunTime.Seconds()}
	bySuite := map[string]*Suite{}
	var order []string
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			if s.State.Is(types.SpecStateFailureStates) {
				// A failing suite-level node (browser launch, report writing) is an error
				// of the run, not of a spec: keep it visible.
				c := Case{Name: s.LeafNodeType.String(), Classname: "refreshsuite", Error: &Message{Message: firstLine(s.Failure.Message), Text: s.Failure.Message}}
				js := suiteFor(bySuite, &order, "refreshsuite", s.StartTime)
				js.Cases = append(js.Cases, c)
				js.Tests++
				js.Errors++
			}
			continue
		}
		container := strings.Join(s.ContainerHierarchyTexts, " ")
		d, _ := Data(s)
		c := Case{Name: s.LeafNodeText, Classname: container, Time: s.RunTime.Seconds()}
		c.Properties = properties(d)
		js := suiteFor(bySuite, &order, container, s.StartTime)
		if len(js.Properties) == 0 && d.Client != "" {
			js.Properties = []Property{{"client", d.Client}, {"library", d.Library}, {"clock", d.Clock}}
		}
		js.Tests++
		js.Time += s.RunTime.Seconds()
		switch {
		case s.State == types.SpecStatePassed:
		case s.State == types.SpecStateSkipped && d.Deviation != "" && opt.DeviationsAsFailures:
			c.Failure = &Message{Message: "known deviation: " + d.Deviation, Type: "known-deviation", Text: s.Failure.Message}
			js.Failures++
		case s.State == types.SpecStateSkipped || s.State == types.SpecStatePending:
			c.Skipped = &Message{Message: s.Failure.Message}
			js.Skipped++
		case s.State == types.SpecStateFailed:
			c.Failure = &Message{Message: firstLine(s.Failure.Message), Type: "failed", Text: s.Failure.Message}
			js.Failures++
		default: // panicked, interrupted, aborted, timed out
			c.Error = &Message{Message: s.State.String() + ": " + firstLine(s.Failure.Message), Type: s.State.String(), Text: s.Failure.Message}
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

func suiteFor(m map[string]*Suite, order *[]string, name string, start time.Time) *Suite {
	if js, ok := m[name]; ok {
		return js
	}
	js := &Suite{Name: name, Timestamp: start.UTC().Format(time.RFC3339)}
	m[name] = js
	*order = append(*order, name)
	return js
}

func properties(d SpecData) []Property {
	var p []Property
	add := func(k, v string) {
		if v != "" {
			p = append(p, Property{k, v})
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

// ReadJUnit reads a JUnit file this package wrote.
func ReadJUnit(path string) (*JUnit, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var j JUnit
	if err := xml.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &j, nil
}

// Property returns the first value of a property, or "".
func (c Case) Property(name string) string {
	for _, p := range c.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}
