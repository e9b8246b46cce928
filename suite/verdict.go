package suite

import (
	"fmt"

	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/scenarios"
)

// LenientReport begins the message of a should the lenient profile reports
// without failing.
const LenientReport = "reported (lenient profile: a should, not a must)"

// Outcome is what a spec reports.
type Outcome string

const (
	Passed  Outcome = "passed"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
	// Deviated is a failure the client's manifest lists as a known
	// deviation: reported as skipped with the reason, or failed with
	// -deviations fail.
	Deviated Outcome = "deviated"
)

// decide turns a spec's result into what it reports, given the client's known
// deviations and whether a step of the run failed (stepErr): a verdict that
// the missing steps could have changed is the step's failure, a missing
// premise is a skip, a listed deviation that reproduces is a deviation, and
// one that no longer does fails the run, unless it is listed as intermittent.
//
// On the lenient profile a failed expectation of level should is reported as
// a deviation of the profile's, not a failure: the strict and lenient
// profiles differ only in that, and in no code of their own.
func decide(m *fixtures.Manifest, s *scenarios.Scenario, x scenarios.Expectation, res scenarios.Result, stepErr error, profile string) (Outcome, string) {
	if stepErr != nil && !res.Final {
		return Failed, fmt.Sprintf("the scenario did not run to the end, and this expectation's evidence is incomplete: %v", stepErr)
	}
	if res.NotApplicable {
		return Skipped, res.Message
	}
	if !res.Pass && x.Should() && profile == "lenient" {
		return Deviated, LenientReport + ": " + res.Message
	}
	dev, known := m.Deviation(s, x.ID)
	switch {
	case known && !res.Pass:
		return Deviated, fmt.Sprintf("known deviation: %s (%s)\nobserved: %s", dev.Reason, dev.Reference, res.Message)
	case known && res.Pass && dev.Intermittent != "":
		// Listed as reproducing in some runs only: this run is one where it
		// did not, which is no failure.
		return Passed, fmt.Sprintf("an intermittent known deviation (%s) that did not reproduce this run: %s", dev.Intermittent, res.Message)
	case known && res.Pass:
		return Failed, fmt.Sprintf("listed as a known deviation (%s) but the client now meets it: remove %s/%s from %s\n%s",
			dev.Reason, s.ID, x.ID, m.Path(m.Deviations), res.Message)
	case !res.Pass:
		return Failed, res.Message
	}
	return Passed, res.Message
}
