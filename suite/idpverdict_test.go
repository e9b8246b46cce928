package suite

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/target"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// The idp scenarios judged on recorded evidence: testdata/idp-healthy holds
// the timelines of a certification of the embedded IdP (fingerprints only),
// which every spec passes on either profile. Each case below weakens one
// observation the way a real IdP's answer would, and the verdict and its
// message must follow.

func idpScenarios(t *testing.T) map[string]*scenarios.Scenario {
	t.Helper()
	all, err := scenarios.Load(filepath.Join("..", "scenarios", "idp"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*scenarios.Scenario{}
	for _, s := range all {
		out[s.ID] = s
	}
	return out
}

func healthyTimeline(t *testing.T, scenario string) []timeline.Entry {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "idp-healthy", scenario+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var es []timeline.Entry
	if err := json.Unmarshal(raw, &es); err != nil {
		t.Fatal(err)
	}
	return es
}

// verdict is one spec's outcome on a timeline, as the suite decides it.
func verdict(t *testing.T, s *scenarios.Scenario, id string, es []timeline.Entry, profile string) (Outcome, string) {
	t.Helper()
	for _, x := range s.Expect {
		if x.ID == id {
			return decide(&fixtures.Manifest{}, s, x, scenarios.Judge(s, x, es, scenarios.Client{}), nil, profile)
		}
	}
	t.Fatalf("%s has no expectation %s", s.ID, id)
	return "", ""
}

// edit changes the fields of every entry of kind what whose fields include
// match (a value "" in set removes the field); drop removes such entries.
type edit struct {
	what  string
	match map[string]string
	set   map[string]string
	drop  bool
}

func apply(es []timeline.Entry, edits ...edit) []timeline.Entry {
	var out []timeline.Entry
	for _, e := range es {
		e.Fields = maps.Clone(e.Fields)
		keep := true
		for _, ed := range edits {
			if e.What != ed.what || !matches(e.Fields, ed.match) {
				continue
			}
			if ed.drop {
				keep = false
				continue
			}
			for k, v := range ed.set {
				if v == "" {
					delete(e.Fields, k)
				} else {
					e.Fields[k] = v
				}
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	return out
}

func matches(f timeline.Fields, want map[string]string) bool {
	for k, v := range want {
		if f[k] != v {
			return false
		}
	}
	return true
}

func TestIdPScenariosPassOnHealthyEvidence(t *testing.T) {
	for id, s := range idpScenarios(t) {
		es := healthyTimeline(t, id)
		for _, x := range s.Expect {
			for _, p := range []string{"strict", "lenient"} {
				if got, msg := verdict(t, s, x.ID, es, p); got != Passed {
					t.Errorf("%s/%s (%s): %s: %s", id, x.ID, p, got, msg)
				}
			}
		}
	}
}

// The profiles differ exactly where the catalogue leaves the IdP a choice:
// a should fails the strict profile and is reported by the lenient one.
func TestIdPProfiles(t *testing.T) {
	all := idpScenarios(t)
	for _, tc := range []struct {
		spec string
		edit []edit
		says string
	}{
		{"idp-offline-access-gating/no-refresh-token-without-offline-access",
			[]edit{{what: "harness.tokens", set: map[string]string{"refresh_token": "fp:000000000001"}}}, "want 0"},
		{"idp-refresh/family-revoked",
			[]edit{{what: "harness.token", match: map[string]string{"presented": "newest"}, set: map[string]string{"outcome": "ok", "status": "200", "error": ""}}}, "does not revoke the family on reuse"},
		// Only invalid_grant proves the family revoked: a server error, a
		// rate limit or no answer at all leave it unknown.
		{"idp-refresh/family-revoked",
			[]edit{{what: "harness.token", match: map[string]string{"presented": "newest"}, set: map[string]string{"status": "500", "error": "(not JSON: HTTP 500)"}}}, "whether the family is revoked is unknown"},
		{"idp-refresh/family-revoked",
			[]edit{{what: "harness.token", match: map[string]string{"presented": "newest"}, set: map[string]string{"status": "429", "error": "slow_down"}}}, "not answered invalid_grant"},
		{"idp-refresh/family-revoked",
			[]edit{{what: "harness.token", match: map[string]string{"presented": "newest"}, set: map[string]string{"status": "", "outcome": "unanswered", "error": "POST http://idp/token: connection reset"}}}, "connection reset"},
		{"idp-no-session/prompt-none-login-required",
			[]edit{{what: "harness.authorize", set: map[string]string{"error": "interaction_required"}}}, "interaction_required"},
		{"idp-code-flow/token-errors-readable",
			[]edit{{what: "harness.token", match: map[string]string{"presented": "unknown"}, set: map[string]string{"cors": "refused"}}}, "carries no Access-Control-Allow-Origin"},
		// Refresh tokens that outlive the login session are a choice OIDC
		// Core 11 leaves the IdP (offline access), even where declared.
		{"idp-refresh-session-end/refused-after-logout",
			[]edit{{what: "harness.token", match: map[string]string{"presented": "newest"}, set: map[string]string{"outcome": "ok", "status": "200", "error": ""}}}, "outlives the session"},
	} {
		scenario, id, _ := strings.Cut(tc.spec, "/")
		s := all[scenario]
		es := apply(healthyTimeline(t, scenario), tc.edit...)
		if got, msg := verdict(t, s, id, es, "strict"); got != Failed || !strings.Contains(msg, tc.says) {
			t.Errorf("%s strict: %s %q, want a failure saying %q", tc.spec, got, msg, tc.says)
		}
		if got, msg := verdict(t, s, id, es, "lenient"); got != Deviated || !strings.HasPrefix(msg, LenientReport) || !strings.Contains(msg, tc.says) {
			t.Errorf("%s lenient: %s %q, want it reported, saying %q", tc.spec, got, msg, tc.says)
		}
	}
	// A must fails both profiles.
	s := all["idp-no-session"]
	es := apply(healthyTimeline(t, "idp-no-session"), edit{what: "harness.authorize", set: map[string]string{"outcome": "stayed", "error": ""}})
	for _, p := range []string{"strict", "lenient"} {
		if got, msg := verdict(t, s, "prompt-none-error", es, p); got != Failed || !strings.Contains(msg, "did not come back to the redirect URI") {
			t.Errorf("prompt-none-error %s: %s %q, want a failure", p, got, msg)
		}
	}
}

func TestIdPChecksSayWhy(t *testing.T) {
	all := idpScenarios(t)
	afterRefresh := map[string]string{"tab": "1"}
	for _, tc := range []struct {
		spec string
		edit []edit
		want Outcome
		says string
	}{
		{"idp-discovery/discovery-document", []edit{{what: "harness.discovery", set: map[string]string{"refresh_token_grant": "no"}}}, Failed, "does not list refresh_token"},
		// Without its cookie in the iframe, an IdP that shows a page there
		// leaves the SPA waiting: a should.
		{"idp-silent-auth-cookies-blocked/iframe-comes-back", []edit{{what: "browser.post-message", drop: true}, {what: "browser.message", drop: true},
			{what: "browser.navigated", match: map[string]string{"frame": "child", "url": "http://localhost:8471/silent-callback.html"}, set: map[string]string{"url": "http://127.0.0.1:9471/login", "origin": "http://127.0.0.1:9471"}}}, Failed, "answered the iframe with a page instead of a redirect"},
		// Userinfo, judged on its actual answer and on whose it is.
		{"idp-code-flow/userinfo-readable", []edit{{what: "harness.userinfo", set: map[string]string{"cors": "refused"}}}, Failed, "does not let the SPA's origin read it"},
		{"idp-code-flow/userinfo-readable", []edit{{what: "harness.userinfo", set: map[string]string{"sub_matches": "no"}}}, Failed, "its sub differs"},
		{"idp-code-flow/userinfo-readable", []edit{{what: "harness.userinfo", set: map[string]string{"outcome": "error", "status": "401", "sub_matches": ""}}}, Failed, "did not answer the SPA's access token with 200"},
		{"idp-code-flow/userinfo-readable", []edit{{what: "harness.userinfo", set: map[string]string{"outcome": "not-advertised", "status": "", "cors": "", "sub_matches": ""}}}, Skipped, "premise userinfo-advertised did not hold"},
		// RFC 7009 for a public client: the revocation is judged on its
		// actual answer, and the token on what the IdP does with it next.
		{"idp-revocation/revocation-accepted", []edit{{what: "harness.revoke", set: map[string]string{"outcome": "error", "status": "401", "error": "invalid_client"}}}, Failed, "refused a public client's revocation"},
		{"idp-revocation/revocation-readable", []edit{{what: "harness.revoke", set: map[string]string{"cors": "refused"}}}, Failed, "whatever the preflight said"},
		{"idp-revocation/revoked-token-refused", []edit{{what: "harness.token", set: map[string]string{"outcome": "ok", "status": "200", "error": ""}}}, Failed, "still works after the IdP accepted its revocation"},
		{"idp-revocation/revoked-token-refused", []edit{{what: "harness.revoke", set: map[string]string{"outcome": "not-advertised", "status": "", "cors": ""}}}, Skipped, "premise revocation-advertised did not hold"},
		{"idp-revocation/revocation-accepted", []edit{{what: "harness.revoke", set: map[string]string{"outcome": "not-advertised", "status": "", "cors": ""}}}, Skipped, "premise revocation-advertised did not hold"},
		// RFC 9207, where discovery promises it: an error response and a
		// code without iss, or with another one, fail; an IdP that does not
		// advertise it is not judged on it.
		{"idp-no-session/iss-in-error-response", []edit{{what: "harness.authorize", set: map[string]string{"iss": "missing"}}}, Failed, "the error response has no iss"},
		{"idp-no-session/iss-in-error-response", []edit{{what: "harness.authorize", set: map[string]string{"iss": "other"}}}, Failed, "the error response's iss is not the issuer"},
		{"idp-no-session/iss-in-error-response", []edit{{what: "harness.authorize", set: map[string]string{"iss_advertised": "no", "iss": "missing"}}}, Skipped, "premise iss-advertised did not hold"},
		{"idp-silent-auth/iss-in-code-response", []edit{{what: "harness.authorize", set: map[string]string{"iss": "missing"}}}, Failed, "the response with a code has no iss"},
		{"idp-silent-auth/iss-in-code-response", []edit{{what: "harness.authorize", set: map[string]string{"iss": "other"}}}, Failed, "the response's iss is not the issuer"},
		{"idp-discovery/discovery-document", []edit{{what: "harness.discovery", set: map[string]string{"issuer_exact": "no"}}}, Failed, "not the issuer exactly as configured"},
		{"idp-discovery/discovery-document", []edit{{what: "harness.discovery", set: map[string]string{"pkce_s256": "no"}}}, Failed, "S256"},
		{"idp-code-flow/code-flow-login", []edit{{what: "harness.login", set: map[string]string{"outcome": "refused", "error": "invalid_grant"}}}, Failed, "not logged in"},
		{"idp-code-flow/refresh-token-with-offline-access", []edit{{what: "harness.tokens", set: map[string]string{"refresh_token": ""}}}, Failed, "holds no refresh token"},
		{"idp-code-flow/refresh-token-with-offline-access",
			[]edit{{what: "harness.tokens", set: map[string]string{"refresh_token": "", "scope": "openid profile", "offline_access": "not granted"}}}, Failed, `did not grant offline_access: the scope it granted (the entry's scope) lacks it (`},
		// What the SPA holds could not be read: no evidence either way.
		{"idp-code-flow/refresh-token-with-offline-access", []edit{{what: "harness.tokens", drop: true}}, Skipped, "could be read"},
		{"idp-offline-access-gating/no-refresh-token-without-offline-access", []edit{{what: "harness.tokens", drop: true}}, Skipped, "holds an access token"},
		{"idp-offline-access-gating/no-refresh-token-without-offline-access", []edit{{what: "harness.tokens", set: map[string]string{"access_token": ""}}}, Skipped, "holds an access token"},
		{"idp-refresh/refresh-expires-in", []edit{{what: "harness.tokens", set: map[string]string{"refresh_token": ""}}}, Skipped, "refresh token was issued at login (IDP-OA-1)"},
		{"idp-refresh/refresh-expires-in", []edit{{what: "harness.token", match: map[string]string{"presented": "held"}, set: map[string]string{"expires_in": "", "expires_in_ok": "no"}}}, Failed, "no positive expires_in"},
		{"idp-refresh/refresh-expires-in-matches-exp", []edit{{what: "harness.token", match: map[string]string{"presented": "held"}, set: map[string]string{"exp_consistent": "no"}}}, Failed, "want 0"},
		{"idp-refresh/spa-refresh-rotates", []edit{{what: "harness.tokens", match: afterRefresh, set: map[string]string{"refresh_token": "fp:same"}}}, Failed, "does not rotate refresh tokens"},
		{"idp-refresh/spa-refresh-new-access-token", []edit{{what: "harness.tokens", match: afterRefresh, set: map[string]string{"access_token": "fp:same"}}}, Failed, "same"},
		{"idp-refresh/spa-refresh-resolves", []edit{{what: "harness.call", match: map[string]string{"function": "refreshToken"}, set: map[string]string{"outcome": "rejected", "error": "invalid_grant"}}}, Failed, "refreshToken"},
		{"idp-refresh/refresh-rotates", []edit{{what: "harness.token", match: map[string]string{"presented": "held"}, set: map[string]string{"new_refresh_token": "no"}}}, Failed, "does not rotate"},
		{"idp-refresh/replay-rejected", []edit{{what: "harness.token", match: map[string]string{"presented": "first"}, set: map[string]string{"outcome": "ok", "status": "200", "error": ""}}}, Failed, "no reuse detection"},
		{"idp-refresh/replay-rejected", []edit{{what: "harness.token", match: map[string]string{"presented": "first"}, set: map[string]string{"outcome": "unanswered", "status": "", "error": "POST http://idp/token: EOF"}}}, Failed, "proves nothing"},
		{"idp-refresh/replay-rejected", []edit{{what: "harness.token", match: map[string]string{"presented": "held"}, set: map[string]string{"new_refresh_token": "no"}}, {what: "harness.token", match: map[string]string{"presented": "first"}, set: map[string]string{"outcome": "ok", "status": "200", "error": ""}}}, Failed, "without rotation a stolen refresh token stays usable"},
		{"idp-refresh/refreshed-id-token", []edit{{what: "harness.id-token", match: map[string]string{"refreshed": "yes"}, drop: true}}, Skipped, "OIDC Core 12.2 allows it not to"},
		{"idp-refresh/refreshed-id-token", []edit{{what: "harness.id-token", match: map[string]string{"refreshed": "yes"}, set: map[string]string{"signature": "invalid", "problems": "signature"}}}, Failed, "does not verify against the IdP's key set"},
		{"idp-refresh/refreshed-id-token", []edit{{what: "harness.id-token", match: map[string]string{"refreshed": "yes"}, set: map[string]string{"iat": "stale", "problems": "iat"}}}, Failed, "breaks OIDC Core 12.2"},
		{"idp-refresh/refreshed-id-token", []edit{{what: "harness.id-token", match: map[string]string{"refreshed": "yes"}, set: map[string]string{"auth_time": "changed", "azp": "changed", "problems": "azp auth_time"}}}, Failed, `problems="azp auth_time"`},
		{"idp-silent-auth/iframe-came-back-with-code",
			[]edit{{what: "browser.post-message", drop: true}, {what: "browser.navigated", match: map[string]string{"frame": "child"}, set: map[string]string{"url": "chrome-error://chromewebdata/"}}}, Failed, "refused to be framed"},
		// A silent refresh that renewed without an iframe shows nothing
		// about prompt=none in a frame.
		{"idp-silent-auth/iframe-attached", []edit{{what: "browser.frame-attached", drop: true}}, Failed, "no entry matches browser.frame-attached"},
		{"idp-silent-auth/iframe-came-back-with-code", []edit{{what: "browser.frame-attached", set: map[string]string{"visible": "yes"}}}, Passed, ""},
		{"idp-silent-auth/session-cookie-crosses-sites", []edit{{what: "browser.post-message", set: map[string]string{"data": `{"url":"http://localhost/silent-callback.html?error=login_required&state=x"}`}}}, Failed, "SameSite=None; Secure"},
		{"idp-silent-auth/session-cookie-crosses-sites", []edit{{what: "harness.config", set: map[string]string{"sites": "same-site"}}}, Skipped, "different sites"},
		{"idp-silent-auth/session-cookie-crosses-sites",
			[]edit{{what: "browser.post-message", set: map[string]string{"data": `{"url":"http://localhost/silent-callback.html?error=login_required&state=x"}`}},
				{what: "harness.authorize", set: map[string]string{"outcome": "error", "error": "login_required"}}}, Skipped, "keeps a login session prompt=none can use"},
	} {
		scenario, id, _ := strings.Cut(tc.spec, "/")
		s := all[scenario]
		es := apply(healthyTimeline(t, scenario), tc.edit...)
		if got, msg := verdict(t, s, id, es, "strict"); got != tc.want || !strings.Contains(msg, tc.says) {
			t.Errorf("%s: %s %q, want %s saying %q", tc.spec, got, msg, tc.want, tc.says)
		}
	}
}

// presentedAt is the presented_refresh_token of the nth harness.token entry
// (1-based): what an edit matches to change that one answer alone.
func presentedAt(t *testing.T, es []timeline.Entry, n int) map[string]string {
	t.Helper()
	for _, e := range es {
		if e.What == "harness.token" {
			if n--; n == 0 {
				return map[string]string{"presented_refresh_token": e.Fields["presented_refresh_token"]}
			}
		}
	}
	t.Fatalf("fewer harness.token entries than asked")
	return nil
}

// The expiry checks (IDP-RT-5, RT-6, RT-7) pass only for a refusal that
// follows an accepted use: an IdP that refuses everything is not judged on
// the refusal (its premise did not happen) and fails the use it should have
// accepted; an answer other than invalid_grant proves nothing.
func TestIdPExpiryChecks(t *testing.T) {
	all := idpScenarios(t)
	life := healthyTimeline(t, "idp-refresh-lifetime")
	second, last := presentedAt(t, life, 2), presentedAt(t, life, 4)
	accepted := map[string]string{"outcome": "ok", "status": "200", "error": ""}
	refused := map[string]string{"outcome": "error", "status": "400", "error": "invalid_grant"}
	newest := map[string]string{"presented": "newest"}
	held := map[string]string{"presented": "held"}
	noRefreshToken := []edit{{what: "harness.tokens", set: map[string]string{"refresh_token": ""}}}
	for _, tc := range []struct {
		spec string
		edit []edit
		want Outcome
		says string
	}{
		// Idle expiry: the token used within the idle time is accepted, the
		// one left unused for longer refused.
		{"idp-refresh-idle/idle-refused", []edit{{what: "harness.token", match: newest, set: accepted}}, Failed, "unused for 2 s longer than the declared idle time (--refresh-token-idle), was accepted (HTTP 200)"},
		{"idp-refresh-idle/idle-refused", []edit{{what: "harness.token", match: newest, set: map[string]string{"status": "500", "error": "server_error"}}}, Failed, "proves nothing"},
		{"idp-refresh-idle/idle-refused", []edit{{what: "harness.token", match: newest, set: map[string]string{"outcome": "unanswered", "status": "", "error": "POST http://idp/token: EOF"}}}, Failed, "EOF"},
		{"idp-refresh-idle/used-within-idle-accepted", []edit{{what: "harness.token", match: held, set: refused}}, Failed, "ends refresh tokens sooner than it declares"},
		{"idp-refresh-idle/idle-refused", []edit{{what: "harness.token", set: refused}}, Skipped, "premise used-within-idle did not hold"},
		{"idp-refresh-idle/used-within-idle-accepted", noRefreshToken, Skipped, "refresh token was issued at login"},
		{"idp-refresh-idle/idle-refused", noRefreshToken, Skipped, "refresh token was issued at login"},
		// Absolute lifetime: kept alive by use until its last quarter, the
		// family is refused after it.
		{"idp-refresh-lifetime/refused-after-lifetime", []edit{{what: "harness.token", match: last, set: accepted}}, Failed, "still refreshed 2 s after the declared lifetime (HTTP 200)"},
		{"idp-refresh-lifetime/refused-after-lifetime", []edit{{what: "harness.token", match: last, set: map[string]string{"status": "429", "error": "slow_down"}}}, Failed, "proves nothing"},
		{"idp-refresh-lifetime/kept-alive-within-lifetime", []edit{{what: "harness.token", match: second, set: refused}}, Failed, "ends the family sooner than it declares"},
		{"idp-refresh-lifetime/kept-alive-within-lifetime", []edit{{what: "harness.token", match: second, set: map[string]string{"outcome": "error", "status": "500", "error": "server_error"}}}, Failed, "not answered with tokens"},
		{"idp-refresh-lifetime/refused-after-lifetime", []edit{{what: "harness.token", match: second, set: refused}}, Skipped, "premise kept-alive did not hold"},
		{"idp-refresh-lifetime/refused-after-lifetime", []edit{{what: "harness.token", set: refused}}, Skipped, "premise kept-alive did not hold"},
		{"idp-refresh-lifetime/refused-after-lifetime", noRefreshToken, Skipped, "refresh token was issued at login"},
		// With the session: judged only once the refresh token worked and
		// the logout really ended the session.
		{"idp-refresh-session-end/refused-after-logout", []edit{{what: "harness.token", match: newest, set: map[string]string{"status": "500", "error": "server_error"}}}, Failed, "proves nothing"},
		{"idp-refresh-session-end/refused-after-logout", []edit{{what: "harness.token", match: held, set: refused}}, Skipped, "premise refreshed-before-logout did not hold"},
		{"idp-refresh-session-end/refused-after-logout", []edit{{what: "harness.authorize", set: map[string]string{"outcome": "code", "error": ""}}}, Skipped, "premise session-ended did not hold"},
		{"idp-refresh-session-end/refused-after-logout", []edit{{what: "harness.logout", set: map[string]string{"outcome": "not-advertised", "at": "", "id_token_hint": ""}}}, Skipped, "premise logout-advertised did not hold"},
	} {
		scenario, id, _ := strings.Cut(tc.spec, "/")
		es := apply(healthyTimeline(t, scenario), tc.edit...)
		if got, msg := verdict(t, all[scenario], id, es, "strict"); got != tc.want || !strings.Contains(msg, tc.says) {
			t.Errorf("%s %v: %s %q, want %s saying %q", tc.spec, tc.edit, got, msg, tc.want, tc.says)
		}
	}
}

// What the expiry checks need is declared by the IdP target: against an
// external IdP that declares nothing they do not apply, each with the flag
// that would declare it; declared, the steps wait out the declared values.
// Against the embedded IdP the scenario's own idp settings configure it.
func TestIdPExpiryDeclarations(t *testing.T) {
	m, err := fixtures.Load(filepath.Join("..", "fixtures", "oidc-client-ts", "client.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	all := idpScenarios(t)
	flags := map[string]string{
		"idp-refresh-idle": "--refresh-token-idle", "idp-refresh-lifetime": "--refresh-token-lifetime",
		"idp-refresh-session-end": "--refresh-tokens-end-with-session",
	}
	ext := func(e target.External) *target.External {
		e.Issuer, e.ClientID, e.RedirectBase = "https://idp.example", "spa", "http://localhost:8080/"
		return &e
	}
	for id, flag := range flags {
		p, err := NewPlanFor(m, all[id], ext(target.External{}))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.Skip, "which the IdP does not declare (declare it with refreshsuite certify "+flag+")") {
			t.Errorf("%s against an IdP that declares nothing: skip %q, want it to name %s", id, p.Skip, flag)
		}
		if p, _ := NewPlan(m, all[id]); p.Skip != "" {
			t.Errorf("%s against the embedded IdP: skipped: %s", id, p.Skip)
		}
	}
	declared := ext(target.External{RefreshTokenIdle: 20 * time.Second, RefreshTokenLifetime: 40 * time.Second, RefreshTokensEndWithSession: true})
	for id := range flags {
		if p, err := NewPlanFor(m, all[id], declared); err != nil || p.Skip != "" {
			t.Errorf("%s against an IdP that declares it: %v, skip %q", id, err, p.Skip)
		}
	}
	p, _ := NewPlanFor(m, all["idp-refresh-idle"], declared)
	if got := p.Timeouts[1:4]; got[0] != 10*time.Second || got[2] != 22*time.Second {
		t.Errorf("the idle check waits %v, want half the declared 20s, then 20s and 2s", got)
	}
	p, _ = NewPlan(m, all["idp-refresh-lifetime"])
	if p.IdPClient.RefreshTokenLifetime != 16*time.Second || p.Settings["idp.refresh-token-lifetime"] != 16000 {
		t.Errorf("the embedded IdP of the lifetime check: lifetime %s, setting %v", p.IdPClient.RefreshTokenLifetime, p.Settings["idp.refresh-token-lifetime"])
	}
	p, _ = NewPlan(m, all["idp-refresh-session-end"])
	if !p.IdPClient.RefreshTokensEndWithSession {
		t.Errorf("the embedded IdP of the session check keeps refresh tokens past the session")
	}
	// An expression that reads an idp.* value nobody declares names the
	// flag, not the client.
	s := *all["idp-refresh-idle"]
	s.IdP.RefreshTokenIdle = nil
	p, _ = NewPlanFor(m, &s, ext(target.External{}))
	if want := "and the IdP declares no idp.refresh-token-idle (declare it with refreshsuite certify --refresh-token-idle)"; !strings.HasSuffix(p.Skip, want) {
		t.Errorf("an undeclared idle time in a step: skip %q, want it to end %q", p.Skip, want)
	}
}

// DPoP-bound refresh tokens (IDP-RT-8, and RT-2's alternative to rotation):
// judged on a live token only, an answer with tokens to a presentation
// without the SPA's key fails quoting it, any other refusal than a 4xx OAuth
// error proves nothing, and an IdP that advertises no DPoP is not judged.
func TestIdPDPoPChecks(t *testing.T) {
	all := idpScenarios(t)
	s := all["idp-refresh-dpop"]
	accepted := map[string]string{"outcome": "ok", "status": "200", "error": ""}
	serverError := map[string]string{"outcome": "error", "status": "500", "error": "server_error"}
	other, none := map[string]string{"dpop": "other"}, map[string]string{"dpop": "none"}
	firstClient := map[string]string{"dpop": "client", "presented": "held"}
	notRotated := edit{what: "harness.tokens", match: map[string]string{"tab": "1"}, set: map[string]string{"refresh_token": "fp:same"}}
	for _, tc := range []struct {
		spec string
		edit []edit
		want Outcome
		says string
	}{
		{"login-tokens-bound", []edit{{what: "harness.tokens", set: map[string]string{"token_type": "bearer"}}}, Failed, "the tokens are not bound to the SPA's key"},
		{"dpop-login", []edit{{what: "harness.login", set: map[string]string{"outcome": "refused", "error": "invalid_dpop_proof"}}}, Failed, "did not log in"},
		{"client-proof-accepted", []edit{{what: "harness.token", match: firstClient, set: map[string]string{"outcome": "error", "status": "400", "error": "invalid_dpop_proof"}}}, Failed, "was not answered with tokens"},
		{"client-proof-accepted", []edit{{what: "harness.token", match: firstClient, set: map[string]string{"token_type": "bearer"}}}, Failed, "is not DPoP"},
		{"other-key-refused", []edit{{what: "harness.token", match: other, set: accepted}}, Failed, "a thief's own key unlocks it"},
		{"other-key-refused", []edit{{what: "harness.token", match: other, set: serverError}}, Failed, "proves nothing"},
		// The token was not alive when the other key presented it: a
		// refusal then says nothing about the binding.
		{"other-key-refused", []edit{{what: "harness.token", match: firstClient, set: map[string]string{"outcome": "error", "status": "400", "error": "invalid_grant"}}}, Skipped, "premise client-proof-works did not hold"},
		{"no-proof-refused", []edit{{what: "harness.token", match: none, set: accepted}}, Failed, "the token is a bearer token after all"},
		{"no-proof-refused", []edit{{what: "harness.token", match: none, set: map[string]string{"outcome": "unanswered", "status": "", "error": "POST http://idp/token: EOF"}}}, Failed, "proves nothing"},
		{"no-proof-refused", []edit{{what: "harness.token", match: map[string]string{"dpop": "client", "presented": "newest"}, set: map[string]string{"outcome": "error", "status": "400", "error": "invalid_grant"}}}, Skipped, "premise still-alive-before-no-proof did not hold"},
		// RFC 9700 s4.14.2: rotation or sender-constraining, either one.
		{"rotated-or-bound", []edit{notRotated}, Passed, "any-of 2"},
		{"rotated-or-bound", []edit{{what: "harness.token", match: other, set: accepted}}, Passed, "any-of 1"},
		{"rotated-or-bound", []edit{notRotated, {what: "harness.token", match: other, set: accepted}}, Failed, ""},
		{"rotated-or-bound", []edit{notRotated, {what: "harness.token", match: none, set: serverError}}, Failed, ""},
		{"refreshed-id-token", []edit{{what: "harness.id-token", match: map[string]string{"refreshed": "yes"}, set: map[string]string{"signature": "invalid", "problems": "signature"}}}, Failed, "does not verify against the IdP's key set"},
		{"refreshed-id-token", []edit{{what: "harness.id-token", match: map[string]string{"refreshed": "yes"}, drop: true}}, Skipped, "OIDC Core 12.2 allows it not to"},
	} {
		es := apply(healthyTimeline(t, "idp-refresh-dpop"), tc.edit...)
		for _, p := range []string{"strict", "lenient"} { // every one a must
			if got, msg := verdict(t, s, tc.spec, es, p); got != tc.want || !strings.Contains(msg, tc.says) {
				t.Errorf("idp-refresh-dpop/%s %s: %s %q, want %s saying %q", tc.spec, p, got, msg, tc.want, tc.says)
			}
		}
	}
	// An IdP that does not advertise DPoP is judged on none of it.
	es := apply(healthyTimeline(t, "idp-refresh-dpop"), edit{what: "harness.discovery", set: map[string]string{"dpop": "no"}})
	for _, x := range s.Expect {
		if got, msg := verdict(t, s, x.ID, es, "strict"); got != Skipped || !strings.Contains(msg, "premise dpop-advertised did not hold") {
			t.Errorf("idp-refresh-dpop/%s without DPoP advertised: %s %q, want skipped", x.ID, got, msg)
		}
	}
	// Tokens bound to the SPA's key need not rotate: idp-refresh does not
	// judge their rotation nor a replay of them (--dpop).
	r := all["idp-refresh"]
	bound := apply(healthyTimeline(t, "idp-refresh"), edit{what: "harness.tokens", set: map[string]string{"token_type": "dpop"}},
		edit{what: "harness.tokens", match: map[string]string{"tab": "1"}, set: map[string]string{"refresh_token": "fp:same"}})
	for _, id := range []string{"spa-refresh-rotates", "refresh-rotates", "replay-rejected", "family-revoked"} {
		if got, msg := verdict(t, r, id, bound, "strict"); got != Skipped || !strings.Contains(msg, "premise not-dpop-bound did not hold") {
			t.Errorf("idp-refresh/%s on DPoP-bound tokens: %s %q, want skipped", id, got, msg)
		}
	}
	if got, msg := verdict(t, r, "spa-refresh-resolves", bound, "strict"); got != Passed {
		t.Errorf("idp-refresh/spa-refresh-resolves on DPoP-bound tokens: %s %q, want passed", got, msg)
	}
}
