package certify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// libraryConfig renders the reference SPA's configuration for a scope: the
// manifest's template with this run's values, then the two settings the
// certification needs (the iframe for silentRefresh(), and its timeout), as
// suite/run.go applies a scenario's settings.
func (r *runner) libraryConfig(scope string) map[string]any {
	m := r.cfg.Manifest
	cfg := m.Render(map[string]string{
		"issuer": r.cfg.Issuer, "client-id": r.cfg.ClientID, "redirect-uri": r.redirectURI,
		"silent-redirect-uri": r.silentURI, "scope": scope, "response-type": "code",
	})
	cfg[m.Config.Settings["silent-refresh"].Key] = true
	st := m.Config.Settings["silent-refresh-timeout"]
	if st.Unit == "s" {
		cfg[st.Key] = r.cfg.SilentTimeout.Seconds()
	} else {
		cfg[st.Key] = r.cfg.SilentTimeout.Milliseconds()
	}
	return cfg
}

// newSession opens a browser session with no cookies and no storage whose app
// is configured for scope.
func (r *runner) newSession(scope string) (*browser.Session, error) {
	var inject []string
	for _, f := range r.cfg.Manifest.App.Inject {
		b, err := os.ReadFile(r.cfg.Manifest.Path(f))
		if err != nil {
			return nil, err
		}
		inject = append(inject, string(b))
	}
	// Clock nil: the real clock. Nobody controls an external IdP's clock.
	return r.browser.NewSession(r.tl, browser.Setup{
		Config: map[string]any{"library": r.libraryConfig(scope)}, Events: r.cfg.Manifest.Events, Inject: inject,
	})
}

// loginError is a login that never came back to the app: the login file does
// not fit the IdP's pages, a configuration matter.
type loginError struct{ msg string }

func (e *loginError) Error() string { return e.msg }

// waitReady waits for the app's client.ready after entry n.
func (r *runner) waitReady(ctx context.Context, n int, timeout time.Duration) (timeline.Entry, error) {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return r.tl.WaitFor(wctx, func(es []timeline.Entry) (timeline.Entry, bool) {
		return scenarios.Pick(scenarios.Selector{What: "client.ready"}, es[min(n, len(es)):])
	})
}

// login opens the app, starts its interactive login, performs the login
// file's steps on the IdP's pages and waits until the app is back. A login
// the app reports as failed is an attempt that failed (evidence); a login
// that never comes back is a *loginError.
func (r *runner) login(ctx context.Context, s *browser.Session) (attempt, error) {
	a := attempt{Ran: true}
	n := len(r.tl.Entries())
	if err := s.Navigate(r.app.url(r.cfg.Manifest.App.Start)); err != nil {
		return a, fmt.Errorf("open the SPA: %w", err)
	}
	ready, err := r.waitReady(ctx, n, r.cfg.Timeout)
	if err != nil {
		if ctx.Err() != nil {
			return a, ctx.Err() // interrupted: not the login file's fault
		}
		return a, &loginError{fmt.Sprintf("the reference SPA did not start within %s at %s", r.cfg.Timeout, r.app.url(r.cfg.Manifest.App.Start))}
	}
	if ready.Fields["error"] != "" {
		a.Err = "the SPA could not start: " + ready.Fields["error"]
		r.tl.Add("harness.call", timeline.Fields{"function": "login", "outcome": "rejected", "error": a.Err})
		return a, nil
	}
	n = len(r.tl.Entries())
	if err := s.Start("login"); err != nil {
		return a, fmt.Errorf("start the login: %w", err)
	}
	if l := r.cfg.Login; l != nil {
		for i := range l.Steps {
			if err := r.loginStep(ctx, s, l, &l.Steps[i]); err != nil {
				return a, err
			}
		}
	}
	back, err := r.waitReady(ctx, n, r.cfg.Timeout)
	if err != nil {
		if ctx.Err() != nil {
			return a, ctx.Err()
		}
		where := orText(here(ctx, s), "a page that does not answer")
		hint := "check the --login steps"
		if r.cfg.Login == nil {
			hint = "give --login the steps that log in on this page"
		}
		return a, &loginError{fmt.Sprintf("login: the browser did not come back to %s within %s; it is at %s: %s", r.redirectURI, r.cfg.Timeout, where, hint)}
	}
	if back.Fields["logged_in"] != "yes" {
		a.Err = "the SPA came back from the IdP not logged in"
		if e := back.Fields["error"]; e != "" {
			a.Err += ": " + e
		}
		r.tl.Add("harness.call", timeline.Fields{"function": "login", "outcome": "rejected", "error": a.Err})
		return a, nil
	}
	a.OK = true
	r.tl.Add("harness.call", timeline.Fields{"function": "login", "outcome": "resolved"})
	return a, nil
}

