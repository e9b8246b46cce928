package timeline

import (
	"fmt"
	"strings"
)

// Kind documents one kind of entry and the fields it carries. The list is the
// contract between the parts that record (fakeidp, browser, the harness) and the
// scenarios that query: a scenario that names an unknown kind or field is refused
// when it loads, and a test checks that recorded entries stay inside the list.
type Kind struct {
	Doc    string
	Fields map[string]string
}

// Kinds is the vocabulary of the timeline. Times and durations are in milliseconds
// of scenario time; tokens appear only as fingerprints (fp:...).
var Kinds = map[string]Kind{
	"idp.authorize": {"a request to the IdP's /authorize endpoint", map[string]string{
		"client": "client_id", "prompt": "prompt parameter", "response_type": "response_type",
		"response_mode": "response_mode", "redirect_uri": "redirect_uri", "scope": "requested scope",
		"state": "fingerprint of state", "nonce": "fingerprint of nonce",
		"code_challenge_method": "PKCE method", "dest": "Sec-Fetch-Dest: iframe or document",
		"session": "yes when a live login session came with the request", "login": "yes when this request logged the user in",
		"fault": "injected fault applied", "outcome": "ok, error or fault", "error": "OAuth error code",
		"status": "HTTP status", "code": "fingerprint of the issued code",
		"access_token": "fingerprint of the issued access token", "id_token": "fingerprint of the issued id_token",
		"expires_in_ms": "expires_in of the issued access token", "id_token_ttl_ms": "from issue to the id_token's exp",
		"id_token_sub": "sub claim", "id_token_iss": "iss claim", "id_token_kid": "kid of the key that signed the id_token",
	}},
	"idp.token": {"a request to the IdP's /token endpoint", map[string]string{
		"client": "client_id", "grant_type": "grant_type", "scope": "scope parameter",
		"presented_refresh_token": "fingerprint of the refresh token sent (unknown:<value> when never issued)",
		"presented_code":          "fingerprint of the code sent", "code_verifier": "yes when one was sent",
		"origin": "Origin header", "actor": "client, or harness for the suite's own requests",
		"fault": "injected fault applied", "outcome": "ok, error or fault", "error": "OAuth error code",
		"status": "HTTP status", "granted_scope": "scope granted",
		"access_token": "fingerprint of the issued access token", "refresh_token": "fingerprint of the issued refresh token",
		"id_token": "fingerprint of the issued id_token", "expires_in_ms": "expires_in of the issued access token",
		"id_token_ttl_ms": "from issue to the id_token's exp", "id_token_sub": "sub claim", "id_token_iss": "iss claim",
		"id_token_kid": "kid of the key that signed the id_token", "code": "unused at the token endpoint",
		"replay": "refresh grants: yes when the presented refresh token had already been rotated (accepted within a rotation grace, else rejected and the chain revoked)",
	}},
	"idp.preflight":      {"a CORS preflight", map[string]string{"endpoint": "endpoint path", "origin": "Origin", "allowed": "yes or no"}},
	"idp.revoke":         {"a request to /revoke", map[string]string{"client": "client_id", "token": "fingerprint", "hint": "token_type_hint", "origin": "Origin", "outcome": "ok, error or fault", "error": "OAuth error code", "fault": "injected fault"}},
	"idp.userinfo":       {"a request to /userinfo", map[string]string{"origin": "Origin", "access_token": "fingerprint", "outcome": "ok, error or fault", "error": "error code", "fault": "injected fault"}},
	"idp.end-session":    {"a request to /end-session", map[string]string{"post_logout_redirect_uri": "target", "outcome": "redirect, ok or unregistered-redirect"}},
	"idp.discovery":      {"the discovery document was fetched", map[string]string{"origin": "Origin"}},
	"idp.jwks":           {"the key set was fetched", map[string]string{"origin": "Origin"}},
	"idp.fault":          {"a declared fault fired", map[string]string{"on": "endpoint", "do": "action", "delay_ms": "how long a slow endpoint holds the request"}},
	"idp.sessions-ended": {"the harness ended every IdP login session", map[string]string{"count": "sessions ended"}},
	"app.fault":          {"the app server applied a declared fault", map[string]string{"on": "what was served", "do": "action", "path": "URL path"}},
	"app.request":        {"the suite's app server served a file", map[string]string{"path": "URL path", "status": "HTTP status"}},
	"browser.frame-attached": {"an iframe element entered a document", map[string]string{
		"frame": "the parent document's URL", "id": "id attribute", "src": "src attribute",
		"visible": "yes when it occupies screen space and is not hidden", "width": "rendered width px", "height": "rendered height px",
	}},
	"browser.frame-detached": {"an iframe element left a document", map[string]string{"frame": "the parent document's URL", "id": "id attribute", "src": "src attribute"}},
	"browser.navigated": {"a frame committed a navigation", map[string]string{
		"frame": "top or child", "url": "URL without its fragment", "origin": "origin", "name": "frame name",
	}},
	"browser.frames": {"the iframes in the page after a step", map[string]string{
		"count": "iframes in the page", "visible": "of which visible", "ids": "their id attributes",
	}},
	"browser.post-message": {"postMessage called on a window of this page", map[string]string{
		"to": "URL of the receiving window", "target_origin": "the targetOrigin argument", "data": "start of the message",
	}},
	"browser.message": {"a message event reached a window", map[string]string{
		"to": "URL of the receiving window", "origin": "the sender's origin", "data": "start of the message",
	}},
	"browser.request": {"a network request from any frame", map[string]string{
		"method": "HTTP method", "url": "URL without query and fragment", "type": "resource type", "frame": "top or child",
	}},
	"browser.console-error": {"a console error or uncaught exception", map[string]string{"text": "message", "frame": "URL"}},
	"client.event": {"an event the client library emitted, through the bridge", map[string]string{
		"type": "event name (the suite's)", "native": "the library's own name, when the manifest maps it", "info": "event detail", "frame": "top or child",
	}},
	"client.ready": {"the app finished starting", map[string]string{"logged_in": "yes or no", "error": "start-up error"}},
	"harness.config": {"the run's setup, recorded first", map[string]string{
		"app_origin": "the app's origin", "issuer": "the IdP's issuer", "client_id": "client_id",
		"redirect_uri": "login redirect URI", "silent_redirect_uri": "silent-refresh redirect URI",
		"flow": "code or implicit", "scope": "requested scope", "third_party_cookies": "allowed or blocked", "sites": "cross-site or same-site", "clock": "virtual or real",
	}},
	"harness.clock-check": {"the IdP's clock against the page's, over every request of the run", map[string]string{
		"idp_requests": "requests compared", "worst_skew_ms": "largest difference",
	}},
	"harness.step": {"a scenario step began", map[string]string{"step": "step text", "index": "1-based", "call": "the driver function, for a call step"}},
	"harness.call": {"a driver function call ended (stamped with the page's clock when it settled), or its timeout did", map[string]string{
		"function": "name", "outcome": "resolved, rejected, or pending when it did not settle in time", "error": "rejection message",
	}},
	"harness.page":    {"the harness froze or resumed the page", map[string]string{"state": "frozen or active"}},
	"harness.network": {"the harness took the page offline or back online", map[string]string{"state": "offline or online"}},
	"idp.key-rotated": {"the IdP signs with a new key from now on", map[string]string{"kid": "the new key ID"}},
	"harness.wait": {"a wait-for step ran out of time", map[string]string{
		"for": "the selector", "outcome": "timeout", "after_ms": "how long it waited",
	}},
	"harness.tokens": {"the tokens the client holds, after a step", map[string]string{
		"access_token": "fingerprint", "id_token": "fingerprint", "refresh_token": "fingerprint",
	}},
	"harness.replay":         {"the harness replayed a refresh token", map[string]string{"refresh_token": "fingerprint", "status": "HTTP status", "error": "OAuth error"}},
	"harness.forged-message": {"a foreign frame posted a forged message", map[string]string{"origin": "the foreign origin", "data": "start of the message"}},
}

