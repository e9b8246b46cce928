package target

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// DPoPKey is a key pair a client proves possession of (RFC 9449). The
// harness holds its own, never the SPA's: a proof made with it shows what an
// IdP does with a token presented by someone who stole it without the key.
type DPoPKey struct {
	signer jose.Signer
	jkt    string
}

// NewDPoPKey makes a fresh P-256 key, for ES256: the one algorithm every
// DPoP server must be expected to take (oidc-client-ts signs with it only).
func NewDPoPKey() (*DPoPKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv},
		(&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt"))
	if err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey}
	sum, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("dpop key: %w", err)
	}
	return &DPoPKey{signer: signer, jkt: base64.RawURLEncoding.EncodeToString(sum)}, nil
}

// Proof is a DPoP proof JWT for one request: typ dpop+jwt, alg ES256, the
// public jwk in the header; jti (random), htm, htu (uri without its query
// and fragment, RFC 9449 section 4.2), iat (now, in seconds); ath, the
// base64url SHA-256 of accessToken, when one is given (a resource request);
// nonce when the server handed one out.
func (k *DPoPKey) Proof(method, uri, accessToken, nonce string, now time.Time) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("dpop proof: htu: %w", err)
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	claims := map[string]any{"jti": RandomString(), "htm": method, "htu": u.String(), "iat": now.Unix()}
	if accessToken != "" {
		claims["ath"] = s256(accessToken)
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	obj, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("dpop proof: %w", err)
	}
	return obj.CompactSerialize()
}

// Thumbprint is the RFC 7638 JWK SHA-256 thumbprint of the public key,
// base64url without padding: what RFC 9449 calls jkt (the cnf claim of a
// bound token, the dpop_jkt authorization parameter).
func (k *DPoPKey) Thumbprint() string { return k.jkt }

// s256 is base64url(SHA-256(s)) without padding: a proof's ath for a token
// (RFC 9449 section 4.2), a code verifier's S256 challenge (RFC 7636).
func s256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