// loginStep performs one step of the login file, waiting for its element or
// URL up to the file's timeout.
func (r *runner) loginStep(ctx context.Context, s *browser.Session, l *Login, st *LoginStep) error {
	r.tl.Add("harness.step", timeline.Fields{"step": "login: " + st.Text(), "index": fmt.Sprint(r.nextStep())})
	timeout := l.Timeout.D()
	var err error
	switch {
	case st.Goto != "":
		err = s.Navigate(st.Goto)
	case st.Fill != nil:
		err = until(ctx, s, timeout, fillJS, st.Fill.Selector, st.value)
	case st.Click != "":
		err = until(ctx, s, timeout, clickJS, st.Click)
	default:
		err = until(ctx, s, timeout, urlMatchesJS, st.urlPattern())
	}
	if ctx.Err() != nil {
		return ctx.Err() // interrupted: not the login file's fault
	}
	if err != nil {
		return &loginError{fmt.Sprintf("%s:%d: %s: %v", l.File, st.Line, st.Text(), err)}
	}
	return nil
}

// held records and returns what the SPA holds now. When its tokens()
// function cannot be read, the error says why and nothing is claimed about
// what the SPA holds (t.Err says so too, for the checks).
func (r *runner) held(ctx context.Context, s *browser.Session) (tokens, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var t tokens
	raw, err := s.Call(cctx, "tokens")
	if err == nil {
		if uerr := json.Unmarshal(raw, &t); uerr != nil {
			err = fmt.Errorf("tokens() returned %d bytes that are not its {accessToken, idToken, refreshToken}: %v", len(raw), uerr)
		}
	} else if ctx.Err() != nil {
		err = ctx.Err()
	} else if cctx.Err() != nil {
		err = errors.New("tokens() did not settle within 5s")
	}
	if err != nil {
		t = tokens{Err: timeline.Redact(err.Error())}
		r.tl.Add("harness.call", timeline.Fields{"function": "tokens", "outcome": "rejected", "error": t.Err})
		return t, err
	}
	r.tl.Add("harness.tokens", timeline.Fields{
		"access_token": timeline.Fingerprint(t.AccessToken), "id_token": timeline.Fingerprint(t.IDToken),
		"refresh_token": timeline.Fingerprint(t.RefreshToken),
	})
	return t, nil
}

// call runs a driver function of the SPA and records how it ended.
func (r *runner) call(ctx context.Context, s *browser.Session, fn string, timeout time.Duration) attempt {
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := s.Call(cctx, fn)
	a := attempt{Ran: true, OK: err == nil}
	var rej *browser.Rejected
	switch {
	case err == nil:
		r.tl.Add("harness.call", timeline.Fields{"function": fn, "outcome": "resolved"})
	case errors.As(err, &rej):
		a.Err = rej.Message
		r.tl.Add("harness.call", timeline.Fields{"function": fn, "outcome": "rejected", "error": rej.Message})
	case ctx.Err() != nil:
		// Interrupted: the call did not time out, the run was stopped.
		a.Err = "interrupted: " + ctx.Err().Error()
		r.tl.Add("harness.call", timeline.Fields{"function": fn, "outcome": "pending", "error": a.Err})
	case cctx.Err() != nil:
		a.Err = fmt.Sprintf("did not settle within %s", timeout)
		r.tl.Add("harness.call", timeline.Fields{"function": fn, "outcome": "pending", "error": a.Err})
	default: // the page or the browser failed the call
		a.Err = timeline.Redact(err.Error())
		r.tl.Add("harness.call", timeline.Fields{"function": fn, "outcome": "rejected", "error": a.Err})
	}
	return a
}

// promptNone navigates the top frame to a prompt=none authorization request
// and waits until it lands on the silent redirect URI, or the silent timeout
// passes. A top-level navigation follows whatever the IdP answers with (an
// HTTP redirect, a page that navigates on) the way a browser does, and is
// never refused for framing: this is the protocol's answer alone. It asks for
// the scope the SPA's library asks for in its iframe (r.cfg.Scope, with
// offline_access): an IdP may answer prompt=none differently for another
// scope (consent_required for offline_access), and IDP-SA-3 compares the two.
func (r *runner) promptNone(ctx context.Context, s *browser.Session, session string) landing {
	l := landing{Ran: true}
	scope := r.cfg.Scope
	u := r.authorizeURL(r.cfg.ClientID, r.silentURI, scope, map[string][]string{"prompt": {"none"}})
	f := timeline.Fields{"client": r.cfg.ClientID, "prompt": "none", "response_type": "code", "redirect_uri": r.silentURI,
		"scope": scope, "code_challenge_method": "S256", "dest": "document", "session": session}
	if err := s.Navigate(u); err != nil {
		l.At = err.Error()
	} else if err := until(ctx, s, r.cfg.SilentTimeout, atJS, r.silentURI); err != nil {
		l.At = here(ctx, s)
	} else if got, err := read(ctx, s, landedJS, r.silentURI); err == nil {
		l.Got = got
	}
	switch {
	case l.Got == "code":
		f["outcome"] = "ok"
	default: // an error, or no answer that reached the redirect URI
		f["outcome"], f["error"] = "error", l.Got
	}
	r.tl.Add("idp.authorize", f)
	return l
}
