package browser

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// beforeBridge runs before the bridge in every frame and keeps what the page's
// built-ins were before the bridge could touch them.
const beforeBridge = `(() => {
	const d = Object.getOwnPropertyDescriptor(window, 'postMessage');
	Object.defineProperty(window, '__before', { value: {
		postMessage: window.postMessage, descriptor: d, toString: Function.prototype.toString,
		broadcast: BroadcastChannel.prototype.postMessage, broadcastClass: BroadcastChannel,
		dispatchEvent: EventTarget.prototype.dispatchEvent, addEventListener: EventTarget.prototype.addEventListener,
	} });
})()`

// checkTimeline fails the test when the timeline leaves the vocabulary, and
// shows the timeline when the test failed.
func checkTimeline(t *testing.T, tl *timeline.Timeline) {
	t.Helper()
	if err := timeline.Validate(tl.Entries()); err != nil {
		t.Error(err)
	}
	if t.Failed() {
		for _, e := range tl.Entries() {
			t.Log(e)
		}
	}
}

// entry is the first entry of a kind whose fields include all of want.
func entry(tl *timeline.Timeline, what string, want timeline.Fields) (timeline.Entry, bool) {
	for _, e := range tl.Entries() {
		if e.What != what {
			continue
		}
		ok := true
		for k, v := range want {
			if e.Fields[k] != v {
				ok = false
			}
		}
		if ok {
			return e, true
		}
	}
	return timeline.Entry{}, false
}

