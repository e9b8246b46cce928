package fakeidp

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
)

// verifyWithJWKS verifies tok the way a resource server does: with the key
// the published key set holds under the token's kid.
func verifyWithJWKS(t *testing.T, s *Server, tok string) (map[string]any, jose.Header) {
	t.Helper()
	payload, h, err := verifyJWS(jwksOf(t, s), tok)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims, h
}

// jwksOf fetches the key set as a client does.
func jwksOf(t *testing.T, s *Server) jose.JSONWebKeySet {
	t.Helper()
	resp, err := s.HTTPClient().Get(s.Endpoint(EndpointJWKS))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set
}

// verifyJWS verifies tok with the key of set its kid names, and says why
// it does not verify.
func verifyJWS(set jose.JSONWebKeySet, tok string) ([]byte, jose.Header, error) {
	obj, err := jose.ParseSigned(tok)
	if err != nil {
		return nil, jose.Header{}, fmt.Errorf("not a JWS: %w", err)
	}
	h := obj.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		return nil, h, fmt.Errorf("kid %q: %d keys in the published set", h.KeyID, len(keys))
	}
	payload, err := obj.Verify(keys[0].Key)
	if err != nil {
		return nil, h, fmt.Errorf("signature: %w", err)
	}
	return payload, h, nil
}

