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
}

func newStore(clients map[string]fosite.Client) *store {
	mem := storage.NewMemoryStore()
	for id, c := range clients {
		mem.Clients[id] = c
	}
	return &store{mem: mem}
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
	return s.mem.CreateRefreshTokenSession(ctx, sig, atSig, r)
}

func (s *store) GetRefreshTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.GetRefreshTokenSession(ctx, sig, sess)
}

func (s *store) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.DeleteRefreshTokenSession(ctx, sig)
}

// RotateRefreshToken refuses to rotate a token that a concurrent request rotated
// first: of two refreshes racing with one token exactly one wins, as with a
// transactional store, instead of both getting fresh tokens.
func (s *store) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.mem.GetRefreshTokenSession(ctx, sig, nil); err != nil {
		return fosite.ErrSerializationFailure.WithWrap(err)
	}
	return s.mem.RotateRefreshToken(ctx, requestID, sig)
}

func (s *store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.RevokeRefreshToken(ctx, requestID)
}

func (s *store) RevokeAccessToken(ctx context.Context, requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mem.RevokeAccessToken(ctx, requestID)
}
