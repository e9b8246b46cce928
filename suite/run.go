// Package suite runs scenarios: it assembles the embedded IdP, the client's app
// and a browser session for each scenario container, performs its steps, and
// (in suite_test.go) turns every expectation into a ginkgo spec.
package suite

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/certify"
	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/target"
	"github.com/refreshsuite/refreshsuite/timeline"
	"github.com/refreshsuite/refreshsuite/vocab"
)

// ClientID is the client the embedded IdP registers for the app under test.
const ClientID = "refreshsuite-spa"

// DefaultScope asks for a refresh token; scenarios about offline_access gating
// set their own.
const DefaultScope = "openid profile email offline_access"

// Run is one scenario container being executed.
type Run struct {
	Plan     *Plan
	Scenario *scenarios.Scenario
	Manifest *fixtures.Manifest
	Timeline *timeline.Timeline
	// IdP is the embedded IdP; nil against an external target (Plan.External).
	IdP *fakeidp.Server
	// Client is what expectations know of the client: the run's effective
	// settings (client.*, idp.*) and its renewal rule.
	Client scenarios.Client
	// Config is the library configuration handed to the app.
	Config map[string]any

	// Clock is the scenario clock: the page's virtual time, or the wall clock.
	Clock timeline.Clock

	app     *appServer
	foreign *httptest.Server
	session *browser.Session
	saved   bool

	// issuer and clientID are the target's: the embedded IdP's, or the
	// external one's.
	issuer, clientID string
	// loginFile is the external target's login file (nil: the IdP logs in
	// by itself, as the embedded one does).
	loginFile *certify.Login
	// loggedIn: a login step of this run got the app logged in.
	loggedIn bool
	// http talks to the target by plain HTTP (the idp scenarios' steps);
	// disc and keys are its discovery document and key set, read once.
	http  *http.Client
	disc  *target.Discovery
	keys  *target.KeySet
	vault vault
	// browser is the session's browser, for its allow-list.
	browser *browser.Browser
}

// CookiePolicy is the third-party-cookie setting a scenario runs with.
func CookiePolicy(s *scenarios.Scenario) browser.CookiePolicy {
	if s.Browser.ThirdPartyCookies == "blocked" {
		return browser.ThirdPartyBlocked
	}
	return browser.ThirdPartyAllowed
}

// ClockMode picks a scenario's clock: the run's choice when it makes one, else
// the client's when it can only run on the real clock, else the scenario's,
// else virtual (the embedded IdP follows any clock).
func ClockMode(run string, m *fixtures.Manifest, s *scenarios.Scenario) string {
	switch {
	case run != "":
		return run
	case m.Clock == "real":
		return "real"
	case s.Clock != "":
		return s.Clock
	}
	return "virtual"
}

