package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/certify"
	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/reports"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// asCommand makes the test binary behave as the refreshsuite command, so that
// a test runs `refreshsuite idp` as a real process of its own.
const asCommand = "REFRESHSUITE_TEST_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// The timeouts of a certification in these tests: an IdP on this machine
// answers in milliseconds, so a prompt=none that has not come back in 8 s is
// not coming back, even on a busy two-core machine.
var fastTimeouts = []string{"-timeout", "20s", "-silent-timeout", "8s"}

func certifyCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"certify"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// freeBase is a redirect base on a port nobody listens on now, and that
// nothing else in this machine's kernel hands out by itself: the port comes
// from below the ephemeral range, where neither a listener on port 0 (the
// IdPs and Chromium of the tests running in parallel) nor the local end of
// an outgoing connection can take it before certify binds it. Each port is
// handed out once per test process.
func freeBase(t *testing.T, host string) string {
	t.Helper()
	for {
		port := int(nextPort.Add(1))
		if port >= ephemeralLow() {
			t.Fatalf("no port left below the ephemeral range (%d)", ephemeralLow())
		}
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue // another process holds it
		}
		ln.Close()
		return "http://" + host + ":" + strconv.Itoa(port) + "/"
	}
}

// nextPort starts where another test process on this machine (a second
// checkout's make test) is unlikely to be counting.
var nextPort = func() *atomic.Int32 {
	var n atomic.Int32
	n.Store(int32(20000 + os.Getpid()%8000))
	return &n
}()

// ephemeralLow is where the kernel's own port numbers begin (32768 unless
// the machine says otherwise).
var ephemeralLow = sync.OnceValue(func() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if low, err2 := strconv.Atoi(strings.Fields(string(b) + " x")[0]); err == nil && err2 == nil {
		return low
	}
	return 32768
})

// logBuffer keeps what a child process prints, for the test log on failure.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLogged starts a provider the test owns: what it prints is kept for
// the test log on failure, and it is stopped when the test ends.
func startLogged(t *testing.T, cmd *exec.Cmd, name string) *logBuffer {
	t.Helper()
	var log logBuffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop(cmd)
		if t.Failed() {
			t.Logf("%s printed:\n%s", name, log.String())
		}
	})
	return &log
}

// stop ends a process this test started: SIGINT first (refreshsuite idp
// stops on it), then kill if it is still there after 5 s.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

var issuerLine = regexp.MustCompile(`^refreshsuite idp: issuer (\S+) `)

// startIdP runs `refreshsuite idp` standalone, as a vendor would run their
// IdP, with the two redirect URIs of the reference SPA on base, and returns
// its issuer (the first line it prints).
func startIdP(t *testing.T, base string, flags ...string) string {
	t.Helper()
	issuer, _ := startIdPLog(t, base, flags...)
	return issuer
}

// startIdPLog is startIdP that also hands back what the IdP prints: one line
// per request and per event.
func startIdPLog(t *testing.T, base string, flags ...string) (string, *logBuffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"idp", "-addr", "127.0.0.1:0", "-client-id", "spa",
		"-redirect-uri", base + "index.html", "-redirect-uri", base + "silent-callback.html"}, flags...)
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), asCommand+"=1")
	var log logBuffer
	cmd.Stderr = &log
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stop(cmd)
		if t.Failed() {
			t.Logf("refreshsuite idp %s printed:\n%s", strings.Join(flags, " "), log.String())
		}
	})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			select {
			case first <- sc.Text():
			default:
			}
			fmt.Fprintln(&log, sc.Text()) // keep draining: the IdP logs every request
		}
	}()
	select {
	case line := <-first:
		m := issuerLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("refreshsuite idp printed %q first, want its issuer", line)
		}
		return m[1], &log
	case <-time.After(15 * time.Second):
		t.Fatalf("refreshsuite idp did not start within 15s:\n%s", log.String())
	}
	return "", nil
}

// verdicts reads a bundle's results.json: spec ID -> state.
func verdicts(t *testing.T, bundle string) map[string]reports.State {
	t.Helper()
	res, err := reports.ReadResults(filepath.Join(bundle, "results.json"))
	if err != nil {
		t.Fatalf("the bundle has no readable results.json: %v", err)
	}
	out := map[string]reports.State{}
	for _, c := range res.Containers {
		for _, s := range c.Specs {
			out[c.Scenario+"/"+s.Expectation] = s.State
		}
	}
	return out
}

