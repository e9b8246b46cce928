// Package scenarios is the declarative test format: the YAML scenario files, their
// loader (strict, with file:line: key errors), and the checks that turn each
// expectation into a verdict over a run's timeline.
package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/refreshsuite/refreshsuite/internal/strictyaml"

	"gopkg.in/yaml.v3"
)

// Version is the scenario format this loader reads.
const Version = 1

// Scenario is one file: a setup, steps to drive the client, and expectations.
// Each expectation becomes one spec (one JUnit testcase).
type Scenario struct {
	// Version is the scenario format, 1 (the only one this loader reads).
	Version int `yaml:"version" rs:"required"`
	// ID names the scenario in specs, reports and -focus: lower case words
	// joined by hyphens, unique among the scenarios of a run.
	ID string `yaml:"id" rs:"required"`
	// Title says in one line what the scenario puts the client through.
	Title string `yaml:"title" rs:"required"`
	// Description says at length what the scenario does and why; reports
	// and refreshsuite list show it.
	Description string `yaml:"description"`
	// Needs lists the client capabilities every expectation of the scenario
	// depends on (refresh-token, silent-refresh-code...); a client without one
	// has the whole scenario skipped with the reason.
	Needs []string `yaml:"needs"`
	// Labels become ginkgo labels of every container of the scenario, for
	// -label-filter (network, timing...): no spaces, none of & | ! , ( ) /, and
	// not client: or clock:, which the suite adds itself.
	Labels []string `yaml:"labels"`
	// Clock: virtual (default with the embedded IdP: the page runs on Chromium's
	// virtual time and the IdP reads the page's clock) or real.
	Clock string `yaml:"clock" rs:"enum=virtual|real"`
	// Judges says whose behaviour the expectations judge: client (default:
	// the client under test, against the embedded IdP) or idp (the IdP
	// target, through a reference client trusted as an instrument: the
	// certification profile of scenarios/idp, run by refreshsuite certify
	// against an external IdP or by refreshsuite run against the embedded
	// one). Only an idp scenario may cite IDP-* requirements and use the
	// steps that talk to the IdP by plain HTTP.
	Judges  string      `yaml:"judges" rs:"enum=client|idp"`
	IdP     IdPSpec     `yaml:"idp"`
	Browser BrowserSpec `yaml:"browser"`
	Client  ClientSpec  `yaml:"client"`
	Faults  []Fault     `yaml:"faults"`
	Steps   []Step      `yaml:"steps" rs:"required"`
	// Premises are what the expectations assume happened (the fault took
	// hold, the client asked for the scope the scenario set, the race the
	// steps set up took place). An expectation whose premise did not hold is
	// not applicable: skipped with the premise's title as the reason.
	Premises []Premise     `yaml:"premises"`
	Expect   []Expectation `yaml:"expect" rs:"required"`
	Variants []Variant     `yaml:"variants"`

	// Set by the loader.
	File    string `yaml:"-"`
	Line    int    `yaml:"-"`
	Variant string `yaml:"-"`

	root, variant *yaml.Node // for errors found later, at the key's own line
}

// KeyError is an error about one of the scenario's keys (a path such as
// client.renewal-before), found after loading, reported at the line that set
// it: the variant's when the variant overrides the key.
func (s *Scenario) KeyError(key, format string, args ...any) error {
	c := &checker{d: &strictyaml.Decoder{File: s.File}, root: s.root, variant: s.variant}
	return c.err(key, format, args...)
}

// Name is the scenario ID with its variant, as specs and reports show it.
func (s *Scenario) Name() string {
	if s.Variant == "" {
		return s.ID
	}
	return s.ID + "[" + s.Variant + "]"
}

