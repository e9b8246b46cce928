package fakeidp

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The refresh-token lifetime is the family's: kept alive by a refresh every
// 40 s, the family of a login still ends a minute after it. (Each token's own
// lifetime, counted from its issue, would have let it live on.)
func TestRefreshTokenLifetimeIsAbsolute(t *testing.T) {
	for _, format := range []TokenFormat{Opaque, JWT} {
		t.Run(string(format), func(t *testing.T) {
			s, clock := startOnClock(t, Client{RefreshTokenLifetime: time.Minute, RefreshTokenFormat: format})
			_, tr := login(t, s, "openid offline_access")
			start := clock.Now()
			clock.advance(40 * time.Second)
			second := refresh(t, s, tr.RefreshToken)
			if second.status != 200 {
				t.Fatalf("a refresh within the lifetime: %d %q", second.status, second.Error)
			}
			if format == JWT {
				if exp := claimsOf(t, second.RefreshToken)["exp"]; exp != float64(start.Add(time.Minute).Unix()) {
					t.Errorf("the rotated JWT refresh token's exp is %v, want the family's end %d", exp, start.Add(time.Minute).Unix())
				}
			}
			clock.advance(19 * time.Second)
			third := refresh(t, s, second.RefreshToken)
			if third.status != 200 {
				t.Fatalf("a refresh 59 s into the family: %d %q", third.status, third.Error)
			}
			clock.advance(time.Second)
			if r := refresh(t, s, third.RefreshToken); r.Error != "invalid_grant" {
				t.Errorf("a token of the family a minute after its login, issued a second ago: %d %q, want invalid_grant", r.status, r.Error)
			}
			// Another login is another family, with a lifetime of its own.
			_, fresh := login(t, s, "openid offline_access")
			if r := refresh(t, s, fresh.RefreshToken); r.status != 200 {
				t.Errorf("a new login's refresh token: %d %q", r.status, r.Error)
			}
		})
	}
}

// An idle expiry ends a refresh token not used for that long; each refresh
// hands out one that starts it again, so a family in use lives on (until its
// lifetime), with rotation or without.
func TestRefreshTokenIdle(t *testing.T) {
	for _, rotation := range []Rotation{Rotate, Reuse} {
		t.Run(string(rotation), func(t *testing.T) {
			s, clock := startOnClock(t, Client{RefreshTokenIdle: 10 * time.Second, RefreshTokenLifetime: time.Hour, Rotation: rotation})
			_, tr := login(t, s, "openid offline_access")
			rt := tr.RefreshToken
			for i := 0; i < 3; i++ {
				clock.advance(9 * time.Second)
				r := refresh(t, s, rt)
				if r.status != 200 {
					t.Fatalf("use %d, 9 s after the one before: %d %q", i+1, r.status, r.Error)
				}
				rt = r.RefreshToken
			}
			clock.advance(10 * time.Second)
			if r := refresh(t, s, rt); r.Error != "invalid_grant" {
				t.Errorf("a refresh token unused for 10 s: %d %q, want invalid_grant", r.status, r.Error)
			}
		})
	}
}

// With RefreshTokensEndWithSession, a refresh token dies with the login
// session its authorization was granted in: logged out at the end-session
// endpoint, ended, or past its lifetime. Without it, the token outlives the
// session (offline access).
func TestRefreshTokensEndWithSession(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, s *Server, clock *manualClock, hc *http.Client, idt string)
	}{
		{"RP-initiated logout", func(t *testing.T, s *Server, _ *manualClock, hc *http.Client, idt string) {
			resp, err := hc.Get(s.Endpoint(EndpointEndSession) + "?" + url.Values{"id_token_hint": {idt}, "client_id": {"spa"}}.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if e := last(s, "idp.end-session"); e.Fields["session"] != "yes" {
				t.Fatalf("the logout ended no session: %v", e)
			}
		}},
		{"EndSessions", func(_ *testing.T, s *Server, _ *manualClock, _ *http.Client, _ string) { s.EndSessions() }},
		{"the session's lifetime", func(_ *testing.T, _ *Server, clock *manualClock, _ *http.Client, _ string) {
			clock.advance(10 * time.Minute)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, ends := range []bool{true, false} {
				s, clock := startOnClock(t, Client{RefreshTokensEndWithSession: ends})
				hc, tr := login(t, s, "openid offline_access")
				// Another login, in another browser, is another session:
				// its refresh tokens live on.
				_, other := login(t, s, "openid offline_access")
				second := refresh(t, s, tr.RefreshToken)
				if second.status != 200 {
					t.Fatalf("a refresh before the session ended: %d %q", second.status, second.Error)
				}
				tc.end(t, s, clock, hc, tr.IDToken)
				r := refresh(t, s, second.RefreshToken)
				switch {
				case ends && (r.Error != "invalid_grant" || !strings.Contains(last(s, "idp.token").Fields["error"], "invalid_grant")):
					t.Errorf("ending with the session: a refresh after it ended: %d %q, want invalid_grant", r.status, r.Error)
				case !ends && r.status != 200:
					t.Errorf("outliving the session: a refresh after it ended: %d %q, want 200", r.status, r.Error)
				}
				if o := refresh(t, s, other.RefreshToken); tc.name == "RP-initiated logout" && o.status != 200 {
					t.Errorf("ends %v: the other session's refresh token after this one's logout: %d %q", ends, o.status, o.Error)
				}
			}
		})
	}
}
