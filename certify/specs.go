package certify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/refreshsuite/refreshsuite/reports"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// Spec is one IDP-* requirement as a check on a run's evidence.
type Spec struct {
	ID string
	// Phases are the parts of the run whose entries are the spec's trace.
	Phases []string
	check  func(ev *Evidence, p Profile) Verdict
}

// Title is the requirement's text from the catalogue.
func (s Spec) Title() string { return scenarios.Requirements[s.ID] }

// Verdict is a spec's result and why.
type Verdict struct {
	ID      string
	State   reports.State
	Message string
}

func pass(format string, a ...any) Verdict {
	return Verdict{State: reports.Passed, Message: fmt.Sprintf(format, a...)}
}
func fail(format string, a ...any) Verdict {
	return Verdict{State: reports.Failed, Message: fmt.Sprintf(format, a...)}
}
func skip(format string, a ...any) Verdict {
	return Verdict{State: reports.Skipped, Message: fmt.Sprintf(format, a...)}
}

// Phases of a run, by id.
const (
	phPreflight = "preflight"
	phLogin     = "login"
	phRefresh   = "refresh"
	phHTTP      = "http-refresh"
	phReplay    = "replay"
	phFamily    = "family"
	phSilent    = "silent"
	phTop       = "top-with-session"
	phNoSession = "no-session"
	phNoOffline = "login-without-offline-access"
)

// Specs are the IdP profile, in the catalogue's order.
var Specs = []Spec{
	{"IDP-DISC-1", []string{phPreflight}, checkDiscovery},
	{"IDP-CODE-1", []string{phPreflight, phLogin}, checkCode},
	{"IDP-OA-1", []string{phLogin}, checkOfflineAccess},
	{"IDP-OA-2", []string{phNoOffline}, checkNoOfflineAccess},
	{"IDP-RT-1", []string{phRefresh, phHTTP}, checkRefresh},
	{"IDP-RT-2", []string{phRefresh, phHTTP}, checkRotation},
	{"IDP-RT-3", []string{phHTTP, phReplay, phFamily}, checkReuse},
	{"IDP-RT-4", []string{phLogin, phRefresh, phHTTP}, checkRefreshedIDToken},
	{"IDP-SA-1", []string{phSilent}, checkSilentAuth},
	{"IDP-SA-2", []string{phNoSession}, checkLoginRequired},
	{"IDP-SA-3", []string{phSilent, phTop}, checkCrossSiteCookie},
}

// judge runs every check.
func judge(ev *Evidence, p Profile) []Verdict {
	out := make([]Verdict, len(Specs))
	for i, s := range Specs {
		v := s.check(ev, p)
		v.ID = s.ID
		out[i] = v
	}
	return out
}

func fp(tok string) string {
	if tok == "" {
		return "none"
	}
	return timeline.Fingerprint(tok)
}

func checkDiscovery(ev *Evidence, _ Profile) Verdict {
	problems := ev.Disc.Problems(ev.Issuer)
	if !corsAllows(ev.Disc.AllowOrigin, ev.AppOrigin) {
		problems = append(problems, fmt.Sprintf("the document is not readable from the SPA's origin %s (Access-Control-Allow-Origin %q)", ev.AppOrigin, ev.Disc.AllowOrigin))
	}
	if len(problems) > 0 {
		return fail("%s: %s", ev.Disc.URL, strings.Join(problems, "; "))
	}
	return pass("%s: issuer %q, authorization, token and jwks endpoints, offline_access in scopes_supported, refresh_token grant, PKCE S256, query and fragment response modes; readable from %s (CORS)",
		ev.Disc.URL, ev.Disc.Issuer, ev.AppOrigin)
}

