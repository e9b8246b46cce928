package fakeidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

func preflight(t *testing.T, s *Server, endpoint, origin, method, headers string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodOptions, endpoint, nil)
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		req.Header.Set("Access-Control-Request-Headers", headers)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func count(s *Server, what string) int {
	n := 0
	for _, e := range s.Timeline.Entries() {
		if e.What == what {
			n++
		}
	}
	return n
}

// A credentialed request with a library's own header (auth0-spa-js's
// Auth0-Client, sent with keycloak-js's credentials: 'include'): the preflight
// allows the origin, credentials, the method and the very headers asked for;
// the request that follows is readable by that origin, with credentials.
func TestCredentialedCORSWithACustomHeader(t *testing.T) {
	s := startWith(t, Config{Layout: LayoutAuth0, IssuerTrailingSlash: true}, Client{})
	_, tr := login(t, s, "openid offline_access")
	before := count(s, "idp.preflight")

	resp := preflight(t, s, s.Endpoint(EndpointToken), appOrigin, "POST", "auth0-client,content-type")
	h := resp.Header
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin": appOrigin, "Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Headers": "auth0-client,content-type", "Access-Control-Max-Age": "0", "Vary": "Origin",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("preflight %s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || resp.StatusCode != 204 {
		t.Errorf("preflight: %d, methods %q", resp.StatusCode, h.Get("Access-Control-Allow-Methods"))
	}
	e := last(s, "idp.preflight")
	if e.Fields["endpoint"] != "token" || e.Fields["path"] != "/oauth/token" || e.Fields["origin"] != appOrigin ||
		e.Fields["method"] != "POST" || e.Fields["headers"] != "auth0-client,content-type" || e.Fields["allowed"] != "yes" {
		t.Errorf("preflight entry %v", e)
	}
	if n := count(s, "idp.preflight"); n != before+1 {
		t.Errorf("%d preflight entries for one preflight", n-before)
	}
	if n := count(s, "idp.token"); n != 1 {
		t.Errorf("the preflight was recorded as a token request too: %d idp.token entries", n)
	}

	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"spa"}}
	req, _ := http.NewRequest(http.MethodPost, s.Endpoint(EndpointToken), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", appOrigin)
	req.Header.Set("Auth0-Client", "eyJuYW1lIjoiYXV0aDAtc3BhLWpzIn0=")
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != appOrigin ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" || resp.Header.Get("Vary") != "Origin" {
		t.Errorf("token response: %d, headers %v", resp.StatusCode, resp.Header)
	}
	if e := last(s, "idp.token"); e.Fields["cors"] != "allowed" || e.Fields["outcome"] != "ok" {
		t.Errorf("token entry %v", e)
	}
}

// An origin no client registered gets no CORS header at all, on the
// preflight or the request, and the refusal is in the timeline.
func TestCORSRefusesUnregisteredOrigins(t *testing.T) {
	s := startIdP(t, Client{})
	const evil = "http://evil.test"
	resp := preflight(t, s, s.Endpoint(EndpointToken), evil, "POST", "content-type")
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods"} {
		if v := resp.Header.Get(k); v != "" {
			t.Errorf("preflight from %s: %s = %q", evil, k, v)
		}
	}
	if e := last(s, "idp.preflight"); e.Fields["allowed"] != "no" || e.Fields["reason"] != "origin not registered" {
		t.Errorf("refused preflight entry %v", e)
	}
	if resp := preflight(t, s, s.Endpoint(EndpointToken), appOrigin, "DELETE", ""); resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("a preflight for DELETE was allowed: %v", resp.Header)
	} else if e := last(s, "idp.preflight"); e.Fields["allowed"] != "no" || e.Fields["reason"] != "method not allowed" {
		t.Errorf("preflight for a method the endpoint does not take: %v", e)
	}
	req, _ := http.NewRequest(http.MethodPost, s.Endpoint(EndpointToken), strings.NewReader("grant_type=refresh_token&refresh_token=null&client_id=spa"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", evil)
	r, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("a request from %s got CORS headers: %v", evil, r.Header)
	}
	if e := last(s, "idp.token"); e.Fields["cors"] != "refused" || e.Fields["origin"] != evil {
		t.Errorf("token entry %v", e)
	}
	// authorize is navigated to, never fetched.
	if resp := preflight(t, s, s.Endpoint(EndpointAuthorize), appOrigin, "GET", ""); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a preflight to authorize was allowed")
	}
	if n := count(s, "idp.authorize"); n != 0 {
		t.Errorf("a preflight to authorize was served as an authorization request (%d entries)", n)
	}
}

// Discovery and the key set answer OPTIONS as a preflight, recorded only as
// idp.preflight: a GET-only library that preflights (with a custom header)
// shows one idp.discovery per document fetched, not two.
func TestDiscoveryAnswersPreflights(t *testing.T) {
	s := startWith(t, Config{CORSMaxAge: 10 * time.Minute}, Client{})
	for _, e := range []Endpoint{EndpointDiscovery, EndpointJWKS} {
		resp := preflight(t, s, s.Endpoint(e), appOrigin, "GET", "x-requested-with")
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != appOrigin ||
			resp.Header.Get("Access-Control-Max-Age") != "600" || resp.Header.Get("Content-Type") != "" {
			t.Errorf("OPTIONS %s: %d %v", e, resp.StatusCode, resp.Header)
		}
	}
	if n, d, k := count(s, "idp.preflight"), count(s, "idp.discovery"), count(s, "idp.jwks"); n != 2 || d != 0 || k != 0 {
		t.Errorf("two preflights recorded as %d idp.preflight, %d idp.discovery, %d idp.jwks", n, d, k)
	}
	// A public document: any origin reads it, without credentials.
	req, _ := http.NewRequest(http.MethodGet, s.Endpoint(EndpointDiscovery), nil)
	req.Header.Set("Origin", "http://other.test")
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("discovery for another origin: %v", resp.Header)
	}
	if e := last(s, "idp.discovery"); e.Fields["cors"] != "public" {
		t.Errorf("discovery entry %v", e)
	}
}

// Every request is recorded, including one for a path no layout serves; a
// token in the path does not reach the timeline.
func TestUnknownPathsAreRecorded(t *testing.T) {
	s := startIdP(t, Client{})
	_, tr := login(t, s, "openid offline_access")
	for _, p := range []string{"/favicon.ico", "/oauth/token", "/userinfo/" + tr.AccessToken} {
		req, _ := http.NewRequest(http.MethodGet, s.Origin()+p+"?access_token="+url.QueryEscape(tr.AccessToken), nil)
		req.Header.Set("Origin", appOrigin)
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		e := last(s, "idp.not-found")
		if resp.StatusCode != 404 || e.Fields["method"] != "GET" || e.Fields["status"] != "404" || e.Fields["origin"] != appOrigin {
			t.Errorf("GET %s: %d, entry %v", p, resp.StatusCode, e)
		}
		if strings.Contains(e.String(), tr.AccessToken[:20]) || strings.Contains(e.Fields["path"], "?") {
			t.Errorf("the entry for %s holds the token or the query: %v", p, e)
		}
	}
	if got := last(s, "idp.not-found").Fields["path"]; got != "/userinfo/"+timeline.Fingerprint(tr.AccessToken) {
		t.Errorf("path %q, want the token's segment as its fingerprint", got)
	}
}
