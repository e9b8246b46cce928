package certify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/refreshsuite/refreshsuite/target"
)

// Preflight probes, with plain HTTP, what must be configured before a spec can
// mean anything: the discovery document (its issuer, offline_access, and
// CORS: the SPA's library reads it from the browser), the two redirect URIs,
// and CORS on the token endpoint from the SPA's origin. Every problem is one
// line of a *ConfigError.
func Preflight(ctx context.Context, c *Config, hc *http.Client) (*target.Discovery, error) {
	p := &preflight{cfg: c, http: hc, origin: c.AppOrigin()}
	var lines []string
	d, err := target.FetchDiscovery(ctx, hc, c.Issuer, p.origin)
	if err != nil {
		return nil, &ConfigError{[]string{fmt.Sprintf("discovery: %v: check --issuer", err)}}
	}
	p.disc = d
	if d.Issuer != c.Issuer {
		lines = append(lines, fmt.Sprintf("discovery: the IdP's issuer is %q, not %q: pass --issuer exactly as the discovery document writes it", d.Issuer, c.Issuer))
	}
	if !target.CORSAllows(d.AllowOrigin, p.origin) {
		lines = append(lines, fmt.Sprintf("discovery: the document is not readable from the SPA's origin %s (Access-Control-Allow-Origin %q): the SPA's library fetches it from the browser; allow this origin", p.origin, d.AllowOrigin))
	}
	if !slices.Contains(d.ScopesSupported, "offline_access") {
		lines = append(lines, fmt.Sprintf("discovery: scopes_supported does not list offline_access (it lists %s): enable refresh tokens through offline_access for this client", orNone(d.ScopesSupported)))
	}
	if d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" {
		lines = append(lines, "discovery: the document names no authorization_endpoint or token_endpoint: nothing can be tested")
		return nil, &ConfigError{lines}
	}
	lines = append(lines, p.redirectURIs(ctx)...)
	if msg := p.cors(ctx); msg != "" {
		lines = append(lines, msg)
	}
	if len(lines) > 0 {
		return nil, &ConfigError{lines}
	}
	return d, nil
}

type preflight struct {
	cfg    *Config
	http   *http.Client
	origin string
	disc   *target.Discovery
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "nothing"
	}
	return strings.Join(list, " ")
}

// answer is how /authorize answered a probe, reduced to what tells a
// registered redirect URI from an unregistered one.
type answer struct {
	status   int
	location string
	// home is true when the IdP redirected to the probed redirect URI itself
	// (with a code or an error): it trusts that URI.
	home bool
}

// shape is the answer without what changes from request to request (query
// strings carry fresh ids), for comparing two answers.
func (a answer) shape() string {
	if a.location == "" {
		return fmt.Sprint(a.status)
	}
	u, err := url.Parse(a.location)
	if err != nil {
		return fmt.Sprint(a.status, " ", a.location)
	}
	return fmt.Sprint(a.status, " ", u.Host, u.Path)
}

func (p *preflight) probe(ctx context.Context, clientID, redirectURI string) (answer, error) {
	u := target.AuthorizeURL(p.disc.AuthorizationEndpoint, clientID, redirectURI, "openid", nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return answer{}, err
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("authorization endpoint: GET %s: %v", p.disc.AuthorizationEndpoint, err)
	}
	resp.Body.Close()
	a := answer{status: resp.StatusCode}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		a.location = resp.Header.Get("Location")
		if loc, err := resp.Location(); err == nil {
			a.location = loc.String()
			a.home = strings.HasPrefix(a.location, redirectURI)
		}
	}
	return a, nil
}

