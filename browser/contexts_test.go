package browser

import (
	"net/url"
	"slices"
	"testing"
)

func TestSite(t *testing.T) {
	for raw, want := range map[string]string{
		"http://localhost:4200/x":        "http://localhost",
		"http://127.0.0.1:9400":          "http://127.0.0.1",
		"http://[::1]:8080":              "http://[::1]",
		"https://login.example.co.uk:44": "https://example.co.uk",
		"https://me.github.io/app":       "https://me.github.io", // a private registry counts, as in Chromium
	} {
		u, _ := url.Parse(raw)
		if got := Site(u); got != want {
			t.Errorf("Site(%s) = %s, want %s", raw, got, want)
		}
	}
}

// Every origin is cleared as a first party and under every other top-level
// site, never under its own site (Chromium would store nothing there).
func TestStorageKeys(t *testing.T) {
	var tc touched
	tc.add("http://localhost:4200/index.html", true)
	tc.add("http://127.0.0.1:9400/authorize?x=1", false)
	tc.add("about:blank", true)
	tc.add("data:text/html,x", false)
	want := []string{
		"http://127.0.0.1:9400/", "http://127.0.0.1:9400/^0http://localhost", "http://127.0.0.1:9400/^31",
		"http://localhost:4200/", "http://localhost:4200/^31",
	}
	if got := tc.storageKeys(); !slices.Equal(got, want) {
		t.Errorf("storage keys %q, want %q", got, want)
	}
}