func messages(t *testing.T, bundle string) map[string]string {
	t.Helper()
	res, err := reports.ReadResults(filepath.Join(bundle, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range res.Containers {
		for _, s := range c.Specs {
			out[c.Scenario+"/"+s.Expectation] = s.Message
		}
	}
	return out
}

// rewriteJSON hands a proxied JSON response's document to change and sends
// on what it made of it.
func rewriteJSON(resp *http.Response, change func(doc map[string]any)) error {
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return err
	}
	change(doc)
	b, _ := json.Marshal(doc)
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	resp.Header.Del("Content-Length")
	return nil
}

// loadIDPScenarios loads the scenarios of the certification profile.
func loadIDPScenarios(t *testing.T) []*scenarios.Scenario {
	t.Helper()
	all, err := scenarios.Load(filepath.Join("..", "..", idpScenarios))
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// idpScenarioNames are the containers of the certification profile that
// run whatever the vendor declares: all but the expiry checks.
func idpScenarioNames(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, s := range loadIDPScenarios(t) {
		if !slices.Contains(s.Labels, "expiry") {
			out = append(out, s.Name())
		}
	}
	return out
}

// expirySpecs are the specs of the expiry checks (label expiry: IDP-RT-5 to
// RT-7), which judge only what the vendor declares (--refresh-token-idle,
// --refresh-token-lifetime, --refresh-tokens-end-with-session): a run that
// declares none skips them.
func expirySpecs(t *testing.T) map[string]bool { return labelledSpecs(t, "expiry") }

// dpopSpecs are the specs of idp-refresh-dpop (label dpop), which an IdP
// that does not advertise DPoP skips.
func dpopSpecs(t *testing.T) map[string]bool { return labelledSpecs(t, "dpop") }

func labelledSpecs(t *testing.T, label string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, s := range loadIDPScenarios(t) {
		if slices.Contains(s.Labels, label) {
			for _, x := range s.Expect {
				out[s.Name()+"/"+x.ID] = true
			}
		}
	}
	return out
}

// idpSpecs are the specs of the certification profile, as
// <scenario>/<expectation>: every expectation of scenarios/idp.
func idpSpecs(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, s := range loadIDPScenarios(t) {
		for _, x := range s.Expect {
			out = append(out, s.Name()+"/"+x.ID)
		}
	}
	return out
}

// expect compares a bundle's verdicts with the expected ones, spec by spec:
// any spec not named must have passed, but the expiry checks' and the DPoP
// checks', which must have been skipped (the run declares no expiry, the IdP
// advertises no DPoP) unless named.
func expect(t *testing.T, bundle string, want map[string]reports.State) {
	t.Helper()
	got := verdicts(t, bundle)
	msgs := messages(t, bundle)
	specs := idpSpecs(t)
	expiry, dpop := expirySpecs(t), dpopSpecs(t)
	if len(got) != len(specs) {
		t.Errorf("%d specs in results.json, want %d", len(got), len(specs))
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("the test expects a spec %s that the bundle does not have", name)
		}
	}
	for _, id := range specs {
		w, ok := want[id]
		switch {
		case !ok && (expiry[id] || dpop[id]):
			w = reports.Skipped
		case !ok:
			w = reports.Passed
		}
		if got[id] != w {
			t.Errorf("%s: %s, want %s\n    %s", id, got[id], w, msgs[id])
		}
	}
}

// extract unpacks a .tar.gz into dir.
func extract(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(h.Name, "..") {
			t.Fatalf("archive entry %q escapes its folder", h.Name)
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// The first proof: the embedded IdP, started standalone with the settings of
// its command line and nothing special-cased, passes the strict profile, and
// the bundle holds every file with a manifest whose hashes verify after the
// archive is unpacked elsewhere.
func TestCertifyEmbeddedIdPStrict(t *testing.T) {
	t.Parallel()
	base := freeBase(t, "localhost")
	issuer := startIdP(t, base)
	bundle := filepath.Join(t.TempDir(), "bundle")
	start := time.Now()
	code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle}, fastTimeouts...)...)
	t.Logf("certification took %s", time.Since(start).Round(100*time.Millisecond))
	if code != 0 {
		t.Fatalf("refreshsuite certify: exit %d, want 0\n%s%s", code, out, errs)
	}
	expect(t, bundle, nil)
	n, skipped := len(idpSpecs(t)), len(expirySpecs(t))+len(dpopSpecs(t))
	if !strings.Contains(out, fmt.Sprintf("PASS: %d specs, %d passed, 0 failed, 0 reported, %d skipped", n, n-skipped, skipped)) || !strings.Contains(out, "archive: "+bundle+".tar.gz") {
		t.Errorf("the summary lacks the verdict or the archive's path:\n%s", out)
	}
	// The expiry checks the run declares nothing for say which flag would
	// declare what they check.
	msgs := messages(t, bundle)
	for id := range expirySpecs(t) {
		flag := map[string]string{"idp-refresh-idle": "--refresh-token-idle", "idp-refresh-lifetime": "--refresh-token-lifetime",
			"idp-refresh-session-end": "--refresh-tokens-end-with-session"}[strings.Split(id, "/")[0]]
		if !strings.Contains(msgs[id], "which the IdP does not declare (declare it with refreshsuite certify "+flag+")") {
			t.Errorf("%s, skipped, does not name %s: %s", id, flag, msgs[id])
		}
	}
	// By default the embedded IdP does not advertise DPoP.
	for id := range dpopSpecs(t) {
		if !strings.Contains(msgs[id], "premise dpop-advertised did not hold") {
			t.Errorf("%s, skipped, does not say DPoP is not advertised: %s", id, msgs[id])
		}
	}

	unpacked := t.TempDir()
	extract(t, bundle+".tar.gz", unpacked)
	dir := filepath.Join(unpacked, filepath.Base(bundle))
	if err := certify.VerifyManifest(dir); err != nil {
		t.Fatalf("the unpacked bundle does not match its manifest: %v", err)
	}
	need := []string{"junit.xml", "results.json", "report.html", "config.json", "version.txt", certify.ManifestFile}
	for _, name := range idpScenarioNames(t) {
		need = append(need, "traces/oidc-client-ts/"+name+"/timeline.txt", "traces/oidc-client-ts/"+name+"/timeline.json")
	}
	for _, f := range need {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the bundle has no %s", f)
		}
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, certify.ManifestFile))
	for _, f := range need {
		if f != certify.ManifestFile && !strings.Contains(string(manifest), "  "+f+"\n") {
			t.Errorf("%s does not list %s", certify.ManifestFile, f)
		}
	}
	if v, _ := os.ReadFile(filepath.Join(dir, "version.txt")); !strings.HasPrefix(string(v), "refreshsuite ") || len(strings.TrimSpace(string(v))) <= len("refreshsuite ") {
		t.Errorf("version.txt: %q", v)
	}
	var rec certify.Record
	raw, _ := os.ReadFile(filepath.Join(dir, "config.json"))
	if err := json.Unmarshal(raw, &rec); err != nil || rec.Issuer != issuer || rec.Profile != certify.Strict || len(rec.RedirectURIs) != 2 {
		t.Errorf("config.json does not say how the run was configured (%v):\n%s", err, raw)
	}
	j := readJUnit(t, filepath.Join(dir, "junit.xml"))
	if j.Tests != n || j.Failures != 0 {
		t.Errorf("junit.xml: %d tests, %d failures", j.Tests, j.Failures)
	}
	for _, su := range j.Suites {
		for _, c := range su.Cases {
			// A container skipped before it ran (an expiry check nothing
			// was declared for) has no clock of its own in the report.
			if !strings.HasPrefix(c.Property("requirement"), "IDP-") || (c.Property("clock") != "real" && c.Skipped == nil) {
				t.Errorf("testcase %q: requirement %q, clock %q", c.Name, c.Property("requirement"), c.Property("clock"))
			}
		}
	}
	// IDP-SA-3 compares the iframe's prompt=none with the same request
	// top-level: the same scope, offline_access included.
	var compared int
	for _, e := range traceEntries(t, filepath.Join(dir, "traces", "oidc-client-ts", "idp-silent-auth")) {
		if e.What == "harness.authorize" && e.Fields["session"] == "yes" {
			compared++
			if e.Fields["scope"] != rec.Scope {
				t.Errorf("the top-level prompt=none asks for scope %q, the SPA's iframe for %q", e.Fields["scope"], rec.Scope)
			}
		}
	}
	if compared != 1 {
		t.Errorf("IDP-SA-3's trace holds %d top-level prompt=none requests with the session, want 1", compared)
	}
	// Every page photographed here was the SPA's own: its screenshots are kept.
	for _, f := range []string{"traces/oidc-client-ts/idp-refresh/screenshot.png", "traces/oidc-client-ts/idp-offline-access-gating/screenshot.png"} {
		if _, err := os.Stat(filepath.Join(bundle, f)); err != nil {
			t.Errorf("the bundle has no %s", f)
		}
	}

	// A second run replaces the bundle (a file left in the old one is gone)
	// and its archive.
	stray := filepath.Join(bundle, "traces", "stray.txt")
	if err := os.WriteFile(stray, []byte("from before"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(bundle + ".tar.gz")
	code, out, errs = certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle}, fastTimeouts...)...)
	if code != 0 {
		t.Fatalf("a second certification into the same bundle: exit %d, want 0\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(stray); err == nil {
		t.Errorf("the second run left a file of the first bundle behind: it did not replace the bundle")
	}
	if err := certify.VerifyManifest(bundle); err != nil {
		t.Errorf("the replaced bundle does not match its manifest: %v", err)
	}
	if after, _ := os.ReadFile(bundle + ".tar.gz"); bytes.Equal(before, after) {
		t.Errorf("the second run left the first run's archive")
	}

	// A folder that is not a bundle is refused, even with a manifest.sha256.
	other := t.TempDir()
	_ = os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	_ = os.WriteFile(filepath.Join(other, certify.ManifestFile), []byte(""), 0o644)
	code, _, errs = certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", other}, fastTimeouts...)...)
	if code != 2 || !strings.Contains(errs, "is not a certification bundle") {
		t.Errorf("certify into a folder that is not a bundle: exit %d\n%s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(other, "notes.txt")); err != nil {
		t.Errorf("certify removed a file of a folder that is not a bundle: %v", err)
	}
}

// traceEntries reads a trace folder's timeline.json.
func traceEntries(t *testing.T, dir string) []timeline.Entry {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "timeline.json"))
	if err != nil {
		t.Fatal(err)
	}
	var es []timeline.Entry
	if err := json.Unmarshal(raw, &es); err != nil {
		t.Fatalf("%s/timeline.json: %v", dir, err)
	}
	return es
}

