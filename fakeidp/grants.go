package fakeidp

import (
	"context"
	"sync"
	"time"
)

// A grant is one authorization, by fosite's request ID: the ID of the
// /authorize request, which its code's exchange and every refresh of the
// refresh token family it began keep. The provider remembers, for each, the
// login session it was granted in and when its refresh token family began,
// for the expiry rules fosite does not have: a family's absolute lifetime,
// and refresh tokens that end with the login session; and the DPoP keys
// fosite knows nothing of (dpop.go).
type grant struct {
	session string    // the login session's ID at /authorize
	start   time.Time // when the family's first refresh token was issued (provider clock)
	// jkt is the key the family's refresh tokens are bound to, from its
	// code exchange on; empty: not bound.
	jkt string
}

type grantBook struct {
	mu   sync.Mutex
	byID map[string]grant
}

func newGrantBook() *grantBook { return &grantBook{byID: map[string]grant{}} }

// bind notes the login session an authorization was granted in.
func (b *grantBook) bind(id, session string) {
	b.update(id, func(g *grant) { g.session = session })
}

// started is when the grant's refresh token family began: now, the first
// time it is asked (as the family's first refresh token is issued).
func (b *grantBook) started(id string, now time.Time) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.byID[id]
	if g.start.IsZero() {
		g.start = now
		b.byID[id] = g
	}
	return g.start
}

// update changes the grant id under the book's lock.
func (b *grantBook) update(id string, change func(*grant)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	g := b.byID[id]
	change(&g)
	b.byID[id] = g
}

func (b *grantBook) get(id string) grant {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.byID[id]
}

func (b *grantBook) sessionOf(id string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.byID[id].session
}

// refreshExpiry is when a refresh token issued now for grant id expires: the
// family's absolute lifetime from its start (RefreshTokenLifetime, however
// often it is used), and, with an idle expiry, sooner when it is not used
// (RefreshTokenIdle from now: the next refresh issues a token that starts
// it again).
func (s *Server) refreshExpiry(ctx context.Context, cl Client, id string) time.Time {
	now := s.now(ctx)
	exp := s.grants.started(id, now).Add(cl.RefreshTokenLifetime)
	if idle := now.Add(cl.RefreshTokenIdle); cl.RefreshTokenIdle > 0 && idle.Before(exp) {
		exp = idle
	}
	return exp
}

// sessionEnded reports whether the login session grant id was granted in
// has ended: logged out, ended (EndSessions) or past its lifetime.
func (s *Server) sessionEnded(ctx context.Context, id string) bool {
	return !s.sessions.alive(s.grants.sessionOf(id), s.now(ctx))
}
