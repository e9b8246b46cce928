package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/reports"
)

// The symptoms issue 15 found on real providers, each reproduced with the
// embedded IdP made to behave as that provider did. Each test fails on the
// engine before the fix.

// An IdP that revokes the grant on refresh-token reuse (node oidc-provider's
// revokeGrantPolicy) ends the login session with the replay. The silent
// authentication checks must not judge what the replay left: each idp
// scenario logs in on its own, so the strict profile passes.
func TestCertifyReplayDoesNotDamageSilentAuth(t *testing.T) {
	t.Parallel()
	base := freeBase(t, "localhost")
	issuer, log := startIdPLog(t, base, "-reuse-ends-sessions")
	bundle := filepath.Join(t.TempDir(), "bundle")
	code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle}, fastTimeouts...)...)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errs)
	}
	// The premise: the replay did end the sessions.
	if !strings.Contains(log.String(), "idp.sessions-ended") {
		t.Fatalf("the replay never ended the IdP's sessions: the test proves nothing\n%s", log.String())
	}
	expect(t, bundle, nil)
}

// An OP that grants offline_access only with prompt=consent (OIDC Core 11,
// as OpenID Certified providers do) gets it from the reference SPA; with the
// login's prompt replaced by --authorize-param, it does not, and IDP-OA-1's
// failure names the scope that was granted. Other --authorize-param values
// reach the authorization requests as they are.
func TestCertifyOfflineAccessWithConsent(t *testing.T) {
	t.Parallel()
	base := freeBase(t, "localhost")
	issuer, log := startIdPLog(t, base, "-refresh-tokens", "consent")
	bundle := filepath.Join(t.TempDir(), "bundle")
	code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle,
		"-authorize-param", "max_age=3600"}, fastTimeouts...)...)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errs)
	}
	expect(t, bundle, nil)
	if !strings.Contains(log.String(), `max_age="3600"`) {
		t.Errorf("--authorize-param max_age=3600 never reached the IdP's /authorize:\n%s", log.String())
	}
	consent := false
	for _, e := range traceEntries(t, filepath.Join(bundle, "traces", "oidc-client-ts", "idp-code-flow")) {
		consent = consent || e.What == "harness.config" && e.Fields["login_prompt"] == "consent"
	}
	if !consent {
		t.Errorf("the login's prompt is not recorded as consent")
	}

	bundle = filepath.Join(t.TempDir(), "bundle")
	code, out, errs = certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle,
		"-authorize-param", "prompt=login"}, fastTimeouts...)...)
	if code != 1 {
		t.Fatalf("with prompt=login: exit %d, want 1\n%s%s", code, out, errs)
	}
	// Without a refresh token nothing of IDP-RT-* nor IDP-REV-1 can be
	// observed: skipped, never passed.
	want := map[string]reports.State{"idp-code-flow/refresh-token-with-offline-access": reports.Failed}
	for _, id := range idpSpecs(t) {
		if strings.HasPrefix(id, "idp-refresh/") || strings.HasPrefix(id, "idp-revocation/") {
			want[id] = reports.Skipped
		}
	}
	expect(t, bundle, want)
	msg := messages(t, bundle)["idp-code-flow/refresh-token-with-offline-access"]
	if !strings.Contains(msg, "did not grant offline_access") || !strings.Contains(msg, `scope="openid profile"`) {
		t.Errorf("IDP-OA-1 does not name the granted scope:\n%s", msg)
	}
}

// A login file is not a fixed sequence: an optional step whose page does not
// come is passed over, and the steps end once the browser is back at the SPA
// (a consent page the IdP remembers is not waited for). Against the
// embedded IdP, which logs in by itself, every step would otherwise time out.
func TestCertifyLoginFileOptionalAndBack(t *testing.T) {
	t.Parallel()
	base := freeBase(t, "localhost")
	issuer := startIdP(t, base)
	login := filepath.Join(t.TempDir(), "login.yaml")
	src := "timeout: 5s\nsteps:\n" +
		"  - {click: \"#cookie-banner-accept\", optional: true, timeout: 1s}\n" +
		"  - {click: \"#consent-allow\"}\n"
	if err := os.WriteFile(login, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle, "-login", login}, fastTimeouts...)...)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errs)
	}
	expect(t, bundle, nil)
	back := false
	for _, e := range traceEntries(t, filepath.Join(bundle, "traces", "oidc-client-ts", "idp-code-flow")) {
		back = back || e.What == "harness.step" && strings.HasPrefix(e.Fields["step"], "login: back at the app; the steps from line")
	}
	if !back {
		t.Errorf("the trace does not say the login ended back at the app")
	}

	// A step that is not optional and whose element never comes, on a
	// page that stays, is the login file's fault: exit 2. The IdP must not
	// log in by itself here, on any interactive login (those with
	// offline_access carry prompt=consent; idp-offline-access-gating's asks
	// for scope "openid profile" and no prompt, like no request of the
	// pre-flight's): an app already back before the first step needs no
	// steps at all, and how soon it is back depends on the load.
	stays := startIdP(t, base, "-fault", "authorize:page-without-redirect:prompt=consent", "-fault", "authorize:page-without-redirect:scope=openid profile:prompt=")
	stuck := filepath.Join(t.TempDir(), "stuck.yaml")
	if err := os.WriteFile(stuck, []byte("steps:\n  - {goto: \""+base+"nothing-here.html\"}\n  - {click: \"#never\", timeout: 1s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = certifyCmd(t, append([]string{"-issuer", stays, "-client-id", "spa", "-redirect-base", base, "-out", filepath.Join(t.TempDir(), "b"), "-login", stuck}, fastTimeouts...)...)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], stuck+":3: click #never: not within 1s") {
		t.Errorf("a login step that never completes: exit %d, want 2 and one line naming %s:3\n%s%s", code, stuck, errs, out)
	}
}

