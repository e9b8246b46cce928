package reports

import (
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

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
	File       string     `xml:"file,attr,omitempty"`
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
	Name      string  `xml:"name,attr"`
	Classname string  `xml:"classname,attr"`
	Time      float64 `xml:"time,attr"`
	// File and Line are the scenario file and the expectation's line in it,
	// where annotation actions (GitHub's, GitLab's) point.
	File       string     `xml:"file,attr,omitempty"`
	Line       int        `xml:"line,attr,omitempty"`
	Properties []Property `xml:"properties>property,omitempty"`
	Failure    *Message   `xml:"failure,omitempty"`
	Error      *Message   `xml:"error,omitempty"`
	Skipped    *Message   `xml:"skipped,omitempty"`
	SystemOut  *Output    `xml:"system-out,omitempty"`
}

// Output is a testcase's <system-out>, written as CDATA so that the file
// stays readable as it is.
type Output struct {
	Text string `xml:",cdata"`
}

// Message is a failure, error or skip.
type Message struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// JUnit is the results as a JUnit document: one testsuite per scenario
// container, one testcase per expectation, and a testsuite "refreshsuite" for
// the run's own errors.
func (r *Results) JUnit() JUnit {
	out := JUnit{Name: "refreshsuite", Time: seconds(r.DurationMs)}
	if len(r.Errors) > 0 {
		// A failing suite-level node (browser launch, report writing) is an error
		// of the run, not of a spec: keep it visible.
		js := Suite{Name: "refreshsuite", Timestamp: stamp(r.Errors[0].Started)}
		for _, e := range r.Errors {
			js.Cases = append(js.Cases, Case{Name: e.Text, Classname: "refreshsuite", Error: &Message{Message: firstLine(e.Failure), Text: e.Failure}})
			js.Tests++
			js.Errors++
		}
		out.add(js)
	}
	for _, c := range r.Containers {
		out.add(c.suite(r.Options))
	}
	return out
}

func (j *JUnit) add(s Suite) {
	j.Tests += s.Tests
	j.Failures += s.Failures
	j.Errors += s.Errors
	j.Skipped += s.Skipped
	j.Suites = append(j.Suites, s)
}

func (c Container) suite(opt Options) Suite {
	js := Suite{Name: c.Name, File: relative(c.File)}
	if len(c.Specs) > 0 {
		js.Timestamp = stamp(c.Specs[0].Started)
	}
	var p props
	p.add("client", c.Client)
	p.add("library", c.Library)
	p.add("clock", c.Clock)
	p.add("title", c.Title)
	p.add("description", strings.TrimSpace(c.Description))
	for _, l := range c.Labels {
		p.add("label", l)
	}
	js.Properties = p
	for _, s := range c.Specs {
		tc := Case{Name: s.Text, Classname: c.Name, Time: seconds(s.DurationMs), Properties: c.properties(s),
			File: relative(s.File), Line: s.Line, SystemOut: c.systemOut(s)}
		js.Tests++
		js.Time += tc.Time
		switch {
		case s.State == Passed:
		case s.State == KnownDeviation && opt.DeviationsAsFailures:
			tc.Failure = &Message{Message: "known deviation: " + s.Deviation, Type: "known-deviation", Text: s.Failure}
			js.Failures++
		case s.State == KnownDeviation || s.State == Skipped:
			tc.Skipped = &Message{Message: s.Failure}
			js.Skipped++
		case s.State == Failed:
			tc.Failure = &Message{Message: firstLine(s.Failure), Type: "failed", Text: s.Failure}
			js.Failures++
		default:
			tc.Error = &Message{Message: s.Cause + ": " + firstLine(s.Failure), Type: s.Cause, Text: s.Failure}
			js.Errors++
		}
		js.Cases = append(js.Cases, tc)
	}
	return js
}

