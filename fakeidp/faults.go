package fakeidp

import (
	"fmt"
	"html"
	"maps"
	"net/http"
	"net/url"
	"slices"
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

// answers reports whether the fault lets the request be answered normally,
// only later (slow, hold).
func (f Fault) answers() bool { return f.Do == "slow" || f.Do == "hold" }

// MaxDelay bounds a slow endpoint: longer is a hang, and a hang is not a test.
const MaxDelay = 2 * time.Minute

// Actions lists each fault action with what it does, for docs and error
// messages; the anomalies (anomalies.go) join it at init.
var Actions = map[string]string{
	"page-without-redirect": "authorize answers 200 with an interactive page and never redirects back",
	"deny-framing":          "authorize refuses to be framed (X-Frame-Options: DENY, CSP frame-ancestors 'none'); a redirect becomes a page that would navigate on",
	"server-error":          "the endpoint answers 500 with error=server_error",
	"invalid-grant":         "token answers 400 with error=invalid_grant",
	"slow":                  "the endpoint answers normally, after delay of wall-clock time (virtual time stands still while a request is pending, so only the real clock sees it)",
	"hold":                  "the endpoint holds the request until the harness releases it (the release step), then answers normally; at most " + MaxDelay.String() + " (wall-clock latency the harness ends on a condition, not after a guessed delay)",
}

// rule says which requests an action can alter. A request it cannot alter
// is no match: it neither counts towards skip and times nor fires, so
// {on: token, do: refresh-no-id-token} waits for a refresh whatever else
// comes first.
type rule struct {
	on []string
	// grants are the grant types whose token responses the action alters;
	// nil: every token request.
	grants []string
	// responseTypes says whether the action alters the response to an
	// authorization request with these response types; nil: every one.
	responseTypes func(types []string) bool
	// openid: the action alters an id_token, so only a request for the
	// openid scope has one to alter.
	openid bool
}

var allEndpoints = []string{"authorize", "token", "userinfo", "revoke"}

var rules = map[string]rule{
	"page-without-redirect": {on: []string{"authorize"}},
	"deny-framing":          {on: []string{"authorize"}},
	"server-error":          {on: allEndpoints},
	"invalid-grant":         {on: []string{"token"}},
	"slow":                  {on: allEndpoints},
	"hold":                  {on: allEndpoints},
}

// endpointParams are the parameters each endpoint reads, the only ones a
// when can match: a when on any other name would never match, silently.
var endpointParams = map[string][]string{
	"authorize": {"client_id", "prompt", "response_type", "response_mode", "redirect_uri", "scope", "state", "nonce", "code_challenge_method", "max_age", "id_token_hint"},
	"token":     {"grant_type", "client_id", "scope", "refresh_token", "code", "code_verifier", "redirect_uri"},
	"revoke":    {"token", "token_type_hint", "client_id"},
	"userinfo":  nil,
}

// grantParams are the parameters a token request of each grant type carries,
// so that a when naming one the action's grants never send is refused.
var grantParams = map[string][]string{
	"authorization_code": {"grant_type", "client_id", "code", "code_verifier", "redirect_uri"},
	"refresh_token":      {"grant_type", "client_id", "scope", "refresh_token"},
}

var faultEndpoints = map[string]bool{"authorize": true, "token": true, "userinfo": true, "revoke": true}

// MaxTimes bounds how often a fault fires.
const MaxTimes = 10000

// validate names the offending key of the fault (on, when.<name>, do,
// times, skip, delay).
func (f Fault) validate() *ConfigError {
	if !faultEndpoints[f.On] {
		return cfgErr("on", "%q is not one of authorize, token, userinfo, revoke", f.On)
	}
	for _, k := range slices.Sorted(maps.Keys(f.When)) {
		if known := endpointParams[f.On]; !slices.Contains(known, k) {
			if len(known) == 0 {
				return cfgErr("when."+k, "%s reads no request parameter a fault could match: leave when out", f.On)
			}
			return cfgErr("when."+k, "%s reads no parameter %q (known: %s)", f.On, k, strings.Join(known, ", "))
		}
	}
	r, ok := rules[f.Do]
	if !ok {
		return cfgErr("do", "%q is not one of %s", f.Do, strings.Join(ActionNames(), ", "))
	}
	if !slices.Contains(r.on, f.On) {
		return cfgErr("do", "%q applies to %s only", f.Do, strings.Join(r.on, " and "))
	}
	if err := r.checkWhen(f); err != nil {
		return err
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
	case f.Do == "hold" && f.Delay != 0:
		return cfgErr("delay", "do: hold waits for the harness's release step: it takes no delay (do: slow does)")
	case f.Do != "slow" && f.Delay != 0:
		return cfgErr("delay", "only do: slow takes a delay")
	}
	return nil
}

// checkWhen refuses a when that no request the action alters can satisfy:
// such a fault would never fire.
func (r rule) checkWhen(f Fault) *ConfigError {
	switch {
	case f.On == "token" && r.grants != nil:
		if g, ok := f.When["grant_type"]; ok && !slices.Contains(r.grants, g) {
			return cfgErr("when.grant_type", "do: %s alters the responses to grant_type %s only, never %q", f.Do, strings.Join(r.grants, " and "), g)
		}
		var carried []string
		for _, g := range r.grants {
			carried = append(carried, grantParams[g]...)
		}
		for _, k := range slices.Sorted(maps.Keys(f.When)) {
			if !slices.Contains(carried, k) {
				return cfgErr("when."+k, "do: %s alters %s requests, which carry no %s", f.Do, strings.Join(r.grants, " and "), k)
			}
		}
	case f.On == "authorize":
		if rt, ok := f.When["response_type"]; ok && r.responseTypes != nil && !r.responseTypes(strings.Fields(rt)) {
			return cfgErr("when.response_type", "do: %s alters nothing in the response to response_type %q", f.Do, rt)
		}
		if sc, ok := f.When["scope"]; ok && r.openid && !slices.Contains(strings.Fields(sc), "openid") {
			return cfgErr("when.scope", "do: %s alters an id_token, and scope %q asks for none (no openid)", f.Do, sc)
		}
	}
	return nil
}

// alters reports whether the action can alter the response to this request.
func (r rule) alters(endpoint string, params url.Values) bool {
	switch endpoint {
	case "token":
		return r.grants == nil || slices.Contains(r.grants, params.Get("grant_type"))
	case "authorize":
		return (r.responseTypes == nil || r.responseTypes(strings.Fields(params.Get("response_type")))) &&
			(!r.openid || slices.Contains(strings.Fields(params.Get("scope")), "openid"))
	}
	return true
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
		if f.On != endpoint || (f.Times > 0 && s.fired[i] >= f.Times) || !rules[f.Do].alters(endpoint, params) {
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
