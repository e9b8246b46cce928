package certify

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

// fetchDiscovery reads the issuer's discovery document as the SPA's library
// does, from the SPA's origin; AllowOrigin is the CORS answer to that.
func fetchDiscovery(ctx context.Context, c *http.Client, issuer, origin string) (*Discovery, error) {
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

// Problems lists what a discovery document lacks for an SPA that keeps its
// tokens fresh (IDP-DISC-1), one phrase each. Absent lists take the defaults
// of OpenID Connect Discovery 1.0 s3 and RFC 8414 s2.
func (d *Discovery) Problems(issuer string) []string {
	var out []string
	if d.Issuer != issuer {
		out = append(out, fmt.Sprintf("issuer is %q, not %q", d.Issuer, issuer))
	}
	for name, v := range map[string]string{"authorization_endpoint": d.AuthorizationEndpoint, "token_endpoint": d.TokenEndpoint, "jwks_uri": d.JWKSURI} {
		if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
			out = append(out, name+" is missing")
		}
	}
	if !slices.Contains(d.ScopesSupported, "offline_access") {
		out = append(out, "scopes_supported does not list offline_access")
	}
	if !slices.Contains(d.ResponseTypes, "code") {
		out = append(out, "response_types_supported does not list code")
	}
	if !slices.Contains(orDefault(d.GrantTypes, "authorization_code", "implicit"), "refresh_token") {
		out = append(out, "grant_types_supported does not list refresh_token")
	}
	if !slices.Contains(d.CodeChallengeMethods, "S256") {
		out = append(out, "code_challenge_methods_supported does not list S256 (PKCE)")
	}
	modes := orDefault(d.ResponseModes, "query", "fragment")
	for _, m := range []string{"query", "fragment"} {
		if !slices.Contains(modes, m) {
			out = append(out, "response_modes_supported does not list "+m)
		}
	}
	slices.Sort(out)
	return out
}
