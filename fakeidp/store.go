package fakeidp

import (
	"context"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"
)

// store serialises every call into fosite's MemoryStore. The MemoryStore guards
// each map with its own lock but writes one map under another's lock when it
// revokes a refresh token, which races with a concurrent refresh; one lock around
// the whole store is simple and fast enough for a test IdP.
type store struct {
	mu  sync.Mutex
	mem *storage.MemoryStore
	srv *Server // the clients' rotation policies and the request's clock
	// graceUntil holds rotated refresh tokens (by signature) that stay valid
	// until the time given, under a client's rotation grace.
	graceUntil map[string]time.Time
	// chains lists every refresh token signature of an authorization: within
	// a grace, one token can be refreshed twice and the chain forks, and
	// revoking the chain must reach every branch.
	chains map[string][]string
	// rotated holds every refresh token signature that was rotated: presenting
	// one again is a replay, whatever the store answers (inactive, within a
	// grace, or gone with a revoked chain).
	rotated map[string]bool
}

func newStore(clients map[string]fosite.Client, srv *Server) *store {
	mem := storage.NewMemoryStore()
	for id, c := range clients {
		mem.Clients[id] = c
	}
	return &store{mem: mem, srv: srv, graceUntil: map[string]time.Time{}, chains: map[string][]string{}, rotated: map[string]bool{}}
}

func (s *store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.GetClient(ctx, id)
}

func (s *store) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.ClientAssertionJWTValid(ctx, jti)
}

func (s *store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.SetClientAssertionJWT(ctx, jti, exp)
}

func (s *store) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.CreateOpenIDConnectSession(ctx, code, r)
}

func (s *store) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.GetOpenIDConnectSession(ctx, code, r)
}

func (s *store) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.DeleteOpenIDConnectSession(ctx, code)
}

func (s *store) CreateAuthorizeCodeSession(ctx context.Context, code string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.CreateAuthorizeCodeSession(ctx, code, r)
}

func (s *store) GetAuthorizeCodeSession(ctx context.Context, code string, sess fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.GetAuthorizeCodeSession(ctx, code, sess)
}

func (s *store) InvalidateAuthorizeCodeSession(ctx context.Context, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.InvalidateAuthorizeCodeSession(ctx, code)
}

func (s *store) CreatePKCERequestSession(ctx context.Context, sig string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.CreatePKCERequestSession(ctx, sig, r)
}

func (s *store) GetPKCERequestSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.GetPKCERequestSession(ctx, sig, sess)
}

func (s *store) DeletePKCERequestSession(ctx context.Context, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.DeletePKCERequestSession(ctx, sig)
}

func (s *store) CreateAccessTokenSession(ctx context.Context, sig string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.CreateAccessTokenSession(ctx, sig, r)
}

func (s *store) GetAccessTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.GetAccessTokenSession(ctx, sig, sess)
}

func (s *store) DeleteAccessTokenSession(ctx context.Context, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.DeleteAccessTokenSession(ctx, sig)
}

func (s *store) CreateRefreshTokenSession(ctx context.Context, sig, atSig string, r fosite.Requester) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if keepsRefreshToken(ctx) {
		// Never handed out: a token nobody holds must not be valid.
		return nil
	}
	s.chains[r.GetID()] = append(s.chains[r.GetID()], sig)
	return s.mem.CreateRefreshTokenSession(ctx, sig, atSig, r)
}

func (s *store) GetRefreshTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.mem.GetRefreshTokenSession(ctx, sig, sess)
	if s.rotated[sig] {
		markReplay(ctx)
		id, _ := ctx.Value(clientIDKey{}).(string)
		if err != nil && s.srv.clients[id].ReuseEndsSessions {
			defer s.srv.EndSessions() // reuse: the grant is revoked with the chain
		}
	}
	if until, ok := s.graceUntil[sig]; ok && err == nil && !s.srv.now(ctx).Before(until) {
		return r, fosite.ErrInactiveToken // its grace is over: a use now is reuse
	}
	return r, err
}

func (s *store) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.DeleteRefreshTokenSession(ctx, sig)
}

// RotateRefreshToken refuses to rotate a token that a concurrent request rotated
// first: of two refreshes racing with one token exactly one wins, as with a
// transactional store, instead of both getting fresh tokens. A client with
// rotation reuse keeps the old token alive; one with a grace keeps it alive
// for the grace; a refresh that answers without a refresh token
// (refresh-no-refresh-token) keeps it alive as it was. Rotation unbound
// keeps a DPoP-bound family's token as reuse does.
func (s *store) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mem.GetRefreshTokenSession(ctx, sig, nil); err != nil {
		markReplay(ctx) // a concurrent request rotated it first
		return fosite.ErrSerializationFailure.WithWrap(err)
	}
	id, _ := ctx.Value(clientIDKey{}).(string)
	cl := s.srv.clients[id]
	keep := keepsRefreshToken(ctx)
	reuse := s.srv.reusesRefreshToken(cl, requestID)
	if !reuse && !keep {
		defer func() { s.rotated[sig] = true }()
	}
	switch {
	case reuse:
		return nil
	case keep:
		// A refresh that hands out no refresh token rotates none (RFC 6749
		// section 6: the client keeps the one it has), so the presented
		// token stays the live one of its chain; the access token this
		// refresh replaces dies as at any refresh.
		return s.mem.RevokeAccessToken(ctx, requestID)
	case cl.RotationGrace > 0:
		if _, already := s.graceUntil[sig]; already {
			// A second refresh within the grace: the chain has moved on.
			markReplay(ctx)
			return nil
		}
		s.graceUntil[sig] = s.srv.now(ctx).Add(cl.RotationGrace)
		return nil
	}
	return s.mem.RotateRefreshToken(ctx, requestID, sig)
}

// RevokeRefreshToken revokes every refresh token of the authorization; the
// MemoryStore knows only the newest.
func (s *store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sig := range s.chains[requestID] {
		if _, ok := s.mem.RefreshTokens[sig]; !ok {
			continue
		}
		s.mem.RefreshTokenRequestIDs[requestID] = sig
		if err := s.mem.RevokeRefreshToken(ctx, requestID); err != nil {
			return err
		}
	}
	return nil
}

// replayKey carries a *bool through fosite to the store, which sets it when
// the refresh token a request presents had already been rotated: a replay,
// whether a grace lets it through or reuse detection revokes the chain.
type replayKey struct{}

func markReplay(ctx context.Context) {
	if p, ok := ctx.Value(replayKey{}).(*bool); ok {
		*p = true
	}
}

func (s *store) RevokeAccessToken(ctx context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.RevokeAccessToken(ctx, requestID)
}
