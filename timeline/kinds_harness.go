package timeline

// harnessKinds are what the harness records about its own actions, and what
// the suite's app server records.
var harnessKinds = map[string]Kind{
	"harness.config": {"the run's setup, recorded first", map[string]string{
		"app_origin": "the app's origin", "issuer": "the IdP's issuer", "client_id": "client_id",
		"redirect_uri": "login redirect URI", "silent_redirect_uri": "silent-refresh redirect URI",
		"flow": "code or implicit", "scope": "requested scope", "third_party_cookies": "allowed or blocked", "sites": "cross-site or same-site", "clock": "virtual or real",
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
	}},
	"harness.replay":         {"the harness replayed a refresh token", map[string]string{"refresh_token": "fingerprint", "status": "HTTP status", "error": "OAuth error"}},
	"harness.forged-message": {"a foreign frame posted a forged message", map[string]string{"origin": "the foreign origin", "data": "start of the message"}},
	"app.fault":              {"the app server applied a declared fault", map[string]string{"on": "what was served", "do": "action", "path": "URL path"}},
	"app.request":            {"the suite's app server served a file", map[string]string{"path": "URL path", "status": "HTTP status"}},
}