// Requirements is the union of the expectations' requirement IDs, in order.
func (s *Scenario) Requirements() []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range s.Expect {
		for _, r := range e.Requirements {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// IdPSpec configures the embedded IdP's client for this scenario. Lifetimes
// are expressions over the client's declared values (client.renewal-before,
// client.silent-refresh-timeout ...), so that one scenario gives every client
// tokens long enough for its own renewal rule: "3 * client.renewal-before + 10s".
type IdPSpec struct {
	// AccessTokenLifetime is how long the IdP's access tokens live: 1s to
	// 24h (default 5m), an expression over client.* values.
	AccessTokenLifetime *Expr `yaml:"access-token-lifetime"`
	// IDTokenLifetime is how long id tokens live: 1s to 24h (default: the
	// access token's).
	IDTokenLifetime *Expr `yaml:"id-token-lifetime"`
	// RefreshTokenLifetime is how long the refresh tokens of one login live,
	// however often they are used (absolute: rotation does not extend it):
	// 1s to 30 days (default 24h).
	RefreshTokenLifetime *Expr `yaml:"refresh-token-lifetime"`
	// RefreshTokenIdle expires a refresh token not used for this long (each
	// refresh hands out one that starts it again): 1s to 30 days, at most
	// the lifetime (default: none). In a judges: idp scenario it configures
	// the embedded IdP; an external IdP must declare its own
	// (refreshsuite certify --refresh-token-idle), or the scenario does not
	// apply.
	RefreshTokenIdle *Expr `yaml:"refresh-token-idle"`
	// RefreshTokensEndWithSession: the IdP refuses a refresh token once the
	// login session it was granted in has ended (a logout, the session's
	// lifetime); default false, refresh tokens outlive it. In a judges: idp
	// scenario true configures the embedded IdP so, and needs an external
	// IdP that declares it (refreshsuite certify
	// --refresh-tokens-end-with-session).
	RefreshTokensEndWithSession *bool `yaml:"refresh-tokens-end-with-session"`
	// RefreshTokens is the IdP's refresh-token policy: strict (default: only
	// with the offline_access scope), always, or never.
	RefreshTokens string `yaml:"refresh-tokens" rs:"enum=strict|always|never"`
	// Rotation: rotate (default), reuse (a weakened IdP that hands the same
	// refresh token back) or unbound (rotate only a family not bound to a
	// DPoP key, as node oidc-provider does for public clients);
	// RotationGrace keeps a rotated token valid a while.
	Rotation string `yaml:"refresh-token-rotation" rs:"enum=rotate|reuse|unbound"`
	// RotationGrace is how long a rotated refresh token stays valid: 0s to
	// 1h (0s: not at all); only with refresh-token-rotation rotate.
	RotationGrace *Duration `yaml:"rotation-grace"`
	// DPoP is the IdP's RFC 9449 policy for the client: off (default:
	// nothing advertised, a proof ignored), bind (proofs checked, a proof
	// makes the access token DPoP and binds the refresh tokens of the login
	// to its key), require (bind, and a token request without a proof is
	// refused with invalid_dpop_proof) or ignore (a defective IdP: says
	// DPoP, binds nothing, so a bound token works without its key).
	DPoP string `yaml:"dpop" rs:"enum=off|bind|require|ignore"`
	// DPoPNonce (with dpop bind or require) demands the IdP's own nonce in
	// every token request's proof (RFC 9449 section 8): one without it is
	// answered use_dpop_nonce, the nonce in the DPoP-Nonce header.
	DPoPNonce *bool `yaml:"dpop-nonce"`
	// SessionLifetime is how long the IdP's login session lives: 1s to 30
	// days.
	SessionLifetime *Expr `yaml:"session-lifetime"`
	// ClockSkew sets the IdP's clock ahead of the page's (negative: behind,
	// "0s - 5m"), within a day, on the one scenario clock: iat, exp and every
	// expiry it judges move with it. An expression over the client's
	// declared values (client.clock-skew-tolerance + 60s).
	ClockSkew *Expr `yaml:"clock-skew"`
}

// BrowserSpec sets the browser conditions explicitly, never by Chromium's default.
type BrowserSpec struct {
	// ThirdPartyCookies: allowed (default) or blocked.
	ThirdPartyCookies string `yaml:"third-party-cookies" rs:"enum=allowed|blocked"`
	// Sites: cross-site (default: app on localhost, IdP on 127.0.0.1) or same-site
	// (both on 127.0.0.1, different ports).
	Sites string `yaml:"sites" rs:"enum=cross-site|same-site"`
}

// ClientSpec holds the suite-level client settings; the client's manifest maps
// them to the library's own configuration keys.
type ClientSpec struct {
	// Flow is the OAuth flow the client logs in with: code (authorization
	// code with PKCE, the default) or implicit.
	Flow string `yaml:"flow" rs:"enum=code|implicit"`
	// Scope is the space-separated scope the app asks for (default: the
	// client's own, usually "openid profile offline_access").
	Scope string `yaml:"scope"`
	// SilentRefresh renews through the hidden iframe instead of a refresh token.
	SilentRefresh *bool `yaml:"silent-refresh"`
	// Storage is where the app keeps its tokens: session (sessionStorage, one
	// copy per tab) or local (localStorage, shared by its tabs); empty leaves
	// the library's default. Needs the client's token-storage capability.
	Storage string `yaml:"storage" rs:"enum=session|local"`
	// DPoP binds the client's tokens to a key it proves possession of (RFC
	// 9449) when true; false or unset leaves the library's default (no
	// DPoP). Needs the client's dpop capability.
	DPoP *bool `yaml:"dpop"`
	// RenewalFactor is the fraction of a token's lifetime after which a
	// fraction client renews (a timeoutFactor): a number above 0 and below 1.
	RenewalFactor *float64 `yaml:"renewal-factor"`
	// RenewalBefore is how long before expiry a lead client renews: 0s to
	// 24h (capability renewal-lead).
	RenewalBefore *strictyaml.Duration `yaml:"renewal-before"`
	// RenewalWindow is how long before expiry a request for a token renews
	// it, for an on-demand client: 0s to 24h (capability
	// renewal-window-setting).
	RenewalWindow *strictyaml.Duration `yaml:"renewal-window"`
	// SilentRefreshTimeout is how long the client waits for the silent
	// refresh iframe's answer: 1ms to 10m.
	SilentRefreshTimeout *strictyaml.Duration `yaml:"silent-refresh-timeout"`
	// Library is passed to the library's configuration as is, after everything else:
	// the escape hatch for settings only one library has.
	Library map[string]any `yaml:"library"`
}

// Fault is an IdP fault (on: authorize, token, userinfo, revoke) or an app-server
// fault (on: silent-callback).
type Fault struct {
	// On is where the fault strikes: authorize, token, userinfo or revoke
	// (the IdP), or silent-callback (the app's silent-refresh page).
	On string `yaml:"on" rs:"required"`
	// When limits the fault to requests whose parameters match: parameter
	// name to value (prompt: none, grant_type: refresh_token).
	When map[string]string `yaml:"when"`
	// Do is what the fault does: an error answer (server-error,
	// invalid-grant...), a page that never redirects, framing refused, a
	// slow answer (slow, with delay) and the others docs/scenarios.md lists.
	Do string `yaml:"do" rs:"required"`
	// Times is how many matching requests the fault hits, 1 to 10000
	// (default: every one).
	Times int `yaml:"times"`
	// Skip lets the first Skip matching requests through before the fault
	// fires (0 or more): a scenario that proves the unfaulted path works first.
	Skip int `yaml:"skip"`
	// Delay is how long do: slow holds the request (needs clock: real).
	Delay Duration `yaml:"delay"`
	Line  int      `yaml:"-"`

	timesSet bool // times: 0 written out, which would never fire
}

func (f *Fault) UnmarshalStrict(d *strictyaml.Decoder, n *yaml.Node, key string) error {
	type plain Fault
	f.Line = n.Line
	f.timesSet = valueOf(n, "times") != nil
	return d.Struct(n, (*plain)(f), key)
}

// Variant overrides parts of its scenario; each variant runs as its own container.
type Variant struct {
	// ID names the variant: the container is <scenario id>[<variant id>].
	ID string `yaml:"id" rs:"required"`
	// Title says what the variant changes.
	Title string `yaml:"title"`
	// The override sections are decoded onto a copy of the base scenario.
	// IdP, Browser, Client, Faults and Needs override the scenario's own
	// sections key by key (faults and needs replace the list).
	IdP     yaml.Node `yaml:"idp"`
	Browser yaml.Node `yaml:"browser"`
	Client  yaml.Node `yaml:"client"`
	Faults  yaml.Node `yaml:"faults"`
	Needs   yaml.Node `yaml:"needs"`
	// Requirements, when given, are what every expectation of this variant
	// cites instead of its own: one scenario's steps checking a different
	// requirement per variant (each anomaly a client must reject).
	Requirements []string `yaml:"requirements"`
}

func (v *Variant) UnmarshalStrict(d *strictyaml.Decoder, n *yaml.Node, key string) error {
	if n.Kind != yaml.MappingNode {
		return d.Errorf(n, key, "want a mapping, got %s", strictyaml.KindName(n))
	}
	known := []string{"id", "title", "idp", "browser", "client", "faults", "needs", "requirements"}
	for i := 0; i < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "id":
			if err := d.Decode(val, &v.ID, strictyaml.Join(key, "id")); err != nil {
				return err
			}
		case "title":
			if err := d.Decode(val, &v.Title, strictyaml.Join(key, "title")); err != nil {
				return err
			}
		case "idp":
			v.IdP = *val
		case "browser":
			v.Browser = *val
		case "client":
			v.Client = *val
		case "faults":
			v.Faults = *val
		case "needs":
			v.Needs = *val
		case "requirements":
			if err := d.Decode(val, &v.Requirements, strictyaml.Join(key, "requirements")); err != nil {
				return err
			}
		default:
			return d.Errorf(k, strictyaml.Join(key, k.Value), "unknown key (known: %s)", strings.Join(strictyaml.Sorted(known), ", "))
		}
	}
	if v.ID == "" {
		return d.Errorf(n, strictyaml.Join(key, "id"), "required key is missing")
	}
	return nil
}

