package target

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// Discovery is the part of an OpenID provider's metadata the certification reads.
type Discovery struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	ScopesSupported       []string `json:"scopes_supported"`
	ResponseTypes         []string `json:"response_types_supported"`
	ResponseModes         []string `json:"response_modes_supported"`
	GrantTypes            []string `json:"grant_types_supported"`
	CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	EndSessionEndpoint    string   `json:"end_session_endpoint"`
	// IssParameter: the IdP adds iss to its authorization responses (RFC 9207).
	IssParameter bool `json:"authorization_response_iss_parameter_supported"`
	// DPoPAlgs: the IdP binds tokens to a DPoP key (RFC 9449).
	DPoPAlgs []string `json:"dpop_signing_alg_values_supported"`

	// URL is where the document was read.
	URL string `json:"-"`
	// AllowOrigin is the Access-Control-Allow-Origin of that answer.
	AllowOrigin string `json:"-"`
}

// discoveryURL is where OpenID Connect Discovery 1.0 s4 puts the document: the
// issuer without its trailing slash, then /.well-known/openid-configuration.
func discoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// FetchDiscovery reads the issuer's discovery document as the SPA's library
// does, from the SPA's origin; AllowOrigin is the CORS answer to that.
func FetchDiscovery(ctx context.Context, c *http.Client, issuer, origin string) (*Discovery, error) {
	u := discoveryURL(issuer)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", origin) // as the SPA's library fetches it
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	var d Discovery
	if err := json.Unmarshal(body, &d); err != nil {
		return nil, fmt.Errorf("GET %s: not a JSON discovery document: %v", u, err)
	}
	d.URL, d.AllowOrigin = u, resp.Header.Get("Access-Control-Allow-Origin")
	return &d, nil
}

// orDefault is a list from the document, or the default the specification
// gives when it is absent.
func orDefault(list []string, def ...string) []string {
	if len(list) == 0 {
		return def
	}
	return list
}

// Check is one thing IDP-DISC-1 asks of a discovery document.
type Check struct {
	// Field is the harness.discovery field that records it (yes or no).
	Field string
	OK    bool
	// Want says what is wanted, for messages.
	Want string
}

// Checks judges what a discovery document offers an SPA that keeps its
// tokens fresh (IDP-DISC-1), read from origin, for the issuer the vendor
// named. Absent lists take the defaults of OpenID Connect Discovery 1.0 s3
// and RFC 8414 s2.
func (d *Discovery) Checks(issuer, origin string) []Check {
	endpoint := func(v string) bool { return strings.HasPrefix(v, "https://") || strings.HasPrefix(v, "http://") }
	modes := orDefault(d.ResponseModes, "query", "fragment")
	return []Check{
		{"issuer_exact", d.Issuer == issuer, fmt.Sprintf("issuer exactly %q (it is %q)", issuer, d.Issuer)},
		{"authorization_endpoint", endpoint(d.AuthorizationEndpoint), "an authorization_endpoint"},
		{"token_endpoint", endpoint(d.TokenEndpoint), "a token_endpoint"},
		{"jwks_uri", endpoint(d.JWKSURI), "a jwks_uri"},
		{"offline_access", slices.Contains(d.ScopesSupported, "offline_access"), "offline_access in scopes_supported"},
		{"response_type_code", slices.Contains(d.ResponseTypes, "code"), "code in response_types_supported"},
		{"refresh_token_grant", slices.Contains(orDefault(d.GrantTypes, "authorization_code", "implicit"), "refresh_token"), "refresh_token in grant_types_supported"},
		{"pkce_s256", slices.Contains(d.CodeChallengeMethods, "S256"), "S256 in code_challenge_methods_supported (PKCE)"},
		{"query_mode", slices.Contains(modes, "query"), "query in response_modes_supported"},
		{"fragment_mode", slices.Contains(modes, "fragment"), "fragment in response_modes_supported"},
		{"cors", CORSAllows(d.AllowOrigin, origin), fmt.Sprintf("the document readable from %s (Access-Control-Allow-Origin %q)", origin, d.AllowOrigin)},
	}
}
