package certify

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/reports"
)

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(payload)) + ".sig"
}

// healthy is the evidence of an IdP that meets every requirement.
func healthy() *Evidence {
	idt0 := jwt(`{"iss":"https://idp","sub":"u","aud":"spa","iat":100,"exp":400}`)
	idt1 := jwt(`{"iss":"https://idp","sub":"u","aud":["spa"],"iat":102,"exp":402}`)
	ok := func(at, rt, idt string) *tokenResult {
		return &tokenResult{Status: 200, AccessToken: at, RefreshToken: rt, IDToken: idt, ExpiresIn: "300"}
	}
	return &Evidence{
		Issuer: "https://idp", AppOrigin: "http://localhost:8080", Reference: "lib 1", Scope: "openid offline_access",
		Disc: &Discovery{Issuer: "https://idp", AuthorizationEndpoint: "https://idp/a", TokenEndpoint: "https://idp/t", JWKSURI: "https://idp/k",
			ScopesSupported: []string{"openid", "offline_access"}, ResponseTypes: []string{"code"}, GrantTypes: []string{"authorization_code", "refresh_token"},
			CodeChallengeMethods: []string{"S256"}, AllowOrigin: "*"},
		CrossSite:      true,
		ErrorProbe:     &tokenResult{Status: 400, Error: "invalid_grant", AllowOrigin: "http://localhost:8080"},
		Login:          attempt{Ran: true, OK: true},
		T0:             tokens{"at0", idt0, "rt0", ""},
		Refresh:        attempt{Ran: true, OK: true},
		T1:             tokens{"at1", idt1, "rt1", ""},
		HTTPRefresh:    ok(jwt(`{"iat":102,"exp":402}`), "rt2", idt1),
		Replay:         &tokenResult{Status: 400, Error: "invalid_grant"},
		Family:         &tokenResult{Status: 400, Error: "invalid_grant"},
		Silent:         attempt{Ran: true, OK: true},
		T3:             tokens{"at3", idt1, "rt3", ""},
		Iframe:         iframeObs{Attached: true, Hidden: true, Came: "code"},
		TopWithSession: landing{Ran: true, Got: "code"},
		NoSession:      landing{Ran: true, Got: "login_required"},
		LoginNoOffline: attempt{Ran: true, OK: true},
		TN:             tokens{AccessToken: "atN", IDToken: idt0},
	}
}

func verdictOf(t *testing.T, ev *Evidence, p Profile, id string) Verdict {
	t.Helper()
	for _, v := range judge(ev, p) {
		if v.ID == id {
			return v
		}
	}
	t.Fatalf("no spec %s", id)
	return Verdict{}
}

func TestHealthyIdPPassesBothProfiles(t *testing.T) {
	for _, p := range []Profile{Strict, Lenient} {
		for _, v := range judge(healthy(), p) {
			if v.State != reports.Passed {
				t.Errorf("%s %s: %s: %s", p, v.ID, v.State, v.Message)
			}
		}
	}
}

// The profiles differ exactly where the catalogue leaves the IdP a choice.
func TestProfiles(t *testing.T) {
	for _, tc := range []struct {
		id     string
		weaken func(*Evidence)
		strict reports.State
		says   string
	}{
		{"IDP-OA-2", func(e *Evidence) { e.TN.RefreshToken = "rt" }, reports.Failed, "whatever the scope"},
		{"IDP-RT-3", func(e *Evidence) { e.Family = &tokenResult{Status: 200} }, reports.Failed, "does not revoke the family"},
		// Only invalid_grant proves the family revoked: a server error, a
		// rate limit or no answer at all leave it unknown.
		{"IDP-RT-3", func(e *Evidence) { e.Family = &tokenResult{Status: 500, Error: "(not JSON: HTTP 500)"} }, reports.Failed, "HTTP 500 \"(not JSON: HTTP 500)\" afterwards, not invalid_grant"},
		{"IDP-RT-3", func(e *Evidence) { e.Family = &tokenResult{Status: 429, Error: "slow_down"} }, reports.Failed, "not invalid_grant"},
		{"IDP-RT-3", func(e *Evidence) { e.Family, e.FamilyErr = nil, "POST https://idp/t: connection reset" }, reports.Failed, "got no answer afterwards (POST https://idp/t: connection reset)"},
		{"IDP-SA-2", func(e *Evidence) { e.NoSession.Got = "interaction_required" }, reports.Failed, "want login_required"},
		{"IDP-CODE-1", func(e *Evidence) { e.ErrorProbe.AllowOrigin = "" }, reports.Failed, "cannot read invalid_grant"},
	} {
		ev := healthy()
		tc.weaken(ev)
		if v := verdictOf(t, ev, Strict, tc.id); v.State != tc.strict || !strings.Contains(v.Message, tc.says) {
			t.Errorf("%s strict: %s %q, want %s saying %q", tc.id, v.State, v.Message, tc.strict, tc.says)
		}
		if v := verdictOf(t, ev, Lenient, tc.id); v.State != reports.Passed || !strings.Contains(v.Message, "lenient") {
			t.Errorf("%s lenient: %s %q, want a pass that reports the choice", tc.id, v.State, v.Message)
		}
	}
}

