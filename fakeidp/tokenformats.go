package fakeidp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/x/errorsx"
)

// Access and refresh tokens are opaque (fosite's HMAC tokens) or JWTs, by
// client. Both are stored by fosite under their signature, so expiry (on the
// scenario clock), rotation, reuse detection and revocation treat them alike;
// a JWT's signature for storage is its JWS signature, as fosite's own JWT
// strategy has it. Authorization codes stay opaque.
//
// A JWT is told from an opaque token by its shape: fosite's HMAC tokens have
// one dot, a JWS has two.
func isJWT(tok string) bool { return strings.Count(tok, ".") == 2 }

const (
	accessTokenTyp = "at+jwt" // RFC 9068 section 2.1
	// refreshTyp is the typ claim Keycloak puts in its refresh tokens, which
	// keycloak-js decodes like every token it holds.
	refreshTyp = "Refresh"
)

func (c clockedStrategy) AccessTokenSignature(ctx context.Context, tok string) string {
	if isJWT(tok) {
		return jwsSignature(tok)
	}
	return c.CoreStrategy.AccessTokenSignature(ctx, tok)
}

func (c clockedStrategy) RefreshTokenSignature(ctx context.Context, tok string) string {
	if isJWT(tok) {
		return jwsSignature(tok)
	}
	return c.CoreStrategy.RefreshTokenSignature(ctx, tok)
}

// GenerateAccessToken makes an RFC 9068 access token for a client that asks
// for JWTs: iss, sub, aud, exp, iat, jti, client_id and scope (and auth_time,
// and cnf when DPoP binds it), its times on the scenario clock, signed with
// the current key.
func (c clockedStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	cl := c.s.clients[r.GetClient().GetID()]
	if cl.AccessTokenFormat != JWT {
		return c.CoreStrategy.GenerateAccessToken(ctx, r)
	}
	aud := []string(r.GetGrantedAudience())
	if len(aud) == 0 {
		// No resource was asked for: the client itself is the audience.
		aud = []string{cl.ID}
	}
	claims := c.s.tokenClaims(ctx, r, cl.AccessTokenLifetime.Seconds())
	claims["aud"] = aud
	if jkt := boundKey(ctx); jkt != "" {
		claims["cnf"] = map[string]string{"jkt": jkt} // RFC 9449 section 6.1
	}
	return c.s.signToken(ctx, claims, accessTokenTyp)
}

// GenerateRefreshToken makes a signed JWT refresh token for a client that
// asks for them, shaped as Keycloak's (aud the issuer, typ Refresh).
func (c clockedStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	cl := c.s.clients[r.GetClient().GetID()]
	if cl.RefreshTokenFormat != JWT {
		return c.CoreStrategy.GenerateRefreshToken(ctx, r)
	}
	claims := c.s.tokenClaims(ctx, r, c.s.refreshExpiry(ctx, cl, r.GetID()).Sub(c.s.now(ctx)).Seconds())
	claims["aud"] = c.s.URL
	claims["typ"] = refreshTyp
	return c.s.signToken(ctx, claims, "JWT")
}

func (s *Server) tokenClaims(ctx context.Context, r fosite.Requester, lifetimeSeconds float64) map[string]any {
	now := s.now(ctx)
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	claims := map[string]any{
		"iss": s.URL, "sub": r.GetSession().GetSubject(),
		"iat": now.Unix(), "exp": now.Unix() + int64(lifetimeSeconds),
		"jti": hex.EncodeToString(jti), "client_id": r.GetClient().GetID(),
		"scope": strings.Join(r.GetGrantedScopes(), " "),
	}
	if sess, ok := r.GetSession().(openid.Session); ok && sess.IDTokenClaims() != nil {
		if at, ok := numClaim(sess.IDTokenClaims().Extra, authTimeClaim); ok {
			claims["auth_time"] = at
		}
	}
	return claims
}

func (s *Server) signToken(ctx context.Context, claims map[string]any, typ string) (string, string, error) {
	tok, err := s.sign(ctx, claims, typ)
	if err != nil {
		return "", "", errorsx.WithStack(fosite.ErrServerError.WithWrap(err))
	}
	return tok, jwsSignature(tok), nil
}

// validateJWT checks a JWT token's signature and type; its expiry is the
// token book's (the scenario clock), checked before.
func (s *Server) validateJWT(tok, typ, claimTyp, what string) error {
	v, err := s.verify(tok)
	if err != nil {
		return errorsx.WithStack(fosite.ErrTokenSignatureMismatch.WithHintf("%s: %s.", what, err))
	}
	if h, _ := v.header["typ"].(string); h != typ {
		return errorsx.WithStack(fosite.ErrTokenSignatureMismatch.WithHintf("%s: typ %q, want %q.", what, h, typ))
	}
	if ct, _ := v.claims["typ"].(string); ct != claimTyp {
		return errorsx.WithStack(fosite.ErrTokenSignatureMismatch.WithHintf("%s: claim typ %q, want %q.", what, ct, claimTyp))
	}
	return nil
}

var _ oauth2.CoreStrategy = clockedStrategy{}
