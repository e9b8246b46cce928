package target

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// HTTPClient is the client of every plain-HTTP request the harness and the
// pre-flight send to an IdP: it never follows a redirect (where the IdP sends
// the browser is the observation) and never keeps a cookie (a probe must not
// borrow a login session). With a CA file it trusts that CA besides the
// system's roots, as the certify Chromium does.
func HTTPClient(caFile string) (*http.Client, error) {
	c := &http.Client{
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if caFile == "" {
		return c, nil
	}
	pool, err := CertPool(caFile)
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	c.Transport = tr
	return c, nil
}

// CertPool is the system's roots plus the certificates of a PEM file.
func CertPool(caFile string) (*x509.CertPool, error) {
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca: %v", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
	}
	return pool, nil
}

// TokenAnswer is one answer of the token endpoint. The tokens stay in memory:
// the timeline and reports see fingerprints only.
type TokenAnswer struct {
	Status       int
	Error        string
	AccessToken  string
	RefreshToken string
	IDToken      string
	// ExpiresIn is the expires_in member as sent ("" when absent).
	ExpiresIn string
	Scope     string
	// AllowOrigin is the Access-Control-Allow-Origin header of the answer.
	AllowOrigin string
	// TokenType is token_type as sent (DPoP for a key-bound access token,
	// RFC 9449 s5); DPoPNonce is the DPoP-Nonce header, which a
	// use_dpop_nonce error asks the next proof to carry (s8).
	TokenType, DPoPNonce string
}

// OK says whether the answer issued tokens.
func (a TokenAnswer) OK() bool {
	return a.Status == http.StatusOK && a.Error == "" && a.AccessToken != ""
}

// fromSPA sends req as an SPA's fetch does, from origin, and reads the
// answer: its status, its headers and its body.
func fromSPA(c *http.Client, req *http.Request, origin string) (status int, header http.Header, body []byte, err error) {
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", origin)
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

// PostToken sends a form to the token endpoint (or the revocation endpoint,
// whose 200 has no JSON to read) as an SPA would: from its origin, as a
// public client (client_id in the form, no secret), with a DPoP proof when
// proof is not "" (RFC 9449 s5).
func PostToken(ctx context.Context, c *http.Client, endpoint, origin string, form url.Values, proof string) (TokenAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return TokenAnswer{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("DPoP", proof)
	}
	status, h, body, err := fromSPA(c, req, origin)
	if err != nil {
		return TokenAnswer{}, err
	}
	var doc struct {
		Error        string          `json:"error"`
		AccessToken  string          `json:"access_token"`
		RefreshToken string          `json:"refresh_token"`
		IDToken      string          `json:"id_token"`
		ExpiresIn    json.RawMessage `json:"expires_in"`
		Scope        string          `json:"scope"`
		TokenType    string          `json:"token_type"`
	}
	r := TokenAnswer{Status: status, AllowOrigin: h.Get("Access-Control-Allow-Origin"), DPoPNonce: h.Get("DPoP-Nonce")}
	if err := json.Unmarshal(body, &doc); err != nil {
		r.Error = fmt.Sprintf("(not JSON: HTTP %d)", status)
		return r, nil
	}
	r.Error, r.AccessToken, r.RefreshToken, r.IDToken, r.Scope = doc.Error, doc.AccessToken, doc.RefreshToken, doc.IDToken, doc.Scope
	r.ExpiresIn = strings.Trim(string(doc.ExpiresIn), `"`)
	r.TokenType = doc.TokenType
	return r, nil
}

// UserinfoAnswer is what a userinfo endpoint answered.
type UserinfoAnswer struct {
	Status      int
	AllowOrigin string
	Sub         string // the claim, when the answer was a JSON object with one
}

// GetUserinfo asks the userinfo endpoint about an access token as an SPA
// would: a GET from its origin with the token as a Bearer (OIDC Core 5.3.1),
// or, with a DPoP proof, under the DPoP scheme with the proof beside it (RFC
// 9449 s7.1).
func GetUserinfo(ctx context.Context, c *http.Client, endpoint, origin, accessToken, proof string) (UserinfoAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return UserinfoAnswer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	if proof != "" {
		req.Header.Set("Authorization", "DPoP "+accessToken)
		req.Header.Set("DPoP", proof)
	}
	status, h, body, err := fromSPA(c, req, origin)
	if err != nil {
		return UserinfoAnswer{}, err
	}
	a := UserinfoAnswer{Status: status, AllowOrigin: h.Get("Access-Control-Allow-Origin")}
	var doc struct {
		Sub string `json:"sub"`
	}
	if json.Unmarshal(body, &doc) == nil {
		a.Sub = doc.Sub
	}
	return a, nil
}

// CORSAllows reports whether an Access-Control-Allow-Origin value lets origin read.
func CORSAllows(allow, origin string) bool { return allow == "*" || allow == origin }

// RandomString is 24 random bytes, base64url: states, nonces, unguessable names.
func RandomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// pkce returns a fresh code verifier's S256 challenge (the verifier itself is
// never needed: no probe exchanges its code).
func pkce() string { return s256(RandomString()) }

// AuthorizeURL is an authorization request for the code flow with PKCE, as an
// SPA sends it, plus extra parameters (prompt=none).
func AuthorizeURL(endpoint, clientID, redirectURI, scope string, extra url.Values) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {scope}, "state": {RandomString()}, "nonce": {RandomString()},
		"code_challenge": {pkce()}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + q.Encode()
}

// SPKIHashes are the base64 SHA-256 hashes of the SubjectPublicKeyInfo of
// every certificate in a PEM file, comma-separated, as Chromium's
// --ignore-certificate-errors-spki-list takes them: a chain the server sends
// with one of these certificates in it is accepted.
func SPKIHashes(caFile string) (string, error) {
	raw, err := os.ReadFile(caFile)
	if err != nil {
		return "", fmt.Errorf("--ca: %v", err)
	}
	var out []string
	for {
		var b *pem.Block
		b, raw = pem.Decode(raw)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return "", fmt.Errorf("--ca %s: %v", caFile, err)
		}
		sum := sha256.Sum256(c.RawSubjectPublicKeyInfo)
		out = append(out, base64.StdEncoding.EncodeToString(sum[:]))
	}
	if len(out) == 0 {
		return "", fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
	}
	return strings.Join(out, ","), nil
}
