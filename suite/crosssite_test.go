package suite

import "testing"

// Whether the IdP's iframe is a third-party context: the site is the scheme
// and registrable domain, the port does not count.
func TestCrossSite(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"http://localhost:8080", "http://127.0.0.1:9400", true},
		{"http://localhost:8080", "http://localhost:9400/", false},
		{"https://app.example.com", "https://login.example.com", false},
		{"http://localhost:8080", "https://login.example.com", true},
	} {
		if got := crossSite(tc.a, tc.b); got != tc.want {
			t.Errorf("crossSite(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}
