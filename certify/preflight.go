package certify

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// ConfigError is what the pre-flight found wrong with how the IdP or the
// command is configured: one line each, reported before any spec runs and
// never as a conformance failure.
type ConfigError struct{ Lines []string }

func (e *ConfigError) Error() string { return strings.Join(e.Lines, "\n") }

// preflight probes, with plain HTTP, what must be configured before a spec
// can mean anything: the discovery document (its issuer, offline_access, and
// CORS: the SPA's library reads it from the browser), the two redirect URIs,
// and CORS on the token endpoint from the SPA's origin.
func (r *runner) preflight(ctx context.Context) error {
	var lines []string
	d, err := fetchDiscovery(ctx, r.http, r.cfg.Issuer, r.app.origin)
	r.tl.Add("idp.discovery", timeline.Fields{"origin": r.app.origin})
	if err != nil {
		return &ConfigError{[]string{fmt.Sprintf("discovery: %v: check --issuer", err)}}
	}
	r.disc = d
	if d.Issuer != r.cfg.Issuer {
		lines = append(lines, fmt.Sprintf("discovery: the IdP's issuer is %q, not %q: pass --issuer exactly as the discovery document writes it", d.Issuer, r.cfg.Issuer))
	}
	if !corsAllows(d.AllowOrigin, r.app.origin) {
		lines = append(lines, fmt.Sprintf("discovery: the document is not readable from the SPA's origin %s (Access-Control-Allow-Origin %q): the SPA's library fetches it from the browser; allow this origin", r.app.origin, d.AllowOrigin))
	}
	if !slices.Contains(d.ScopesSupported, "offline_access") {
		lines = append(lines, fmt.Sprintf("discovery: scopes_supported does not list offline_access (it lists %s): enable refresh tokens through offline_access for this client", orNone(d.ScopesSupported)))
	}
	if d.AuthorizationEndpoint == "" || d.TokenEndpoint == "" {
		lines = append(lines, "discovery: the document names no authorization_endpoint or token_endpoint: nothing can be tested")
		return &ConfigError{lines}
	}
	for _, uri := range []string{r.redirectURI, r.silentURI} {
		if msg := r.probeRedirect(ctx, uri); msg != "" {
			lines = append(lines, msg)
		}
	}
	if msg := r.probeCORS(ctx); msg != "" {
		lines = append(lines, msg)
	}
	if len(lines) > 0 {
		return &ConfigError{lines}
	}
	// Not a configuration matter but evidence for IDP-CODE-1: can the SPA
	// read the token endpoint's error answers (invalid_grant) at all?
	probe := "refreshsuite-certify-probe-" + randomString()
	res, err := postToken(ctx, r.http, d.TokenEndpoint, r.app.origin, url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {probe}, "client_id": {r.cfg.ClientID},
	})
	if err == nil {
		recordToken(r.tl, r.cfg.ClientID, r.app.origin, probe, res)
		r.ev.ErrorProbe = &res
	}
	return nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "nothing"
	}
	return strings.Join(list, " ")
}

// authorizeAnswer is how /authorize answered a probe, reduced to what tells a
// registered redirect URI from an unregistered one.
type authorizeAnswer struct {
	status   int
	location string
	// home is true when the IdP redirected to the probed redirect URI itself
	// (with a code or an error): it trusts that URI.
	home bool
}

// shape is the answer without what changes from request to request (query
// strings carry fresh ids), for comparing two answers.
func (a authorizeAnswer) shape() string {
	if a.location == "" {
		return fmt.Sprint(a.status)
	}
	u, err := url.Parse(a.location)
	if err != nil {
		return fmt.Sprint(a.status, " ", a.location)
	}
	return fmt.Sprint(a.status, " ", u.Host, u.Path)
}

func (r *runner) authorizeProbe(ctx context.Context, clientID, redirectURI string) (authorizeAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.authorizeURL(clientID, redirectURI, "openid", nil), nil)
	if err != nil {
		return authorizeAnswer{}, err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return authorizeAnswer{}, err
	}
	resp.Body.Close()
	a := authorizeAnswer{status: resp.StatusCode}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		a.location = resp.Header.Get("Location")
		if loc, err := resp.Location(); err == nil {
			a.location = loc.String()
			a.home = strings.HasPrefix(a.location, redirectURI)
		}
	}
	f := timeline.Fields{"client": clientID, "redirect_uri": redirectURI, "response_type": "code", "scope": "openid",
		"code_challenge_method": "S256", "status": fmt.Sprint(a.status), "outcome": "ok"}
	if a.status >= 400 {
		f["outcome"] = "error"
	}
	r.tl.Add("idp.authorize", f)
	return a, nil
}

// probeRedirect asks /authorize with the redirect URI and compares the answer
// with the answers to requests the IdP must refuse: an IdP answers an
// unregistered redirect URI with an error page of its own (it must not
// redirect there), and however that page looks, a registered URI is answered
// differently (a login page, or a redirect to the URI). The IdP's wording
// never has to be parsed.
func (r *runner) probeRedirect(ctx context.Context, uri string) string {
	fail := func(err error) string {
		return fmt.Sprintf("authorization endpoint: GET %s: %v", r.disc.AuthorizationEndpoint, err)
	}
	got, err := r.authorizeProbe(ctx, r.cfg.ClientID, uri)
	if err != nil {
		return fail(err)
	}
	if got.home {
		return ""
	}
	control, err := r.authorizeProbe(ctx, r.cfg.ClientID, r.app.url("refreshsuite-unregistered-"+randomString()+".html"))
	if err != nil {
		return fail(err)
	}
	if control.home || got.shape() != control.shape() {
		return "" // answered unlike a refused URI (or the IdP redirects anywhere)
	}
	if got.status < 400 {
		// Alike, but not an error status: a pattern registration (.../*)
		// accepts both, or the IdP shows its errors as pages. A client that
		// does not exist is refused whichever it is.
		nobody, err := r.authorizeProbe(ctx, "refreshsuite-unknown-client-"+randomString(), uri)
		if err != nil {
			return fail(err)
		}
		if got.shape() != nobody.shape() {
			return ""
		}
	}
	return fmt.Sprintf("redirect URI %s is not registered for client %s (the IdP answers it as it answers an unregistered one: %s): register it, or check --client-id", uri, r.cfg.ClientID, got.shape())
}

// probeCORS sends the preflight a browser sends before a token request that
// is not a "simple" one, from the SPA's origin.
func (r *runner) probeCORS(ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodOptions, r.disc.TokenEndpoint, nil)
	if err != nil {
		return fmt.Sprintf("token endpoint: %v", err)
	}
	req.Header.Set("Origin", r.app.origin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := r.http.Do(req)
	if err != nil {
		return fmt.Sprintf("token endpoint: OPTIONS %s: %v", r.disc.TokenEndpoint, err)
	}
	resp.Body.Close()
	allow := resp.Header.Get("Access-Control-Allow-Origin")
	ok := corsAllows(allow, r.app.origin)
	r.tl.Add("idp.preflight", timeline.Fields{"endpoint": "token", "origin": r.app.origin, "allowed": yesNo(ok)})
	r.ev.PreflightAllowOrigin = allow
	if !ok {
		return fmt.Sprintf("CORS: the token endpoint does not allow the SPA's origin %s (preflight answered HTTP %d, Access-Control-Allow-Origin %q): allow this origin (web origins) for client %s", r.app.origin, resp.StatusCode, allow, r.cfg.ClientID)
	}
	return ""
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
