package target

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// A proof is what RFC 9449 section 4.2 describes, verifiable with the key
// its own header carries, and its thumbprint is that key's.
func TestDPoPProof(t *testing.T) {
	k, err := NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	proof, err := k.Proof("POST", "https://IdP.example:8443/token?x=1#frag", "", "", now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(proof, ".") != 2 {
		t.Fatalf("not a JWS compact serialization: %s", proof)
	}
	obj, err := jose.ParseSigned(proof)
	if err != nil {
		t.Fatal(err)
	}
	h := obj.Signatures[0].Header
	if h.Algorithm != "ES256" || h.ExtraHeaders["typ"] != "dpop+jwt" || h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		t.Fatalf("header: alg %q typ %v jwk %+v", h.Algorithm, h.ExtraHeaders["typ"], h.JSONWebKey)
	}
	payload, err := obj.Verify(h.JSONWebKey)
	if err != nil {
		t.Fatalf("the proof does not verify with its own jwk: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	if c["htm"] != "POST" || c["htu"] != "https://IdP.example:8443/token" || c["iat"] != float64(now.Unix()) {
		t.Errorf("claims %v", c)
	}
	if jti, _ := c["jti"].(string); len(jti) < 16 {
		t.Errorf("jti %q is not a random identifier", jti)
	}
	if _, ok := c["ath"]; ok {
		t.Errorf("a proof without an access token has ath: %v", c)
	}
	if _, ok := c["nonce"]; ok {
		t.Errorf("a proof without a nonce has one: %v", c)
	}
	sum, _ := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if want := base64.RawURLEncoding.EncodeToString(sum); k.Thumbprint() != want {
		t.Errorf("Thumbprint %q, go-jose's of the header's jwk %q", k.Thumbprint(), want)
	}

	again, _ := k.Proof("GET", "https://idp.example/userinfo", "the-access-token", "n-1", now)
	obj, _ = jose.ParseSigned(again)
	payload, err = obj.Verify(obj.Signatures[0].Header.JSONWebKey)
	if err != nil {
		t.Fatal(err)
	}
	c = nil
	_ = json.Unmarshal(payload, &c)
	ath := sha256.Sum256([]byte("the-access-token"))
	if c["ath"] != base64.RawURLEncoding.EncodeToString(ath[:]) || c["nonce"] != "n-1" || c["htm"] != "GET" {
		t.Errorf("resource proof claims %v", c)
	}
	if first, _ := jose.ParseSigned(proof); c["jti"] == jtiOf(t, first) {
		t.Errorf("two proofs share the jti %v", c["jti"])
	}

	other, _ := NewDPoPKey()
	if other.Thumbprint() == k.Thumbprint() {
		t.Errorf("two keys share a thumbprint")
	}
}

func jtiOf(t *testing.T, obj *jose.JSONWebSignature) any {
	t.Helper()
	var c map[string]any
	_ = json.Unmarshal(obj.UnsafePayloadWithoutVerification(), &c)
	return c["jti"]
}
