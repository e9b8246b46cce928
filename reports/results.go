// Package reports turns a finished ginkgo run into one model, Results, and writes
// every report file from it: junit.xml for CI, results.json to keep and to merge
// across shards, and report.html for people.
package reports

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// Version is the version of the results.json document this package writes and reads.
const Version = 1

// State is a spec's verdict as the reports show it.
type State string

const (
	Passed         State = "passed"
	Failed         State = "failed"
	KnownDeviation State = "known-deviation" // failed in a way the client's deviations file lists
	Skipped        State = "skipped"
	Error          State = "error" // panicked, timed out, interrupted, aborted, or a suite-level node failed
)

// Results is the model every report is written from, and it is the results.json
// document: built from a finished ginkgo run, read back, merged across shards.
type Results struct {
	Version    int       `json:"version"`
	Started    time.Time `json:"started"`
	DurationMs float64   `json:"duration_ms"`
	// Options travel with the results so that files written again from a
	// results.json (after a merge, say) say what the run's said.
	Options    Options     `json:"options"`
	Containers []Container `json:"containers"`
	// Errors are failures of suite-level nodes (a BeforeSuite that could not
	// start, an AfterSuite): errors of the run rather than of a scenario.
	Errors []Spec `json:"errors,omitempty"`
}

// Options shape the report files.
type Options struct {
	// DeviationsAsFailures reports reproduced known deviations as failures
	// instead of skipped testcases.
	DeviationsAsFailures bool `json:"deviations_as_failures"`
}

// Container is one scenario container: a scenario (or one of its variants) run
// against one client.
type Container struct {
	// Name is ginkgo's name of the container, the JUnit testsuite's:
	// client/id[variant].
	Name string `json:"name"`
	// Scenario is the scenario's part of it: id[variant].
	Scenario string `json:"scenario"`
	Client   string `json:"client"`
	Library  string `json:"library"`
	Clock    string `json:"clock"`
	// Title and Description are the scenario's own words about itself.
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	// Labels are the container's ginkgo labels: the scenario's labels, the
	// client (client:<name>) and the clock (clock:<mode>), what
	// -label-filter selects containers by.
	Labels []string `json:"labels,omitempty"`
	// File and Line are where the scenario is written, as the run names it
	// (relative to the checkout or the working folder where it is inside one).
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Timeline is the one recorded for the container, which all its specs read.
	Timeline []timeline.Entry `json:"timeline,omitempty"`
	Specs    []Spec           `json:"specs"`
}

// Spec is one expectation's verdict.
type Spec struct {
	Expectation  string   `json:"expectation,omitempty"`
	Text         string   `json:"text"` // "id: title", the JUnit testcase name
	Requirements []string `json:"requirements,omitempty"`
	State        State    `json:"state"`
	// Message explains the verdict, pass or fail; for a spec ginkgo skipped
	// before it ran it is the reason it gave.
	Message string `json:"message,omitempty"`
	// Failure is ginkgo's text for any state but passed: the failure with its
	// slice of the timeline, the skip or deviation notice, the panic.
	Failure string `json:"failure,omitempty"`
	// Cause is ginkgo's own name for an error (panicked, timedout, ...).
	Cause        string                  `json:"cause,omitempty"`
	Measurements []scenarios.Measurement `json:"measurements,omitempty"`
	Deviation    string                  `json:"deviation,omitempty"`
	Reference    string                  `json:"reference,omitempty"`
	// Intermittent is the measured rate of an intermittent known deviation
	// (SpecData.Intermittent).
	Intermittent string `json:"intermittent,omitempty"`
	Trace        string `json:"trace,omitempty"`
	// Attachments are the files of the trace (screenshot, timelines), by
	// the path they have once the reports are published.
	Attachments []string `json:"attachments,omitempty"`
	// File and Line are where the expectation is written.
	File       string    `json:"file,omitempty"`
	Line       int       `json:"line,omitempty"`
	Started    time.Time `json:"started"`
	DurationMs float64   `json:"duration_ms"`
}

// ID is the scenario's id, without the variant.
func (c Container) ID() string {
	id, _, _ := strings.Cut(c.Scenario, "[")
	return id
}

// Variant is the variant's id, or "".
func (c Container) Variant() string {
	_, v, _ := strings.Cut(c.Scenario, "[")
	return strings.TrimSuffix(v, "]")
}

