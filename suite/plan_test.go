package suite

import (
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/scenarios"
)

// An external IdP cannot be made to misbehave: a scenario that configures
// the embedded IdP as a defective one is not run against it, while one that
// configures what a healthy IdP may do is.
func TestSkipExternalDefectiveDPoP(t *testing.T) {
	for mode, skipped := range map[string]bool{"ignore": true, "bind": false, "require": false, "": false} {
		s := &scenarios.Scenario{Judges: "idp", IdP: scenarios.IdPSpec{DPoP: mode}}
		if why := skipExternal(s); (why != "") != skipped || skipped && !strings.Contains(why, "idp.dpop: ignore") {
			t.Errorf("idp.dpop %q against an external IdP: skip %q, want skipped %v", mode, why, skipped)
		}
	}
}
