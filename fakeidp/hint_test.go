package fakeidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/ory/fosite/token/jwt"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// hoursAhead is a scenario clock some hours ahead of the wall clock, as the
// virtual clock is after a long scenario: fosite, reading the wall clock,
// saw every id_token this provider signed as issued in the future.
func hoursAhead(t *testing.T, clients ...Client) (*Server, *manualClock) {
	t.Helper()
	clock := &manualClock{now: time.Now().Add(6 * time.Hour).Truncate(time.Second)}
	for i := range clients {
		clients[i].RedirectURIs, clients[i].Origins = []string{redirect}, []string{appOrigin}
	}
	s, err := Start(Config{Clients: clients}, timeline.New(clock))
	if err != nil {
		t.Fatal(err)
	}
	closeAndValidate(t, s)
	return s, clock
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	var c map[string]any
	if err := decodeJWT(tok, &c); err != nil {
		t.Fatalf("not a JWT: %v", err)
	}
	return c
}

// resign signs claims changed by change with the provider's own key: a hint
// only the provider could have made, to test the checks after the signature.
func resign(t *testing.T, s *Server, tok string, change func(map[string]any)) string {
	t.Helper()
	c := claimsOf(t, tok)
	change(c)
	out, err := s.sign(context.Background(), c, "")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// An id_token_hint is checked on the scenario clock: the provider's own
// id_token is accepted hours ahead of the wall clock, also after a key
// rotation; a forged one, one for another client, one issued after now and
// one for another user are refused; an expired one names a past session,
// which OpenID Connect allows, and is accepted while that session lives.
func TestIDTokenHintOnTheScenarioClock(t *testing.T) {
	s, clock := hoursAhead(t, Client{ID: "spa"}, Client{ID: "other"})
	hc, tr := login(t, s, "openid offline_access")
	hint := func(h string) url.Values {
		p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}, "id_token_hint": {h}})
		return p
	}
	if p := hint(tr.IDToken); p.Get("code") == "" {
		t.Fatalf("the provider's own id_token as a hint, hours ahead of the wall clock: %v", p)
	}
	if e := last(s, "idp.authorize"); e.Fields["id_token_hint"] != fingerprint(tr.IDToken) {
		t.Errorf("entry %v does not name the hint by its fingerprint", e)
	}

	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	forger := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return other, nil }}
	forged, _, err := forger.Generate(context.Background(), jwt.MapClaims(claimsOf(t, tr.IDToken)), &jwt.Headers{Extra: map[string]interface{}{"kid": kidOf(tr.IDToken)}})
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]string{
		"forged (another key, the same kid)": forged,
		"tampered (the signature kept)":      tamper(tr.IDToken),
		"for another client":                 resign(t, s, tr.IDToken, func(c map[string]any) { c["aud"] = []string{"other"}; c["azp"] = "other" }),
		"issued an hour from now":            resign(t, s, tr.IDToken, func(c map[string]any) { c["iat"] = clock.Now().Add(time.Hour).Unix() }),
		"not valid before an hour from now":  resign(t, s, tr.IDToken, func(c map[string]any) { c["nbf"] = clock.Now().Add(time.Hour).Unix() }),
		"from another issuer":                resign(t, s, tr.IDToken, func(c map[string]any) { c["iss"] = "http://elsewhere.test" }),
		"expired and from another issuer":    resign(t, s, tr.IDToken, func(c map[string]any) { c["iss"] = "http://elsewhere.test"; c["exp"] = 1 }),
	} {
		if p := hint(h); p.Get("error") != "invalid_request" {
			t.Errorf("a hint %s: %v, want invalid_request", name, p)
		}
	}
	if p := hint(resign(t, s, tr.IDToken, func(c map[string]any) { c["sub"] = "bob" })); p.Get("error") != "login_required" {
		t.Errorf("a hint for another user than the session's: %v, want login_required", p)
	}

	if err := s.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	if p := hint(tr.IDToken); p.Get("code") == "" {
		t.Errorf("a hint signed before a key rotation: %v", p)
	}

	clock.advance(10 * time.Minute) // past the id_token's exp (5 minutes), within the session (1h)
	if p := hint(tr.IDToken); p.Get("code") == "" {
		t.Errorf("an expired hint while its session lives: %v, want a code", p)
	}
	s.EndSessions()
	if p := hint(tr.IDToken); p.Get("error") != "login_required" {
		t.Errorf("an expired hint after the session ended: %v, want login_required", p)
	}
}

