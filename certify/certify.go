// Package certify runs the IdP profile of the requirement catalogue (IDP-*)
// against an external identity provider and writes a certification bundle.
//
// The reference SPA is a real client fixture (by default oidc-client-ts), served
// on the redirect base the vendor registered, in real Chromium, on the real
// clock. What only the browser can show (the login, the library's own refresh,
// silent authentication in a hidden cross-site iframe) is driven through the
// browser; what plain HTTP shows honestly (discovery, CORS, replaying a rotated
// refresh token) is checked with plain HTTP. Everything lands on one timeline,
// like a scenario's, and each IDP-* requirement is one spec judged on it.
package certify

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// runner is one certification run.
type runner struct {
	cfg     *Config
	tl      *timeline.Timeline
	http    *http.Client
	disc    *Discovery
	app     *appServer
	browser *browser.Browser
	log     io.Writer

	redirectURI, silentURI string
	library                map[string]any
	ev                     Evidence
	steps                  int
	phases                 []phase
	shots                  map[string][]byte
	started                time.Time
}

// phase is a part of the run that specs read: its entries are those from its
// harness.step to the next phase's.
type phase struct {
	id      string
	session string // the browser session it ran in, for its screenshot
	from    int    // index of its first entry
}

func (r *runner) nextStep() int { r.steps++; return r.steps }

// begin starts a phase and records its step.
func (r *runner) begin(id, text, session string) {
	r.phases = append(r.phases, phase{id: id, session: session, from: len(r.tl.Entries())})
	r.tl.Add("harness.step", timeline.Fields{"step": text, "index": fmt.Sprint(r.nextStep())})
	fmt.Fprintln(r.log, "  "+text)
}

// Run certifies the IdP: pre-flight, the browser and HTTP phases, the checks,
// and the bundle. A configuration problem is a *ConfigError (nothing judged,
// no bundle); any other error means the harness could not run. Once ctx is
// done (an interrupt) Run returns ctx.Err() after the phase it was in, with
// nothing judged and no bundle: a phase cut short is not evidence.
func Run(ctx context.Context, cfg *Config, log io.Writer) (*Outcome, error) {
	if err := cfg.Check(); err != nil {
		return nil, &ConfigError{[]string{err.Error()}}
	}
	if err := checkOut(cfg.Out); err != nil {
		return nil, &ConfigError{[]string{err.Error()}}
	}
	base, _ := parseRedirectBase(cfg.RedirectBase)
	r := &runner{cfg: cfg, tl: timeline.New(nil), http: newHTTPClient(), log: log, shots: map[string][]byte{}, started: time.Now()}
	m := cfg.Manifest
	var err error
	if r.app, err = startApp(m.Path(m.App.Dir), base); err != nil {
		return nil, &ConfigError{[]string{err.Error()}}
	}
	defer r.app.Close()
	r.redirectURI, r.silentURI = r.app.url(m.App.Redirect), r.app.url(m.App.SilentRedirect)
	r.library = r.libraryConfig(cfg.Scope)
	r.ev = Evidence{Issuer: cfg.Issuer, AppOrigin: r.app.origin, Reference: m.Library.Name + " " + m.Library.Version, Scope: cfg.Scope}
	r.ev.CrossSite = crossSite(r.app.origin, cfg.Issuer)
	sites := "same-site"
	if r.ev.CrossSite {
		sites = "cross-site"
	}
	r.tl.Add("harness.config", timeline.Fields{
		"app_origin": r.app.origin, "issuer": cfg.Issuer, "client_id": cfg.ClientID, "redirect_uri": r.redirectURI,
		"silent_redirect_uri": r.silentURI, "flow": "code", "scope": cfg.Scope, "third_party_cookies": "allowed",
		"sites": sites, "clock": "real",
	})

	fmt.Fprintf(log, "refreshsuite certify: %s (client %s) with %s on %s, profile %s\n", cfg.Issuer, cfg.ClientID, r.ev.Reference, r.app.base, cfg.Profile)
	r.begin(phPreflight, "pre-flight: discovery, redirect URIs, CORS", "")
	err = r.preflight(ctx)
	if ctx.Err() != nil {
		return nil, ctx.Err() // a probe cut short is no configuration error
	}
	if err != nil {
		return nil, err
	}
	r.ev.Disc = r.disc

	r.browser, err = browser.Launch(cfg.Chromium, browser.ThirdPartyAllowed)
	if err != nil {
		return nil, err
	}
	defer r.browser.Close()
	for _, phases := range []func(context.Context) error{r.mainSession, r.noSession, r.withoutOfflineAccess} {
		err := phases(ctx)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			return nil, err
		}
	}
	if err := timeline.Validate(r.tl.Entries()); err != nil {
		return nil, fmt.Errorf("harness self-check: the timeline breaks its vocabulary: %w", err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	verdicts := judge(&r.ev, cfg.Profile)
	return r.write(verdicts, time.Since(r.started))
}