// The second proof: the embedded IdP weakened one way at a time fails exactly
// the specs of that weakness, each with the evidence in its message.
func TestCertifyWeakenedIdP(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		flags []string
		want  map[string]reports.State
		// says holds a phrase each failing spec's message must contain,
		// quotes what else it must.
		says   map[string]string
		quotes map[string][]string
		// idpPage names a trace whose page stayed on the IdP's origin: no
		// screenshot of it may be in the bundle.
		idpPage string
	}{{
		// The same refresh token comes back and stays valid: no rotation, and
		// so the token the first refresh presented still works afterwards.
		name:  "no rotation",
		flags: []string{"-rotation", "reuse"},
		want: map[string]reports.State{"idp-refresh/spa-refresh-rotates": reports.Failed, "idp-refresh/refresh-rotates": reports.Failed,
			"idp-refresh/replay-rejected": reports.Failed, "idp-refresh/family-revoked": reports.Failed},
		says: map[string]string{"idp-refresh/spa-refresh-rotates": "does not rotate", "idp-refresh/replay-rejected": "still accepted"},
	}, {
		// Every prompt=none gets an interactive page: silent authentication
		// cannot come back with a session (SA-1) nor without one (SA-2), and
		// whether the session cookie crosses sites cannot be seen (SA-3).
		name:  "prompt=none shows a login page",
		flags: []string{"-fault", "authorize:page-without-redirect:prompt=none"},
		want: map[string]reports.State{"idp-silent-auth/iframe-came-back-with-code": reports.Failed, "idp-silent-auth/silent-refresh-succeeds": reports.Failed,
			"idp-silent-auth/session-cookie-crosses-sites": reports.Skipped,
			"idp-no-session/prompt-none-error":             reports.Failed, "idp-no-session/prompt-none-login-required": reports.Failed,
			"idp-silent-auth-cookies-blocked/iframe-comes-back": reports.Failed,
			// No response came back whose iss could be read.
			"idp-no-session/iss-in-error-response": reports.Skipped, "idp-silent-auth/iss-in-code-response": reports.Skipped},
		says:    map[string]string{"idp-silent-auth/iframe-came-back-with-code": "a page instead of a redirect", "idp-no-session/prompt-none-error": "did not come back"},
		idpPage: "idp-no-session",
	}, {
		// prompt=none refuses to be framed: the iframe fails (SA-1), while the
		// same request top-level still says login_required (SA-2 passes).
		name:  "framing refused",
		flags: []string{"-fault", "authorize:deny-framing:prompt=none"},
		want: map[string]reports.State{"idp-silent-auth/iframe-came-back-with-code": reports.Failed, "idp-silent-auth/silent-refresh-succeeds": reports.Failed,
			"idp-silent-auth/session-cookie-crosses-sites": reports.Skipped, "idp-silent-auth-cookies-blocked/iframe-comes-back": reports.Failed},
		says: map[string]string{"idp-silent-auth/iframe-came-back-with-code": `refused to be framed: the iframe shows the browser's error page in place of the IdP's answer, whose framing headers (X-Frame-Options, CSP frame-ancestors) the entry quotes as sent (`},
		// and the entry quotes them
		quotes: map[string][]string{"idp-silent-auth/iframe-came-back-with-code": {`x_frame_options="DENY"`, `csp_frame_ancestors="frame-ancestors 'none'"`}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			base := freeBase(t, "localhost")
			issuer := startIdP(t, base, tc.flags...)
			bundle := filepath.Join(t.TempDir(), "bundle")
			code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle}, fastTimeouts...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
			}
			expect(t, bundle, tc.want)
			msgs := messages(t, bundle)
			for id, phrase := range tc.says {
				for _, p := range append([]string{phrase}, tc.quotes[id]...) {
					if !strings.Contains(msgs[id], p) {
						t.Errorf("%s: the message lacks %q:\n    %s", id, p, msgs[id])
					}
				}
			}
			if tc.idpPage != "" {
				// The page is the IdP's, which may show what a login file
				// typed: the bundle keeps no picture of it, and says so.
				trace := filepath.Join(bundle, "traces", "oidc-client-ts", tc.idpPage)
				if _, err := os.Stat(filepath.Join(trace, "screenshot.png")); err == nil {
					t.Errorf("%s: the bundle holds a screenshot of a page on the IdP's origin", tc.idpPage)
				}
				said := false
				for _, e := range traceEntries(t, trace) {
					said = said || e.What == "harness.step" && e.Fields["step"] == "no screenshot: the page is on "+issuer+", not the app's origin"
				}
				if !said {
					txt, _ := os.ReadFile(filepath.Join(trace, "timeline.txt"))
					t.Errorf("%s: the trace does not say why it has no screenshot:\n%s", tc.idpPage, txt)
				}
			}
		})
	}
}

