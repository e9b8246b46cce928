package certify

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/fixtures"
)

// Profile is how strictly the IdP's choices are judged where the requirement
// catalogue leaves room (see docs/certify.md).
type Profile string

const (
	// Strict requires the behaviour RFC 9700 and OIDC Core recommend.
	Strict Profile = "strict"
	// Lenient reports those choices without failing on them.
	Lenient Profile = "lenient"
)

// DefaultScope asks for a refresh token the way an SPA does.
const DefaultScope = "openid profile offline_access"

// Defaults of the timeouts.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultSilentTimeout = 10 * time.Second
)

// Config is one certification run.
type Config struct {
	// Issuer is the IdP's issuer, exactly as its discovery document writes it.
	Issuer   string
	ClientID string
	// RedirectBase is where the reference SPA is served; its redirect URIs are
	// RedirectBase + the manifest's redirect and silent-redirect pages.
	RedirectBase string
	Profile      Profile
	// Login is the login file; nil when the IdP logs the user in by itself.
	Login *Login
	// Manifest is the reference SPA's client manifest.
	Manifest *fixtures.Manifest
	// Scope is what the SPA asks for; it must contain offline_access.
	Scope string
	// Timeout bounds a login (steps and the way back to the app) and each
	// navigation the harness waits for.
	Timeout time.Duration
	// SilentTimeout is the library's silent-refresh timeout and how long a
	// prompt=none request may take to come back.
	SilentTimeout time.Duration
	// RotationGrace is how long the IdP keeps a rotated refresh token valid
	// (for tabs that refresh at the same moment); the replay waits it out.
	RotationGrace time.Duration
	// Chromium is the browser binary.
	Chromium string
	// Out is the bundle folder; Out + ".tar.gz" is the archive.
	Out string
	// Version is the suite's version, written to version.txt.
	Version string
}

// Capabilities the reference SPA must declare, and the settings it must map.
var (
	neededCapabilities = []string{"refresh-token", "silent-refresh-code"}
	neededSettings     = []string{"silent-refresh", "silent-refresh-timeout"}
	neededDriver       = []string{"login", "refreshToken", "silentRefresh", "tokens"}
)

// Check validates the configuration before anything runs; the error is one line.
func (c *Config) Check() error {
	if c.Issuer == "" || c.ClientID == "" || c.RedirectBase == "" {
		return fmt.Errorf("--issuer, --client-id and --redirect-base are required")
	}
	if !strings.HasPrefix(c.Issuer, "https://") && !strings.HasPrefix(c.Issuer, "http://") {
		return fmt.Errorf("--issuer %q is not an http(s) URL", c.Issuer)
	}
	if _, err := parseRedirectBase(c.RedirectBase); err != nil {
		return err
	}
	if c.Profile != Strict && c.Profile != Lenient {
		return fmt.Errorf("--profile: want strict or lenient, got %q", c.Profile)
	}
	if !slices.Contains(strings.Fields(c.Scope), "offline_access") || !slices.Contains(strings.Fields(c.Scope), "openid") {
		return fmt.Errorf("--scope %q: the certification needs openid and offline_access", c.Scope)
	}
	m := c.Manifest
	for _, name := range neededCapabilities {
		if !m.Has(name) {
			return fmt.Errorf("%s: the reference SPA must declare capability %s", m.File, name)
		}
	}
	for _, s := range neededSettings {
		if _, ok := m.Config.Settings[s]; !ok {
			return fmt.Errorf("%s: the reference SPA must map config.settings.%s", m.File, s)
		}
	}
	for _, fn := range neededDriver {
		if !m.Drives(fn) {
			return fmt.Errorf("%s: the reference SPA must register driver function %s", m.File, fn)
		}
	}
	if c.Timeout <= 0 || c.SilentTimeout < time.Second || c.RotationGrace < 0 {
		return fmt.Errorf("--timeout must be positive, --silent-timeout at least 1s and --rotation-grace not negative")
	}
	return nil
}

