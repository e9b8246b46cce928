package timeline

// idpKinds are what the embedded IdP records: one entry per request it
// serves, and its own events (faults, key rotations).
var idpKinds = map[string]Kind{
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
	"idp.key-rotated":    {"the IdP signs with a new key from now on", map[string]string{"kid": "the new key ID"}},
}
