//go:build measure

// The measurements behind the instrument's design (breakpoints.go, bridge.js),
// kept runnable: go test -tags measure -run Measure -v ./browser/
// They print figures and facts; they judge nothing.
package browser

import (
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// barePage is a page in a context of its own with nothing of the suite installed
// but a binding, __probe, whose calls it collects.
type barePage struct {
	page *rod.Page
	mu   sync.Mutex
	got  []string
}

func newBarePage(t *testing.T) *barePage {
	t.Helper()
	p := &barePage{page: plainPage(t)}
	page := p.page
	go page.EachEvent(func(e *proto.RuntimeBindingCalled) {
		p.mu.Lock()
		p.got = append(p.got, e.Payload)
		p.mu.Unlock()
	})()
	if err := (proto.RuntimeAddBinding{Name: "__probe"}).Call(page); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *barePage) probes() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.got, "; ")
}

func (p *barePage) eval(t *testing.T, js string) string {
	res, err := proto.RuntimeEvaluate{Expression: js}.Call(p.page)
	if err != nil {
		t.Fatal(err)
	}
	return res.Result.Value.String()
}

func (p *barePage) breakOn(t *testing.T, fn, cond string) {
	res, err := proto.RuntimeEvaluate{Expression: fn}.Call(p.page)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (proto.DebuggerSetBreakpointOnFunctionCall{ObjectID: res.Result.ObjectID, Condition: cond}).Call(p.page); err != nil {
		t.Fatal(err)
	}
}

// What a breakpoint condition costs per call of the native function.
func TestMeasureConditionCost(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><script>
			window.bench = (n) => { const et = new EventTarget(), ev = new Event('x'), a = performance.now();
				for (let i = 0; i < n; i++) et.dispatchEvent(ev); return ((performance.now() - a) * 1000 / n).toFixed(2) + ' us'; };
			window.benchPost = (n) => { const a = performance.now();
				for (let i = 0; i < n; i++) window.postMessage('x', '/'); return ((performance.now() - a) * 1000 / n).toFixed(2) + ' us'; };
		</script>`)
	}))
	p := newBarePage(t)
	if _, err := (proto.DebuggerEnable{}).Call(p.page); err != nil {
		t.Fatal(err)
	}
	p.page.MustNavigate(app + "/").MustWaitLoad()
	t.Logf("dispatchEvent, no breakpoint: %s", p.eval(t, "bench(20000)"))
	t.Logf("postMessage, no breakpoint: %s", p.eval(t, "benchPost(5000)"))
	p.breakOn(t, "EventTarget.prototype.dispatchEvent", `this === window && (__probe('d'), false)`)
	p.breakOn(t, "window.postMessage", `(__probe(typeof arguments[1] === 'string' ? arguments[1] : '?'), false)`)
	t.Logf("dispatchEvent, condition false at once: %s", p.eval(t, "bench(20000)"))
	t.Logf("postMessage, condition reporting every call: %s", p.eval(t, "benchPost(5000)"))
}

// A debugger pause of 1.5 s of wall time moves the virtual clock by nothing.
func TestMeasurePauseOnVirtualTime(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><script>
			setTimeout(() => { const a = Date.now(), b = performance.now(); debugger;
				__probe('Date.now moved ' + (Date.now() - a) + ' ms, performance.now ' + (performance.now() - b).toFixed(1) + ' ms'); }, 500);
		</script>`)
	}))
	p := newBarePage(t)
	clock := NewVirtualClock()
	clock.attach(p.page)
	go p.page.EachEvent(func(*proto.EmulationVirtualTimeBudgetExpired) { clock.budgetExpired() },
		func(*proto.DebuggerPaused) {
			go func() { time.Sleep(1500 * time.Millisecond); _ = proto.DebuggerResume{}.Call(p.page) }()
		})()
	if _, err := (proto.DebuggerEnable{}).Call(p.page); err != nil {
		t.Fatal(err)
	}
	if err := clock.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.page.Navigate(app + "/"); err != nil {
		t.Fatal(err)
	}
	if err := clock.Until(t.Context(), func() bool { return p.probes() != "" }, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Log("across a 1.5 s pause: " + p.probes())
}

