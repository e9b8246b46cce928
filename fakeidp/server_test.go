package fakeidp

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
	"github.com/refreshsuite/refreshsuite/vocab"
)

const (
	appOrigin = "http://localhost:4200"
	redirect  = appOrigin + "/index.html"
	verifier  = "verifier-verifier-verifier-verifier-verifier-0123"
)

func startIdP(t *testing.T, c Client, faults ...vocab.Fault) *Server {
	t.Helper()
	c.ID = "spa"
	c.RedirectURIs = []string{redirect, appOrigin + "/silent-refresh.html"}
	c.Origins = []string{appOrigin}
	s, err := Start(Config{Clients: []Client{c}, Faults: faults}, nil)
	if err != nil {
		t.Fatal(err)
	}
	closeAndValidate(t, s)
	return s
}

// closeAndValidate closes the server when the test ends and checks its
// timeline against the vocabulary, as the suite does after every scenario.
func closeAndValidate(t *testing.T, s *Server) {
	t.Helper()
	t.Cleanup(func() {
		s.Close()
		if err := timeline.Validate(s.Timeline.Entries()); err != nil {
			t.Errorf("timeline: %v", err)
		}
	})
}

// browserish is an HTTP client that keeps cookies and never follows redirects,
// so the test sees each hop the way the iframe would.
func browserish(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// browserFor is browserish over the transport that trusts s.
func browserFor(t *testing.T, s *Server) *http.Client {
	hc := browserish(t)
	hc.Transport = s.HTTPClient().Transport
	return hc
}

// discoveryOf fetches s's discovery document.
func discoveryOf(t *testing.T, s *Server) map[string]any {
	t.Helper()
	resp, err := s.HTTPClient().Get(s.Endpoint(EndpointDiscovery))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func challenge() string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeRequest sends one authorization request, a code flow with PKCE
// unless extra says otherwise; the caller closes the body.
func authorizeRequest(t *testing.T, hc *http.Client, s *Server, extra url.Values) *http.Response {
	t.Helper()
	q := url.Values{
		"client_id": {"spa"}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {"openid offline_access"}, "state": {"state-12345678"}, "nonce": {"nonce-12345678"},
		"code_challenge": {challenge()}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	resp, err := hc.Get(s.Endpoint(EndpointAuthorize) + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// authorize runs one /authorize request and returns the redirect's parameters
// (query or fragment).
func authorize(t *testing.T, hc *http.Client, s *Server, extra url.Values) (url.Values, *http.Response) {
	t.Helper()
	resp := authorizeRequest(t, hc, s, extra)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return nil, resp
	}
	params := loc.Query()
	if loc.Fragment != "" {
		params, _ = url.ParseQuery(loc.Fragment)
	}
	return params, resp
}

type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	IDToken          string `json:"id_token"`
	ExpiresIn        int    `json:"expires_in"`
	TokenType        string `json:"token_type"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	status           int
	// nonce and exposed are the answer's DPoP-Nonce and
	// Access-Control-Expose-Headers.
	nonce, exposed string
}

func postToken(t *testing.T, s *Server, form url.Values) tokenResponse {
	t.Helper()
	return postTokenTo(t, s, s.Endpoint(EndpointToken), form)
}

// postTokenTo posts a token request to endpoint with a DPoP header for each
// proof given.
func postTokenTo(t *testing.T, s *Server, endpoint string, form url.Values, proofs ...string) tokenResponse {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", appOrigin)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
	tr.status = resp.StatusCode
	tr.nonce, tr.exposed = resp.Header.Get("DPoP-Nonce"), resp.Header.Get("Access-Control-Expose-Headers")
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != appOrigin {
		t.Errorf("token response: Access-Control-Allow-Origin = %q, want %q", got, appOrigin)
	}
	return tr
}

func login(t *testing.T, s *Server, scope string) (*http.Client, tokenResponse) {
	t.Helper()
	return loginWith(t, s, browserFor(t, s), scope)
}

func loginWith(t *testing.T, s *Server, hc *http.Client, scope string) (*http.Client, tokenResponse) {
	t.Helper()
	p, resp := authorize(t, hc, s, url.Values{"scope": {scope}})
	if p.Get("code") == "" {
		t.Fatalf("authorize: no code, status %d, params %v", resp.StatusCode, p)
	}
	tr := postToken(t, s, exchangeForm(p.Get("code")))
	if tr.status != 200 {
		t.Fatalf("code exchange: status %d error %q", tr.status, tr.Error)
	}
	return hc, tr
}

func exchangeForm(code string) url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"spa"},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	}
}

// userinfoStatus is the status of a userinfo request with at as the bearer token.
func userinfoStatus(t *testing.T, s *Server, at string) int {
	t.Helper()
	status, _, _ := userinfo(t, s, "Bearer "+at)
	return status
}

// userinfo asks for the access token with authz as the Authorization header
// and a DPoP header per proof; it returns the status, WWW-Authenticate and
// the error.
func userinfo(t *testing.T, s *Server, authz string, proofs ...string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.Endpoint(EndpointUserinfo), nil)
	req.Header.Set("Authorization", authz)
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body.Error
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {"spa"}}
}

func refresh(t *testing.T, s *Server, rt string) tokenResponse {
	return postToken(t, s, refreshForm(rt))
}

func last(s *Server, what string) timeline.Entry {
	es := s.Timeline.Entries()
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].What == what {
			return es[i]
		}
	}
	return timeline.Entry{}
}

func TestCodeFlowRotationAndReuseDetection(t *testing.T) {
	s := startIdP(t, Client{AccessTokenLifetime: 3 * time.Second})
	_, first := login(t, s, "openid offline_access")
	if first.RefreshToken == "" || first.IDToken == "" {
		t.Fatalf("login: want refresh and id tokens, got %+v", first)
	}
	if first.ExpiresIn != 3 {
		t.Errorf("expires_in = %d, want exactly the configured 3", first.ExpiresIn)
	}
	second := refresh(t, s, first.RefreshToken)
	if second.status != 200 || second.RefreshToken == "" || second.RefreshToken == first.RefreshToken {
		t.Fatalf("refresh: want a new rotated refresh token, got status %d %+v", second.status, second)
	}
	e := last(s, "idp.token")
	if e.Fields["presented_refresh_token"] != fingerprint(first.RefreshToken) || e.Fields["refresh_token"] != fingerprint(second.RefreshToken) {
		t.Errorf("timeline does not link the presented and issued refresh tokens: %v", e)
	}
	replay := refresh(t, s, first.RefreshToken)
	if replay.status != 400 || replay.Error != "invalid_grant" {
		t.Errorf("replay of a rotated refresh token: got %d %q, want 400 invalid_grant", replay.status, replay.Error)
	}
	// Reuse detection revokes the chain: the newest token dies with the old one.
	if after := refresh(t, s, second.RefreshToken); after.Error != "invalid_grant" {
		t.Errorf("after reuse the newest refresh token still works: %+v", after)
	}
}

func TestRefreshedIDTokenHasFreshExpiry(t *testing.T) {
	s, clock := startOnClock(t, Client{IDTokenLifetime: 2 * time.Second})
	_, first := login(t, s, "openid offline_access")
	c1, _ := jwtClaims(first.IDToken)
	clock.advance(time.Second) // the exp claim has a resolution of one second
	second := refresh(t, s, first.RefreshToken)
	c2, err := jwtClaims(second.IDToken)
	if err != nil {
		t.Fatalf("refresh returned no id_token: %+v", second)
	}
	if c2.Exp != c1.Exp+1 || c2.Sub != c1.Sub || c2.Iss != c1.Iss || c2.Iss != s.URL {
		t.Errorf("refreshed id_token: exp %d (was %d), sub %q/%q, iss %q/%q", c2.Exp, c1.Exp, c2.Sub, c1.Sub, c2.Iss, c1.Iss)
	}
}

func TestRefreshTokenPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy RefreshPolicy
		scope  string
		wantRT bool
	}{
		{Strict, "openid offline_access", true},
		{Strict, "openid", false},
		{Always, "openid", true},
		{Never, "openid offline_access", false},
	} {
		t.Run(fmt.Sprintf("%s/%s", tc.policy, tc.scope), func(t *testing.T) {
			s := startIdP(t, Client{RefreshTokens: tc.policy})
			_, tr := login(t, s, tc.scope)
			if (tr.RefreshToken != "") != tc.wantRT {
				t.Fatalf("refresh token issued = %v, want %v", tr.RefreshToken != "", tc.wantRT)
			}
			if tc.wantRT {
				if r := refresh(t, s, tr.RefreshToken); r.status != 200 {
					t.Errorf("refresh with the issued token: %d %q", r.status, r.Error)
				}
			}
		})
	}
}

func TestRefreshWithoutTokenIsRejected(t *testing.T) {
	s := startIdP(t, Client{})
	login(t, s, "openid")
	r := refresh(t, s, "null") // what a client without a refresh token sends
	if r.status != 400 || r.Error != "invalid_grant" {
		t.Fatalf("got %d %q, want 400 invalid_grant", r.status, r.Error)
	}
	if got := last(s, "idp.token").Fields["presented_refresh_token"]; got != "unknown:null" {
		t.Errorf("timeline shows presented_refresh_token %q, want unknown:null", got)
	}
}

func TestPromptNone(t *testing.T) {
	s := startIdP(t, Client{})
	hc := browserish(t)
	p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}})
	if p.Get("error") != "login_required" {
		t.Fatalf("prompt=none without a session: %v, want error=login_required", p)
	}
	p, resp := authorize(t, hc, s, nil) // interactive: logs the test user in
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			cookie = c
		}
	}
	if cookie == nil || cookie.SameSite != http.SameSiteNoneMode || !cookie.Secure || !cookie.HttpOnly {
		t.Fatalf("session cookie = %+v, want SameSite=None; Secure; HttpOnly", cookie)
	}
	if p.Get("code") == "" {
		t.Fatalf("interactive authorize: %v", p)
	}
	p, _ = authorize(t, hc, s, url.Values{"prompt": {"none"}})
	if p.Get("code") == "" {
		t.Fatalf("prompt=none with a session: %v, want a code", p)
	}
	s.EndSessions()
	p, _ = authorize(t, hc, s, url.Values{"prompt": {"none"}})
	if p.Get("error") != "login_required" {
		t.Fatalf("prompt=none after the session ended: %v", p)
	}
}

func TestImplicitFlowFragment(t *testing.T) {
	s := startIdP(t, Client{AccessTokenLifetime: 7 * time.Second})
	hc := browserish(t)
	p, _ := authorize(t, hc, s, url.Values{
		"response_type": {"id_token token"}, "code_challenge": nil, "code_challenge_method": nil,
	})
	if p.Get("access_token") == "" || p.Get("id_token") == "" || p.Get("expires_in") != "7" {
		t.Fatalf("implicit response: %v", p)
	}
	e := last(s, "idp.authorize")
	if e.Fields["access_token"] != fingerprint(p.Get("access_token")) || e.Fields["outcome"] != "ok" {
		t.Errorf("timeline entry: %v", e)
	}
}

func TestPKCERequiredForPublicClients(t *testing.T) {
	s := startIdP(t, Client{})
	p, _ := authorize(t, browserish(t), s, url.Values{"code_challenge": nil, "code_challenge_method": nil})
	if p.Get("error") == "" {
		t.Fatalf("code flow without PKCE for a public client: %v, want an error", p)
	}
}

func TestFaults(t *testing.T) {
	s := startIdP(t, Client{},
		vocab.Fault{On: "authorize", When: map[string]string{"prompt": "none"}, Do: "page-without-redirect"},
		vocab.Fault{On: "token", When: map[string]string{"grant_type": "refresh_token"}, Do: "server-error", Times: 1},
	)
	hc, tr := login(t, s, "openid offline_access")
	p, resp := authorize(t, hc, s, url.Values{"prompt": {"none"}})
	if p != nil || resp.StatusCode != 200 {
		t.Fatalf("page-without-redirect: status %d, params %v", resp.StatusCode, p)
	}
	if e := last(s, "idp.authorize"); e.Fields["fault"] != "page-without-redirect" {
		t.Errorf("fault not in the timeline: %v", e)
	}
	if r := refresh(t, s, tr.RefreshToken); r.status != 500 || r.Error != "server_error" {
		t.Errorf("first refresh: %d %q, want the injected 500", r.status, r.Error)
	}
	if r := refresh(t, s, tr.RefreshToken); r.status != 200 {
		t.Errorf("second refresh after a one-time fault: %d %q", r.status, r.Error)
	}
}

func TestDenyFramingTurnsRedirectIntoPage(t *testing.T) {
	s := startIdP(t, Client{}, vocab.Fault{On: "authorize", Do: "deny-framing"})
	p, resp := authorize(t, browserish(t), s, nil)
	if p != nil || resp.StatusCode != 200 {
		t.Fatalf("want a 200 page, got %d %v", resp.StatusCode, p)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("anti-framing headers missing: %v", resp.Header)
	}
}

func TestConcurrentRefreshOneWins(t *testing.T) {
	s := startIdP(t, Client{})
	_, first := login(t, s, "openid offline_access")
	const n = 8
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = refresh(t, s, first.RefreshToken).status
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == 200 {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent refreshes with one token succeeded, want exactly 1 (%v)", ok, n, codes)
	}
	replays := map[string]int{}
	for _, e := range s.Timeline.Entries() {
		if e.What == "idp.token" && e.Fields["grant_type"] == "refresh_token" {
			replays[e.Fields["replay"]]++
		}
	}
	if replays["no"] != 1 || replays["yes"] != n-1 {
		t.Errorf("replay fields %v, want the winner no and the %d others yes", replays, n-1)
		for _, e := range s.Timeline.Entries() {
			t.Log(e)
		}
	}
}

// A slow endpoint answers normally after its delay, and a server closing
// does not wait for it.
func TestSlowFault(t *testing.T) {
	const delay = 300 * time.Millisecond
	s := startIdP(t, Client{}, vocab.Fault{On: "token", When: map[string]string{"grant_type": "refresh_token"}, Do: "slow", Delay: delay, Times: 1})
	_, first := login(t, s, "openid offline_access")
	start := time.Now()
	r := refresh(t, s, first.RefreshToken)
	if took := time.Since(start); r.status != 200 || took < delay {
		t.Fatalf("slow refresh: status %d after %s, want 200 after at least %s", r.status, took, delay)
	}
	if e := last(s, "idp.fault"); e.Fields["do"] != "slow" || e.Fields["delay_ms"] != "300" {
		t.Errorf("fault entry %v", e)
	}

	hung := startIdP(t, Client{}, vocab.Fault{On: "token", When: map[string]string{"grant_type": "refresh_token"}, Do: "slow", Delay: time.Minute})
	_, tr := login(t, hung, "openid offline_access")
	done := make(chan error, 1)
	go func() {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tr.RefreshToken}, "client_id": {"spa"}}
		resp, err := http.PostForm(hung.URL+"/token", form)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	if _, err := hung.Timeline.WaitFor(t.Context(), func(es []timeline.Entry) (timeline.Entry, bool) {
		for _, e := range es {
			if e.What == "idp.fault" {
				return e, true
			}
		}
		return timeline.Entry{}, false
	}); err != nil {
		t.Fatal(err)
	}
	hung.Close()
	if err := <-done; err == nil {
		t.Errorf("a request held by a slow fault got an answer after Close")
	}
	if e := last(hung, "idp.token"); e.Fields["outcome"] == "ok" {
		t.Errorf("the abandoned request was recorded as %v", e)
	}
}

func TestCORSPreflight(t *testing.T) {
	s := startIdP(t, Client{})
	for origin, want := range map[string]string{appOrigin: appOrigin, "http://evil.test": ""} {
		req, _ := http.NewRequest(http.MethodOptions, s.URL+"/token", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("preflight from %s: allow-origin %q, want %q", origin, got, want)
		}
	}
}

// A hold fault answers a request only once Release lets it go, and then
// normally; Release counts what it let go, and a request held after a
// Release waits for the next one.
func TestHoldFault(t *testing.T) {
	s := startIdP(t, Client{}, vocab.Fault{On: "token", When: map[string]string{"grant_type": "refresh_token"}, Do: "hold"})
	_, tr := login(t, s, "openid offline_access")
	if n := s.Release(); n != 0 {
		t.Fatalf("Release with nothing held let go of %d requests", n)
	}
	answered := make(chan tokenResponse, 1)
	go func() { answered <- refresh(t, s, tr.RefreshToken) }()
	faulted := func(n int) {
		t.Helper()
		if _, err := s.Timeline.WaitFor(t.Context(), func(es []timeline.Entry) (timeline.Entry, bool) {
			var seen []timeline.Entry
			for _, e := range es {
				if e.What == "idp.fault" {
					seen = append(seen, e)
				}
			}
			if len(seen) >= n {
				return seen[n-1], true
			}
			return timeline.Entry{}, false
		}); err != nil {
			t.Fatal(err)
		}
	}
	faulted(1)
	// That Release finds it held is the proof; an answer already here is a
	// failure too.
	select {
	case r := <-answered:
		t.Fatalf("a held request was answered before Release: %d", r.status)
	default:
	}
	if n := s.Release(); n != 1 {
		t.Fatalf("Release let go of %d requests, want 1", n)
	}
	r := <-answered
	if r.status != 200 || r.RefreshToken == "" {
		t.Fatalf("released refresh: status %d, want 200 with a refresh token", r.status)
	}
	if e := last(s, "idp.token"); e.Fields["fault"] != "hold" || e.Fields["outcome"] != "ok" {
		t.Errorf("the released request was recorded as %v", e)
	}

	go func() { answered <- refresh(t, s, r.RefreshToken) }()
	faulted(2)
	if n := s.Release(); n != 1 {
		t.Fatalf("the second Release let go of %d requests, want 1 (the one held after the first)", n)
	}
	if r := <-answered; r.status != 200 {
		t.Fatalf("second released refresh: status %d", r.status)
	}
}