// An IdP that keeps a rotated refresh token valid for a grace period (for
// tabs refreshing at the same moment) fails IDP-RT-3 unless the grace is
// declared; declared, the replay waits it out and reuse detection is judged.
// The grace is 8 s: undeclared, the replay must come within it, which the
// plain-HTTP refresh before it does in milliseconds, even on a busy machine.
func TestCertifyRotationGrace(t *testing.T) {
	t.Parallel()
	base := freeBase(t, "localhost")
	issuer := startIdP(t, base, "-rotation-grace", "8s")
	for _, tc := range []struct {
		grace string
		code  int
		want  map[string]reports.State
	}{
		{"0s", 1, map[string]reports.State{"idp-refresh/replay-rejected": reports.Failed, "idp-refresh/family-revoked": reports.Failed}},
		{"8s", 0, nil},
	} {
		bundle := filepath.Join(t.TempDir(), "bundle")
		code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle, "-rotation-grace", tc.grace}, fastTimeouts...)...)
		if code != tc.code {
			t.Errorf("-rotation-grace %s: exit %d, want %d\n%s%s", tc.grace, code, tc.code, out, errs)
		}
		if code == 2 {
			t.FailNow()
		}
		expect(t, bundle, tc.want)
		if msg := messages(t, bundle)["idp-refresh/replay-rejected"]; tc.want != nil && !strings.Contains(msg, "--rotation-grace") {
			t.Errorf("-rotation-grace %s: IDP-RT-3 does not point at the flag: %s", tc.grace, msg)
		}
	}
}

