package main

import (
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/reports"
)

func results(states ...reports.State) *reports.Results {
	r := &reports.Results{}
	c := reports.Container{Name: "client/scenario"}
	for i, s := range states {
		c.Specs = append(c.Specs, reports.Spec{Text: string(rune('a'+i)) + ": spec", State: s})
	}
	r.Containers = append(r.Containers, c)
	return r
}

func TestFlakySpecs(t *testing.T) {
	same := []*reports.Results{results(reports.Passed, reports.KnownDeviation), results(reports.Passed, reports.KnownDeviation)}
	if flaky, _, n := flakySpecs(same); len(flaky) != 0 || n != 2 {
		t.Errorf("identical runs: %v flaky of %d", flaky, n)
	}
	flipped := []*reports.Results{results(reports.Passed, reports.Passed), results(reports.Passed, reports.Failed), results(reports.Passed)}
	flaky, _, _ := flakySpecs(flipped)
	if len(flaky) != 1 || !strings.HasPrefix(flaky[0], "client/scenario / b: spec: ") || !strings.Contains(flaky[0], "failed 1") || !strings.Contains(flaky[0], "missing 1") {
		t.Errorf("a spec that passed, failed and went missing: %v", flaky)
	}
}

// A spec under a known deviation listed as intermittent passes in the runs
// where the client's race did not happen and deviates in the others, as the
// listing says: not a flake. The same mix without the listing in every run,
// or with a skip, is.
func TestFlakySpecsDeclaredIntermittent(t *testing.T) {
	run := func(state reports.State, rate string) *reports.Results {
		return &reports.Results{Containers: []reports.Container{{Name: "auth0-spa-js/two-tabs[tokens-shared]",
			Specs: []reports.Spec{{Text: "no-replay: no tab replays", State: state, Intermittent: rate}}}}}
	}
	const rate = "1 of 8 runs"
	flaky, declared, _ := flakySpecs([]*reports.Results{run(reports.Passed, rate), run(reports.KnownDeviation, rate), run(reports.Passed, rate)})
	if len(flaky) != 0 || len(declared) != 1 || !strings.Contains(declared[0], "known-deviation 1, passed 2") {
		t.Errorf("a declared intermittent deviation: flaky %v, declared %v", flaky, declared)
	}
	for name, runs := range map[string][]*reports.Results{
		"not listed in one run": {run(reports.Passed, ""), run(reports.KnownDeviation, rate)},
		"skipped in one run":    {run(reports.Skipped, rate), run(reports.KnownDeviation, rate)},
		"failed in one run":     {run(reports.Failed, rate), run(reports.KnownDeviation, rate)},
		"missing from one run":  {run(reports.KnownDeviation, rate), {}},
	} {
		if flaky, declared, _ := flakySpecs(runs); len(flaky) != 1 || len(declared) != 0 {
			t.Errorf("%s: flaky %v, declared %v; want it flaky", name, flaky, declared)
		}
	}
}
