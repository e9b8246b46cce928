package certify

import (
	"net"
	"net/url"
	"strings"
)

// crossSite reports whether two URLs are on different sites (scheme and
// registrable domain; the port does not count), which decides whether the
// IdP's session cookie is a third-party cookie in the SPA's iframe. Without a
// public-suffix list the registrable domain is taken as the last two labels
// of a name, and the whole host for an IP address or a single label
// (localhost); the SPA is always on loopback, so only an IdP on loopback too
// can be same-site, and that comparison is exact.
func crossSite(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return true
	}
	return ua.Scheme != ub.Scheme || site(ua.Hostname()) != site(ub.Hostname())
}

func site(host string) string {
	labels := strings.Split(host, ".")
	if net.ParseIP(host) != nil || len(labels) <= 2 {
		return host
	}
	return labels[len(labels)-2] + "." + labels[len(labels)-1]
}