func checkCode(ev *Evidence, p Profile) Verdict {
	if !ev.Login.OK {
		return fail("the login with the code flow and PKCE did not complete: %s", ev.Login.Err)
	}
	msg := fmt.Sprintf("%s logged in with the code flow and PKCE S256 as a public client (no secret), exchanging the code from %s; the token endpoint's CORS preflight allows %s",
		ev.Reference, ev.AppOrigin, ev.AppOrigin)
	e := ev.ErrorProbe
	switch {
	case e == nil:
		return pass("%s (its error answers were not probed)", msg)
	case corsAllows(e.AllowOrigin, ev.AppOrigin):
		return pass("%s, and its error answers too (HTTP %d %s to an unknown refresh token carries Access-Control-Allow-Origin %q)", msg, e.Status, e.Error, e.AllowOrigin)
	case p == Strict:
		return fail("the token endpoint's error answer (HTTP %d %s to an unknown refresh token) carries no Access-Control-Allow-Origin for %s: an SPA cannot read invalid_grant and cannot tell a dead refresh token from a network failure", e.Status, e.Error, ev.AppOrigin)
	}
	return pass("%s; reported (lenient): its error answers (HTTP %d %s) carry no Access-Control-Allow-Origin for %s", msg, e.Status, e.Error, ev.AppOrigin)
}

func checkOfflineAccess(ev *Evidence, _ Profile) Verdict {
	if !ev.Login.OK {
		return skip("no login to observe (IDP-CODE-1)")
	}
	if ev.T0.Err != "" {
		return skip("not observable: what the SPA holds after the login could not be read (its tokens() function: %s)", ev.T0.Err)
	}
	if ev.T0.RefreshToken == "" {
		return fail("after a login with scope %q the SPA holds no refresh token", ev.Scope)
	}
	return pass("after a login with scope %q the SPA holds a refresh token (%s)", ev.Scope, fp(ev.T0.RefreshToken))
}

func checkNoOfflineAccess(ev *Evidence, p Profile) Verdict {
	a := ev.LoginNoOffline
	if !a.Ran {
		return skip("the login without offline_access did not run")
	}
	if !a.OK {
		return fail("the login without offline_access did not complete: %s", a.Err)
	}
	if ev.TN.Err != "" {
		// Nothing read is no evidence that no refresh token was issued.
		return skip("not observable: what the SPA holds after the login without offline_access could not be read (its tokens() function: %s)", ev.TN.Err)
	}
	if ev.TN.AccessToken == "" {
		return skip("not observable: after the login without offline_access the SPA holds no access token, so whether a refresh token came with its tokens cannot be told")
	}
	if ev.TN.RefreshToken == "" {
		return pass("after a login without offline_access the SPA holds no refresh token: refresh tokens are gated by offline_access")
	}
	if p == Strict {
		return fail("after a login without offline_access the SPA holds a refresh token (%s): the IdP issues refresh tokens whatever the scope (strict profile: none without offline_access)", fp(ev.TN.RefreshToken))
	}
	return pass("reported (lenient): the IdP issues a refresh token without offline_access (%s)", fp(ev.TN.RefreshToken))
}

// needRefresh is why a refresh-token check cannot be judged, or "".
func needRefresh(ev *Evidence) string {
	switch {
	case !ev.Login.OK:
		return "no login to observe (IDP-CODE-1)"
	case ev.T0.Err != "":
		return "what the SPA holds after the login could not be read (IDP-OA-1)"
	case ev.T0.RefreshToken == "":
		return "no refresh token was issued at login (IDP-OA-1)"
	}
	return ""
}

