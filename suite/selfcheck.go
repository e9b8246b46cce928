package suite

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// maxClockSkew is how far the IdP's "now" may be from the page's clock at a
// request on the virtual clock, where the two are different clocks kept in
// step. On the real clock they are one clock, the system's, and the measured
// skew is only the request's transit time, which a loaded machine stretches
// past any fixed limit: it is recorded there, not judged.
const maxClockSkew = 50 * time.Millisecond

// maxNavigationSkew bounds the skew of a top-level navigation's request. The
// page cannot be asked for its time while its top frame navigates, so the
// IdP takes the last time the page reported; the page reports its clock as
// it starts to navigate, but on a loaded machine that report may reach the
// harness after the request reaches the IdP, which then has the report
// before it, short by the time the page worked in between (keycloak-js
// hashing its PKCE verifier: 60 ms). A clock that is really off is off by
// far more.
const maxNavigationSkew = 250 * time.Millisecond

// idpEndpoints names the endpoint each IdP entry kind records; its URL is the
// layout's (Server.Endpoint).
var idpEndpoints = map[string]fakeidp.Endpoint{
	"idp.authorize": fakeidp.EndpointAuthorize, "idp.token": fakeidp.EndpointToken, "idp.userinfo": fakeidp.EndpointUserinfo,
	"idp.revoke": fakeidp.EndpointRevoke, "idp.end-session": fakeidp.EndpointEndSession,
	"idp.discovery": fakeidp.EndpointDiscovery, "idp.jwks": fakeidp.EndpointJWKS,
}

// checkClocks proves the one-clock claim on every run: for each request the page
// made to the IdP, the page's time when it sent it (browser.request, stamped by
// the page's clock) and the IdP's time when it served it (stamped by the
// scenario clock the IdP reads) must agree. It records the worst skew and fails
// beyond maxClockSkew, or when the clock could not vouch for the order of the
// page's reports and an IdP request (lapses).
//
// Requests to one URL are paired in the order they were sent: the k-th request
// the page sent with the k-th the IdP received. Pairing by nearest time would
// pair two requests sent 10 ms apart crosswise and report a skew that never
// was. The IdP stamps an entry with the instant the request arrived, so its
// entries sorted by time are in arrival order whatever order they finished in.
func checkClocks(tl *timeline.Timeline, endpoint func(fakeidp.Endpoint) string, virtual bool, lapses int) error {
	entries := tl.Entries()
	sent := map[string][]timeline.Entry{}
	served := map[string][]timeline.Entry{}
	// A request sent while the harness held the network down never reached
	// the IdP: it has nothing to pair with.
	offline := false
	for _, e := range entries {
		if e.What == "harness.network" {
			offline = e.Fields["state"] == "offline"
		}
		if offline && e.What == "browser.request" {
			continue
		}
		switch ep, ok := idpEndpoints[e.What]; {
		case ok:
			if f := e.Fields["fault"]; e.Fields["actor"] == "harness" || f == "slow" || f == "hold" {
				continue // the harness's own requests; a held answer's time is when it was answered
			}
			url := endpoint(ep)
			served[url] = append(served[url], e)
		case e.What == "browser.request" && !strings.EqualFold(e.Fields["type"], "Preflight"):
			sent[e.Fields["url"]] = append(sent[e.Fields["url"]], e)
		}
	}
	worst, worstNav, n := 0.0, 0.0, 0
	for url, idp := range served {
		page := sent[url]
		byTime(idp)
		byTime(page)
		for i := 0; i < len(idp) && i < len(page); i++ {
			n++
			skew := math.Abs(idp[i].Ms() - page[i].Ms())
			if idp[i].Fields["dest"] == "document" || page[i].Fields["type"] == "Document" {
				worstNav = math.Max(worstNav, skew)
			} else {
				worst = math.Max(worst, skew)
			}
		}
	}
	worker := false
	for _, e := range entries {
		worker = worker || (e.What == "browser.request" && e.Fields["frame"] == "worker")
	}
	tl.Add("harness.clock-check", timeline.Fields{"idp_requests": fmt.Sprint(n), "worst_skew_ms": fmt.Sprintf("%.1f", worst),
		"worst_navigation_skew_ms": fmt.Sprintf("%.1f", worstNav), "lapses": fmt.Sprint(lapses)})
	switch {
	case !virtual:
		return nil
	case worker:
		return fmt.Errorf("the client made requests from a Web Worker, whose fetches do not hold Chromium's virtual time and whose timers do not run on it: this client must run on the real clock (clock: real in its manifest)")
	case lapses > 0:
		return fmt.Errorf("the virtual clock could not vouch for the order of the page's reports and the IdP's requests %d times (the page did not answer within %s)", lapses, browser.PageAnswer)
	case worst > float64(maxClockSkew/time.Millisecond):
		return fmt.Errorf("the IdP's clock and the page's clock disagree by %.1fms at a request (limit %s)", worst, maxClockSkew)
	case worstNav > float64(maxNavigationSkew/time.Millisecond):
		return fmt.Errorf("the IdP's clock and the page's clock disagree by %.1fms at a top-level navigation (limit %s)", worstNav, maxNavigationSkew)
	}
	return nil
}

func byTime(es []timeline.Entry) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].At < es[j].At || (es[i].At == es[j].At && es[i].Seq < es[j].Seq) })
}
