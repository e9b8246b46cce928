package fakeidp

import (
	"crypto/rsa"
	"fmt"
	"net/url"
	"time"
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
)

// Config describes one provider.
type Config struct {
	// Addr to listen on. Empty means 127.0.0.1:0: loopback only, any free port.
	Addr string
	// Issuer overrides the issuer URL; empty means http://<listen address>.
	Issuer string
	// User is the test user logged in by the first interactive /authorize.
	User User
	// SessionLifetime bounds the login session (the IdP's cookie session).
	SessionLifetime time.Duration
	Clients         []Client
	Faults          []Fault
	// SigningKey signs id_tokens; nil makes a fresh RSA key. Many short-lived
	// providers in one process can share one (an RSA key costs ~100 ms).
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
	Secret       string
	RedirectURIs []string
	// Origins allowed to call /token, /revoke and /userinfo from a browser (CORS).
	Origins              []string
	Scopes               []string
	AccessTokenLifetime  time.Duration
	IDTokenLifetime      time.Duration
	RefreshTokenLifetime time.Duration
	RefreshTokens        RefreshPolicy
	// Rotation: rotate (default, fosite's: every refresh returns a new refresh
	// token and the old one dies, its reuse revoking the chain) or reuse (a
	// weakened IdP: the same refresh token comes back and stays valid).
	Rotation Rotation
	// RotationGrace keeps a rotated refresh token valid this long, as IdPs do
	// for tabs that refresh at the same moment; 0: it dies at once.
	RotationGrace time.Duration
}

// Rotation is a client's refresh-token rotation policy.
type Rotation string

const (
	Rotate Rotation = "rotate"
	Reuse  Rotation = "reuse"
)

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
)

func (c *Config) withDefaults() (Config, error) {
	out := *c
	if out.Addr == "" {
		out.Addr = "127.0.0.1:0"
	}
	if out.User.Subject == "" {
		out.User = DefaultUser
	}
	if out.SessionLifetime == 0 {
		out.SessionLifetime = defaultSessionLifetime
	}
	seen := map[string]bool{}
	out.Clients = make([]Client, len(c.Clients))
	for i, cl := range c.Clients {
		if cl.ID == "" {
			return out, fmt.Errorf("client %d: id is empty", i+1)
		}
		if seen[cl.ID] {
			return out, fmt.Errorf("client %q: defined twice", cl.ID)
		}
		seen[cl.ID] = true
		for _, u := range append(append([]string{}, cl.RedirectURIs...), cl.Origins...) {
			if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
				return out, fmt.Errorf("client %q: %q is not an absolute URL", cl.ID, u)
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
		for _, d := range []time.Duration{cl.AccessTokenLifetime, cl.IDTokenLifetime, cl.RefreshTokenLifetime} {
			if d < time.Second {
				return out, fmt.Errorf("client %q: token lifetimes must be at least 1s, got %s", cl.ID, d)
			}
		}
		switch cl.Rotation {
		case "":
			cl.Rotation = Rotate
		case Rotate, Reuse:
		default:
			return out, fmt.Errorf("client %q: rotation %q is not rotate or reuse", cl.ID, cl.Rotation)
		}
		if cl.RotationGrace < 0 || (cl.RotationGrace > 0 && cl.Rotation == Reuse) {
			return out, fmt.Errorf("client %q: a rotation grace needs rotation rotate and a positive duration", cl.ID)
		}
		switch cl.RefreshTokens {
		case "":
			cl.RefreshTokens = Strict
		case Strict, Always, Never:
		default:
			return out, fmt.Errorf("client %q: refresh token policy %q is not strict, always or never", cl.ID, cl.RefreshTokens)
		}
		out.Clients[i] = cl
	}
	for i, f := range c.Faults {
		if err := f.validate(); err != nil {
			return out, fmt.Errorf("fault %d: %w", i+1, err)
		}
	}
	return out, nil
}
