package certify

import (
	"regexp"
	"strings"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// Evidence is everything a certification run observed that the checks judge.
// Raw tokens live here, in memory only; the timeline holds fingerprints.
type Evidence struct {
	Issuer    string
	AppOrigin string
	// Reference names the reference SPA's library, for messages.
	Reference string
	// Scope is what the SPA asked for at the first login.
	Scope string
	Disc  *Discovery
	// CrossSite: the SPA and the IdP are on different sites, so the IdP's
	// iframe is a third-party context (IDP-SA-3 can be judged).
	CrossSite bool
	// PreflightAllowOrigin answered the token endpoint's CORS preflight.
	PreflightAllowOrigin string
	// ErrorProbe is the token endpoint's answer to an unknown refresh token.
	ErrorProbe *tokenResult

	// Login is the interactive login with offline_access; T0 what the SPA
	// then held.
	Login attempt
	T0    tokens
	// Refresh is the SPA's refreshToken(); T1 what it held afterwards.
	Refresh attempt
	T1      tokens
	// HTTPRefresh presented T1's refresh token by plain HTTP.
	HTTPRefresh *tokenResult
	// Replay presented T0's refresh token again after it was used;
	// ReplayErr is why it could not be sent (Replay is then nil).
	Replay    *tokenResult
	ReplayErr string
	// Family presented the newest refresh token after the replay; FamilyErr
	// is why that request got no answer (Family is then nil). Both empty:
	// there was no newer refresh token to present.
	Family    *tokenResult
	FamilyErr string
	// Silent is the SPA's silentRefresh() through its hidden iframe; T3 what
	// it held afterwards; Iframe what the iframe did.
	Silent attempt
	T3     tokens
	Iframe iframeObs
	// TopWithSession: prompt=none as a top-level navigation, with the session.
	TopWithSession landing
	// NoSession: prompt=none as a top-level navigation in a fresh browser.
	NoSession landing
	// LoginNoOffline is a login without offline_access; TN what the SPA held.
	LoginNoOffline attempt
	TN             tokens
}

// attempt is the outcome of a step that can fail.
type attempt struct {
	Ran bool
	OK  bool
	Err string
}

// tokens are what the SPA holds (its tokens() driver function).
type tokens struct {
	AccessToken  string `json:"accessToken"`
	IDToken      string `json:"idToken"`
	RefreshToken string `json:"refreshToken"`
	// Err is why tokens() could not be read; then the fields above say
	// nothing about what the SPA holds.
	Err string `json:"-"`
}

// landing is where a top-level prompt=none navigation ended.
type landing struct {
	Ran bool
	// Got is the OAuth error it came back with, "code", or "" when it did not
	// come back to the redirect URI in time.
	Got string
	// At is where the page stayed when it did not come back.
	At string
}

// iframeObs is what the browser saw of the SPA's hidden iframe during
// silentRefresh().
type iframeObs struct {
	Attached bool
	Hidden   bool
	// Came is what the silent-callback page passed back to the app: an OAuth
	// error, "code", or "" when nothing came back.
	Came string
	// LastChild is the last URL other than about:blank a child frame
	// navigated to.
	LastChild string
}

var (
	errorParam = regexp.MustCompile(`[?&#]error=([A-Za-z0-9_]+)`)
	codeParam  = regexp.MustCompile(`[?&#]code=`)
)

// observeIframe reads the browser's observations after entry index from:
// the iframe the SPA attached, where its frames went, and the message its
// callback page posted to the app (the authorization response, redacted).
func observeIframe(entries []timeline.Entry, from int, appOrigin string) iframeObs {
	var o iframeObs
	for _, e := range entries[min(from, len(entries)):] {
		switch e.What {
		case "browser.frame-attached":
			o.Attached = true
			o.Hidden = e.Fields["visible"] == "no"
		case "browser.navigated":
			// about:blank is where a frame starts and where it goes when the
			// library removes it: not where the IdP left it.
			if e.Fields["frame"] == "child" && e.Fields["url"] != "about:blank" {
				o.LastChild = e.Fields["url"]
			}
		case "browser.message", "browser.post-message":
			if e.What == "browser.message" && e.Fields["origin"] != appOrigin {
				continue
			}
			data := strings.ReplaceAll(e.Fields["data"], `\u0026`, "&")
			if m := errorParam.FindStringSubmatch(data); m != nil {
				o.Came = m[1]
			} else if codeParam.MatchString(data) {
				o.Came = "code"
			}
		}
	}
	return o
}
