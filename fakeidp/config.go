package fakeidp

import (
	"crypto/rsa"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/tlsca"
	"github.com/refreshsuite/refreshsuite/vocab"
)

// RefreshPolicy says when the IdP issues a refresh token.
type RefreshPolicy string

const (
	// Strict issues a refresh token only when offline_access was granted.
	Strict RefreshPolicy = "strict"
	// Always issues one whatever the scope (a lenient IdP).
	Always RefreshPolicy = "always"
	// Never issues none; the refresh_token grant is refused.
	Never RefreshPolicy = "never"
	// Consent grants offline_access, and so a refresh token, only to an
	// authorization request whose prompt holds consent, as OpenID Connect
	// Core 11 lets an OP require (OpenID Certified providers do): asked
	// without it, offline_access is left out of the granted scope.
	Consent RefreshPolicy = "consent"
)

// Layout is where the provider serves its endpoints: the paths a client
// library builds when it does not read a discovery document.
type Layout string

const (
	// LayoutDiscovery serves /authorize, /token, /revoke, /userinfo,
	// /end-session and /jwks, found through the discovery document.
	LayoutDiscovery Layout = "discovery"
	// LayoutAuth0 serves the paths @auth0/auth0-spa-js builds from its domain
	// (/authorize, /oauth/token, /oauth/revoke, /v2/logout) and the rest of
	// Auth0's (/userinfo, /oidc/logout, /.well-known/jwks.json).
	LayoutAuth0 Layout = "auth0"
	// LayoutKeycloak serves a Keycloak realm:
	// /realms/<realm>/protocol/openid-connect/{auth,token,logout,...}, with
	// the issuer /realms/<realm>, as keycloak-js builds it from a realm URL.
	LayoutKeycloak Layout = "keycloak"
)

// Layouts lists the layouts, for messages and flags.
var Layouts = []Layout{LayoutDiscovery, LayoutAuth0, LayoutKeycloak}

// TokenFormat is how an access or refresh token looks to the client.
type TokenFormat string

const (
	// Opaque tokens are fosite's HMAC tokens: a client can only hand them on.
	Opaque TokenFormat = "opaque"
	// JWT access tokens follow RFC 9068 (typ at+jwt); JWT refresh tokens are
	// signed JWTs as Keycloak issues them, for libraries that decode them.
	JWT TokenFormat = "jwt"
)

// ResponseMode is how /authorize hands its result back to the client.
type ResponseMode string

const (
	ModeQuery    ResponseMode = "query"
	ModeFragment ResponseMode = "fragment"
	ModeFormPost ResponseMode = "form_post"
	// ModeWebMessage is Auth0's: a page that posts {type:
	// "authorization_response", response: {...}} to the opener or parent.
	ModeWebMessage ResponseMode = "web_message"
	// ModeOktaPostMessage is Okta's: a page that posts the response's
	// parameters as one object to the parent or opener.
	ModeOktaPostMessage ResponseMode = "okta_post_message"
)

// ResponseModes lists every response mode the provider can deliver.
var ResponseModes = []ResponseMode{ModeQuery, ModeFragment, ModeFormPost, ModeWebMessage, ModeOktaPostMessage}

// DefaultResponseModes are a client's modes unless it says otherwise: what
// fosite delivers by itself.
var DefaultResponseModes = []ResponseMode{ModeQuery, ModeFragment, ModeFormPost}