func (c Container) properties(s Spec) []Property {
	var p props
	reqs := append([]string(nil), s.Requirements...)
	sort.Strings(reqs)
	for _, r := range reqs {
		p.add("requirement", r)
	}
	p.add("client", c.Client)
	p.add("clock", c.Clock)
	p.add("known-deviation", s.Deviation)
	p.add("reference", s.Reference)
	p.add("trace", relative(s.Trace))
	for _, m := range s.Measurements {
		pre := fmt.Sprintf("cycle%d.", m.Cycle)
		p.add(pre+"expected_ms", fmt.Sprintf("%.0f", m.ExpectedMs))
		if m.LatestMs > 0 {
			p.add(pre+"earliest_ms", fmt.Sprintf("%.0f", m.EarliestMs))
			p.add(pre+"latest_ms", fmt.Sprintf("%.0f", m.LatestMs))
		}
		p.add(pre+"measured_ms", fmt.Sprintf("%.0f", m.MeasuredMs))
		p.add(pre+"error_ms", fmt.Sprintf("%.0f", m.ErrorMs))
		if m.ToleranceMs > 0 {
			p.add(pre+"tolerance_ms", fmt.Sprintf("%.0f", m.ToleranceMs))
		}
	}
	return p
}

// systemOut is what CI systems show under a testcase: where the scenario
// and the expectation are written, its labels, its measurements (Jenkins
// and GitLab show no properties), the verdict's text with the slice of the
// timeline it read, and the trace's files as attachments, one
// [[ATTACHMENT|path]] line each (the form Jenkins' attachments plugin and
// GitLab read).
func (c Container) systemOut(s Spec) *Output {
	var b strings.Builder
	if s.File != "" {
		fmt.Fprintf(&b, "expectation: %s:%d\n", relative(s.File), s.Line)
	}
	if c.File != "" {
		fmt.Fprintf(&b, "scenario: %s:%d (%s)\n", relative(c.File), c.Line, c.Scenario)
	}
	if c.Description != "" {
		fmt.Fprintf(&b, "description: %s\n", strings.Join(strings.Fields(c.Description), " "))
	}
	if len(c.Labels) > 0 {
		fmt.Fprintf(&b, "labels: %s\n", strings.Join(c.Labels, ", "))
	}
	if len(s.Requirements) > 0 {
		fmt.Fprintf(&b, "requirements: %s\n", strings.Join(s.Requirements, ", "))
	}
	if len(s.Measurements) > 0 {
		b.WriteString("measurements (ms on the scenario clock):\n")
		for _, m := range s.Measurements {
			fmt.Fprintf(&b, "  cycle %d: expected %.0f", m.Cycle, m.ExpectedMs)
			if m.LatestMs > 0 {
				fmt.Fprintf(&b, " (window %.0f..%.0f)", m.EarliestMs, m.LatestMs)
			}
			if m.ToleranceMs > 0 {
				fmt.Fprintf(&b, " +-%.0f", m.ToleranceMs)
			}
			verdict := "ok"
			if !m.Pass {
				verdict = "OUT OF RANGE"
			}
			fmt.Fprintf(&b, ", measured %.0f, error %+.0f: %s\n", m.MeasuredMs, m.ErrorMs, verdict)
		}
	}
	text := s.Failure
	if s.State == Passed {
		text = s.Message
	}
	if text = strings.TrimSpace(text); text != "" {
		b.WriteString("\n" + text + "\n")
	}
	if len(s.Attachments) > 0 {
		b.WriteString("\n")
		for _, a := range s.Attachments {
			fmt.Fprintf(&b, "[[ATTACHMENT|%s]]\n", relative(a))
		}
	}
	return &Output{Text: b.String()}
}

// relative names a path by its place under the working folder when it is
// inside it (CI's workspace, where Jenkins and GitLab resolve attachments
// and annotations point), else as it is.
func relative(p string) string {
	if p == "" || !filepath.IsAbs(p) {
		return p
	}
	wd, err := os.Getwd()
	if err != nil {
		return p
	}
	rel, err := filepath.Rel(wd, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return p
	}
	return rel
}

// props is a property list that leaves empty values out.
type props []Property

func (p *props) add(k, v string) {
	if v != "" {
		*p = append(*p, Property{k, v})
	}
}

// seconds turns the results' milliseconds back into the duration they were
// made from, so that the file shows the seconds ginkgo measured, digit for digit.
func seconds(ms float64) float64 {
	return time.Duration(math.Round(ms * float64(time.Millisecond))).Seconds()
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// writeJUnit writes the JUnit document of r to path.
func writeJUnit(path string, r *Results) error {
	b, err := xml.MarshalIndent(r.JUnit(), "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644)
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
