package fakeidp

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// FuzzEndpoints: any /authorize query and any /token form is answered with an
// OAuth error or a result, never a panic or a 5xx (no fault is configured).
func FuzzEndpoints(f *testing.F) {
	s, err := Start(Config{Clients: []Client{{
		ID: "spa", RedirectURIs: []string{redirect}, Origins: []string{appOrigin},
	}}}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	h := s.Handler()
	for _, q := range []string{
		"client_id=spa&redirect_uri=" + url.QueryEscape(redirect) + "&response_type=code&scope=openid&state=abcdefgh&code_challenge=" + challenge() + "&code_challenge_method=S256",
		"client_id=spa&response_type=id_token%20token&nonce=abcdefgh&state=abcdefgh&prompt=none&redirect_uri=" + url.QueryEscape(redirect),
		"client_id=nobody&response_type=code", "response_mode=fragment&prompt=login%20none", "",
	} {
		f.Add(true, q)
	}
	for _, form := range []string{
		"grant_type=refresh_token&refresh_token=null&client_id=spa",
		"grant_type=authorization_code&code=x&client_id=spa&code_verifier=" + verifier,
		"grant_type=password&username=a&password=b", "client_id=spa", "",
	} {
		f.Add(false, form)
	}
	f.Fuzz(func(t *testing.T, authorize bool, params string) {
		var req *http.Request
		if authorize {
			req = httptest.NewRequest(http.MethodGet, "/authorize", nil)
			req.URL.RawQuery = params // as sent, however malformed
		} else {
			req = httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(params))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d: %s", req.Method, params, rec.Code, rec.Body.String())
		}
	})
}
