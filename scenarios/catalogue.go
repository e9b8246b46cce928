package scenarios

// Requirements is the requirement catalogue: stable IDs a scenario's expectations
// cite, and the text each one stands for. Reports and `refreshsuite list` print it.
var Requirements = map[string]string{
	"CF-1":  "refresh_token grant with the current refresh token and client_id; the new access token replaces the old (RFC 6749 s6)",
	"CF-2":  "with rotation the client always uses the newest refresh token and never replays an old one (RFC 9700 s4.14.2)",
	"CF-3":  "a refreshed id_token is validated and keeps iss/sub (OIDC Core 12.2)",
	"CF-4":  "invalid_grant on refresh surfaces an error event and does not loop",
	"CF-5":  "a failed refresh keeps the tokens the client held: an access token that is still valid is not thrown away (RFC 6749 s6: the old tokens stay valid until the new ones arrive)",
	"OA-1":  "the client asks for offline_access when it relies on refresh tokens",
	"OA-2":  "no refresh token issued (no offline_access, strict IdP): the client sends no refresh request without a token and surfaces a clear error or falls back to silent refresh",
	"OA-3":  "lenient IdP (refresh token always issued): refresh works with and without offline_access",
	"OA-4":  "the client requests the scope the app configured; it adds offline_access only where its documentation says it does",
	"SR-1":  "silent refresh uses a hidden iframe to /authorize with prompt=none, the silent redirect URI, fresh state and nonce (implicit) or PKCE (code)",
	"SR-2":  "the callback page posts to the app's own origin, never \"*\"",
	"SR-3":  "the client accepts a silent-refresh message only from its own origin with the right state; a forged message from a foreign frame is ignored",
	"SR-4":  "new tokens are stored and the success event is emitted",
	"SR-5":  "login_required ends the silent refresh at once with an error event (no timeout wait)",
	"SR-6":  "the iframe does not leak: repeated refreshes do not grow the number of frames",
	"TO-1":  "no message: timeout event at silentRefreshTimeout (default 20 000 ms), or the configured value",
	"TO-2":  "the timeout holds for each fault: callback that never posts, IdP page that never redirects, framing refused",
	"TO-3":  "after an automatic silent renewal timed out, the client tries again at the interval it declares, not in a loop and not never when it promises to",
	"TF-1":  "access-token expiry event at storedAt + timeoutFactor x lifetime (0.75 default; 0.5, 0.33)",
	"TF-2":  "the same for the id token (exp claim)",
	"TF-3":  "the automatic refresh request reaches the IdP after the expiry event and before expiry, and re-arms: N cycles in a row",
	"TF-4":  "no refresh storm: at most one token request per renewal window, and none before the renewal rule's time for the token it replaces",
	"3P-1":  "third-party cookies blocked, cross-site IdP: silent refresh ends in login_required (an error, not a hang); refresh-token renewal is unaffected",
	"LC-1":  "a page frozen across its renewal window (a background tab) renews promptly once it is active again",
	"LC-2":  "after a sleep past the access token's expiry the client renews or reports at once, instead of carrying on with the expired token",
	"NET-1": "a renewal that fails (network down, a 5xx) is reported as an error event and not retried in a loop",
	"NET-2": "after a transient renewal failure the client renews again once the IdP is reachable, before the access token expires",
	"KR-1":  "a rotation of the IdP's signing key between two refreshes does not break renewal",
	"NET-3": "a slow token response is waited for: no second refresh request while one is in flight, and the renewed token is taken when it arrives",
	"TAB-1": "tabs of one app never present a refresh token another tab already rotated (reuse detection would revoke the chain and log every tab out)",
	"TAB-2": "with two tabs renewing on their own, every renewal succeeds: the session survives",
	"OD-1":  "a client that renews when the app asks for a token hands back the token it holds outside its renewal window, and renews inside it",

	"VAL-1":  "an id_token whose iss is not the issuer's is refused, on login, refresh and silent renewal (OIDC Core 3.1.3.7 step 2, 12.2; OIDF rp-id_token-issuer-mismatch)",
	"VAL-2":  "an id_token for another sub is refused: a refreshed or silently renewed id_token must name the logged-in user (OIDC Core 12.2; OIDF rp-id_token-sub)",
	"VAL-3":  "an id_token whose aud does not contain the client is refused (OIDC Core 3.1.3.7 step 3; OIDF rp-id_token-aud)",
	"VAL-4":  "an id_token whose azp is present and not the client is refused (OIDC Core 3.1.3.7 steps 4-5)",
	"VAL-5":  "a login or silent-renewal id_token whose nonce is missing or not the request's is refused, and a refreshed one whose nonce differs from the login's (OIDC Core 3.1.3.7 step 11, 3.2.2.11, 12.2; OIDF rp-nonce-invalid)",
	"VAL-6":  "in the implicit flow an id_token whose at_hash does not match the access token is refused (OIDC Core 3.2.2.9, 3.2.2.11)",
	"VAL-7":  "an id_token already expired, or issued in the future beyond the client's documented clock-skew tolerance, is refused (OIDC Core 3.1.3.7 steps 9-10; OIDF rp-id_token-iat)",
	"VAL-8":  "an id_token signed with an unknown key, with a broken signature, unsigned (alg none) or without a kid the key set resolves is refused; a code-flow client may rely on TLS to the token endpoint instead, as OIDC Core 3.1.3.7 step 6 allows, and says so (OIDF rp-id_token-bad-sig-rs256, rp-id_token-sig-none, rp-id_token-kid-absent-single-jwks)",
	"VAL-9":  "an id_token signed with a key the IdP published after the client read its key set is accepted: the client fetches the key set again for an unknown kid (OIDF rp-key-rotation-op-sign-key)",
	"VAL-10": "an authorization response (login or silent renewal) whose state is not the request's is refused (RFC 6749 s10.12)",
	"VAL-11": "a refresh response without a refresh_token keeps the client on the one it has, and the next refresh works (RFC 6749 s6)",
	"VAL-12": "a refresh response without an id_token is taken: the new access token is held and the client stays logged in (OIDC Core 12.2)",
	"VAL-13": "the client never asks a refresh for a scope wider than the one granted (RFC 6749 s6), and takes a response whose scope is narrower or wider than it asked for without breaking",
	"VAL-14": "a refresh response whose expires_in is missing or a string is taken without treating the access token as never expiring or as already expired (RFC 6749 s5.1)",
	"LO-1":   "logout forgets every token the client held, the refresh token included",
	"LO-2":   "a client that documents revocation revokes its refresh token at the IdP on logout (RFC 7009)",
	"URL-1":  "an implicit login leaves no token or code in the page's URL or its history (OAuth 2.0 for Browser-Based Apps)",

	"IDP-DISC-1": "discovery: exact issuer, endpoints, offline_access in scopes_supported, refresh_token grant, S256 PKCE, fragment/query response modes",
	"IDP-CODE-1": "code + PKCE for a public client; CORS on the token endpoint for the SPA origin",
	"IDP-OA-1":   "a refresh token is issued when offline_access is granted",
	"IDP-OA-2":   "the refresh-token policy without offline_access is reported (strict profile: none issued)",
	"IDP-RT-1":   "refresh returns a new access token with expires_in (consistent with exp where it is a JWT)",
	"IDP-RT-2":   "refresh tokens of public clients rotate (RFC 9700 s4.14.2)",
	"IDP-RT-3":   "a replayed old refresh token is rejected with invalid_grant (and revokes the chain)",
	"IDP-RT-4":   "a refreshed id_token verifies against the key set at jwks_uri and keeps iss, sub, aud, azp and auth_time, carries no nonce or the login's, with a fresh iat and an exp ahead (OIDC Core 12.2)",
	"IDP-SA-1":   "prompt=none with a session works inside a hidden cross-origin iframe (framing allowed)",
	"IDP-SA-2":   "prompt=none without a session redirects with error=login_required",
	"IDP-SA-3":   "the session cookie is SameSite=None; Secure so silent refresh can work cross-site",
	"IDP-SA-4":   "with third-party cookies blocked, prompt=none in the hidden cross-site iframe still comes back to the SPA (a code, or an error such as login_required), so that the SPA can fall back at once",
	"IDP-UI-1":   "the userinfo endpoint answers the SPA's access token from its origin with the logged-in user's sub, and the actual answer carries CORS for that origin (OIDC Core 5.3)",
	"IDP-REV-1":  "a public client can revoke its refresh token at the advertised revocation endpoint from the SPA's origin, reading the answer (CORS), and the revoked token is then refused (RFC 7009 s2.1, s2.2)",
	"IDP-ISS-1":  "an IdP that advertises authorization_response_iss_parameter_supported puts its exact issuer as iss in every authorization response, a code or an error (RFC 9207 s2, s2.4)",
}

