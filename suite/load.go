package suite

import (
	"fmt"

	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/internal/strictyaml"
	"github.com/refreshsuite/refreshsuite/scenarios"
)

// Load reads client manifests and the scenarios, and checks that the known
// deviations of the loaded scenarios name real expectations. Any error is one
// file:line: key: message.
func Load(manifests []string, scenarioPath string) ([]*fixtures.Manifest, []*scenarios.Scenario, error) {
	all, err := scenarios.Load(scenarioPath)
	if err != nil {
		return nil, nil, err
	}
	var clients []*fixtures.Manifest
	names := map[string]string{}
	for _, file := range manifests {
		m, err := fixtures.Load(file)
		if err != nil {
			return nil, nil, err
		}
		if prev, dup := names[m.Name]; dup {
			return nil, nil, &strictyaml.Error{File: file, Key: "name", Msg: fmt.Sprintf("%q is already the name of %s", m.Name, prev)}
		}
		names[m.Name] = file
		if err := m.CheckDeviations(all, false); err != nil {
			return nil, nil, err
		}
		clients = append(clients, m)
	}
	return clients, all, nil
}
