package fakeidp

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/refreshsuite/refreshsuite/target"
	"github.com/refreshsuite/refreshsuite/timeline"
)

func newKey(t *testing.T) *target.DPoPKey {
	t.Helper()
	k, err := target.NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// proofOf is k's proof for a request to s's endpoint e at the provider's
// clock.
func proofOf(t *testing.T, s *Server, k *target.DPoPKey, method string, e Endpoint, at string) string {
	t.Helper()
	p, err := k.Proof(method, s.Endpoint(e), at, "", s.Timeline.Clock().Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// codeFor runs a fresh login's /authorize and returns its code.
func codeFor(t *testing.T, s *Server, extra url.Values) string {
	t.Helper()
	q := url.Values{"scope": {"openid offline_access"}}
	for k, v := range extra {
		q[k] = v
	}
	p, resp := authorize(t, browserFor(t, s), s, q)
	if p.Get("code") == "" {
		t.Fatalf("authorize: no code, status %d, params %v", resp.StatusCode, p)
	}
	return p.Get("code")
}

// dpopLogin is a login whose code exchange proves k.
func dpopLogin(t *testing.T, s *Server, k *target.DPoPKey) tokenResponse {
	t.Helper()
	tr := postTokenTo(t, s, s.Endpoint(EndpointToken), exchangeForm(codeFor(t, s, nil)), proofOf(t, s, k, "POST", EndpointToken, ""))
	if tr.status != 200 {
		t.Fatalf("code exchange with a proof: %d %q %s", tr.status, tr.Error, tr.ErrorDescription)
	}
	return tr
}

func dpopRefresh(t *testing.T, s *Server, rt string, k *target.DPoPKey) tokenResponse {
	t.Helper()
	if k == nil {
		return refresh(t, s, rt)
	}
	return postTokenTo(t, s, s.Endpoint(EndpointToken), refreshForm(rt), proofOf(t, s, k, "POST", EndpointToken, ""))
}

// wantFields fails unless the latest entry of kind what has every field as given
// ("" for absent).
func wantFields(t *testing.T, s *Server, what string, want map[string]string) timeline.Entry {
	t.Helper()
	e := last(s, what)
	for k, v := range want {
		if e.Fields[k] != v {
			t.Errorf("%s: %s = %q, want %q (entry %v)", what, k, e.Fields[k], v, e.Fields)
		}
	}
	return e
}

// With dpop bind, a public client's code exchange with a proof binds the
// family to the key: every refresh must prove it, and one that does not is
// refused before the refresh token is spent.
func TestDPoPBindsThePublicClientsFamily(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPBind})
	algs, _ := discoveryOf(t, s)["dpop_signing_alg_values_supported"].([]any)
	if !slices.Contains(algs, any("ES256")) || !slices.Contains(algs, any("RS256")) || slices.Contains(algs, any("none")) || slices.Contains(algs, any("HS256")) {
		t.Errorf("dpop_signing_alg_values_supported = %v, want ES256 and RS256, never none or HS256", algs)
	}
	k := newKey(t)
	tr := dpopLogin(t, s, k)
	if tr.TokenType != "DPoP" {
		t.Errorf("code exchange with a proof: token_type %q, want DPoP", tr.TokenType)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "valid", "dpop_jkt": k.Thumbprint(), "dpop_bound": "yes", "token_type": "dpop"})

	r := dpopRefresh(t, s, tr.RefreshToken, nil)
	if r.status != 400 || r.Error != "invalid_grant" || !strings.Contains(r.ErrorDescription, "bound to a DPoP key") {
		t.Errorf("a bound refresh token without a proof: %d %q %q, want 400 invalid_grant saying why", r.status, r.Error, r.ErrorDescription)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "none", "dpop_bound": "yes", "outcome": "error", "error": "invalid_grant"})
	r = dpopRefresh(t, s, tr.RefreshToken, newKey(t))
	if r.status != 400 || r.Error != "invalid_grant" || !strings.Contains(r.ErrorDescription, "another key") {
		t.Errorf("a bound refresh token with another key's proof: %d %q %q, want 400 invalid_grant", r.status, r.Error, r.ErrorDescription)
	}
	r = dpopRefresh(t, s, tr.RefreshToken, k)
	if r.status != 200 || r.TokenType != "DPoP" || r.RefreshToken == "" || r.RefreshToken == tr.RefreshToken {
		t.Fatalf("the refused attempts spent the refresh token, or the right key's refresh failed: %d %q %q", r.status, r.Error, r.TokenType)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "valid", "dpop_bound": "yes", "replay": "no", "token_type": "dpop"})
	if r := dpopRefresh(t, s, r.RefreshToken, nil); r.Error != "invalid_grant" {
		t.Errorf("the rotated token of a bound family without a proof: %d %q", r.status, r.Error)
	}
}

