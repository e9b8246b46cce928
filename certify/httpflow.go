package certify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// newHTTPClient is the client of every plain-HTTP check: it never follows a
// redirect (where the IdP sends the browser is the observation) and never
// keeps a cookie (a probe must not borrow a login session).
func newHTTPClient() *http.Client {
	return &http.Client{
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// tokenResult is one answer of the token endpoint. The tokens stay in memory:
// the timeline and reports see fingerprints only.
type tokenResult struct {
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
	// At is when the answer came, on this machine's clock.
	At time.Time
}

// postToken sends a form to the token endpoint as the SPA would: from its
// origin, as a public client (client_id in the form, no secret).
func postToken(ctx context.Context, c *http.Client, endpoint, origin string, form url.Values) (tokenResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenResult{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Origin", origin)
	resp, err := c.Do(req)
	if err != nil {
		return tokenResult{}, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return tokenResult{}, fmt.Errorf("POST %s: %w", endpoint, err)
	}
	var doc struct {
		Error        string          `json:"error"`
		AccessToken  string          `json:"access_token"`
		RefreshToken string          `json:"refresh_token"`
		IDToken      string          `json:"id_token"`
		ExpiresIn    json.RawMessage `json:"expires_in"`
		Scope        string          `json:"scope"`
	}
	r := tokenResult{Status: resp.StatusCode, AllowOrigin: resp.Header.Get("Access-Control-Allow-Origin"), At: time.Now()}
	if err := json.Unmarshal(body, &doc); err != nil {
		r.Error = fmt.Sprintf("(not JSON: HTTP %d)", resp.StatusCode)
		return r, nil
	}
	r.Error, r.AccessToken, r.RefreshToken, r.IDToken, r.Scope = doc.Error, doc.AccessToken, doc.RefreshToken, doc.IDToken, doc.Scope
	r.ExpiresIn = strings.Trim(string(doc.ExpiresIn), `"`)
	return r, nil
}

// corsAllows reports whether an Access-Control-Allow-Origin value lets origin read.
func corsAllows(allow, origin string) bool { return allow == "*" || allow == origin }

// recordToken writes a harness token request into the timeline, in the fields the
// embedded IdP uses for its own log, with actor harness.
func recordToken(tl *timeline.Timeline, clientID, origin, presented string, r tokenResult) {
	f := timeline.Fields{
		"client": clientID, "grant_type": "refresh_token", "presented_refresh_token": timeline.Fingerprint(presented),
		"origin": origin, "actor": "harness", "status": fmt.Sprint(r.Status),
		"access_token": timeline.Fingerprint(r.AccessToken), "refresh_token": timeline.Fingerprint(r.RefreshToken),
		"id_token": timeline.Fingerprint(r.IDToken), "granted_scope": r.Scope,
	}
	if r.ExpiresIn != "" {
		if n, err := json.Number(r.ExpiresIn).Int64(); err == nil {
			f["expires_in_ms"] = fmt.Sprint(n * 1000)
		}
	}
	if r.Status == http.StatusOK && r.Error == "" {
		f["outcome"] = "ok"
	} else {
		f["outcome"], f["error"] = "error", r.Error
	}
	if c, err := decodeClaims(r.IDToken); err == nil {
		f["id_token_sub"], f["id_token_iss"] = c.Sub, c.Iss
	}
	for k, v := range f {
		if v == "" {
			delete(f, k) // what the answer did not carry
		}
	}
	tl.Add("idp.token", f)
}

// refresh presents a refresh token and records the exchange.
func (r *runner) refresh(ctx context.Context, rt string) (tokenResult, error) {
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {r.cfg.ClientID}}
	res, err := postToken(ctx, r.http, r.disc.TokenEndpoint, r.app.origin, form)
	if err != nil {
		return res, err
	}
	recordToken(r.tl, r.cfg.ClientID, r.app.origin, rt, res)
	return res, nil
}

// pkce returns a fresh code verifier's S256 challenge (the verifier itself is
// never needed: no probe exchanges its code).
func pkce() string {
	sum := sha256.Sum256([]byte(randomString()))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorizeURL is an authorization request for the code flow with PKCE, as
// the reference SPA would send it, plus extra parameters (prompt=none).
func (r *runner) authorizeURL(clientID, redirectURI, scope string, extra url.Values) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {scope}, "state": {randomString()}, "nonce": {randomString()},
		"code_challenge": {pkce()}, "code_challenge_method": {"S256"},
	}
	for k, v := range extra {
		q[k] = v
	}
	sep := "?"
	if strings.Contains(r.disc.AuthorizationEndpoint, "?") {
		sep = "&"
	}
	return r.disc.AuthorizationEndpoint + sep + q.Encode()
}
