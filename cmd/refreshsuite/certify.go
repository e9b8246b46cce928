package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/certify"
	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/reports"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/target"
)

// defaultReference is the reference SPA of a certification: code flow with
// PKCE, refresh tokens, and an iframe on demand (forceIframeAuth).
const defaultReference = "fixtures/oidc-client-ts/client.yaml"

// idpScenarios are the certification profile: scenarios that judge the IdP.
const idpScenarios = "scenarios/idp"

// paramFlag collects --authorize-param k=v.
type paramFlag map[string]string

func (p paramFlag) String() string { return fmt.Sprint(map[string]string(p)) }
func (p paramFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want name=value, got %q", v)
	}
	for _, own := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"} {
		if k == own {
			return fmt.Errorf("%s is the reference SPA's own parameter (use --scope for the scope)", k)
		}
	}
	p[k] = val
	return nil
}

// cmdCertify runs the IdP profile (the idp scenarios) against an external
// issuer with the suite's one harness and writes a certification bundle.
// Exit codes: 0 every spec passed, was skipped with its reason or reported
// (lenient), 1 a spec failed or the run was interrupted, 2 a usage,
// configuration or environment error (pre-flight, a login file that does not
// fit, a page the browser cannot load).
func cmdCertify(args []string, stdout, stderr io.Writer) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	fs := newFlags("certify", stderr)
	issuer := fs.String("issuer", "", "the IdP's issuer, exactly as its discovery document writes it (required)")
	clientID := fs.String("client-id", "", "the public client registered for the SPA (required)")
	base := fs.String("redirect-base", "", "where the reference SPA is served, http://localhost:<port>/ (required); register <base>index.html and <base>silent-callback.html")
	login := fs.String("login", "", "a login file: the steps the browser performs on the IdP's login page (none: the IdP logs in by itself)")
	profile := fs.String("profile", "strict", "strict or lenient: a failed should-expectation fails, or is reported (see docs/certify.md)")
	client := fs.String("client", filepath.Join(root, defaultReference), "the reference SPA's client manifest")
	scope := fs.String("scope", certify.DefaultScope, "the scope the SPA asks for (must hold openid and offline_access)")
	out := fs.String("out", filepath.Join(root, defaultOut, "certify"), "the bundle folder; <out>.tar.gz is the archive")
	timeout := fs.Duration("timeout", certify.DefaultTimeout, "how long a login, or a navigation the harness waits for, may take")
	silent := fs.Duration("silent-timeout", certify.DefaultSilentTimeout, "the SPA's silent-refresh timeout, and how long prompt=none may take to come back")
	grace := fs.Duration("rotation-grace", 0, "how long your IdP keeps a rotated refresh token valid; the replay of IDP-RT-3 waits it out")
	idle := fs.Duration("refresh-token-idle", 0, "the idle expiry you configured your IdP's refresh tokens with (4s to 30m): IDP-RT-5 checks it (0: not declared, not checked)")
	lifetime := fs.Duration("refresh-token-lifetime", 0, "the absolute lifetime you configured for a login's refresh tokens, however often used (8s to 30m): IDP-RT-6 checks it (0: not declared, not checked)")
	endsWithSession := fs.Bool("refresh-tokens-end-with-session", false, "your IdP refuses a refresh token once its login session ended (a logout at end_session_endpoint): IDP-RT-7 checks it")
	dpop := fs.Bool("dpop", false, "the SPA binds its tokens with DPoP (RFC 9449) in every scenario, for an IdP that requires it of public clients (without it, only idp-refresh-dpop does)")
	ca := fs.String("ca", "", "a PEM file with your private CA: the browser and the plain-HTTP checks trust it besides the system's roots, and nothing else")
	params := paramFlag{}
	fs.Var(params, "authorize-param", "name=value added to the SPA's authorization requests (repeatable; prompt=... replaces its login's prompt=consent)")
	var hosts listFlag
	fs.Var(&hosts, "allow-host", "a host the browser may reach besides the IdP's and the SPA's (repeatable; *.example.com too): everything else is refused and recorded")
	only := fs.String("scenario", "", "run this one scenario of the profile (its id, such as idp-refresh-session-end) to try the login file on it: the bundle then holds that scenario's specs only")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("certify takes no arguments, got %q", fs.Args())
	}
	if *issuer == "" || *clientID == "" || *base == "" {
		return usagef("certify needs --issuer, --client-id and --redirect-base (refreshsuite certify -h)")
	}
	// What the flags alone decide is checked before the manifest is loaded
	// or Chromium found.
	if p := certify.Profile(*profile); p != certify.Strict && p != certify.Lenient {
		return usagef("certify: --profile: want strict or lenient, got %q", *profile)
	}
	if _, err := certify.ParseRedirectBase(*base); err != nil {
		return usagef("certify: %v", err)
	}
	declared := certify.Config{RefreshTokenIdle: *idle, RefreshTokenLifetime: *lifetime}
	if err := declared.CheckExpiry(); err != nil {
		return usagef("certify: %v", err)
	}
	if *ca != "" {
		if _, err := target.SPKIHashes(abs(*ca)); err != nil {
			return usagef("certify: %v", err)
		}
	}
	profileDir := filepath.Join(root, idpScenarios)
	profileScenarios, err := scenarios.Load(profileDir)
	if err != nil {
		return usageError{err}
	}
	selected, err := selectScenarios(profileDir, profileScenarios, *only)
	if err != nil {
		return usagef("certify: %v", err)
	}
	m, err := fixtures.Load(abs(*client))
	if err != nil {
		return usageError{err}
	}
	if err := appBuilt(m); err != nil {
		return err
	}
	bin, err := browser.Find()
	if err != nil {
		return usageError{err}
	}
	cfg := &certify.Config{
		Issuer: *issuer, ClientID: *clientID, RedirectBase: *base, Profile: certify.Profile(*profile),
		Manifest: m, Scope: *scope, Timeout: *timeout, SilentTimeout: *silent, RotationGrace: *grace, Chromium: bin,
		RefreshTokenIdle: *idle, RefreshTokenLifetime: *lifetime, RefreshTokensEndWithSession: *endsWithSession, DPoP: *dpop,
		AuthorizeParams: params, AllowHosts: hosts, Out: abs(*out), Version: certify.SuiteVersion(root),
	}
	if *ca != "" {
		cfg.CAFile = abs(*ca)
	}
	if *login != "" {
		if cfg.Login, err = certify.LoadLogin(*login); err != nil {
			return usageError{err}
		}
	}
	if err := cfg.Check(); err != nil {
		return usagef("certify: %v", err)
	}
	if err := certify.CheckOut(cfg.Out); err != nil {
		return usagef("certify: %v", err)
	}
	_ = os.Remove(certify.LoginShot(cfg.Out)) // an earlier run's
	started := time.Now()
	fmt.Fprintf(stdout, "refreshsuite certify: %s (client %s) with %s %s on %s, profile %s\n", cfg.Issuer, cfg.ClientID, m.Library.Name, m.Library.Version, cfg.Base(), cfg.Profile)
	if *only != "" {
		fmt.Fprintf(stdout, "  only %s (--scenario): no certification of the whole profile\n", *only)
	}

	// The pre-flight: plain HTTP, before anything starts. An interrupt now
	// is an interrupt, not a configuration error.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	hc, err := target.HTTPClient(cfg.CAFile)
	if err != nil {
		stop()
		return usagef("certify: %v", err)
	}
	fmt.Fprintln(stdout, "  pre-flight: discovery, redirect URIs, CORS")
	disc, err := certify.Preflight(ctx, cfg, hc)
	interrupted := ctx.Err() != nil
	stop()
	if interrupted {
		return errors.New("certify: interrupted: nothing judged, no bundle written")
	}
	var ce *certify.ConfigError
	if errors.As(err, &ce) {
		// One line per configuration error, each saying what it is.
		return usagef("certify: %s", strings.Join(ce.Lines, "\nrefreshsuite: certify: "))
	}
	if err != nil {
		return usagef("certify: %v", err)
	}

	tmp, err := os.MkdirTemp("", "refreshsuite-certify-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ext := &target.External{
		Issuer: cfg.Issuer, ClientID: cfg.ClientID, RedirectBase: cfg.Base(), Profile: string(cfg.Profile),
		RotationGrace: cfg.RotationGrace, RefreshTokenIdle: cfg.RefreshTokenIdle, RefreshTokenLifetime: cfg.RefreshTokenLifetime,
		RefreshTokensEndWithSession: cfg.RefreshTokensEndWithSession, DPoP: cfg.DPoP, AuthorizeParams: cfg.AuthorizeParams, Timeout: cfg.Timeout, SilentTimeout: cfg.SilentTimeout,
		CAFile: cfg.CAFile, Problems: filepath.Join(tmp, "problems.txt"), LoginShot: certify.LoginShot(cfg.Out),
		Library: filepath.Join(tmp, "library.json"), Logins: filepath.Join(tmp, "logins.txt"),
	}
	// The browser reaches the IdP, the SPA and what the vendor names, and
	// nothing else: a login page's fonts or trackers from elsewhere are
	// refused and recorded, not fetched from a vendor's test machine.
	ext.AllowHosts = cfg.Hosts(disc)
	if cfg.Login != nil {
		ext.LoginFile = abs(cfg.Login.File)
	}
	if *scope != certify.DefaultScope {
		ext.Scope = *scope
	}
	targetFile := filepath.Join(tmp, "target.json")
	if err := ext.Save(targetFile); err != nil {
		return err
	}
	reportsDir := filepath.Join(tmp, "reports")
	tr := &targetRun{target: targetFile, publishAs: cfg.Out}
	runErr := runSuite([]string{"-client", m.File, "-scenarios", selected.path, "-procs", "1",
		"-trace", "always", "-clock", "real", "-out", reportsDir}, stdout, stderr, tr)
	var ie interruptedError
	if errors.As(runErr, &ie) {
		_ = os.Remove(ext.LoginShot) // of a phase cut short: no evidence
		return errors.New("certify: interrupted: nothing judged, no bundle written")
	}
	if problems, _ := os.ReadFile(ext.Problems); len(problems) > 0 {
		lines := strings.Split(strings.TrimSpace(string(problems)), "\n")
		return usagef("certify: %s", strings.Join(lines, "\nrefreshsuite: certify: "))
	}
	// No login came back at all: the login file does not fit the IdP's
	// pages. Some did: those that did not are the IdP's doing, judged.
	if logins, _ := os.ReadFile(ext.Logins); len(logins) > 0 && !strings.Contains("\n"+string(logins), "\nok\n") {
		first, _, _ := strings.Cut(string(logins), "\n")
		return usagef("certify: %s", strings.TrimPrefix(first, "stuck\t"))
	}
	_ = os.Remove(ext.LoginShot) // a login came back: no configuration problem to show
	if runErr != nil {
		return runErr
	}
	var files []string
	for _, s := range selected.scenarios {
		if rel, err := filepath.Rel(root, s.File); err == nil && !strings.HasPrefix(rel, "..") {
			files = append(files, rel)
		}
	}
	sort.Strings(files)
	files = compact(files)
	var library map[string]any
	if b, err := os.ReadFile(ext.Library); err == nil {
		_ = json.Unmarshal(b, &library)
	}
	rec := cfg.Record(library, files, ext.AllowHosts)
	o, err := certify.WriteBundle(cfg.Out, reportsDir, rec, started)
	if err != nil {
		return err
	}
	printCertification(stdout, o, time.Since(started))
	if o.Count(reports.Failed) > 0 {
		return errFailed
	}
	// A run that judged nothing proves nothing (--scenario on a check whose
	// premise did not hold): the bundle shows why, and the run fails.
	if o.Count(reports.Passed)+o.Count(reports.KnownDeviation) == 0 {
		return usagef("certify: nothing was judged: every spec was skipped, each with its reason in the bundle")
	}
	return nil
}

