package fakeidp

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fault makes the provider misbehave on purpose, the way real IdPs do in production.
type Fault struct {
	// On is the endpoint: authorize, token, userinfo or revoke.
	On string
	// When restricts the fault to requests whose parameters have these values
	// (for example prompt: none); empty matches every request to the endpoint.
	When map[string]string
	// Do is the misbehaviour; see Actions.
	Do string
	// Times limits how often the fault fires; 0 means every matching request.
	Times int
	// Skip lets the first Skip matching requests through unharmed, so that a
	// scenario can show the unfaulted path works before the fault takes hold.
	Skip int
	// Delay is how long a slow endpoint waits before answering normally.
	Delay time.Duration
}

// MaxDelay bounds a slow endpoint: longer is a hang, and a hang is not a test.
const MaxDelay = 2 * time.Minute

// Actions lists each fault action with what it does, for docs and error messages.
var Actions = map[string]string{
	"page-without-redirect": "authorize answers 200 with an interactive page and never redirects back",
	"deny-framing":          "authorize refuses to be framed (X-Frame-Options: DENY, CSP frame-ancestors 'none'); a redirect becomes a page that would navigate on",
	"server-error":          "the endpoint answers 500 with error=server_error",
	"invalid-grant":         "token answers 400 with error=invalid_grant",
	"slow":                  "the endpoint answers normally, after delay of wall-clock time (virtual time stands still while a request is pending, so only the real clock sees it)",
}

var faultEndpoints = map[string]bool{"authorize": true, "token": true, "userinfo": true, "revoke": true}

// MaxTimes bounds how often a fault fires.
const MaxTimes = 10000

// validate names the offending key of the fault (on, do, times, delay).
func (f Fault) validate() *ConfigError {
	if !faultEndpoints[f.On] {
		return cfgErr("on", "%q is not one of authorize, token, userinfo, revoke", f.On)
	}
	if _, ok := Actions[f.Do]; !ok {
		return cfgErr("do", "%q is not one of %s", f.Do, strings.Join(ActionNames(), ", "))
	}
	if (f.Do == "page-without-redirect" || f.Do == "deny-framing") && f.On != "authorize" {
		return cfgErr("do", "%q applies to authorize only", f.Do)
	}
	if f.Do == "invalid-grant" && f.On != "token" {
		return cfgErr("do", "%q applies to token only", f.Do)
	}
	if f.Times < 0 {
		return cfgErr("times", "must not be negative")
	}
	if f.Times > MaxTimes {
		return cfgErr("times", "at most %d, got %d", MaxTimes, f.Times)
	}
	if f.Skip < 0 {
		return cfgErr("skip", "must not be negative")
	}
	switch {
	case f.Do == "slow" && (f.Delay <= 0 || f.Delay > MaxDelay):
		return cfgErr("delay", "do: slow needs a delay between 1ms and %s", MaxDelay)
	case f.Do != "slow" && f.Delay != 0:
		return cfgErr("delay", "only do: slow takes a delay")
	}
	return nil
}

// ActionNames returns the fault actions, sorted.
func ActionNames() []string {
	names := make([]string, 0, len(Actions))
	for n := range Actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type faultSet struct {
	mu      sync.Mutex
	faults  []Fault
	fired   []int
	matched []int
}

func newFaultSet(fs []Fault) *faultSet {
	return &faultSet{faults: fs, fired: make([]int, len(fs)), matched: make([]int, len(fs))}
}

// match returns the first fault that applies to this request and counts it as
// fired.
func (s *faultSet) match(endpoint string, params url.Values) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.On != endpoint || (f.Times > 0 && s.fired[i] >= f.Times) {
			continue
		}
		ok := true
		for k, v := range f.When {
			if params.Get(k) != v {
				ok = false
				break
			}
		}
		if ok {
			if s.matched[i]++; s.matched[i] <= f.Skip {
				continue
			}
			s.fired[i]++
			return f, true
		}
	}
	return Fault{}, false
}

// interactivePage is what an IdP shows when it wants the user: inside a hidden
// iframe nobody will ever see it, which is exactly the failure being simulated.
func interactivePage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, `<!doctype html><title>Sign in</title><form><label>User <input name=u></label><button>Sign in</button></form>`)
}

// denyFraming writes the anti-framing headers. Chromium ignores them on a redirect
// (a redirect never renders), so a redirect is turned into a page that would
// navigate on by itself, as IdPs with JavaScript hand-offs do.
type denyFramingWriter struct {
	http.ResponseWriter
	wroteHeader bool
	converted   bool // the redirect became a page; the original body is dropped
}

func (d *denyFramingWriter) WriteHeader(code int) {
	if d.wroteHeader {
		return
	}
	d.wroteHeader = true
	h := d.ResponseWriter.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	if loc := h.Get("Location"); code >= 300 && code < 400 && loc != "" {
		h.Del("Location")
		h.Set("Content-Type", "text/html; charset=utf-8")
		d.ResponseWriter.WriteHeader(http.StatusOK)
		d.converted = true
		q := html.EscapeString(loc)
		fmt.Fprintf(d.ResponseWriter, `<!doctype html><meta http-equiv="refresh" content="0;url=%s"><a href="%s">Continue</a>`, q, q)
		return
	}
	d.ResponseWriter.WriteHeader(code)
}

func (d *denyFramingWriter) Write(b []byte) (int, error) {
	if !d.wroteHeader {
		d.WriteHeader(http.StatusOK)
	}
	if d.converted {
		return len(b), nil
	}
	return d.ResponseWriter.Write(b)
}

// ValidateFault checks a fault the way Start does, for loaders that want to
// report a bad fault against the line that declared it.
func ValidateFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	return nil
}