// redirectURIs asks /authorize with each redirect URI and compares the
// answer with the answers to requests the IdP must refuse: an IdP answers an
// unregistered redirect URI with an error page of its own (it must not
// redirect there), and however that page looks, a registered URI is answered
// differently (a login page, or a redirect to the URI). The IdP's wording
// never has to be parsed. When every URI is answered as a refused one, the
// client itself may be what the IdP refuses (unknown, disabled, or its
// registration rejected as a whole): an answer like the one to a client that
// does not exist says so, instead of blaming the URIs.
func (p *preflight) redirectURIs(ctx context.Context) []string {
	uris := p.cfg.RedirectURIs()
	var refused []string
	var got answer
	for _, uri := range uris {
		a, err := p.probe(ctx, p.cfg.ClientID, uri)
		if err != nil {
			return []string{err.Error()}
		}
		ok, err := p.registered(ctx, uri, a)
		if err != nil {
			return []string{err.Error()}
		}
		if !ok {
			refused = append(refused, uri)
			got = a
		}
	}
	if len(refused) == 0 {
		return nil
	}
	if len(refused) == len(uris) {
		nobody, err := p.probe(ctx, "refreshsuite-unknown-client-"+target.RandomString(), uris[0])
		if err != nil {
			return []string{err.Error()}
		}
		if nobody.shape() == got.shape() {
			return []string{fmt.Sprintf("client %s: the IdP answers it, for both redirect URIs, as it answers a client that does not exist (%s): check --client-id, and that the client is enabled and its registration accepted (a public client with the code flow, PKCE and refresh tokens)", p.cfg.ClientID, got.shape())}
		}
	}
	var lines []string
	for _, uri := range refused {
		lines = append(lines, fmt.Sprintf("redirect URI %s is not registered for client %s (the IdP answers it as it answers an unregistered one: %s): register it, or check --client-id", uri, p.cfg.ClientID, got.shape()))
	}
	return lines
}

// registered says whether the IdP answered a redirect URI unlike one nobody
// registered.
func (p *preflight) registered(ctx context.Context, uri string, got answer) (bool, error) {
	if got.home {
		return true, nil
	}
	control, err := p.probe(ctx, p.cfg.ClientID, p.cfg.Base()+"refreshsuite-unregistered-"+target.RandomString()+".html")
	if err != nil {
		return false, err
	}
	if control.home || got.shape() != control.shape() {
		return true, nil // answered unlike a refused URI (or the IdP redirects anywhere)
	}
	if got.status < 400 {
		// Alike, but not an error status: a pattern registration (.../*)
		// accepts both, or the IdP shows its errors as pages. A client that
		// does not exist is refused whichever it is.
		nobody, err := p.probe(ctx, "refreshsuite-unknown-client-"+target.RandomString(), uri)
		if err != nil {
			return false, err
		}
		if got.shape() != nobody.shape() {
			return true, nil
		}
	}
	return false, nil
}

// cors sends the preflight a browser sends before a token request that is
// not a "simple" one, from the SPA's origin.
func (p *preflight) cors(ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, p.disc.TokenEndpoint, nil)
	if err != nil {
		return fmt.Sprintf("token endpoint: %v", err)
	}
	req.Header.Set("Origin", p.origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	headers := "content-type"
	if p.cfg.DPoP {
		headers += ", dpop" // every token request of the SPA carries its proof
	}
	req.Header.Set("Access-Control-Request-Headers", headers)
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Sprintf("token endpoint: OPTIONS %s: %v", p.disc.TokenEndpoint, err)
	}
	resp.Body.Close()
	allow := resp.Header.Get("Access-Control-Allow-Origin")
	if !target.CORSAllows(allow, p.origin) {
		return fmt.Sprintf("CORS: the token endpoint does not allow the SPA's origin %s (preflight answered HTTP %d, Access-Control-Allow-Origin %q): allow this origin (web origins) for client %s", p.origin, resp.StatusCode, allow, p.cfg.ClientID)
	}
	if allowed := resp.Header.Get("Access-Control-Allow-Headers"); p.cfg.DPoP && !allowsHeader(allowed, "dpop") {
		return fmt.Sprintf("CORS: --dpop: the token endpoint's preflight does not allow the DPoP request header (Access-Control-Allow-Headers %q): the SPA cannot send its proof", allowed)
	}
	return ""
}

// allowsHeader reports whether an Access-Control-Allow-Headers value lets a
// request header through (names are case-insensitive; * is any, for a
// request without credentials, which a token request is).
func allowsHeader(allowed, name string) bool {
	for _, h := range strings.Split(allowed, ",") {
		if h = strings.TrimSpace(h); h == "*" || strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}