// Step is one action of the harness. In YAML a step is either a bare word
// (login, open, end-idp-session) or a mapping with one action key.
type Step struct {
	// Login opens the app and logs in interactively; waits for the app to report
	// it is logged in.
	Login bool `yaml:"login"`
	// Open opens the app without logging in.
	Open bool `yaml:"open"`
	// AttemptLogin logs in like login, but a login the client refuses (a
	// response it must not accept) is the outcome being tested, recorded as
	// harness.login, not a step that failed.
	AttemptLogin bool `yaml:"attempt-login"`
	// Call invokes a driver function and records whether it resolved or rejected.
	Call string `yaml:"call"`
	// Await false starts the call and goes on at once (to act while it is in
	// flight); its outcome is recorded when it settles.
	Await *bool `yaml:"await"`
	// WaitFor waits until an entry matching the selector is in the timeline.
	WaitFor *Selector `yaml:"wait-for"`
	// PassTime lets scenario time pass (1ms to 1h), for observing that
	// something does NOT happen; waiting for something uses wait-for. An
	// expression over the declared values (idp.rotation-grace + 1s).
	PassTime *Expr `yaml:"pass-time"`
	// ReplayRefreshToken posts the refresh token issued by the nth successful token
	// response (1 or more) again, as an attacker or a buggy second tab would.
	ReplayRefreshToken int `yaml:"replay-refresh-token"`
	// EndIdPSession ends the IdP's login sessions (logged out elsewhere).
	EndIdPSession bool `yaml:"end-idp-session"`
	// Freeze freezes the page (the page lifecycle's frozen state: a tab in the
	// background, a laptop asleep) for this long, then resumes it. Needs the
	// real clock: a frozen page holds the virtual clock still.
	Freeze *Duration `yaml:"freeze"`
	// Network takes the page offline or back online.
	Network string `yaml:"network" rs:"enum=offline|online"`
	// RotateSigningKey makes the IdP sign with a new key (a new kid) from now on.
	RotateSigningKey bool `yaml:"rotate-signing-key"`
	// Release lets go of the requests a hold fault holds at the IdP now, so
	// that a scenario ends the latency on a condition (a wait-for before it)
	// instead of guessing how long the harness needs to act meanwhile.
	Release bool `yaml:"release"`
	// ForgeMessage makes a frame from a foreign origin post a silent-refresh
	// message carrying this authorization response ("access_token=...&state=..."
	// or "code=...&state=..."), in the client's own callback format.
	ForgeMessage string `yaml:"forge-message"`
	// ProbeCallback frames the client's silent callback page, with a response
	// in its URL as the IdP would send it, in a page of a foreign origin, and
	// records whether the response reached that page (browser.callback-probe):
	// a callback that posts to "*" hands an attacker's framing page the tokens.
	ProbeCallback bool `yaml:"probe-callback"`
	// Tab makes the following steps act on tab n (1 is the one every scenario
	// starts with), opening it first if needed: a new page in the same browser
	// context, sharing cookies and localStorage, as when a user opens the app
	// in a second tab. Needs the real clock: virtual time is kept per page.
	Tab int `yaml:"tab"`
	// Discovery (judges: idp) reads the IdP's discovery document by plain
	// HTTP from the app's origin, as the client's library does, and records
	// each check of it (harness.discovery).
	Discovery bool `yaml:"discovery"`
	// TokenRequest (judges: idp) sends a refresh_token grant by plain HTTP
	// from the app's origin with a refresh token: held (the one the client
	// holds now), first (the first it held: its login's), newest (the newest
	// seen, held or answered) or unknown (one nobody issued), and records the
	// answer (harness.token, and harness.id-token for an id_token in it).
	TokenRequest string `yaml:"token-request" rs:"enum=held|first|newest|unknown"`
	// DPoP is the DPoP proof a token-request sends (RFC 9449): client (one
	// the client's library makes with its key; the default when the client
	// binds its tokens with DPoP), other (one of the harness's own key, which
	// a token bound to the client's must not accept) or none (the default
	// otherwise).
	DPoP string `yaml:"dpop" rs:"enum=client|other|none"`
	// Revoke (judges: idp) revokes a refresh token (held, first or newest,
	// as for TokenRequest) at the revocation endpoint by plain HTTP from the
	// app's origin, as a public client's logout does (RFC 7009), and records
	// the answer, CORS included (harness.revoke).
	Revoke string `yaml:"revoke" rs:"enum=held|first|newest"`
	// Userinfo (judges: idp) asks the userinfo endpoint about the access
	// token the client holds, by plain HTTP from the app's origin, and
	// records the answer, CORS included, and whether its sub is the
	// id_token's (harness.userinfo).
	Userinfo bool `yaml:"userinfo"`
	// PromptNone (judges: idp) sends the top frame to the authorization
	// endpoint with prompt=none, the client's scope and its silent redirect
	// URI, and records where it came back (harness.authorize): the protocol's
	// answer with no iframe and no framing rules in the way.
	PromptNone bool `yaml:"prompt-none"`
	// RPInitiatedLogout (judges: idp) logs the user out at the IdP as an
	// RP does (OpenID Connect RP-Initiated Logout 1.0): the top frame goes
	// to the discovery document's end_session_endpoint with the login's
	// id_token as id_token_hint and client_id, and no post-logout redirect
	// (which would need registering); once the page has loaded, the
	// harness performs the login file's logout steps on it (a page that
	// asks the user to confirm) and records where the page ended up
	// (harness.logout). Whether the session ended, a prompt-none step after
	// it shows.
	RPInitiatedLogout bool `yaml:"rp-initiated-logout"`
	// Timeout bounds login, call and wait-for, in scenario time: an
	// expression over the client's declared values, so that a wait lasts as
	// long as the client under test may take ("2 * client.silent-refresh-timeout + 10s").
	Timeout *Expr `yaml:"timeout"`

	Line int    `yaml:"-"`
	Text string `yaml:"-"`
	kind string // the action's name: its StepKind
	node *yaml.Node
}

