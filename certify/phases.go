package certify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// mainSession is the reference SPA's life with offline_access: login, the
// library's refresh, the token endpoint by plain HTTP (a second refresh, the
// replay of the first refresh token, the family after it), silent
// authentication in the hidden iframe, and prompt=none top-level with the
// session for comparison. Once ctx is done (an interrupt) it returns
// ctx.Err() after the phase it was in: what that phase recorded is not
// evidence.
func (r *runner) mainSession(ctx context.Context) error {
	s, err := r.newSession(r.cfg.Scope)
	if err != nil {
		return err
	}
	defer s.Close()

	r.begin(phLogin, "login with "+r.cfg.Scope, "main")
	r.ev.Login, err = r.login(ctx, s)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return r.loginFailed(err, s)
	}
	loggedIn := time.Now()
	if !r.ev.Login.OK {
		return nil
	}
	r.ev.T0, _ = r.held(ctx, s) // T0.Err says why, for the checks
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if r.ev.T0.RefreshToken != "" {
		// iat has a resolution of one second: a refresh within the login's
		// second could not show a fresh iat (IDP-RT-4).
		if err := waitUntil(ctx, loggedIn.Add(1100*time.Millisecond)); err != nil {
			return err
		}
		r.begin(phRefresh, "call refreshToken (the SPA's refresh_token grant)", "main")
		r.ev.Refresh = r.call(ctx, s, "refreshToken", r.cfg.Timeout)
		r.ev.T1, _ = r.held(ctx, s)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := r.tokenEndpoint(ctx, time.Now()); err != nil {
			return err
		}
	}
	r.begin(phSilent, "call silentRefresh (hidden iframe, prompt=none)", "main")
	from := len(r.tl.Entries())
	r.ev.Silent = r.call(ctx, s, "silentRefresh", r.cfg.SilentTimeout+r.cfg.Timeout)
	r.ev.T3, _ = r.held(ctx, s)
	r.ev.Iframe = observeIframe(r.tl.Entries(), from, r.app.origin)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.screenshot(ctx, "main", s)

	r.begin(phTop, "prompt=none top-level, with the session", "main")
	r.ev.TopWithSession = r.promptNone(ctx, s, "yes")
	return ctx.Err()
}

// tokenEndpoint checks rotation and reuse detection by plain HTTP with the
// SPA's own refresh tokens: refresh with the current one, replay the first
// one (rotated out at the SPA's refresh, at rotated), then present the newest.
// A request that got no answer is recorded with its reason.
func (r *runner) tokenEndpoint(ctx context.Context, rotated time.Time) error {
	current := r.ev.T1.RefreshToken
	if current == "" {
		current = r.ev.T0.RefreshToken
	}
	r.begin(phHTTP, "refresh by plain HTTP with the SPA's current refresh token", "")
	if res, err := r.refresh(ctx, current); err == nil {
		r.ev.HTTPRefresh = &res
	} else {
		r.noAnswer(current, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if g := r.cfg.RotationGrace; g > 0 {
		// The declared grace keeps the rotated token valid on purpose; the
		// replay is judged once it is over.
		if err := waitUntil(ctx, rotated.Add(g+time.Second)); err != nil {
			return err
		}
	}
	r.begin(phReplay, "replay the refresh token issued at login", "")
	if res, err := r.refresh(ctx, r.ev.T0.RefreshToken); err == nil {
		r.ev.Replay = &res
	} else {
		r.ev.ReplayErr = r.noAnswer(r.ev.T0.RefreshToken, err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	newest := current
	if h := r.ev.HTTPRefresh; h != nil && h.RefreshToken != "" {
		newest = h.RefreshToken
	}
	if newest != r.ev.T0.RefreshToken {
		r.begin(phFamily, "present the newest refresh token after the replay", "")
		if res, err := r.refresh(ctx, newest); err == nil {
			r.ev.Family = &res
		} else {
			r.ev.FamilyErr = r.noAnswer(newest, err)
		}
	}
	return ctx.Err()
}

// noAnswer records a token request that got no answer, and returns why.
func (r *runner) noAnswer(presented string, err error) string {
	msg := timeline.Redact(err.Error())
	r.tl.Add("harness.replay", timeline.Fields{"refresh_token": timeline.Fingerprint(presented), "error": msg})
	return msg
}

// noSession asks prompt=none in a fresh browser, where the IdP has no session.
func (r *runner) noSession(ctx context.Context) error {
	s, err := r.newSession(r.cfg.Scope)
	if err != nil {
		return err
	}
	defer s.Close()
	r.begin(phNoSession, "prompt=none top-level, in a new browser context without a session", "no-session")
	r.ev.NoSession = r.promptNone(ctx, s, "no")
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.screenshot(ctx, "no-session", s)
	return nil
}

// withoutOfflineAccess logs in afresh without offline_access (IDP-OA-2).
func (r *runner) withoutOfflineAccess(ctx context.Context) error {
	scope := withoutOfflineAccess(r.cfg.Scope)
	s, err := r.newSession(scope)
	if err != nil {
		return err
	}
	defer s.Close()
	r.begin(phNoOffline, "login with "+scope+" in a new browser context", "no-offline-access")
	a, err := r.login(ctx, s)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var le *loginError
	if errors.As(err, &le) {
		// The same steps worked for the first login: a second that does not
		// come back is the IdP's doing, judged by IDP-OA-2.
		a.Err = le.msg
		err = nil
	}
	if err != nil {
		return err
	}
	r.ev.LoginNoOffline = a
	if a.OK {
		r.ev.TN, _ = r.held(ctx, s) // TN.Err says why, for IDP-OA-2
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	r.screenshot(ctx, "no-offline-access", s)
	return nil
}

// loginFailed turns a first login that never came back into a configuration
// error that points at a screenshot of where the browser stayed (the IdP's
// page, as the login file left it: next to the bundle, never in it); other
// errors pass through.
func (r *runner) loginFailed(err error, s *browser.Session) error {
	var le *loginError
	if !errors.As(err, &le) {
		return err
	}
	msg := le.msg
	if png, serr := s.Screenshot(); serr == nil {
		if path, werr := saveLoginShot(r.cfg.Out, png); werr == nil {
			msg += " (screenshot: " + path + ")"
		}
	}
	return &ConfigError{[]string{msg}}
}

// originJS throws the top frame's origin.
const originJS = `() => { throw 'rs:' + location.origin }`

// screenshot keeps a PNG of the page for the bundle, but only while the page
// is the SPA's own: a page on the IdP's origin can show what the login file
// typed (the user name, a field that does not mask its value), and the bundle
// is handed on. Otherwise the timeline says why there is none.
func (r *runner) screenshot(ctx context.Context, name string, s *browser.Session) {
	why := ""
	switch at, err := read(ctx, s, originJS); {
	case err != nil:
		why = "the page's origin could not be read"
	case at != r.app.origin:
		why = "the page is on " + at + ", not the SPA's origin"
	default:
		png, err := s.Screenshot()
		if err != nil {
			why = "it failed: " + err.Error()
			break
		}
		// The page may have moved on while the screenshot was taken.
		if again, err := read(ctx, s, originJS); err != nil || again != r.app.origin {
			why = "the page left the SPA's origin meanwhile"
			break
		}
		r.shots[name] = png
		return
	}
	r.tl.Add("harness.step", timeline.Fields{"step": "no screenshot: " + why, "index": fmt.Sprint(r.nextStep())})
}

// waitUntil returns at t: the condition is the time itself.
func waitUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