// Config describes one provider. A zero value means the default named in its
// comment; ranges are checked by Validate (and Start).
type Config struct {
	// Addr to listen on, host:port with a numeric port 0-65535 (0: any free
	// port). Empty means 127.0.0.1:0. A host that is not loopback is refused
	// unless ListenPublic is set: the provider logs anyone in as the test user.
	Addr         string
	ListenPublic bool
	// HTTPS serves TLS with a leaf certificate from CA; false serves plain http.
	HTTPS bool
	// CA issues the leaf for HTTPS; nil means tlsca.Shared(), the CA the
	// suite's Chromium is told to trust.
	CA *tlsca.CA
	// Host is the host name in the issuer: empty means the listening IP;
	// "localhost" puts the IdP on the same site as an app on localhost.
	Host string
	// Issuer overrides the issuer, exactly as given (a trailing slash stays):
	// for a provider reached through a proxy. Its path must be the layout's
	// (none, or /realms/<realm>). Empty means <scheme>://<host>:<port> plus
	// the layout's path.
	Issuer string
	// IssuerTrailingSlash ends the issuer with "/" (Auth0's form, which
	// auth0-spa-js expects in every id_token's iss).
	IssuerTrailingSlash bool
	// Layout of the endpoints; empty means LayoutDiscovery.
	Layout Layout
	// Realm names the Keycloak realm (LayoutKeycloak only): letters, digits,
	// "-", "_" and "."; empty means "refreshsuite".
	Realm string
	// CORSMaxAge is the Access-Control-Max-Age of every preflight answer, in
	// whole seconds from 0 to 2h (Chromium's cap). 0 (the default) means no
	// caching: each request that needs a preflight gets its own, however long
	// the run takes in wall time (Chromium counts the age on the wall clock,
	// so any other value makes the number of preflights a scenario sees depend
	// on the machine's speed).
	CORSMaxAge time.Duration
	// User is the test user logged in by the first interactive /authorize.
	User User
	// SessionLifetime bounds the login session (the IdP's cookie session),
	// 1s to 365 days; 0 means 1h.
	SessionLifetime time.Duration
	// Clients: at least one.
	Clients []Client
	Faults  []vocab.Fault
	// ClockSkew sets the provider's clock this far ahead of the scenario
	// clock (the page's), or behind it when negative, at most MaxClockSkew
	// either way: every time it writes into a token (iat, exp, auth_time)
	// and every expiry it judges (tokens, codes, sessions, rotation graces,
	// hints) is on its own clock. The timeline still stamps its entries on
	// the scenario clock, so they line up with the page's. 0: no skew.
	ClockSkew time.Duration
	// OmitIss leaves RFC 9207's iss out of authorization responses, and
	// authorization_response_iss_parameter_supported out of discovery, as
	// providers before RFC 9207 do. By default every authorization response
	// (success or error) carries the issuer, as current providers' do.
	OmitIss bool
	// SigningKey signs id_tokens and JWT tokens; nil makes a fresh RSA key.
	// Many short-lived providers in one process can share one (an RSA key
	// costs ~100 ms).
	SigningKey *rsa.PrivateKey
}

// User is the single test user.
type User struct {
	Subject string
	Name    string
	Email   string
}

// Client is the per-client policy of the provider.
type Client struct {
	ID string
	// Secret empty means a public client (an SPA): PKCE S256 required.
	Secret string
	// RedirectURIs are absolute http(s) URLs without a fragment, matched
	// exactly: at least one.
	RedirectURIs []string
	// PostLogoutRedirectURIs are where /end-session may send the user back,
	// matched exactly; nil means the redirect URIs (Keycloak's "+").
	PostLogoutRedirectURIs []string
	// Origins allowed to call the token, revocation and userinfo endpoints
	// from a browser (CORS, with credentials): scheme://host[:port].
	Origins []string
	Scopes  []string
	// AccessTokenLifetime and RefreshTokenLifetime: 1s to 365 days; 0 means
	// 5m and 24h. IDTokenLifetime: 0 means the access token's.
	AccessTokenLifetime time.Duration
	IDTokenLifetime     time.Duration
	// RefreshTokenLifetime is absolute: a refresh token family (the tokens
	// one login's refresh tokens rotate into) ends this long after the
	// login's code exchange, however often it is used, as Auth0's absolute
	// lifetime and Keycloak's SSO Session Max end it.
	RefreshTokenLifetime time.Duration
	// RefreshTokenIdle expires a refresh token not used for this long: each
	// refresh issues a token that starts it again (Auth0's inactivity
	// lifetime, Keycloak's SSO Session Idle). 0: none; else 1s up to the
	// refresh-token lifetime.
	RefreshTokenIdle time.Duration
	// RefreshTokensEndWithSession refuses (invalid_grant) a refresh token
	// once the login session its authorization was granted in has ended:
	// logged out at the end-session endpoint, ended (EndSessions) or past
	// its lifetime. Off, refresh tokens outlive the session, as offline
	// access allows (OpenID Connect Core 11).
	RefreshTokensEndWithSession bool
	RefreshTokens               RefreshPolicy
	// Rotation: rotate (default, fosite's: every refresh returns a new refresh
	// token and the old one dies, its reuse revoking the chain), reuse (a
	// weakened IdP: the same refresh token comes back and stays valid) or
	// unbound (rotate only a family not bound to a DPoP key).
	Rotation Rotation
	// RotationGrace keeps a rotated refresh token valid this long (0 to 1h),
	// as IdPs do for tabs that refresh at the same moment; 0: it dies at once.
	// With unbound it applies to the families that rotate.
	RotationGrace time.Duration
	// DPoP is the client's RFC 9449 policy (dpop.go); empty means DPoPOff.
	DPoP DPoPMode
	// DPoPNonce (with DPoP bind or require) demands the provider's own nonce
	// in every token request's proof (RFC 9449 section 8): a proof without
	// it, or with another, is answered use_dpop_nonce with the nonce in the
	// DPoP-Nonce header, which every answer of the token endpoint carries.
	DPoPNonce bool
	// ReuseEndsSessions makes reuse detection end every login session too,
	// as an IdP that revokes the user's grant on a replayed refresh token
	// does (node oidc-provider's revokeGrantPolicy): prompt=none then gets
	// login_required.
	ReuseEndsSessions bool
	// AccessTokenFormat and RefreshTokenFormat: empty means Opaque.
	AccessTokenFormat  TokenFormat
	RefreshTokenFormat TokenFormat
	// ResponseModes the client may ask for; nil means DefaultResponseModes.
	ResponseModes []ResponseMode
}

