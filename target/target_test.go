package target

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/refreshsuite/refreshsuite/tlsca"
)

func unsigned(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(payload)) + "."
}

// OpenID Connect Core 12.2: a refreshed id_token keeps the login's iss, sub,
// aud, azp and auth_time, carries no nonce or the login's, and is fresh.
func TestRefreshedClaims(t *testing.T) {
	at := time.Unix(1000, 0)
	login := Claims{Iss: "https://idp", Sub: "u", Aud: []string{"spa"}, Nonce: "n1", Iat: 900, Exp: 1200, AuthTime: 890}
	ok := Claims{Iss: "https://idp", Sub: "u", Aud: []string{"spa"}, Iat: 990, Exp: 1300, AuthTime: 890}
	for _, tc := range []struct {
		name   string
		change func(*Claims)
		want   string
	}{
		{"as the login's", func(*Claims) {}, ""},
		{"the login's nonce again", func(c *Claims) { c.Nonce = "n1" }, ""},
		{"azp naming the only audience", func(c *Claims) { c.Azp = "spa" }, ""},
		{"no auth_time", func(c *Claims) { c.AuthTime = 0 }, ""},
		{"another issuer", func(c *Claims) { c.Iss = "https://other" }, "iss"},
		{"another subject", func(c *Claims) { c.Sub = "v" }, "sub"},
		{"another audience", func(c *Claims) { c.Aud = []string{"spa", "api"} }, "aud"},
		{"another azp", func(c *Claims) { c.Azp = "other" }, "azp"},
		{"a new auth_time", func(c *Claims) { c.AuthTime = 995 }, "auth_time"},
		{"another nonce", func(c *Claims) { c.Nonce = "n2" }, "nonce"},
		{"an old iat", func(c *Claims) { c.Iat = 900 }, "iat"},
		{"expired", func(c *Claims) { c.Exp = 1000 }, "exp"},
	} {
		c := ok
		tc.change(&c)
		_, problems := Refreshed(login, c, at)
		if got := strings.Join(problems, " "); got != tc.want {
			t.Errorf("%s: problems %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDecodeClaims(t *testing.T) {
	c, err := DecodeClaims(unsigned(`{"iss":"https://idp","sub":"u","aud":"spa","azp":"spa","nonce":"n","iat":1,"exp":2,"auth_time":3}`))
	if err != nil || c.Iss != "https://idp" || len(c.Aud) != 1 || c.Aud[0] != "spa" || c.Azp != "spa" || c.AuthTime != 3 || c.Exp != 2 {
		t.Fatalf("%+v, %v", c, err)
	}
	if c, err := DecodeClaims(unsigned(`{"aud":["b","a"]}`)); err != nil || strings.Join(c.Aud, ",") != "a,b" {
		t.Errorf("an audience list: %+v, %v", c, err)
	}
	for _, tok := range []string{"opaque", "a.!!.c", unsigned(`[1]`)} {
		if _, err := DecodeClaims(tok); err == nil {
			t.Errorf("%q decoded", tok)
		}
	}
}

// The signature is checked against the key set at jwks_uri: a token signed
// by a published key is valid, one whose signature was altered or that a
// key outside the set signed is not, and alg none is unsigned. A kid the set
// lacks is read again once (a key published since).
func TestKeySetSignature(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	sign := func(k *ecdsa.PrivateKey, kid string) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", kid))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := s.Sign([]byte(`{"iss":"https://idp","sub":"u"}`))
		if err != nil {
			t.Fatal(err)
		}
		tok, _ := obj.CompactSerialize()
		return tok
	}
	reads := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reads++
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	}))
	defer srv.Close()
	ks := &KeySet{URI: srv.URL, Client: srv.Client()}
	ctx := context.Background()
	good := sign(key, "k1")
	broken := good[:len(good)-4] + map[bool]string{true: "AAAA", false: "BBBB"}[!strings.HasSuffix(good, "AAAA")]
	for _, tc := range []struct {
		name, tok, want string
	}{
		{"signed by the published key", good, "valid"},
		{"its signature altered", broken, "invalid"},
		{"signed by another key under the published kid", sign(other, "k1"), "invalid"},
		{"a kid the set does not have", sign(other, "k9"), "unknown-kid"},
		{"alg none", unsigned(`{"iss":"https://idp"}`), "unsigned"},
	} {
		if got, err := ks.Signature(ctx, tc.tok); got != tc.want {
			t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.want)
		}
	}
	if reads < 2 {
		t.Errorf("an unknown kid did not read the key set again (%d reads)", reads)
	}
	ks = &KeySet{URI: srv.URL + "/gone", Client: &http.Client{Timeout: time.Second, Transport: &http.Transport{}}}
	srv.Close()
	if got, _ := ks.Signature(ctx, good); got != "unchecked" {
		t.Errorf("an unreadable key set: %s, want unchecked", got)
	}
}

// --ca: the pool and the pins are the file's certificates; a file with none
// is refused.
func TestCAFile(t *testing.T) {
	ca, err := tlsca.New()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, ca.PEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	pins, err := SPKIHashes(file)
	if err != nil || pins != ca.SPKIHash() {
		t.Errorf("SPKIHashes: %q, %v, want %q", pins, err, ca.SPKIHash())
	}
	if _, err := HTTPClient(file); err != nil {
		t.Errorf("HTTPClient: %v", err)
	}
	empty := filepath.Join(dir, "empty.pem")
	_ = os.WriteFile(empty, []byte("not a certificate\n"), 0o644)
	for _, f := range []string{empty, filepath.Join(dir, "missing.pem")} {
		if _, err := SPKIHashes(f); err == nil || !strings.HasPrefix(err.Error(), "--ca") {
			t.Errorf("SPKIHashes(%s): %v, want an error naming --ca", f, err)
		}
		if _, err := HTTPClient(f); err == nil {
			t.Errorf("HTTPClient(%s) took it", f)
		}
	}
}

// Absent lists take the defaults of Discovery 1.0 and RFC 8414: no
// grant_types_supported means no refresh_token; no response_modes_supported
// means query and fragment.
func TestDiscoveryChecks(t *testing.T) {
	d := &Discovery{Issuer: "https://idp", AuthorizationEndpoint: "https://idp/a", TokenEndpoint: "https://idp/t", JWKSURI: "https://idp/k",
		ScopesSupported: []string{"openid", "offline_access"}, ResponseTypes: []string{"code"}, CodeChallengeMethods: []string{"S256"}, AllowOrigin: "*"}
	failed := func() []string {
		var out []string
		for _, c := range d.Checks("https://idp", "http://localhost:8080") {
			if !c.OK {
				out = append(out, c.Field)
			}
		}
		return out
	}
	if got := strings.Join(failed(), " "); got != "refresh_token_grant" {
		t.Errorf("without grant_types_supported: %q failed, want refresh_token_grant", got)
	}
	d.GrantTypes = []string{"authorization_code", "refresh_token"}
	if got := failed(); len(got) != 0 {
		t.Errorf("%v failed", got)
	}
	d.ResponseModes, d.AllowOrigin = []string{"query"}, "http://other"
	if got := strings.Join(failed(), " "); got != "fragment_mode cors" {
		t.Errorf("%q failed, want fragment_mode cors", got)
	}
}
