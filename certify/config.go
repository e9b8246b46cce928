package certify

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/target"
)

// Profile is how strictly the IdP's choices are judged where the requirement
// catalogue leaves room: how a failed expectation of level should is
// reported (see docs/certify.md).
type Profile string

const (
	// Strict fails a should that fails: the behaviour RFC 9700 and OIDC Core
	// recommend.
	Strict Profile = target.Strict
	// Lenient reports those choices without failing on them.
	Lenient Profile = target.Lenient
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
	// RefreshTokenIdle and RefreshTokenLifetime are the idle expiry and the
	// absolute lifetime the vendor configured its refresh tokens with for
	// the certification (0: not declared, and not checked);
	// RefreshTokensEndWithSession declares that they end with the login
	// session.
	RefreshTokenIdle            time.Duration
	RefreshTokenLifetime        time.Duration
	RefreshTokensEndWithSession bool
	// DPoP: the reference SPA binds its tokens with DPoP in every scenario
	// (--dpop), for an IdP that requires DPoP of public clients.
	DPoP bool
	// Chromium is the browser binary.
	Chromium string
	// AuthorizeParams are added to the reference SPA's authorization
	// requests (--authorize-param k=v); prompt replaces its login's consent.
	AuthorizeParams map[string]string
	// CAFile is a private CA (PEM) the browser and the plain-HTTP checks
	// trust besides the system's roots (--ca).
	CAFile string
	// AllowHosts are the hosts the browser may reach besides the IdP's and
	// the SPA's (--allow-host).
	AllowHosts []string
	// Out is the bundle folder; Out + ".tar.gz" is the archive.
	Out string
	// Version is the suite's version, written to version.txt.
	Version string
}

