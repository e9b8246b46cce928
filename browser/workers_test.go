package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// workerIdP answers POST /oauth/token from the app's origin as auth0-spa-js's
// IdP must: with a preflight that allows its Auth0-Client header. It counts
// the token requests that reach it (preflights apart).
func workerIdP(t *testing.T, app *string, hits *atomic.Int32) string {
	t.Helper()
	return serve(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", *app)
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Headers", "Auth0-Client, Content-Type")
			w.Header().Set("Access-Control-Allow-Methods", "POST")
			return
		}
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"from-the-worker"}`)
	}))
}

// workerApp is a page whose start() makes a dedicated worker from a blob URL,
// as auth0-spa-js does, that fetches the token endpoint at once and again on
// every ask(); each fetch's outcome reaches the page as the worker's message,
// with the worker's clock before the fetch and after its outcome. The page
// keeps the outcomes in window.outcomes, the same with or without the suite.
func workerApp(idp string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><script>
			const src = 'const go = () => { const sent = Date.now(); ' +
				'fetch(%[1]q + "/oauth/token?state=worker-state-0123", {method: "POST", headers: {"Auth0-Client": "eyJuYW1lIjoiYSJ9", "Content-Type": "application/json"}, body: "{}"})' +
				'.then((r) => r.text().then((t) => "ok " + r.status + " " + t), (e) => "error " + e)' +
				'.then((outcome) => postMessage({outcome, sent, done: Date.now()})); };' +
				'onmessage = go; go();';
			const url = URL.createObjectURL(new Blob([src], {type: 'text/javascript'}));
			const workers = [];
			window.outcomes = [];
			const next = (w) => new Promise((resolve) => {
				w.onmessage = (e) => { outcomes.push(e.data.outcome); resolve(e.data); };
			});
			const start = () => { const w = new Worker(url); workers.push(w); return next(w); };
			const ask = (n) => { const w = workers[n - 1], p = next(w); w.postMessage('again'); return p; };
			if (window.refreshsuite) {
				refreshsuite.register({start, ask, url: async () => url});
				refreshsuite.ready({loggedIn: false});
			} else {
				window.start = start;
			}
		</script>`, idp)
	})
}

type workerOutcome struct {
	Outcome string `json:"outcome"`
	// The worker's Date.now() before the fetch and after its outcome.
	Sent float64 `json:"sent"`
	Done float64 `json:"done"`
}

