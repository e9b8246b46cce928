package fakeidp

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

// The provider reads it as it reads a virtual clock that the page always
// answers.
func (c *manualClock) NowInOrder() time.Time { return c.Now() }
func (c *manualClock) LastKnown() time.Time  { return c.Now() }
func (c *manualClock) Lapses() int           { return 0 }
func (c *manualClock) Mode() string          { return "virtual" }

// Until moves the clock by max at once: no test waits on it, they move it
// themselves.
func (c *manualClock) Until(_ context.Context, done func() bool, max time.Duration) error {
	if done() {
		return nil
	}
	c.advance(max)
	if done() {
		return nil
	}
	return timeline.ErrScenarioTimeout
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

// pageClock reads one or two seconds ahead of Now, by the way it is read.
type pageClock struct{ manualClock }

func (c *pageClock) LastKnown() time.Time  { return c.Now().Add(time.Second) }
func (c *pageClock) NowInOrder() time.Time { return c.Now().Add(2 * time.Second) }

// A document request (a top-level navigation, when the page cannot be asked)
// is stamped with the last time known; every other waits for the page's reports.
func TestRequestsReadTheClockByDestination(t *testing.T) {
	clock := &pageClock{manualClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}}
	c := Client{ID: "spa", RedirectURIs: []string{redirect}, Origins: []string{appOrigin}}
	s, err := Start(Config{Clients: []Client{c}}, timeline.New(clock))
	if err != nil {
		t.Fatal(err)
	}
	closeAndValidate(t, s)
	for dest, want := range map[string]time.Duration{"document": time.Second, "empty": 2 * time.Second} {
		req, _ := http.NewRequest(http.MethodGet, s.Endpoint(EndpointDiscovery), nil)
		req.Header.Set("Sec-Fetch-Dest", dest)
		resp, err := s.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		es := s.Timeline.Entries()
		if e := es[len(es)-1]; e.What != "idp.discovery" || e.At != want {
			t.Errorf("Sec-Fetch-Dest %s: got %s at %s, want idp.discovery at %s", dest, e.What, e.At, want)
		}
	}
}

func TestIDTokenTimesFollowTheScenarioClock(t *testing.T) {
	s, clock := startOnClock(t, Client{IDTokenLifetime: 30 * time.Second})
	_, tr := login(t, s, "openid offline_access")
	c, _ := jwtClaims(tr.IDToken)
	if c.Iat != clock.Now().Unix() || c.Exp != clock.Now().Add(30*time.Second).Unix() {
		t.Fatalf("iat %d exp %d, want the scenario clock's %d and +30s", c.Iat, c.Exp, clock.Now().Unix())
	}
	payload, _ := jwtSegment(tr.IDToken, 1)
	raw, _ := base64.RawURLEncoding.DecodeString(payload)
	if want := fmt.Sprintf(`"auth_time":%d,`, clock.Now().Unix()); !strings.Contains(string(raw), want) {
		t.Errorf("id_token payload %s, want %s written as an integer", raw, want)
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

// With the provider's clock skewed ahead or behind the scenario clock, every
// time it writes (iat, exp, auth_time, a JWT access token's exp) is on its
// own clock, expires_in is still the lifetime, and its timeline entries are
// stamped on the scenario clock.
func TestClockSkewMovesTheProvidersTimesOnly(t *testing.T) {
	for _, skew := range []time.Duration{7 * time.Minute, -7 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			s, clock := startOnClockWith(t, Config{ClockSkew: skew, SessionLifetime: time.Hour},
				Client{AccessTokenLifetime: 10 * time.Second, IDTokenLifetime: 30 * time.Second, AccessTokenFormat: JWT})
			if e := last(s, "idp.clock-skew"); e.Fields["skew_ms"] != ms(skew) {
				t.Errorf("idp.clock-skew entry %v, want skew_ms %s", e, ms(skew))
			}
			clock.advance(3 * time.Second)
			loginAt := clock.Now()
			_, tr := login(t, s, "openid offline_access")
			idp := loginAt.Add(skew).Unix()
			id := claimsOf(t, tr.IDToken)
			for claim, want := range map[string]int64{"iat": idp, "exp": idp + 30, "auth_time": idp} {
				if got, _ := numClaim(id, claim); got != want {
					t.Errorf("id_token %s = %d, want %d (the scenario clock %d plus the skew)", claim, got, want, loginAt.Unix())
				}
			}
			if got, _ := numClaim(claimsOf(t, tr.AccessToken), "exp"); got != idp+10 {
				t.Errorf("JWT access token exp = %d, want %d", got, idp+10)
			}
			if tr.ExpiresIn != 10 {
				t.Errorf("expires_in = %d, want the lifetime, 10", tr.ExpiresIn)
			}
			e := last(s, "idp.token")
			if want := loginAt.Sub(s.Timeline.Origin()); e.At != want {
				t.Errorf("idp.token stamped at %s, want the scenario clock's %s", e.At, want)
			}
			if e.Fields["id_token_ttl_ms"] != "30000" || e.Fields["expires_in_ms"] != "10000" {
				t.Errorf("idp.token lifetimes %v, want 30000 and 10000", e.Fields)
			}

			// The access token lives its lifetime on the provider's clock.
			clock.advance(10*time.Second - time.Millisecond)
			if code := userinfoStatus(t, s, tr.AccessToken); code != 200 {
				t.Errorf("access token 1ms before its exp on the provider's clock: userinfo %d, want 200", code)
			}
			clock.advance(time.Millisecond)
			if code := userinfoStatus(t, s, tr.AccessToken); code != 401 {
				t.Errorf("access token at its exp on the provider's clock: userinfo %d, want 401", code)
			}

			// A refresh later issues on the provider's clock again.
			clock.advance(time.Minute)
			r := refresh(t, s, tr.RefreshToken)
			if got, _ := numClaim(claimsOf(t, r.IDToken), "iat"); got != clock.Now().Add(skew).Unix() {
				t.Errorf("refreshed id_token iat %d, want %d", got, clock.Now().Add(skew).Unix())
			}
		})
	}
}