// A JWT access token is RFC 9068's: typ at+jwt, signed with the current key
// under its kid, with iss, sub, aud, exp, iat, jti, client_id and scope,
// its times on the scenario clock.
func TestJWTAccessToken(t *testing.T) {
	s, clock := startOnClock(t, Client{AccessTokenFormat: JWT, AccessTokenLifetime: 90 * time.Second})
	_, tr := login(t, s, "openid offline_access")
	claims, h := verifyWithJWKS(t, s, tr.AccessToken)
	if typ := h.ExtraHeaders["typ"]; typ != "at+jwt" || h.KeyID != "refreshsuite-1" || h.Algorithm != "RS256" {
		t.Errorf("header typ %v kid %q alg %q, want at+jwt refreshsuite-1 RS256", typ, h.KeyID, h.Algorithm)
	}
	now := clock.Now().Unix()
	want := map[string]any{
		"iss": s.URL, "sub": "alice", "client_id": "spa", "scope": "openid offline_access",
		"iat": float64(now), "exp": float64(now + 90),
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != "spa" {
		t.Errorf("aud %v, want [spa]", claims["aud"])
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Errorf("jti %q", jti)
	}
	second := refresh(t, s, tr.RefreshToken)
	c2, _ := verifyWithJWKS(t, s, second.AccessToken)
	if c2["jti"] == claims["jti"] {
		t.Errorf("two access tokens share jti %v", c2["jti"])
	}
	// Signed with the key of the moment; the old key still verifies.
	if err := s.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	third := refresh(t, s, second.RefreshToken)
	if _, h := verifyWithJWKS(t, s, third.AccessToken); h.KeyID != "refreshsuite-2" {
		t.Errorf("after a rotation the access token has kid %q", h.KeyID)
	}
	if code := userinfoStatus(t, s, third.AccessToken); code != 200 {
		t.Errorf("userinfo with the newest access token: %d", code)
	}
}

// A JWT refresh token decodes as a JWT (what keycloak-js does with every
// token it holds) and carries its own expiry.
func TestJWTRefreshToken(t *testing.T) {
	s, clock := startOnClock(t, Client{RefreshTokenFormat: JWT, RefreshTokenLifetime: time.Hour})
	_, tr := login(t, s, "openid offline_access")
	claims, h := verifyWithJWKS(t, s, tr.RefreshToken)
	if h.ExtraHeaders["typ"] != "JWT" || claims["typ"] != "Refresh" || claims["iss"] != s.URL || claims["sub"] != "alice" {
		t.Errorf("refresh token header %v claims %v", h.ExtraHeaders, claims)
	}
	if claims["exp"] != float64(clock.Now().Add(time.Hour).Unix()) {
		t.Errorf("exp %v, want the scenario clock + 1h", claims["exp"])
	}
	if strings.Count(tr.AccessToken, ".") != 1 {
		t.Errorf("the access token should stay opaque: %d dots", strings.Count(tr.AccessToken, "."))
	}
}

// Expiry, rotation, reuse detection, revocation and userinfo work the same
// with either format.
func TestTokenLifecycleInBothFormats(t *testing.T) {
	for _, format := range []TokenFormat{Opaque, JWT} {
		t.Run(string(format), func(t *testing.T) {
			s, clock := startOnClock(t, Client{
				AccessTokenFormat: format, RefreshTokenFormat: format,
				AccessTokenLifetime: 5 * time.Second, RefreshTokenLifetime: time.Minute,
			})
			_, first := login(t, s, "openid offline_access")
			if got := strings.Count(first.AccessToken, ".") == 2; got != (format == JWT) {
				t.Fatalf("access token JWT-shaped %v, format %s", got, format)
			}
			if code := userinfoStatus(t, s, first.AccessToken); code != 200 {
				t.Fatalf("userinfo: %d", code)
			}
			if code := userinfoStatus(t, s, first.RefreshToken); code != 401 {
				t.Errorf("userinfo with the refresh token as a bearer token: %d, want 401", code)
			}
			if code := userinfoStatus(t, s, tamper(first.AccessToken)); format == JWT && code != 401 {
				t.Errorf("userinfo with a tampered JWT (its signature kept): %d, want 401", code)
			}
			clock.advance(5 * time.Second)
			if code := userinfoStatus(t, s, first.AccessToken); code != 401 {
				t.Errorf("an access token past its lifetime on the scenario clock: %d, want 401", code)
			}
			second := refresh(t, s, first.RefreshToken)
			if second.status != 200 || second.RefreshToken == first.RefreshToken {
				t.Fatalf("rotation: %+v", second)
			}
			if r := refresh(t, s, first.RefreshToken); r.Error != "invalid_grant" {
				t.Errorf("replay: %d %q", r.status, r.Error)
			}
			if r := refresh(t, s, second.RefreshToken); r.Error != "invalid_grant" {
				t.Errorf("the chain after a replay: %d %q", r.status, r.Error)
			}
			_, fresh := login(t, s, "openid offline_access")
			resp, err := s.HTTPClient().PostForm(s.Endpoint(EndpointRevoke), url.Values{"token": {fresh.RefreshToken}, "client_id": {"spa"}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if e := last(s, "idp.revoke"); resp.StatusCode != 200 || e.Fields["outcome"] != "ok" || e.Fields["kind"] != "refresh_token" {
				t.Fatalf("revoke (no hint; the entry must say it was the refresh token): %d %v", resp.StatusCode, e)
			}
			if r := refresh(t, s, fresh.RefreshToken); r.Error != "invalid_grant" {
				t.Errorf("a revoked refresh token: %d %q", r.status, r.Error)
			}
			_, late := login(t, s, "openid offline_access")
			clock.advance(time.Minute)
			if r := refresh(t, s, late.RefreshToken); r.Error != "invalid_grant" {
				t.Errorf("a refresh token past its lifetime on the scenario clock: %d %q", r.status, r.Error)
			}
		})
	}
}

// tamper changes a JWT's payload and keeps its signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return tok + "x"
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	c["sub"] = "mallory"
	b, _ := json.Marshal(c)
	parts[1] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// A refresh token is no bearer credential at userinfo, whatever fosite's
// introspection would fall back to.
func TestUserinfoRefusesRefreshTokens(t *testing.T) {
	s := startIdP(t, Client{})
	_, tr := login(t, s, "openid offline_access")
	req, _ := http.NewRequest(http.MethodGet, s.Endpoint(EndpointUserinfo), nil)
	req.Header.Set("Authorization", "Bearer "+tr.RefreshToken)
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || last(s, "idp.userinfo").Fields["outcome"] != "error" {
		t.Errorf("userinfo with a refresh token: %d %v", resp.StatusCode, last(s, "idp.userinfo"))
	}
}
