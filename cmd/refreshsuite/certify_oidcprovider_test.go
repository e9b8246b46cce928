package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/certify"
	"github.com/refreshsuite/refreshsuite/reports"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// oidcProviderDir holds node oidc-provider, pinned by its package-lock.json and
// installed by scripts/setup.sh, and server.mjs, which configures it.
var oidcProviderDir = filepath.Join("..", "..", "certify", "testdata", "oidc-provider")

// listeningLine is what server.mjs prints once it listens.
var listeningLine = regexp.MustCompile(`(?m)^oidc-provider listening, issuer (\S+)$`)

// oidcProvider starts node oidc-provider with the two redirect URIs of the
// reference SPA on base, the way server.mjs says (PORT, REDIRECT_URI), and
// returns its issuer once it serves discovery.
func oidcProvider(t *testing.T, base string) (issuer string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not on PATH: this proof runs node oidc-provider, and setup installs no Node.js (%v)", err)
	}
	readJSON := func(path string, v any) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return json.Unmarshal(b, v)
	}
	var pinned struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := readJSON(filepath.Join(oidcProviderDir, "package.json"), &pinned); err != nil {
		t.Fatal(err)
	}
	// A node_modules left from another pin would certify a version the
	// expectations of TestCertifyOIDCProvider were not read from.
	var installed struct {
		Version string `json:"version"`
	}
	err = readJSON(filepath.Join(oidcProviderDir, "node_modules", "oidc-provider", "package.json"), &installed)
	if want := pinned.Dependencies["oidc-provider"]; err != nil || installed.Version != want {
		t.Fatalf("oidc-provider %s is not installed in %s (found %q, %v): run scripts/setup.sh", want, oidcProviderDir, installed.Version, err)
	}

	port := strings.TrimSuffix(freeBase(t, "localhost")[len("http://localhost:"):], "/")
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = oidcProviderDir
	cmd.Env = append(os.Environ(), "PORT="+port, "REDIRECT_URI="+base+"index.html,"+base+"silent-callback.html")
	log := startLogged(t, cmd, "node oidc-provider")
	// server.mjs says its issuer once it listens, before any request.
	for deadline := time.Now().Add(20 * time.Second); issuer == ""; time.Sleep(50 * time.Millisecond) {
		if m := listeningLine.FindStringSubmatch(log.String()); m != nil {
			issuer = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("node oidc-provider did not listen within 20s:\n%s", log.String())
		}
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("node oidc-provider serves no discovery: %v\n%s", err, log.String())
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("node oidc-provider answers discovery with %s\n%s", resp.Status, log.String())
	}
	return issuer
}