// Capabilities a client manifest may declare and a scenario may need.
var Capabilities = map[string]string{
	"refresh-token":             "renews with the refresh_token grant",
	"silent-refresh-implicit":   "renews through a hidden iframe in the implicit flow",
	"silent-refresh-code":       "renews through a hidden iframe in the code flow with PKCE",
	"automatic-renewal":         "renews by itself before the token expires",
	"renewal-fraction":          "times renewal as a fraction of the token lifetime (a timeoutFactor) that a scenario can set",
	"renewal-lead":              "renews a fixed time before expiry (a lead) that a scenario can set",
	"renewal-window-setting":    "an on-demand client whose renewal window a scenario can set",
	"adds-offline-access":       "adds offline_access to the scope it requests by itself, whatever the app configured (documented by the library)",
	"revokes-on-logout":         "revokes its refresh token at the IdP on logout (RFC 7009), as its documentation says",
	"access-token-expiry-event": "emits token_expires (info access_token) when the access token is due for renewal",
	"id-token-expiry-event":     "emits token_expires (info id_token) when the id token is due for renewal",
	"token-storage":             "keeps its tokens where a scenario says: client.storage session (per tab) or local (shared by the app's tabs)",
	// Derived from the manifest's callback.channel, never declared: how the
	// client's silent-renewal response reaches the app decides which ways of
	// checking and forging it apply.
	"channel-post-message":      "(derived from callback.channel) the app's own callback page posts the response to its parent",
	"channel-web-message":       "(derived from callback.channel) the IdP's own page posts the response to the parent (response_mode=web_message)",
	"channel-broadcast-channel": "(derived from callback.channel) a page broadcasts the response on a BroadcastChannel",
	"channel-custom-event":      "(derived from callback.channel) the callback page dispatches a DOM event on its parent",
}