// Rotation is a client's refresh-token rotation policy.
type Rotation string

const (
	Rotate Rotation = "rotate"
	Reuse  Rotation = "reuse"
	// Unbound rotates only refresh tokens not bound to a DPoP key: a bound
	// one comes back unchanged and stays valid, its key being what protects
	// it (RFC 9700 section 4.14.2 allows either). It is node oidc-provider's
	// default for public clients, which rotates a refresh token only when it
	// is not sender-constrained.
	Unbound Rotation = "unbound"
)

// Rotations lists the rotation policies, for messages and flags.
var Rotations = []Rotation{Rotate, Reuse, Unbound}

// DPoPMode is how the provider treats RFC 9449 proofs from a client.
type DPoPMode string

const (
	// DPoPOff advertises nothing and ignores a DPoP header as any unknown
	// header: tokens are Bearer.
	DPoPOff DPoPMode = "off"
	// DPoPBind verifies every proof sent to the token endpoint, refusing a
	// bad one; with a valid one the access token is DPoP, and a public
	// client's refresh token family is bound to the key at its code
	// exchange (RFC 9449 section 5). No proof: Bearer, unbound.
	DPoPBind DPoPMode = "bind"
	// DPoPRequire is DPoPBind refusing a token request without a proof, as
	// for a client registered with dpop_bound_access_tokens (section 5.2).
	DPoPRequire DPoPMode = "require"
	// DPoPIgnore is a defective provider: it advertises DPoP and answers
	// token_type DPoP when a proof came, but checks and binds nothing, so a
	// bound token works without a proof or with another key's.
	DPoPIgnore DPoPMode = "ignore"
)

// DPoPModes lists the modes, for messages and flags.
var DPoPModes = []DPoPMode{DPoPOff, DPoPBind, DPoPRequire, DPoPIgnore}

// Defaults used where a Config leaves a value empty.
var (
	DefaultUser = User{Subject: "alice", Name: "Alice Example", Email: "alice@example.test"}
	// DefaultScopes are the scopes a client may ask for unless it says otherwise.
	DefaultScopes = []string{"openid", "profile", "email", "offline_access"}
)

