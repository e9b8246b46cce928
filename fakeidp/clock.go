package fakeidp

import (
	"context"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/x/errorsx"

	"github.com/refreshsuite/refreshsuite/vocab"
)

// Time at this provider is the scenario clock (the timeline's), which on a
// virtual clock is the page's clock and runs far ahead of the wall clock. fosite
// itself reads the wall clock (time.Now) for expiry, iat and prompt checks, so
// the provider keeps the two apart:
//   - fosite is given lifespans so long that nothing expires on the wall clock
//     during a run, and keeps its own bookkeeping (requested_at, auth_time) on
//     the wall clock, where its consistency checks hold;
//   - everything a client or a check can see follows the scenario clock: the
//     expires_in of each response, the iat, exp and auth_time of each id_token
//     (re-signed below), and token, code and session expiry (enforced below).
//
// fosite's own validators that read the wall clock are kept off the
// request's path: id_token_hint is decoded by hintSigner, max_age and
// prompt=login are decided in authorize, both on the scenario clock.
//
// On the real clock the two clocks are the same and nothing changes.
const (
	// internalLifespan outlasts MaxLifetime, so fosite's wall-clock expiry
	// never comes before the scenario clock's.
	internalLifespan = 400 * 24 * time.Hour
	codeLifetime     = time.Minute
	// authTimeClaim carries the scenario-time auth_time inside the session (it
	// survives refreshes with it) until the id_token is re-signed.
	authTimeClaim = "refreshsuite_auth_time"
)

// clockedStrategy checks token and code expiry on the scenario clock before
// fosite's own checks (signature, and its far-off wall-clock expiry).
type clockedStrategy struct {
	oauth2.CoreStrategy
	s *Server
}

func (c clockedStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if err := c.s.tokens.expired(token, c.s.now(ctx), "Access token"); err != nil {
		return err
	}
	if isJWT(token) {
		return c.s.validateJWT(token, accessTokenTyp, "", "Access token")
	}
	return c.CoreStrategy.ValidateAccessToken(ctx, r, token)
}

func (c clockedStrategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	if err := c.s.tokens.expired(token, c.s.now(ctx), "Refresh token"); err != nil {
		return err
	}
	if c.s.clients[r.GetClient().GetID()].RefreshTokensEndWithSession && c.s.sessionEnded(ctx, r.GetID()) {
		// Refused as an expired token is: invalid_grant, the chain left
		// as it is.
		return errorsx.WithStack(fosite.ErrTokenExpired.WithHint("The login session the refresh token belongs to has ended."))
	}
	if isJWT(token) {
		return c.s.validateJWT(token, "JWT", refreshTyp, "Refresh token")
	}
	return c.CoreStrategy.ValidateRefreshToken(ctx, r, token)
}

func (c clockedStrategy) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	if err := c.s.tokens.expired(token, c.s.now(ctx), "Authorize code"); err != nil {
		return err
	}
	return c.CoreStrategy.ValidateAuthorizeCode(ctx, r, token)
}

// idTokenStrategy lets fosite build and check the id_token, then re-signs it
// with the scenario clock's iat, exp and auth_time.
type idTokenStrategy struct {
	openid.OpenIDConnectTokenStrategy
	s *Server
}

func (st idTokenStrategy) GenerateIDToken(ctx context.Context, lifespan time.Duration, r fosite.Requester) (string, error) {
	sess, ok := r.GetSession().(openid.Session)
	if ok && sess.IDTokenClaims() != nil {
		// fosite keeps the first id_token's expiry in the session it clones on
		// refresh; a fresh one each time.
		sess.IDTokenClaims().ExpiresAt = time.Now().UTC().Add(lifespan)
	}
	tok, err := st.OpenIDConnectTokenStrategy.GenerateIDToken(ctx, lifespan, r)
	if err != nil || !ok {
		return tok, err
	}
	var claims map[string]any
	if err := decodeJWT(tok, &claims); err != nil {
		return "", fosite.ErrServerError.WithWrap(err)
	}
	now := st.s.now(ctx)
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(st.s.clients[r.GetClient().GetID()].IDTokenLifetime).Unix()
	if at, ok := numClaim(claims, authTimeClaim); ok {
		// An integer: the session's copy went through JSON as a float, which
		// would be written 1.8934992e+09.
		claims["auth_time"] = at
		delete(claims, authTimeClaim)
	}
	// rat is fosite's wall-clock request time; nothing on the scenario clock
	// could be compared with it.
	delete(claims, "rat")
	claims["azp"] = r.GetClient().GetID()
	nonce, _ := claims["nonce"].(string)
	if r.GetRequestForm().Get("grant_type") == "refresh_token" {
		// OpenID Connect Core 12.2: a refreshed id_token SHOULD NOT carry a
		// nonce; fosite copies the first one's from the session. A client
		// that accepts a refreshed id_token only without one (as it may, the
		// nonce it sent being long gone) would throw its tokens away.
		delete(claims, "nonce")
	}
	if a := anomalyOf(ctx); a != nil {
		if _, ok := vocab.IDTokenAnomalies[a.do]; ok {
			return st.s.alterIDToken(ctx, a, claims, r.GetClient().GetID(), nonce)
		}
	}
	// Signed with the current key and its kid, whatever the session recorded
	// when the authorization began (the key may have been rotated since).
	return st.s.sign(ctx, claims, "")
}

// expired reports a token past its scenario-time expiry the way fosite does.
func (b *tokenBook) expired(tok string, now time.Time, what string) error {
	b.mu.Lock()
	exp, ok := b.expiry[fingerprint(tok)]
	b.mu.Unlock()
	if ok && !now.Before(exp) {
		return errorsx.WithStack(fosite.ErrTokenExpired.WithHintf("%s expired at '%s'.", what, exp.UTC().Format(time.RFC3339Nano)))
	}
	return nil
}