// Another independent provider: node oidc-provider (panva), OpenID Certified,
// unmodified from npm, configured by server.mjs as a vendor would and
// otherwise on its defaults, certified through its own development login and
// consent pages. The SPA is on 127.0.0.1, the provider on localhost: another
// site, as an SPA and its IdP usually are. The expected result of every spec,
// and why (read from lib/ of oidc-provider 9.13.3 and its docs/README.md):
//
//	IDP-DISC-1 pass  actions/discovery.js: the issuer as configured (no trailing slash), scopes_supported
//	                 openid, offline_access and profile (a scope of the claims configured), code,
//	                 refresh_token, S256 only, query and fragment modes; any origin may read it
//	IDP-CODE-1 pass  code-flow-login: client spa is public (token_endpoint_auth_method none) and
//	                 pkce.required is true for public clients; the default clientBasedCORS lets a public
//	                 client's redirect URI origins read the token endpoint
//	           pass  token-errors-readable: shared/cors.js sets Access-Control-Allow-Origin before the
//	                 endpoint runs and removes it only for an origin the client is refused, so the
//	                 invalid_grant for an unknown refresh token is readable
//	IDP-OA-1   pass  the default issueRefreshToken: refresh_token among the client's grant types and
//	                 offline_access granted, which actions/authorization/scopes.js keeps only with
//	                 prompt=consent (the SPA's login asks it)
//	IDP-OA-2   pass  (both specs) the login without offline_access completes, with no refresh token
//	IDP-RT-1   pass  (all four) a new opaque access token (no resource indicators: not a JWT, so no exp
//	                 to compare) with expires_in 3600 (ttl.AccessToken)
//	IDP-RT-2   pass  (both) the default rotateRefreshToken rotates a public client's refresh tokens
//	                 that are not sender-constrained, at every refresh
//	IDP-RT-3   pass  replay-rejected: a consumed refresh token is invalid_grant ("already used")
//	           pass  family-revoked: that reuse also revokes every refresh token of the grant
//	                 (actions/grants/refresh_token.js, helpers/revoke.js)
//	IDP-RT-4   pass  the refresh_token grant issues a new id_token for openid (helpers/grant_common.js
//	                 issueIdToken), signed with the same key, with the login's sub and aud, its nonce
//	                 if it had one, and no auth_time at either (neither max_age nor require_auth_time)
//	IDP-RT-8   pass  (all of idp-refresh-dpop) features.dPoP is on by default and discovery lists
//	                 dPoPSigningAlgValues; a token request with a valid proof gets token_type DPoP, and
//	                 a public client's refresh token keeps the proof's key thumbprint (jkt), and
//	                 actions/grants/refresh_token.js refuses another key's proof or none with
//	                 invalid_grant ("failed jkt verification"); userinfo takes the DPoP scheme and proof
//	IDP-RT-2   pass  rotated-or-bound: by the binding, since the default rotateRefreshToken does not
//	                 rotate a public client's sender-constrained refresh token (under 70% of its ttl)
//	IDP-SA-1   pass  iframe-attached: the SPA's library attaches its iframe
//	           FAIL  iframe-came-back-with-code, silent-refresh-succeeds: the session cookie is
//	                 SameSite=Lax by default (cookies.long), so the browser does not send it to the
//	                 provider inside an iframe of another site: the iframe's prompt=none has no session
//	                 and comes back with login_required. Over plain http no cookie can be SameSite=None
//	                 (Chromium wants Secure for it), so no configuration of this server passes it
//	IDP-SA-2   pass  (both) prompt=none without a session comes back with login_required
//	IDP-SA-3   FAIL  for the same reason: the same prompt=none top-level carries the Lax cookie and
//	                 comes back with a code, in the iframe it does not
//	IDP-SA-4   pass  with third-party cookies blocked the iframe's prompt=none has no session and comes
//	                 back with login_required at once, as it does with them allowed (the Lax cookie)
//	IDP-UI-1   pass  features.userinfo (on by default) answers the Bearer access token with the login's
//	                 sub, with the same client-based CORS on the answer
//	IDP-REV-1  pass  (all three) features.revocation, off by default, is enabled (a vendor whose SPA logs
//	                 out does): a public client authenticates by its client_id, the revocation endpoint
//	                 answers 200 with the same client-based CORS, and revoking a refresh token revokes it
//	                 (and by the default revokeGrantPolicy its grant): then invalid_grant
//	IDP-ISS-1  pass  (both) discovery says authorization_response_iss_parameter_supported, and every
//	                 authorization response carries iss, a code (actions/authorization/respond.js) and an
//	                 error (shared/authorization_error_handler.js)
//
// Every spec that does not pass is a must, so the lenient profile fails the
// same three.
//
// And IDP-RT-7, in runs of idp-refresh-session-end alone (--scenario) that
// declare --refresh-tokens-end-with-session, which this provider's tokens do
// not deserve:
//
//	with the login file's logout section
//	IDP-RT-7   FAIL  refused-after-logout, a should: strict fails it, lenient reports it. The
//	                 end_session_endpoint answers a session with a page that asks the user to confirm
//	                 (actions/end_session.js renderLogout, helpers/defaults.js logoutSource); the
//	                 section clicks "Yes, sign me out" (logout=yes) and endSession destroys the session,
//	                 so the prompt=none after it gets login_required: the session ended. But it revokes
//	                 only the grants whose authorization does not persist the logout, and a code issued
//	                 for offline_access persists it (helpers/process_response_types.js codeHandler: the
//	                 default expiresWithSession is false with offline_access), and its refresh tokens are
//	                 bound to no session (models/token_helpers.js checkSessionBinding): the refresh
//	                 token still refreshes, HTTP 200
//	without it
//	IDP-RT-7   skip  the confirmation page is left as it is: the session stays, prompt=none gets a
//	                 code, and the premise session-ended does not hold
func TestCertifyOIDCProvider(t *testing.T) {
	t.Parallel()
	base := freeBase(t, "127.0.0.1")
	issuer := oidcProvider(t, base)
	login := filepath.Join("..", "..", "certify", "testdata", "oidc-provider-login.yaml")
	want := map[string]reports.State{
		"idp-silent-auth/iframe-came-back-with-code":   reports.Failed,
		"idp-silent-auth/silent-refresh-succeeds":      reports.Failed,
		"idp-silent-auth/session-cookie-crosses-sites": reports.Failed,
	}
	for id := range dpopSpecs(t) {
		want[id] = reports.Passed // it advertises DPoP, and binds
	}
	for _, profile := range []string{"strict", "lenient"} {
		t.Run(profile, func(t *testing.T) {
			bundle := filepath.Join(t.TempDir(), "bundle")
			start := time.Now()
			code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base,
				"-login", login, "-profile", profile, "-out", bundle}, fastTimeouts...)...)
			t.Logf("certification took %s", time.Since(start).Round(100*time.Millisecond))
			if code != 1 {
				t.Fatalf("exit %d, want 1 (IDP-SA-1 fails)\n%s%s", code, out, errs)
			}
			expect(t, bundle, want)
			msgs := messages(t, bundle)
			// The iframe got the provider's answer, an error: not a framing
			// refusal, not a page that stayed on the provider.
			if msg := msgs["idp-silent-auth/iframe-came-back-with-code"]; !strings.Contains(msg, "answered the iframe's prompt=none with an error") {
				t.Errorf("IDP-SA-1 does not say the provider answered the iframe with an error: %s", msg)
			}
			if msg := msgs["idp-silent-auth/session-cookie-crosses-sites"]; !strings.Contains(msg, "works top-level with the session (a code) but not inside the cross-site iframe") {
				t.Errorf("IDP-SA-3 does not say the session works top-level only: %s", msg)
			}
		})
	}

	// The logout section is the login file's last: without it, the same
	// file.
	src, err := os.ReadFile(login)
	if err != nil {
		t.Fatal(err)
	}
	steps, _, ok := strings.Cut(string(src), "\nlogout:\n")
	if !ok {
		t.Fatalf("%s has no logout section", login)
	}
	noLogout := filepath.Join(t.TempDir(), "login-without-logout.yaml")
	if err := os.WriteFile(noLogout, []byte(steps+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const spec = "idp-refresh-session-end/refused-after-logout"
	const outlives = "still refreshed after the IdP's login session ended (HTTP 200)"
	for _, tc := range []struct {
		name, login, profile string
		code                 int
		want                 reports.State
		says, steps          string
	}{
		{"logout confirmed", login, "strict", 1, reports.Failed, outlives, "1"},
		{"logout confirmed lenient", login, "lenient", 0, reports.KnownDeviation, outlives, "1"},
		// Nothing judged: the bundle says why, and the run fails.
		{"logout not confirmed", noLogout, "strict", 2, reports.Skipped, "premise session-ended did not hold: the logout ended the IdP's login session (prompt=none after it came back with an error, not a code; a logout page that asks the user to confirm needs the login file's logout section)", "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bundle := filepath.Join(t.TempDir(), "bundle")
			start := time.Now()
			code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base,
				"-login", tc.login, "-profile", tc.profile, "-out", bundle, "-scenario", "idp-refresh-session-end", "-refresh-tokens-end-with-session"}, fastTimeouts...)...)
			t.Logf("certification of idp-refresh-session-end took %s", time.Since(start).Round(100*time.Millisecond))
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errs)
			}
			if tc.code == 2 && !strings.Contains(errs, "nothing was judged") {
				t.Errorf("a run that judged nothing does not say so:\n%s", errs)
			}
			got := verdicts(t, bundle)
			if len(got) != 1 || got[spec] != tc.want {
				t.Errorf("the bundle holds %v, want %s %s alone", got, spec, tc.want)
			}
			if msg := messages(t, bundle)[spec]; !strings.Contains(msg, tc.says) {
				t.Errorf("%s does not say %q:\n    %s", spec, tc.says, msg)
			}
			var logouts []timeline.Entry
			confirmed := false
			for _, e := range traceEntries(t, filepath.Join(bundle, "traces", "oidc-client-ts", "idp-refresh-session-end")) {
				switch {
				case e.What == "harness.logout":
					logouts = append(logouts, e)
				case e.What == "harness.step" && e.Fields["step"] == "logout: click button[name=logout][value=yes]":
					confirmed = true
				}
			}
			if len(logouts) != 1 || logouts[0].Fields["steps"] != tc.steps || confirmed != (tc.steps != "0") {
				t.Errorf("the timeline has the logout %v and its click recorded: %v; want %s logout steps", logouts, confirmed, tc.steps)
			}
			var rec certify.Record
			raw, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
			if err := json.Unmarshal(raw, &rec); err != nil || !slices.Equal(rec.Scenarios, []string{"scenarios/idp/idp-refresh-session-end.yaml"}) || fmt.Sprint(len(rec.LogoutSteps)) != tc.steps {
				t.Errorf("config.json does not record the one scenario run and the logout steps (%v):\n%s", err, raw)
			}
		})
	}

	// A logout step that never comes is the login file's fault, whatever
	// the login did: exit 2 naming its line, no bundle. The optional step
	// before it is passed over.
	stuck := filepath.Join(t.TempDir(), "login-stuck-logout.yaml")
	if err := os.WriteFile(stuck, []byte(steps+"\nlogout:\n  - {click: \"#cookie-banner\", optional: true, timeout: 1s}\n  - {click: \"#never\", timeout: 1s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.Count(steps, "\n") + 4
	bundle := filepath.Join(t.TempDir(), "bundle")
	code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base,
		"-login", stuck, "-out", bundle, "-scenario", "idp-refresh-session-end", "-refresh-tokens-end-with-session"}, fastTimeouts...)...)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if want := fmt.Sprintf("%s:%d: logout: click #never: not within 1s: no element matches #never on %s/session/end", stuck, line, issuer); code != 2 || len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("a logout step that never comes: exit %d, want 2 and one line saying %q\n%s%s", code, want, errs, out)
	}
	if _, err := os.Stat(bundle); err == nil {
		t.Errorf("a bundle was written despite a login file that does not fit")
	}
}
