package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// No secret reaches the timeline in any shape a page can give it: in a query
// or fragment, as a JSON object (nested as web_message nests it), as a JWT, in
// a BroadcastChannel message or a CustomEvent's detail, in a frame's name, in a
// client event's info, in console errors, uncaught exceptions and a driver
// call's rejection, quoted with or without its key. The recorded entries hold
// only fingerprints.
func TestSecretsStayOut(t *testing.T) {
	const jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTEiLCJub25jZSI6Im4ifQ.c2lnbmF0dXJlLW9mLXRoZS1qd3Q"
	secrets := map[string]string{
		"code":     "c0de-in-query-0123456789",
		"fragment": "at-in-fragment-0123456789",
		"json":     "rt-in-json-0123456789",
		"nested":   "c0de-nested-0123456789",
		"verifier": "verifier-0123456789abcdefghijklmnopqrstuvwxyz",
		"jwt":      jwt,
		"channel":  "c0de-broadcast-0123456789",
		"detail":   "c0de-in-detail-0123456789",
		"name":     "at-in-frame-name-0123456789",
		"event":    "rt-in-event-0123456789",
		"console":  "rt-in-console-0123456789",
		"thrown":   "rt-thrown-0123456789",
		"rejected": "rt-rejected-0123456789",
		"bare":     "rt-bare-0123456789",
	}
	js, _ := json.Marshal(secrets)
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/app":
			fmt.Fprintf(w, `<!doctype html><body><script>
				const S = %s;
				const frame = (src, name) => { const f = document.createElement('iframe'); f.src = src; if (name) f.name = name; document.body.appendChild(f); };
				new BroadcastChannel('msal').onmessage = () => refreshsuite.emit('heard', 'channel');
				addEventListener('renew', () => refreshsuite.emit('heard', 'event'));
				addEventListener('message', () => {});
				postMessage('?code=' + S.code + '&state=st', '*');
				postMessage('#access_token=' + S.fragment + '&token_type=bearer', '*');
				postMessage(JSON.stringify({refresh_token: S.json, expires_in: 60}), '*');
				postMessage({type: 'authorization_response', response: {code: S.nested, state: 'st'}}, '*');
				postMessage({code_verifier: S.verifier, id: S.jwt}, '*');
				frame('/bridge');
				frame('/renew#code=' + S.detail);
				frame('/named', JSON.stringify({access_token: S.name}));
				refreshsuite.emit('token_received', {refresh_token: S.event});
				console.error('refresh failed:', JSON.stringify({error: 'invalid_grant', refresh_token: S.console}));
				postMessage({refresh_token: S.bare}, '*');
				console.error('rejected refresh token ' + S.bare + ' (it was rotated)');
				setTimeout(() => { throw new Error('token endpoint said: refresh_token=' + S.thrown); }, 0);
				refreshsuite.register({ refresh: async () => { throw new Error('cannot refresh with {"refresh_token":"' + S.rejected + '"}'); } });
				refreshsuite.ready({loggedIn: true, error: 'id_token ' + S.jwt + ' has no nonce'});
			</script>`, js)
		case "/bridge":
			fmt.Fprintf(w, `<!doctype html><script>new BroadcastChannel('msal').postMessage({code: %q})</script>`, secrets["channel"])
		case "/renew":
			fmt.Fprint(w, `<!doctype html><script>parent.dispatchEvent(new CustomEvent('renew', {detail: window.location}))</script>`)
		default:
			fmt.Fprint(w, `<!doctype html>`)
		}
	}))
	s, tl := newSession(t, ThirdPartyAllowed)
	if err := s.Navigate(app + "/app"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tl, "client.ready", nil)
	waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["info"] == "channel" })
	waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["info"] == "event" })
	waitFor(t, tl, "browser.console-error", func(f timeline.Fields) bool { return f["source"] == "exception" })
	waitFor(t, tl, "browser.navigated", func(f timeline.Fields) bool { return strings.HasSuffix(f["url"], "/named") })
	if _, err := s.Call(context.Background(), "refresh"); err == nil {
		t.Fatal("the rejecting driver function resolved")
	} else if strings.Contains(err.Error(), secrets["rejected"]) {
		t.Errorf("the rejection the suite reads holds the secret: %v", err)
	}
	entries := tl.Entries()
	all, _ := json.Marshal(entries)
	// The bare one is recognised because the page posted it under its key first.
	if _, ok := entry(tl, "browser.console-error", timeline.Fields{"text": "rejected refresh token " + timeline.Fingerprint(secrets["bare"]) + " (it was rotated)", "source": "console"}); !ok {
		t.Errorf("the console error quoting a known secret without its key is not recorded with its fingerprint")
	}
	for what, v := range secrets {
		if strings.Contains(string(all), v) {
			t.Errorf("the timeline holds the %s secret %q", what, v)
		}
		if what != "jwt" && !strings.Contains(string(all), timeline.Fingerprint(v)) && what != "rejected" {
			t.Errorf("the timeline has no fingerprint of the %s secret", what)
		}
	}
	for _, part := range strings.Split(jwt, ".") {
		if strings.Contains(string(all), part) {
			t.Errorf("the timeline holds a part of the JWT: %q", part)
		}
	}
	checkTimeline(t, tl)
}
