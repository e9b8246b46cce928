package suite

import (
	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/scenarios"
)

// Load reads a client manifest and the scenarios, and checks that the known
// deviations of the loaded scenarios name real expectations. Any error is one
// file:line: key: message.
func Load(manifest, scenarioPath string) (*fixtures.Manifest, []*scenarios.Scenario, error) {
	m, err := fixtures.Load(manifest)
	if err != nil {
		return nil, nil, err
	}
	all, err := scenarios.Load(scenarioPath)
	if err != nil {
		return nil, nil, err
	}
	if err := m.CheckDeviations(all, false); err != nil {
		return nil, nil, err
	}
	return m, all, nil
}
