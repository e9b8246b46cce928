package certify

import (
	"strings"
	"testing"
	"time"
)

// Declared expiry values the checks cannot judge are refused before
// anything runs: too short for the margins, too long to wait out, or, both
// declared, a pair where one would end a token before the other check is
// done with it.
func TestDeclaredExpiry(t *testing.T) {
	for _, tc := range []struct {
		idle, life time.Duration
		err        string
	}{
		{0, 0, ""},
		{10 * time.Second, 0, ""},
		{0, 8 * time.Second, ""},
		{10 * time.Second, 20 * time.Second, ""},
		{20 * time.Second, 40 * time.Second, ""},
		{3 * time.Second, 0, "--refresh-token-idle 3s: want 4s to 30m0s"},
		{-time.Second, 0, "--refresh-token-idle -1s: want 4s"},
		{0, 7 * time.Second, "--refresh-token-lifetime 7s: want 8s to 30m0s"},
		{0, time.Hour, "--refresh-token-lifetime 1h0m0s: want 8s to 30m0s"},
		// The idle check takes 1.5 x idle + 2 s, and must end 2 s before
		// the lifetime.
		{10 * time.Second, 18 * time.Second, "configure a lifetime of at least 19s"},
		// The lifetime check's last request comes a quarter of the lifetime
		// and 2 s after a refresh, 2 s within the idle time.
		{8 * time.Second, 20 * time.Second, "configure an idle time of at least 9s"},
	} {
		c := &Config{RefreshTokenIdle: tc.idle, RefreshTokenLifetime: tc.life}
		err := c.CheckExpiry()
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("idle %s, lifetime %s: %v", tc.idle, tc.life, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("idle %s, lifetime %s: %v, want an error saying %q", tc.idle, tc.life, err, tc.err)
		}
	}
}
