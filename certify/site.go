package certify

import (
	"net/url"

	"github.com/refreshsuite/refreshsuite/browser"
)

// crossSite reports whether two URLs are on different sites (scheme and
// registrable domain; the port does not count), which decides whether the
// IdP's session cookie is a third-party cookie in the SPA's iframe.
func crossSite(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return true
	}
	return browser.Site(ua) != browser.Site(ub)
}