// Without a proof, bind issues Bearer tokens and an unbound family; a
// refresh of it with a proof gets a DPoP access token and leaves the family
// unbound. A confidential client's family is never bound (RFC 9449 section
// 5: its refresh tokens are bound to its authentication).
func TestDPoPUnboundFamilies(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPBind})
	_, tr := login(t, s, "openid offline_access")
	if tr.TokenType != "bearer" {
		t.Errorf("code exchange without a proof: token_type %q, want bearer", tr.TokenType)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "none", "dpop_bound": "no", "token_type": "bearer"})
	k := newKey(t)
	r := dpopRefresh(t, s, tr.RefreshToken, k)
	if r.status != 200 || r.TokenType != "DPoP" {
		t.Fatalf("a refresh of an unbound family with a proof: %d %q %q", r.status, r.Error, r.TokenType)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "valid", "dpop_bound": "no"})
	if r := dpopRefresh(t, s, r.RefreshToken, nil); r.status != 200 || r.TokenType != "bearer" {
		t.Errorf("the family became bound by a refresh: %d %q %q", r.status, r.Error, r.TokenType)
	}

	conf, _ := startOnClock(t, Client{DPoP: DPoPBind, Secret: "s3cret"})
	form := exchangeForm(codeFor(t, conf, nil))
	form.Del("client_id")
	req, _ := http.NewRequest(http.MethodPost, conf.Endpoint(EndpointToken), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("spa", "s3cret")
	req.Header.Set("DPoP", proofOf(t, conf, k, "POST", EndpointToken, ""))
	resp, err := conf.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got tokenResponse
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || got.TokenType != "DPoP" {
		t.Fatalf("a confidential client's code exchange with a proof: %d %q %q", resp.StatusCode, got.Error, got.TokenType)
	}
	wantFields(t, conf, "idp.token", map[string]string{"dpop": "valid", "dpop_bound": "no"})
}