const (
	defaultSessionLifetime = time.Hour
	defaultAccessLifetime  = 5 * time.Minute
	defaultRefreshLifetime = 24 * time.Hour
	defaultRealm           = "refreshsuite"

	// MinLifetime and MaxLifetime bound every token and session lifetime.
	// Below a second, expires_in (whole seconds) cannot say it; above a year,
	// fosite's own wall-clock lifespans (internalLifespan) would end first.
	MinLifetime = time.Second
	MaxLifetime = 365 * 24 * time.Hour
	// MaxRotationGrace bounds a rotation grace: IdPs give seconds.
	MaxRotationGrace = time.Hour
	// MaxCORSMaxAge is Chromium's cap on a cached preflight.
	MaxCORSMaxAge = 2 * time.Hour
	// MaxClockSkew bounds the provider's clock skew: a day is past every
	// client's tolerance, so more would test nothing new.
	MaxClockSkew = 24 * time.Hour
)

// ConfigError is a problem with one setting, named by its key in the IdP
// file format (docs/idp.example.yaml), such as clients[2].redirect-uris[1], so
// that a loader can point at the line that set it.
type ConfigError struct {
	Key string
	Msg string
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Msg }

func cfgErr(key, format string, args ...any) *ConfigError {
	return &ConfigError{Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Validate runs every check Start runs, without listening or making keys.
// Errors are *ConfigError.
func (c Config) Validate() error {
	_, err := c.withDefaults()
	return err
}

var realmName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.Addr == "" {
		out.Addr = "127.0.0.1:0"
	}
	if err := out.checkListen(); err != nil {
		return out, err
	}
	switch out.Layout {
	case "":
		out.Layout = LayoutDiscovery
	case LayoutDiscovery, LayoutAuth0, LayoutKeycloak:
	default:
		return out, cfgErr("layout", "%q is not one of %s", out.Layout, join(Layouts))
	}
	switch {
	case out.Layout == LayoutKeycloak && out.Realm == "":
		out.Realm = defaultRealm
	case out.Layout != LayoutKeycloak && out.Realm != "":
		return out, cfgErr("realm", "only the keycloak layout has realms (layout is %s)", out.Layout)
	case out.Realm != "" && !realmName.MatchString(out.Realm):
		return out, cfgErr("realm", "%q: use 1 to 64 letters, digits, '-', '_' or '.'", out.Realm)
	}
	if out.Issuer != "" {
		if err := out.checkIssuer(); err != nil {
			return out, err
		}
	}
	if out.CORSMaxAge < 0 || out.CORSMaxAge > MaxCORSMaxAge || out.CORSMaxAge%time.Second != 0 {
		return out, cfgErr("cors-max-age", "want whole seconds from 0s to %s (Chromium's cap), got %s", MaxCORSMaxAge, out.CORSMaxAge)
	}
	if out.ClockSkew < -MaxClockSkew || out.ClockSkew > MaxClockSkew {
		return out, cfgErr("clock-skew", "want -%s to %s, got %s", MaxClockSkew, MaxClockSkew, out.ClockSkew)
	}
	switch {
	case out.User == User{}:
		out.User = DefaultUser
	case strings.TrimSpace(out.User.Subject) == "":
		return out, cfgErr("user.subject", "the test user needs a subject (the sub claim)")
	}
	if out.SessionLifetime == 0 {
		out.SessionLifetime = defaultSessionLifetime
	}
	if err := checkLifetime("session-lifetime", out.SessionLifetime); err != nil {
		return out, err
	}
	if len(c.Clients) == 0 {
		return out, cfgErr("clients", "configure at least one client")
	}
	seen := map[string]bool{}
	out.Clients = make([]Client, len(c.Clients))
	for i, cl := range c.Clients {
		key := fmt.Sprintf("clients[%d]", i+1)
		if err := cl.withDefaults(key, seen); err != nil {
			return out, err
		}
		out.Clients[i] = cl
	}
	for i, f := range c.Faults {
		if err := f.Validate(); err != nil {
			return out, cfgErr(fmt.Sprintf("faults[%d].%s", i+1, err.Key), "%s", err.Msg)
		}
	}
	return out, nil
}

// checkListen refuses an address that is not host:port with a port in range,
// and one that is not loopback unless the provider is allowed to be public.
func (c *Config) checkListen() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return cfgErr("addr", "%q is not host:port", c.Addr)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return cfgErr("addr", "port %q is not a number from 0 to 65535 (0: any free port)", port)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if !loopback && !c.ListenPublic {
		return cfgErr("addr", "%s is not a loopback address; the IdP logs anyone in as the test user, so it listens on loopback (127.0.0.1) unless you allow it explicitly (public)", c.Addr)
	}
	if host != "localhost" && ip == nil && host != "" {
		return cfgErr("addr", "host %q is not an IP address or localhost", host)
	}
	if c.Host == "" && (host == "" || (ip != nil && ip.IsUnspecified())) && c.Issuer == "" {
		return cfgErr("addr", "listening on every interface (%s) needs host: the name clients reach the IdP by", c.Addr)
	}
	if c.Host != "" {
		if c.Issuer != "" {
			return cfgErr("host", "set either host or issuer, not both (the issuer names its host)")
		}
		hip := net.ParseIP(c.Host)
		switch {
		case c.Host != "localhost" && hip == nil && !hostName.MatchString(c.Host):
			return cfgErr("host", "%q is not a host name or IP address", c.Host)
		case !c.ListenPublic && c.Host != "localhost" && (hip == nil || !hip.IsLoopback()):
			return cfgErr("host", "%q is not loopback; only a public IdP (public) has another name", c.Host)
		}
	}
	return nil
}