// Start sets up the IdP, the app and a clean browser session for a planned
// scenario, on the given clock mode (virtual or real).
func Start(pool *browser.Pool, p *Plan, clockMode string) (*Run, error) {
	m, s := p.Manifest, p.Scenario
	var vclock *browser.VirtualClock
	var clock timeline.Clock = timeline.WallClock{}
	if clockMode == "virtual" {
		vclock = browser.NewVirtualClock()
		clock = vclock
	}
	r := &Run{Plan: p, Scenario: s, Manifest: m, Timeline: timeline.New(clock), Clock: clock}
	ok := false
	defer func() {
		if !ok {
			r.Close()
		}
	}()
	var err error
	ext := p.External
	caFile := ""
	if ext != nil {
		caFile = ext.CAFile
	}
	if r.http, err = target.HTTPClient(caFile); err != nil {
		return nil, err
	}
	listen := ""
	if ext != nil {
		listen = ext.RedirectBase
	}
	if m.App.URL != "" {
		r.app, err = userApp(m.App.URL)
	} else if r.app, err = startApp(m.Path(m.App.Dir), m.App.SilentRedirect, m.IdP.HTTPS && ext == nil, s.Faults, r.Timeline, listen); err != nil {
		err = fmt.Errorf("%w (build it with: cd %s && %s)", err, filepath.Dir(m.File), m.App.Build)
	}
	if err != nil {
		return nil, err
	}
	var inject []string
	for _, f := range m.App.Inject {
		b, err := os.ReadFile(m.Path(f))
		if err != nil {
			return nil, err
		}
		inject = append(inject, string(b))
	}
	if ext != nil {
		r.issuer, r.clientID = ext.Issuer, ext.ClientID
		if ext.LoginFile != "" {
			if r.loginFile, err = certify.LoadLogin(ext.LoginFile); err != nil {
				return nil, err
			}
		}
	} else if err := r.startIdP(p); err != nil {
		return nil, err
	}
	if r.Config, err = libraryConfig(m, s, r.issuer, r.clientID, r.app, p.External); err != nil {
		return nil, err
	}
	r.Client = scenarios.Client{Settings: p.Settings, Renewal: m.Renewal(p.Settings), Unobservable: func(what string) string { return Unobservable(m, what) }}
	cfg := timeline.Fields{
		"app_origin": r.app.origin, "issuer": r.issuer, "client_id": r.clientID,
		"redirect_uri": r.app.url(m.App.Redirect), "silent_redirect_uri": r.app.url(m.SilentPage()),
		"flow": orDefault(s.Client.Flow, "code"), "scope": r.scope(),
		"third_party_cookies": orDefault(s.Browser.ThirdPartyCookies, "allowed"), "sites": orDefault(s.Browser.Sites, "cross-site"),
		"clock": clock.Mode(), "target": "embedded",
	}
	if ext != nil {
		cfg["target"], cfg["profile"] = "external", ext.Profile
		cfg["sites"] = "cross-site"
		if !crossSite(r.app.origin, r.issuer) {
			cfg["sites"] = "same-site"
		}
	}
	if prompt := loginPrompt(s, r.scope(), ext); prompt != "" {
		cfg["login_prompt"] = prompt
	}
	r.Timeline.Add("harness.config", cfg)
	b, err := pool.Get(CookiePolicy(s))
	if err != nil {
		return nil, err
	}
	r.browser = b
	// The proxy tells of refusals from its own goroutines, also before the
	// session exists (Chromium's own background requests): no tab to name.
	b.OnRefused(func(host, u string) {
		r.Timeline.Add("browser.refused-host", timeline.Fields{"host": host, "url": u})
	})
	bridgeConfig := map[string]any{"library": r.Config}
	if s.Client.Storage != "" {
		bridgeConfig["storage"] = s.Client.Storage
	}
	r.session, err = b.NewSession(r.Timeline, browser.Setup{
		Config: bridgeConfig, Events: m.Events, Clock: vclock, Inject: inject,
	})
	if err != nil {
		return nil, err
	}
	ok = true
	return r, nil
}

// startIdP starts the embedded IdP for the run, with the app's redirect URIs
// and origin and the scenario's faults.
func (r *Run) startIdP(p *Plan) error {
	m, s := p.Manifest, p.Scenario
	client := p.IdPClient
	client.RedirectURIs = []string{r.app.url(m.App.Redirect)}
	if m.App.SilentRedirect != "" {
		client.RedirectURIs = append(client.RedirectURIs, r.app.url(m.App.SilentRedirect))
	}
	for _, name := range sortedKeys(m.App.Pages) {
		client.RedirectURIs = append(client.RedirectURIs, r.app.url(m.App.Pages[name]))
	}
	client.Origins = []string{r.app.origin}
	var faults []vocab.Fault
	for _, f := range s.Faults {
		if f.On != "silent-callback" {
			faults = append(faults, vocab.Fault{On: f.On, When: f.When, Do: f.Do, Times: f.Times, Skip: f.Skip, Delay: f.Delay.D()})
		}
	}
	key, err := signingKey()
	if err != nil {
		return err
	}
	cfg := p.IdP
	cfg.Clients, cfg.Faults, cfg.SigningKey = []fakeidp.Client{client}, faults, key
	r.IdP, err = fakeidp.Start(cfg, r.Timeline)
	if err != nil {
		return fmt.Errorf("embedded IdP: %w", err)
	}
	r.issuer, r.clientID = r.IdP.URL, ClientID
	return nil
}