// Settings are the suite-level client and IdP settings expressions may refer to,
// with whether each is a duration.
var Settings = map[string]bool{
	"client.renewal-factor":          false,
	"client.silent-refresh-timeout":  true,
	"client.renewal-debounce":        true,
	"client.renewal-before":          true,
	"client.renewal-granularity":     true,
	"client.renewal-window":          true,
	"client.silent-refresh-attempts": false,
	"client.silent-refresh-retry":    true,
	"client.clock-skew-tolerance":    true,
	"client.network-attempts":        false,
	"idp.access-token-lifetime":      true,
	"idp.id-token-lifetime":          true,
	"idp.refresh-token-lifetime":     true,
	"idp.session-lifetime":           true,
	"idp.rotation-grace":             true,
}

// DriverFunctions are the functions a step may call on a client's driver.
var DriverFunctions = map[string]string{
	"refreshToken":                "renew with the refresh_token grant",
	"silentRefresh":               "renew through the hidden iframe",
	"setupAutomaticSilentRefresh": "start automatic renewal",
	"getToken":                    "ask for an access token the way an app does before an API call: an on-demand client renews it when it is within its renewal window",
	"logout":                      "forget the tokens locally",
}

// AppFaults are faults the suite's app server applies (the IdP's are in fakeidp).
var AppFaults = map[string]string{
	"no-post-message": "the silent-refresh callback page is served without its postMessage",
}

// Events is the suite's vocabulary of client events: the names
// angular-oauth2-oidc gives its events, which a client's manifest maps its
// own library's names onto. A manifest that maps an event to any other name
// would forward it under a name no expectation reads.
var Events = map[string]string{
	"discovery_document_loaded":           "the discovery document was loaded",
	"discovery_document_load_error":       "the discovery document could not be loaded",
	"discovery_document_validation_error": "the discovery document was refused",
	"jwks_load_error":                     "the key set could not be loaded",
	"invalid_nonce_in_state":              "a response's state or nonce did not match",
	"user_profile_loaded":                 "userinfo was loaded",
	"user_profile_load_error":             "userinfo could not be loaded",
	"token_received":                      "new tokens were stored (login, refresh or silent refresh)",
	"token_error":                         "a token response was an error",
	"code_error":                          "the authorization response was an error",
	"token_refreshed":                     "tokens were renewed with the refresh token",
	"token_refresh_error":                 "a refresh_token grant failed",
	"silently_refreshed":                  "tokens were renewed through the iframe",
	"silent_refresh_error":                "a silent refresh failed",
	"silent_refresh_timeout":              "a silent refresh timed out",
	"token_validation_error":              "a received token was refused",
	"token_expires":                       "a token is due for renewal (info: access_token or id_token)",
	"session_changed":                     "the IdP session changed",
	"session_error":                       "the IdP session check failed",
	"session_terminated":                  "the IdP session ended",
	"session_unchanged":                   "the IdP session is unchanged",
	"logout":                              "the client logged out",
	"popup_closed":                        "a login popup was closed",
	"popup_blocked":                       "a login popup was blocked",
	"token_revoke_error":                  "revoking a token failed",
}
