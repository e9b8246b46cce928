package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/target"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// The steps of the idp scenarios (judges: idp): the harness talks to the IdP
// target by plain HTTP, or sends the top frame to it, the way the protocol
// does, and records what came back. The raw tokens they present come from the
// vault, fed by what the client's tokens() shows after every step and by the
// answers of these steps; the timeline holds fingerprints only.

// vault keeps the raw tokens of a run in memory.
type vault struct {
	// firstRT is the first refresh token the client held (its login's),
	// heldRT the one it holds now, newestRT the newest seen, held or
	// answered.
	firstRT, heldRT, newestRT string
	// heldAT is the access token the client holds now, heldType its
	// token_type as the client reports it (lower case; "" when it does not).
	heldAT, heldType string
	// foreign is the harness's own DPoP key: not the client's, so a proof
	// made with it must not unlock what is bound to the client's key.
	foreign *target.DPoPKey
	// loginIDT is the first id_token the client held; seen are the id_tokens
	// already checked.
	loginIDT string
	seen     map[string]bool
}

// held notes what the client holds after a step, and checks an id_token it
// has not shown before (idp scenarios).
func (r *Run) held(ctx context.Context, at, rt, idt, tokenType string) {
	r.vault.heldAT, r.vault.heldType = at, tokenType
	if rt != "" {
		if r.vault.firstRT == "" {
			r.vault.firstRT = rt
		}
		if rt != r.vault.heldRT {
			r.vault.newestRT = rt
		}
	}
	r.vault.heldRT = rt
	if r.Scenario.Judges == "idp" && idt != "" {
		r.checkIDToken(ctx, idt, "client")
	}
}

// endpoints reads the target's discovery document once, from the app's
// origin, as the client's library does.
func (r *Run) endpoints(ctx context.Context) (*target.Discovery, error) {
	if r.disc != nil {
		return r.disc, nil
	}
	d, err := target.FetchDiscovery(ctx, r.http, r.issuer, r.app.origin)
	if err != nil {
		return nil, err
	}
	r.disc = d
	r.keys = &target.KeySet{URI: d.JWKSURI, Client: r.http}
	return d, nil
}

// discovery records each check of the discovery document (IDP-DISC-1).
func (r *Run) discovery(ctx context.Context) error {
	d, err := r.endpoints(ctx)
	if err != nil {
		r.Timeline.Add("harness.discovery", timeline.Fields{"error": err.Error()})
		return nil
	}
	f := timeline.Fields{"url": d.URL, "issuer": d.Issuer}
	for _, c := range d.Checks(r.issuer, r.app.origin) {
		f[c.Field] = yesNo(c.OK)
	}
	f["revocation_endpoint"] = yesNo(d.RevocationEndpoint != "")
	f["iss_parameter"] = yesNo(d.IssParameter)
	f["dpop"] = yesNo(len(d.DPoPAlgs) > 0)
	r.Timeline.Add("harness.discovery", f)
	return nil
}

// presented is the refresh token a step names (held, first, newest, or
// unknown: one nobody issued).
func (v *vault) presented(which string) string {
	switch which {
	case "held":
		return v.heldRT
	case "first":
		return v.firstRT
	case "newest":
		return v.newestRT
	case "unknown":
		return "refreshsuite-unknown-" + target.RandomString()
	}
	return ""
}

// answered records an HTTP answer's status and whether the app's origin may
// read it: CORS on the actual response, which a preflight does not prove.
func (r *Run) answered(f timeline.Fields, status int, allowOrigin string) {
	f["status"] = fmt.Sprint(status)
	f["cors"] = "refused"
	if target.CORSAllows(allowOrigin, r.app.origin) {
		f["cors"] = "allowed"
	}
}

