package timeline

// Values lists, for the fields that take a fixed set of values, every value
// they take. A scenario that compares such a field with anything else selects
// nothing, so that its expectation would pass or be skipped for a typo: the
// loader refuses it. Validate refuses an entry that records anything else, so
// the list cannot drift from what the recorders write.
var Values = map[string]map[string][]string{
	"idp.authorize": {
		"outcome": {"ok", "error", "fault", "abandoned"}, "session": {"yes", "no"}, "login": {"yes"},
		"dest": {"document", "iframe", "empty", "script", "frame"},
	},
	"idp.token": {
		"outcome": {"ok", "error", "fault", "abandoned"}, "actor": {"client", "harness"},
		"code_verifier": {"yes", "no"}, "replay": {"yes", "no"},
	},
	"idp.revoke":             {"outcome": {"ok", "error", "fault", "abandoned"}},
	"idp.userinfo":           {"outcome": {"ok", "error", "fault", "abandoned"}},
	"idp.preflight":          {"allowed": {"yes", "no"}},
	"idp.end-session":        {"outcome": {"redirect", "ok", "unregistered-redirect"}},
	"client.ready":           {"logged_in": {"yes", "no"}},
	"browser.frames":         {},
	"harness.call":           {"outcome": {"resolved", "rejected", "pending"}},
	"harness.page":           {"state": {"frozen", "active"}},
	"harness.network":        {"state": {"offline", "online"}},
	"harness.wait":           {"outcome": {"timeout"}},
	"harness.config":         {"flow": {"code", "implicit"}, "third_party_cookies": {"allowed", "blocked"}, "sites": {"cross-site", "same-site"}, "clock": {"virtual", "real"}},
	"browser.navigated":      {"frame": {"top", "child"}},
	"browser.request":        {"frame": {"top", "child"}},
	"browser.frame-attached": {"visible": {"yes", "no"}},
	"client.event":           {"frame": {"top", "child"}},
}
