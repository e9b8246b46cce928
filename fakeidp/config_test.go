package fakeidp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/vocab"
)

// Every setting Start refuses, Validate refuses too, naming the setting by
// its key so a loader can point at the line.
func TestConfigErrors(t *testing.T) {
	ok := Client{ID: "spa", RedirectURIs: []string{redirect}, Origins: []string{appOrigin}}
	with := func(f func(*Client)) []Client { c := ok; f(&c); return []Client{c} }
	for _, tc := range []struct {
		cfg       Config
		key, want string
	}{
		{Config{}, "clients", "at least one client"},
		{Config{Clients: with(func(c *Client) { c.ID = "" })}, "clients[1].id", "id is empty"},
		{Config{Clients: []Client{ok, ok}}, "clients[2].id", `client "spa" is defined twice`},
		{Config{Clients: with(func(c *Client) { c.RedirectURIs = nil })}, "clients[1].redirect-uris", "at least one redirect URI"},
		{Config{Clients: with(func(c *Client) { c.RedirectURIs = []string{redirect, "/relative"} })}, "clients[1].redirect-uris[2]", "not an absolute URL"},
		{Config{Clients: with(func(c *Client) { c.RedirectURIs = []string{"javascript://x/%0aalert(1)"} })}, "clients[1].redirect-uris[1]", "not an http or https URL"},
		{Config{Clients: with(func(c *Client) { c.RedirectURIs = []string{redirect + "#x"} })}, "clients[1].redirect-uris[1]", "fragment"},
		{Config{Clients: with(func(c *Client) { c.PostLogoutRedirectURIs = []string{"data:text/html,x"} })}, "clients[1].post-logout-redirect-uris[1]", "not an absolute URL"},
		{Config{Clients: with(func(c *Client) { c.Origins = []string{appOrigin + "/app"} })}, "clients[1].origins[1]", "not an origin"},
		{Config{Clients: with(func(c *Client) { c.AccessTokenLifetime = time.Millisecond })}, "clients[1].access-token-lifetime", "at least 1s"},
		{Config{Clients: with(func(c *Client) { c.RefreshTokenLifetime = -time.Second })}, "clients[1].refresh-token-lifetime", "at least 1s"},
		{Config{Clients: with(func(c *Client) { c.IDTokenLifetime = 400 * 24 * time.Hour })}, "clients[1].id-token-lifetime", "at most 365 days"},
		{Config{Clients: with(func(c *Client) { c.RefreshTokenIdle = time.Millisecond })}, "clients[1].refresh-token-idle", "at least 1s (0s: none)"},
		{Config{Clients: with(func(c *Client) { c.RefreshTokenIdle = -time.Second })}, "clients[1].refresh-token-idle", "at least 1s"},
		{Config{Clients: with(func(c *Client) { c.RefreshTokenIdle, c.RefreshTokenLifetime = 2*time.Hour, time.Hour })}, "clients[1].refresh-token-idle", "longer than the refresh-token lifetime (1h0m0s)"},
		{Config{Clients: with(func(c *Client) { c.RefreshTokens = "sometimes" })}, "clients[1].refresh-tokens", "not strict, always, never or consent"},
		{Config{Clients: with(func(c *Client) { c.Rotation = "spin" })}, "clients[1].rotation", `"spin" is not one of rotate, reuse, unbound`},
		{Config{Clients: with(func(c *Client) { c.RotationGrace = 2 * time.Hour })}, "clients[1].rotation-grace", "0s to 1h0m0s"},
		{Config{Clients: with(func(c *Client) { c.Rotation, c.RotationGrace = Reuse, time.Second })}, "clients[1].rotation-grace", "needs rotation rotate"},
		{Config{Clients: with(func(c *Client) { c.DPoP = "on" })}, "clients[1].dpop", `"on" is not one of off, bind, require, ignore`},
		{Config{Clients: with(func(c *Client) { c.AccessTokenFormat = "paseto" })}, "clients[1].access-token-format", "not opaque or jwt"},
		{Config{Clients: with(func(c *Client) { c.ResponseModes = []ResponseMode{ModeQuery, "jwt"} })}, "clients[1].response-modes[2]", `"jwt" is not one of query, fragment`},
		{Config{Clients: with(func(c *Client) { c.ResponseModes = []ResponseMode{ModeQuery, ModeQuery} })}, "clients[1].response-modes[2]", "listed twice"},
		{Config{Clients: []Client{ok}, Faults: []vocab.Fault{{On: "authorize", Do: "explode"}}}, "faults[1].do", `"explode" is not one of`},
		{Config{Clients: []Client{ok}, Faults: []vocab.Fault{{On: "token", Do: "server-error", Times: vocab.MaxTimes + 1}}}, "faults[1].times", "at most"},
		{Config{Clients: []Client{ok}, Addr: "0.0.0.0:9400"}, "addr", "not a loopback address"},
		{Config{Clients: []Client{ok}, Addr: ":9400"}, "addr", "not a loopback address"},
		{Config{Clients: []Client{ok}, Addr: "10.1.2.3:9400"}, "addr", "not a loopback address"},
		{Config{Clients: []Client{ok}, Addr: "0.0.0.0:9400", ListenPublic: true}, "addr", "needs host"},
		{Config{Clients: []Client{ok}, Addr: "127.0.0.1:99999"}, "addr", "0 to 65535"},
		{Config{Clients: []Client{ok}, Addr: "127.0.0.1"}, "addr", "not host:port"},
		{Config{Clients: []Client{ok}, Host: "idp.example.com"}, "host", "not loopback"},
		{Config{Clients: []Client{ok}, Host: "bad host"}, "host", "not a host name"},
		{Config{Clients: []Client{ok}, Layout: "okta"}, "layout", "not one of discovery, auth0, keycloak"},
		{Config{Clients: []Client{ok}, Realm: "r"}, "realm", "only the keycloak layout"},
		{Config{Clients: []Client{ok}, Layout: LayoutKeycloak, Realm: "a/b"}, "realm", "letters, digits"},
		{Config{Clients: []Client{ok}, Issuer: "http://127.0.0.1:1/tenant"}, "issuer", `path ""`},
		{Config{Clients: []Client{ok}, Layout: LayoutKeycloak, Issuer: "http://127.0.0.1:1/"}, "issuer", `path "/realms/refreshsuite"`},
		{Config{Clients: []Client{ok}, Issuer: "ftp://127.0.0.1:1"}, "issuer", "not an http(s) URL"},
		{Config{Clients: []Client{ok}, Issuer: "http://127.0.0.1:1/", IssuerTrailingSlash: true}, "issuer-trailing-slash", "carries its own"},
		{Config{Clients: []Client{ok}, CORSMaxAge: 3 * time.Hour}, "cors-max-age", "0s to 2h0m0s"},
		{Config{Clients: []Client{ok}, CORSMaxAge: 1500 * time.Millisecond}, "cors-max-age", "whole seconds"},
		{Config{Clients: []Client{ok}, SessionLifetime: time.Millisecond}, "session-lifetime", "at least 1s"},
		{Config{Clients: []Client{ok}, User: User{Name: "No Subject"}}, "user.subject", "needs a subject"},
	} {
		err := tc.cfg.Validate()
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.want) {
			t.Errorf("Validate(%s %s): %v, want %s: ...%s...", tc.key, tc.want, err, tc.key, tc.want)
			continue
		}
		if _, err := Start(tc.cfg, nil); err == nil || err.Error() != ce.Error() {
			t.Errorf("Start refuses %s differently from Validate: %v", tc.key, err)
		}
	}
}