func checkRefresh(ev *Evidence, _ Profile) Verdict {
	if why := needRefresh(ev); why != "" {
		return skip("%s", why)
	}
	if !ev.Refresh.OK {
		return fail("%s's refresh (refresh_token grant) failed: %s", ev.Reference, ev.Refresh.Err)
	}
	if ev.T1.Err != "" {
		return skip("%s", notRead(ev))
	}
	if ev.T1.AccessToken == "" || ev.T1.AccessToken == ev.T0.AccessToken {
		return fail("after %s's refresh it holds the same access token (%s)", ev.Reference, fp(ev.T1.AccessToken))
	}
	h := ev.HTTPRefresh
	if h == nil {
		return fail("the token endpoint could not be reached for a refresh by plain HTTP")
	}
	if h.Status != 200 || h.AccessToken == "" {
		return fail("a refresh with the SPA's current refresh token answered HTTP %d %s", h.Status, h.Error)
	}
	if h.ExpiresIn == "" {
		return fail("the refresh response has no expires_in: the SPA cannot know when to renew")
	}
	var expiresIn int64
	if _, err := fmt.Sscan(h.ExpiresIn, &expiresIn); err != nil || expiresIn <= 0 {
		return fail("the refresh response's expires_in is %q, want a positive number of seconds", h.ExpiresIn)
	}
	msg := fmt.Sprintf("%s's refresh replaced its access token (%s -> %s); a refresh returns a new access token (%s) with expires_in %d s",
		ev.Reference, fp(ev.T0.AccessToken), fp(ev.T1.AccessToken), fp(h.AccessToken), expiresIn)
	c, err := decodeClaims(h.AccessToken)
	switch {
	case err != nil:
		return pass("%s (an opaque access token: no exp to compare)", msg)
	case c.Exp == 0 || c.Iat == 0:
		return pass("%s (a JWT without exp and iat: nothing to compare)", msg)
	}
	if life := c.Exp - c.Iat; life < expiresIn-5 || life > expiresIn+5 {
		return fail("the refreshed access token is a JWT whose exp - iat is %d s, but expires_in says %d s", life, expiresIn)
	}
	return pass("%s, consistent with the JWT's exp - iat = %d s", msg, c.Exp-c.Iat)
}

func checkRotation(ev *Evidence, _ Profile) Verdict {
	if why := needRefresh(ev); why != "" {
		return skip("%s", why)
	}
	if !ev.Refresh.OK {
		return fail("%s's refresh failed: %s", ev.Reference, ev.Refresh.Err)
	}
	if ev.T1.Err != "" {
		return skip("%s", notRead(ev))
	}
	switch {
	case ev.T1.RefreshToken == "":
		return fail("after the refresh %s holds no refresh token", ev.Reference)
	case ev.T1.RefreshToken == ev.T0.RefreshToken:
		return fail("the refresh left %s with the same refresh token (%s): the IdP does not rotate refresh tokens", ev.Reference, fp(ev.T0.RefreshToken))
	}
	h := ev.HTTPRefresh
	if h == nil || h.Status != 200 {
		return fail("a second refresh with the rotated refresh token (%s) failed: %s", fp(ev.T1.RefreshToken), httpOutcome(h))
	}
	if h.RefreshToken == "" || h.RefreshToken == ev.T1.RefreshToken {
		return fail("the second refresh returned %s, not a new refresh token: rotation stopped after the first", fp(h.RefreshToken))
	}
	return pass("every refresh returned a new refresh token: %s -> %s -> %s", fp(ev.T0.RefreshToken), fp(ev.T1.RefreshToken), fp(h.RefreshToken))
}

// notRead is why a check of what the SPA held after its refresh is skipped.
func notRead(ev *Evidence) string {
	return fmt.Sprintf("not observable: what %s held after its refresh could not be read (its tokens() function: %s)", ev.Reference, ev.T1.Err)
}

func httpOutcome(h *tokenResult) string {
	if h == nil {
		return "no answer"
	}
	return fmt.Sprintf("HTTP %d %s", h.Status, h.Error)
}

func checkReuse(ev *Evidence, p Profile) Verdict {
	if why := needRefresh(ev); why != "" {
		return skip("%s", why)
	}
	rp := ev.Replay
	if rp == nil {
		return fail("the replay of the first refresh token got no answer: %s", orText(ev.ReplayErr, "it was not sent"))
	}
	first := fp(ev.T0.RefreshToken)
	if rp.Status == 200 && rp.Error == "" {
		if ev.T1.RefreshToken == ev.T0.RefreshToken {
			return fail("the refresh token presented at the first refresh (%s) is still accepted after it (HTTP 200): without rotation a stolen refresh token stays usable (IDP-RT-2)", first)
		}
		return fail("the rotated-out refresh token %s was accepted again (HTTP 200): no reuse detection (if the IdP keeps rotated tokens valid for a grace period, declare it with --rotation-grace)", first)
	}
	if rp.Error != "invalid_grant" {
		return fail("the replayed refresh token %s was rejected with HTTP %d %q, want invalid_grant", first, rp.Status, rp.Error)
	}
	msg := fmt.Sprintf("the replayed refresh token %s was rejected with invalid_grant (HTTP %d)", first, rp.Status)
	// Only invalid_grant says the newest token of the family is revoked: a
	// server error or a rate limit says nothing about it.
	f := ev.Family
	var family string
	switch {
	case f == nil && ev.FamilyErr == "":
		return pass("%s (no newer refresh token to check the family with)", msg)
	case f == nil:
		family = "the newest refresh token of its family got no answer afterwards (" + ev.FamilyErr + "): whether the family is revoked is unknown"
	case f.Error == "invalid_grant" && f.Status != 200:
		return pass("%s, and the newest refresh token of its family was rejected afterwards with invalid_grant (HTTP %d): the family is revoked", msg, f.Status)
	case f.Status == 200 && f.Error == "":
		family = "the newest refresh token of its family still works afterwards (HTTP 200): the IdP does not revoke the family on reuse"
	default:
		family = fmt.Sprintf("the newest refresh token of its family was answered HTTP %d %q afterwards, not invalid_grant: whether the family is revoked is unknown", f.Status, f.Error)
	}
	if p == Strict {
		return fail("%s, but %s (RFC 9700 s4.14.2; strict profile: want invalid_grant)", msg, family)
	}
	return pass("%s; reported (lenient): %s", msg, family)
}