// scenarioSelection is what a certification runs: the scenarios, and the
// file or folder the suite reads them from.
type scenarioSelection struct {
	scenarios []*scenarios.Scenario
	path      string
}

// selectScenarios is the whole profile, read from dir, or the scenario
// --scenario names (with its variants: they share its file).
func selectScenarios(dir string, profile []*scenarios.Scenario, only string) (scenarioSelection, error) {
	if only == "" {
		return scenarioSelection{profile, dir}, nil
	}
	var sel scenarioSelection
	var ids []string
	for _, s := range profile {
		if s.ID == only {
			sel.scenarios, sel.path = append(sel.scenarios, s), s.File
		}
		ids = append(ids, s.ID)
	}
	if len(sel.scenarios) == 0 {
		sort.Strings(ids)
		return sel, fmt.Errorf("--scenario %q: the profile has no such scenario (it has %s)", only, strings.Join(compact(ids), ", "))
	}
	return sel, nil
}

func compact(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func printCertification(w io.Writer, o *certify.Outcome, took time.Duration) {
	fmt.Fprintln(w)
	width := 0
	for _, v := range o.Verdicts {
		width = max(width, len(v.Spec))
	}
	for _, v := range o.Verdicts {
		first, _, _ := strings.Cut(v.Message, "\n")
		state := string(v.State)
		if v.State == reports.KnownDeviation {
			state = "reported"
		}
		fmt.Fprintf(w, "%-*s  %-11s %-8s %s\n", width, v.Spec, strings.Join(v.Requirements, ","), state, first)
	}
	verdict := "PASS"
	if o.Count(reports.Failed) > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\n%s: %d specs, %d passed, %d failed, %d reported, %d skipped in %s\n", verdict, len(o.Verdicts),
		o.Count(reports.Passed), o.Count(reports.Failed), o.Count(reports.KnownDeviation), o.Count(reports.Skipped), took.Round(100*time.Millisecond))
	fmt.Fprintf(w, "bundle:  %s\narchive: %s\n", o.Dir, o.Archive)
}
