package suite

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// endpoints is the discovery layout's URLs at issuer.
func endpoints(issuer string) func(fakeidp.Endpoint) string {
	return func(e fakeidp.Endpoint) string {
		return map[fakeidp.Endpoint]string{fakeidp.EndpointToken: issuer + "/token", fakeidp.EndpointJWKS: issuer + "/jwks"}[e]
	}
}

// fixedClock stands still: the tests stamp every entry themselves.
type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time        { return c.t }
func (c fixedClock) NowInOrder() time.Time { return c.t }
func (c fixedClock) LastKnown() time.Time  { return c.t }
func (fixedClock) Lapses() int             { return 0 }
func (fixedClock) Mode() string            { return "virtual" }

// Until lets no time pass: what done waits for holds now or never.
func (fixedClock) Until(_ context.Context, done func() bool, _ time.Duration) error {
	if done() {
		return nil
	}
	return timeline.ErrScenarioTimeout
}

// Two requests to one URL sent 40 ms apart, each served 45 ms after it was
// sent. In order the skew is 45 ms, inside the limit. Pairing each IdP entry
// with the nearest unused page request instead pairs the first IdP entry (45)
// with the second request (40) and the second (85) with the first (0): a skew
// of 85 ms that never was, and a failed run.
func TestCheckClocksPairsInOrder(t *testing.T) {
	const issuer = "http://127.0.0.1:1"
	tl := timeline.New(fixedClock{time.Unix(1000, 0)})
	at := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	tl.AddAt(at(0), "browser.request", timeline.Fields{"url": issuer + "/token", "type": "Fetch"})
	tl.AddAt(at(40), "browser.request", timeline.Fields{"url": issuer + "/token", "type": "Fetch"})
	tl.AddAt(at(44), "browser.request", timeline.Fields{"url": issuer + "/token", "type": "Preflight"})
	// The second request finished first: entries are recorded at the end of
	// handling, stamped with the arrival instant.
	tl.AddAt(at(85), "idp.token", timeline.Fields{})
	tl.AddAt(at(45), "idp.token", timeline.Fields{})
	tl.AddAt(at(300), "idp.token", timeline.Fields{"actor": "harness"})
	if err := checkClocks(tl, endpoints(issuer), true, 0); err != nil {
		t.Fatal(err)
	}
	last := tl.Entries()[len(tl.Entries())-1]
	if last.What != "harness.clock-check" || last.Fields["idp_requests"] != "2" || last.Fields["worst_skew_ms"] != "45.0" {
		t.Fatalf("want 2 requests paired with a worst skew of 45.0ms, got %v", last)
	}

	// The same skew beyond the limit fails a virtual run, and only a virtual one.
	tl.AddAt(at(400), "browser.request", timeline.Fields{"url": issuer + "/jwks", "type": "Fetch"})
	tl.AddAt(at(480), "idp.jwks", timeline.Fields{})
	if err := checkClocks(tl, endpoints(issuer), true, 0); err == nil || !strings.Contains(err.Error(), "80.0ms") {
		t.Fatalf("want a skew of 80.0ms reported, got %v", err)
	}
	if err := checkClocks(tl, endpoints(issuer), false, 0); err != nil {
		t.Fatalf("the real clock records the skew, it does not judge it: %v", err)
	}
}

// A lapse of the ordering guarantee fails a virtual run, whatever the skew.
func TestCheckClocksFailsOnLapses(t *testing.T) {
	tl := timeline.New(fixedClock{time.Unix(1000, 0)})
	err := checkClocks(tl, endpoints("http://127.0.0.1:1"), true, 2)
	if err == nil || !strings.Contains(err.Error(), "2 times") {
		t.Fatalf("want the lapses reported, got %v", err)
	}
}

// A request the page sent while the harness held the network down never
// reached the IdP: paired in order, it would be matched with the next
// request the IdP served and show a skew of seconds.
func TestCheckClocksLeavesOutOfflineRequests(t *testing.T) {
	const issuer = "http://127.0.0.1:1"
	tl := timeline.New(fixedClock{time.Unix(1000, 0)})
	at := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	tl.AddAt(at(0), "harness.network", timeline.Fields{"state": "offline"})
	tl.AddAt(at(10), "browser.request", timeline.Fields{"url": issuer + "/token", "type": "Fetch"})
	tl.AddAt(at(5000), "harness.network", timeline.Fields{"state": "online"})
	tl.AddAt(at(5010), "browser.request", timeline.Fields{"url": issuer + "/token", "type": "Fetch"})
	tl.AddAt(at(5010), "idp.token", timeline.Fields{})
	if err := checkClocks(tl, endpoints(issuer), true, 0); err != nil {
		t.Fatal(err)
	}
}

// The app is served as a plain static host serves it: /index.html is the
// page itself (the registered redirect URI), never a redirect to /.
func TestStaticFilesServeIndexAsItself(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>app</p>"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(staticFiles(dir))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for path, want := range map[string]int{"/index.html": 200, "/": 200, "/missing.html": 404, "/../index.html": 200} {
		resp, err := client.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}

// A top-level navigation's request is stamped by the IdP with the page's
// last report, which may be the one before the navigation: its skew is held
// to a looser bound than a request the page could be asked about.
func TestCheckClocksNavigations(t *testing.T) {
	const issuer = "http://127.0.0.1:1"
	at := func(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
	for _, tc := range []struct {
		skew int
		fail bool
	}{{60, false}, {400, true}} {
		tl := timeline.New(fixedClock{time.Unix(1000, 0)})
		tl.AddAt(at(1000), "browser.request", timeline.Fields{"url": issuer + "/authorize", "type": "Document"})
		tl.AddAt(at(1000-tc.skew), "idp.authorize", timeline.Fields{"dest": "document"})
		err := checkClocks(tl, func(fakeidp.Endpoint) string { return issuer + "/authorize" }, true, 0)
		if (err != nil) != tc.fail {
			t.Errorf("a navigation %d ms off: %v, want failure %v", tc.skew, err, tc.fail)
		}
	}
}
