package suite

import (
	"path/filepath"
	"strings"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/scenarios"
)

// ContainerLabels are the ginkgo labels of a client x scenario container:
// the scenario's own labels, the client as client:<name> and the clock the
// container runs on as clock:<mode> (ginkgo label sets, so that
// -label-filter 'client: {oidc-client-ts}' reads as it says), and
// real-clock for a scenario that needs the real clock whatever the run
// says (the benchmark leaves those out). Requirement IDs are no container's
// label: they label each spec, which then matches a filter by itself.
func ContainerLabels(m *fixtures.Manifest, s *scenarios.Scenario, clock string) []string {
	labels := append([]string(nil), s.Labels...)
	labels = append(labels, "client:"+m.Name, "clock:"+clock)
	if s.Clock == "real" {
		labels = append(labels, "real-clock")
	}
	return labels
}

// CheckLabels refuses a scenario label ginkgo would panic on while the
// suite is being declared, at the scenario's labels key.
func CheckLabels(all []*scenarios.Scenario) error {
	for _, s := range all {
		for _, l := range s.Labels {
			if _, err := types.ValidateAndCleanupLabel(l, types.CodeLocation{}); err != nil || strings.TrimSpace(l) != l {
				return s.KeyError("labels", "%q is not a ginkgo label: no empty label, none of & | ! , ( ) / and no leading :", l)
			}
			if k, _, ok := strings.Cut(l, ":"); ok && (k == "client" || k == "clock") {
				return s.KeyError("labels", "%q: the suite gives every container its %s: label itself", l, k)
			}
		}
	}
	return nil
}

// location is where a container or spec is written, for ginkgo's output and
// the reports: the scenario file (named from -refreshsuite.file-root when it
// is inside it) and the line.
func location(file string, line int) types.CodeLocation {
	if *fileRoot != "" {
		if rel, err := filepath.Rel(*fileRoot, file); err == nil && !strings.HasPrefix(rel, "..") {
			file = rel
		}
	}
	return types.CodeLocation{FileName: file, LineNumber: line}
}