// The entries a page produces, and the harness's entries about a page, say
// which tab: 1 is the page every scenario starts with.
func init() {
	for what, k := range Kinds {
		if strings.HasPrefix(what, "browser.") || strings.HasPrefix(what, "client.") || tabbedHarness[what] {
			k.Fields["tab"] = "the tab: 1 is the first, others are opened by a tab step"
		}
	}
}

var tabbedHarness = map[string]bool{
	"harness.step": true, "harness.call": true, "harness.tokens": true, "harness.page": true,
	"harness.forged-message": true,
}

// Validate checks entries against the vocabulary: known kinds, known fields, and
// no value that the scenario language reserves as an operator ("present",
// "absent"), which a query could not tell from the operator. The suite runs it
// on every scenario's timeline, so a recorder that drifts from the contract is
// caught by the first run, not by a silently wrong expectation.
func Validate(entries []Entry) error {
	for _, e := range entries {
		k, ok := Kinds[e.What]
		if !ok {
			return fmt.Errorf("entry %d: unknown kind %q", e.Seq, e.What)
		}
		for f, v := range e.Fields {
			if _, ok := k.Fields[f]; !ok {
				return fmt.Errorf("entry %d (%s): unknown field %q", e.Seq, e.What, f)
			}
			if v == "present" || v == "absent" {
				return fmt.Errorf("entry %d (%s): field %s has the reserved value %q", e.Seq, e.What, f, v)
			}
		}
	}
	return nil
}