// withoutOfflineAccess is the scope for the IDP-OA-2 login.
func withoutOfflineAccess(scope string) string {
	var out []string
	for _, s := range strings.Fields(scope) {
		if s != "offline_access" {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// secretKey names library settings whose values are never written anywhere.
var secretKey = regexp.MustCompile(`(?i)secret|password|credential`)

// redacted is a value the bundle does not hold.
const redacted = "(redacted)"

// Record is the exact configuration of a run as config.json holds it:
// everything that decided the result, with secrets redacted.
type Record struct {
	Issuer        string         `json:"issuer"`
	ClientID      string         `json:"client_id"`
	RedirectBase  string         `json:"redirect_base"`
	RedirectURIs  []string       `json:"redirect_uris"`
	Profile       Profile        `json:"profile"`
	Scope         string         `json:"scope"`
	Timeout       string         `json:"timeout"`
	SilentTimeout string         `json:"silent_timeout"`
	RotationGrace string         `json:"rotation_grace"`
	Reference     string         `json:"reference_spa"`
	Manifest      string         `json:"manifest"`
	Library       map[string]any `json:"library_config"`
	LoginFile     string         `json:"login_file,omitempty"`
	LoginSteps    []RecordStep   `json:"login_steps"`
	Browser       string         `json:"browser"`
	ThirdParty    string         `json:"third_party_cookies"`
	Clock         string         `json:"clock"`
	Version       string         `json:"version"`
}

// RecordStep is a login step as written, except a fill's value, which is
// always redacted: a value made only of ${NAME} references is shown as
// written (the names, never their values), any other as "(redacted)".
type RecordStep struct {
	Line       int    `json:"line"`
	Goto       string `json:"goto,omitempty"`
	Fill       string `json:"fill,omitempty"`
	Value      string `json:"value,omitempty"`
	Redacted   bool   `json:"redacted,omitempty"`
	Click      string `json:"click,omitempty"`
	WaitForURL string `json:"wait-for-url,omitempty"`
}

// onlyEnvRefs reports whether a fill value is nothing but ${NAME} references.
func onlyEnvRefs(v string) bool {
	return v != "" && envRef.ReplaceAllString(v, "") == ""
}

func (r *runner) record() Record {
	lib := map[string]any{}
	for k, v := range r.library {
		if secretKey.MatchString(k) {
			v = redacted
		}
		lib[k] = v
	}
	rec := Record{
		Issuer: r.cfg.Issuer, ClientID: r.cfg.ClientID, RedirectBase: r.app.base,
		RedirectURIs: []string{r.redirectURI, r.silentURI}, Profile: r.cfg.Profile, Scope: r.cfg.Scope,
		Timeout: r.cfg.Timeout.String(), SilentTimeout: r.cfg.SilentTimeout.String(), RotationGrace: r.cfg.RotationGrace.String(),
		Reference: r.cfg.Manifest.Library.Name + " " + r.cfg.Manifest.Library.Version, Manifest: r.cfg.Manifest.File,
		Library: lib, Browser: r.cfg.Chromium, ThirdParty: "allowed", Clock: "real", Version: r.cfg.Version,
		LoginSteps: []RecordStep{},
	}
	if l := r.cfg.Login; l != nil {
		rec.LoginFile = l.File
		for _, st := range l.Steps {
			rs := RecordStep{Line: st.Line, Goto: st.Goto, Click: st.Click, WaitForURL: st.WaitForURL}
			if st.Fill != nil {
				// A value never leaves memory: a literal one may be a
				// password written into the login file.
				rs.Fill, rs.Value, rs.Redacted = st.Fill.Selector, redacted, true
				if onlyEnvRefs(st.Fill.Value) {
					rs.Value = st.Fill.Value
				}
			}
			rec.LoginSteps = append(rec.LoginSteps, rs)
		}
	}
	return rec
}