// revoke revokes a refresh token as a public client's logout does (RFC
// 7009 section 2.1: the token, its type hint and client_id, no secret), from
// the app's origin, and records whether the answer was a 200 the app could
// read (CORS on the actual response: a preflight alone proves nothing).
func (r *Run) revoke(ctx context.Context, which string) error {
	d, err := r.endpoints(ctx)
	if err != nil {
		return fmt.Errorf("revoke: the discovery document: %w", err)
	}
	rt := r.vault.presented(which)
	f := timeline.Fields{"presented": which}
	switch {
	case d.RevocationEndpoint == "":
		f["outcome"] = "not-advertised"
	case rt == "":
		r.Timeline.Add("harness.step", timeline.Fields{"step": "revoke " + which + ": the client holds no refresh token to revoke"})
		return nil
	default:
		f["presented_refresh_token"] = timeline.Fingerprint(rt)
		a, err := target.PostToken(ctx, r.http, d.RevocationEndpoint, r.app.origin, url.Values{
			"token": {rt}, "token_type_hint": {"refresh_token"}, "client_id": {r.clientID},
		}, "")
		if err != nil {
			f["outcome"], f["error"] = "unanswered", timeline.Redact(err.Error())
			break
		}
		r.answered(f, a.Status, a.AllowOrigin)
		f["outcome"] = "ok"
		if a.Status != http.StatusOK {
			// RFC 7009 2.2: 200 whatever the token was; a body is not required.
			f["outcome"], f["error"] = "error", a.Error
		}
	}
	r.Timeline.Add("harness.revoke", f)
	return nil
}

// userinfo asks the userinfo endpoint about the access token the client
// holds, from the app's origin (OIDC Core 5.3), and records whether the
// actual answer is one the app could read, and whether it is about the
// id_token's user (5.3.2: the sub must match, else the answer is not used).
func (r *Run) userinfo(ctx context.Context) error {
	d, err := r.endpoints(ctx)
	if err != nil {
		return fmt.Errorf("userinfo: the discovery document: %w", err)
	}
	f := timeline.Fields{}
	switch {
	case d.UserinfoEndpoint == "":
		f["outcome"] = "not-advertised"
	case r.vault.heldAT == "":
		r.Timeline.Add("harness.step", timeline.Fields{"step": "userinfo: the client holds no access token to present"})
		return nil
	default:
		// A DPoP-bound access token is presented as the client presents it:
		// under the DPoP scheme with a proof of its key (RFC 9449 s7.1).
		proof := ""
		if r.vault.heldType == "dpop" {
			f["dpop"] = "client"
			if proof, err = r.clientProof(ctx, d.UserinfoEndpoint, http.MethodGet, "", true); err != nil {
				return err
			}
		}
		a, err := target.GetUserinfo(ctx, r.http, d.UserinfoEndpoint, r.app.origin, r.vault.heldAT, proof)
		if err != nil {
			f["outcome"], f["error"] = "unanswered", timeline.Redact(err.Error())
			break
		}
		r.answered(f, a.Status, a.AllowOrigin)
		f["outcome"] = "error"
		if a.Status == http.StatusOK {
			f["outcome"] = "ok"
			login, _ := target.DecodeClaims(r.vault.loginIDT)
			f["sub_matches"] = yesNo(a.Sub != "" && a.Sub == login.Sub)
		}
	}
	r.Timeline.Add("harness.userinfo", f)
	return nil
}

// clientProof is a DPoP proof for one request the harness sends, made by
// the client's library with its own key (its dpopProof driver function), as
// the client would send with that request.
func (r *Run) clientProof(ctx context.Context, uri, method, nonce string, withAccessToken bool) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	raw, err := r.session.Call(cctx, "dpopProof", uri, method, nonce, withAccessToken)
	if err != nil {
		return "", fmt.Errorf("dpopProof: the client made no DPoP proof: %w", err)
	}
	var proof *string
	if err := json.Unmarshal(raw, &proof); err != nil || proof == nil || *proof == "" {
		return "", fmt.Errorf("dpopProof: the client made no DPoP proof (it answered %s): it holds no DPoP key", raw)
	}
	return *proof, nil
}

// dpopProof is the proof a token-request sends: the client's (default when
// the client binds its tokens with DPoP), the harness's own key's (other),
// or none.
func (r *Run) dpopProof(ctx context.Context, mode, uri, nonce string) (string, error) {
	switch mode {
	case "client":
		return r.clientProof(ctx, uri, http.MethodPost, nonce, false)
	case "other":
		if r.vault.foreign == nil {
			k, err := target.NewDPoPKey()
			if err != nil {
				return "", err
			}
			r.vault.foreign = k
		}
		return r.vault.foreign.Proof(http.MethodPost, uri, "", nonce, time.Now())
	}
	return "", nil
}