var hostName = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// checkIssuer accepts an override that serves the layout's paths: its path is
// the layout's issuer path, with or without a trailing slash.
func (c *Config) checkIssuer() error {
	if c.IssuerTrailingSlash {
		return cfgErr("issuer-trailing-slash", "an issuer given in full carries its own trailing slash; leave issuer-trailing-slash out")
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return cfgErr("issuer", "%q is not an http(s) URL without query or fragment", c.Issuer)
	}
	want := issuerPath(c.Layout, c.Realm)
	if got := strings.TrimSuffix(u.Path, "/"); got != want {
		return cfgErr("issuer", "the %s layout's issuer has the path %q, got %q", c.Layout, want, u.Path)
	}
	return nil
}

func (cl *Client) withDefaults(key string, seen map[string]bool) error {
	switch {
	case cl.ID == "":
		return cfgErr(key+".id", "id is empty")
	case strings.ContainsFunc(cl.ID, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return cfgErr(key+".id", "%q has spaces or control characters", cl.ID)
	case seen[cl.ID]:
		return cfgErr(key+".id", "client %q is defined twice", cl.ID)
	}
	seen[cl.ID] = true
	if len(cl.RedirectURIs) == 0 {
		return cfgErr(key+".redirect-uris", "client %q needs at least one redirect URI", cl.ID)
	}
	for j, u := range cl.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return cfgErr(fmt.Sprintf("%s.redirect-uris[%d]", key, j+1), "%s", err)
		}
	}
	if cl.PostLogoutRedirectURIs == nil {
		cl.PostLogoutRedirectURIs = cl.RedirectURIs
	}
	for j, u := range cl.PostLogoutRedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return cfgErr(fmt.Sprintf("%s.post-logout-redirect-uris[%d]", key, j+1), "%s", err)
		}
	}
	for j, o := range cl.Origins {
		if err := checkOrigin(o); err != nil {
			return cfgErr(fmt.Sprintf("%s.origins[%d]", key, j+1), "%s", err)
		}
	}
	if len(cl.Scopes) == 0 {
		cl.Scopes = DefaultScopes
	}
	if cl.AccessTokenLifetime == 0 {
		cl.AccessTokenLifetime = defaultAccessLifetime
	}
	if cl.IDTokenLifetime == 0 {
		cl.IDTokenLifetime = cl.AccessTokenLifetime
	}
	if cl.RefreshTokenLifetime == 0 {
		cl.RefreshTokenLifetime = defaultRefreshLifetime
	}
	for _, l := range []struct {
		name string
		d    time.Duration
	}{{"access-token-lifetime", cl.AccessTokenLifetime}, {"id-token-lifetime", cl.IDTokenLifetime}, {"refresh-token-lifetime", cl.RefreshTokenLifetime}} {
		if err := checkLifetime(key+"."+l.name, l.d); err != nil {
			return err
		}
	}
	switch {
	case cl.RefreshTokenIdle == 0:
	case cl.RefreshTokenIdle < MinLifetime:
		return cfgErr(key+".refresh-token-idle", "an idle expiry must be at least %s (0s: none), got %s", MinLifetime, cl.RefreshTokenIdle)
	case cl.RefreshTokenIdle > cl.RefreshTokenLifetime:
		return cfgErr(key+".refresh-token-idle", "%s is longer than the refresh-token lifetime (%s), which ends every refresh token first", cl.RefreshTokenIdle, cl.RefreshTokenLifetime)
	}
	switch {
	case cl.Rotation == "":
		cl.Rotation = Rotate
	case !slices.Contains(Rotations, cl.Rotation):
		return cfgErr(key+".rotation", "%q is not one of %s", cl.Rotation, join(Rotations))
	}
	switch {
	case cl.RotationGrace < 0 || cl.RotationGrace > MaxRotationGrace:
		return cfgErr(key+".rotation-grace", "want 0s to %s, got %s", MaxRotationGrace, cl.RotationGrace)
	case cl.RotationGrace > 0 && cl.Rotation == Reuse:
		return cfgErr(key+".rotation-grace", "a rotation grace needs rotation rotate or unbound")
	}
	switch {
	case cl.DPoP == "":
		cl.DPoP = DPoPOff
	case !slices.Contains(DPoPModes, cl.DPoP):
		return cfgErr(key+".dpop", "%q is not one of %s", cl.DPoP, join(DPoPModes))
	}
	if cl.DPoPNonce && !cl.DPoP.checks() {
		return cfgErr(key+".dpop-nonce", "a DPoP nonce needs dpop bind or require (dpop is %s)", cl.DPoP)
	}
	switch cl.RefreshTokens {
	case "":
		cl.RefreshTokens = Strict
	case Strict, Always, Never, Consent:
	default:
		return cfgErr(key+".refresh-tokens", "%q is not strict, always, never or consent", cl.RefreshTokens)
	}
	for _, f := range []struct {
		name string
		v    *TokenFormat
	}{{"access-token-format", &cl.AccessTokenFormat}, {"refresh-token-format", &cl.RefreshTokenFormat}} {
		switch *f.v {
		case "":
			*f.v = Opaque
		case Opaque, JWT:
		default:
			return cfgErr(key+"."+f.name, "%q is not opaque or jwt", *f.v)
		}
	}
	if cl.ResponseModes == nil {
		cl.ResponseModes = DefaultResponseModes
	}
	for j, m := range cl.ResponseModes {
		k := fmt.Sprintf("%s.response-modes[%d]", key, j+1)
		if !slices.Contains(ResponseModes, m) {
			return cfgErr(k, "%q is not one of %s", m, join(ResponseModes))
		}
		if slices.Contains(cl.ResponseModes[:j], m) {
			return cfgErr(k, "%s is listed twice", m)
		}
	}
	return nil
}