func (s *Step) UnmarshalStrict(d *strictyaml.Decoder, n *yaml.Node, key string) error {
	s.Line, s.node = n.Line, n
	if n.Kind == yaml.ScalarNode {
		k, ok := kindByName(n.Value)
		if !ok || !k.Bare {
			return d.Errorf(n, key, "unknown step %q (bare steps: %s; others are mappings such as {call: refreshToken})", n.Value, strings.Join(strictyaml.Sorted(stepNames(true)), ", "))
		}
		reflect.ValueOf(s).Elem().Field(stepFields[k.Name]).SetBool(true)
		s.kind, s.Text = k.Name, n.Value
		return nil
	}
	type plain Step
	if err := d.Struct(n, (*plain)(s), key); err != nil {
		return err
	}
	given := map[string]bool{}
	for name := range stepFields {
		given[name] = valueOf(n, name) != nil
	}
	all := stepNames(false)
	if err := d.OneAction(n, key, given, strings.Join(all[:len(all)-1], ", ")+" or "+all[len(all)-1]); err != nil {
		return err
	}
	for name, ok := range given {
		if ok {
			s.kind = name
		}
	}
	k := s.Kind()
	for _, m := range []string{modAwait, modTimeout} {
		if v := keyNode(n, m); v != nil && !slices.Contains(k.Modifiers, m) {
			var takers []string
			for _, o := range stepKinds {
				if slices.Contains(o.Modifiers, m) {
					takers = append(takers, o.Name)
				}
			}
			return d.Errorf(v, strictyaml.Join(key, m), "%s applies to %s only", m, strings.Join(takers[:len(takers)-1], ", ")+" and "+takers[len(takers)-1])
		}
	}
	v := valueOf(n, k.Name)
	switch field := reflect.ValueOf(s).Elem().Field(stepFields[k.Name]); {
	case k.Bare && !field.Bool():
		return d.Errorf(n, key, "a bare step is written as a word (- %s), not as a mapping set to false", k.Name)
	case k.Name == "replay-refresh-token" && s.ReplayRefreshToken < 1:
		return d.Errorf(v, strictyaml.Join(key, k.Name), "want the 1-based number of a token response, got %d", s.ReplayRefreshToken)
	case k.Name == "tab" && s.Tab < 1:
		return d.Errorf(v, strictyaml.Join(key, k.Name), "tabs are numbered from 1, got %d", s.Tab)
	case field.IsZero():
		return d.Errorf(v, strictyaml.Join(key, k.Name), "%s needs a value", k.Name)
	}
	b, _ := yaml.Marshal(uncommented(n))
	s.Text = strings.TrimSpace(strings.ReplaceAll(string(b), "\n", " "))
	return nil
}