// Every channel a silent renewal answers by reaches the app as it would without
// the suite, and is recorded: a same-origin callback page's parent.postMessage
// (keycloak-js accepts it only when event.source is its iframe), the IdP's
// own page posting a web_message response from another origin, a
// BroadcastChannel (msal-browser's redirect bridge) and a CustomEvent
// dispatched on the parent (angular-auth-oidc-client). The page runs on the
// virtual clock.
func TestChannelsObservedUnaltered(t *testing.T) {
	var app string
	idp := serve(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><script>
			parent.postMessage({type: 'authorization_response', response: {code: 'xo-code-0123456789', state: 'state-0123456789'}}, %q);
		</script>`, app)
	}))
	app = serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/app":
			fmt.Fprintf(w, `<!doctype html><body><script>
				const emit = (type, info) => refreshsuite.emit(type, info);
				const pm = Object.getOwnPropertyDescriptor(window, 'postMessage');
				emit('identity', [
					window.postMessage === __before.postMessage,
					pm.value === __before.postMessage && pm.writable === __before.descriptor.writable &&
						pm.enumerable === __before.descriptor.enumerable && pm.configurable === __before.descriptor.configurable,
					Function.prototype.toString === __before.toString,
					BroadcastChannel === __before.broadcastClass,
					BroadcastChannel.prototype.postMessage === __before.broadcast,
					EventTarget.prototype.dispatchEvent === __before.dispatchEvent,
					EventTarget.prototype.addEventListener === __before.addEventListener,
				].join(' '));
				emit('toString', [window.postMessage, BroadcastChannel.prototype.postMessage, EventTarget.prototype.dispatchEvent]
					.map((f) => Function.prototype.toString.call(f)).join(' | '));
				const frame = (id, src) => { const f = document.createElement('iframe'); f.id = id; f.src = src; document.body.appendChild(f); return f; };
				const same = frame('silent', '/callback#access_token=same-token-0123456789&state=state-0123456789');
				const xo = frame('web-message', %q);
				addEventListener('message', (e) => {
					const from = e.source === same.contentWindow ? 'iframe' : e.source === xo.contentWindow ? 'idp-iframe' : e.source === window ? 'window' : 'other';
					emit('message', from + ' ' + e.origin);
				});
				const bc = new BroadcastChannel('msal.redirect');
				bc.onmessage = (e) => emit('broadcast', e.origin + ' ' + (e.data.code ? 'has-code' : 'no-code'));
				// A channel the app only sends on: it hears nothing itself.
				new BroadcastChannel('app.sync').postMessage({hello: 'tabs'});
				addEventListener('oidc-silent-renew-message', (e) => emit('renew-event', e.detail.href.includes('#code=') ? 'location' : 'other'));
				frame('bridge', '/bridge#code=bc-code-0123456789&state=state-0123456789');
				frame('renew', '/renew#code=renew-code-0123456789&state=state-0123456789');
			</script>`, idp+"/web-message")
		case "/callback":
			fmt.Fprint(w, `<!doctype html><script>parent.postMessage(location.hash, location.origin)</script>`)
		case "/bridge":
			fmt.Fprint(w, `<!doctype html><script>
				const p = new URLSearchParams(location.hash.slice(1));
				new BroadcastChannel('msal.redirect').postMessage({code: p.get('code'), state: p.get('state')});
			</script>`)
		case "/renew":
			fmt.Fprint(w, `<!doctype html><script>parent.dispatchEvent(new CustomEvent('oidc-silent-renew-message', {detail: window.location}))</script>`)
		}
	}))
	b, err := pool.Get(ThirdPartyAllowed)
	if err != nil {
		t.Fatal(err)
	}
	clock := NewVirtualClock()
	tl := timeline.New(clock)
	s, err := b.NewSession(tl, Setup{Config: map[string]any{}, Clock: clock, before: []string{beforeBridge}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Navigate(app + "/app"); err != nil {
		t.Fatal(err)
	}
	events := func(typ string) []string {
		var out []string
		for _, e := range tl.Entries() {
			if e.What == "client.event" && e.Fields["type"] == typ {
				out = append(out, e.Fields["info"])
			}
		}
		return out
	}
	all := func() bool {
		return len(events("message")) >= 2 && len(events("broadcast")) >= 1 && len(events("renew-event")) >= 1
	}
	if err := clock.Until(context.Background(), all, 10*time.Second); err != nil {
		for _, e := range tl.Entries() {
			t.Log(e)
		}
		t.Fatalf("the app did not get all four callbacks: %v", err)
	}

	if got := events("identity"); len(got) != 1 || got[0] != "true true true true true true true" {
		t.Errorf("the page's built-ins after the bridge ran (postMessage, its descriptor, toString, BroadcastChannel, its postMessage, dispatchEvent, addEventListener: is each the one before?) = %v", got)
	}
	native := "function postMessage() { [native code] } | function postMessage() { [native code] } | function dispatchEvent() { [native code] }"
	if got := events("toString"); len(got) != 1 || got[0] != native {
		t.Errorf("toString of the page's functions = %v, want %q", got, native)
	}
	want := map[string]bool{"iframe " + app: true, "idp-iframe " + idp: true}
	for _, m := range events("message") {
		if !want[m] {
			t.Errorf("the app got a message it reads as %q (sender by event.source, event.origin); want one of %v", m, want)
		}
		delete(want, m)
	}
	if len(want) > 0 {
		t.Errorf("the app did not get %v", want)
	}
	if got := events("broadcast"); got[0] != app+" has-code" {
		t.Errorf("the app's BroadcastChannel got %q", got[0])
	}
	if got := events("renew-event"); got[0] != "location" {
		t.Errorf("the app's CustomEvent listener got %q", got[0])
	}

	checks := []struct {
		what string
		want timeline.Fields
	}{
		{"browser.post-message", timeline.Fields{"to": app + "/app", "target_origin": app}},
		{"browser.message", timeline.Fields{"to": app + "/app", "origin": app, "from_window": "child", "from_frame": "silent", "from_url": app + "/callback", "target_origin": app}},
		{"browser.message", timeline.Fields{"to": app + "/app", "origin": idp, "from_window": "child", "from_frame": "web-message"}},
		{"browser.channel-message", timeline.Fields{"channel": "msal.redirect", "to": app + "/app", "origin": app}},
		{"browser.channel-post", timeline.Fields{"channel": "app.sync", "from": app + "/app", "origin": app}},
		{"browser.window-event", timeline.Fields{"type": "oidc-silent-renew-message", "interface": "CustomEvent", "to": app + "/app", "from": app + "/renew"}},
	}
	for _, c := range checks {
		if _, ok := entry(tl, c.what, c.want); !ok {
			t.Errorf("no %s with %v", c.what, c.want)
		}
	}
	if _, ok := entry(tl, "browser.channel-message", timeline.Fields{"channel": "app.sync"}); ok {
		t.Errorf("the app's own post on a channel it holds no other handle of was recorded as received")
	}
	if e, ok := entry(tl, "browser.message", timeline.Fields{"origin": idp}); ok && !strings.Contains(e.Fields["data"], `"code":"fp:`) {
		t.Errorf("the web_message response was recorded as %q, want its code fingerprinted", e.Fields["data"])
	}
	checkTimeline(t, tl)
}