// The expiry checks (IDP-RT-5 to RT-7) judge what the vendor declares: the
// embedded IdP configured as declared passes them, and one that keeps its
// refresh tokens alive past every declared limit fails exactly the spec of
// each rule, blaming the IdP with what came back (each scenario has its own
// login, so one rule's failure cannot cause another's). The values are
// short (10 s idle, 20 s lifetime): the two timed checks take about 40 s.
// An IdP that refuses sooner than it declares fails the uses the checks
// expect accepted; that, and every answer that proves nothing, is judged on
// recorded evidence (suite's TestIdPExpiryChecks).
func TestCertifyRefreshTokenExpiry(t *testing.T) {
	t.Parallel()
	declare := []string{"-refresh-token-idle", "10s", "-refresh-token-lifetime", "20s", "-refresh-tokens-end-with-session"}
	for _, tc := range []struct {
		name string
		idp  []string
		code int
		want map[string]reports.State
		says map[string]string
	}{{
		name: "as declared",
		idp:  declare,
		want: map[string]reports.State{
			"idp-refresh-idle/used-within-idle-accepted": reports.Passed, "idp-refresh-idle/idle-refused": reports.Passed,
			"idp-refresh-lifetime/kept-alive-within-lifetime": reports.Passed, "idp-refresh-lifetime/refused-after-lifetime": reports.Passed,
			"idp-refresh-session-end/refused-after-logout": reports.Passed},
	}, {
		// No idle expiry, a lifetime of an hour, refresh tokens that
		// outlive the session: every use is accepted.
		name: "none of it",
		code: 1,
		want: map[string]reports.State{
			"idp-refresh-idle/used-within-idle-accepted": reports.Passed, "idp-refresh-idle/idle-refused": reports.Failed,
			"idp-refresh-lifetime/kept-alive-within-lifetime": reports.Passed, "idp-refresh-lifetime/refused-after-lifetime": reports.Failed,
			"idp-refresh-session-end/refused-after-logout": reports.Failed},
		says: map[string]string{
			"idp-refresh-idle/idle-refused":                "unused for 2 s longer than the declared idle time (--refresh-token-idle), was accepted (HTTP 200)",
			"idp-refresh-lifetime/refused-after-lifetime":  "still refreshed 2 s after the declared lifetime (HTTP 200)",
			"idp-refresh-session-end/refused-after-logout": "still refreshed after the IdP's login session ended (HTTP 200)",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			base := freeBase(t, "localhost")
			issuer := startIdP(t, base, tc.idp...)
			bundle := filepath.Join(t.TempDir(), "bundle")
			start := time.Now()
			code, out, errs := certifyCmd(t, append(append([]string{"-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle}, declare...), fastTimeouts...)...)
			t.Logf("certification took %s", time.Since(start).Round(100*time.Millisecond))
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errs)
			}
			expect(t, bundle, tc.want)
			msgs := messages(t, bundle)
			for id, phrase := range tc.says {
				// What came back is quoted: the refresh that worked.
				if !strings.Contains(msgs[id], phrase) || !strings.Contains(msgs[id], `status="200"`) {
					t.Errorf("%s: the message lacks %q and the answer:\n    %s", id, phrase, msgs[id])
				}
			}
			var rec certify.Record
			raw, _ := os.ReadFile(filepath.Join(bundle, "config.json"))
			if err := json.Unmarshal(raw, &rec); err != nil || rec.RefreshTokenIdle != "10s" || rec.RefreshTokenLifetime != "20s" || !rec.RefreshTokensEndWithSession {
				t.Errorf("config.json does not record what was declared (%v):\n%s", err, raw)
			}
		})
	}
}

// zitadelOP builds the example OpenID provider that ships with
// github.com/zitadel/oidc (example/server, unmodified; its module is pinned
// in certify/testdata/zitadel-op) and starts it the way its README says: PORT
// and REDIRECT_URI in the environment. Its public client "native" (PKCE,
// refresh tokens) gets the reference SPA's two redirect URIs; its test user
// is test-user@localhost with password verysecure.
func zitadelOP(t *testing.T, base string) (issuer string) {
	t.Helper()
	mod, err := filepath.Abs(filepath.Join("..", "..", "certify", "testdata", "zitadel-op"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "zitadel-example-op")
	build := exec.Command("go", "build", "-o", bin, "github.com/zitadel/oidc/v3/example/server")
	build.Dir = mod
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the zitadel example OP: %v\n%s", err, out)
	}
	port := strings.TrimSuffix(freeBase(t, "localhost")[len("http://localhost:"):], "/")
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "PORT="+port, "REDIRECT_URI="+base+"index.html,"+base+"silent-callback.html")
	log := startLogged(t, cmd, "the zitadel example OP")
	issuer = "http://localhost:" + port + "/"
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	// A server that accepts and never answers must not hold the loop past
	// its deadline.
	client := &http.Client{Timeout: 2 * time.Second}
	for range tick.C {
		resp, err := client.Get(issuer + ".well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the zitadel example OP did not serve discovery within 20s: %v\n%s", err, log.String())
		}
	}
	return issuer
}

