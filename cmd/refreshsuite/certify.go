package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/certify"
	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/reports"
)

// defaultReference is the reference SPA of a certification: code flow with
// PKCE, refresh tokens, and an iframe on demand (forceIframeAuth).
const defaultReference = "fixtures/oidc-client-ts/client.yaml"

// cmdCertify runs the IdP profile against an external issuer and writes a
// certification bundle. Exit codes: 0 every spec passed (or was skipped with
// its reason), 1 a spec failed, 2 a usage or configuration error (pre-flight).
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
	profile := fs.String("profile", "strict", "strict or lenient (see docs/certify.md)")
	client := fs.String("client", filepath.Join(root, defaultReference), "the reference SPA's client manifest")
	scope := fs.String("scope", certify.DefaultScope, "the scope the SPA asks for (must hold openid and offline_access)")
	out := fs.String("out", filepath.Join(root, defaultOut, "certify"), "the bundle folder; <out>.tar.gz is the archive")
	timeout := fs.Duration("timeout", certify.DefaultTimeout, "how long a login, or a navigation the harness waits for, may take")
	silent := fs.Duration("silent-timeout", certify.DefaultSilentTimeout, "the SPA's silent-refresh timeout, and how long prompt=none may take to come back")
	grace := fs.Duration("rotation-grace", 0, "how long your IdP keeps a rotated refresh token valid; the replay of IDP-RT-3 waits it out")
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
		Out: abs(*out), Version: certify.SuiteVersion(root),
	}
	if *login != "" {
		if cfg.Login, err = certify.LoadLogin(*login); err != nil {
			return usageError{err}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // a second interrupt ends the process at once
	o, err := certify.Run(ctx, cfg, stdout)
	if ctx.Err() != nil && err != nil {
		// Whatever the phase it cut short said, it is not a result.
		return errors.New("certify: interrupted: nothing judged, no bundle written")
	}
	var ce *certify.ConfigError
	if errors.As(err, &ce) {
		// One line per configuration error, each saying what it is.
		return usagef("certify: %s", strings.Join(ce.Lines, "\nrefreshsuite: certify: "))
	}
	if err != nil {
		return err
	}
	printCertification(stdout, o)
	if o.Count(reports.Failed) > 0 {
		return errFailed
	}
	return nil
}

func printCertification(w io.Writer, o *certify.Outcome) {
	fmt.Fprintln(w)
	for _, v := range o.Verdicts {
		first, _, _ := strings.Cut(v.Message, "\n")
		fmt.Fprintf(w, "%-11s %-7s %s\n", v.ID, v.State, first)
	}
	verdict := "PASS"
	if o.Count(reports.Failed) > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\n%s: %d specs, %d passed, %d failed, %d skipped in %s\n", verdict, len(o.Verdicts),
		o.Count(reports.Passed), o.Count(reports.Failed), o.Count(reports.Skipped), o.Duration.Round(100*time.Millisecond))
	fmt.Fprintf(w, "bundle:  %s\narchive: %s\n", o.Dir, o.Archive)
}