// Capabilities the reference SPA must declare, and the settings it must map.
var (
	neededCapabilities = []string{"refresh-token", "silent-refresh-code"}
	neededSettings     = []string{"silent-refresh", "silent-refresh-timeout", "login-prompt", "authorize-params"}
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
	if _, err := ParseRedirectBase(c.RedirectBase); err != nil {
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
	if c.DPoP && !m.Has("dpop") {
		return fmt.Errorf("--dpop: %s: the reference SPA does not declare capability dpop", m.File)
	}
	if c.Timeout <= 0 || c.SilentTimeout < time.Second || c.RotationGrace < 0 {
		return fmt.Errorf("--timeout must be positive, --silent-timeout at least 1s and --rotation-grace not negative")
	}
	return c.CheckExpiry()
}

// The expiry checks' margins (scenarios/idp/idp-refresh-idle.yaml and
// idp-refresh-lifetime.yaml): the idle check uses the login's refresh token
// half the idle time after the login and presents the next one the idle
// time plus expiryMargin after that; the lifetime check refreshes every
// quarter of the lifetime and presents the newest token a quarter plus
// expiryMargin after the third. Each use meant to be accepted comes at
// least expiryMargin before the declared limit, each meant to be refused
// expiryMargin after it.
const (
	expiryMargin = 2 * time.Second
	minIdle      = 2 * expiryMargin
	minLifetime  = 4 * expiryMargin
	maxExpiry    = 30 * time.Minute
)

// CheckExpiry refuses declared expiry values the checks cannot judge: too
// short to keep the margins, too long to wait out, or, both declared, one
// that would end a token before the other check is done: the idle check
// must end before the lifetime could refuse its token, and the lifetime
// check's refreshes must come within the idle time of each other.
func (c *Config) CheckExpiry() error {
	idle, life := c.RefreshTokenIdle, c.RefreshTokenLifetime
	for _, d := range []struct {
		flag     string
		v, least time.Duration
	}{{"--refresh-token-idle", idle, minIdle}, {"--refresh-token-lifetime", life, minLifetime}} {
		if d.v != 0 && (d.v < d.least || d.v > maxExpiry) {
			return fmt.Errorf("%s %s: want %s to %s (configure your IdP with short values for the certification; the checks wait them out), or leave it out", d.flag, d.v, d.least, maxExpiry)
		}
	}
	if idle == 0 || life == 0 {
		return nil
	}
	if idleEnd := idle/2 + idle + 2*expiryMargin; idleEnd > life {
		return fmt.Errorf("--refresh-token-idle %s with --refresh-token-lifetime %s: the idle check takes %s from its login (half the idle time, then the idle time and %s), which the lifetime must outlast by %s: configure a lifetime of at least %s, or certify the two in separate runs", idle, life, idle/2+idle+expiryMargin, expiryMargin, expiryMargin, idleEnd)
	}
	if gap := life/4 + 2*expiryMargin; gap > idle {
		return fmt.Errorf("--refresh-token-idle %s with --refresh-token-lifetime %s: the lifetime check refreshes every quarter of the lifetime and waits a quarter and %s more for its last request, which must stay %s within the idle time: configure an idle time of at least %s, or certify the two in separate runs", idle, life, expiryMargin, expiryMargin, gap)
	}
	return nil
}

// ParseRedirectBase checks that the redirect base is an http URL on this
// machine: the suite serves the SPA there itself, and only a loopback http
// origin is a secure context (the Web Crypto API that PKCE needs) without TLS.
func ParseRedirectBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("--redirect-base %q is not an absolute URL", raw)
	}
	if u.Scheme != "http" || !loopbackHost(u.Hostname()) || u.Port() == "" {
		return nil, fmt.Errorf("--redirect-base %q: want http://localhost:<port>/ (or 127.0.0.1): certify serves the reference SPA itself, on this machine", raw)
	}
	// The IdP knows the redirect URIs by their port: port 0 (any free port)
	// would serve the SPA where no registered URI points.
	if port, err := strconv.Atoi(u.Port()); err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("--redirect-base %q: want an explicit port from 1 to 65535, the one registered with the IdP", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--redirect-base %q: a base has no query or fragment", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Base is the redirect base, ending in /.
func (c *Config) Base() string {
	u, _ := ParseRedirectBase(c.RedirectBase)
	return u.String()
}

// AppOrigin is the SPA's origin.
func (c *Config) AppOrigin() string {
	u, _ := ParseRedirectBase(c.RedirectBase)
	return u.Scheme + "://" + u.Host
}

// RedirectURIs are the two URIs to register: the login's and the silent
// refresh's.
func (c *Config) RedirectURIs() []string {
	b := c.Base()
	return []string{b + strings.TrimPrefix(c.Manifest.App.Redirect, "/"), b + strings.TrimPrefix(c.Manifest.SilentPage(), "/")}
}

// Hosts are the hosts the browser may reach: the IdP's, the SPA's and those
// the vendor names.
func (c *Config) Hosts(disc *target.Discovery) []string {
	var out []string
	add := func(raw string) {
		if u, err := url.Parse(raw); err == nil && u.Hostname() != "" && !slices.Contains(out, u.Hostname()) {
			out = append(out, u.Hostname())
		}
	}
	add(c.Issuer)
	add(c.RedirectBase)
	if disc != nil {
		add(disc.AuthorizationEndpoint)
		add(disc.TokenEndpoint)
		add(disc.JWKSURI)
		add(disc.EndSessionEndpoint)
	}
	for _, h := range c.AllowHosts {
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// secretKey names library settings whose values are never written anywhere.
var secretKey = regexp.MustCompile(`(?i)secret|password|credential`)

// redacted is a value the bundle does not hold.
const redacted = "(redacted)"

// Record is the exact configuration of a run as config.json holds it:
// everything that decided the result, with secrets redacted.
type Record struct {
	Issuer          string            `json:"issuer"`
	ClientID        string            `json:"client_id"`
	RedirectBase    string            `json:"redirect_base"`
	RedirectURIs    []string          `json:"redirect_uris"`
	Profile         Profile           `json:"profile"`
	Scope           string            `json:"scope"`
	AuthorizeParams map[string]string `json:"authorize_params,omitempty"`
	CAFile          string            `json:"ca_file,omitempty"`
	AllowHosts      []string          `json:"allow_hosts"`
	Timeout         string            `json:"timeout"`
	SilentTimeout   string            `json:"silent_timeout"`
	RotationGrace   string            `json:"rotation_grace"`
	Reference       string            `json:"reference_spa"`
	Manifest        string            `json:"manifest"`
	Library         map[string]any    `json:"library_config"`
	LoginFile       string            `json:"login_file,omitempty"`
	LoginSteps      []RecordStep      `json:"login_steps"`
	LogoutSteps     []RecordStep      `json:"logout_steps,omitempty"`
	Browser         string            `json:"browser"`
	ThirdParty      string            `json:"third_party_cookies"`
	Scenarios       []string          `json:"scenarios"`
	Clock           string            `json:"clock"`
	Version         string            `json:"version"`

	// The declared expiry of refresh tokens; absent: not declared.
	RefreshTokenIdle            string `json:"refresh_token_idle,omitempty"`
	RefreshTokenLifetime        string `json:"refresh_token_lifetime,omitempty"`
	RefreshTokensEndWithSession bool   `json:"refresh_tokens_end_with_session,omitempty"`
	// DPoP: the SPA bound its tokens with DPoP in every scenario (--dpop).
	DPoP bool `json:"dpop,omitempty"`
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
	Optional   bool   `json:"optional,omitempty"`
}

// onlyEnvRefs reports whether a fill value is nothing but ${NAME} references.
func onlyEnvRefs(v string) bool {
	return v != "" && envRef.ReplaceAllString(v, "") == ""
}

// Record is the configuration as config.json holds it; library is the
// reference SPA's configuration the run used, scenarios the files run.
func (c *Config) Record(library map[string]any, scenarios []string, hosts []string) Record {
	lib := map[string]any{}
	for k, v := range library {
		if secretKey.MatchString(k) {
			v = redacted
		}
		lib[k] = v
	}
	rec := Record{
		Issuer: c.Issuer, ClientID: c.ClientID, RedirectBase: c.Base(),
		RedirectURIs: c.RedirectURIs(), Profile: c.Profile, Scope: c.Scope, AuthorizeParams: c.AuthorizeParams,
		CAFile: c.CAFile, AllowHosts: hosts,
		Timeout: c.Timeout.String(), SilentTimeout: c.SilentTimeout.String(), RotationGrace: c.RotationGrace.String(),
		Reference: c.Manifest.Library.Name + " " + c.Manifest.Library.Version, Manifest: c.Manifest.File,
		Library: lib, Browser: c.Chromium, ThirdParty: "allowed", Scenarios: scenarios, Clock: "real", Version: c.Version,
		LoginSteps: []RecordStep{}, RefreshTokensEndWithSession: c.RefreshTokensEndWithSession, DPoP: c.DPoP,
	}
	if c.RefreshTokenIdle > 0 {
		rec.RefreshTokenIdle = c.RefreshTokenIdle.String()
	}
	if c.RefreshTokenLifetime > 0 {
		rec.RefreshTokenLifetime = c.RefreshTokenLifetime.String()
	}
	if l := c.Login; l != nil {
		rec.LoginFile = l.File
		rec.LoginSteps = recordSteps(l.Steps)
		if len(l.Logout) > 0 {
			rec.LogoutSteps = recordSteps(l.Logout)
		}
	}
	return rec
}

// recordSteps is a section of the login file as config.json holds it.
func recordSteps(steps []LoginStep) []RecordStep {
	out := []RecordStep{}
	for _, st := range steps {
		rs := RecordStep{Line: st.Line, Goto: st.Goto, Click: st.Click, WaitForURL: st.WaitForURL, Optional: st.Optional}
		if st.Fill != nil {
			// A value never leaves memory: a literal one may be a
			// password written into the login file.
			rs.Fill, rs.Value, rs.Redacted = st.Fill.Selector, redacted, true
			if onlyEnvRefs(st.Fill.Value) {
				rs.Value = st.Fill.Value
			}
		}
		out = append(out, rs)
	}
	return out
}