// Every proof RFC 9449 section 4.3 refuses is refused with
// invalid_dpop_proof before fosite reads the request, so the code stays
// good for the exchange that follows with a valid proof.
func TestDPoPInvalidProofs(t *testing.T) {
	s, clock := startOnClock(t, Client{DPoP: DPoPBind})
	code := codeFor(t, s, nil)
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	header := func() map[string]any {
		return map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": jwkOf(t, &priv.PublicKey)}
	}
	claims := func() map[string]any {
		return map[string]any{"jti": target.RandomString(), "htm": "POST", "htu": s.Endpoint(EndpointToken), "iat": clock.Now().Unix()}
	}
	with := func(m map[string]any, k string, v any) map[string]any {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	good := es256(t, priv, header(), claims())
	parts := strings.Split(good, ".")
	for _, tc := range []struct {
		name   string
		proofs []string
		why    string
	}{
		{"htm GET", []string{es256(t, priv, header(), with(claims(), "htm", "GET"))}, "htm"},
		{"htu another path", []string{es256(t, priv, header(), with(claims(), "htu", s.Origin()+"/userinfo"))}, "htu"},
		{"htu another host", []string{es256(t, priv, header(), with(claims(), "htu", strings.Replace(s.Endpoint(EndpointToken), "127.0.0.1", "127.0.0.2", 1)))}, "htu"},
		{"htu another scheme", []string{es256(t, priv, header(), with(claims(), "htu", strings.Replace(s.Endpoint(EndpointToken), "http:", "https:", 1)))}, "htu"},
		{"iat 301 s ago", []string{es256(t, priv, header(), with(claims(), "iat", clock.Now().Add(-301*time.Second).Unix()))}, "iat"},
		{"iat 301 s ahead", []string{es256(t, priv, header(), with(claims(), "iat", clock.Now().Add(301*time.Second).Unix()))}, "iat"},
		{"iat on the wall clock", []string{es256(t, priv, header(), with(claims(), "iat", time.Now().Unix()))}, "iat"},
		{"no jti", []string{es256(t, priv, header(), with(claims(), "jti", nil))}, "jti"},
		{"no iat", []string{es256(t, priv, header(), with(claims(), "iat", nil))}, "iat"},
		{"iat a string", []string{es256(t, priv, header(), with(claims(), "iat", fmt.Sprint(clock.Now().Unix())))}, "iat"},
		{"typ JWT", []string{es256(t, priv, with(header(), "typ", "JWT"), claims())}, "typ"},
		{"alg none", []string{unsignedJWS(with(header(), "alg", "none"), claims())}, "alg"},
		{"alg HS256", []string{hs256(with(header(), "alg", "HS256"), claims())}, "alg"},
		{"no jwk", []string{es256(t, priv, with(header(), "jwk", nil), claims())}, "jwk"},
		{"a private key in jwk", []string{es256(t, priv, with(header(), "jwk", jwkOf(t, priv)), claims())}, "private"},
		{"signed by another key", []string{es256(t, other, header(), claims())}, "signature"},
		{"a changed payload", []string{parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"x","htm":"POST","htu":"`+s.Endpoint(EndpointToken)+`","iat":1}`)) + "." + parts[2]}, "signature"},
		{"JSON serialization", []string{`{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`}, "compact"},
		{"two DPoP headers", []string{es256(t, priv, header(), claims()), es256(t, priv, header(), claims())}, "more than one"},
		{"garbage", []string{"not-a-proof"}, "compact"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postTokenTo(t, s, s.Endpoint(EndpointToken), exchangeForm(code), tc.proofs...)
			if r.status != 400 || r.Error != "invalid_dpop_proof" {
				t.Fatalf("got %d %q %q, want 400 invalid_dpop_proof", r.status, r.Error, r.ErrorDescription)
			}
			e := wantFields(t, s, "idp.token", map[string]string{"dpop": "invalid", "error": "invalid_dpop_proof", "outcome": "error"})
			if !strings.Contains(e.Fields["dpop_error"], tc.why) || !strings.Contains(r.ErrorDescription, tc.why) {
				t.Errorf("dpop_error %q, error_description %q: want them to say %q", e.Fields["dpop_error"], r.ErrorDescription, tc.why)
			}
		})
	}
	r := postTokenTo(t, s, s.Endpoint(EndpointToken), exchangeForm(code), good)
	if r.status != 200 || r.TokenType != "DPoP" {
		t.Fatalf("the code after the refused proofs, with a valid one: %d %q %q", r.status, r.Error, r.ErrorDescription)
	}
	// The same proof again: a replay, whatever it is sent with.
	again := postTokenTo(t, s, s.Endpoint(EndpointToken), refreshForm(r.RefreshToken), good)
	if again.Error != "invalid_dpop_proof" || !strings.Contains(again.ErrorDescription, "jti") {
		t.Errorf("a replayed proof: %d %q %q, want invalid_dpop_proof", again.status, again.Error, again.ErrorDescription)
	}
	// Its jti outlives the window only as long as the proof would: past it,
	// the same proof is stale.
	clock.advance(dpopWindow + time.Second)
	if late := postTokenTo(t, s, s.Endpoint(EndpointToken), refreshForm(r.RefreshToken), good); !strings.Contains(late.ErrorDescription, "iat") {
		t.Errorf("the proof replayed past the window: %q, want it stale", late.ErrorDescription)
	}
}

// What RFC 9449 allows besides the library's exact form is accepted: the
// algorithms discovery lists, the htu compared after normalization (scheme
// and host in any case, a query or fragment), and the URI as the request
// reached the provider (another loopback name).
func TestDPoPAcceptedProofs(t *testing.T) {
	s, clock := startOnClock(t, Client{DPoP: DPoPBind})
	tok := s.Endpoint(EndpointToken)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	sign := func(alg jose.SignatureAlgorithm, key any, htu string) string {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := json.Marshal(map[string]any{"jti": target.RandomString(), "htm": "POST", "htu": htu, "iat": clock.Now().Unix()})
		obj, err := signer.Sign(payload)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := obj.CompactSerialize()
		return p
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	localhost := strings.Replace(tok, "127.0.0.1", "localhost", 1)
	for _, tc := range []struct {
		name, endpoint, proof string
	}{
		{"RS256", tok, sign(jose.RS256, rsaKey, tok)},
		{"PS256", tok, sign(jose.PS256, rsaKey, tok)},
		{"EdDSA", tok, sign(jose.EdDSA, edKey, tok)},
		{"htu in upper case", tok, sign(jose.ES256, ecKey, strings.Replace(strings.ToUpper(tok), "/TOKEN", "/token", 1))},
		{"htu with a query and a fragment", tok, sign(jose.ES256, ecKey, tok+"?a=b#c")},
		{"htu with an escaped unreserved character", tok, sign(jose.ES256, ecKey, strings.Replace(tok, "/token", "/%74oken", 1))},
		{"the request's own host", localhost, sign(jose.ES256, ecKey, localhost)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postTokenTo(t, s, tc.endpoint, exchangeForm(codeFor(t, s, nil)), tc.proof)
			if r.status != 200 || r.TokenType != "DPoP" {
				t.Errorf("got %d %q %q, want a DPoP token", r.status, r.Error, r.ErrorDescription)
			}
		})
	}
	r := postTokenTo(t, s, tok, exchangeForm(codeFor(t, s, nil)), sign(jose.ES256, ecKey, localhost))
	if r.Error != "invalid_dpop_proof" {
		t.Errorf("htu localhost sent to 127.0.0.1: %d %q, want invalid_dpop_proof", r.status, r.Error)
	}
}

// With dpop require, a token request without a proof is refused as an
// invalid proof (RFC 9449 section 5.2), the code kept for a request with one.
func TestDPoPRequire(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPRequire})
	code := codeFor(t, s, nil)
	if r := postToken(t, s, exchangeForm(code)); r.status != 400 || r.Error != "invalid_dpop_proof" {
		t.Errorf("a code exchange without a proof: %d %q, want 400 invalid_dpop_proof", r.status, r.Error)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "none", "error": "invalid_dpop_proof"})
	k := newKey(t)
	r := postTokenTo(t, s, s.Endpoint(EndpointToken), exchangeForm(code), proofOf(t, s, k, "POST", EndpointToken, ""))
	if r.status != 200 || r.TokenType != "DPoP" {
		t.Fatalf("the code with a proof: %d %q", r.status, r.Error)
	}
	if r := dpopRefresh(t, s, r.RefreshToken, nil); r.Error != "invalid_dpop_proof" {
		t.Errorf("a refresh without a proof: %d %q, want invalid_dpop_proof", r.status, r.Error)
	}
}

// dpop ignore is a defective provider: it says DPoP and binds nothing, so a
// bound family refreshes without a proof, with another key's or a broken
// one.
func TestDPoPIgnore(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPIgnore})
	if _, ok := discoveryOf(t, s)["dpop_signing_alg_values_supported"]; !ok {
		t.Errorf("dpop ignore does not advertise DPoP")
	}
	tr := dpopLogin(t, s, newKey(t))
	if tr.TokenType != "DPoP" {
		t.Errorf("token_type %q, want DPoP", tr.TokenType)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "valid", "dpop_bound": "no"})
	rt := tr.RefreshToken
	for _, k := range []*target.DPoPKey{nil, newKey(t)} {
		r := dpopRefresh(t, s, rt, k)
		if r.status != 200 {
			t.Fatalf("a refresh (key %v) of the family the provider said DPoP for: %d %q", k != nil, r.status, r.Error)
		}
		rt = r.RefreshToken
	}
	r := postTokenTo(t, s, s.Endpoint(EndpointToken), refreshForm(rt), "not-a-proof")
	if r.status != 200 || r.TokenType != "DPoP" {
		t.Errorf("a refresh with a broken proof: %d %q %q", r.status, r.Error, r.TokenType)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "invalid", "outcome": "ok"})
	if st, _, _ := userinfo(t, s, "Bearer "+r.AccessToken); st != 200 {
		t.Errorf("userinfo with the DPoP token as Bearer: %d", st)
	}
}

// With dpop off nothing is advertised and a DPoP header changes nothing.
func TestDPoPOff(t *testing.T) {
	s, _ := startOnClock(t, Client{})
	if algs, ok := discoveryOf(t, s)["dpop_signing_alg_values_supported"]; ok {
		t.Errorf("discovery advertises DPoP: %v", algs)
	}
	k := newKey(t)
	tr := dpopLogin(t, s, k)
	if tr.TokenType != "bearer" {
		t.Errorf("token_type %q, want bearer", tr.TokenType)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "ignored", "dpop_bound": "", "dpop_jkt": ""})
	r := postTokenTo(t, s, s.Endpoint(EndpointToken), refreshForm(tr.RefreshToken), "not-a-proof")
	if r.status != 200 || r.TokenType != "bearer" {
		t.Errorf("a refresh with a broken proof: %d %q %q", r.status, r.Error, r.TokenType)
	}
	if _, ok := last(s, "idp.token").Fields["dpop_error"]; ok {
		t.Errorf("an ignored proof was judged: %v", last(s, "idp.token"))
	}
	if r := dpopRefresh(t, s, r.RefreshToken, nil); r.status != 200 {
		t.Errorf("a refresh without one: %d %q", r.status, r.Error)
	}
	if _, ok := last(s, "idp.token").Fields["dpop"]; ok {
		t.Errorf("a request without DPoP to a client without DPoP records dpop: %v", last(s, "idp.token"))
	}
}

// Rotation unbound rotates a family only when it is not bound to a key: a
// bound family's refresh token comes back and stays valid, an unbound
// one's rotates and its reuse is caught.
func TestRotationUnbound(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPBind, Rotation: Unbound})
	k := newKey(t)
	tr := dpopLogin(t, s, k)
	for i := range 3 {
		r := dpopRefresh(t, s, tr.RefreshToken, k)
		if r.status != 200 || r.RefreshToken != tr.RefreshToken {
			t.Fatalf("refresh %d of a bound family: %d %q, the same refresh token back: %v", i+1, r.status, r.Error, r.RefreshToken == tr.RefreshToken)
		}
		wantFields(t, s, "idp.token", map[string]string{"replay": "no", "dpop_bound": "yes"})
	}

	_, plain := login(t, s, "openid offline_access")
	r := dpopRefresh(t, s, plain.RefreshToken, nil)
	if r.status != 200 || r.RefreshToken == "" || r.RefreshToken == plain.RefreshToken {
		t.Fatalf("a refresh of an unbound family: %d %q, rotated %v", r.status, r.Error, r.RefreshToken != plain.RefreshToken)
	}
	if replay := dpopRefresh(t, s, plain.RefreshToken, nil); replay.Error != "invalid_grant" {
		t.Errorf("the rotated token of an unbound family again: %d %q, want invalid_grant", replay.status, replay.Error)
	}
	wantFields(t, s, "idp.token", map[string]string{"replay": "yes"})
}

// At userinfo a bound access token counts only as DPoP, with a proof of its
// key for this request and this token (RFC 9449 section 7); an unbound one
// as Bearer, as before.
func TestDPoPUserinfo(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPBind})
	k := newKey(t)
	at := dpopLogin(t, s, k).AccessToken
	for _, tc := range []struct {
		name, authz string
		proofs      []string
		code        string
	}{
		{"as Bearer", "Bearer " + at, nil, "invalid_token"},
		{"as Bearer with a proof", "Bearer " + at, []string{proofOf(t, s, k, "GET", EndpointUserinfo, at)}, "invalid_token"},
		{"as DPoP without a proof", "DPoP " + at, nil, "invalid_token"},
		{"with another key's proof", "DPoP " + at, []string{proofOf(t, s, newKey(t), "GET", EndpointUserinfo, at)}, "invalid_token"},
		{"with a proof without ath", "DPoP " + at, []string{proofOf(t, s, k, "GET", EndpointUserinfo, "")}, "invalid_dpop_proof"},
		{"with a proof for another token", "DPoP " + at, []string{proofOf(t, s, k, "GET", EndpointUserinfo, "another")}, "invalid_dpop_proof"},
		{"with the token endpoint's proof", "DPoP " + at, []string{proofOf(t, s, k, "GET", EndpointToken, at)}, "invalid_dpop_proof"},
		{"with a POST proof", "DPoP " + at, []string{proofOf(t, s, k, "POST", EndpointUserinfo, at)}, "invalid_dpop_proof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, challenge, code := userinfo(t, s, tc.authz, tc.proofs...)
			if st != 401 || code != tc.code || !strings.HasPrefix(challenge, `DPoP error="`+tc.code+`"`) {
				t.Errorf("got %d %q, WWW-Authenticate %q; want 401 %s with a DPoP challenge", st, code, challenge, tc.code)
			}
		})
	}
	wantFields(t, s, "idp.userinfo", map[string]string{"scheme": "dpop", "dpop": "invalid", "outcome": "error"})
	if st, _, code := userinfo(t, s, "DPoP "+at, proofOf(t, s, k, "GET", EndpointUserinfo, at)); st != 200 {
		t.Errorf("with the right proof: %d %q", st, code)
	}
	wantFields(t, s, "idp.userinfo", map[string]string{"scheme": "dpop", "dpop": "valid", "dpop_jkt": k.Thumbprint(), "outcome": "ok"})

	_, plain := login(t, s, "openid offline_access")
	if st, _, _ := userinfo(t, s, "Bearer "+plain.AccessToken); st != 200 {
		t.Errorf("an unbound token as Bearer: %d", st)
	}
	wantFields(t, s, "idp.userinfo", map[string]string{"scheme": "bearer", "dpop": "none", "outcome": "ok"})
	if st, _, code := userinfo(t, s, "DPoP "+plain.AccessToken, proofOf(t, s, k, "GET", EndpointUserinfo, plain.AccessToken)); st != 401 || code != "invalid_token" {
		t.Errorf("an unbound token as DPoP: %d %q, want 401 invalid_token", st, code)
	}
}

// A JWT access token bound to a key says so in its cnf claim (RFC 9449
// section 6.1).
func TestDPoPJWTAccessTokenCnf(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPBind, AccessTokenFormat: JWT})
	k := newKey(t)
	cnf, _ := claimsOf(t, dpopLogin(t, s, k).AccessToken)["cnf"].(map[string]any)
	if cnf["jkt"] != k.Thumbprint() {
		t.Errorf("cnf %v, want jkt %s", cnf, k.Thumbprint())
	}
	_, plain := login(t, s, "openid offline_access")
	if c := claimsOf(t, plain.AccessToken); c["cnf"] != nil {
		t.Errorf("an unbound access token has cnf %v", c["cnf"])
	}
}

// A code asked for with dpop_jkt is exchanged only with a proof of that
// key (RFC 9449 section 10), and stays good until then.
func TestDPoPAuthorizationCodeBinding(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPBind})
	k := newKey(t)
	code := codeFor(t, s, url.Values{"dpop_jkt": {k.Thumbprint()}})
	wantFields(t, s, "idp.authorize", map[string]string{"dpop_jkt": k.Thumbprint()})
	if r := postToken(t, s, exchangeForm(code)); r.Error != "invalid_grant" || !strings.Contains(r.ErrorDescription, "dpop_jkt") {
		t.Errorf("the exchange without a proof: %d %q %q, want invalid_grant", r.status, r.Error, r.ErrorDescription)
	}
	if r := postTokenTo(t, s, s.Endpoint(EndpointToken), exchangeForm(code), proofOf(t, s, newKey(t), "POST", EndpointToken, "")); r.Error != "invalid_grant" {
		t.Errorf("the exchange with another key: %d %q, want invalid_grant", r.status, r.Error)
	}
	if r := postTokenTo(t, s, s.Endpoint(EndpointToken), exchangeForm(code), proofOf(t, s, k, "POST", EndpointToken, "")); r.status != 200 || r.TokenType != "DPoP" {
		t.Errorf("the exchange with dpop_jkt's key: %d %q %q", r.status, r.Error, r.TokenType)
	}
}

// A browser's DPoP request is cross-origin with a header of its own: the
// preflights of the token and userinfo endpoints let it through.
func TestDPoPPreflight(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPBind})
	for _, e := range []Endpoint{EndpointToken, EndpointUserinfo} {
		req, _ := http.NewRequest(http.MethodOptions, s.Endpoint(e), nil)
		req.Header.Set("Origin", appOrigin)
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		req.Header.Set("Access-Control-Request-Headers", "content-type,dpop")
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		allowed := strings.Split(strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers")), ",")
		if resp.Header.Get("Access-Control-Allow-Origin") != appOrigin || !slices.Contains(allowed, "dpop") {
			t.Errorf("%s preflight: allow-origin %q, allow-headers %v", e, resp.Header.Get("Access-Control-Allow-Origin"), allowed)
		}
	}
}

// The helpers below make proofs no honest client would: what the provider
// must refuse.

func jwkOf(t *testing.T, key any) map[string]any {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKey{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

func signingInput(header, claims map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
}

func es256(t *testing.T, key *ecdsa.PrivateKey, header, claims map[string]any) string {
	t.Helper()
	in := signingInput(header, claims)
	sum := sha256.Sum256([]byte(in))
	r, s, err := ecdsa.Sign(rand.Reader, key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return in + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func unsignedJWS(header, claims map[string]any) string { return signingInput(header, claims) + "." }

// hs256 signs with a shared secret: what a provider that took the header's
// alg at its word would verify with whatever key it found.
func hs256(header, claims map[string]any) string {
	in := signingInput(header, claims)
	mac := hmac.New(sha256.New, []byte("0123456789abcdef0123456789abcdef"))
	mac.Write([]byte(in))
	return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Proofs name the endpoint as each layout and scheme puts it: a Keycloak
// realm over https, Auth0's /oauth/token, and the URL a proxy in front
// publishes (the request reaching the listener under another host).
func TestDPoPLayoutsAndSchemes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"keycloak over https", Config{HTTPS: true, Host: "localhost", Layout: LayoutKeycloak}},
		{"auth0", Config{Layout: LayoutAuth0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startWith(t, tc.cfg, Client{DPoP: DPoPBind})
			k := newKey(t)
			at := dpopLogin(t, s, k).AccessToken
			if st, _, code := userinfo(t, s, "DPoP "+at, proofOf(t, s, k, "GET", EndpointUserinfo, at)); st != 200 {
				t.Errorf("userinfo at %s: %d %q", s.Endpoint(EndpointUserinfo), st, code)
			}
		})
	}
	t.Run("behind a proxy", func(t *testing.T) {
		s := startWith(t, Config{Issuer: "http://idp.proxy.test:8443"}, Client{DPoP: DPoPBind})
		hc := browserish(t)
		hc.Transport = &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, s.Addr()) // the proxy forwards everything to the listener
		}}
		p, resp := authorize(t, hc, s, url.Values{"scope": {"openid offline_access"}})
		if p.Get("code") == "" {
			t.Fatalf("authorize through the proxy: %d %v", resp.StatusCode, p)
		}
		k := newKey(t)
		r := postTokenTo(t, s, "http://"+s.Addr()+"/token", exchangeForm(p.Get("code")), proofOf(t, s, k, "POST", EndpointToken, ""))
		if r.status != 200 || r.TokenType != "DPoP" {
			t.Errorf("a proof for the proxy's %s sent to the listener: %d %q %q", s.Endpoint(EndpointToken), r.status, r.Error, r.ErrorDescription)
		}
	})
}

// With dpop-nonce a valid proof must carry the provider's nonce (RFC 9449
// section 8): without it, or with another, use_dpop_nonce, the nonce in
// DPoP-Nonce (readable by the page), and the code stays good for the retry;
// the nonce works for the exchange and the refreshes after it.
func TestDPoPNonce(t *testing.T) {
	s, _ := startOnClock(t, Client{DPoP: DPoPRequire, DPoPNonce: true})
	k := newKey(t)
	code := codeFor(t, s, nil)
	withNonce := func(nonce string) string {
		p, err := k.Proof("POST", s.Endpoint(EndpointToken), "", nonce, s.Timeline.Clock().Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := postTokenTo(t, s, s.Endpoint(EndpointToken), exchangeForm(code), withNonce(""))
	if first.status != 400 || first.Error != "use_dpop_nonce" || first.nonce == "" || !strings.Contains(first.exposed, "DPoP-Nonce") {
		t.Fatalf("a proof without the nonce: %d %q, DPoP-Nonce %q, exposed %q; want 400 use_dpop_nonce with the nonce, exposed", first.status, first.Error, first.nonce, first.exposed)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop": "valid", "dpop_nonce": "missing", "error": "use_dpop_nonce"})
	if other := postTokenTo(t, s, s.Endpoint(EndpointToken), exchangeForm(code), withNonce("not-the-nonce")); other.status != 400 || other.Error != "use_dpop_nonce" {
		t.Fatalf("a proof with another nonce: %d %q, want use_dpop_nonce", other.status, other.Error)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop_nonce": "other"})
	tr := postTokenTo(t, s, s.Endpoint(EndpointToken), exchangeForm(code), withNonce(first.nonce))
	if tr.status != 200 || tr.TokenType != "DPoP" || tr.nonce != first.nonce {
		t.Fatalf("the retry with the nonce: %d %q %s, DPoP-Nonce %q", tr.status, tr.Error, tr.ErrorDescription, tr.nonce)
	}
	wantFields(t, s, "idp.token", map[string]string{"dpop_nonce": "current", "dpop_bound": "yes"})
	r := postTokenTo(t, s, s.Endpoint(EndpointToken), refreshForm(tr.RefreshToken), withNonce(first.nonce))
	if r.status != 200 {
		t.Fatalf("a refresh with the nonce: %d %q %s", r.status, r.Error, r.ErrorDescription)
	}
	// Without dpop-nonce the same proof without a nonce is fine.
	plain, _ := startOnClock(t, Client{DPoP: DPoPRequire})
	if tr := dpopLogin(t, plain, k); tr.nonce != "" {
		t.Errorf("without dpop-nonce the answer carries DPoP-Nonce %q", tr.nonce)
	}
}
