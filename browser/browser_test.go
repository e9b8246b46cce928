package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/refreshsuite/refreshsuite/timeline"
)

var pool Pool

func TestMain(m *testing.M) {
	bin, err := Find()
	if err != nil {
		fmt.Println(err)
		return
	}
	pool.Bin = bin
	defer pool.Close()
	m.Run()
}

// serve starts a server on 127.0.0.1 and returns its URL with the given host
// name, so one test can make localhost and 127.0.0.1 two different sites.
func serve(t *testing.T, host string, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "http://" + host + ":" + port
}

func waitFor(t *testing.T, tl *timeline.Timeline, what string, where func(timeline.Fields) bool) timeline.Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := tl.WaitFor(ctx, func(es []timeline.Entry) (timeline.Entry, bool) {
		for _, e := range es {
			if e.What == what && (where == nil || where(e.Fields)) {
				return e, true
			}
		}
		return timeline.Entry{}, false
	})
	if err != nil {
		for _, e := range tl.Entries() {
			t.Log(e)
		}
		t.Fatalf("no %s entry", what)
	}
	return e
}

func newSession(t *testing.T, policy CookiePolicy) (*Session, *timeline.Timeline) {
	t.Helper()
	b, err := pool.Get(policy)
	if err != nil {
		t.Fatal(err)
	}
	tl := timeline.New(nil)
	s, err := b.NewSession(tl, Setup{Config: map[string]any{"greeting": "hello"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, tl
}

// plainPage is a blank page in an incognito context of its own, with nothing
// of the suite installed, closed with the test.
func plainPage(t *testing.T) *rod.Page {
	t.Helper()
	b, err := pool.Get(ThirdPartyAllowed)
	if err != nil {
		t.Fatal(err)
	}
	ic, err := b.rod.Incognito()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ic.Close() })
	page, err := ic.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	return page
}

func TestBridgeFramesAndPostMessage(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<!doctype html><body><script>
				refreshsuite.register({ echo: async (x) => x + '!', fail: async () => { throw new Error('nope') } });
				refreshsuite.emit('token_received', refreshsuite.config.greeting);
				const f = document.createElement('iframe');
				f.id = 'silent'; f.style.display = 'none'; f.src = '/callback#access_token=secret123';
				document.body.appendChild(f);
				refreshsuite.ready({loggedIn: true});
			</script>`)
		case "/callback":
			fmt.Fprint(w, `<!doctype html><script>parent.postMessage(location.hash, location.origin)</script>`)
		}
	}))
	s, tl := newSession(t, ThirdPartyAllowed)
	if err := s.Navigate(app + "/"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tl, "client.ready", nil)
	if e := waitFor(t, tl, "client.event", nil); e.Fields["type"] != "token_received" || e.Fields["info"] != "hello" {
		t.Errorf("client event = %v, want token_received with the injected config's greeting", e)
	}
	if e := waitFor(t, tl, "browser.frame-attached", nil); e.Fields["id"] != "silent" || e.Fields["visible"] != "no" {
		t.Errorf("frame-attached = %v, want the hidden iframe #silent", e)
	}
	pm := waitFor(t, tl, "browser.post-message", nil)
	if pm.Fields["target_origin"] != app {
		t.Errorf("post-message target origin = %q, want %q", pm.Fields["target_origin"], app)
	}
	msg := waitFor(t, tl, "browser.message", nil)
	if msg.Fields["origin"] != app || strings.Contains(msg.Fields["data"], "secret123") || !strings.Contains(msg.Fields["data"], "access_token=fp:") {
		t.Errorf("message = %v, want origin %s and the token redacted", msg, app)
	}
	ctx := context.Background()
	if v, err := s.Call(ctx, "echo", "hi"); err != nil || string(v) != `"hi!"` {
		t.Errorf("Call(echo) = %s, %v", v, err)
	}
	if _, err := s.Call(ctx, "fail"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Call(fail) error = %v, want the rejection message", err)
	}
	fr, err := s.Frames(ctx)
	if err != nil || fr.Count != 1 || fr.Visible != 0 {
		t.Errorf("Frames = %+v, %v; want one hidden frame", fr, err)
	}
}

// The third-party-cookie policy is explicit: the same cross-site iframe gets the
// IdP's SameSite=None cookie when allowed and not when blocked.
func TestThirdPartyCookiePolicy(t *testing.T) {
	for _, tc := range []struct {
		policy CookiePolicy
		want   string
	}{{ThirdPartyAllowed, "yes"}, {ThirdPartyBlocked, "no"}} {
		t.Run(string(tc.policy), func(t *testing.T) {
			idp := serve(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				switch r.URL.Path {
				case "/login":
					http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
					fmt.Fprint(w, "logged in")
				case "/frame":
					_, err := r.Cookie("sid")
					fmt.Fprintf(w, `<script>refreshsuite.emit('cookie', %q)</script>`, map[bool]string{true: "yes", false: "no"}[err == nil])
				}
			}))
			app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprintf(w, `<iframe src="%s/frame"></iframe>`, idp)
			}))
			s, tl := newSession(t, tc.policy)
			if err := s.Navigate(idp + "/login"); err != nil {
				t.Fatal(err)
			}
			if err := s.cur.page.WaitLoad(); err != nil {
				t.Fatal(err)
			}
			if err := s.Navigate(app + "/"); err != nil {
				t.Fatal(err)
			}
			e := waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["type"] == "cookie" })
			if e.Fields["info"] != tc.want || e.Fields["frame"] != "child" {
				t.Errorf("cookie sent in the cross-site iframe = %q (frame %s), want %q", e.Fields["info"], e.Fields["frame"], tc.want)
			}
		})
	}
}

// On the virtual clock a page's 20 s timer fires after exactly 20 s of scenario
// time in a fraction of that wall time, and a server asked for "now" while it
// serves the page's request reads the page's own Date.now().
func TestVirtualClock(t *testing.T) {
	var serverNow, pageNow int64
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/":
			fmt.Fprint(w, `<!doctype html><script>
				const start = Date.now();
				refreshsuite.emit('start', '');
				setTimeout(() => {
					refreshsuite.emit('timer', String(Date.now() - start));
					fetch('/now?t=' + Date.now()).then(r => r.text()).then(() => refreshsuite.emit('fetched', ''));
				}, 20000);
			</script>`)
		case "/now":
			time.Sleep(200 * time.Millisecond) // wall time the page must not see
			serverNow = vclock.Now().UnixMilli()
			fmt.Sscan(r.URL.Query().Get("t"), &pageNow)
		}
	}))
	var tl *timeline.Timeline
	_, tl, vclock = openVirtual(t, app+"/")
	wall := time.Now()
	fetched := func() bool {
		for _, e := range tl.Entries() {
			if e.Fields["type"] == "fetched" {
				return true
			}
		}
		return false
	}
	if err := vclock.Until(context.Background(), fetched, time.Minute); err != nil {
		t.Fatal(err)
	}
	took := time.Since(wall)
	var start, timer timeline.Entry
	for _, e := range tl.Entries() {
		switch e.Fields["type"] {
		case "start":
			start = e
		case "timer":
			timer = e
		}
	}
	if timer.Fields["info"] != "20000" || timer.At-start.At != 20*time.Second {
		t.Errorf("timer fired after %s of scenario time (page measured %s ms), want exactly 20s", timer.At-start.At, timer.Fields["info"])
	}
	if serverNow != pageNow {
		t.Errorf("server's now %d != the page's Date.now() %d when it sent the request", serverNow, pageNow)
	}
	if took > 5*time.Second {
		t.Errorf("20 s of virtual time took %s of wall time", took)
	}
	t.Logf("20 s of page time in %s wall", took)
}

var vclock *VirtualClock

// openVirtual opens a session on a virtual clock of its own and loads url.
func openVirtual(t *testing.T, url string) (*Session, *timeline.Timeline, *VirtualClock) {
	t.Helper()
	b, err := pool.Get(ThirdPartyAllowed)
	if err != nil {
		t.Fatal(err)
	}
	clock := NewVirtualClock()
	tl := timeline.New(clock)
	s, err := b.NewSession(tl, Setup{Config: map[string]any{}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.Navigate(url); err != nil {
		t.Fatal(err)
	}
	return s, tl, clock
}

// A second tab is a page in the same context: it sees the first tab's cookies
// and localStorage but has its own sessionStorage, and what it records says
// which tab it came from.
func TestTabsShareTheContext(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/write":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1", Path: "/"})
			fmt.Fprint(w, `<script>localStorage.setItem('k', 'local'); sessionStorage.setItem('k', 'session'); refreshsuite.emit('wrote', null)</script>`)
		case "/read":
			fmt.Fprint(w, `<script>refreshsuite.emit('read', [document.cookie, localStorage.getItem('k'), String(sessionStorage.getItem('k'))].join(' '))</script>`)
		}
	}))
	s, tl := newSession(t, ThirdPartyAllowed)
	if err := s.Navigate(app + "/write"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["type"] == "wrote" && f["tab"] == "1" })
	if err := s.Tab(3); err == nil {
		t.Errorf("tab 3 opened before tab 2")
	}
	if err := s.Tab(2); err != nil {
		t.Fatal(err)
	}
	if s.CurrentTab() != 2 {
		t.Fatalf("current tab %d after Tab(2)", s.CurrentTab())
	}
	if err := s.Navigate(app + "/read"); err != nil {
		t.Fatal(err)
	}
	e := waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["type"] == "read" })
	if e.Fields["tab"] != "2" || e.Fields["info"] != "sid=1 local null" {
		t.Errorf("tab 2 read %q (tab field %q), want the cookie and localStorage but not sessionStorage, from tab 2", e.Fields["info"], e.Fields["tab"])
	}
	waitFor(t, tl, "browser.navigated", func(f timeline.Fields) bool { return f["tab"] == "2" && strings.HasSuffix(f["url"], "/read") })
	if err := s.Tab(1); err != nil || s.CurrentTab() != 1 {
		t.Fatalf("back to tab 1: %v, current %d", err, s.CurrentTab())
	}
}

// A driver call's outcome carries the page's clock at the instant it settled,
// not the end of the budget in which the harness noticed, and its rejection
// message reads like the thrown value whatever was thrown.
func TestCallOutcome(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><script>
			class AuthError extends Error { constructor(m) { super(m); this.name = 'AuthError'; } }
			const circular = {}; circular.self = circular;
			refreshsuite.register({
				nothing: async () => {},
				later: () => { refreshsuite.emit('began', ''); return new Promise((ok) => setTimeout(() => ok('done'), 5050)); },
				subclass: async () => { throw new AuthError('bad state'); },
				text: async () => { throw 'first line\nsecond line'; },
				object: async () => { throw { error: 'login_required' }; },
				circular: async () => { throw circular; },
			});
			refreshsuite.ready({ loggedIn: false });
		</script>`)
	}))
	s, tl, clock := openVirtual(t, app+"/")
	ctx := context.Background()
	ready := func() bool { _, ok := scenarioEntry(tl, "client.ready"); return ok }
	if err := clock.Until(ctx, ready, 10*time.Second); err != nil {
		t.Fatal(err)
	}

	value, at, err := callOnClock(t, s, clock, "later")
	if err != nil {
		t.Fatalf("later: %v", err)
	}
	began, _ := scenarioEntry(tl, "client.event")
	if got := at.Sub(tl.Origin()) - began.At; string(value) != `"done"` || got != 5050*time.Millisecond {
		t.Errorf("later settled with %s %s after it began, want \"done\" 5.05s after (budgets of %s end elsewhere)", value, got, clock.Chunk)
	}

	for fn, want := range map[string]string{
		"subclass": "AuthError: bad state",
		"text":     "first line",
		"object":   `{"error":"login_required"}`,
		"circular": "a rejection that cannot be described",
	} {
		wait, err := s.Begin(fn)
		if err != nil {
			t.Fatal(err)
		}
		_, at, err := wait(ctx)
		var rej *Rejected
		if !errors.As(err, &rej) || rej.Message != want || at.IsZero() {
			t.Errorf("%s: %v at %v, want the rejection %q at a page time", fn, err, at, want)
		}
	}
	if v, err := s.Call(ctx, "nothing"); err != nil || string(v) != "null" {
		t.Errorf("nothing: %s, %v; want null", v, err)
	}
}

