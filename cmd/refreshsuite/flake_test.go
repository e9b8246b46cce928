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
	if flaky, n := flakySpecs(same); len(flaky) != 0 || n != 2 {
		t.Errorf("identical runs: %v flaky of %d", flaky, n)
	}
	flipped := []*reports.Results{results(reports.Passed, reports.Passed), results(reports.Passed, reports.Failed), results(reports.Passed)}
	flaky, _ := flakySpecs(flipped)
	if len(flaky) != 1 || !strings.HasPrefix(flaky[0], "client/scenario / b: spec: ") || !strings.Contains(flaky[0], "failed 1") || !strings.Contains(flaky[0], "missing 1") {
		t.Errorf("a spec that passed, failed and went missing: %v", flaky)
	}
}
