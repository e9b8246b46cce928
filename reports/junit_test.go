package reports

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	gojunit "github.com/joshdk/go-junit"
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
