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
	closeAndValidate(t, s)
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
// fingerprints, never a token, a code, a verifier or a hint, nor any 16
// characters of one, in either token format and on every path a token can
// come in by: a refresh, a replay, a hint, a logout, a wrong path, a token the
// provider never issued.
func TestLoopbackAndNoSecretsInTheLog(t *testing.T) {
	for _, format := range []TokenFormat{Opaque, JWT} {
		s := startWith(t, Config{}, Client{AccessTokenFormat: format, RefreshTokenFormat: format, ResponseModes: ResponseModes})
		if host, _, _ := strings.Cut(s.Addr(), ":"); host != "127.0.0.1" {
			t.Errorf("default listen address %s, want loopback", s.Addr())
		}
		hc, tr := login(t, s, "openid offline_access")
		p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}, "id_token_hint": {tr.IDToken}})
		msgs, _, _ := messagePage(t, s, url.Values{"response_mode": {"web_message"}, "prompt": {"none"}})
		rt := refresh(t, s, tr.RefreshToken)
		refresh(t, s, tr.RefreshToken) // a replay
		foreign := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzb21lb25lLWVsc2UifQ.c2lnbmF0dXJlLW9mLWFub3RoZXItaWRw"
		refresh(t, s, foreign)
		userinfoStatus(t, s, rt.AccessToken)
		resp, err := s.HTTPClient().Get(s.Origin() + "/token/" + rt.AccessToken + "?code=" + p.Get("code"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		endSession(t, s, hc, EndpointEndSession, url.Values{"id_token_hint": {rt.IDToken}, "post_logout_redirect_uri": {redirect}})
		webCode, _ := msgs[0]["response"].(map[string]any)["code"].(string)
		secrets := []string{tr.AccessToken, tr.RefreshToken, tr.IDToken, p.Get("code"), webCode, rt.AccessToken, rt.RefreshToken, rt.IDToken, verifier, foreign}
		var log strings.Builder
		for _, e := range s.Timeline.Entries() {
			b, _ := json.Marshal(e)
			log.Write(b)
			log.WriteString(e.String())
		}
		for _, sec := range secrets {
			if len(sec) < 16 {
				t.Fatalf("%s: the flow returned an empty or short secret %q", format, sec)
			}
			for i := 0; i+16 <= len(sec); i++ {
				if strings.Contains(log.String(), sec[i:i+16]) {
					t.Errorf("%s: the log carries %q, part of a secret", format, sec[i:i+16])
					break
				}
			}
		}
	}
}