// The third proof: an OpenID provider nobody here wrote, certified through
// its own login page by a login file. The expected result of every spec, and
// why (read from example/server/storage and pkg/op of zitadel/oidc v3.52.0):
//
//	IDP-DISC-1 pass  discovery lists offline_access, refresh_token, S256 (its issuer keeps a trailing slash)
//	IDP-CODE-1 pass  client "native" is public (auth method none) with PKCE; rs/cors allows every origin
//	IDP-OA-1   pass  a refresh token comes with offline_access (op.needsRefreshToken)
//	IDP-OA-2   pass  and none without it
//	IDP-RT-1   pass  a new opaque access token with expires_in (5 minutes)
//	IDP-RT-2   pass  Storage.renewRefreshToken replaces the refresh token on every refresh
//	IDP-RT-3   FAIL  the rotated-out token is rejected (invalid_grant), but reuse does not revoke
//	                 the newest token of the family (strict); lenient reports it and passes
//	IDP-RT-4   pass  the refreshed id_token is signed afresh with the same iss, sub and aud
//	IDP-SA-1   FAIL  Storage.CreateAuthRequest answers every prompt=none with login_required:
//	                 the example keeps no login session, so silent authentication cannot work
//	IDP-SA-2   pass  for the same reason, prompt=none without a session gets login_required
//	IDP-SA-3   skip  with no session at all there is no session cookie whose SameSite could be judged
//	IDP-SA-4   pass  with third-party cookies blocked its prompt=none answers login_required, as always
//	IDP-UI-1   pass  the userinfo endpoint answers the access token with its subject, the id_token's sub,
//	                 and rs/cors lets the SPA's origin read the answer
//	IDP-REV-1  pass  op.ParseTokenRevocationRequest takes a public client (auth method none) by its
//	                 client_id, rs/cors lets the SPA's origin read the answer, and
//	                 Storage.RevokeToken deletes the refresh token: presented again, invalid_grant
//	IDP-ISS-1  skip  (both specs) discovery does not advertise authorization_response_iss_parameter_supported
func TestCertifyZitadelExampleOP(t *testing.T) {
	base := freeBase(t, "127.0.0.1") // the OP is on localhost: the SPA on 127.0.0.1 is cross-site
	issuer := zitadelOP(t, base)
	t.Setenv("ZITADEL_USER", "test-user@localhost")
	t.Setenv("ZITADEL_PASSWORD", "verysecure")
	login := filepath.Join("..", "..", "certify", "testdata", "zitadel-login.yaml")
	for _, tc := range []struct {
		profile string
		want    map[string]reports.State
	}{
		{"strict", map[string]reports.State{"idp-refresh/family-revoked": reports.Failed,
			"idp-silent-auth/iframe-came-back-with-code": reports.Failed, "idp-silent-auth/silent-refresh-succeeds": reports.Failed,
			"idp-silent-auth/session-cookie-crosses-sites": reports.Skipped, "idp-no-session/iss-in-error-response": reports.Skipped,
			"idp-silent-auth/iss-in-code-response": reports.Skipped}},
		{"lenient", map[string]reports.State{"idp-refresh/family-revoked": reports.KnownDeviation,
			"idp-silent-auth/iframe-came-back-with-code": reports.Failed, "idp-silent-auth/silent-refresh-succeeds": reports.Failed,
			"idp-silent-auth/session-cookie-crosses-sites": reports.Skipped, "idp-no-session/iss-in-error-response": reports.Skipped,
			"idp-silent-auth/iss-in-code-response": reports.Skipped}},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			bundle := filepath.Join(t.TempDir(), "bundle")
			code, out, errs := certifyCmd(t, append([]string{"-issuer", issuer, "-client-id", "native", "-redirect-base", base,
				"-login", login, "-profile", tc.profile, "-out", bundle}, fastTimeouts...)...)
			if code != 1 {
				t.Fatalf("exit %d, want 1 (IDP-SA-1 fails)\n%s%s", code, out, errs)
			}
			expect(t, bundle, tc.want)
			if msg := messages(t, bundle)["idp-refresh/family-revoked"]; !strings.Contains(msg, "family") {
				t.Errorf("IDP-RT-3 does not say what happened to the token family: %s", msg)
			}
			// The credentials came from the environment: no file of the
			// bundle may hold them, nor what the command printed.
			for name, text := range map[string]string{"stdout": out, "stderr": errs} {
				if strings.Contains(text, "verysecure") || strings.Contains(text, "test-user@localhost") {
					t.Errorf("%s holds a credential from the environment:\n%s", name, text)
				}
			}
			_ = filepath.WalkDir(bundle, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, _ := os.ReadFile(path)
				if bytes.Contains(b, []byte("verysecure")) || bytes.Contains(b, []byte("test-user@localhost")) {
					t.Errorf("%s holds a credential from the environment", path)
				}
				return nil
			})
		})
	}
}

