package fakeidp

import (
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// manualClock is a scenario clock that moves only when told, far from the wall
// clock, the way a virtual clock does.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func startOnClock(t *testing.T, c Client) (*Server, *manualClock) {
	t.Helper()
	return startOnClockWith(t, Config{SessionLifetime: 10 * time.Minute}, c)
}

// startOnClockWith runs the provider on a scenario clock years ahead of the
// wall clock, as a virtual clock can be (the page's Date.now() after hours of
// simulated time), so any check still reading the wall clock shows.
func startOnClockWith(t *testing.T, cfg Config, c Client) (*Server, *manualClock) {
	t.Helper()
	clock := &manualClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	c.ID, c.RedirectURIs, c.Origins = "spa", []string{redirect}, []string{appOrigin}
	cfg.Clients = []Client{c}
	s, err := Start(cfg, timeline.New(clock))
	if err != nil {
		t.Fatal(err)
	}
	closeAndValidate(t, s)
	return s, clock
}

func TestIDTokenTimesFollowTheScenarioClock(t *testing.T) {
	s, clock := startOnClock(t, Client{IDTokenLifetime: 30 * time.Second})
	_, tr := login(t, s, "openid offline_access")
	c, _ := jwtClaims(tr.IDToken)
	if c.Iat != clock.Now().Unix() || c.Exp != clock.Now().Add(30*time.Second).Unix() {
		t.Fatalf("iat %d exp %d, want the scenario clock's %d and +30s", c.Iat, c.Exp, clock.Now().Unix())
	}
	clock.advance(time.Hour) // far past the wall clock's idea of now
	r := refresh(t, s, tr.RefreshToken)
	c2, err := jwtClaims(r.IDToken)
	if err != nil || c2.Iat != clock.Now().Unix() {
		t.Fatalf("refreshed id_token iat %d, want %d (%v)", c2.Iat, clock.Now().Unix(), err)
	}
}

func TestExpiryFollowsTheScenarioClock(t *testing.T) {
	s, clock := startOnClock(t, Client{AccessTokenLifetime: 5 * time.Second, RefreshTokenLifetime: time.Minute})
	hc, tr := login(t, s, "openid offline_access")
	userinfo := func(at string) int { return userinfoStatus(t, s, at) }
	if code := userinfo(tr.AccessToken); code != 200 {
		t.Fatalf("fresh access token: userinfo %d", code)
	}
	clock.advance(5 * time.Second)
	if code := userinfo(tr.AccessToken); code != 401 {
		t.Errorf("access token 5s old on the scenario clock (a moment on the wall clock): userinfo %d, want 401", code)
	}
	clock.advance(time.Minute)
	if r := refresh(t, s, tr.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("refresh token past its lifetime on the scenario clock: %d %q, want invalid_grant", r.status, r.Error)
	}
	// The login session (10 minutes) has expired too: prompt=none needs a login.
	clock.advance(10 * time.Minute)
	p, _ := authorize(t, hc, s, url.Values{"prompt": {"none"}})
	if p.Get("error") != "login_required" {
		t.Errorf("prompt=none after the session's lifetime on the scenario clock: %v", p)
	}
}

func TestRotationReuseIsAWeakenedIdP(t *testing.T) {
	s, _ := startOnClock(t, Client{Rotation: Reuse})
	_, first := login(t, s, "openid offline_access")
	r1 := refresh(t, s, first.RefreshToken)
	if r1.status != 200 || r1.RefreshToken != first.RefreshToken {
		t.Fatalf("reuse: the same refresh token should come back, got %d %q", r1.status, r1.RefreshToken)
	}
	if r2 := refresh(t, s, first.RefreshToken); r2.status != 200 {
		t.Fatalf("reuse: the refresh token should stay valid, got %d %q", r2.status, r2.Error)
	}
}

func TestRotationGrace(t *testing.T) {
	s, clock := startOnClock(t, Client{RotationGrace: 10 * time.Second})
	_, first := login(t, s, "openid offline_access")
	second := refresh(t, s, first.RefreshToken)
	if second.status != 200 || second.RefreshToken == first.RefreshToken {
		t.Fatalf("rotation: %+v", second)
	}
	if e := last(s, "idp.token"); e.Fields["replay"] != "no" {
		t.Errorf("the first use of a refresh token recorded replay=%q, want no", e.Fields["replay"])
	}
	clock.advance(5 * time.Second)
	if r := refresh(t, s, first.RefreshToken); r.status != 200 {
		t.Errorf("the old token within its grace: %d %q", r.status, r.Error)
	}
	if e := last(s, "idp.token"); e.Fields["replay"] != "yes" {
		t.Errorf("a rotated token used within its grace recorded replay=%q, want yes", e.Fields["replay"])
	}
	clock.advance(6 * time.Second)
	if r := refresh(t, s, first.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("the old token after its grace: %d %q, want invalid_grant", r.status, r.Error)
	}
	// Reuse after the grace revokes the chain.
	if r := refresh(t, s, second.RefreshToken); r.Error != "invalid_grant" {
		t.Errorf("the chain after a reuse: %d %q, want invalid_grant", r.status, r.Error)
	}
}

func TestSigningKeyRotation(t *testing.T) {
	s, _ := startOnClock(t, Client{})
	_, first := login(t, s, "openid offline_access")
	if err := s.RotateSigningKey(); err != nil {
		t.Fatal(err)
	}
	second := refresh(t, s, first.RefreshToken)
	if k1, k2 := kidOf(first.IDToken), kidOf(second.IDToken); k1 != "refreshsuite-1" || k2 != "refreshsuite-2" {
		t.Fatalf("kids before and after rotation: %q, %q", k1, k2)
	}
	if set := s.keys.jwks(); len(set.Keys) != 2 {
		t.Errorf("the key set publishes %d keys, want the new and the old", len(set.Keys))
	}
}
