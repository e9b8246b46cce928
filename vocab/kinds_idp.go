package vocab

// idpKinds are what the embedded IdP records: one entry per request it
// serves (a preflight only as idp.preflight, a path it does not serve as
// idp.not-found), and its own events (faults, key rotations).
var idpKinds = map[string]Kind{
	"idp.authorize": {"a request to the IdP's authorization endpoint", map[string]string{
		"client": "client_id", "prompt": "prompt parameter", "response_type": "response_type",
		"response_mode": "response_mode parameter, as requested",
		"delivery":      "how the response went back: query, fragment, form_post, web_message or okta_post_message; empty when it could not (an error page)",
		"target_origin": "web_message and okta_post_message: the origin the page posted to (the redirect URI's)",
		"redirect_uri":  "redirect_uri", "scope": "requested scope",
		"state": "fingerprint of state", "nonce": "fingerprint of nonce",
		"id_token_hint": "fingerprint of id_token_hint", "max_age": "max_age parameter",
		"code_challenge_method": "PKCE method", "dest": "Sec-Fetch-Dest: iframe or document",
		"session": "yes when a live login session came with the request", "login": "yes when this request logged the user in (no session, prompt=login or a session older than max_age)",
		"fault": "injected fault applied (the do value)", "outcome": "ok, error or fault", "error": "OAuth error code",
		"altered": "what the fault altered in this response: id_token.<claim> (iss, sub, aud, azp, nonce, at_hash, exp, iat), id_token.kid, id_token.alg, id_token.signature, or state; absent when the response had nothing to alter (an error, no id_token: a code flow's id_token anomaly is then carried to the code's exchange, whose idp.token entry says it)",
		"status":  "HTTP status", "code": "fingerprint of the issued code",
		"access_token": "fingerprint of the issued access token", "id_token": "fingerprint of the issued id_token",
		"expires_in_ms": "expires_in of the issued access token", "id_token_ttl_ms": "from issue to the id_token's exp",
		"id_token_sub": "sub claim", "id_token_iss": "iss claim", "id_token_kid": "kid of the key that signed the id_token",
	}},
	"idp.token": {"a request to the IdP's token endpoint", map[string]string{
		"client": "client_id", "grant_type": "grant_type", "scope": "scope parameter",
		"presented_refresh_token": "fingerprint of the refresh token sent; unknown:null or unknown:undefined for those placeholders, unknown:<fingerprint> for anything else the IdP never issued",
		"presented_code":          "fingerprint of the code sent", "code_verifier": "yes when one was sent",
		"origin": "Origin header", "cors": "allowed (a registered origin), refused, or empty (no Origin)",
		"actor":          "client, or harness for the suite's own requests",
		"fault":          "injected fault applied (the do value); at a code exchange also the id_token anomaly that fired at the code's /authorize",
		"altered":        "what the fault altered in this response: id_token.<claim> (iss, sub, aud, azp, nonce, at_hash, exp, iat), id_token.kid, id_token.alg or id_token.signature; or a refresh response's field: refresh_token or id_token (left out), scope (response_scope says it), expires_in (left out, or a string); absent when there was nothing to alter (no id_token)",
		"response_scope": "the scope field of the response, when a fault made it differ from granted_scope (which the tokens still carry)",
		"outcome":        "ok, error or fault", "error": "OAuth error code",
		"status": "HTTP status", "granted_scope": "scope granted",
		"access_token": "fingerprint of the issued access token", "refresh_token": "fingerprint of the issued refresh token",
		"id_token": "fingerprint of the issued id_token", "expires_in_ms": "the issued access token's lifetime, which expires_in says unless altered is expires_in",
		"id_token_ttl_ms": "from issue to the id_token's exp", "id_token_sub": "sub claim", "id_token_iss": "iss claim",
		"id_token_kid": "kid of the key that signed the id_token", "code": "unused at the token endpoint",
		"replay": "refresh grants: yes when the presented refresh token had already been rotated (accepted within a rotation grace, else rejected and the chain revoked)",
	}},
	"idp.preflight": {"a CORS preflight (an OPTIONS request), answered and recorded as nothing else", map[string]string{
		"endpoint": "token, revoke, userinfo, discovery, jwks, ... (the endpoint's name, whatever the layout's path)",
		"path":     "URL path", "origin": "Origin",
		"method": "Access-Control-Request-Method", "headers": "Access-Control-Request-Headers, as sent",
		"allowed": "yes or no", "reason": "why not: origin not registered, method not allowed, ...",
	}},
	"idp.revoke": {"a request to the revocation endpoint", map[string]string{
		"client": "client_id", "token": "fingerprint", "kind": "what the token was issued as: access_token or refresh_token; empty when this IdP never issued it",
		"hint": "token_type_hint", "origin": "Origin",
		"cors": "allowed, refused or empty", "outcome": "ok, error or fault", "error": "OAuth error code", "fault": "injected fault",
	}},
	"idp.userinfo": {"a request to the userinfo endpoint", map[string]string{
		"origin": "Origin", "cors": "allowed, refused or empty", "access_token": "fingerprint",
		"outcome": "ok, error or fault", "error": "error code", "fault": "injected fault",
	}},
	"idp.end-session": {"a request to a logout endpoint (RP-Initiated Logout, or Auth0's /v2/logout)", map[string]string{
		"path": "URL path", "client": "the client: client_id, or whom id_token_hint was issued to",
		"id_token_hint":            "fingerprint of id_token_hint",
		"post_logout_redirect_uri": "target (returnTo at /v2/logout)",
		"outcome":                  "redirect, ok (signed out, no redirect), unregistered-redirect or error (both refused: nobody is logged out)",
		"error":                    "OAuth error code", "status": "HTTP status", "session": "yes when a login session was ended",
	}},
	"idp.discovery": {"the discovery document was fetched", map[string]string{"origin": "Origin", "cors": "allowed, public (\"*\") or empty", "path": "URL path"}},
	"idp.jwks": {"the key set was fetched", map[string]string{"origin": "Origin", "cors": "allowed, public (\"*\") or empty", "path": "URL path",
		"kids": "the key IDs the set listed, newest first, space-separated (has refreshsuite-2 finds a fetch that listed it)"}},
	"idp.page": {"a helper page of the IdP's layout (Keycloak's third-party cookie check)", map[string]string{
		"page": "3p-cookies or 3p-cookies-step2", "path": "URL path", "result": "step 2: supported or unsupported, as the page tells its parent",
	}},
	"idp.not-found": {"a request for a path the IdP's layout does not serve", map[string]string{
		"method": "HTTP method", "path": "URL path (a segment longer than 32 characters as its fingerprint; never the query)",
		"origin": "Origin", "status": "404",
	}},
	"idp.fault":          {"a declared fault fired", map[string]string{"on": "endpoint", "do": "the action, the fault's do value", "delay_ms": "how long a slow endpoint holds the request"}},
	"idp.sessions-ended": {"the harness ended every IdP login session", map[string]string{"count": "sessions ended"}},
	"idp.key-rotated": {"the IdP signs with a new key from now on", map[string]string{"kid": "the new key ID",
		"published": "at-once (the rotate-signing-key step: the key set lists it from now on) or after-first-token (the rotate-signing-key-unannounced fault: only fetches after the first token signed with it list it)"}},
	"idp.clock-skew": {"the IdP's clock runs this far from the scenario clock (recorded at start, only when not 0): the times in its tokens and its expiry checks are on its own clock, its entries are stamped on the scenario clock", map[string]string{
		"skew_ms": "the IdP's clock minus the scenario clock: positive ahead, negative behind",
	}},
}