func checkRefreshedIDToken(ev *Evidence, _ Profile) Verdict {
	if why := needRefresh(ev); why != "" {
		return skip("%s", why)
	}
	if !ev.Refresh.OK {
		return fail("%s's refresh failed: %s", ev.Reference, ev.Refresh.Err)
	}
	before, err := decodeClaims(ev.T0.IDToken)
	if err != nil {
		return fail("the id_token from the login cannot be read: %v", err)
	}
	type candidate struct{ from, tok string }
	var cands []candidate
	if ev.T1.IDToken != "" && ev.T1.IDToken != ev.T0.IDToken {
		cands = append(cands, candidate{ev.Reference + "'s refresh", ev.T1.IDToken})
	}
	if h := ev.HTTPRefresh; h != nil && h.IDToken != "" {
		cands = append(cands, candidate{"a refresh by plain HTTP", h.IDToken})
	}
	if len(cands) == 0 {
		return skip("the IdP returns no id_token on refresh (OIDC Core 12.2 allows it): nothing to compare")
	}
	var problems, seen []string
	for _, c := range cands {
		after, err := decodeClaims(c.tok)
		if err != nil {
			problems = append(problems, c.from+": the id_token cannot be read: "+err.Error())
			continue
		}
		if after.Iss != before.Iss {
			problems = append(problems, fmt.Sprintf("%s: iss %q, was %q", c.from, after.Iss, before.Iss))
		}
		if after.Sub != before.Sub {
			problems = append(problems, fmt.Sprintf("%s: sub changed", c.from))
		}
		if strings.Join(after.Aud, " ") != strings.Join(before.Aud, " ") {
			problems = append(problems, fmt.Sprintf("%s: aud %v, was %v", c.from, after.Aud, before.Aud))
		}
		if after.Iat <= before.Iat {
			problems = append(problems, fmt.Sprintf("%s: iat %d is not after the login's %d (a copied id_token?)", c.from, after.Iat, before.Iat))
		}
		seen = append(seen, fmt.Sprintf("%s (iat %d)", c.from, after.Iat))
	}
	if len(problems) > 0 {
		return fail("the refreshed id_token differs from the login's: %s", strings.Join(problems, "; "))
	}
	return pass("the id_token of %s keeps iss %q, sub and aud %v, with an iat after the login's %d", strings.Join(seen, " and "), before.Iss, before.Aud, before.Iat)
}