// Selector picks timeline entries: those of kind What whose fields match Where.
// Where values match exactly, except "present" (non-empty), "absent" (empty),
// "has <word>" (a space-separated list such as a scope contains the word),
// "~<regexp>", and a leading comparison (">=2", "<3" on numbers; "!=ok").
type Selector struct {
	// What is the timeline entry kind to match: idp.token, client.event,
	// browser.iframe... (the vocabulary is in docs/scenarios.md).
	What string `yaml:"what" rs:"required"`
	// Where maps entry fields to the value each must have, with the forms
	// above: exact, present, absent, has <word>, ~<regexp>, >=2, <3, !=ok.
	Where map[string]string `yaml:"where"`
	// Nth picks one match, 1-based; negative counts from the end (-1 is the
	// last); 0 is refused.
	Nth int `yaml:"nth"`
	// After keeps only entries later than the entry After picks; Before only
	// those earlier than the entry Before picks. When an anchor (after, before,
	// or a timing's since and token, or same's as) picks nothing, the
	// expectation's premise did not happen: it is not applicable.
	After  *Selector `yaml:"after"`
	Before *Selector `yaml:"before"`
	// Required, on an anchor, makes its absence a failure instead: the
	// scenario's steps guarantee it, so missing it is the client's fault.
	Required bool `yaml:"required"`

	node *yaml.Node
}

