package browser

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// A 404 from a path the IdP does not serve and a CORS refusal (a header the
// preflight does not allow, as auth0-spa-js sends Auth0-Client) are in the
// timeline with their reasons, and Problem quotes each in one line. The
// preflight is recorded after the page's request, from its frame and at its
// time, where the clock self-check can tell it by its type.
func TestNetworkProblems(t *testing.T) {
	var app string
	idp := serve(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", app)
		switch {
		case r.Method == http.MethodOptions:
			w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
			w.Header().Set("Access-Control-Allow-Methods", "POST")
		case r.URL.Path == "/oauth/token":
			fmt.Fprint(w, `{}`)
		default:
			http.NotFound(w, r)
		}
	}))
	app = serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><script>
			refreshsuite.register({
				missing: () => fetch(%[1]q + '/token', {method: 'POST', body: 'grant_type=refresh_token'}).then((r) => r.status),
				cors: () => fetch(%[1]q + '/oauth/token', {method: 'POST', headers: {'Auth0-Client': 'eyJuYW1lIjoiYSJ9', 'Content-Type': 'application/json'}, body: '{}'})
					.then(() => 'answered', (e) => String(e)),
				fail: () => { setTimeout(() => { throw new TypeError('the discovery document has no issuer'); }, 0); return 'thrown'; },
			});
			refreshsuite.ready({loggedIn: false});
		</script>`, idp)
	}))
	s, tl, clock := openVirtual(t, app+"/")
	ctx := context.Background()
	ready := func() bool { _, ok := scenarioEntry(tl, "client.ready"); return ok }
	if err := clock.Until(ctx, ready, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// call runs a driver function on the virtual clock and returns the problem
	// quoted from what it recorded.
	call := func(fn string) string {
		from := len(tl.Entries())
		if _, _, err := callOnClock(t, s, clock, fn); err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		// Let the page report what followed (an exception thrown from a timer).
		if err := clock.Until(ctx, func() bool { return false }, 200*time.Millisecond); err != timeline.ErrScenarioTimeout {
			t.Fatal(err)
		}
		return Problem(tl.Entries()[from:])
	}

	if got, want := call("missing"), "POST "+idp+"/token: 404"; got != want {
		t.Errorf("Problem after a 404 = %q, want %q", got, want)
	}
	if _, ok := entry(tl, "browser.response", timeline.Fields{"method": "POST", "url": idp + "/token", "status": "404", "frame": "top"}); !ok {
		t.Errorf("no browser.response for the 404")
	}

	want := "CORS: request header Auth0-Client is not allowed by the preflight (" + idp + "/oauth/token)"
	if got := call("cors"); got != want {
		t.Errorf("Problem after a CORS refusal = %q, want %q", got, want)
	}
	failed, ok := entry(tl, "browser.request-failed", timeline.Fields{"url": idp + "/oauth/token", "method": "POST"})
	if !ok || failed.Fields["cors"] != "request header Auth0-Client is not allowed by the preflight" || failed.Fields["error"] != "net::ERR_FAILED" {
		t.Errorf("request-failed = %v, want the CORS reason and the net error", failed)
	}
	post, _ := entry(tl, "browser.request", timeline.Fields{"url": idp + "/oauth/token", "method": "POST"})
	pre, ok := entry(tl, "browser.request", timeline.Fields{"url": idp + "/oauth/token", "method": "OPTIONS"})
	if !ok || pre.Fields["type"] != "Preflight" || pre.Fields["frame"] != "top" || pre.At != post.At || pre.Seq < post.Seq {
		t.Errorf("preflight %v, its request %v: want type Preflight, the request's frame and time, recorded after it", pre, post)
	}
	if _, ok := entry(tl, "browser.response", timeline.Fields{"url": idp + "/oauth/token", "type": "Preflight", "status": "200"}); !ok {
		t.Errorf("no browser.response for the preflight")
	}

	if got := call("fail"); !strings.HasPrefix(got, "uncaught TypeError: the discovery document has no issuer") {
		t.Errorf("Problem after an uncaught exception = %q", got)
	}
	checkTimeline(t, tl)
}

// Problem prefers a request's failure or an exception to a console error
// that came before it, and says nothing of a cancelled request or a favicon.
func TestProblemOrder(t *testing.T) {
	e := func(what string, f timeline.Fields) timeline.Entry { return timeline.Entry{What: what, Fields: f} }
	entries := []timeline.Entry{
		e("browser.response", timeline.Fields{"method": "GET", "url": "http://app/favicon.ico", "status": "404"}),
		e("browser.request-failed", timeline.Fields{"method": "GET", "url": "http://app/x", "error": "net::ERR_ABORTED", "canceled": "yes"}),
		e("browser.console-error", timeline.Fields{"text": "login failed\n at x", "source": "console"}),
		e("browser.response", timeline.Fields{"method": "GET", "url": "http://idp/.well-known/openid-configuration", "status": "500"}),
	}
	if got := Problem(entries); got != "GET http://idp/.well-known/openid-configuration: 500" {
		t.Errorf("Problem = %q", got)
	}
	if got := Problem(entries[:3]); got != "console error: login failed" {
		t.Errorf("Problem without the 500 = %q", got)
	}
	if got := Problem(entries[:2]); got != "" {
		t.Errorf("Problem of a favicon and a cancelled request = %q, want none", got)
	}
}

// A document that refuses to be framed leaves the browser's error page in the
// frame, which says nothing of why: the error page's browser.navigated
// carries the refused document's framing headers as it sent them, and so does
// its browser.response. A framed document that allows it carries none.
func TestFramingHeadersQuoted(t *testing.T) {
	idp := serve(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/deny" {
			w.Header().Set("X-Frame-Options", "DENY")
			w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'")
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><p>idp</p>`)
	}))
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><iframe src=%q></iframe><iframe src=%q></iframe><script>refreshsuite.ready({loggedIn: false});</script>`, idp+"/deny", idp+"/allow")
	}))
	_, tl := openReady(t, app+"/")
	refused := waitFor(t, tl, "browser.navigated", func(f timeline.Fields) bool {
		return f["frame"] == "child" && strings.HasPrefix(f["url"], "chrome-error:")
	})
	if refused.Fields["x_frame_options"] != "DENY" || refused.Fields["csp_frame_ancestors"] != "frame-ancestors 'none'" {
		t.Errorf("the error page's entry does not quote the refusal: %v", refused)
	}
	waitFor(t, tl, "browser.navigated", func(f timeline.Fields) bool { return f["url"] == idp+"/allow" })
	for _, e := range tl.Entries() {
		if e.What != "browser.response" || !strings.HasPrefix(e.Fields["url"], idp) {
			continue
		}
		_, quoted := e.Fields["x_frame_options"]
		if want := e.Fields["url"] == idp+"/deny"; quoted != want || want && e.Fields["csp_frame_ancestors"] != "frame-ancestors 'none'" {
			t.Errorf("browser.response %v: framing headers quoted %v, want %v", e, quoted, want)
		}
	}
}