// What Debugger.enable and the breakpoints cost a page load of the default
// client's bundle (pass its built app's folder in REFRESHSUITE_MEASURE_APP).
func TestMeasureDebuggerLoadCost(t *testing.T) {
	dir := strings.TrimSpace(os.Getenv("REFRESHSUITE_MEASURE_APP"))
	if dir == "" {
		t.Skip("set REFRESHSUITE_MEASURE_APP to a built app folder (fixtures/angular-oauth2-oidc/dist)")
	}
	app := serve(t, "localhost", http.FileServer(http.Dir(dir)))
	totals := map[string]time.Duration{}
	const rounds, loads = 4, 5
	for round := 0; round < rounds; round++ {
		for _, mode := range []string{"plain", "debugger", "debugger+breakpoints"} {
			p := newBarePage(t)
			if mode != "plain" {
				go p.page.EachEvent(func(*proto.DebuggerPaused) { _ = proto.DebuggerResume{}.Call(p.page) })()
				if _, err := (proto.DebuggerEnable{}).Call(p.page); err != nil {
					t.Fatal(err)
				}
			}
			for i := 0; i < loads; i++ {
				a := time.Now()
				p.page.MustNavigate(app + "/index.html").MustWaitLoad()
				totals[mode] += time.Since(a)
				if mode == "debugger+breakpoints" {
					p.breakOn(t, "window.postMessage", `(__probe('x'), false)`)
					p.breakOn(t, "EventTarget.prototype.dispatchEvent", `this === window && (__probe('d'), false)`)
				}
			}
		}
	}
	for _, mode := range []string{"plain", "debugger", "debugger+breakpoints"} {
		t.Logf("%-22s %s per load", mode, totals[mode]/(rounds*loads))
	}
}

