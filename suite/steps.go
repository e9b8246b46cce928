package suite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// stepRunner performs one kind of step (scenarios.StepKinds) with the
// step's timeout from the plan: its timeout key, or else the kind's default
// (none: the step takes no timeout).
type stepRunner struct {
	run     func(r *Run, ctx context.Context, st scenarios.Step, timeout time.Duration) error
	timeout func(p *Plan, st scenarios.Step) time.Duration
}

// stepRunners are the runners by the kind's name.
var stepRunners = map[string]stepRunner{
	"login": {run: func(r *Run, ctx context.Context, _ scenarios.Step, timeout time.Duration) error {
		if err := r.login(ctx, timeout); err != nil {
			var stuck *loginFileError
			if errors.As(err, &stuck) {
				r.noteLogin(stuck)
			}
			return err
		}
		r.loggedIn = true
		r.noteLogin(nil)
		return r.recordURL(ctx)
	}, timeout: loginTimeout},
	"attempt-login": {run: func(r *Run, ctx context.Context, _ scenarios.Step, timeout time.Duration) error {
		err := r.login(ctx, timeout)
		var refused *loginRefused
		var stuck *loginFileError
		switch {
		case errors.As(err, &refused):
			r.Timeline.Add("harness.login", timeline.Fields{"outcome": "refused", "error": timeline.Redact(refused.reason)})
			return nil
		case errors.As(err, &stuck):
			// Evidence, unless no login of the run came back at all: then
			// the login file does not fit, and refreshsuite certify says so
			// (exit 2) instead of judging (noteLogin).
			r.noteLogin(stuck)
			r.Timeline.Add("harness.login", timeline.Fields{"outcome": "refused", "error": "the login did not come back: " + stuck.msg})
			return nil
		case err != nil:
			return err
		}
		r.Timeline.Add("harness.login", timeline.Fields{"outcome": "logged-in"})
		r.loggedIn = true
		r.noteLogin(nil)
		return r.recordURL(ctx)
	}, timeout: loginTimeout},
	"open": {run: func(r *Run, ctx context.Context, _ scenarios.Step, _ time.Duration) error {
		_, err := r.open(ctx, defaultLoginTimeout)
		return err
	}},
	"call": {run: func(r *Run, ctx context.Context, st scenarios.Step, timeout time.Duration) error {
		if st.Await != nil && !*st.Await {
			return r.startCall(st.Call)
		}
		// A call that rejects or never settles is behaviour to check, not a
		// broken run: it is recorded and the steps go on.
		at, err := r.call(ctx, st.Call, timeout)
		var rej *browser.Rejected
		switch {
		case err == nil:
			r.Timeline.AddWall(at, "harness.call", timeline.Fields{"function": st.Call, "outcome": "resolved", "tab": r.tab()})
		case errors.As(err, &rej):
			r.Timeline.AddWall(at, "harness.call", timeline.Fields{"function": st.Call, "outcome": "rejected", "error": rej.Message, "tab": r.tab()})
		case errors.Is(err, timeline.ErrScenarioTimeout):
			r.Timeline.Add("harness.call", timeline.Fields{"function": st.Call, "outcome": "pending", "error": fmt.Sprintf("did not settle within %s", timeout), "tab": r.tab()})
		default:
			return fmt.Errorf("call %s: %w", st.Call, err)
		}
		return nil
	}, timeout: callTimeout},
	"wait-for": {run: func(r *Run, ctx context.Context, st scenarios.Step, timeout time.Duration) error {
		// Likewise, what never came is recorded; the expectations say whether
		// it should have.
		_, err := r.waitFor(ctx, *st.WaitFor, timeout)
		if errors.Is(err, timeline.ErrScenarioTimeout) {
			r.Timeline.Add("harness.wait", timeline.Fields{"for": st.WaitFor.String(), "outcome": "timeout", "after_ms": fmt.Sprint(timeout.Milliseconds())})
			return nil
		}
		return err
	}, timeout: waitTimeout},
	"pass-time": {run: func(r *Run, ctx context.Context, _ scenarios.Step, timeout time.Duration) error {
		err := r.Clock.Until(ctx, func() bool { return false }, timeout)
		if errors.Is(err, timeline.ErrScenarioTimeout) {
			return nil
		}
		return err
	}},
	"replay-refresh-token": {run: func(r *Run, ctx context.Context, st scenarios.Step, _ time.Duration) error {
		return r.replay(ctx, st.ReplayRefreshToken)
	}},
	"end-idp-session": {run: func(r *Run, _ context.Context, _ scenarios.Step, _ time.Duration) error {
		r.IdP.EndSessions()
		return nil
	}},
	"forge-message": {run: func(r *Run, ctx context.Context, st scenarios.Step, _ time.Duration) error {
		return r.forge(ctx, st.ForgeMessage)
	}},
	"freeze": {run: func(r *Run, ctx context.Context, st scenarios.Step, _ time.Duration) error {
		if err := r.session.SetFrozen(true); err != nil {
			return fmt.Errorf("freeze the page: %w", err)
		}
		r.Timeline.Add("harness.page", timeline.Fields{"state": "frozen", "tab": r.tab()})
		err := r.Clock.Until(ctx, func() bool { return false }, st.Freeze.D())
		if !errors.Is(err, timeline.ErrScenarioTimeout) {
			return err
		}
		if err := r.session.SetFrozen(false); err != nil {
			return fmt.Errorf("resume the page: %w", err)
		}
		r.Timeline.Add("harness.page", timeline.Fields{"state": "active", "tab": r.tab()})
		return nil
	}},
	"network": {run: func(r *Run, _ context.Context, st scenarios.Step, _ time.Duration) error {
		if err := r.session.SetOffline(st.Network == "offline"); err != nil {
			return fmt.Errorf("network %s: %w", st.Network, err)
		}
		r.Timeline.Add("harness.network", timeline.Fields{"state": st.Network})
		return nil
	}},
	"rotate-signing-key": {run: func(r *Run, _ context.Context, _ scenarios.Step, _ time.Duration) error {
		return r.IdP.RotateSigningKey()
	}},
	"release": {run: func(r *Run, _ context.Context, _ scenarios.Step, _ time.Duration) error {
		r.Timeline.Add("harness.release", timeline.Fields{"released": fmt.Sprint(r.IdP.Release())})
		return nil
	}},
	"probe-callback": {run: func(r *Run, ctx context.Context, _ scenarios.Step, _ time.Duration) error {
		_, err := r.session.ProbeCallback(ctx, browser.CallbackProbe{URL: r.probeURL()})
		return err
	}},
	"tab": {run: func(r *Run, _ context.Context, st scenarios.Step, _ time.Duration) error {
		return r.session.Tab(st.Tab)
	}},
	"discovery": {run: func(r *Run, ctx context.Context, _ scenarios.Step, _ time.Duration) error {
		return r.discovery(ctx)
	}},
	"token-request": {run: func(r *Run, ctx context.Context, st scenarios.Step, _ time.Duration) error {
		return r.tokenRequest(ctx, st)
	}},
	"revoke": {run: func(r *Run, ctx context.Context, st scenarios.Step, _ time.Duration) error {
		return r.revoke(ctx, st.Revoke)
	}},
	"userinfo": {run: func(r *Run, ctx context.Context, _ scenarios.Step, _ time.Duration) error {
		return r.userinfo(ctx)
	}},
	"prompt-none": {run: func(r *Run, ctx context.Context, _ scenarios.Step, timeout time.Duration) error {
		return r.promptNone(ctx, timeout)
	}, timeout: promptNoneTimeout},
	"rp-initiated-logout": {run: func(r *Run, ctx context.Context, _ scenarios.Step, timeout time.Duration) error {
		return r.logout(ctx, timeout)
	}, timeout: loginTimeout},
}

// A step kind the loader reads and nobody runs would fail a scenario only
// when it ran; refusing to start finds it in the first test.
func init() {
	for _, k := range scenarios.StepKinds() {
		if stepRunners[k.Name].run == nil {
			panic(fmt.Sprintf("suite: no runner for step kind %q", k.Name))
		}
	}
	if len(stepRunners) != len(scenarios.StepKinds()) {
		panic("suite: a step runner for a kind the scenarios package does not declare")
	}
}