func checkSilentAuth(ev *Evidence, _ Profile) Verdict {
	if !ev.Login.OK {
		return skip("no login to observe (IDP-CODE-1)")
	}
	o, s := ev.Iframe, ev.Silent
	renewed := ev.T3.AccessToken != "" && ev.T3.AccessToken != ev.T1.AccessToken && ev.T3.AccessToken != ev.T0.AccessToken
	if s.OK && !o.Attached {
		// A silent refresh that attached no iframe (the refresh_token grant
		// instead, say) shows nothing about prompt=none in a frame.
		return fail("%s's silent refresh succeeded, but no iframe was attached: prompt=none inside a cross-origin iframe was not shown to work (the library did not go through its iframe)", ev.Reference)
	}
	if s.OK && (o.Came == "code" || renewed) {
		where := "a hidden"
		if !o.Hidden {
			where = "a visible" // the library's choice, not the IdP's
		}
		came := "came back with a code"
		if o.Came != "code" {
			came = "came back" // the callback's message was not seen, but the tokens changed
		}
		stored := fmt.Sprintf("a new access token (%s)", fp(ev.T3.AccessToken))
		switch {
		case ev.T3.Err != "":
			stored = "tokens that could not be read afterwards (" + ev.T3.Err + ")"
		case !renewed:
			stored = "the same access token as before (the IdP hands out a token it already issued)"
		}
		return pass("prompt=none inside %s cross-origin iframe %s, and %s stored %s", where, came, ev.Reference, stored)
	}
	switch {
	case o.Came == "code":
		return fail("the iframe came back with a code, but %s's silent refresh failed: %s", ev.Reference, orText(s.Err, "no new access token"))
	case o.Came != "":
		return fail("the IdP answered the iframe's prompt=none with error=%s although the user had logged in moments before (%s: %s)", o.Came, ev.Reference, orText(s.Err, "no error"))
	case strings.HasPrefix(o.LastChild, "chrome-error:"):
		return fail("the IdP refused to be framed: the iframe shows the browser's error page (X-Frame-Options or CSP frame-ancestors), and %s gave up: %s", ev.Reference, orText(s.Err, "no error"))
	case o.LastChild != "":
		return fail("the iframe stayed at %s (a page instead of a redirect back to the SPA), and %s gave up: %s", o.LastChild, ev.Reference, orText(s.Err, "no error"))
	}
	return fail("%s's silent refresh did not go through an iframe that came back: %s", ev.Reference, orText(s.Err, "no error"))
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

var promptNoneErrors = []string{"login_required", "interaction_required", "consent_required", "account_selection_required"}

func checkLoginRequired(ev *Evidence, p Profile) Verdict {
	l := ev.NoSession
	switch {
	case !l.Ran:
		return skip("prompt=none without a session did not run")
	case l.Got == "login_required":
		return pass("prompt=none without a session redirected back with error=login_required")
	case l.Got == "":
		return fail("prompt=none without a session did not come back to the redirect URI: the browser stays at %s (a page instead of a redirect with error=login_required)", orText(l.At, "an unknown page"))
	case l.Got == "code":
		return fail("prompt=none without a session came back with a code: the IdP authenticated nobody")
	case p == Lenient && slices.Contains(promptNoneErrors, l.Got):
		return pass("reported (lenient): prompt=none without a session redirected back with error=%s, not login_required", l.Got)
	}
	return fail("prompt=none without a session redirected back with error=%s, want login_required", l.Got)
}

func checkCrossSiteCookie(ev *Evidence, _ Profile) Verdict {
	if !ev.Login.OK {
		return skip("no login to observe (IDP-CODE-1)")
	}
	if !ev.CrossSite {
		return skip("the SPA's origin %s and the IdP %s are on the same site: a cross-site cookie cannot be observed; serve the SPA on another site (localhost against a 127.0.0.1 IdP, or the reverse)", ev.AppOrigin, ev.Issuer)
	}
	o := ev.Iframe
	switch {
	case o.Came == "code":
		return pass("prompt=none inside the cross-site iframe carried the login session (it came back with a code): the session cookie reaches the IdP from a third-party context (SameSite=None; Secure)")
	case o.Came == "":
		return skip("not observable: the iframe never came back to the SPA (IDP-SA-1)")
	case ev.TopWithSession.Got == "code":
		return fail("prompt=none works top-level with the session (a code) but not inside the cross-site iframe (error=%s): the session cookie does not reach the IdP from a third-party context; it needs SameSite=None; Secure", o.Came)
	}
	return skip("not observable: the IdP answers prompt=none with error=%s in the iframe, and top-level right after the login with %s too: it keeps no login session that prompt=none can use (IDP-SA-1)", o.Came, orText(ev.TopWithSession.Got, "no redirect"))
}