// proofMode is what a token-request's dpop modifier says, or what the client
// itself would send.
func (r *Run) proofMode(st scenarios.Step) string {
	switch {
	case st.DPoP != "":
		return st.DPoP
	case usesDPoP(r.Scenario, r.Plan.External):
		return "client"
	}
	return "none"
}

// tokenRequest presents a refresh token by plain HTTP, with the DPoP proof
// the step asks for, and records the answer.
func (r *Run) tokenRequest(ctx context.Context, st scenarios.Step) error {
	which := st.TokenRequest
	d, err := r.endpoints(ctx)
	if err != nil {
		return fmt.Errorf("token-request: the discovery document: %w", err)
	}
	rt := r.vault.presented(which)
	if rt == "" {
		// Nothing to present: the expectations about this answer are then
		// not applicable (their anchors pick nothing).
		r.Timeline.Add("harness.step", timeline.Fields{"step": "token-request " + which + ": the client holds no refresh token to present"})
		return nil
	}
	mode := r.proofMode(st)
	f := timeline.Fields{"presented": which, "presented_refresh_token": timeline.Fingerprint(rt), "dpop": mode}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {r.clientID}}
	proof, err := r.dpopProof(ctx, mode, d.TokenEndpoint, "")
	if err != nil {
		return err
	}
	a, err := target.PostToken(ctx, r.http, d.TokenEndpoint, r.app.origin, form, proof)
	if err == nil && proof != "" && a.Error == "use_dpop_nonce" && a.DPoPNonce != "" {
		// The IdP wants a nonce of its own in the proof (RFC 9449 s8): once
		// more with it, as a client does.
		f["dpop_nonce"] = "asked"
		if proof, err = r.dpopProof(ctx, mode, d.TokenEndpoint, a.DPoPNonce); err != nil {
			return err
		}
		a, err = target.PostToken(ctx, r.http, d.TokenEndpoint, r.app.origin, form, proof)
	}
	if err != nil {
		f["outcome"], f["error"] = "unanswered", timeline.Redact(err.Error())
		r.Timeline.Add("harness.token", f)
		return nil
	}
	r.answered(f, a.Status, a.AllowOrigin)
	if !a.OK() {
		f["outcome"], f["error"] = "error", a.Error
		r.Timeline.Add("harness.token", f)
		return nil
	}
	f["outcome"] = "ok"
	f["access_token"], f["refresh_token"], f["id_token"] = timeline.Fingerprint(a.AccessToken), timeline.Fingerprint(a.RefreshToken), timeline.Fingerprint(a.IDToken)
	f["scope"], f["expires_in"] = a.Scope, a.ExpiresIn
	f["token_type"] = strings.ToLower(a.TokenType)
	if a.RefreshToken != "" {
		f["new_refresh_token"] = yesNo(a.RefreshToken != rt)
		r.vault.newestRT = a.RefreshToken
	}
	var expiresIn int64
	_, serr := fmt.Sscan(a.ExpiresIn, &expiresIn)
	f["expires_in_ok"] = yesNo(serr == nil && expiresIn > 0)
	f["exp_consistent"] = "opaque"
	if c, err := target.DecodeClaims(a.AccessToken); err == nil && c.Exp != 0 && c.Iat != 0 {
		life := c.Exp - c.Iat
		f["exp_consistent"] = yesNo(serr == nil && life >= expiresIn-5 && life <= expiresIn+5)
	}
	for k, v := range f {
		if v == "" {
			delete(f, k) // what the answer did not carry
		}
	}
	r.Timeline.Add("harness.token", f)
	if a.IDToken != "" {
		r.checkIDToken(ctx, a.IDToken, "harness")
	}
	return nil
}