func (s *Selector) UnmarshalStrict(d *strictyaml.Decoder, n *yaml.Node, key string) error {
	type plain Selector
	if err := d.Struct(n, (*plain)(s), key); err != nil {
		return err
	}
	s.node = n
	if v := valueOf(n, "nth"); v != nil && s.Nth == 0 {
		return d.Errorf(v, strictyaml.Join(key, "nth"), "0 picks nothing: nth counts from 1 (the first match), or from -1 (the last)")
	}
	return nil
}

// uncommented is a copy of n without its comments: a step's text names the
// step, and a comment written above it is not part of it.
func uncommented(n *yaml.Node) *yaml.Node {
	c := *n
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = uncommented(k)
	}
	return &c
}

// valueOf is the value node of a mapping's key, nil when absent.
func valueOf(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// keyNode is a mapping's key node, for errors about a key's own line.
func keyNode(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i]
		}
	}
	return nil
}

func (s Selector) String() string {
	var b strings.Builder
	b.WriteString(s.What)
	keys := make([]string, 0, len(s.Where))
	for k := range s.Where {
		keys = append(keys, k)
	}
	for _, k := range strictyaml.Sorted(keys) {
		fmt.Fprintf(&b, " %s=%s", k, s.Where[k])
	}
	if s.Nth != 0 {
		fmt.Fprintf(&b, " #%d", s.Nth)
	}
	if s.After != nil {
		fmt.Fprintf(&b, " after (%s)", s.After)
	}
	if s.Before != nil {
		fmt.Fprintf(&b, " before (%s)", s.Before)
	}
	return b.String()
}

