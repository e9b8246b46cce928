package suite

import (
	"errors"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/scenarios"
)

func TestDecide(t *testing.T) {
	s := &scenarios.Scenario{ID: "two-tabs", Variant: "tokens-shared"}
	x := scenarios.Expectation{ID: "no-replay"}
	listed := func(intermittent string) *fixtures.Manifest {
		return &fixtures.Manifest{Name: "c", Known: map[string]fixtures.Deviation{
			"two-tabs/no-replay": {Spec: "two-tabs/no-replay", Reason: "tabs replay", Intermittent: intermittent},
		}}
	}
	pass := scenarios.Result{Pass: true, Message: "0 entries match", Final: false}
	fail := scenarios.Result{Message: "want 0, found 1", Final: true}
	stepErr := errors.New("step 3 (login): the app did not come back")
	for _, tc := range []struct {
		name    string
		m       *fixtures.Manifest
		res     scenarios.Result
		stepErr error
		want    Outcome
		says    string
	}{
		{"pass", &fixtures.Manifest{}, pass, nil, Passed, ""},
		{"fail", &fixtures.Manifest{}, fail, nil, Failed, "want 0, found 1"},
		{"not applicable", &fixtures.Manifest{}, scenarios.Result{NotApplicable: true, Message: "not applicable: no fault"}, nil, Skipped, "no fault"},
		{"deviation reproduced", listed(""), fail, nil, Deviated, "known deviation: tabs replay"},
		{"deviation gone", listed(""), pass, nil, Failed, "but the client now meets it"},
		{"intermittent deviation absent this run", listed("3 of 20 runs"), pass, nil, Passed, "did not reproduce this run"},
		{"intermittent deviation present", listed("3 of 20 runs"), fail, nil, Deviated, "known deviation"},
		{"step failed, evidence incomplete", &fixtures.Manifest{}, pass, stepErr, Failed, "did not run to the end"},
		{"step failed, verdict settled", &fixtures.Manifest{}, fail, stepErr, Failed, "want 0, found 1"},
		{"step failed, evidence settled and passing", &fixtures.Manifest{}, scenarios.Result{Pass: true, Final: true}, stepErr, Passed, ""},
	} {
		got, msg := decide(tc.m, s, x, tc.res, tc.stepErr, "strict")
		if got != tc.want || !strings.Contains(msg, tc.says) {
			t.Errorf("%s: %s %q, want %s with %q", tc.name, got, msg, tc.want, tc.says)
		}
	}
}
