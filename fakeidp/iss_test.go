package fakeidp

import (
	"net/url"
	"testing"
)

// RFC 9207: a provider that advertises authorization_response_iss_parameter_supported
// puts its issuer in every authorization response, a code or an error, in the
// query or in the fragment; one that omits it advertises nothing.
func TestIssParameter(t *testing.T) {
	for _, omit := range []bool{false, true} {
		s := startWith(t, Config{OmitIss: omit}, Client{})
		want := s.URL
		if omit {
			want = ""
		}
		if got, _ := discoveryOf(t, s)["authorization_response_iss_parameter_supported"].(bool); got == omit {
			t.Errorf("OmitIss %v: discovery advertises iss: %v", omit, got)
		}
		hc := browserFor(t, s)
		for _, tc := range []struct {
			name  string
			extra url.Values
			param string // the response's own parameter, beside iss
		}{
			{"prompt=none without a session (query)", url.Values{"prompt": {"none"}}, "error"},
			{"prompt=none without a session (fragment)", url.Values{"prompt": {"none"}, "response_mode": {"fragment"}}, "error"},
			{"the login (query)", nil, "code"},
			{"implicit (fragment)", url.Values{"response_type": {"id_token token"}}, "access_token"},
			{"an error after the login (fragment)", url.Values{"prompt": {"none"}, "response_mode": {"fragment"}, "max_age": {"0"}}, "error"},
		} {
			p, resp := authorize(t, hc, s, tc.extra)
			if p == nil {
				t.Fatalf("OmitIss %v, %s: no redirect (%d)", omit, tc.name, resp.StatusCode)
			}
			if p.Get(tc.param) == "" || p.Get("iss") != want || len(p["iss"]) > 1 {
				t.Errorf("OmitIss %v, %s: %v, want %s and iss %q", omit, tc.name, p, tc.param, want)
			}
		}
	}
}
