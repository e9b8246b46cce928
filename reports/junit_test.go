package reports

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gojunit "github.com/joshdk/go-junit"
	gjr "github.com/jstemmer/go-junit-report/v2/junit"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/refreshsuite/refreshsuite/scenarios"
)

func spec(state types.SpecState, container, text string, d *SpecData, msg string) types.SpecReport {
	s := types.SpecReport{
		LeafNodeType: types.NodeTypeIt, ContainerHierarchyTexts: []string{container}, LeafNodeText: text,
		State: state, RunTime: 1500 * time.Millisecond, Failure: types.Failure{Message: msg},
	}
	if d != nil {
		s.ReportEntries = types.ReportEntries{{Name: EntryName, Value: types.WrapEntryValue(*d)}}
	}
	return s
}

// writeJUnitOf writes the results of r and reads their junit.xml back.
func writeJUnitOf(t *testing.T, r types.Report, opt Options) *JUnit {
	t.Helper()
	dir := t.TempDir()
	if err := FromReport(r, opt).WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	j, err := ReadJUnit(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJUnitStructure(t *testing.T) {
	timing := &SpecData{Requirements: []string{"TF-1"}, Client: "c", Clock: "real",
		Measurements: []scenarios.Measurement{{Cycle: 1, ExpectedMs: 3000, MeasuredMs: 3012, ErrorMs: 12, ToleranceMs: 100, Pass: true}}}
	dev := &SpecData{Requirements: []string{"SR-3"}, Client: "c", Deviation: "accepts any origin", Reference: "issue 1"}
	r := types.Report{SpecReports: types.SpecReports{
		spec(types.SpecStatePassed, "s1", "a: passes", timing, ""),
		spec(types.SpecStateFailed, "s1", "b: fails", &SpecData{Requirements: []string{"CF-1"}, Client: "c"}, "want 1\n\ntimeline ..."),
		spec(types.SpecStateSkipped, "s2", "c: deviates", dev, "known deviation: accepts any origin"),
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
	}}
	for _, asFailures := range []bool{false, true} {
		j := writeJUnitOf(t, r, Options{DeviationsAsFailures: asFailures})
		wantFail, wantSkip := 1, 1
		if asFailures {
			wantFail, wantSkip = 2, 0
		}
		if j.Tests != 3 || j.Failures != wantFail || j.Skipped != wantSkip || len(j.Suites) != 2 {
			t.Fatalf("deviations as failures=%v: tests=%d failures=%d skipped=%d suites=%d", asFailures, j.Tests, j.Failures, j.Skipped, len(j.Suites))
		}
		c := j.Suites[0].Cases[0]
		if c.Classname != "s1" || c.Name != "a: passes" || c.Time != 1.5 {
			t.Errorf("testcase = %+v", c)
		}
		props := map[string]string{}
		for _, p := range c.Properties {
			props[p.Name] = p.Value
		}
		if props["requirement"] != "TF-1" || props["cycle1.expected_ms"] != "3000" || props["cycle1.measured_ms"] != "3012" || props["cycle1.tolerance_ms"] != "100" {
			t.Errorf("properties = %v", props)
		}
		if f := j.Suites[0].Cases[1].Failure; f == nil || f.Message != "want 1" || !strings.Contains(f.Text, "timeline") {
			t.Errorf("failure = %+v: want the first line as message and the whole text as body", f)
		}
		d := j.Suites[1].Cases[0]
		if d.Property("known-deviation") != "accepts any origin" || d.Property("reference") != "issue 1" {
			t.Errorf("deviation properties = %+v", d.Properties)
		}
		switch {
		case asFailures && (d.Failure == nil || d.Failure.Type != "known-deviation" || d.Failure.Message != "known deviation: accepts any origin"):
			t.Errorf("deviation as failure = %+v", d.Failure)
		case !asFailures && (d.Skipped == nil || !strings.HasPrefix(d.Skipped.Message, "known deviation: accepts any origin")):
			t.Errorf("deviation as skip = %+v", d.Skipped)
		}
	}
}

func TestJUnitRunErrors(t *testing.T) {
	r := types.Report{SpecReports: types.SpecReports{
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStateFailed, Failure: types.Failure{Message: "Chromium not found\nmore"}},
		spec(types.SpecStateSkipped, "s1", "a: never ran", nil, "client c does not declare capability refresh-token"),
		spec(types.SpecStatePanicked, "s1", "b: panics", &SpecData{Client: "c"}, "nil map\nstack"),
	}}
	j := writeJUnitOf(t, r, Options{})
	if j.Tests != 3 || j.Errors != 2 || j.Skipped != 1 || len(j.Suites) != 2 {
		t.Fatalf("tests=%d errors=%d skipped=%d suites=%d", j.Tests, j.Errors, j.Skipped, len(j.Suites))
	}
	if s := j.Suites[0]; s.Name != "refreshsuite" || s.Cases[0].Name != "BeforeSuite" || s.Cases[0].Error == nil || s.Cases[0].Error.Message != "Chromium not found" {
		t.Errorf("run errors suite = %+v", s)
	}
	s := j.Suites[1]
	if c := s.Cases[0]; c.Skipped == nil || c.Skipped.Message != "client c does not declare capability refresh-token" {
		t.Errorf("skipped before it ran = %+v", c)
	}
	if c := s.Cases[1]; c.Error == nil || c.Error.Type != "panicked" || c.Error.Message != "panicked: nil map" {
		t.Errorf("panic = %+v", c.Error)
	}
}

// A JUnit reader nobody here wrote (github.com/joshdk/go-junit, the parser
// behind several CI report tools) reads the file the way we mean it: one
// testcase per expectation, classname the container, the verdicts, the
// failure message, the known deviation as a skip with its reason.
func TestJUnitThirdPartyReader(t *testing.T) {
	r := types.Report{SpecReports: types.SpecReports{
		spec(types.SpecStatePassed, "client/s1", "a: passes", &SpecData{Requirements: []string{"TF-1"}, Client: "client"}, ""),
		spec(types.SpecStateFailed, "client/s1", "b: fails", &SpecData{Requirements: []string{"CF-1"}, Client: "client"}, "want 1 entries, found 0\n\ntimeline ..."),
		spec(types.SpecStateSkipped, "client/s2", "c: deviates", &SpecData{Requirements: []string{"SR-3"}, Client: "client", Deviation: "accepts any origin"}, "known deviation: accepts any origin"),
	}}
	dir := t.TempDir()
	if err := FromReport(r, Options{}).WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	suites, err := gojunit.IngestFile(filepath.Join(dir, "junit.xml"))
	if err != nil {
		t.Fatalf("go-junit cannot read our junit.xml: %v", err)
	}
	got := map[string]gojunit.Test{}
	total := gojunit.Totals{}
	for _, s := range suites {
		total.Tests += s.Totals.Tests
		total.Passed += s.Totals.Passed
		total.Failed += s.Totals.Failed
		total.Skipped += s.Totals.Skipped
		for _, c := range s.Tests {
			got[c.Classname+" / "+c.Name] = c
		}
	}
	if total.Tests != 3 || total.Passed != 1 || total.Failed != 1 || total.Skipped != 1 || len(suites) != 2 {
		t.Fatalf("go-junit totals %+v over %d suites, want 3 tests: 1 passed, 1 failed, 1 skipped in 2 suites", total, len(suites))
	}
	for key, want := range map[string]gojunit.Status{
		"client/s1 / a: passes": gojunit.StatusPassed, "client/s1 / b: fails": gojunit.StatusFailed, "client/s2 / c: deviates": gojunit.StatusSkipped,
	} {
		c, ok := got[key]
		if !ok || c.Status != want {
			t.Errorf("go-junit read %q as %+v, want status %s", key, c, want)
		}
	}
	if c := got["client/s1 / b: fails"]; c.Message != "want 1 entries, found 0" || c.Error == nil || !strings.Contains(c.Error.Error(), "timeline") {
		t.Errorf("failure as go-junit reads it: message %q, error %v", c.Message, c.Error)
	}
	if c := got["client/s2 / c: deviates"]; !strings.HasPrefix(c.Message, "known deviation: accepts any origin") {
		t.Errorf("known deviation as go-junit reads it: %q", c.Message)
	}
	if c := got["client/s1 / a: passes"]; c.Duration != 1500*time.Millisecond {
		t.Errorf("duration as go-junit reads it: %s", c.Duration)
	}
}

// ciReport is a run as CI systems read it: two containers reported in the
// order the parallel processes finished (not their names' order), specs
// out of their declaration order, a container skipped in its BeforeAll, a
// timing spec, and a failure with a trace folder on disk.
func ciReport(t *testing.T, wd string) types.Report {
	t.Helper()
	trace := filepath.Join(wd, "out", "traces", "c", "b")
	for _, f := range []string{"screenshot.png", "timeline.txt"} {
		if err := os.MkdirAll(trace, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(trace, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(wd, "scenarios", "b.yaml")
	at := func(s types.SpecReport, line int, labels ...string) types.SpecReport {
		s.ContainerHierarchyLocations = []types.CodeLocation{{FileName: file, LineNumber: 1}}
		s.ContainerHierarchyLabels = [][]string{{"network", "client:c", "clock:virtual"}}
		s.LeafNodeLocation = types.CodeLocation{FileName: file, LineNumber: line}
		s.LeafNodeLabels = labels
		return s
	}
	timing := &SpecData{Scenario: "b", Requirements: []string{"TF-1"}, Client: "c", Clock: "virtual", Message: "fired at 3012ms",
		Measurements: []scenarios.Measurement{{Cycle: 1, ExpectedMs: 3000, MeasuredMs: 3012, ErrorMs: 12, ToleranceMs: 100, Pass: true}}}
	failed := &SpecData{Scenario: "b", Requirements: []string{"CF-1"}, Client: "c", Clock: "virtual", Trace: trace}
	skipA := spec(types.SpecStateSkipped, "c/a", "p: first", nil, "client c does not declare capability refresh-token")
	skipA.Failure.FailureNodeType = types.NodeTypeBeforeAll
	skipB := spec(types.SpecStateSkipped, "c/a", "q: second", nil, "Spec skipped because Skip() was called in BeforeAll")
	skipB.Failure.FailureNodeType = types.NodeTypeIt
	afile := filepath.Join(wd, "scenarios", "a.yaml")
	for i, s := range []*types.SpecReport{&skipA, &skipB} {
		s.ContainerHierarchyLocations = []types.CodeLocation{{FileName: afile, LineNumber: 1}}
		s.LeafNodeLocation = types.CodeLocation{FileName: afile, LineNumber: 10 + i}
		s.ContainerHierarchyLabels = [][]string{{"client:c"}}
	}
	return types.Report{SpecReports: types.SpecReports{
		at(spec(types.SpecStatePassed, "c/b", "x: fires on time", timing, ""), 20, "TF-1"),
		at(spec(types.SpecStateFailed, "c/b", "y: refreshes", failed, "want 1 idp.token, found 0\n\ntimeline (scenario time):\n  1200ms idp.token outcome=ok\n"), 12, "CF-1"),
		skipA, skipB,
	}}
}

// What CI systems show of a testcase comes from the JUnit file alone: the
// file and line annotation actions point at, <system-out> with the
// measurements, the timeline slice and the trace's attachments, a skip
// reason for every skipped spec, and the same order in every run. Two JUnit
// readers nobody here wrote check it: github.com/joshdk/go-junit and the
// junit package of github.com/jstemmer/go-junit-report/v2, and the file is
// read back with this package's own reader for the attributes neither keeps.
func TestJUnitForCI(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	r := ciReport(t, wd)
	write := func(r types.Report) []byte {
		dir := t.TempDir()
		if err := FromReport(r, Options{}).WriteFiles(dir); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, "junit.xml"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := write(r)
	shuffled := r
	shuffled.SpecReports = types.SpecReports{r.SpecReports[2], r.SpecReports[1], r.SpecReports[3], r.SpecReports[0]}
	if again := write(shuffled); !bytes.Equal(b, again) {
		t.Errorf("the same specs finishing in another order give another junit.xml:\n%s\n---\n%s", b, again)
	}

	var own JUnit
	if err := xml.Unmarshal(b, &own); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range own.Suites {
		for _, c := range s.Cases {
			order = append(order, c.Name+" @ "+c.File+":"+strconv.Itoa(c.Line))
		}
	}
	want := []string{"p: first @ scenarios/a.yaml:10", "q: second @ scenarios/a.yaml:11", "y: refreshes @ scenarios/b.yaml:12", "x: fires on time @ scenarios/b.yaml:20"}
	if !slices.Equal(order, want) {
		t.Errorf("testcases in order, with file and line:\n got %q\nwant %q", order, want)
	}
	if s := own.Suites[1]; s.File != "scenarios/b.yaml" {
		t.Errorf("testsuite file = %q", s.File)
	}

	suites, err := gojunit.Ingest(b)
	if err != nil {
		t.Fatalf("go-junit: %v", err)
	}
	var jr gjr.Testsuites
	if err := xml.Unmarshal(b, &jr); err != nil {
		t.Fatalf("go-junit-report: %v", err)
	}
	if len(suites) != 2 || len(jr.Suites) != 2 || jr.Tests != 4 || jr.Skipped != 2 || jr.Failures != 1 {
		t.Fatalf("go-junit: %d suites; go-junit-report: %d suites, %d tests, %d skipped, %d failures", len(suites), len(jr.Suites), jr.Tests, jr.Skipped, jr.Failures)
	}
	attach := "[[ATTACHMENT|" + filepath.Join("out", "traces", "c", "b", "screenshot.png") + "]]"
	for i, name := range []string{"p: first", "q: second"} {
		if c := suites[0].Tests[i]; c.Name != name || c.Status != gojunit.StatusSkipped || c.Message != "client c does not declare capability refresh-token" {
			t.Errorf("go-junit: skipped %q reads %q (%s), want the BeforeAll's reason", name, c.Message, c.Status)
		}
		if c := jr.Suites[0].Testcases[i]; c.Skipped == nil || c.Skipped.Message != "client c does not declare capability refresh-token" {
			t.Errorf("go-junit-report: skipped %q reads %+v, want the BeforeAll's reason", name, c.Skipped)
		}
	}
	failedOut, timingOut := suites[1].Tests[0].SystemOut, suites[1].Tests[1].SystemOut
	for _, w := range []string{"expectation: scenarios/b.yaml:12", "scenario: scenarios/b.yaml:1 (b)", "labels: network, client:c, clock:virtual", "requirements: CF-1", "1200ms idp.token outcome=ok", attach, "[[ATTACHMENT|" + filepath.Join("out", "traces", "c", "b", "timeline.txt") + "]]"} {
		if !strings.Contains(failedOut, w) {
			t.Errorf("go-junit: the failure's system-out lacks %q:\n%s", w, failedOut)
		}
	}
	if c := jr.Suites[1].Testcases[0]; c.SystemOut == nil || c.SystemOut.Data != failedOut {
		t.Errorf("go-junit-report reads another system-out than go-junit: %+v", c.SystemOut)
	}
	if !strings.Contains(timingOut, "cycle 1: expected 3000 +-100, measured 3012, error +12: ok") || !strings.Contains(timingOut, "fired at 3012ms") {
		t.Errorf("go-junit: the timing spec's system-out does not show its measurements:\n%s", timingOut)
	}
	props := jr.Suites[1].Properties
	var labels []string
	for _, p := range *props {
		if p.Name == "label" {
			labels = append(labels, p.Value)
		}
	}
	if !slices.Equal(labels, []string{"network", "client:c", "clock:virtual"}) || jr.Suites[1].File != "scenarios/b.yaml" {
		t.Errorf("go-junit-report: testsuite labels %q, file %q", labels, jr.Suites[1].File)
	}
}
