package fakeidp

import (
	"net/http"
	"slices"
	"strings"
)

// Endpoint names one of the provider's endpoints whatever the layout puts it:
// Server.Endpoint turns it into a URL.
type Endpoint string

const (
	EndpointDiscovery  Endpoint = "discovery"
	EndpointJWKS       Endpoint = "jwks"
	EndpointAuthorize  Endpoint = "authorize"
	EndpointToken      Endpoint = "token"
	EndpointRevoke     Endpoint = "revoke"
	EndpointUserinfo   Endpoint = "userinfo"
	EndpointEndSession Endpoint = "end-session"
	// EndpointAuth0Logout is Auth0's own logout (/v2/logout, with returnTo),
	// the one auth0-spa-js's logout() navigates to; its discovery document
	// names /oidc/logout, the RP-initiated one.
	EndpointAuth0Logout Endpoint = "auth0-logout"
	// EndpointThirdPartyCookies and EndpointThirdPartyCookiesStep2 are
	// Keycloak's check whether the browser sends the IdP's cookies in an
	// iframe: keycloak-js loads step1 before a silent check-sso and waits for
	// its "supported" or "unsupported".
	EndpointThirdPartyCookies      Endpoint = "3p-cookies"
	EndpointThirdPartyCookiesStep2 Endpoint = "3p-cookies-step2"
)

const wellKnown = "/.well-known/openid-configuration"

// layoutPaths is each layout's path for each endpoint it serves, as the real
// provider (and the library that builds URLs without discovery) has them.
func layoutPaths(l Layout, realm string) map[Endpoint]string {
	switch l {
	case LayoutAuth0:
		return map[Endpoint]string{
			EndpointDiscovery: wellKnown, EndpointJWKS: "/.well-known/jwks.json",
			EndpointAuthorize: "/authorize", EndpointToken: "/oauth/token", EndpointRevoke: "/oauth/revoke",
			EndpointUserinfo: "/userinfo", EndpointEndSession: "/oidc/logout", EndpointAuth0Logout: "/v2/logout",
		}
	case LayoutKeycloak:
		oc := issuerPath(l, realm) + "/protocol/openid-connect"
		return map[Endpoint]string{
			EndpointDiscovery: issuerPath(l, realm) + wellKnown, EndpointJWKS: oc + "/certs",
			EndpointAuthorize: oc + "/auth", EndpointToken: oc + "/token", EndpointRevoke: oc + "/revoke",
			EndpointUserinfo: oc + "/userinfo", EndpointEndSession: oc + "/logout",
			EndpointThirdPartyCookies: oc + "/3p-cookies/step1.html", EndpointThirdPartyCookiesStep2: oc + "/3p-cookies/step2.html",
		}
	}
	return map[Endpoint]string{
		EndpointDiscovery: wellKnown, EndpointJWKS: "/jwks",
		EndpointAuthorize: "/authorize", EndpointToken: "/token", EndpointRevoke: "/revoke",
		EndpointUserinfo: "/userinfo", EndpointEndSession: "/end-session",
	}
}

// issuerPath is the path of a layout's issuer: a Keycloak realm is one.
func issuerPath(l Layout, realm string) string {
	if l == LayoutKeycloak {
		return "/realms/" + realm
	}
	return ""
}

// Endpoint is the URL of an endpoint in this provider's layout, or "" when
// the layout has no such endpoint.
func (s *Server) Endpoint(e Endpoint) string {
	p, ok := s.paths[e]
	if !ok {
		return ""
	}
	return s.origin + p
}

// Origin is scheme://host:port of the issuer, the origin of every endpoint.
func (s *Server) Origin() string { return s.origin }

// discoveryDoc is the layout's discovery document: every URL in it is one
// the provider serves.
func (s *Server) discoveryDoc() map[string]any {
	var modes []ResponseMode
	for _, m := range ResponseModes {
		for _, cl := range s.cfg.Clients {
			if slices.Contains(cl.ResponseModes, m) && !slices.Contains(modes, m) {
				modes = append(modes, m)
			}
		}
	}
	doc := map[string]any{
		"issuer":                                s.URL,
		"authorization_endpoint":                s.Endpoint(EndpointAuthorize),
		"token_endpoint":                        s.Endpoint(EndpointToken),
		"userinfo_endpoint":                     s.Endpoint(EndpointUserinfo),
		"revocation_endpoint":                   s.Endpoint(EndpointRevoke),
		"end_session_endpoint":                  s.Endpoint(EndpointEndSession),
		"jwks_uri":                              s.Endpoint(EndpointJWKS),
		"scopes_supported":                      DefaultScopes,
		"response_types_supported":              []string{"code", "id_token", "id_token token", "code id_token"},
		"response_modes_supported":              modes,
		"grant_types_supported":                 []string{"authorization_code", "implicit", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_basic", "client_secret_post"},
		"claims_supported":                      []string{"sub", "iss", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash", "name", "email"},
	}
	if !s.cfg.OmitIss {
		doc["authorization_response_iss_parameter_supported"] = true
	}
	if s.dpopAdvertised() {
		doc["dpop_signing_alg_values_supported"] = dpopAlgs
	}
	return doc
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	s.record(r.Context(), "idp.discovery", s.requestFields(r))
	writeJSON(w, s.discoveryDoc())
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	set := s.keys.jwks()
	f := s.requestFields(r)
	kids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		kids[i] = k.KeyID
	}
	f["kids"] = strings.Join(kids, " ")
	s.record(r.Context(), "idp.jwks", f)
	writeJSON(w, set)
}
