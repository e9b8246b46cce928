package fakeidp

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Each layout serves its discovery document where its issuer says, every URL
// in it is one the provider serves, and its paths are the ones the library
// that builds them by itself uses.
func TestLayouts(t *testing.T) {
	for _, tc := range []struct {
		cfg        Config
		issuerPath string
		want       map[Endpoint]string
	}{
		{Config{}, "", map[Endpoint]string{
			EndpointDiscovery: "/.well-known/openid-configuration", EndpointAuthorize: "/authorize", EndpointToken: "/token",
			EndpointRevoke: "/revoke", EndpointUserinfo: "/userinfo", EndpointEndSession: "/end-session", EndpointJWKS: "/jwks",
		}},
		// auth0-spa-js 2.28.3 builds /authorize, /oauth/token, /oauth/revoke
		// and /v2/logout from its domain; the issuer it expects ends in "/".
		{Config{Layout: LayoutAuth0, IssuerTrailingSlash: true}, "/", map[Endpoint]string{
			EndpointDiscovery: "/.well-known/openid-configuration", EndpointAuthorize: "/authorize", EndpointToken: "/oauth/token",
			EndpointRevoke: "/oauth/revoke", EndpointUserinfo: "/userinfo", EndpointEndSession: "/oidc/logout",
			EndpointJWKS: "/.well-known/jwks.json", EndpointAuth0Logout: "/v2/logout",
		}},
		// keycloak-js 26.2.4 builds <url>/realms/<realm>/protocol/openid-connect/...
		{Config{Layout: LayoutKeycloak, Realm: "demo"}, "/realms/demo", map[Endpoint]string{
			EndpointDiscovery: "/realms/demo/.well-known/openid-configuration",
			EndpointAuthorize: "/realms/demo/protocol/openid-connect/auth", EndpointToken: "/realms/demo/protocol/openid-connect/token",
			EndpointRevoke: "/realms/demo/protocol/openid-connect/revoke", EndpointUserinfo: "/realms/demo/protocol/openid-connect/userinfo",
			EndpointEndSession: "/realms/demo/protocol/openid-connect/logout", EndpointJWKS: "/realms/demo/protocol/openid-connect/certs",
			EndpointThirdPartyCookies: "/realms/demo/protocol/openid-connect/3p-cookies/step1.html",
		}},
	} {
		t.Run(string(tc.cfg.Layout), func(t *testing.T) {
			s := startWith(t, tc.cfg, Client{})
			if s.URL != s.Origin()+tc.issuerPath {
				t.Fatalf("issuer %q, want %q", s.URL, s.Origin()+tc.issuerPath)
			}
			for e, p := range tc.want {
				if got := s.Endpoint(e); got != s.Origin()+p {
					t.Errorf("Endpoint(%s) = %s, want %s", e, got, s.Origin()+p)
				}
			}
			doc := discoveryOf(t, s)
			if doc["issuer"] != s.URL {
				t.Errorf("discovery issuer %v, want exactly %q", doc["issuer"], s.URL)
			}
			for key, e := range map[string]Endpoint{
				"authorization_endpoint": EndpointAuthorize, "token_endpoint": EndpointToken, "userinfo_endpoint": EndpointUserinfo,
				"revocation_endpoint": EndpointRevoke, "end_session_endpoint": EndpointEndSession, "jwks_uri": EndpointJWKS,
			} {
				if doc[key] != s.Endpoint(e) {
					t.Errorf("discovery %s = %v, want %s", key, doc[key], s.Endpoint(e))
				}
			}
			// Every URL the document names is served: none is a 404.
			for key, v := range doc {
				u, ok := v.(string)
				if !ok || !strings.HasPrefix(u, "http") || key == "issuer" {
					continue
				}
				resp, err := s.HTTPClient().Get(u)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusNotFound {
					t.Errorf("discovery %s = %s answers 404", key, u)
				}
			}
			if e := last(s, "idp.not-found"); e.What != "" {
				t.Errorf("a URL of the discovery document was not served: %v", e)
			}
			// The whole flow runs on the layout's paths, and every token
			// names the issuer exactly, trailing slash included.
			_, tr := login(t, s, "openid offline_access")
			r := refresh(t, s, tr.RefreshToken)
			for _, idt := range []string{tr.IDToken, r.IDToken} {
				if c, err := jwtClaims(idt); err != nil || c.Iss != s.URL {
					t.Errorf("id_token iss %q (%v), want %q", c.Iss, err, s.URL)
				}
			}
			// The paths of the other layouts are not served.
			for _, p := range []string{"/token", "/oauth/token", "/realms/demo/protocol/openid-connect/token"} {
				if p == tc.want[EndpointToken] {
					continue
				}
				resp, err := s.HTTPClient().PostForm(s.Origin()+p, url.Values{"grant_type": {"refresh_token"}})
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if e := last(s, "idp.not-found"); resp.StatusCode != 404 || e.Fields["path"] != p || e.Fields["method"] != "POST" {
					t.Errorf("POST %s in the %s layout: %d, entry %v", p, s.cfg.Layout, resp.StatusCode, e)
				}
			}
		})
	}
}

// The issuer is exactly as configured: a trailing slash where asked for, in
// the discovery document and every token; none by default.
func TestIssuerTrailingSlash(t *testing.T) {
	for _, slash := range []bool{false, true} {
		s := startWith(t, Config{IssuerTrailingSlash: slash}, Client{AccessTokenFormat: JWT, RefreshTokenFormat: JWT})
		if strings.HasSuffix(s.URL, "/") != slash {
			t.Fatalf("trailing slash %v: issuer %q", slash, s.URL)
		}
		if doc := discoveryOf(t, s); doc["issuer"] != s.URL || doc["token_endpoint"] != s.Origin()+"/token" {
			t.Errorf("trailing slash %v: discovery issuer %v, token endpoint %v", slash, doc["issuer"], doc["token_endpoint"])
		}
		_, tr := login(t, s, "openid offline_access")
		for name, tok := range map[string]string{"id": tr.IDToken, "access": tr.AccessToken, "refresh": tr.RefreshToken} {
			if c, err := jwtClaims(tok); err != nil || c.Iss != s.URL {
				t.Errorf("trailing slash %v: %s token iss %q (%v)", slash, name, c.Iss, err)
			}
		}
	}
}

// An issuer given in full (a proxy's) is used as given, slash and all, and
// every endpoint is under its origin.
func TestIssuerOverride(t *testing.T) {
	s := startWith(t, Config{Issuer: "https://idp.proxy.test:8443/"}, Client{})
	if s.URL != "https://idp.proxy.test:8443/" || s.Endpoint(EndpointToken) != "https://idp.proxy.test:8443/token" {
		t.Errorf("issuer %s, token endpoint %s", s.URL, s.Endpoint(EndpointToken))
	}
}

// A path the mux would clean (//token, a dot segment) is not served under
// the clean path by a redirect: it is a path the provider does not serve.
func TestUncleanPathsAreNotFound(t *testing.T) {
	s := startIdP(t, Client{})
	for _, p := range []string{"//token", "/./token", "/x/../token"} {
		// Written by hand: Go's client would clean the path, or read "//"
		// as the start of a host.
		conn, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", p, s.Addr())
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		conn.Close()
		if e := last(s, "idp.not-found"); resp.StatusCode != 404 || e.Fields["path"] != p {
			t.Errorf("POST %s: %d, entry %v; want a recorded 404", p, resp.StatusCode, e)
		}
	}
}
