package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// exitOf is what running sh -c script returns: a real *exec.ExitError.
func exitOf(t *testing.T, script string) error {
	t.Helper()
	err := exec.Command("/bin/sh", "-c", script).Run()
	var ee *exec.ExitError
	if script != "exit 0" && !errors.As(err, &ee) {
		t.Fatalf("sh -c %q: %v", script, err)
	}
	return err
}

// ginkgo's exit status and the report must agree; every way they do not is
// a configuration error (exit 2) that says which, never a verdict.
func TestJudge(t *testing.T) {
	passed := &summary{tests: 3, passed: 3}
	failed := &summary{tests: 3, passed: 2, failed: 1, ginkgoFailed: 1}
	// -deviations fail: the report fails a deviation that ginkgo skipped.
	deviationsFail := &summary{tests: 3, passed: 2, failed: 1, deviations: 1}
	for _, tc := range []struct {
		name   string
		ginkgo string // sh script standing in for ginkgo
		sum    *summary
		read   error
		want   string // "" for agreement
	}{
		{"both passed", "exit 0", passed, nil, ""},
		{"both failed", "exit 1", failed, nil, ""},
		{"deviations as failures", "exit 0", deviationsFail, nil, ""},
		{"ginkgo failed, report passed", "exit 1", passed, nil, "ginkgo exited with status 1, but the report says no spec failed"},
		{"ginkgo passed, report failed", "exit 0", failed, nil, "ginkgo exited with status 0, but the report lists 1 failed specs"},
		{"no report", "exit 1", nil, errors.New("open junit.xml: no such file"), "ginkgo exited with status 1 and the suite wrote no complete report (open junit.xml: no such file)"},
		{"no report after a pass", "exit 0", nil, errors.New("no results.json"), "ginkgo exited with status 0 and the suite wrote no complete report (no results.json)"},
		{"ginkgo killed", "kill -9 $$", passed, nil, "ginkgo was killed (killed) before the run ended"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := judge(exitOf(t, tc.ginkgo), tc.sum, tc.read)
			if tc.want == "" {
				if err != nil {
					t.Errorf("want agreement, got %v", err)
				}
				return
			}
			var u usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a usage error containing %q", err, tc.want)
			}
		})
	}
}

// A run in which no spec ran says which of its filters left nothing, and
// fails; a run with one spec run is judged on it.
func TestNothingRan(t *testing.T) {
	sel := &selection{clockSkipped: map[string]bool{"c/real-only": true}}
	for _, tc := range []struct {
		name                 string
		sum                  *summary
		focus, labels, shard string
		want                 string
	}{
		{"one spec ran", &summary{tests: 5, passed: 1, filtered: 4}, "x", "", "", ""},
		{"a deviation ran", &summary{tests: 5, deviations: 1, filtered: 4}, "x", "", "", ""},
		{"focus matched nothing", &summary{tests: 5, filtered: 5}, "nomatch", "", "",
			`no spec ran: -focus "nomatch" left out 5 of the 5 specs`},
		{"both filters", &summary{tests: 5, filtered: 5}, "a", "TO-1", "",
			`-focus "a" and -label-filter "TO-1" left out 5 of the 5 specs`},
		{"focus, then the clock", &summary{tests: 5, filtered: 3, skipped: 2, skippedIn: map[string]int{"c/real-only": 2}}, "real", "", "1/2",
			`no spec ran: -focus "real" left out 3 of the 5 specs; -clock virtual skipped 2 (their scenarios need the real clock); in shard 1/2`},
		{"capabilities only", &summary{tests: 2, skipped: 2, skippedIn: map[string]int{"c/implicit": 2}, firstSkip: "needs implicit-flow"}, "", "", "",
			"no spec ran: 2 were skipped for what the client or the browser lacks (needs implicit-flow)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := nothingRan(tc.sum, sel, tc.focus, tc.labels, "virtual", tc.shard)
			if tc.want == "" {
				if err != nil {
					t.Errorf("want a verdict, got %v", err)
				}
				return
			}
			var u usageError
			if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want a usage error containing %q", err, tc.want)
			}
		})
	}
}