// Expectation is one checked behaviour: one spec, one JUnit testcase. It is met
// by its query, or, with any-of, by any one of several (a requirement that
// allows "an error event, or a rejected call").
type Expectation struct {
	// ID names the expectation within its scenario; the spec is "<id>: <title>".
	ID string `yaml:"id" rs:"required"`
	// Title states the behaviour checked, as a sentence.
	Title string `yaml:"title" rs:"required"`
	// Requirements are the catalogue's IDs (docs/requirements.md: TF-1,
	// SR-3...) the expectation checks; each labels its spec.
	Requirements []string `yaml:"requirements" rs:"required"`
	// Needs lists client capabilities this expectation alone depends on;
	// Unless lists capabilities that make it not apply (a client that adds
	// offline_access itself, and says so, is not judged on asking for it).
	Needs []string `yaml:"needs"`
	// Unless lists capabilities that make the expectation not apply.
	Unless []string `yaml:"unless"`
	// Premises names the scenario's premises this expectation rests on;
	// absent: all of them, [] none.
	Premises *[]string `yaml:"premises"`
	Query    `yaml:",inline"`
	// AnyOf is met when any one of its queries is: the requirement allows
	// several behaviours. Instead of the query keys, not beside them.
	AnyOf []Query `yaml:"any-of"`
	// Level is must (default) or should: a should that fails fails the run
	// on the strict profile and is reported without failing it on the
	// lenient one (refreshsuite certify --profile), so the two profiles are
	// data, not code.
	Level string `yaml:"level" rs:"enum=must|should"`
	// Diagnose says what went wrong when the expectation fails: the first
	// diagnosis whose find matches an entry puts its says, and that entry,
	// at the head of the failure message (a refused frame, an interactive
	// page, an error the IdP answered), so that the message blames the
	// party that did it.
	Diagnose []Diagnosis `yaml:"diagnose"`

	Line int `yaml:"-"`
	node *yaml.Node
}

// Diagnosis is one known way an expectation fails, and what it means.
type Diagnosis struct {
	// Find selects the entry that shows it.
	Find *Selector `yaml:"find" rs:"required"`
	// Says is the explanation, as a sentence.
	Says string `yaml:"says" rs:"required"`
}

// Should reports whether the expectation is of level should.
func (x Expectation) Should() bool { return x.Level == "should" }

// RestsOn reports whether the expectation assumes the premise holds.
func (x Expectation) RestsOn(premise string) bool {
	return x.Premises == nil || strictyaml.Contains(*x.Premises, premise)
}

// Premise is one condition the scenario's expectations assume: a query that
// must hold for them to apply. It judges nobody; when it fails, the
// expectations resting on it are skipped with its title as the reason.
type Premise struct {
	// ID names the premise, for the premises list of an expectation.
	ID string `yaml:"id" rs:"required"`
	// Title is the premise as a sentence; the reason a spec resting on it is
	// skipped when it does not hold.
	Title string `yaml:"title" rs:"required"`
	Query `yaml:",inline"`
	// AnyOf holds when any one of its queries does.
	AnyOf []Query `yaml:"any-of"`

	Line int `yaml:"-"`
	node *yaml.Node
}

func (p *Premise) UnmarshalStrict(d *strictyaml.Decoder, n *yaml.Node, key string) error {
	type plain Premise
	p.Line, p.node = n.Line, n
	return d.Struct(n, (*plain)(p), key)
}

// Query is one question put to the timeline.
type Query struct {
	// Find selects the entries the check is about.
	Find *Selector `yaml:"find"`
	// Count bounds how many entries match Find: "1", "0", ">=1", "<=2". Without
	// count, at or same, at least one must match.
	Count string `yaml:"count"`
	// Per applies Count to every window between two consecutive entries Per
	// matches (each token's life, say) instead of to the whole run.
	Per *Selector `yaml:"per"`
	// At checks when the found entry happened.
	At *Timing `yaml:"at"`
	// Same checks that a field of the found entry equals a field of another entry.
	Same *Same `yaml:"same"`
	// Cycles repeats At for the 1st..Nth found entry, each measured from its
	// own since entry, for timers that must re-arm; all checks every entry
	// found (a storm of early renewals cannot hide after the third).
	Cycles Cycles `yaml:"cycles"`
}