// scope is what the client asks for: the scenario's, else the target's
// default (an SPA's own with offline_access for certification).
func (r *Run) scope() string {
	if r.Scenario.Client.Scope != "" {
		return r.Scenario.Client.Scope
	}
	if r.Scenario.Judges == "idp" {
		return idpScope(r.Plan.External)
	}
	return DefaultScope
}

// usesDPoP: the client binds its tokens with DPoP in this run, because the
// scenario says so or because the target requires it of every idp scenario
// (refreshsuite certify --dpop).
func usesDPoP(s *scenarios.Scenario, ext *target.External) bool {
	return s.Client.DPoP != nil && *s.Client.DPoP || ext != nil && ext.DPoP && s.Judges == "idp"
}

// idpScope is what the reference SPA of an idp scenario asks for when the
// scenario does not say.
func idpScope(ext *target.External) string {
	if ext != nil && ext.Scope != "" {
		return ext.Scope
	}
	return CertifyScope
}

// CertifyScope is what the reference SPA of an idp scenario asks for.
const CertifyScope = "openid profile offline_access"

// loginPrompt is the prompt of the login request of an idp scenario: consent
// when it asks for offline_access, as OpenID Connect Core 11 requires, unless
// the target names its own (--authorize-param prompt=...).
func loginPrompt(s *scenarios.Scenario, scope string, ext *target.External) string {
	if s.Judges != "idp" {
		return ""
	}
	if ext != nil {
		if p, ok := ext.AuthorizeParams["prompt"]; ok {
			return p
		}
	}
	if strings.Contains(" "+scope+" ", " offline_access ") {
		return "consent"
	}
	return ""
}

// crossSite reports whether two URLs are on different sites (scheme and
// registrable domain; the port does not count), which decides whether the
// IdP's session cookie is a third-party cookie in the app's iframe.
func crossSite(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	if err1 != nil || err2 != nil {
		return true
	}
	return browser.Site(ua) != browser.Site(ub)
}

// SkipScenario says why a scenario cannot apply to a client, or "" when it can.
func SkipScenario(m *fixtures.Manifest, s *scenarios.Scenario) string {
	for _, n := range s.Needs {
		if !m.Has(n) {
			return fmt.Sprintf("client %s does not declare capability %s", m.Name, n)
		}
	}
	if s.Client.DPoP != nil && *s.Client.DPoP && !m.Has("dpop") {
		return fmt.Sprintf("client %s does not declare capability dpop, which client.dpop needs", m.Name)
	}
	if s.Client.Storage != "" && !m.Has("token-storage") {
		return fmt.Sprintf("client %s does not declare capability token-storage, which client.storage %s needs", m.Name, s.Client.Storage)
	}
	for _, st := range s.Steps {
		fn := st.Call
		if st.Login {
			fn = "login"
		}
		if fn != "" && !m.Drives(fn) {
			return fmt.Sprintf("client %s registers no driver function %s", m.Name, fn)
		}
	}
	for _, f := range s.Faults {
		switch {
		case f.On != "silent-callback":
		case m.App.URL != "":
			return fmt.Sprintf("client %s's app is served by its user (%s): a fault in its pages needs an app the suite serves", m.Name, m.App.URL)
		case m.App.SilentRedirect == "":
			return fmt.Sprintf("client %s has no silent callback page of its own (its callback channel is %s): the fault %s has nothing to alter", m.Name, m.ChannelOf(), f.Do)
		}
	}
	return ""
}

// SkipSpec says why one expectation cannot apply to a client, or "".
func SkipSpec(m *fixtures.Manifest, x scenarios.Expectation) string {
	for _, tok := range x.TokensRead() {
		if !m.ShowsToken(tok) {
			return fmt.Sprintf("client %s keeps its %s where the page cannot read it (tokens-visible), so what it holds cannot be compared", m.Name, tok)
		}
	}
	for _, n := range x.Needs {
		if !m.Has(n) {
			return fmt.Sprintf("client %s does not declare capability %s", m.Name, n)
		}
	}
	for _, n := range x.Unless {
		if m.Has(n) {
			return fmt.Sprintf("client %s declares capability %s, so this does not apply to it", m.Name, n)
		}
	}
	// An any-of applies while one of its alternatives can be observed; the
	// others are left out when it is judged (Unobservable).
	why := ""
	for _, q := range x.Queries() {
		w := ""
		for _, what := range q.Kinds() {
			if w = Unobservable(m, what); w != "" {
				break
			}
		}
		if w == "" {
			return ""
		}
		why = w
	}
	return why
}