// What following a dedicated worker costs its start, as the page sees it: the
// time from new Worker() to the worker's first message, in a page with nothing
// of the suite, in one whose session only attaches to its workers as the
// suite does (Network.enable, Target.setAutoAttach, then
// Runtime.runIfWaitingForDebugger), and in a suite session.
func TestMeasureWorkerAttach(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><script>
			const url = URL.createObjectURL(new Blob(['postMessage(0)'], {type: 'text/javascript'}));
			window.startDelay = () => new Promise((resolve) => {
				const a = performance.now(), w = new Worker(url);
				w.onmessage = () => { resolve(performance.now() - a); w.terminate(); };
			});
			if (window.refreshsuite) { refreshsuite.register({startDelay}); refreshsuite.ready({loggedIn: false}); }
		</script>`)
	}))
	delay := func(p *rod.Page) float64 {
		res, err := p.Timeout(10 * time.Second).Eval(`() => startDelay()`)
		if err != nil {
			t.Fatal(err)
		}
		return res.Value.Num()
	}
	var mu sync.Mutex
	var calls []float64 // wall ms of the three calls, per worker
	attached := func(p *barePage) {
		br := p.page.Browser()
		go p.page.EachEvent(func(e *proto.TargetAttachedToTarget) {
			go func() {
				a := time.Now()
				w := br.PageFromSession(e.SessionID)
				_ = proto.NetworkEnable{}.Call(w)
				_ = watchWorkers(w)
				_ = proto.RuntimeRunIfWaitingForDebugger{}.Call(w)
				mu.Lock()
				calls = append(calls, float64(time.Since(a).Microseconds())/1000)
				mu.Unlock()
			}()
		})()
		if err := watchWorkers(p.page); err != nil {
			t.Fatal(err)
		}
	}
	// The three pages take turns, so that the machine's other load falls on
	// each alike.
	const rounds = 40
	modes := []string{"bare", "attached", "session"}
	pages := map[string]*rod.Page{}
	for _, mode := range modes {
		switch mode {
		case "session":
			s, _ := openReady(t, app+"/")
			pages[mode] = s.cur.page
		default:
			p := newBarePage(t)
			if mode == "attached" {
				attached(p)
			}
			p.page.MustNavigate(app + "/").MustWaitLoad()
			pages[mode] = p.page
		}
	}
	got := map[string][]float64{}
	for i := 0; i < rounds; i++ {
		for _, mode := range modes {
			got[mode] = append(got[mode], delay(pages[mode]))
		}
	}
	for _, mode := range modes {
		d := got[mode]
		sort.Float64s(d)
		t.Logf("%-8s new Worker() to its first message: median %.1f ms, fastest %.1f ms, slowest %.1f ms (%d starts)", mode, d[len(d)/2], d[0], d[len(d)-1], len(d))
	}
	mu.Lock()
	defer mu.Unlock()
	sort.Float64s(calls)
	t.Logf("the three calls that hold and release a worker: median %.1f ms, fastest %.1f ms, slowest %.1f ms (%d workers)", calls[len(calls)/2], calls[0], calls[len(calls)-1], len(calls))
}

// What a dedicated worker does on the page's virtual time (workers.go): its
// clock, its timers, whether its pending fetch holds the page's clock, and
// whether its session takes network conditions of its own.
func TestMeasureWorkerVirtualTime(t *testing.T) {
	app := serve(t, "localhost", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(2 * time.Second)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><script>
			const src = "const t0 = Date.now(); let fired = 'no';" +
				"setTimeout(() => { fired = 'after ' + (Date.now() - t0) + ' ms of page time'; }, 5000);" +
				"onmessage = (e) => { if (e.data === 'fetch') { const a = Date.now(); fetch(self.name + '/slow').then(() => postMessage('the fetch took ' + (Date.now() - a) + ' ms of page time')); }" +
				" else postMessage('worker clock ' + Date.now() + ', its 5 s timer fired: ' + fired); };";
			const w = new Worker(URL.createObjectURL(new Blob([src], {type: 'text/javascript'})), {name: location.origin});
			const ask = (what) => new Promise((resolve) => { w.onmessage = (e) => resolve(e.data + ' (page clock ' + Date.now() + ')'); w.postMessage(what); });
			refreshsuite.register({clock: () => ask('clock'), fetch: () => ask('fetch')});
			refreshsuite.ready({loggedIn: false});
		</script>`)
	}))
	s, tl, clock := openVirtual(t, app+"/")
	ready := func() bool { _, ok := scenarioEntry(tl, "client.ready"); return ok }
	if err := clock.Until(t.Context(), ready, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"clock", "fetch", "clock"} {
		a := time.Now()
		v, _, err := callOnClockFor(t, s, clock, fn, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s, in %s of wall time", fn, v, time.Since(a).Round(time.Millisecond))
	}
	br := s.cur.page.Browser()
	targets, err := proto.TargetGetTargets{}.Call(br)
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range targets.TargetInfos {
		if info.Type != dedicatedWorker || info.BrowserContextID != br.BrowserContextID {
			continue
		}
		// A session of the measurement's own: the tab's belongs to its event loop.
		own, err := proto.TargetAttachToTarget{TargetID: info.TargetID, Flatten: true}.Call(br)
		if err != nil {
			t.Fatal(err)
		}
		err = proto.NetworkEmulateNetworkConditions{Offline: true, DownloadThroughput: -1, UploadThroughput: -1}.Call(br.PageFromSession(own.SessionID))
		t.Logf("Network.emulateNetworkConditions on a worker's session: %v", err)
	}
	err = proto.NetworkEnable{}.Call(br.PageFromSession("no-such-session"))
	t.Logf("a call on a session that does not exist: %v (counted as gone: %v)", err, gone(err))
}