// A page the browser cannot load is the environment's problem, not a
// verdict about the IdP: one line, exit 2, no bundle.
func TestCertifyEnvironmentErrorIsExit2(t *testing.T) {
	base := freeBase(t, "localhost")
	issuer := startIdP(t, base)
	login := filepath.Join(t.TempDir(), "login.yaml")
	dead := strings.TrimSuffix(freeBase(t, "127.0.0.1"), "/") + "/login"
	if err := os.WriteFile(login, []byte("steps:\n  - goto: "+dead+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(t.TempDir(), "bundle")
	code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle, "-login", login}, fastTimeouts...)...)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "the browser could not load it") || !strings.Contains(lines[0], login+":2") {
		t.Fatalf("exit %d, want 2 and one line saying the browser could not load %s\n%s%s", code, dead, errs, out)
	}
	if _, err := os.Stat(bundle); err == nil {
		t.Errorf("a bundle was written despite an environment error")
	}
}

// IDP-RT-4 verifies every id_token against the key set at jwks_uri: the
// embedded IdP behind a proxy that breaks the signature of the id_tokens it
// issues on refresh fails it, naming the signature, while every claim is
// still as OIDC Core 12.2 wants it.
func TestCertifyRefreshedIDTokenSignature(t *testing.T) {
	t.Parallel()
	base := freeBase(t, "localhost")
	proxy := httptest.NewUnstartedServer(nil)
	t.Cleanup(proxy.Close)
	issuer := "http://" + proxy.Listener.Addr().String()
	srv, err := fakeidp.Start(fakeidp.Config{Issuer: issuer, Clients: []fakeidp.Client{{ID: "spa", Origins: []string{strings.TrimSuffix(base, "/")},
		RedirectURIs: []string{base + "index.html", base + "silent-callback.html"}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: srv.Addr()})
	director := rp.Director
	rp.Director = func(r *http.Request) {
		director(r)
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			if form, err := url.ParseQuery(string(body)); err == nil && form.Get("grant_type") == "refresh_token" {
				r.Header.Set("X-Test-Refresh", "1")
			}
		}
	}
	broken := 0
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Header.Get("X-Test-Refresh") == "" || resp.StatusCode != http.StatusOK {
			return nil
		}
		return rewriteJSON(resp, func(doc map[string]any) {
			if idt, ok := doc["id_token"].(string); ok && strings.Count(idt, ".") == 2 {
				i := strings.LastIndex(idt, ".")
				sig := []byte(idt[i+1:])
				sig[len(sig)/2] ^= 1 // still base64url, no longer the signature
				doc["id_token"] = idt[:i+1] + string(sig)
				broken++
			}
		})
	}
	proxy.Config.Handler = rp
	proxy.Start()

	bundle := filepath.Join(t.TempDir(), "bundle")
	code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle}, fastTimeouts...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
	}
	if broken == 0 {
		t.Fatal("no refreshed id_token passed the proxy: the test proves nothing")
	}
	expect(t, bundle, map[string]reports.State{"idp-refresh/refreshed-id-token": reports.Failed})
	if msg := messages(t, bundle)["idp-refresh/refreshed-id-token"]; !strings.Contains(msg, "does not verify against the IdP's key set") || !strings.Contains(msg, `signature="invalid"`) {
		t.Errorf("IDP-RT-4 does not name the signature:\n%s", msg)
	}
}

// An https IdP whose certificate comes from a private CA is certified with
// --ca: the certify Chromium and the plain-HTTP checks trust that CA besides
// the system's roots, and nothing else. Without --ca the pre-flight refuses
// the certificate (exit 2) instead of the browser ignoring errors. Over https
// and cross-site (the SPA on 127.0.0.1, the IdP on localhost) IDP-SA-3 is
// judged, not skipped.
func TestCertifyPrivateCA(t *testing.T) {
	t.Parallel()
	base := freeBase(t, "127.0.0.1")
	caFile := filepath.Join(t.TempDir(), "idp-ca.pem")
	issuer := startIdP(t, base, "-https", "-ca-pem", caFile, "-host", "localhost")
	if !strings.HasPrefix(issuer, "https://localhost:") {
		t.Fatalf("the IdP's issuer is %s, want https on localhost", issuer)
	}
	waitForFile(t, caFile)

	code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", filepath.Join(t.TempDir(), "b")}, fastTimeouts...)...)
	lines := strings.Split(strings.TrimSpace(errs), "\n")
	if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], "certificate") {
		t.Fatalf("without --ca: exit %d, want 2 and one line about the certificate\n%s%s", code, errs, out)
	}

	bundle := filepath.Join(t.TempDir(), "bundle")
	code, out, errs = certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle, "-ca", caFile}, fastTimeouts...)...)
	if code != 0 {
		t.Fatalf("with --ca: exit %d, want 0\n%s%s", code, out, errs)
	}
	expect(t, bundle, nil)
	cross := false
	for _, e := range traceEntries(t, filepath.Join(bundle, "traces", "oidc-client-ts", "idp-silent-auth")) {
		cross = cross || e.What == "harness.config" && e.Fields["sites"] == "cross-site"
	}
	if !cross {
		t.Errorf("the SPA and the IdP were not on different sites: IDP-SA-3 proves nothing here")
	}
}

// waitForFile waits until a process this test started has written a file.
func waitForFile(t *testing.T, file string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if st, err := os.Stat(file); err == nil && st.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not written within 15s", file)
		}
		time.Sleep(20 * time.Millisecond) // polling a file another process writes: no event to wait on
	}
}