func TestChecksSayWhy(t *testing.T) {
	for _, tc := range []struct {
		id     string
		weaken func(*Evidence)
		want   reports.State
		says   string
	}{
		{"IDP-DISC-1", func(e *Evidence) { e.Disc.GrantTypes = nil }, reports.Failed, "does not list refresh_token"},
		{"IDP-DISC-1", func(e *Evidence) { e.Disc.ResponseModes = nil }, reports.Passed, ""}, // absent: query and fragment by default
		{"IDP-OA-1", func(e *Evidence) { e.T0.RefreshToken = "" }, reports.Failed, "holds no refresh token"},
		{"IDP-OA-1", func(e *Evidence) { e.T0 = tokens{Err: "tokens() did not settle within 5s"} }, reports.Skipped, "could not be read"},
		// What the SPA holds was not read, or it holds nothing at all: no
		// evidence that no refresh token was issued.
		{"IDP-OA-2", func(e *Evidence) { e.TN = tokens{Err: "tokens() did not settle within 5s"} }, reports.Skipped, "did not settle within 5s"},
		{"IDP-OA-2", func(e *Evidence) { e.TN = tokens{} }, reports.Skipped, "holds no access token"},
		{"IDP-OA-2", func(e *Evidence) {}, reports.Passed, "gated by offline_access"},
		{"IDP-RT-1", func(e *Evidence) { e.T0.RefreshToken = "" }, reports.Skipped, "IDP-OA-1"},
		{"IDP-RT-1", func(e *Evidence) { e.HTTPRefresh.ExpiresIn = "" }, reports.Failed, "no expires_in"},
		{"IDP-RT-1", func(e *Evidence) { e.HTTPRefresh.ExpiresIn = "60" }, reports.Failed, "exp - iat is 300 s"},
		{"IDP-RT-2", func(e *Evidence) { e.T1.RefreshToken = "rt0" }, reports.Failed, "does not rotate"},
		{"IDP-RT-1", func(e *Evidence) { e.T1 = tokens{Err: "tokens() did not settle within 5s"} }, reports.Skipped, "could not be read"},
		{"IDP-RT-2", func(e *Evidence) { e.T1 = tokens{Err: "tokens() did not settle within 5s"} }, reports.Skipped, "could not be read"},
		{"IDP-RT-3", func(e *Evidence) { e.Replay = &tokenResult{Status: 200} }, reports.Failed, "no reuse detection"},
		{"IDP-RT-3", func(e *Evidence) { e.Replay, e.ReplayErr = nil, "POST https://idp/t: EOF" }, reports.Failed, "got no answer: POST https://idp/t: EOF"},
		{"IDP-RT-3", func(e *Evidence) { e.Family = nil }, reports.Passed, "no newer refresh token"},
		{"IDP-RT-3", func(e *Evidence) {}, reports.Passed, "rejected afterwards with invalid_grant"},
		{"IDP-RT-4", func(e *Evidence) { e.T1.IDToken = e.T0.IDToken; e.HTTPRefresh.IDToken = "" }, reports.Skipped, "OIDC Core 12.2"},
		{"IDP-RT-4", func(e *Evidence) { e.HTTPRefresh.IDToken = e.T0.IDToken }, reports.Failed, "is not after the login's"},
		{"IDP-SA-1", func(e *Evidence) {
			e.Silent = attempt{Ran: true, Err: "timeout"}
			e.Iframe.Came = ""
			e.Iframe.LastChild = "chrome-error://chromewebdata/"
		}, reports.Failed, "refused to be framed"},
		// A silent refresh that renewed the tokens without attaching an
		// iframe shows nothing about prompt=none in a frame.
		{"IDP-SA-1", func(e *Evidence) { e.Iframe = iframeObs{} }, reports.Failed, "no iframe was attached"},
		{"IDP-SA-1", func(e *Evidence) { e.Iframe.Hidden = false }, reports.Passed, "inside a visible cross-origin iframe came back with a code"},
		{"IDP-SA-1", func(e *Evidence) {}, reports.Passed, "inside a hidden cross-origin iframe came back with a code"},
		{"IDP-SA-3", func(e *Evidence) { e.Iframe.Came = "login_required" }, reports.Failed, "SameSite=None; Secure"},
		{"IDP-SA-3", func(e *Evidence) { e.CrossSite = false }, reports.Skipped, "same site"},
		{"IDP-SA-3", func(e *Evidence) { e.Iframe.Came = "login_required"; e.TopWithSession.Got = "login_required" }, reports.Skipped, "no login session"},
	} {
		ev := healthy()
		tc.weaken(ev)
		if v := verdictOf(t, ev, Strict, tc.id); v.State != tc.want || !strings.Contains(v.Message, tc.says) {
			t.Errorf("%s: %s %q, want %s saying %q", tc.id, v.State, v.Message, tc.want, tc.says)
		}
	}
}

func TestCrossSite(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"http://localhost:8080", "http://127.0.0.1:9400", true},
		{"http://localhost:8080", "http://localhost:9400/", false},
		{"https://app.example.com", "https://login.example.com", false},
		{"http://localhost:8080", "https://login.example.com", true},
	} {
		if got := crossSite(tc.a, tc.b); got != tc.want {
			t.Errorf("crossSite(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

func TestLoadLogin(t *testing.T) {
	file := filepath.Join(t.TempDir(), "login.yaml")
	src := "timeout: 5s\nsteps:\n  - wait-for-url: https://idp/login\n  - fill: {selector: \"#u\", value: \"user-${CERTIFY_TEST_USER}\"}\n  - click: \"#go\"\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CERTIFY_TEST_USER", "alice")
	l, err := LoadLogin(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Steps) != 3 || l.Steps[1].value != "user-alice" || !l.Steps[1].FromEnv() || l.Steps[1].Line != 4 || l.Timeout.D().Seconds() != 5 {
		t.Fatalf("parsed %+v", l)
	}
	if got := l.Steps[1].Text(); got != "fill #u" {
		t.Errorf("a fill is recorded as %q, want the selector only", got)
	}
	if l.Steps[0].urlPattern() != `^https://idp/login` {
		t.Errorf("a prefix becomes %q", l.Steps[0].urlPattern())
	}
}
