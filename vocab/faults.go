// Package vocab is the vocabulary scenarios, the suite and the embedded IdP
// share: the faults a scenario may declare, what each does and which
// requests it can alter. The IdP implements them; the loader checks a
// scenario against them without the IdP.
package vocab

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"
)

// KeyError is a problem with one key of a fault (on, when.<name>, do,
// times, skip, delay).
type KeyError struct {
	Key, Msg string
}

func (e *KeyError) Error() string { return e.Key + ": " + e.Msg }

func keyErr(key, format string, args ...any) *KeyError {
	return &KeyError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Anomaly is an action that answers as a correct provider would but for
// one thing: Doc says what, Altered names the claim or field it alters, as
// the request's entry records it.
type Anomaly struct{ Doc, Altered string }

// AppFaults are the faults the suite's app server applies (on:
// silent-callback); the others are the IdP's.
var AppFaults = map[string]string{
	"no-post-message": "the silent-refresh callback page is served without its postMessage",
}

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

// Answers reports whether the fault lets the request be answered normally,
// only later (slow, hold).
func (f Fault) Answers() bool { return f.Do == "slow" || f.Do == "hold" }

// MaxDelay bounds a slow endpoint: longer is a hang, and a hang is not a test.
const MaxDelay = 2 * time.Minute

// Actions lists each fault action with what it does, for docs and error
// messages; the anomalies (below) join it at init.
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

// Validate names the offending key of the fault (on, when.<name>, do,
// times, skip, delay).
func (f Fault) Validate() *KeyError {
	if !faultEndpoints[f.On] {
		return keyErr("on", "%q is not one of authorize, token, userinfo, revoke", f.On)
	}
	for _, k := range slices.Sorted(maps.Keys(f.When)) {
		if known := endpointParams[f.On]; !slices.Contains(known, k) {
			if len(known) == 0 {
				return keyErr("when."+k, "%s reads no request parameter a fault could match: leave when out", f.On)
			}
			return keyErr("when."+k, "%s reads no parameter %q (known: %s)", f.On, k, strings.Join(known, ", "))
		}
	}
	r, ok := rules[f.Do]
	if !ok {
		return keyErr("do", "%q is not one of %s", f.Do, strings.Join(ActionNames(), ", "))
	}
	if !slices.Contains(r.on, f.On) {
		return keyErr("do", "%q applies to %s only", f.Do, strings.Join(r.on, " and "))
	}
	if err := r.checkWhen(f); err != nil {
		return err
	}
	if f.Times < 0 {
		return keyErr("times", "must not be negative")
	}
	if f.Times > MaxTimes {
		return keyErr("times", "at most %d, got %d", MaxTimes, f.Times)
	}
	if f.Skip < 0 {
		return keyErr("skip", "must not be negative")
	}
	switch {
	case f.Do == "slow" && (f.Delay <= 0 || f.Delay > MaxDelay):
		return keyErr("delay", "do: slow needs a delay between 1ms and %s", MaxDelay)
	case f.Do == "hold" && f.Delay != 0:
		return keyErr("delay", "do: hold waits for the harness's release step: it takes no delay (do: slow does)")
	case f.Do != "slow" && f.Delay != 0:
		return keyErr("delay", "only do: slow takes a delay")
	}
	return nil
}

// checkWhen refuses a when that no request the action alters can satisfy:
// such a fault would never fire.
func (r rule) checkWhen(f Fault) *KeyError {
	switch {
	case f.On == "token" && r.grants != nil:
		if g, ok := f.When["grant_type"]; ok && !slices.Contains(r.grants, g) {
			return keyErr("when.grant_type", "do: %s alters the responses to grant_type %s only, never %q", f.Do, strings.Join(r.grants, " and "), g)
		}
		var carried []string
		for _, g := range r.grants {
			carried = append(carried, grantParams[g]...)
		}
		for _, k := range slices.Sorted(maps.Keys(f.When)) {
			if !slices.Contains(carried, k) {
				return keyErr("when."+k, "do: %s alters %s requests, which carry no %s", f.Do, strings.Join(r.grants, " and "), k)
			}
		}
	case f.On == "authorize":
		if rt, ok := f.When["response_type"]; ok && r.responseTypes != nil && !r.responseTypes(strings.Fields(rt)) {
			return keyErr("when.response_type", "do: %s alters nothing in the response to response_type %q", f.Do, rt)
		}
		if sc, ok := f.When["scope"]; ok && r.openid && !slices.Contains(strings.Fields(sc), "openid") {
			return keyErr("when.scope", "do: %s alters an id_token, and scope %q asks for none (no openid)", f.Do, sc)
		}
	}
	return nil
}

// Alters reports whether action do can alter the response to this request
// to endpoint: a request it cannot alter is no match for its fault.
func Alters(do, endpoint string, params url.Values) bool { return rules[do].alters(endpoint, params) }

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

// IDTokenAnomalies are the actions that alter an id_token: what each does,
// and the claim or part it alters, as the request's entry records it
// (altered).
var IDTokenAnomalies = map[string]Anomaly{
	"id-token-wrong-iss":     {"the id_token's iss is another issuer (<the IdP's origin>/another-issuer)", "id_token.iss"},
	"id-token-wrong-sub":     {"the id_token's sub is another user (another-<sub>); on refresh OpenID Connect Core 12.2 requires the same sub", "id_token.sub"},
	"id-token-wrong-aud":     {"the id_token's aud is another client only ([another-<client_id>])", "id_token.aud"},
	"id-token-wrong-azp":     {"the id_token's azp is another client (another-<client_id>); aud is still the client", "id_token.azp"},
	"id-token-no-nonce":      {"the id_token carries no nonce (login and silent renewal: a refreshed id_token has none anyway)", "id_token.nonce"},
	"id-token-wrong-nonce":   {"the id_token's nonce is not the request's (another-<nonce>; on refresh, where it has none, one other than the login's)", "id_token.nonce"},
	"id-token-wrong-at-hash": {"the id_token's at_hash is not the hash of the access token that comes with it", "id_token.at_hash"},
	"id-token-expired":       {"the id_token's exp is an hour before now (iat is now)", "id_token.exp"},
	"id-token-future-iat":    {"the id_token's iat is an hour after now (exp is as always)", "id_token.iat"},
	"id-token-unknown-kid":   {"the id_token is signed with a key the JWKS never publishes (kid refreshsuite-unknown)", "id_token.kid"},
	"id-token-bad-signature": {"the id_token's signature does not verify (one bit of it flipped); header and claims are as always", "id_token.signature"},
	"id-token-alg-none":      {"the id_token is unsigned: header alg none (kid and typ kept), empty signature", "id_token.alg"},
	"id-token-no-kid":        {"the id_token is signed with the current key, but its header names no kid", "id_token.kid"},
}

// RefreshAnomalies alter a refresh response's fields, with the field each
// alters.
var RefreshAnomalies = map[string]Anomaly{
	"refresh-no-refresh-token":  {"a refresh answers without a refresh_token, as RFC 6749 section 6 allows: the client keeps the one it has, so that refresh rotates none; the presented token stays the live token of its chain (its expiry unchanged, no grace started) and presenting it again is no replay; the access token it replaces is revoked as at any refresh", "refresh_token"},
	"refresh-no-id-token":       {"a refresh answers without an id_token, as OpenID Connect Core 12.2 allows", "id_token"},
	"refresh-narrower-scope":    {"a refresh's scope field is narrower than granted: without the first granted scope other than openid and offline_access (else the last); the tokens keep the granted scope", "scope"},
	"refresh-wider-scope":       {"a refresh's scope field is wider than granted: plus the first of the client's scopes not granted (else another-scope); the tokens keep the granted scope", "scope"},
	"refresh-no-expires-in":     {"a refresh answers without expires_in (only RECOMMENDED by RFC 6749 section 5.1); the access token lives its lifetime as always", "expires_in"},
	"refresh-expires-in-string": {`a refresh answers expires_in as a JSON string ("300"), not a number`, "expires_in"},
}

// idTokenRule: an id_token anomaly alters the id_token of a login or a
// silent renewal (the authorization response's, or its code's exchange's)
// and of a refresh.
var idTokenRule = rule{
	on:            []string{"authorize", "token"},
	grants:        []string{"authorization_code", "refresh_token"},
	responseTypes: withIDToken,
	openid:        true,
}

// withIDToken: the response has an id_token, or a code whose exchange
// gives one.
func withIDToken(types []string) bool {
	return slices.Contains(types, "id_token") || slices.Contains(types, "code")
}

// withAccessToken: an access token comes with the id_token (implicit or
// hybrid), or a code whose exchange gives both.
func withAccessToken(types []string) bool {
	return (slices.Contains(types, "id_token") && slices.Contains(types, "token")) || slices.Contains(types, "code")
}

// The anomalies join the fault actions, each with where it applies.
func init() {
	for do, x := range IDTokenAnomalies {
		Actions[do] = x.Doc
		r := idTokenRule
		switch do {
		case "id-token-no-nonce":
			r.grants = []string{"authorization_code"}
		case "id-token-wrong-at-hash":
			r.responseTypes = withAccessToken
		}
		rules[do] = r
	}
	for do, x := range RefreshAnomalies {
		Actions[do] = x.Doc
		rules[do] = rule{on: []string{"token"}, grants: []string{"refresh_token"}}
	}
	Actions["wrong-state"] = "authorize answers with another state than the request's (another-<state>), in a success or an error response alike"
	rules["wrong-state"] = rule{on: []string{"authorize"}}
	Actions["rotate-signing-key-unannounced"] = "the IdP rotates to a new signing key (a new kid) as it answers, and signs this response's id_token and all later tokens with it; its JWKS lists the key only from the first fetch after a token signed with it went out (for a code flow's /authorize: after the code's exchange), so a client's cached JWKS never has it: unlike the rotate-signing-key step, which lists the key at once"
	rules["rotate-signing-key-unannounced"] = idTokenRule
}