// Unobservable says why a client's run cannot show entries of a kind, or "".
func Unobservable(m *fixtures.Manifest, what string) string {
	switch {
	case strings.HasPrefix(what, "client.") && !m.ForwardsEvents():
		return fmt.Sprintf("client %s forwards no library events: %s cannot be observed", m.Name, what)
	case what == "harness.tokens" && !m.Drives("tokens"):
		return fmt.Sprintf("client %s registers no tokens() driver function: the tokens it holds cannot be observed", m.Name)
	}
	return ""
}

// libraryConfig renders the manifest's template with this run's values, then
// the suite settings the scenario sets, then the scenario's raw library keys.
func libraryConfig(m *fixtures.Manifest, s *scenarios.Scenario, issuer, clientID string, app *appServer, ext *target.External) (map[string]any, error) {
	scope := orDefault(s.Client.Scope, DefaultScope)
	if s.Judges == "idp" && s.Client.Scope == "" {
		scope = idpScope(ext)
	}
	responseType := "code"
	if s.Client.Flow == "implicit" {
		responseType = "id_token token"
	}
	origin := issuer
	if u, err := url.Parse(issuer); err == nil {
		origin = u.Scheme + "://" + u.Host
	}
	values := map[string]string{
		"issuer": issuer, "issuer-origin": origin, "issuer-host": strings.TrimPrefix(strings.TrimPrefix(origin, "https://"), "http://"),
		"client-id": clientID, "redirect-uri": app.url(m.App.Redirect), "silent-redirect-uri": app.url(m.SilentPage()),
		"app-origin": app.origin, "scope": scope, "response-type": responseType,
	}
	for name, page := range m.App.Pages {
		values["page."+name] = app.url(page)
	}
	cfg := m.Render(values)
	set := func(name string, v any) error {
		st, ok := m.Config.Settings[name]
		if !ok {
			return fmt.Errorf("scenario %s sets client.%s, but the manifest %s does not map it to a library setting", s.Name(), name, m.File)
		}
		v, err := st.Value(v)
		if err != nil {
			return fmt.Errorf("%s: config.settings.%s: %w", m.File, name, err)
		}
		fixtures.SetPath(cfg, st.Key, v)
		return nil
	}
	if _, mapped := m.Config.Settings["flow"]; mapped {
		if err := set("flow", orDefault(s.Client.Flow, "code")); err != nil {
			return nil, err
		}
	}
	if s.Client.RenewalFactor != nil {
		if err := set("renewal-factor", *s.Client.RenewalFactor); err != nil {
			return nil, err
		}
	}
	if s.Client.SilentRefreshTimeout != nil {
		if err := set("silent-refresh-timeout", s.Client.SilentRefreshTimeout.D()); err != nil {
			return nil, err
		}
	}
	if s.Client.RenewalWindow != nil {
		if err := set("renewal-window", s.Client.RenewalWindow.D()); err != nil {
			return nil, err
		}
	}
	if s.Client.RenewalBefore != nil {
		if err := set("renewal-before", s.Client.RenewalBefore.D()); err != nil {
			return nil, err
		}
	}
	if s.Client.SilentRefresh != nil {
		if err := set("silent-refresh", *s.Client.SilentRefresh); err != nil {
			return nil, err
		}
	}
	if usesDPoP(s, ext) {
		if err := set("dpop", true); err != nil {
			return nil, err
		}
	}
	if ext != nil && ext.SilentTimeout > 0 {
		if err := set("silent-refresh-timeout", ext.SilentTimeout); err != nil {
			return nil, err
		}
	}
	if prompt := loginPrompt(s, scope, ext); prompt != "" {
		if err := set("login-prompt", prompt); err != nil {
			return nil, err
		}
	}
	if ext != nil && len(ext.AuthorizeParams) > 0 {
		params := map[string]any{}
		for k, v := range ext.AuthorizeParams {
			if k != "prompt" { // the login's only: prompt=none is the silent request's own
				params[k] = v
			}
		}
		if len(params) > 0 {
			if err := set("authorize-params", params); err != nil {
				return nil, err
			}
		}
	}
	for k, v := range s.Client.Library {
		cfg[k] = v
	}
	return cfg, nil
}