// With and without the instrument, the same page sees the same page-time
// intervals on the virtual clock: from a callback's postMessage to the app's
// message event, from a frame's BroadcastChannel post to the app's channel, from
// a frame's parent.dispatchEvent to the app's listener, and a timer. A
// BroadcastChannel message travels through the browser process, and whether
// the page's clock takes one 10 ms step meanwhile is a race with wall time
// (0 or 10 ms in runs with and without the instrument, and without its own
// channel): it is held to that step, in the best of three runs. How long
// frames take to load varies the same way and is not compared.
func TestDeliveryTimingUnchanged(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/app":
			fmt.Fprint(w, `<!doctype html><body><script>
				const got = [];
				const frame = (src) => { const f = document.createElement('iframe'); f.src = src; document.body.appendChild(f); };
				const took = (what) => got.push(what + ' ' + (Date.now() - window.t0));
				addEventListener('message', () => { took('post'); frame('/broadcast'); });
				new BroadcastChannel('c').onmessage = () => { took('broadcast'); frame('/event'); };
				addEventListener('e', () => {
					took('event');
					const t = Date.now();
					setTimeout(() => { got.push('timer ' + (Date.now() - t)); __probe(got.join(', ')); }, 1000);
				});
				frame('/post');
			</script>`)
		case "/post":
			fmt.Fprint(w, `<!doctype html><script>parent.t0 = Date.now(); parent.postMessage('x', location.origin)</script>`)
		case "/broadcast":
			fmt.Fprint(w, `<!doctype html><script>parent.t0 = Date.now(); new BroadcastChannel('c').postMessage({code: 'abc-0123456789'})</script>`)
		case "/event":
			fmt.Fprint(w, `<!doctype html><script>parent.t0 = Date.now(); parent.dispatchEvent(new CustomEvent('e', {detail: location}))</script>`)
		}
	}))
	run := func(instrumented bool) string {
		b, err := pool.Get(ThirdPartyAllowed)
		if err != nil {
			t.Fatal(err)
		}
		clock := NewVirtualClock()
		var page *rod.Page
		if instrumented {
			s, err := b.NewSession(timeline.New(clock), Setup{Config: map[string]any{}, Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			page = s.cur.page
		} else {
			ic, err := b.rod.Incognito()
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = ic.Close() }()
			if page, err = ic.Page(proto.TargetCreateTarget{URL: "about:blank"}); err != nil {
				t.Fatal(err)
			}
			clock.attach(page)
			go page.EachEvent(func(*proto.EmulationVirtualTimeBudgetExpired) { clock.budgetExpired() })()
		}
		got := make(chan string, 1)
		go page.EachEvent(func(e *proto.RuntimeBindingCalled) {
			if e.Name == "__probe" {
				got <- e.Payload
			}
		})()
		if err := (proto.RuntimeAddBinding{Name: "__probe"}).Call(page); err != nil {
			t.Fatal(err)
		}
		if err := clock.Start(); err != nil {
			t.Fatal(err)
		}
		if err := page.Navigate(app + "/app"); err != nil {
			t.Fatal(err)
		}
		var out string
		done := func() bool {
			select {
			case out = <-got:
				return true
			default:
				return false
			}
		}
		if err := clock.Until(context.Background(), done, 10*time.Second); err != nil {
			t.Fatalf("instrumented %v: %v", instrumented, err)
		}
		return out
	}
	parse := func(s string) map[string]int {
		m := map[string]int{}
		for _, part := range strings.Split(s, ", ") {
			var k string
			var v int
			if _, err := fmt.Sscanf(part, "%s %d", &k, &v); err == nil {
				m[k] = v
			}
		}
		return m
	}
	// The broadcast's page time races wall time: on a loaded machine the
	// virtual clock may take more steps while the message crosses the
	// browser process, with the instrument or without it (80 ms without it
	// once, under make stress). The least of up to three runs is the
	// channel's own delay; a delay the instrument added would be in all
	// three.
	best := func(instrumented bool) (text string, m map[string]int) {
		for range 3 {
			out := run(instrumented)
			if got := parse(out); m == nil || got["broadcast"] < m["broadcast"] {
				text, m = out, got
			}
			if m["broadcast"] <= 10 {
				break
			}
		}
		return text, m
	}
	plainText, plain := best(false)
	instrumentedText, instrumented := best(true)
	for _, k := range []string{"post", "event", "timer"} {
		if _, ok := plain[k]; !ok || plain[k] != instrumented[k] {
			t.Errorf("%s: %d ms of page time without the instrument, %d ms with it", k, plain[k], instrumented[k])
		}
	}
	if b, ok := instrumented["broadcast"]; !ok || b > 10 || plain["broadcast"] > 10 {
		t.Errorf("broadcast took %d ms of page time without the instrument, %d ms with it; want at most one 10 ms step", plain["broadcast"], b)
	}
	t.Logf("page-time intervals without the instrument %q, with it %q", plainText, instrumentedText)
}