// Configuration errors stop the run before any spec, one line each, exit 2,
// and no bundle is written.
func TestCertifyPreflight(t *testing.T) {
	start := func(t *testing.T, base string, mutate func(*fakeidp.Config)) *fakeidp.Server {
		cfg := fakeidp.Config{Clients: []fakeidp.Client{{ID: "spa", Origins: []string{strings.TrimSuffix(base, "/")},
			RedirectURIs: []string{base + "index.html", base + "silent-callback.html"}}}}
		mutate(&cfg)
		srv, err := fakeidp.Start(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		return srv
	}
	for _, tc := range []struct {
		name   string
		setup  func(t *testing.T, base string) (issuer string)
		saying string
		// client is the --client-id (default spa).
		client string
	}{{
		// The IdP refuses the client as a whole (it does not know it): both
		// redirect URIs get the same 400, and the URIs are not to blame.
		name: "rejected client",
		setup: func(t *testing.T, base string) string {
			return start(t, base, func(*fakeidp.Config) {}).URL
		},
		client: "not-registered",
		saying: "client not-registered: the IdP answers it, for both redirect URIs, as it answers a client that does not exist",
	}, {
		name: "wrong issuer string",
		setup: func(t *testing.T, base string) string {
			return start(t, base, func(*fakeidp.Config) {}).URL + "/" // the IdP's issuer has no trailing slash
		},
		saying: `the IdP's issuer is "http://127.0.0.1:`,
	}, {
		name: "unregistered redirect URI",
		setup: func(t *testing.T, base string) string {
			return start(t, base, func(c *fakeidp.Config) { c.Clients[0].RedirectURIs = c.Clients[0].RedirectURIs[:1] }).URL
		},
		saying: "silent-callback.html is not registered for client spa",
	}, {
		name: "offline_access missing from scopes_supported",
		setup: func(t *testing.T, base string) string {
			// The embedded IdP behind a proxy that drops offline_access from
			// its discovery document, and nothing else.
			proxy := httptest.NewUnstartedServer(nil) // listens now; serves once the IdP behind it runs
			t.Cleanup(proxy.Close)
			issuer := "http://" + proxy.Listener.Addr().String()
			srv := start(t, base, func(c *fakeidp.Config) { c.Issuer = issuer })
			target, _ := url.Parse("http://" + srv.Addr())
			rp := httputil.NewSingleHostReverseProxy(target)
			rp.ModifyResponse = func(resp *http.Response) error {
				if !strings.HasSuffix(resp.Request.URL.Path, "/openid-configuration") {
					return nil
				}
				return rewriteJSON(resp, func(doc map[string]any) {
					doc["scopes_supported"] = []string{"openid", "profile", "email"}
				})
			}
			proxy.Config.Handler = rp
			proxy.Start()
			return issuer
		},
		saying: "scopes_supported does not list offline_access",
	}, {
		name: "CORS not allowed for the SPA's origin",
		setup: func(t *testing.T, base string) string {
			return start(t, base, func(c *fakeidp.Config) { c.Clients[0].Origins = []string{"http://localhost:1"} }).URL
		},
		saying: "CORS: the token endpoint does not allow the SPA's origin",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			base := freeBase(t, "localhost")
			issuer := tc.setup(t, base)
			bundle := filepath.Join(t.TempDir(), "bundle")
			client := tc.client
			if client == "" {
				client = "spa"
			}
			code, out, errs := certifyCmd(t, "-issuer", issuer, "-client-id", client, "-redirect-base", base, "-out", bundle)
			lines := strings.Split(strings.TrimSpace(errs), "\n")
			if code != 2 || len(lines) != 1 || !strings.HasPrefix(lines[0], "refreshsuite: certify: ") || !strings.Contains(lines[0], tc.saying) {
				t.Fatalf("exit %d, want 2 and one line saying %q; stderr:\n%s\nstdout:\n%s", code, tc.saying, errs, out)
			}
			if strings.Contains(out, "IDP-") {
				t.Errorf("specs were judged despite a configuration error:\n%s", out)
			}
			if _, err := os.Stat(bundle); err == nil {
				t.Errorf("a bundle was written despite a configuration error")
			}
		})
	}
}

// A malformed login file is refused before anything runs, with file:line:
// key: message.
func TestCertifyLoginFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ src, want string }{
		{"steps:\n  - fill: {selector: \"#u\", value: x}\n  - type: {selector: \"#p\", value: y}\n", ":3: steps[2].type: unknown key (known: click, fill, goto, optional, timeout, wait-for-url)"},
		{"steps:\n  - {goto: \"http://idp/\", click: \"#go\"}\n", ":2: steps[1]: one action per step, got click and goto"},
		{"steps:\n  - fill: {value: x}\n", ":2: steps[1].fill.selector: required key is missing"},
		{"steps:\n  - click: \"#a\"\n  - fill: {selector: \"#p\", value: \"${REFRESHSUITE_CERTIFY_UNSET}\"}\n", ":3: steps[2].fill.value: ${REFRESHSUITE_CERTIFY_UNSET} is not set in the environment"},
		{"steps:\n  - wait-for-url: \"~(unclosed\"\n", ":2: steps[1].wait-for-url: not a regular expression"},
		{"timeout: 15\nsteps:\n  - click: \"#a\"\n", ":1: timeout: want a duration with a unit"},
		{"steps: []\nsteps: []\n", ":2: steps: key appears twice"},
		{"timeout: 5s\nsteps: []\n", ":2: steps: a login needs at least one step"},
		{"steps:\n  - fill: {selector: \"#p\", value: \"${IDP_PASSWORD\"}\n", ":2: steps[1].fill.value: a ${ has no closing }"},
	} {
		file := filepath.Join(dir, fmt.Sprintf("login-%d.yaml", len(tc.src)))
		if err := os.WriteFile(file, []byte(tc.src), 0o644); err != nil {
			t.Fatal(err)
		}
		code, _, errs := certifyCmd(t, "-issuer", "http://127.0.0.1:1", "-client-id", "spa", "-redirect-base", "http://localhost:1/", "-login", file)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], file+tc.want) {
			t.Errorf("login file %q: exit %d, want 2 and one line with %q:\n%s", tc.src, code, file+tc.want, errs)
		}
	}
}

