package reports

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

func TestJUnitStructure(t *testing.T) {
	timing := &SpecData{Requirements: []string{"TF-1"}, Client: "c", Clock: "real",
		Measurements: []scenarios.Measurement{{Cycle: 1, ExpectedMs: 3000, MeasuredMs: 3012, ErrorMs: 12, ToleranceMs: 100, Pass: true}}}
	dev := &SpecData{Requirements: []string{"SR-3"}, Client: "c", Deviation: "accepts any origin", Reference: "issue 1"}
	r := types.Report{SpecReports: types.SpecReports{
		spec(types.SpecStatePassed, "s1", "a: passes", timing, ""),
		spec(types.SpecStateFailed, "s1", "b: fails", &SpecData{Requirements: []string{"CF-1"}}, "want 1\n\ntimeline ..."),
		spec(types.SpecStateSkipped, "s2", "c: deviates", dev, "known deviation: accepts any origin"),
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
	}}
	for _, asFailures := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "junit.xml")
		if err := WriteJUnit(path, r, Options{DeviationsAsFailures: asFailures}); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		var j JUnit
		if err := xml.Unmarshal(b, &j); err != nil {
			t.Fatal(err)
		}
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
	}
}
