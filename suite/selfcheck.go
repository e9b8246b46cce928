package suite

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// maxClockSkew is how far the IdP's "now" may be from the page's clock at a
// request on the virtual clock, where the two are different clocks kept in
// step. On the real clock they are one clock, the system's, and the measured
// skew is only the request's transit time, which a loaded machine stretches
// past any fixed limit: it is recorded there, not judged.
const maxClockSkew = 50 * time.Millisecond

var idpPaths = map[string]string{
	"idp.authorize": "/authorize", "idp.token": "/token", "idp.userinfo": "/userinfo", "idp.revoke": "/revoke",
	"idp.end-session": "/end-session", "idp.discovery": "/.well-known/openid-configuration", "idp.jwks": "/jwks",
}

// checkClocks proves the one-clock claim on every run: for each request the page
// made to the IdP, the page's time when it sent it (browser.request, stamped by
// the page's clock) and the IdP's time when it served it (stamped by the
// scenario clock the IdP reads) must agree. It records the worst skew and fails
// beyond maxClockSkew.
func checkClocks(tl *timeline.Timeline, issuer string, virtual bool) error {
	entries := tl.Entries()
	used := map[int]bool{}
	worst, n := 0.0, 0
	for _, e := range entries {
		path, ok := idpPaths[e.What]
		if !ok || e.Fields["actor"] == "harness" || e.Fields["fault"] == "slow" {
			continue // the harness's own requests; a slow answer's time is when it was answered
		}
		best, bestSkew := -1, math.Inf(1)
		for _, r := range entries {
			if r.What != "browser.request" || used[r.Seq] || r.Fields["url"] != issuer+path || strings.EqualFold(r.Fields["type"], "Preflight") {
				continue
			}
			if skew := math.Abs(e.Ms() - r.Ms()); skew < bestSkew {
				best, bestSkew = r.Seq, skew
			}
		}
		if best < 0 {
			continue // e.g. a request the harness made itself
		}
		used[best] = true
		n++
		worst = math.Max(worst, bestSkew)
	}
	tl.Add("harness.clock-check", timeline.Fields{"idp_requests": fmt.Sprint(n), "worst_skew_ms": fmt.Sprintf("%.1f", worst)})
	if virtual && worst > float64(maxClockSkew/time.Millisecond) {
		return fmt.Errorf("the IdP's clock and the page's clock disagree by %.1fms at a request (limit %s)", worst, maxClockSkew)
	}
	return nil
}
