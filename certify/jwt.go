package certify

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
)

// claims are the JWT claims the checks compare. Signatures are not verified
// here: the reference SPA's library validates what it accepts, and these
// checks are about what the IdP put in the token.
type claims struct {
	Iss string
	Sub string
	Aud []string
	Iat int64
	Exp int64
}

// decodeClaims reads a JWT's payload; an opaque token is an error.
func decodeClaims(tok string) (claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return claims{}, errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return claims{}, errors.New("not a JWT: payload is not base64url")
	}
	var p struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Iat json.Number     `json:"iat"`
		Exp json.Number     `json:"exp"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return claims{}, errors.New("not a JWT: payload is not a JSON object")
	}
	c := claims{Iss: p.Iss, Sub: p.Sub}
	c.Iat, _ = p.Iat.Int64()
	c.Exp, _ = p.Exp.Int64()
	var one string
	if json.Unmarshal(p.Aud, &one) == nil {
		c.Aud = []string{one}
	} else {
		_ = json.Unmarshal(p.Aud, &c.Aud)
	}
	slices.Sort(c.Aud)
	return c, nil
}