// checkIDToken records a new id_token: its signature against the key set,
// and, once it is not the login's, its claims against the login's (OIDC Core
// 12.2).
func (r *Run) checkIDToken(ctx context.Context, idt, source string) {
	if r.vault.seen[idt] {
		return
	}
	if r.vault.seen == nil {
		r.vault.seen = map[string]bool{}
	}
	r.vault.seen[idt] = true
	f := timeline.Fields{"id_token": timeline.Fingerprint(idt), "source": source, "refreshed": "no"}
	var problems []string
	if _, err := r.endpoints(ctx); err != nil {
		f["signature"], f["signature_error"] = "unchecked", err.Error()
	} else {
		sig, err := r.keys.Signature(ctx, idt)
		f["signature"] = sig
		if err != nil {
			f["signature_error"] = timeline.Redact(err.Error())
		}
		if sig != "valid" && sig != "unchecked" {
			problems = append(problems, "signature")
		}
	}
	now, err := target.DecodeClaims(idt)
	switch {
	case r.vault.loginIDT == "":
		r.vault.loginIDT = idt
	case err != nil:
		f["refreshed"] = "yes"
		problems = append(problems, "format")
	default:
		f["refreshed"] = "yes"
		login, _ := target.DecodeClaims(r.vault.loginIDT)
		claims, bad := target.Refreshed(login, now, time.Now())
		for k, v := range claims {
			f[k] = v
		}
		problems = append(problems, bad...)
	}
	if len(problems) > 0 {
		f["problems"] = strings.Join(problems, " ")
	}
	r.Timeline.Add("harness.id-token", f)
}

// landedJS reads what the top frame's URL carries once it is at the prefix
// (a redirect URI), from the query or the fragment: the OAuth error, or
// "code", and the response's iss (RFC 9207; null without one), as JSON;
// "" while the page is elsewhere.
const landedJS = `(prefix) => {
	if (!location.href.startsWith(prefix)) return '';
	const q = new URLSearchParams(location.search.length > 1 ? location.search.slice(1) : location.hash.slice(1));
	return JSON.stringify({got: q.get('error') || (q.has('code') ? 'code' : 'nothing'), iss: q.get('iss')});
}`

// landed is what landedJS read.
type landed struct {
	Got string  `json:"got"`
	Iss *string `json:"iss"`
}

// issOf judges a response's iss against the issuer (RFC 9207 section 2.4:
// compared exactly, as a string).
func issOf(l landed, issuer string) string {
	switch {
	case l.Iss == nil:
		return "missing"
	case *l.Iss == issuer:
		return "match"
	}
	return "other"
}

// hereJS is the top frame's origin and path (never its query or fragment,
// which carry codes and tokens).
const hereJS = `() => location.origin + location.pathname`

// promptNone sends the top frame to /authorize with prompt=none and waits,
// up to the client's silent-refresh timeout, until it is back at the silent
// redirect URI. A top-level navigation follows whatever the IdP answers (an
// HTTP redirect, a page that navigates on) as a browser does, and is never
// refused for framing: this is the protocol's answer alone. It asks for the
// scope the client asks for in its iframe: an IdP may answer prompt=none
// differently for another scope.
func (r *Run) promptNone(ctx context.Context, timeout time.Duration) error {
	d, err := r.endpoints(ctx)
	if err != nil {
		return fmt.Errorf("prompt-none: the discovery document: %w", err)
	}
	silent := r.app.url(r.Manifest.SilentPage())
	scope := r.scope()
	f := timeline.Fields{"prompt": "none", "scope": scope, "session": yesNo(r.loggedIn), "iss_advertised": yesNo(d.IssParameter)}
	u := target.AuthorizeURL(d.AuthorizationEndpoint, r.clientID, silent, scope, url.Values{"prompt": {"none"}})
	if err := r.session.Navigate(u); err != nil {
		return &environmentError{fmt.Sprintf("prompt-none: the browser could not load %s: %v", d.AuthorizationEndpoint, err)}
	}
	var l landed
	_ = r.Clock.Until(ctx, every(pollEvery, func() bool {
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		raw, _ := r.session.EvalString(ectx, landedJS, silent)
		return raw != "" && json.Unmarshal([]byte(raw), &l) == nil
	}), timeout)
	if l.Got != "" && l.Got != "nothing" {
		f["iss"] = issOf(l, r.issuer)
	}
	switch got := l.Got; got {
	case "code":
		f["outcome"] = "code"
	case "", "nothing":
		f["outcome"] = "stayed"
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		f["at"], _ = r.session.EvalString(ectx, hereJS)
		cancel()
	default:
		f["outcome"], f["error"] = "error", got
	}
	r.Timeline.Add("harness.authorize", f)
	return nil
}

