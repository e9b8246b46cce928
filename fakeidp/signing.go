package fakeidp

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite/token/jwt"
)

// sign signs claims with the current key and names that key's kid in the
// header, taken together so a rotation in between cannot mismatch them.
func (s *Server) sign(ctx context.Context, claims map[string]any, typ string) (string, error) {
	key, kid := s.keys.signer()
	return signWith(ctx, key, kid, claims, typ)
}

// signWith signs claims with key, naming kid in the header unless it is "".
func signWith(ctx context.Context, key *rsa.PrivateKey, kid string, claims map[string]any, typ string) (string, error) {
	signer := &jwt.DefaultSigner{GetPrivateKey: func(context.Context) (interface{}, error) { return key, nil }}
	extra := map[string]interface{}{}
	if kid != "" {
		extra["kid"] = kid
	}
	if typ != "" {
		extra["typ"] = typ
	}
	tok, _, err := signer.Generate(ctx, jwt.MapClaims(claims), &jwt.Headers{Extra: extra})
	return tok, err
}

// verified is a JWT whose signature one of the provider's keys made.
type verified struct {
	header map[string]any
	claims map[string]any
}

// verify checks a JWT's signature against the key its kid names, any key the
// provider ever published (a rotated key still verifies what it signed). It
// checks no time: every time check is the caller's, on the scenario clock.
func (s *Server) verify(raw string) (verified, error) {
	obj, err := jose.ParseSigned(raw)
	if err != nil {
		return verified{}, fmt.Errorf("not a signed JWT: %w", err)
	}
	if len(obj.Signatures) != 1 {
		return verified{}, errors.New("not one signature")
	}
	h := obj.Signatures[0].Header
	if h.Algorithm != string(jose.RS256) {
		return verified{}, fmt.Errorf("alg %q, want RS256", h.Algorithm)
	}
	key, ok := s.keys.public(h.KeyID)
	if !ok {
		return verified{}, fmt.Errorf("kid %q is not one of the provider's keys", h.KeyID)
	}
	payload, err := obj.Verify(key)
	if err != nil {
		return verified{}, errors.New("the signature does not verify")
	}
	v := verified{header: map[string]any{"alg": h.Algorithm, "kid": h.KeyID}}
	for k, x := range h.ExtraHeaders {
		v.header[string(k)] = x
	}
	if err := json.Unmarshal(payload, &v.claims); err != nil {
		return verified{}, fmt.Errorf("payload: %w", err)
	}
	return v, nil
}

// numClaim reads a NumericDate or other number claim (JSON gives float64;
// claims still in memory may hold int64).
func numClaim(c map[string]any, name string) (int64, bool) {
	switch v := c[name].(type) {
	case float64:
		return int64(v), true
	case int64:
		return v, true
	case int:
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

func audiences(c map[string]any) []string {
	switch v := c["aud"].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, a := range v {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}

// errHintExpired marks an id_token past its exp on the scenario clock and
// valid in every other way.
var errHintExpired = errors.New("the id_token has expired")

// checkIDToken verifies an id_token this provider issued, as a hint
// (id_token_hint at /authorize and at logout): its signature, typ, issuer,
// that it was issued to client (when client is not empty), and its times on
// the scenario clock. A hint issued after now, or not valid before a later
// time, is refused; an expired one is reported as errHintExpired with its
// claims, since OpenID Connect lets a hint name a past session.
func (s *Server) checkIDToken(ctx context.Context, raw, client string) (map[string]any, error) {
	v, err := s.verify(raw)
	if err != nil {
		return nil, err
	}
	if typ, _ := v.header["typ"].(string); typ != "JWT" {
		return nil, fmt.Errorf("typ %q is not an id_token's", typ)
	}
	if iss, _ := v.claims["iss"].(string); iss != s.URL {
		return nil, fmt.Errorf("iss %q is not this provider's %q", iss, s.URL)
	}
	if client != "" && !slices.Contains(audiences(v.claims), client) {
		return nil, fmt.Errorf("issued to %v, not to client %q", audiences(v.claims), client)
	}
	now := s.now(ctx).Unix()
	if iat, ok := numClaim(v.claims, "iat"); !ok || iat > now {
		return nil, fmt.Errorf("issued at %d, after now (%d) on the scenario clock", iat, now)
	}
	if nbf, ok := numClaim(v.claims, "nbf"); ok && nbf > now {
		return nil, fmt.Errorf("not valid before %d, after now (%d) on the scenario clock", nbf, now)
	}
	if exp, ok := numClaim(v.claims, "exp"); !ok || exp <= now {
		return v.claims, errHintExpired
	}
	return v.claims, nil
}

// hintSigner is the jwt.Signer fosite's OpenID Connect handlers get. They
// sign nothing with it that is not re-signed (idTokenStrategy), but they
// decode id_token_hint with it; fosite's own Decode checks iat and nbf
// against the wall clock, so every hint signed on a scenario clock ahead of
// it was refused, and it verifies with the current key only, so a hint
// signed before a key rotation was refused too. This Decode checks the same
// (and the audience, which fosite does not) on the scenario clock, and keeps
// fosite's rule that an expired hint is acceptable: it reports only the
// expiry bit then, never alongside another problem, because fosite waves a
// hint through whenever that bit is set.
type hintSigner struct {
	*jwt.DefaultSigner
	s *Server
}

func (h hintSigner) Decode(ctx context.Context, raw string) (*jwt.Token, error) {
	client, _ := ctx.Value(clientIDKey{}).(string)
	claims, err := h.s.checkIDToken(ctx, raw, client)
	switch {
	case errors.Is(err, errHintExpired):
		return &jwt.Token{Claims: jwt.MapClaims(claims), Method: jose.RS256}, &jwt.ValidationError{Errors: jwt.ValidationErrorExpired, Inner: err}
	case err != nil:
		return nil, &jwt.ValidationError{Errors: jwt.ValidationErrorClaimsInvalid, Inner: err}
	}
	return &jwt.Token{Claims: jwt.MapClaims(claims), Method: jose.RS256}, nil
}

// jwsSignature is the storage signature of a JWT token: its third segment,
// as fosite's JWT strategy keys them.
func jwsSignature(tok string) string {
	sig, _ := jwtSegment(tok, 2)
	return sig
}
