package fakeidp

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// endSession requests s's end-session endpoint (or another logout path) as
// the browser hc and returns the answer's status and Location.
func endSession(t *testing.T, s *Server, hc *http.Client, e Endpoint, q url.Values) (int, string) {
	t.Helper()
	resp, err := hc.Get(s.Endpoint(e) + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// The post-logout redirect URI must be one the client registered, exactly;
// the client is named by id_token_hint or client_id (and both must agree);
// without a client there is no redirect. A refused request logs nobody out.
func TestPostLogoutRedirectExactMatch(t *testing.T) {
	const back = appOrigin + "/logged-out.html"
	s := startWith(t, Config{Clients: []Client{{ID: "other", RedirectURIs: []string{"http://localhost:5173/"}}}},
		Client{PostLogoutRedirectURIs: []string{back}})
	hc, tr := login(t, s, "openid")
	loggedIn := func() bool {
		p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}})
		return p.Get("code") != ""
	}
	for name, q := range map[string]url.Values{
		"a registered origin, another path": {"client_id": {"spa"}, "post_logout_redirect_uri": {appOrigin + "/index.html"}},
		"a trailing slash more":             {"client_id": {"spa"}, "post_logout_redirect_uri": {back + "/"}},
		"a query more":                      {"client_id": {"spa"}, "post_logout_redirect_uri": {back + "?x=1"}},
		"another client's URI":              {"client_id": {"spa"}, "post_logout_redirect_uri": {"http://localhost:5173/"}},
		"no client":                         {"post_logout_redirect_uri": {back}},
		"an unknown client":                 {"client_id": {"nobody"}, "post_logout_redirect_uri": {back}},
		"a hint for spa, client_id other":   {"client_id": {"other"}, "id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {"http://localhost:5173/"}},
		"a tampered hint":                   {"id_token_hint": {tamper(tr.IDToken)}, "post_logout_redirect_uri": {back}},
	} {
		code, loc := endSession(t, s, hc, EndpointEndSession, q)
		e := last(s, "idp.end-session")
		if code != 400 || loc != "" || e.Fields["error"] != "invalid_request" || e.Fields["id_token_hint"] != fingerprint(q.Get("id_token_hint")) {
			t.Errorf("%s: %d to %q, entry %v; want 400 and no redirect", name, code, loc, e)
		}
		if !loggedIn() {
			t.Fatalf("%s: a refused logout ended the session", name)
		}
	}
	code, loc := endSession(t, s, hc, EndpointEndSession, url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {back}, "state": {"st-1"}})
	if e := last(s, "idp.end-session"); code != 302 || loc != back+"?state=st-1" || e.Fields["client"] != "spa" || e.Fields["outcome"] != "redirect" || e.Fields["session"] != "yes" {
		t.Fatalf("the hint naming the client, a registered URI: %d to %q, entry %v", code, loc, e)
	}
	if loggedIn() {
		t.Fatal("still logged in after the logout")
	}
	hc, _ = login(t, s, "openid")
	if code, loc := endSession(t, s, hc, EndpointEndSession, url.Values{"client_id": {"spa"}, "post_logout_redirect_uri": {back}}); code != 302 || loc != back {
		t.Errorf("client_id naming the client: %d to %q", code, loc)
	}
	hc, _ = login(t, s, "openid")
	if code, _ := endSession(t, s, hc, EndpointEndSession, nil); code != 200 || last(s, "idp.end-session").Fields["outcome"] != "ok" || loggedIn() {
		t.Errorf("a logout without parameters: %d, %v", code, last(s, "idp.end-session"))
	}
}

// An expired id_token still names its client at logout (RP-Initiated
// Logout 1.0: the OP SHOULD accept it), and Auth0's /v2/logout matches
// returnTo the same way.
func TestLogoutExpiredHintAndAuth0(t *testing.T) {
	s, clock := startOnClockWith(t, Config{Layout: LayoutAuth0, IssuerTrailingSlash: true}, Client{IDTokenLifetime: time.Minute})
	hc, tr := login(t, s, "openid")
	clock.advance(time.Hour)
	if code, loc := endSession(t, s, hc, EndpointEndSession, url.Values{"id_token_hint": {tr.IDToken}, "post_logout_redirect_uri": {redirect}}); code != 302 || loc != redirect {
		t.Errorf("an expired hint: %d to %q", code, loc)
	}
	hc, _ = login(t, s, "openid")
	if code, _ := endSession(t, s, hc, EndpointAuth0Logout, url.Values{"client_id": {"spa"}, "returnTo": {appOrigin + "/"}}); code != 400 {
		t.Errorf("/v2/logout to an unregistered returnTo: %d", code)
	}
	code, loc := endSession(t, s, hc, EndpointAuth0Logout, url.Values{"client_id": {"spa"}, "returnTo": {redirect}})
	if e := last(s, "idp.end-session"); code != 302 || loc != redirect || e.Fields["path"] != "/v2/logout" || e.Fields["post_logout_redirect_uri"] != redirect {
		t.Errorf("/v2/logout: %d to %q, entry %v", code, loc, e)
	}
}