// callOnClock calls a driver function and lets the virtual clock run until it
// settles; a call that does not settle within 10 s of page time fails the test.
func callOnClock(t *testing.T, s *Session, clock *VirtualClock, fn string) (json.RawMessage, time.Time, error) {
	t.Helper()
	return callOnClockFor(t, s, clock, fn, 10*time.Second)
}

// callOnClockFor is callOnClock for a call that may take up to max of page time.
func callOnClockFor(t *testing.T, s *Session, clock *VirtualClock, fn string, max time.Duration) (json.RawMessage, time.Time, error) {
	t.Helper()
	ctx := context.Background()
	wait, err := s.Begin(fn)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		value json.RawMessage
		at    time.Time
		err   error
	}
	settled := make(chan outcome, 1)
	go func() {
		v, at, err := wait(ctx)
		settled <- outcome{v, at, err}
	}()
	var o outcome
	done := func() bool {
		select {
		case o = <-settled:
			return true
		default:
			return false
		}
	}
	if err := clock.Until(ctx, done, max); err != nil {
		t.Fatalf("%s did not settle: %v", fn, err)
	}
	return o.value, o.at, o.err
}

func scenarioEntry(tl *timeline.Timeline, what string) (timeline.Entry, bool) {
	for _, e := range tl.Entries() {
		if e.What == what {
			return e, true
		}
	}
	return timeline.Entry{}, false
}

