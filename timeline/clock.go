package timeline

import (
	"context"
	"errors"
	"time"
)

// Clock is the scenario clock. The IdP and the harness stamp entries with it; the
// page's own Date.now() is converted with the same origin, so both sides share one
// axis. Every clock has every method, the wall clock's being the trivial ones, so
// that no reader has to find out which clock it was given.
type Clock interface {
	Now() time.Time
	// NowInOrder is Now for the IdP serving one of the page's requests: it
	// returns once everything the page reported before that instant is in the
	// timeline, so the request's entry comes after the client event that caused
	// it even when, on virtual time, the two share one millisecond.
	NowInOrder() time.Time
	// LastKnown is the time as far as the clock knows without asking the page,
	// for a request the page cannot be asked about: a top-level navigation's.
	LastKnown() time.Time
	// Lapses counts the times NowInOrder could not vouch for that order.
	Lapses() int
	// Until lets scenario time run until done reports true, or until max of
	// scenario time has passed (ErrScenarioTimeout).
	Until(ctx context.Context, done func() bool, max time.Duration) error
	// Mode is "real" or "virtual", as harness.config records it.
	Mode() string
}

// ErrScenarioTimeout is returned by Until when max scenario time passed first.
var ErrScenarioTimeout = errors.New("scenario time ran out")

// WallClock is the real clock: scenario time passes by itself. The page and the
// IdP read the one system clock and a request is served after it was sent, so
// the time is known without asking anyone and already in order.
type WallClock struct{}

func (WallClock) Now() time.Time        { return time.Now() }
func (WallClock) NowInOrder() time.Time { return time.Now() }
func (WallClock) LastKnown() time.Time  { return time.Now() }
func (WallClock) Lapses() int           { return 0 }
func (WallClock) Mode() string          { return "real" }

// Until polls done; a short poll keeps it simple and costs nothing measurable.
func (WallClock) Until(ctx context.Context, done func() bool, max time.Duration) error {
	deadline := time.Now().Add(max)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !done() {
		if !time.Now().Before(deadline) {
			return ErrScenarioTimeout
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