// Codes, tokens and the session expire on the scenario clock hours ahead of
// the wall clock, not on the wall clock.
func TestCodeExpiryOnTheScenarioClock(t *testing.T) {
	s, clock := hoursAhead(t, Client{ID: "spa"})
	p, _ := authorize(t, browserFor(t, s), s, nil)
	clock.advance(codeLifetime)
	tr := postToken(t, s, url.Values{
		"grant_type": {"authorization_code"}, "code": {p.Get("code")}, "client_id": {"spa"},
		"redirect_uri": {redirect}, "code_verifier": {verifier},
	})
	if tr.Error != "invalid_grant" {
		t.Errorf("a code a minute old on the scenario clock: %d %q, want invalid_grant", tr.status, tr.Error)
	}
}

// max_age and prompt=login are judged on the scenario clock: a session older
// than max_age needs a login (prompt=none answers login_required), and
// prompt=login logs the user in again.
func TestMaxAgeAndPromptLoginOnTheScenarioClock(t *testing.T) {
	s, clock := hoursAhead(t, Client{ID: "spa"})
	hc, tr := login(t, s, "openid offline_access")
	first := claimsOf(t, tr.IDToken)["auth_time"]
	clock.advance(2 * time.Minute)
	if p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}, "max_age": {"600"}}); p.Get("code") == "" {
		t.Errorf("prompt=none, a session younger than max_age: %v", p)
	}
	if p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}, "max_age": {"60"}}); p.Get("error") != "login_required" {
		t.Errorf("prompt=none, a session older than max_age: %v, want login_required", p)
	}
	for _, extra := range []url.Values{{"max_age": {"60"}}, {"prompt": {"login"}}} {
		clock.advance(2 * time.Minute)
		p, _ := authorize(t, hc, s, extra)
		if e := last(s, "idp.authorize"); p.Get("code") == "" || e.Fields["login"] != "yes" {
			t.Fatalf("%v: %v, entry %v; want a fresh login", extra, p, e)
		}
		tr := postToken(t, s, url.Values{
			"grant_type": {"authorization_code"}, "code": {p.Get("code")}, "client_id": {"spa"},
			"redirect_uri": {redirect}, "code_verifier": {verifier},
		})
		if at := claimsOf(t, tr.IDToken)["auth_time"]; at != float64(clock.Now().Unix()) || at == first {
			t.Errorf("%v: auth_time %v, want the new login's %d", extra, at, clock.Now().Unix())
		}
	}
}

// A refreshed id_token carries no nonce (OpenID Connect Core 12.2) and the
// original's iss, sub, aud, azp and auth_time, with fresh iat and exp.
func TestRefreshedIDTokenKeepsIdentityDropsNonce(t *testing.T) {
	s, clock := hoursAhead(t, Client{ID: "spa"})
	_, tr := login(t, s, "openid offline_access")
	orig := claimsOf(t, tr.IDToken)
	if orig["nonce"] != "nonce-12345678" || orig["azp"] != "spa" {
		t.Fatalf("the first id_token: nonce %v azp %v", orig["nonce"], orig["azp"])
	}
	clock.advance(time.Minute)
	r := refresh(t, s, tr.RefreshToken)
	got := claimsOf(t, r.IDToken)
	if n, ok := got["nonce"]; ok {
		t.Errorf("the refreshed id_token carries nonce %v", n)
	}
	for _, k := range []string{"iss", "sub", "aud", "azp", "auth_time"} {
		if !reflect.DeepEqual(got[k], orig[k]) {
			t.Errorf("refreshed %s = %v, the original's %v", k, got[k], orig[k])
		}
	}
	if got["iat"] != float64(clock.Now().Unix()) || got["exp"].(float64) <= orig["exp"].(float64) {
		t.Errorf("refreshed iat %v exp %v (original exp %v)", got["iat"], got["exp"], orig["exp"])
	}
	if _, ok := got["rat"]; ok {
		t.Errorf("the id_token carries fosite's wall-clock rat")
	}
}
