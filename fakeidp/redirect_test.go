package fakeidp

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// A public client's redirect URI must match a registered one exactly: no
// loopback port wildcard (RFC 8252 allows one for native apps, not for SPAs),
// no extra path, query or trailing slash. An unmatched URI is never redirected
// to; the user sees an error page.
func TestRedirectURIExactMatch(t *testing.T) {
	loopback := "http://127.0.0.1:4200/index.html"
	s, err := Start(Config{Clients: []Client{{ID: "spa", RedirectURIs: []string{redirect, loopback}, Origins: []string{appOrigin}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	for _, good := range []string{redirect, loopback} {
		if p, _ := authorize(t, browserish(t), s, url.Values{"redirect_uri": {good}}); p.Get("code") == "" {
			t.Errorf("registered redirect URI %s: %v, want a code", good, p)
		}
	}
	for _, bad := range []string{
		"http://127.0.0.1:4300/index.html",
		"http://localhost:4300/index.html",
		redirect + "/",
		redirect + "?x=1",
		appOrigin + "/Index.html",
		"http://localhost:4200/index.html#frag",
		"https://localhost:4200/index.html",
		"",
	} {
		p, resp := authorize(t, browserish(t), s, url.Values{"redirect_uri": {bad}})
		if p != nil || resp.StatusCode < 400 {
			t.Errorf("unregistered redirect URI %q: status %d, redirected with %v; want an error page", bad, resp.StatusCode, p)
		}
	}
}

// The provider listens on loopback unless told otherwise, and its log (the
// timeline, which `refreshsuite idp` prints and reports embed) carries
// fingerprints, never a token, a code or a verifier in full.
func TestLoopbackAndNoSecretsInTheLog(t *testing.T) {
	s := startIdP(t, Client{})
	if host, _, _ := strings.Cut(s.Addr(), ":"); host != "127.0.0.1" {
		t.Errorf("default listen address %s, want loopback", s.Addr())
	}
	hc, tr := login(t, s, "openid offline_access")
	p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}})
	rt := refresh(t, s, tr.RefreshToken)
	secrets := []string{tr.AccessToken, tr.RefreshToken, tr.IDToken, p.Get("code"), rt.AccessToken, rt.RefreshToken, verifier}
	for _, e := range s.Timeline.Entries() {
		b, _ := json.Marshal(e)
		for _, sec := range secrets {
			if sec == "" {
				t.Fatalf("the flow returned an empty token: %+v %+v %v", tr, rt, p)
			}
			if strings.Contains(string(b), sec) || strings.Contains(e.String(), sec) {
				t.Errorf("timeline entry %s carries a secret in full", e.What)
			}
		}
	}
}
