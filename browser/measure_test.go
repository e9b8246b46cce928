//go:build measure

// The measurements behind the instrument's design (breakpoints.go, bridge.js),
// kept runnable: go test -tags measure -run Measure -v ./browser/
// They print figures and facts; they judge nothing.
package browser

import (
	"fmt"
	"net/http"
	"os"
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
	p := &barePage{page: page}
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
