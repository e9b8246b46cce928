package fakeidp

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/tlsca"
)

// startWith starts a provider for the test client (spa, the app's redirect
// URIs and origin) with the rest of cfg as given.
func startWith(t *testing.T, cfg Config, c Client) *Server {
	t.Helper()
	c.ID = "spa"
	if c.RedirectURIs == nil {
		c.RedirectURIs = []string{redirect, appOrigin + "/silent-refresh.html"}
	}
	if c.Origins == nil {
		c.Origins = []string{appOrigin}
	}
	cfg.Clients = append([]Client{c}, cfg.Clients...)
	s, err := Start(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	closeAndValidate(t, s)
	return s
}

// Over https the provider's certificate comes from the CA: the harness's
// client (HTTPClient) trusts it, a client with the system's roots does not,
// and every URL the provider names is https.
func TestHTTPSTrustedThroughTheCAOnly(t *testing.T) {
	ca, err := tlsca.New()
	if err != nil {
		t.Fatal(err)
	}
	s := startWith(t, Config{HTTPS: true, CA: ca, Host: "localhost"}, Client{})
	if !strings.HasPrefix(s.URL, "https://localhost:") || s.CA() != ca {
		t.Fatalf("issuer %s, CA %p; want https on localhost from the given CA", s.URL, s.CA())
	}
	resp, err := s.HTTPClient().Get(s.Endpoint(EndpointDiscovery))
	if err != nil {
		t.Fatalf("the harness's client: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("discovery over the harness's client: %s, TLS %v", resp.Status, resp.TLS != nil)
	}
	_, err = http.Get(s.Endpoint(EndpointDiscovery))
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("a client with the system's roots: %v, want an unknown-authority error", err)
	}
	// Trusting another CA is not trusting this one.
	other, _ := tlsca.New()
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: other.Pool()}}}
	if _, err := hc.Get(s.Endpoint(EndpointDiscovery)); !errors.As(err, &unknown) {
		t.Fatalf("a client trusting another CA: %v, want an unknown-authority error", err)
	}
	// The whole flow runs over it, and every URL is https.
	_, tr := login(t, s, "openid offline_access")
	if r := refresh(t, s, tr.RefreshToken); r.status != 200 {
		t.Fatalf("refresh over https: %d %q", r.status, r.Error)
	}
	doc := discoveryOf(t, s)
	for k, v := range doc {
		if u, ok := v.(string); ok && strings.HasSuffix(k, "_endpoint") && !strings.HasPrefix(u, "https://localhost:") {
			t.Errorf("discovery %s = %s, want https on the issuer's host", k, u)
		}
	}
	if !strings.HasPrefix(s.Endpoint(EndpointToken), "https://") {
		t.Errorf("token endpoint %s", s.Endpoint(EndpointToken))
	}
}

// Plain http stays the default, and with it a client that trusts nothing
// special.
func TestHTTPIsTheDefault(t *testing.T) {
	s := startIdP(t, Client{})
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || s.CA() != nil {
		t.Fatalf("default issuer %s", s.URL)
	}
	resp, err := s.HTTPClient().Get(s.Endpoint(EndpointJWKS))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
