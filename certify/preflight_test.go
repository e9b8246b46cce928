package certify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/target"
)

// With --dpop every token request of the SPA carries a DPoP header, so the
// pre-flight asks for it and refuses a token endpoint whose CORS does not
// let it through; without --dpop the same endpoint is fine.
func TestPreflightCORSWithDPoP(t *testing.T) {
	const origin = "http://localhost:8471"
	for _, tc := range []struct {
		allowHeaders string
		dpop         bool
		want         string // "" for no problem
	}{
		{"content-type", false, ""},
		{"content-type", true, "does not allow the DPoP request header"},
		{"Content-Type, DPoP", true, ""},
		{"*", true, ""},
		{"", true, "does not allow the DPoP request header"},
	} {
		var asked string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			asked = r.Header.Get("Access-Control-Request-Headers")
			w.Header().Set("Access-Control-Allow-Origin", origin)
			if tc.allowHeaders != "" {
				w.Header().Set("Access-Control-Allow-Headers", tc.allowHeaders)
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		p := &preflight{cfg: &Config{ClientID: "spa", DPoP: tc.dpop}, http: srv.Client(), origin: origin, disc: &target.Discovery{TokenEndpoint: srv.URL + "/token"}}
		got := p.cors(context.Background())
		srv.Close()
		if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("Allow-Headers %q, --dpop %v: got %q, want %q", tc.allowHeaders, tc.dpop, got, tc.want)
		}
		if gotDPoP := strings.Contains(asked, "dpop"); gotDPoP != tc.dpop {
			t.Errorf("--dpop %v: the preflight asked for %q", tc.dpop, asked)
		}
	}
}