// The provider judges a token's times on its own clock: an id_token_hint
// issued at the scenario clock's now is from the future to a provider
// behind it, and one that expires a minute from now has expired for a
// provider five minutes ahead.
func TestClockSkewJudgesTimesOnTheProvidersClock(t *testing.T) {
	check := func(skew time.Duration, iat, exp time.Duration) error {
		s, clock := startOnClockWith(t, Config{ClockSkew: skew}, Client{})
		_, tr := login(t, s, "openid")
		hint := resign(t, s, tr.IDToken, func(c map[string]any) {
			c["iat"], c["exp"] = clock.Now().Add(iat).Unix(), clock.Now().Add(exp).Unix()
		})
		_, err := s.checkIDToken(context.Background(), hint, "spa")
		return err
	}
	if err := check(0, 0, time.Minute); err != nil {
		t.Fatalf("without skew, a hint issued now and valid for a minute: %v", err)
	}
	if err := check(-5*time.Minute, 0, time.Minute); err == nil || !strings.Contains(err.Error(), "after now") {
		t.Errorf("a provider 5m behind judges a hint issued at the scenario's now: %v, want issued after now", err)
	}
	if err := check(5*time.Minute, -time.Minute, time.Minute); !errors.Is(err, errHintExpired) {
		t.Errorf("a provider 5m ahead judges a hint that expires in a minute: %v, want expired", err)
	}
}

func TestClockSkewBounds(t *testing.T) {
	for _, skew := range []time.Duration{MaxClockSkew + time.Second, -MaxClockSkew - time.Second} {
		cfg := Config{ClockSkew: skew, Clients: []Client{{ID: "spa", RedirectURIs: []string{redirect}}}}
		var ce *ConfigError
		if err := cfg.Validate(); !errors.As(err, &ce) || ce.Key != "clock-skew" {
			t.Errorf("skew %s: %v, want a clock-skew error", skew, err)
		}
	}
	cfg := Config{ClockSkew: -MaxClockSkew, Clients: []Client{{ID: "spa", RedirectURIs: []string{redirect}}}}
	if err := cfg.Validate(); err != nil {
		t.Errorf("skew %s: %v", -MaxClockSkew, err)
	}
}
