package suite

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

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
		// Against a whole scenario folder, a deviation that names a scenario
		// it lacks is stale; against one file, the others are just not loaded.
		// The idp scenarios judge the IdP: a client's deviations name none
		// of them.
		st, _ := os.Stat(scenarioPath)
		clientScenarios := false
		for _, s := range all {
			clientScenarios = clientScenarios || s.Judges != "idp"
		}
		if err := m.CheckDeviations(all, st != nil && st.IsDir() && clientScenarios); err != nil {
			return nil, nil, err
		}
		for _, s := range all {
			if _, err := NewPlan(m, s); err != nil {
				return nil, nil, err
			}
		}
		clients = append(clients, m)
	}
	return clients, all, nil
}

// Container is one scenario container run against one client.
type Container struct {
	Client   *fixtures.Manifest
	Scenario *scenarios.Scenario
}

// Name is how reports and focus expressions know the container.
func (c Container) Name() string { return c.Client.Name + "/" + c.Scenario.Name() }

// Containers lists every client x scenario container, sorted by name: the
// order shards are cut from, the same on every machine.
func Containers(clients []*fixtures.Manifest, all []*scenarios.Scenario) []Container {
	var out []Container
	for _, m := range clients {
		for _, s := range all {
			out = append(out, Container{m, s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// ParseShard reads "i/n"; "" is the whole run, 1/1. Anything else, "1/2/3"
// or " 1/2" included, is an error: a CI matrix that builds the value wrongly
// must not run another part than it says.
func ParseShard(s string) (part, parts int, err error) {
	if s == "" {
		return 1, 1, nil
	}
	bad := fmt.Errorf("shard %q: want i/n with 1 <= i <= n", s)
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, bad
	}
	if part, err = strconv.Atoi(i); err != nil || strings.TrimLeft(i, "+-") != i {
		return 0, 0, bad
	}
	if parts, err = strconv.Atoi(n); err != nil || strings.TrimLeft(n, "+-") != n {
		return 0, 0, bad
	}
	if parts < 1 || part < 1 || part > parts {
		return 0, 0, bad
	}
	return part, parts, nil
}