// Cycles is a number of cycles (1 or more), or AllCycles.
type Cycles int

// AllCycles checks every found entry.
const AllCycles Cycles = -1

func (c *Cycles) UnmarshalStrict(d *strictyaml.Decoder, n *yaml.Node, key string) error {
	if n.Kind == yaml.ScalarNode && n.Value == "all" {
		*c = AllCycles
		return nil
	}
	i, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || err != nil || i < 1 {
		return d.Errorf(n, key, "want a number of cycles from 1 up, or all, got %s", strictyaml.KindName(n))
	}
	*c = Cycles(i)
	return nil
}

func (e *Expectation) UnmarshalStrict(d *strictyaml.Decoder, n *yaml.Node, key string) error {
	type plain Expectation
	e.Line, e.node = n.Line, n
	return d.Struct(n, (*plain)(e), key)
}

// Queries are the ways the expectation can be met.
func (x Expectation) Queries() []Query {
	if len(x.AnyOf) > 0 {
		return x.AnyOf
	}
	return []Query{x.Query}
}

// TokensRead lists the tokens (access_token, id_token, refresh_token) the
// expectation compares in what the client holds (harness.tokens).
func (x Expectation) TokensRead() []string {
	var out []string
	for _, q := range x.Queries() {
		if q.Find != nil && q.Find.What == "harness.tokens" {
			for f := range q.Find.Where {
				if f != "tab" {
					out = append(out, f)
				}
			}
		}
		if q.Same == nil {
			continue
		}
		if q.Find != nil && q.Find.What == "harness.tokens" {
			out = append(out, q.Same.Field)
		}
		if q.Same.As.What == "harness.tokens" {
			f := q.Same.AsField
			if f == "" {
				f = q.Same.Field
			}
			out = append(out, f)
		}
	}
	return out
}

// Kinds lists every entry kind the expectation reads.
func (x Expectation) Kinds() []string {
	var out []string
	for _, q := range x.Queries() {
		out = append(out, q.Kinds()...)
	}
	return out
}

// Kinds lists every entry kind the query reads.
func (q Query) Kinds() []string {
	var out []string
	var add func(*Selector)
	add = func(s *Selector) {
		if s == nil {
			return
		}
		out = append(out, s.What)
		add(s.After)
		add(s.Before)
	}
	add(q.Find)
	add(q.Per)
	if q.At != nil {
		add(&q.At.Since)
		add(q.At.Token)
	}
	if q.Same != nil {
		add(&q.Same.As)
	}
	return out
}

// Timing says when the found entry must happen, measured from the Since entry:
// either at Is give or take Within, or inside the Between window. Token names a
// second entry the expressions may read (token.<field>): the latest match at or
// before the since entry, typically the IdP's response that issued the token a
// client timer was armed for.
type Timing struct {
	// Since picks the entry the time is measured from.
	Since Selector  `yaml:"since" rs:"required"`
	Token *Selector `yaml:"token"`
	// Is is when the entry is due after since; Within the tolerance either
	// way (default 100ms on the virtual clock).
	Is *Expr `yaml:"is"`
	// Within is the symmetric tolerance around is: a duration expression.
	Within *Expr `yaml:"within"`
	// Between is the window [earliest, latest] the entry must fall in, two
	// expressions in scenario time after since.
	Between []Expr `yaml:"between"`
}

// Same compares the found entry's Field with AsField (default: Field) of the
// entry that As selects.
type Same struct {
	// Field is the found entry's field to compare.
	Field string `yaml:"field" rs:"required"`
	// As picks the entry to compare with.
	As Selector `yaml:"as" rs:"required"`
	// AsField is the field of the As entry (default: the same name as field).
	AsField string `yaml:"as-field"`
	// Not inverts the check: the fields must differ (fresh state, new tokens).
	Not bool `yaml:"not"`
}
