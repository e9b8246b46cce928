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

// A callback page framed by a foreign page hands it the response only when it
// posts to "*": posting to its own origin is refused, posting nothing is
// silent, and a client altered by an injected script (a mutant) is probed as
// altered. The scenario's own context is left alone.
func TestProbeCallback(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/own", "/wrapped":
			fmt.Fprint(w, `<!doctype html><script>(window.opener || window.parent).postMessage(location.hash, location.origin)</script>`)
		case "/star":
			fmt.Fprint(w, `<!doctype html><script>parent.postMessage({source: 'oidc-client', url: location.href}, '*')</script>`)
		case "/none":
			fmt.Fprint(w, `<!doctype html><p>no script</p>`)
		case "/app":
			fmt.Fprint(w, `<!doctype html><script>localStorage.setItem('k', 'kept'); refreshsuite.emit('stored', null)</script>`)
		}
	}))
	// A mutant in the manner of posts-to-any-origin, but one that works under a
	// cross-origin parent too (that one assigns to the parent's postMessage,
	// which only a same-origin parent allows): the callback's
	// (window.opener || window.parent) is made to post to "*".
	mutant := `(() => {
		if (location.pathname !== '/wrapped' || window === window.top) return;
		window.opener = { postMessage: (m) => parent.postMessage(m, '*') };
	})()`
	b, err := pool.Get(ThirdPartyAllowed)
	if err != nil {
		t.Fatal(err)
	}
	tl := timeline.New(nil)
	s, err := b.NewSession(tl, Setup{Config: map[string]any{}, Inject: []string{mutant}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Navigate(app + "/app"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["type"] == "stored" })

	const code = "c0de-probe-0123456789"
	ctx := context.Background()
	for _, tc := range []struct {
		path, outcome, target string
	}{
		{"/own", "refused", app},
		{"/star", "delivered", ""},
		{"/wrapped", "delivered", ""},
		{"/none", "silent", ""},
	} {
		got, err := s.ProbeCallback(ctx, CallbackProbe{URL: app + tc.path + "#code=" + code + "&state=probe-state-0123", Wait: 3 * time.Second})
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if got.Outcome != tc.outcome || got.TargetOrigin != tc.target {
			t.Errorf("%s: %+v, want outcome %s, target origin %q", tc.path, got, tc.outcome, tc.target)
		}
		if got.Outcome == "delivered" && (got.Origin != app || strings.Contains(got.Data, code) || !strings.Contains(got.Data, "fp:")) {
			t.Errorf("%s: delivered from %q with data %q, want the app's origin and the code fingerprinted", tc.path, got.Origin, got.Data)
		}
		if _, ok := entry(tl, "browser.callback-probe", timeline.Fields{"url": app + tc.path, "outcome": tc.outcome}); !ok {
			t.Errorf("%s: no browser.callback-probe entry", tc.path)
		}
	}
	var kept string
	if err := s.Eval(ctx, `() => { if (localStorage.getItem('k') !== 'kept') throw new Error('the app lost its storage'); }`); err != nil {
		kept = err.Error()
	}
	if kept != "" {
		t.Errorf("after the probes: %s", kept)
	}
	for _, e := range tl.Entries() {
		if strings.Contains(fmt.Sprint(e.Fields), code) {
			t.Errorf("the timeline holds the probe's code: %v", e)
		}
	}
	checkTimeline(t, tl)
}