// FromReport builds the results of a finished run. Containers are sorted by
// name and specs by where they are declared, so that every run of the same
// selection writes its testcases in the same order, however the parallel
// processes finished.
func FromReport(r types.Report, opt Options) *Results {
	res := &Results{Version: Version, Started: r.StartTime.UTC(), DurationMs: ms(r.RunTime), Options: opt}
	index := map[string]int{}
	described := map[int]bool{}   // containers with a spec that recorded SpecData
	skippedBy := map[int]string{} // why a container's BeforeAll skipped it
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			if s.State.Is(types.SpecStateFailureStates) {
				res.Errors = append(res.Errors, Spec{
					Text: s.LeafNodeType.String(), State: Error, Failure: s.Failure.Message, Cause: s.State.String(),
					Started: s.StartTime.UTC(), DurationMs: ms(s.RunTime),
				})
			}
			continue
		}
		name := strings.Join(s.ContainerHierarchyTexts, " ")
		i, ok := index[name]
		if !ok {
			i = len(res.Containers)
			index[name] = i
			c := Container{Name: name, Labels: containerLabels(s)}
			if n := len(s.ContainerHierarchyLocations); n > 0 {
				c.File, c.Line = s.ContainerHierarchyLocations[n-1].FileName, s.ContainerHierarchyLocations[n-1].LineNumber
			}
			res.Containers = append(res.Containers, c)
		}
		c := &res.Containers[i]
		d, hasData := Data(s)
		if hasData && !described[i] {
			described[i] = true
			c.Scenario, c.Client, c.Library, c.Clock = d.Scenario, d.Client, d.Library, d.Clock
		}
		if len(c.Timeline) == 0 && len(d.Timeline) > 0 {
			c.Timeline = d.Timeline
		}
		sp := specOf(s, d, hasData)
		if !hasData && sp.State == Skipped && s.Failure.FailureNodeType == types.NodeTypeBeforeAll {
			skippedBy[i] = sp.Message
		}
		c.Specs = append(c.Specs, sp)
	}
	// When a BeforeAll skips, ginkgo gives its reason to the spec it ran for
	// and tells the others only that Skip() was called in BeforeAll; the
	// reason is theirs too, in every report.
	for i, why := range skippedBy {
		for j := range res.Containers[i].Specs {
			sp := &res.Containers[i].Specs[j]
			if sp.State == Skipped && strings.HasPrefix(sp.Failure, "Spec skipped because Skip() was called in ") {
				sp.Message, sp.Failure = why, why
			}
		}
	}
	// A container whose specs ginkgo skipped before they recorded anything
	// (a capability the client lacks) says what it is only in its name,
	// client/id[variant]; its library is the one its client has elsewhere in
	// the run, and its clock stays unknown.
	libraries := map[string]string{}
	for _, c := range res.Containers {
		if c.Library != "" {
			libraries[c.Client] = c.Library
		}
	}
	for i := range res.Containers {
		c := &res.Containers[i]
		if described[i] {
			continue
		}
		c.Scenario = c.Name
		if k := strings.LastIndex(c.Name, "/"); k >= 0 {
			c.Client, c.Scenario = c.Name[:k], c.Name[k+1:]
		}
		c.Library = libraries[c.Client]
	}
	res.sort()
	return res
}

// containerLabels are the labels ginkgo gives a spec's containers, without
// the spec's own: what selects the whole container.
func containerLabels(s types.SpecReport) []string {
	var out []string
	for _, ls := range s.ContainerHierarchyLabels {
		for _, l := range ls {
			if !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}

// sort puts containers in name order and each container's specs in the order
// they are declared (their line; ginkgo's order where lines are equal).
func (r *Results) sort() {
	slices.SortStableFunc(r.Containers, func(a, b Container) int { return strings.Compare(a.Name, b.Name) })
	for i := range r.Containers {
		slices.SortStableFunc(r.Containers[i].Specs, func(a, b Spec) int { return a.Line - b.Line })
	}
}

// About is what the scenario says of itself, which ginkgo's report does not
// carry: its title and description.
type About struct {
	Title, Description string
}

// Describe gives each container its scenario's title and description, by
// container name.
func (r *Results) Describe(about map[string]About) {
	for i := range r.Containers {
		if a, ok := about[r.Containers[i].Name]; ok {
			r.Containers[i].Title, r.Containers[i].Description = a.Title, a.Description
		}
	}
}

func specOf(s types.SpecReport, d SpecData, hasData bool) Spec {
	sp := Spec{
		Text: s.LeafNodeText, Started: s.StartTime.UTC(), DurationMs: ms(s.RunTime),
		Expectation: d.Expectation, Requirements: d.Requirements, Message: d.Message,
		Measurements: d.Measurements, Deviation: d.Deviation, Reference: d.Reference, Intermittent: d.Intermittent, Trace: d.Trace,
		File: s.LeafNodeLocation.FileName, Line: s.LeafNodeLocation.LineNumber,
	}
	sp.Attachments = attachments(d.Trace)
	if !hasData {
		// Skipped before the spec ran: what it is comes from its text and
		// labels, why it did not run from ginkgo.
		sp.Expectation, _, _ = strings.Cut(s.LeafNodeText, ": ")
		sp.Requirements = s.LeafNodeLabels
		sp.Message = s.Failure.Message
	}
	switch {
	case s.State == types.SpecStatePassed:
		sp.State = Passed
	case s.State == types.SpecStateSkipped && d.Deviation != "":
		sp.State = KnownDeviation
	case s.State == types.SpecStateSkipped || s.State == types.SpecStatePending:
		sp.State = Skipped
	case s.State == types.SpecStateFailed:
		sp.State = Failed
	default:
		sp.State, sp.Cause = Error, s.State.String()
	}
	if sp.State != Passed {
		sp.Failure = s.Failure.Message
	}
	// Empty lists are left out of results.json and come back as nil; keep them
	// nil here too, so a results.json read back equals what was written.
	if len(sp.Requirements) == 0 {
		sp.Requirements = nil
	}
	if len(sp.Measurements) == 0 {
		sp.Measurements = nil
	}
	return sp
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// attachments lists the files of a trace folder, in name order; none when
// the folder does not exist (the trace of a spec that needed none).
func attachments(trace string) []string {
	if trace == "" {
		return nil
	}
	entries, err := os.ReadDir(trace)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			out = append(out, filepath.Join(trace, e.Name()))
		}
	}
	return out
}