// What the flags alone get wrong is refused at once, exit 2: port 0 would
// serve the SPA where no registered redirect URI points, and a bad profile
// is named before the manifest is even read.
func TestCertifyFlagChecks(t *testing.T) {
	// The reference SPA without DPoP.
	ref, err := filepath.Abs(filepath.Join("..", "..", defaultReference))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, ref) // extends is relative to the manifest
	if err != nil {
		t.Fatal(err)
	}
	noDPoP := filepath.Join(dir, "client.yaml")
	if err := os.WriteFile(noDPoP, []byte("extends: "+rel+"\nname: no-dpop\ncapabilities: [refresh-token, silent-refresh-code]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"-redirect-base", "http://localhost:0/"}, "want an explicit port"},
		{[]string{"-redirect-base", "http://localhost:8080/", "-profile", "strictest", "-client", filepath.Join(t.TempDir(), "missing.yaml")}, `--profile: want strict or lenient, got "strictest"`},
		{[]string{"-redirect-base", "http://localhost:8080/", "-refresh-token-idle", "1s", "-client", filepath.Join(t.TempDir(), "missing.yaml")}, "--refresh-token-idle 1s: want 4s to 30m0s"},
		{[]string{"-redirect-base", "http://localhost:8080/", "-refresh-token-idle", "10s", "-refresh-token-lifetime", "12s"}, "configure a lifetime of at least 19s, or certify the two in separate runs"},
		{[]string{"-redirect-base", "http://localhost:8080/", "-dpop", "-client", noDPoP}, "--dpop: " + noDPoP + ": the reference SPA does not declare capability dpop"},
		{[]string{"-redirect-base", "http://localhost:8080/", "-scenario", "idp-refresh-sessions-end", "-client", filepath.Join(t.TempDir(), "missing.yaml")}, `--scenario "idp-refresh-sessions-end": the profile has no such scenario (it has idp-code-flow, idp-discovery,`},
	} {
		args := append([]string{"-issuer", "http://127.0.0.1:1", "-client-id", "spa", "-out", filepath.Join(t.TempDir(), "bundle")}, tc.args...)
		code, out, errs := certifyCmd(t, args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 2 || len(lines) != 1 || !strings.Contains(lines[0], tc.says) {
			t.Errorf("certify %s: exit %d, want 2 and one line saying %q:\n%s%s", strings.Join(tc.args, " "), code, tc.says, errs, out)
		}
	}
}

// watchWriter keeps what a process prints and closes seen once it has
// printed want.
type watchWriter struct {
	logBuffer
	want string
	once sync.Once
	seen chan struct{}
}

func (w *watchWriter) Write(p []byte) (int, error) {
	n, err := w.logBuffer.Write(p)
	if strings.Contains(w.logBuffer.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

// An interrupt (SIGINT) stops a certification after the phase it cuts short:
// one line saying so, a non-zero exit that is not a configuration error,
// nothing judged and no bundle, archive or login screenshot. Cut short, a
// phase is no evidence: neither an IdP that "did not come back" nor a login
// file that "does not fit".
func TestCertifyInterrupted(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	stuck := filepath.Join(t.TempDir(), "login.yaml") // a first step that never completes
	if err := os.WriteFile(stuck, []byte("timeout: 60s\nsteps:\n  - wait-for-url: http://never.invalid/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		idpFlags []string
		args     []string
		at       string // what the command prints as it enters the phase
	}{
		{"during the first login", nil, []string{"-login", stuck}, "scenario containers against"},
		// The faults make two scenarios wait out the 8 s silent timeout, so
		// after the first container that ran there are seconds of run left
		// (the expiry checks, skipped at once with nothing declared, print
		// "skipped" before it).
		{"after the first scenario", []string{"-fault", "authorize:page-without-redirect:prompt=none"}, nil, " passed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := freeBase(t, "localhost")
			issuer := startIdP(t, base, tc.idpFlags...)
			bundle := filepath.Join(t.TempDir(), "bundle")
			args := append([]string{"certify", "-issuer", issuer, "-client-id", "spa", "-redirect-base", base, "-out", bundle}, tc.args...)
			cmd := exec.Command(self, append(args, fastTimeouts...)...)
			cmd.Env = append(os.Environ(), asCommand+"=1")
			cmd.WaitDelay = 10 * time.Second
			stdout := &watchWriter{want: tc.at, seen: make(chan struct{})}
			var stderr logBuffer
			cmd.Stdout, cmd.Stderr = stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-stdout.seen:
			case <-done:
				t.Fatalf("certify ended before %q:\n%s%s", tc.at, stdout.String(), stderr.String())
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("certify did not reach %q within 60s:\n%s%s", tc.at, stdout.String(), stderr.String())
			}
			if err := cmd.Process.Signal(os.Interrupt); err != nil {
				t.Fatal(err)
			}
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("certify did not stop within 30s of SIGINT:\n%s%s", stdout.String(), stderr.String())
			}
			code := cmd.ProcessState.ExitCode()
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if code == 0 || code == 2 || len(lines) != 1 || !strings.Contains(lines[0], "interrupted") {
				t.Errorf("exit %d, want non-zero (not 2, a configuration error) and one line saying interrupted:\n%s", code, stderr.String())
			}
			if strings.Contains(stdout.String(), "IDP-") || strings.Contains(stdout.String(), "bundle:") {
				t.Errorf("specs were judged after the interrupt:\n%s", stdout.String())
			}
			for _, f := range []string{bundle, bundle + ".tar.gz", bundle + "-login-failure.png"} {
				if _, err := os.Stat(f); err == nil {
					t.Errorf("%s was written after the interrupt", f)
				}
			}
		})
	}
}
