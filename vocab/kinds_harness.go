package vocab

// harnessKinds are what the harness records about its own actions, and what
// the suite's app server records.
var harnessKinds = map[string]Kind{
	"harness.config": {"the run's setup, recorded first", map[string]string{
		"app_origin": "the app's origin", "issuer": "the IdP's issuer", "client_id": "client_id",
		"redirect_uri": "login redirect URI", "silent_redirect_uri": "silent-refresh redirect URI",
		"flow": "code or implicit", "scope": "requested scope", "third_party_cookies": "allowed or blocked", "sites": "cross-site or same-site", "clock": "virtual or real",
		"target":       "embedded (the suite's own IdP) or external (an IdP under certification)",
		"login_prompt": "the prompt the login's authorization request carries (consent with offline_access, OIDC Core 11)",
		"profile":      "strict or lenient: how a failed should-expectation is reported",
	}},
	"harness.clock-check": {"the IdP's clock against the page's, over every request of the run", map[string]string{
		"idp_requests": "requests compared", "worst_skew_ms": "largest difference", "worst_navigation_skew_ms": "largest difference at a top-level navigation (the IdP stamps it with the page's last report)", "lapses": "times the virtual clock could not vouch for the order of page reports and IdP requests",
	}},
	"harness.step": {"a scenario step began", map[string]string{"step": "step text", "index": "1-based", "call": "the driver function, for a call step"}},
	"harness.call": {"a driver function call ended (stamped with the page's clock when it settled), or its timeout did", map[string]string{
		"function": "name", "outcome": "resolved, rejected, or pending when it did not settle in time", "error": "rejection message",
	}},
	"harness.page":    {"the harness froze or resumed the page", map[string]string{"state": "frozen or active"}},
	"harness.network": {"the harness took the page offline or back online", map[string]string{"state": "offline or online"}},
	"harness.release": {"a release step let go of the requests a hold fault held at the IdP", map[string]string{"released": "how many were held (0: none had come)"}},
	"harness.login": {"an attempt-login step ended: the app logged in, or refused the login", map[string]string{
		"outcome": "logged-in, or refused (the app came back from the IdP not logged in)", "error": "what the app said",
	}},
	"harness.url": {"after a login, whether the tab's URL or its session history still carries a token or a code", map[string]string{
		"in_url": "yes or no: the current URL", "in_history": "yes or no: any entry of the tab's history",
	}},
	"harness.wait": {"a wait-for step ran out of time", map[string]string{
		"for": "the selector", "outcome": "timeout", "after_ms": "how long it waited",
	}},
	"harness.tokens": {"the tokens the client holds, after a step", map[string]string{
		"access_token": "fingerprint", "id_token": "fingerprint", "refresh_token": "fingerprint",
		"scope":          "the scope the client says it was granted, where its tokens() tells",
		"offline_access": "granted or not granted: whether that scope holds offline_access (absent when the client does not tell)",
		"token_type":     "the token_type of the tokens, lower case (dpop: bound to the client's DPoP key, RFC 9449), where its tokens() tells",
	}},
	"harness.discovery": {"the harness read the IdP's discovery document from the app's origin (each check yes or no)", map[string]string{
		"url": "where", "issuer": "the issuer the document names", "issuer_exact": "the issuer exactly as configured",
		"authorization_endpoint": "an authorization endpoint", "token_endpoint": "a token endpoint", "jwks_uri": "a key set",
		"offline_access": "offline_access in scopes_supported", "response_type_code": "code in response_types_supported",
		"refresh_token_grant": "refresh_token among the grant types (absent list: the default, without it)",
		"pkce_s256":           "S256 in code_challenge_methods_supported", "query_mode": "query among the response modes (absent list: both)",
		"fragment_mode": "fragment among the response modes", "cors": "readable from the app's origin",
		"revocation_endpoint": "a revocation endpoint (RFC 7009)", "iss_parameter": "authorization_response_iss_parameter_supported (RFC 9207)",
		"dpop":  "dpop_signing_alg_values_supported lists an algorithm (RFC 9449)",
		"error": "why the document could not be read",
	}},
	"harness.revoke": {"the harness revoked a refresh token at the revocation endpoint by plain HTTP, from the app's origin, as a public client (RFC 7009), and what came back", map[string]string{
		"presented":               "which refresh token: held, first or newest (as for harness.token)",
		"presented_refresh_token": "fingerprint", "status": "HTTP status",
		"outcome": "ok (200), error (another status), unanswered (no HTTP answer), or not-advertised (discovery names no revocation_endpoint)",
		"error":   "the OAuth error, or why nothing came back", "cors": "allowed: the actual response lets the app's origin read it; refused: it does not",
	}},
	"harness.userinfo": {"the harness asked the userinfo endpoint about the access token the client holds, by plain HTTP from the app's origin (OIDC Core 5.3), and what came back", map[string]string{
		"status": "HTTP status", "outcome": "ok (200), error (another status), unanswered (no HTTP answer), or not-advertised (discovery names no userinfo_endpoint)",
		"error": "why nothing came back", "cors": "allowed: the actual response lets the app's origin read it; refused: it does not",
		"sub_matches": "yes: the answer's sub is the login id_token's (OIDC Core 5.3.2); no: another or none",
		"dpop":        "client: the access token is DPoP-bound and went under the DPoP scheme with the client's proof (RFC 9449 s7.1); absent: as a Bearer",
	}},
	"harness.token": {"the harness sent a refresh_token grant by plain HTTP, from the app's origin, with the DPoP proof the step asks for, and what came back", map[string]string{
		"presented":               "which refresh token: held (the client's now), first (the first the client held, from its login), newest (the newest seen), unknown (one nobody issued)",
		"presented_refresh_token": "fingerprint", "status": "HTTP status", "outcome": "ok, error, or unanswered (no HTTP answer)", "error": "OAuth error, or why nothing came back",
		"access_token": "fingerprint", "refresh_token": "fingerprint", "id_token": "fingerprint",
		"new_refresh_token": "yes: a refresh token other than the one presented came back; no: the same one (the field is left out when none came)",
		"expires_in":        "expires_in as sent", "expires_in_ok": "yes: a positive number of seconds; no: anything else or nothing",
		"exp_consistent": "yes: the access token is a JWT whose exp - iat is within 5 s of expires_in; no: it is not; opaque: not a JWT with both",
		"scope":          "the scope of the answer", "cors": "allowed or refused: the answer's Access-Control-Allow-Origin lets the app read it",
		"dpop":       "the DPoP proof sent (RFC 9449): client (made by the client's library with its key), other (the harness's own key) or none",
		"dpop_nonce": "asked: the IdP answered use_dpop_nonce and the request went once more with its nonce (RFC 9449 s8)",
		"token_type": "the answer's token_type, lower case (dpop: the access token is bound to the proof's key)",
	}},
	"harness.authorize": {"the harness sent the top frame to the authorization endpoint with prompt=none (the client's scope, its silent redirect URI) and waited for it to come back", map[string]string{
		"prompt": "none", "scope": "requested scope", "session": "yes: in the logged-in context; no: in one without a login",
		"outcome": "code, error (the redirect carried an OAuth error), or stayed (no redirect back within the silent timeout)",
		"error":   "the OAuth error", "at": "where the page stayed (origin and path)",
		"iss":            "the response's iss (RFC 9207) against the issuer: match, other or missing (a response that came back only)",
		"iss_advertised": "yes when discovery has authorization_response_iss_parameter_supported: true",
	}},
	"harness.logout": {"the harness sent the top frame to the end_session_endpoint with the login's id_token as id_token_hint and client_id (OpenID Connect RP-Initiated Logout 1.0), waited for the page to load, and performed the login file's logout steps on it", map[string]string{
		"outcome":       "loaded (the page the IdP answered with has loaded), loading (it had not within the timeout), or not-advertised (discovery names no end_session_endpoint)",
		"id_token_hint": "fingerprint of the hint sent (absent: the client held no id_token)",
		"steps":         "how many of the login file's logout steps were performed (0: it has no logout section, or each of its steps was optional and did not come)",
		"at":            "where the page is once the logout steps are done (origin and path)",
	}},
	"harness.id-token": {"a new id_token the client held or a plain refresh returned, checked against the IdP's key set and, once refreshed, against the login's (OIDC Core 12.2)", map[string]string{
		"id_token": "fingerprint", "source": "client (held after a step) or harness (a plain-HTTP refresh)",
		"refreshed": "no for the login's id_token, yes for every later one",
		"signature": "valid, invalid, unknown-kid, unsigned (alg none) or unchecked (the key set could not be read)", "signature_error": "why it did not verify",
		"iss": "same or changed", "sub": "same or changed", "aud": "same or changed", "azp": "same or changed",
		"auth_time": "same, changed or none (not in the refreshed id_token)", "nonce": "none (not in the refreshed id_token), same or changed", "iat": "fresh (after the login's) or stale", "exp": "ahead or past",
		"problems": "the claims that break OIDC Core 12.2, space-separated (absent: none)",
	}},
	"harness.replay":         {"the harness replayed a refresh token", map[string]string{"refresh_token": "fingerprint", "status": "HTTP status", "error": "OAuth error"}},
	"harness.forged-message": {"a foreign frame posted a forged message", map[string]string{"origin": "the foreign origin", "data": "start of the message"}},
	"app.fault":              {"the app server applied a declared fault", map[string]string{"on": "what was served", "do": "action", "path": "URL path"}},
	"app.request":            {"the suite's app server served a file", map[string]string{"path": "URL path", "status": "HTTP status"}},
}
