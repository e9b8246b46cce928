// Package certify is what `refreshsuite certify` adds to the suite to
// certify an external identity provider: the pre-flight (plain HTTP checks of
// what must be configured before any spec can mean anything), the login file
// (the steps the browser performs on the IdP's own login page), the bundle
// (the suite's reports, the exact configuration, the version, a manifest of
// hashes and an archive) and the command line's configuration.
//
// The checks themselves are scenarios (scenarios/idp, judges: idp), run by
// the suite's one harness against the IdP as its target: the same app
// server, session driver and verdict engine as every client scenario.
package certify

import (
	"strings"
)

// ConfigError is what the pre-flight, or the run, found wrong with how the
// IdP, the environment or the command is configured: one line each, reported
// before any verdict and never as a conformance failure.
type ConfigError struct{ Lines []string }

func (e *ConfigError) Error() string { return strings.Join(e.Lines, "\n") }