// A dedicated worker's token request, its CORS preflight and its response are
// in the timeline, from the worker that sent them, stamped with the page's
// virtual clock (which the worker reads) between the worker's own readings
// before and after; and the worker's answer reaches the page as it does in a
// page without the suite.
func TestWorkerRequests(t *testing.T) {
	var app string
	var hits atomic.Int32
	idp := workerIdP(t, &app, &hits)
	app = serve(t, "localhost", workerApp(idp))
	s, tl, clock := openVirtual(t, app+"/")
	ctx := context.Background()
	ready := func() bool { _, ok := scenarioEntry(tl, "client.ready"); return ok }
	if err := clock.Until(ctx, ready, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// A worker's pending fetch does not hold the page's virtual time (workers.go):
	// the page's clock may run far while the IdP answers.
	v, _, err := callOnClockFor(t, s, clock, "start", 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got workerOutcome
	if err := json.Unmarshal(v, &got); err != nil {
		t.Fatal(err)
	}
	blobURL, err := s.Call(ctx, "url")
	if err != nil {
		t.Fatal(err)
	}
	worker, _ := strconv.Unquote(string(blobURL))
	token := idp + "/oauth/token"
	req, ok := entry(tl, "browser.request", timeline.Fields{"url": token, "method": "POST"})
	if !ok || req.Fields["frame"] != "worker" || req.Fields["initiator"] != worker || req.Fields["type"] != "Fetch" {
		t.Errorf("the worker's request: %v (found %v), want frame worker, initiator %s, type Fetch", req, ok, worker)
	}
	sent, answered := time.UnixMilli(int64(got.Sent)).Sub(tl.Origin()), time.UnixMilli(int64(got.Done)).Sub(tl.Origin())
	if req.At < sent || req.At > answered {
		t.Errorf("the worker's request is stamped %s, want between the worker's clock before the fetch (%s) and after its outcome (%s)", req.At, sent, answered)
	}
	pre, ok := entry(tl, "browser.request", timeline.Fields{"url": token, "method": "OPTIONS"})
	if !ok || pre.Fields["type"] != "Preflight" || pre.Fields["frame"] != "worker" || pre.Fields["initiator"] != worker || pre.At != req.At || pre.Seq < req.Seq {
		t.Errorf("the worker's preflight: %v (found %v), want type Preflight from the worker, at its request's time, recorded after it", pre, ok)
	}
	if res, ok := entry(tl, "browser.response", timeline.Fields{"url": token, "method": "POST", "frame": "worker", "initiator": worker}); !ok || res.Fields["status"] != "200" {
		t.Errorf("the worker's response: %v (found %v), want 200 from the worker", res, ok)
	}
	if _, ok := entry(tl, "browser.response", timeline.Fields{"url": token, "type": "Preflight", "frame": "worker", "status": "200"}); !ok {
		t.Errorf("no response to the worker's preflight")
	}
	want := `ok 200 {"access_token":"from-the-worker"}`
	if got.Outcome != want || hits.Load() != 1 {
		t.Errorf("the page got %q from its worker after %d token requests, want %q after 1", got.Outcome, hits.Load(), want)
	}
	if bare := barePageOutcomes(t, app+"/"); bare != want {
		t.Errorf("without the suite the page got %q, want %q as with it", bare, want)
	}
	checkTimeline(t, tl)
}

// openReady opens a session on the real clock at url and waits for its app's
// client.ready.
func openReady(t *testing.T, url string) (*Session, *timeline.Timeline) {
	t.Helper()
	s, tl := newSession(t, ThirdPartyAllowed)
	if err := s.Navigate(url); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tl, "client.ready", nil)
	return s, tl
}

// barePageOutcomes loads url in a page of its own context with nothing of the
// suite installed, starts its worker and returns what the worker answered.
func barePageOutcomes(t *testing.T, url string) string {
	t.Helper()
	page := plainPage(t).Timeout(20 * time.Second)
	if err := page.Navigate(url); err != nil {
		t.Fatal(err)
	}
	if err := page.WaitLoad(); err != nil {
		t.Fatal(err)
	}
	res, err := page.Eval(`() => start().then((r) => r.outcome)`)
	if err != nil {
		t.Fatal(err)
	}
	return res.Value.Str()
}

// The network the harness takes away is taken from workers too: from a worker
// that was running before, and from one started while offline. Their fetches
// fail as the page's would (net::ERR_INTERNET_DISCONNECTED, recorded from the
// worker), the IdP never sees them (their preflights it does, as it does a
// page's: SetOffline), and back online the worker started offline reaches it
// again.
func TestWorkerOffline(t *testing.T) {
	var app string
	var hits atomic.Int32
	idp := workerIdP(t, &app, &hits)
	app = serve(t, "localhost", workerApp(idp))
	s, tl := openReady(t, app+"/")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	call := func(fn string, args ...any) string {
		t.Helper()
		v, err := s.Call(ctx, fn, args...)
		if err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		var o workerOutcome
		if err := json.Unmarshal(v, &o); err != nil {
			t.Fatal(err)
		}
		return o.Outcome
	}
	token := idp + "/oauth/token"
	// failure waits for the n-th failure of a token request: the page may hear
	// of it from the worker before CDP's report arrives.
	failure := func(n int) timeline.Entry {
		t.Helper()
		e, err := tl.WaitFor(ctx, func(es []timeline.Entry) (timeline.Entry, bool) {
			for _, e := range es {
				if e.What == "browser.request-failed" && e.Fields["url"] == token && e.Fields["method"] == "POST" {
					if n--; n == 0 {
						return e, true
					}
				}
			}
			return timeline.Entry{}, false
		})
		if err != nil {
			t.Fatalf("no failure %d of a token request: %v", n, err)
		}
		return e
	}
	if got := call("start"); !strings.HasPrefix(got, "ok 200") || hits.Load() != 1 {
		t.Fatalf("online, the worker got %q after %d token requests, want ok 200 after 1", got, hits.Load())
	}

	if err := s.SetOffline(true); err != nil {
		t.Fatal(err)
	}
	offline := []struct{ name, fn string }{{"the worker started online", "ask"}, {"a worker started offline", "start"}}
	for i, o := range offline {
		if got := call(o.fn, 1); got != "error TypeError: Failed to fetch" {
			t.Errorf("offline, %s got %q, want the page's network error", o.name, got)
		}
		if f := failure(i + 1); f.Fields["error"] != "net::ERR_INTERNET_DISCONNECTED" || f.Fields["frame"] != "worker" || !strings.HasPrefix(f.Fields["initiator"], "blob:"+app+"/") {
			t.Errorf("offline, %s: %v, want net::ERR_INTERNET_DISCONNECTED from the worker", o.name, f)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the IdP saw %d token requests, want only the one sent online", n)
	}

	if err := s.SetOffline(false); err != nil {
		t.Fatal(err)
	}
	if got := call("ask", 2); !strings.HasPrefix(got, "ok 200") || hits.Load() != 2 {
		t.Errorf("back online, the worker started offline got %q after %d token requests, want ok 200 after 2", got, hits.Load())
	}
	checkTimeline(t, tl)
}

// What a worker tells its page is seen from the page's side only through a
// BroadcastChannel the top document has open (browser.channel-message); its
// postMessage reaches the page's Worker object, which no window hears, and is
// not recorded. The page gets both messages as it would without the suite.
func TestWorkerMessages(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><script>
			const src = "onmessage = () => { new BroadcastChannel('tokens').postMessage({channel: 'from-the-worker'}); postMessage({direct: 'from-the-worker'}); };";
			const w = new Worker(URL.createObjectURL(new Blob([src], {type: 'text/javascript'})));
			const bc = new BroadcastChannel('tokens');
			const heard = [];
			const talk = () => new Promise((resolve) => {
				const got = (what) => { heard.push(what); if (heard.length === 2) resolve(heard.sort().join(' ')); };
				bc.onmessage = (e) => got('channel:' + e.data.channel);
				w.onmessage = (e) => got('direct:' + e.data.direct);
				w.postMessage('go');
			});
			refreshsuite.register({talk});
			refreshsuite.ready({loggedIn: false});
		</script>`)
	}))
	s, tl := openReady(t, app+"/")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := s.Call(ctx, "talk")
	if want := `"channel:from-the-worker direct:from-the-worker"`; err != nil || string(v) != want {
		t.Fatalf("the page heard %s (%v), want %s", v, err, want)
	}
	msg := waitFor(t, tl, "browser.channel-message", nil)
	if msg.Fields["channel"] != "tokens" || msg.Fields["origin"] != app || msg.Fields["data"] != `{"channel":"from-the-worker"}` {
		t.Errorf("the worker's channel post was recorded as %v", msg)
	}
	for _, e := range tl.Entries() {
		if strings.Contains(e.Fields["data"], `"direct"`) {
			t.Errorf("the worker's postMessage was recorded, as %v: update workers.go, which says it is not", e)
		}
	}
	checkTimeline(t, tl)
}

// A worker that a worker starts is followed too (and held only until it is):
// its request is recorded from it, and its answer reaches the page through
// the worker that started it.
func TestNestedWorker(t *testing.T) {
	var hits atomic.Int32
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/inner" {
			hits.Add(1)
			fmt.Fprint(w, "nested-answer")
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><script>
			const inner = "fetch(self.name + '/inner').then((r) => r.text()).then((t) => postMessage(t), (e) => postMessage(String(e)));";
			const outer = "onmessage = (e) => { const w = new Worker(e.data.inner, {name: e.data.origin}); w.onmessage = (m) => postMessage(m.data); };";
			const blob = (src) => URL.createObjectURL(new Blob([src], {type: 'text/javascript'}));
			const innerURL = blob(inner);
			const nested = () => new Promise((resolve) => {
				const w = new Worker(blob(outer));
				w.onmessage = (e) => resolve(e.data);
				w.postMessage({inner: innerURL, origin: location.origin});
			});
			refreshsuite.register({nested, inner: async () => innerURL});
			refreshsuite.ready({loggedIn: false});
		</script>`)
	}))
	s, tl := openReady(t, app+"/")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := s.Call(ctx, "nested")
	if err != nil || string(v) != `"nested-answer"` || hits.Load() != 1 {
		t.Fatalf("the page got %s (%v) after %d requests, want the nested worker's answer after 1", v, err, hits.Load())
	}
	raw, err := s.Call(ctx, "inner")
	if err != nil {
		t.Fatal(err)
	}
	inner, _ := strconv.Unquote(string(raw))
	req := waitFor(t, tl, "browser.request", func(f timeline.Fields) bool { return f["url"] == app+"/inner" })
	if req.Fields["frame"] != "worker" || req.Fields["initiator"] != inner {
		t.Errorf("the nested worker's request: %v, want frame worker and initiator %s", req, inner)
	}
	checkTimeline(t, tl)
}