// A session sees nothing an earlier session on the same browser left, though it
// reuses that session's incognito context: no cookie (first- or third-party,
// set by a server or by script), no storage of any kind in either origin, no
// cached response. Two live sessions never share a context.
func TestSessionsStartClean(t *testing.T) {
	var mu sync.Mutex
	sent := map[string]string{} // path -> the Cookie header it came with
	var hits atomic.Int32
	record := func(r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		sent[r.Host+r.URL.Path] = r.Header.Get("Cookie")
	}
	idp := serve(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		w.Header().Set("Content-Type", "text/html")
		switch r.URL.Path {
		case "/write":
			http.SetCookie(w, &http.Cookie{Name: "idp", Value: "1", Path: "/", SameSite: http.SameSiteNoneMode, Secure: true})
			fmt.Fprint(w, `<script>localStorage.setItem('k', 'framed'); refreshsuite.emit('frame-wrote', null)</script>`)
		case "/read":
			fmt.Fprint(w, `<script>refreshsuite.emit('frame-read', String(localStorage.length))</script>`)
		}
	}))
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		record(r)
		switch r.URL.Path {
		case "/cached.js":
			hits.Add(1)
			w.Header().Set("Cache-Control", "max-age=3600")
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, "1")
			return
		case "/write":
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "1", Path: "/"})
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><iframe src="%s%s"></iframe><script>
			const run = async () => {
				if (location.pathname === '/write') {
					document.cookie = 'js=1; path=/';
					localStorage.setItem('k', 'v');
					sessionStorage.setItem('k', 'v');
					await new Promise((ok, fail) => { const r = indexedDB.open('db'); r.onsuccess = ok; r.onerror = fail; });
					await (await caches.open('c')).put('/x', new Response('x'));
					await fetch('/cached.js');
					await fetch('/cached.js');
					return 'done';
				}
				await fetch('/cached.js');
				return [document.cookie, localStorage.length, sessionStorage.length, (await indexedDB.databases()).length,
					(await caches.keys()).length, document.visibilityState].join(' ');
			};
			run().then((v) => refreshsuite.emit('page', v), (e) => refreshsuite.emit('page', String(e)));
		</script>`, idp, r.URL.Path)
	}))
	b, err := pool.Get(ThirdPartyAllowed)
	if err != nil {
		t.Fatal(err)
	}
	open := func(path string) (*Session, *timeline.Timeline) {
		tl := timeline.New(nil)
		s, err := b.NewSession(tl, Setup{Config: map[string]any{}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if err := s.Navigate(app + path); err != nil {
			t.Fatal(err)
		}
		return s, tl
	}

	first, tl := open("/write")
	if e := waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["type"] == "page" }); e.Fields["info"] != "done" {
		t.Fatalf("the first session could not write: %s", e.Fields["info"])
	}
	waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["type"] == "frame-wrote" })
	if n := hits.Load(); n != 1 {
		t.Fatalf("the cached script was fetched %d times in the first session, want 1 (the second from the cache)", n)
	}
	concurrent, ctl := open("/read")
	// Its fetch of the script counts in the total below: let it happen first.
	waitFor(t, ctl, "client.event", func(f timeline.Fields) bool { return f["type"] == "page" })
	used := []proto.BrowserBrowserContextID{first.sc.rod.BrowserContextID, concurrent.sc.rod.BrowserContextID}
	if used[0] == used[1] {
		t.Fatalf("two live sessions share the context %s", used[0])
	}
	concurrent.Close()
	first.Close()

	second, tl := open("/read")
	if id := second.sc.rod.BrowserContextID; id != used[0] && id != used[1] {
		t.Fatalf("the session opened a new context instead of reusing one: this test would prove nothing")
	}
	e := waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["type"] == "page" })
	if want := " 0 0 0 0 visible"; e.Fields["info"] != want {
		t.Errorf("the page read %q (cookie, localStorage, sessionStorage, IndexedDB databases, caches, visibility), want %q", e.Fields["info"], want)
	}
	frame := waitFor(t, tl, "client.event", func(f timeline.Fields) bool { return f["type"] == "frame-read" })
	if frame.Fields["info"] != "0" {
		t.Errorf("the third-party frame found %s localStorage items, want 0", frame.Fields["info"])
	}
	mu.Lock()
	defer mu.Unlock()
	for _, path := range []string{strings.TrimPrefix(app, "http://") + "/read", strings.TrimPrefix(idp, "http://") + "/read"} {
		if sent[path] != "" {
			t.Errorf("%s came with the cookies %q, want none", path, sent[path])
		}
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("the cached script was fetched %d times over both sessions, want 3 (the cache was not cleared)", n)
	}
}

// A server that reads the virtual clock with NowInOrder while it serves the
// page's request finds everything the page reported before sending it already
// in the timeline, however many reports are still on their way: whether the
// page sent it while the clock stood (a call the harness just started) or
// while a budget ran (a timer firing).
func TestNowInOrder(t *testing.T) {
	const burst = 2000
	recorded := make(chan int, 1)
	var tl *timeline.Timeline
	var clock *VirtualClock
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, `<!doctype html><script>
				const burst = async () => {
					for (let i = 0; i < %d; i++) refreshsuite.emit('n', String(i));
					await fetch('/idp');
				};
				refreshsuite.register({ burst, later: () => new Promise((ok) => setTimeout(() => burst().then(ok), 50)) });
				refreshsuite.ready({ loggedIn: false });
			</script>`, burst)
		case "/idp":
			clock.NowInOrder()
			n := 0
			for _, e := range tl.Entries() {
				if e.Fields["type"] == "n" {
					n++
				}
			}
			recorded <- n
		}
	}))
	var s *Session
	s, tl, clock = openVirtual(t, app+"/")
	ready := func() bool { _, ok := scenarioEntry(tl, "client.ready"); return ok }
	if err := clock.Until(context.Background(), ready, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for i, fn := range []string{"burst", "later"} {
		want := burst * (i + 1) // the second call finds the first one's reports too
		wait, err := s.Begin(fn)
		if err != nil {
			t.Fatal(err)
		}
		done := false
		go func() { _, _, _ = wait(context.Background()) }()
		if err := clock.Until(context.Background(), func() bool {
			select {
			case n := <-recorded:
				if n != want {
					t.Errorf("%s: the IdP's instant came with %d of the %d reports the page sent before its request", fn, n, want)
				}
				done = true
			default:
			}
			return done
		}, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
}