// signingKey is one RSA key for all the IdPs a process starts.
var signingKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Steps performs the scenario's steps in order. The first failing step stops
// the run: the specs then fail with its error instead of judging half a run.
func (r *Run) Steps(ctx context.Context) error {
	for i, st := range r.Scenario.Steps {
		// A step's text may carry a forged response: redacted like the rest.
		f := timeline.Fields{"step": timeline.Redact(st.Text), "index": fmt.Sprint(i + 1), "tab": r.tab()}
		if st.Tab != 0 {
			f["tab"] = fmt.Sprint(st.Tab)
		}
		if st.Call != "" {
			f["call"] = st.Call
		}
		r.Timeline.Add("harness.step", f)
		if err := r.step(ctx, i, st); err != nil {
			return fmt.Errorf("%s:%d: step %d (%s): %w", r.Scenario.File, st.Line, i+1, st.Text, err)
		}
		r.snapshot(ctx)
	}
	return nil
}

func (r *Run) step(ctx context.Context, i int, st scenarios.Step) error {
	return stepRunners[st.Kind().Name].run(r, ctx, st, r.Plan.Timeouts[i])
}

// open loads the app and waits until it reports that it started.
func (r *Run) open(ctx context.Context, timeout time.Duration) (timeline.Entry, error) {
	after := len(r.Timeline.Entries())
	if err := r.session.Navigate(r.app.url(r.Manifest.App.Start)); err != nil {
		return timeline.Entry{}, &environmentError{fmt.Sprintf("open the app: the browser could not load %s: %v", r.app.url(r.Manifest.App.Start), err)}
	}
	return r.waitAfter(ctx, after, scenarios.Selector{What: "client.ready", Where: map[string]string{"tab": r.tab()}}, timeout)
}

// login opens the app and logs in through the IdP, unless the app starts
// logged in already (a second tab finding the first one's tokens).
func (r *Run) login(ctx context.Context, timeout time.Duration) error {
	start := len(r.Timeline.Entries())
	ready, err := r.open(ctx, timeout)
	if err != nil {
		return r.withProblem(err, start)
	}
	if ready.Fields["error"] != "" {
		return r.withProblem(fmt.Errorf("the app failed to start: %s", ready.Fields["error"]), start)
	}
	if ready.Fields["logged_in"] == "yes" {
		return nil
	}
	after := len(r.Timeline.Entries())
	if err := r.session.Start("login"); err != nil {
		return fmt.Errorf("start login: %w", err)
	}
	if r.loginFile != nil {
		if err := r.loginSteps(ctx, r.loginFile, after); err != nil {
			return err
		}
	}
	back, err := r.waitAfter(ctx, after, scenarios.Selector{What: "client.ready", Where: map[string]string{"tab": r.tab()}}, timeout)
	if err != nil {
		if r.Plan.External != nil {
			// The login file (or its absence) does not fit the IdP's pages.
			where := r.here(ctx)
			hint := "check the --login steps"
			if r.loginFile == nil {
				hint = "give --login the steps that log in on this page"
			}
			return &loginFileError{fmt.Sprintf("login: the browser did not come back to %s within %s; it is at %s: %s", r.app.url(r.Manifest.App.Redirect), timeout, orDefault(where, "a page that does not answer"), hint)}
		}
		if !r.leftForTheIdP(after) {
			return r.withProblem(fmt.Errorf("the app never went to the IdP's login after login() (%w)", err), after)
		}
		return r.withProblem(fmt.Errorf("the app did not come back from the IdP: %w", err), after)
	}
	if back.Fields["logged_in"] != "yes" {
		return r.withProblem(&loginRefused{back.Fields["error"]}, after)
	}
	return nil
}

// loginRefused is a login the app came back from not logged in: a failure
// for login, the outcome an attempt-login step records.
type loginRefused struct{ reason string }

func (l *loginRefused) Error() string {
	return fmt.Sprintf("the app came back from the IdP not logged in (%s)", l.reason)
}

