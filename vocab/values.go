package vocab

// Values lists, for the fields that take a fixed set of values, every value
// they take. A scenario that compares such a field with anything else selects
// nothing, so that its expectation would pass or be skipped for a typo: the
// loader refuses it. Validate refuses an entry that records anything else, so
// the list cannot drift from what the recorders write.
var Values = map[string]map[string][]string{
	"idp.authorize": {
		"outcome": {"ok", "error", "fault", "abandoned"}, "session": {"yes", "no"}, "login": {"yes"},
	},
	"idp.token": {
		"outcome": {"ok", "error", "fault", "abandoned"}, "actor": {"client", "harness"},
		"code_verifier": {"yes", "no"}, "replay": {"yes", "no"}, "cors": {"allowed", "refused"},
		"token_type": {"bearer", "dpop"}, "dpop": {"none", "valid", "invalid", "ignored"}, "dpop_bound": {"yes", "no"},
		"dpop_nonce": {"missing", "other", "current"},
	},
	"idp.revoke": {"outcome": {"ok", "error", "fault", "abandoned"}, "cors": {"allowed", "refused"}, "kind": {"access_token", "refresh_token", "id_token", "code"}},
	"idp.userinfo": {
		"outcome": {"ok", "error", "fault", "abandoned"}, "cors": {"allowed", "refused"},
		"scheme": {"bearer", "dpop", "parameter"}, "dpop": {"none", "valid", "invalid", "ignored"},
	},
	"idp.discovery":   {"cors": {"allowed", "public"}},
	"idp.jwks":        {"cors": {"allowed", "public"}},
	"idp.preflight":   {"allowed": {"yes", "no"}},
	"idp.end-session": {"outcome": {"redirect", "ok", "unregistered-redirect", "error"}, "session": {"yes", "no"}},
	"idp.page":        {"result": {"supported", "unsupported"}},

	"browser.message": {
		"from_window": {"self", "parent", "top", "opener", "child", "other", "none"}, "trusted": {"no"},
	},
	"browser.post-message":   {"to_window": {"self", "parent", "top", "opener", "child", "other"}},
	"browser.window-event":   {"interface": {"CustomEvent", "MessageEvent", "Event"}},
	"browser.console-error":  {"source": {"exception", "console"}},
	"browser.log":            {"level": {"error", "warning"}},
	"browser.request-failed": {"canceled": {"yes"}, "frame": {"top", "child", "worker"}},
	"browser.request":        {"frame": {"top", "child", "worker"}},
	"browser.response":       {"frame": {"top", "child", "worker"}},
	"browser.callback-probe": {"outcome": {"delivered", "refused", "silent"}},
	"client.ready":           {"logged_in": {"yes", "no"}},
	"client.event":           {"frame": {"top", "child"}},
	"browser.navigated":      {"frame": {"top", "child"}},
	"browser.frame-attached": {"visible": {"yes", "no"}},

	"harness.call":    {"outcome": {"resolved", "rejected", "pending"}},
	"harness.page":    {"state": {"frozen", "active"}},
	"harness.network": {"state": {"offline", "online"}},
	"harness.wait":    {"outcome": {"timeout"}},
	"harness.login":   {"outcome": {"logged-in", "refused"}},
	"harness.url":     {"in_url": {"yes", "no"}, "in_history": {"yes", "no"}},
	"harness.discovery": {
		"issuer_exact": {"yes", "no"}, "authorization_endpoint": {"yes", "no"}, "token_endpoint": {"yes", "no"}, "jwks_uri": {"yes", "no"}, "offline_access": {"yes", "no"},
		"response_type_code": {"yes", "no"}, "refresh_token_grant": {"yes", "no"}, "pkce_s256": {"yes", "no"}, "query_mode": {"yes", "no"}, "fragment_mode": {"yes", "no"}, "cors": {"yes", "no"},
		"revocation_endpoint": {"yes", "no"}, "iss_parameter": {"yes", "no"}, "dpop": {"yes", "no"},
	},
	"harness.token": {
		"presented": {"held", "first", "newest", "unknown"}, "outcome": {"ok", "error", "unanswered"}, "new_refresh_token": {"yes", "no"},
		"expires_in_ok": {"yes", "no"}, "exp_consistent": {"yes", "no", "opaque"}, "cors": {"allowed", "refused"},
		"dpop": {"client", "other", "none"}, "dpop_nonce": {"asked"},
	},
	"harness.revoke":    {"presented": {"held", "first", "newest"}, "outcome": {"ok", "error", "unanswered", "not-advertised"}, "cors": {"allowed", "refused"}},
	"harness.userinfo":  {"outcome": {"ok", "error", "unanswered", "not-advertised"}, "cors": {"allowed", "refused"}, "sub_matches": {"yes", "no"}, "dpop": {"client"}},
	"harness.logout":    {"outcome": {"loaded", "loading", "not-advertised"}},
	"harness.authorize": {"prompt": {"none"}, "session": {"yes", "no"}, "outcome": {"code", "error", "stayed"}, "iss": {"match", "other", "missing"}, "iss_advertised": {"yes", "no"}},
	"harness.id-token": {
		"source": {"client", "harness"}, "refreshed": {"yes", "no"}, "signature": {"valid", "invalid", "unknown-kid", "unsigned", "unchecked"},
		"iss": {"same", "changed"}, "sub": {"same", "changed"}, "aud": {"same", "changed"}, "azp": {"same", "changed"},
		"auth_time": {"same", "changed", "none"}, "nonce": {"none", "same", "changed"}, "iat": {"fresh", "stale"}, "exp": {"ahead", "past"},
	},
	"harness.config": {
		"target": {"embedded", "external"}, "profile": {"strict", "lenient"},
		"flow": {"code", "implicit"}, "third_party_cookies": {"allowed", "blocked"},
		"sites": {"cross-site", "same-site"}, "clock": {"virtual", "real"},
	},
}
