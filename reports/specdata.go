package reports

import (
	"encoding/json"

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
	// Intermittent is the measured rate of a known deviation listed as
	// reproducing in some runs only, whether it did this run or not: such a
	// spec passes in some runs and deviates in others by declaration.
	Intermittent string `json:"intermittent,omitempty"`
	Trace        string `json:"trace,omitempty"`
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