// loadedJS is "" once the top frame's document has loaded.
const loadedJS = `() => document.readyState === 'complete' ? '' : document.readyState`

// logout logs the user out at the IdP as an RP does (OpenID Connect
// RP-Initiated Logout 1.0 section 2): the top frame goes to the discovery
// document's end_session_endpoint with the login's id_token as id_token_hint
// and client_id. It sends no post_logout_redirect_uri, which the vendor would
// have to register: the IdP answers with a page of its own, which the harness
// waits for (up to timeout). A page that asks the user to confirm is
// confirmed by the login file's logout steps, when it has them; whether the
// session ended, a prompt-none step after it shows.
func (r *Run) logout(ctx context.Context, timeout time.Duration) error {
	d, err := r.endpoints(ctx)
	if err != nil {
		return fmt.Errorf("rp-initiated-logout: the discovery document: %w", err)
	}
	f := timeline.Fields{}
	if d.EndSessionEndpoint == "" {
		f["outcome"] = "not-advertised"
		r.Timeline.Add("harness.logout", f)
		return nil
	}
	q := url.Values{"client_id": {r.clientID}}
	if idt := r.vault.loginIDT; idt != "" {
		q.Set("id_token_hint", idt)
		f["id_token_hint"] = timeline.Fingerprint(idt)
	}
	u, err := url.Parse(d.EndSessionEndpoint)
	if err != nil {
		return fmt.Errorf("rp-initiated-logout: end_session_endpoint %q: %w", d.EndSessionEndpoint, err)
	}
	for k, v := range u.Query() {
		q[k] = v // its own parameters (OpenID Connect Discovery allows a query)
	}
	u.RawQuery = q.Encode()
	if err := r.session.Navigate(u.String()); err != nil {
		return &environmentError{fmt.Sprintf("rp-initiated-logout: the browser could not load %s: %v", d.EndSessionEndpoint, err)}
	}
	f["outcome"] = "loading"
	if r.pageLoaded(ctx, timeout) {
		f["outcome"] = "loaded"
	}
	steps, err := r.logoutSteps(ctx, timeout)
	if err != nil {
		return err
	}
	f["steps"] = fmt.Sprint(steps)
	ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
	f["at"], _ = r.session.EvalString(ectx, hereJS)
	cancel()
	r.Timeline.Add("harness.logout", f)
	return nil
}

// pageLoaded waits up to timeout for the top frame's document to load.
func (r *Run) pageLoaded(ctx context.Context, timeout time.Duration) bool {
	return r.Clock.Until(ctx, every(pollEvery, func() bool {
		ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		state, err := r.session.EvalString(ectx, loadedJS)
		return err == nil && state == ""
	}), timeout) == nil
}

// logoutSteps performs the login file's logout steps on the page the
// end_session_endpoint answered with, and says how many it performed. A
// click among them submits a confirmation, as a rule, which the IdP acts on
// in the request it causes: the refresh token presented after the logout
// must not overtake it, so the harness waits, up to that click's timeout,
// for the page the last click led to to load. One that leads nowhere is
// recorded; whether the session ended, the prompt-none after it shows. A
// step that never comes is the login file's problem (*configError).
func (r *Run) logoutSteps(ctx context.Context, timeout time.Duration) (int, error) {
	l := r.loginFile
	if l == nil || len(l.Logout) == 0 {
		return 0, nil
	}
	done, err := r.fileSteps(ctx, l, "logout", l.Logout, nil)
	var stuck *loginFileError
	if errors.As(err, &stuck) {
		return done.performed, &configError{stuck.msg}
	}
	if err != nil || done.lastClick == nil {
		return done.performed, err
	}
	wait := done.lastClick.StepTimeout(l)
	_, err = r.waitAfter(ctx, done.clickedAt, scenarios.Selector{What: "browser.navigated", Where: map[string]string{"frame": "top", "tab": r.tab()}}, wait)
	switch {
	case errors.Is(err, timeline.ErrScenarioTimeout):
		r.Timeline.Add("harness.step", timeline.Fields{"step": fmt.Sprintf("logout: the click at line %d led to no other page within %s", done.lastClick.Line, wait), "tab": r.tab()})
	case err != nil:
		return done.performed, err
	default:
		r.pageLoaded(ctx, timeout)
	}
	return done.performed, nil
}
