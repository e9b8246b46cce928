package fakeidp

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// loginSession is the IdP's own session, the one a hidden iframe's prompt=none
// request relies on.
type loginSession struct {
	id           string // the cookie's value
	subject      string
	authTime     time.Time // scenario clock
	authTimeWall time.Time // wall clock, for fosite's own checks
	expires      time.Time // scenario clock
}

type sessions struct {
	mu   sync.Mutex
	byID map[string]loginSession
}

func newSessions() *sessions { return &sessions{byID: map[string]loginSession{}} }

func (s *sessions) get(r *http.Request, now time.Time) (loginSession, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return loginSession{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ls, ok := s.byID[c.Value]
	if !ok || !now.Before(ls.expires) {
		return loginSession{}, false
	}
	return ls, true
}

// alive reports whether the session with this ID is still there and not
// past its lifetime.
func (s *sessions) alive(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ls, ok := s.byID[id]
	return ok && now.Before(ls.expires)
}

// login starts a session for the test user and sets its cookie. SameSite=None;
// Secure is what lets the cookie reach the IdP inside a cross-site iframe; Chromium
// accepts Secure cookies over plain http on loopback hosts.
func (s *sessions) login(w http.ResponseWriter, subject string, now, wall time.Time, lifetime time.Duration) loginSession {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	id := hex.EncodeToString(b)
	ls := loginSession{id: id, subject: subject, authTime: now, authTimeWall: wall, expires: now.Add(lifetime)}
	s.mu.Lock()
	s.byID[id] = ls
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/",
		MaxAge:   int(lifetime / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode,
	})
	return ls
}

// logout ends the request's session, if it has one, and clears the cookie.
func (s *sessions) logout(w http.ResponseWriter, r *http.Request) bool {
	ended := false
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		_, ended = s.byID[c.Value]
		delete(s.byID, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode,
	})
	return ended
}

func (s *sessions) clear() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.byID)
	s.byID = map[string]loginSession{}
	return n
}