func checkLifetime(key string, d time.Duration) error {
	if d < MinLifetime || d > MaxLifetime {
		what := "token lifetimes"
		if key == "session-lifetime" {
			what = "the session lifetime"
		}
		return cfgErr(key, "%s must be at least %s and at most %s, got %s", what, MinLifetime, fmtDuration(MaxLifetime), d)
	}
	return nil
}

// fmtDuration says a year as people do, not as 8760h0m0s.
func fmtDuration(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	return d.String()
}

// checkRedirectURI accepts what an SPA can be sent back to: an absolute http
// or https URL with no fragment (RFC 6749 3.1.2) and no credentials in it.
func checkRedirectURI(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme == "" || u.Host == "":
		return fmt.Errorf("%q is not an absolute URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q is not an http or https URL", s)
	case u.Fragment != "" || strings.Contains(s, "#"):
		return fmt.Errorf("%q has a fragment, which a redirect URI must not have", s)
	case u.User != nil:
		return fmt.Errorf("%q carries credentials", s)
	}
	return nil
}

// checkOrigin accepts scheme://host[:port], optionally with a slash.
func checkOrigin(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Scheme == "" || u.Host == "":
		return fmt.Errorf("%q is not an absolute URL", s)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q is not an http or https origin", s)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%q is not an origin (scheme://host[:port], nothing after)", s)
	}
	return nil
}

// join lists names for a message: "a, b, c".
func join[T ~string](names []T) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	return strings.Join(s, ", ")
}