// recordURL notes whether a token or code is left in the tab's URL or history.
func (r *Run) recordURL(ctx context.Context) error {
	inURL, inHistory, err := r.session.URLSecrets(ctx)
	if err != nil {
		return fmt.Errorf("read the tab's history: %w", err)
	}
	r.Timeline.Add("harness.url", timeline.Fields{"in_url": yesNo(inURL), "in_history": yesNo(inHistory), "tab": r.tab()})
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// withProblem adds the first thing that went wrong in the page since entry n
// (a refused request, an HTTP error, an uncaught exception, a console error)
// to a step's error: "not logged in (Failed to fetch)" says little next to a
// 200 from the IdP that CORS hid from the page.
func (r *Run) withProblem(err error, n int) error {
	es := r.Timeline.Entries()
	if p := browser.Problem(es[min(n, len(es)):]); p != "" {
		return fmt.Errorf("%w; first problem in the page: %s", err, p)
	}
	return err
}

// leftForTheIdP reports whether the top frame navigated to the IdP since
// entry n.
func (r *Run) leftForTheIdP(n int) bool {
	es := r.Timeline.Entries()
	for _, e := range es[min(n, len(es)):] {
		if e.What == "browser.navigated" && e.Fields["frame"] == "top" && strings.HasPrefix(e.Fields["url"], origin(r.issuer)) {
			return true
		}
	}
	return false
}

// waitFor waits for the selector to pick an entry anywhere in the timeline.
func (r *Run) waitFor(ctx context.Context, sel scenarios.Selector, timeout time.Duration) (timeline.Entry, error) {
	return r.waitAfter(ctx, 0, sel, timeout)
}

// waitAfter lets scenario time run until the selector picks an entry among
// those recorded after the first n; timeout is scenario time.
func (r *Run) waitAfter(ctx context.Context, n int, sel scenarios.Selector, timeout time.Duration) (timeline.Entry, error) {
	var found timeline.Entry
	err := r.Clock.Until(ctx, func() bool {
		es := r.Timeline.Entries()
		var ok bool
		found, ok = scenarios.Pick(sel, es[min(n, len(es)):])
		return ok
	}, timeout)
	if errors.Is(err, timeline.ErrScenarioTimeout) {
		return found, fmt.Errorf("no %s within %s of scenario time: %w", sel, timeout, err)
	}
	return found, err
}

// begin starts a driver call. Its wait returns the page's clock when the call
// settled, never earlier than the call began: the page's Date.now() has whole
// milliseconds, the harness's clock does not.
func (r *Run) begin(fn string) (func(context.Context) (time.Time, error), error) {
	start := r.Clock.Now()
	wait, err := r.session.Begin(fn)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (time.Time, error) {
		_, at, err := wait(ctx)
		if at.Before(start) {
			at = start
		}
		return at, err
	}, nil
}

// call runs a driver function while scenario time runs; timeout is scenario
// time. It returns the page's clock when the call settled.
func (r *Run) call(ctx context.Context, fn string, timeout time.Duration) (time.Time, error) {
	wait, err := r.begin(fn)
	if err != nil {
		return time.Time{}, err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type outcome struct {
		at  time.Time
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		at, err := wait(cctx)
		done <- outcome{at, err}
	}()
	var result outcome
	finished := false
	err = r.Clock.Until(ctx, func() bool {
		select {
		case result = <-done:
			finished = true
		default:
		}
		return finished
	}, timeout)
	if finished {
		return result.at, result.err
	}
	return time.Time{}, err
}

// startCall begins a driver call and records its outcome whenever it settles,
// while the following steps run.
func (r *Run) startCall(fn string) error {
	wait, err := r.begin(fn)
	if err != nil {
		return fmt.Errorf("call %s: %w", fn, err)
	}
	tab := r.tab()
	go func() {
		at, err := wait(context.Background())
		var rej *browser.Rejected
		switch {
		case err == nil:
			r.Timeline.AddWall(at, "harness.call", timeline.Fields{"function": fn, "outcome": "resolved", "tab": tab})
		case errors.As(err, &rej):
			r.Timeline.AddWall(at, "harness.call", timeline.Fields{"function": fn, "outcome": "rejected", "error": rej.Message, "tab": tab})
		}
		// Any other error means the page went away with the run: nothing to record.
	}()
	return nil
}

// snapshot records what the client holds and the page's iframes after a step.
// Errors are ignored: a page in the middle of a navigation has nothing to say.
func (r *Run) snapshot(ctx context.Context) {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if raw, err := r.session.Call(sctx, "tokens"); err == nil {
		var t struct {
			AccessToken, IDToken, RefreshToken string
			Scope, TokenType                   *string
		}
		if json.Unmarshal(raw, &t) == nil {
			f := timeline.Fields{
				"access_token": timeline.Fingerprint(t.AccessToken), "id_token": timeline.Fingerprint(t.IDToken),
				"refresh_token": timeline.Fingerprint(t.RefreshToken), "tab": r.tab(),
			}
			if t.Scope != nil && *t.Scope != "" {
				f["scope"] = *t.Scope
				// Said apart so an expectation can tell a scope without
				// offline_access from one the client does not report.
				f["offline_access"] = "not granted"
				if slices.Contains(strings.Fields(*t.Scope), "offline_access") {
					f["offline_access"] = "granted"
				}
			}
			tokenType := ""
			if t.TokenType != nil {
				tokenType = strings.ToLower(*t.TokenType) // case-insensitive (RFC 6749 s7.1)
				f["token_type"] = tokenType
			}
			r.Timeline.Add("harness.tokens", f)
			r.held(ctx, t.AccessToken, t.RefreshToken, t.IDToken, tokenType)
		}
	} else if r.Scenario.Judges == "idp" {
		// The idp scenarios judge what the reference SPA holds: when it
		// cannot be read, their premises say so instead of a verdict.
		r.Timeline.Add("harness.call", timeline.Fields{"function": "tokens", "outcome": "rejected", "error": timeline.Redact(err.Error()), "tab": r.tab()})
	}
	if f, err := r.session.Frames(sctx); err == nil {
		r.Timeline.Add("browser.frames", timeline.Fields{"count": fmt.Sprint(f.Count), "visible": fmt.Sprint(f.Visible), "ids": f.IDs, "tab": r.tab()})
	}
}

// replay posts the refresh token that the nth refresh-token-issuing response
// handed out, as a second tab holding a stale token would.
func (r *Run) replay(ctx context.Context, nth int) error {
	issued := scenarios.Matches(scenarios.Selector{What: "idp.token", Where: map[string]string{"outcome": "ok", "refresh_token": "present"}}, r.Timeline.Entries())
	if nth > len(issued) {
		return fmt.Errorf("replay-refresh-token %d: the IdP issued only %d refresh tokens so far", nth, len(issued))
	}
	fp := issued[nth-1].Fields["refresh_token"]
	rt, ok := r.IdP.Token(fp)
	if !ok {
		return fmt.Errorf("replay-refresh-token %d: token %s unknown to the IdP", nth, fp)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {ClientID}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.IdP.Endpoint(fakeidp.EndpointToken), strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", r.app.origin)
	req.Header.Set(fakeidp.ActorHeader, "harness")
	resp, err := r.IdP.HTTPClient().Do(req)
	if err != nil {
		return fmt.Errorf("replay-refresh-token: %w", err)
	}
	defer resp.Body.Close()
	var body struct {
		Error string `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &body)
	r.Timeline.Add("harness.replay", timeline.Fields{"refresh_token": fp, "status": fmt.Sprint(resp.StatusCode), "error": body.Error})
	return nil
}

// forge makes a frame of a foreign origin post a silent-refresh message, in the
// client's callback format, carrying a forged authorization response.
func (r *Run) forge(ctx context.Context, response string) error {
	if r.foreign == nil {
		r.foreign = startForeign()
	}
	msg := r.Manifest.CallbackMessage(response, r.app.url(r.Manifest.SilentPage()))
	payload, err := json.Marshal(map[string]any{"m": msg})
	if err != nil {
		return err
	}
	src := r.foreign.URL + "/forge#" + url.PathEscape(string(payload))
	r.Timeline.Add("harness.forged-message", timeline.Fields{"origin": r.foreign.URL, "data": timeline.Redact(fmt.Sprint(msg)), "tab": r.tab()})
	return r.session.Eval(ctx, `(src) => { const f = document.createElement('iframe'); f.id = 'refreshsuite-forger'; f.style.display = 'none'; f.src = src; document.body.appendChild(f); }`, src)
}

// probeURL is the client's silent callback page with a made-up response in
// the shape the IdP sends for the scenario's flow: a code in the query, or
// tokens in the fragment.
func (r *Run) probeURL() string {
	page := r.app.url(r.Manifest.SilentPage())
	if orDefault(r.Scenario.Client.Flow, "code") == "code" {
		return page + "?code=probe-code-0123456789&state=probe-state-0123456789"
	}
	return page + "#access_token=probe-access-token&token_type=bearer&expires_in=300&state=probe-state-0123456789&id_token=probe.id.token"
}

// SaveTrace writes the timeline and a screenshot for a failed scenario, once.
func (r *Run) SaveTrace(dir string) (string, error) {
	if r.saved {
		return dir, nil
	}
	r.saved = true
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	var png []byte
	if r.session != nil {
		png = r.screenshot()
	}
	var b strings.Builder
	for _, e := range r.Timeline.Entries() {
		b.WriteString(e.String() + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "timeline.txt"), []byte(b.String()), 0o644); err != nil {
		return "", err
	}
	js, _ := json.MarshalIndent(r.Timeline.Entries(), "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "timeline.json"), js, 0o644); err != nil {
		return "", err
	}
	if png != nil {
		_ = os.WriteFile(filepath.Join(dir, "screenshot.png"), png, 0o644)
	}
	return dir, nil
}

// screenshot is a PNG of the page for a trace. Against an external IdP it is
// taken only while the page is the app's own, checked before and after: a
// page on the IdP's origin can show what the login file typed (the user name,
// a field that does not mask its value), and traces are handed on. Otherwise
// the timeline says why there is none.
func (r *Run) screenshot() []byte {
	if r.Plan.External == nil {
		png, _ := r.session.Screenshot()
		return png
	}
	ctx := context.Background()
	at := origin(r.here(ctx))
	why := ""
	switch {
	case at == "" || at == "://":
		why = "the page's origin could not be read"
	case at != r.app.origin:
		why = "the page is on " + at + ", not the app's origin"
	default:
		png, err := r.session.Screenshot()
		if err != nil {
			why = "it failed: " + err.Error()
			break
		}
		if origin(r.here(ctx)) != r.app.origin {
			why = "the page left the app's origin meanwhile"
			break
		}
		return png
	}
	r.Timeline.Add("harness.step", timeline.Fields{"step": "no screenshot: " + why, "tab": r.tab()})
	return nil
}

// noteLogin tells refreshsuite certify how a login against an external
// target ended: one that came back, or one that did not (with a screenshot of
// where the first such one stayed, kept outside the bundle).
func (r *Run) noteLogin(stuck *loginFileError) {
	ext := r.Plan.External
	if ext == nil {
		return
	}
	if stuck == nil {
		ext.Login("ok")
		return
	}
	msg := stuck.msg
	if ext.LoginShot != "" {
		if _, err := os.Stat(ext.LoginShot); err != nil {
			if png, err := r.session.Screenshot(); err == nil && os.WriteFile(ext.LoginShot, png, 0o644) == nil {
				msg += " (screenshot: " + ext.LoginShot + ")"
			}
		}
	}
	ext.Login("stuck\t" + msg)
}

// origin is a URL's scheme and host.
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Scheme + "://" + u.Host
}

// here is where the top frame is (origin and path), for messages; "" when
// the page does not answer.
func (r *Run) here(ctx context.Context) string {
	ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	u, _ := r.session.EvalString(ectx, hereJS)
	return u
}

// tab is the current tab's number, for the entries the harness records about it.
func (r *Run) tab() string { return fmt.Sprint(r.session.CurrentTab()) }

// Close tears everything down; safe on a partly started run.
func (r *Run) Close() {
	if r.browser != nil {
		r.browser.OnRefused(nil) // the pool's browser outlives this run's timeline
	}
	if r.session != nil {
		r.session.Close()
	}
	if r.IdP != nil {
		r.IdP.Close()
	}
	if r.app != nil {
		r.app.Close()
	}
	if r.foreign != nil {
		r.foreign.Close()
	}
}