// Zero values are the documented defaults, and the defaults are today's.
func TestConfigDefaults(t *testing.T) {
	c := Config{Clients: []Client{{ID: "spa", RedirectURIs: []string{redirect}}}}
	d, err := c.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	cl := d.Clients[0]
	switch {
	case d.Addr != "127.0.0.1:0", d.Layout != LayoutDiscovery, d.HTTPS, d.CORSMaxAge != 0, d.SessionLifetime != time.Hour, d.User != DefaultUser:
		t.Errorf("provider defaults: %+v", d)
	case cl.AccessTokenLifetime != 5*time.Minute, cl.IDTokenLifetime != cl.AccessTokenLifetime, cl.RefreshTokenLifetime != 24*time.Hour,
		cl.AccessTokenFormat != Opaque, cl.RefreshTokenFormat != Opaque, cl.Rotation != Rotate, cl.RefreshTokens != Strict:
		t.Errorf("client defaults: %+v", cl)
	case strings.Join(cl.PostLogoutRedirectURIs, " ") != redirect:
		t.Errorf("post-logout redirect URIs default to %v, want the redirect URIs", cl.PostLogoutRedirectURIs)
	}
}

// Config.Validate names the fault, so a loader finds the line of its when.
func TestFaultWhenErrorNamesTheFault(t *testing.T) {
	cfg := Config{Clients: []Client{{ID: "spa", RedirectURIs: []string{redirect}}}, Faults: []vocab.Fault{
		{On: "token", Do: "server-error"},
		{On: "authorize", When: map[string]string{"promt": "none"}, Do: "deny-framing"},
	}}
	var ce *ConfigError
	if err := cfg.Validate(); !errors.As(err, &ce) || ce.Key != "faults[2].when.promt" {
		t.Fatalf("Validate = %v, want faults[2].when.promt", err)
	}
}
