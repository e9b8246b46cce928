package suite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/refreshsuite/refreshsuite/certify"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// loginFileError is a login file that does not fit the IdP's pages: a step
// whose element or URL never came. It is the configuration's problem, not
// the IdP's: no verdict.
type loginFileError struct{ msg string }

func (e *loginFileError) Error() string { return e.msg }

// urlMatchesJS is "" once the top frame's full URL matches a pattern, else
// where the page is.
const urlMatchesJS = `(re) => new RegExp(re).test(location.href) ? '' : 'the page is at ' + location.origin + location.pathname`

// fillJS sets a field the way typing does for frameworks that listen to
// input events (React keeps its own value, so the native setter is used).
const fillJS = `(sel, value) => {
	const el = document.querySelector(sel);
	if (!el) return 'no element matches ' + sel + ' on ' + location.origin + location.pathname;
	el.focus();
	const proto = Object.getPrototypeOf(el);
	const desc = Object.getOwnPropertyDescriptor(proto, 'value');
	if (desc && desc.set) desc.set.call(el, value); else el.value = value;
	el.dispatchEvent(new Event('input', { bubbles: true }));
	el.dispatchEvent(new Event('change', { bubbles: true }));
	return '';
}`

const clickJS = `(sel) => {
	const el = document.querySelector(sel);
	if (!el) return 'no element matches ' + sel + ' on ' + location.origin + location.pathname;
	el.click();
	return '';
}`

// loginSteps performs the login file's steps on the IdP's pages, after the
// app's login() sent the browser there (entry after), until the app reports
// it is back: the steps left then are not needed. A step that cannot be done
// within its timeout is a *loginFileError, unless it is optional.
func (r *Run) loginSteps(ctx context.Context, l *certify.Login, after int) error {
	_, err := r.fileSteps(ctx, l, "login", l.Steps, func() bool {
		es := r.Timeline.Entries()
		_, ok := scenarios.Pick(scenarios.Selector{What: "client.ready", Where: map[string]string{"tab": r.tab()}}, es[min(after, len(es)):])
		return ok
	})
	return err
}

// stepsDone is what a section of a login file did on the page.
type stepsDone struct {
	// performed counts the steps done (an optional one passed over is not).
	performed int
	// lastClick is the last click performed, and clickedAt the timeline's
	// length when it began; nil when none was.
	lastClick *certify.LoginStep
	clickedAt int
}

// fileSteps performs a section of the login file (part: login or logout,
// as the timeline names it) in the top frame, in order, until back reports
// the browser is back at the app (nil: all of them run). A step that cannot
// be done within its timeout is a *loginFileError naming its line, unless it
// is optional.
func (r *Run) fileSteps(ctx context.Context, l *certify.Login, part string, steps []certify.LoginStep, back func() bool) (stepsDone, error) {
	var done stepsDone
	backAt := func(st *certify.LoginStep) {
		r.Timeline.Add("harness.step", timeline.Fields{"step": fmt.Sprintf("%s: back at the app; the steps from line %d on are not needed", part, st.Line), "tab": r.tab()})
	}
	for i := range steps {
		st := &steps[i]
		if back != nil && back() {
			backAt(st)
			return done, nil
		}
		began := len(r.Timeline.Entries())
		r.Timeline.Add("harness.step", timeline.Fields{"step": part + ": " + st.Text(), "tab": r.tab()})
		if st.Goto != "" {
			if err := r.session.Navigate(st.Goto); err != nil {
				return done, &environmentError{fmt.Sprintf("%s:%d: goto %s: the browser could not load it: %v", l.File, st.Line, st.Goto, err)}
			}
			done.performed++
			continue
		}
		js, args := urlMatchesJS, []any{st.URLPattern()}
		switch {
		case st.Fill != nil:
			js, args = fillJS, []any{st.Fill.Selector, st.Value()}
		case st.Click != "":
			js, args = clickJS, []any{st.Click}
		}
		why := "the page did not answer"
		timeout := st.StepTimeout(l)
		// The app may come back while a step waits for its page (the IdP
		// remembered the consent this step would give): that step, and
		// those after it, were not needed.
		cameBack := false
		err := r.Clock.Until(ctx, every(pollEvery, func() bool {
			if back != nil && back() {
				cameBack = true
				return true
			}
			ectx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			// A page in the middle of a navigation throws or does not
			// answer: not yet.
			if w, err := r.session.EvalString(ectx, js, args...); err == nil {
				why = w
				return w == ""
			}
			return false
		}), timeout)
		switch {
		case err == nil && cameBack:
			backAt(st)
			return done, nil
		case err == nil:
			done.performed++
			if st.Click != "" {
				done.lastClick, done.clickedAt = st, began
			}
		case errors.Is(err, timeline.ErrScenarioTimeout) && st.Optional:
			r.Timeline.Add("harness.step", timeline.Fields{"step": fmt.Sprintf("%s: the optional step at line %d passed over: %s", part, st.Line, why), "tab": r.tab()})
		case errors.Is(err, timeline.ErrScenarioTimeout):
			what := st.Text()
			if part != "login" {
				// A logout step fails long after the login came back:
				// the message says which section its line is in.
				what = part + ": " + what
			}
			return done, &loginFileError{fmt.Sprintf("%s:%d: %s: not within %s: %s", l.File, st.Line, what, timeout, why)}
		default:
			return done, err
		}
	}
	return done, nil
}

// pollEvery is how often the harness asks the page whether a condition holds.
const pollEvery = 100 * time.Millisecond

// every makes a condition that asks the page try again only this often: a
// clock's Until polls in milliseconds.
func every(d time.Duration, cond func() bool) func() bool {
	var last time.Time
	return func() bool {
		if !last.IsZero() && time.Since(last) < d {
			return false
		}
		last = time.Now()
		return cond()
	}
}

// configError is a login file that does not fit the IdP's pages where no
// other scenario can make up for it: a logout step that never came (there is
// one logout per certification, after a login that came back). No verdict:
// refreshsuite certify exits 2 with it.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

// environmentError is a problem of the machine or the network between the
// browser and the IdP (a page that cannot be loaded), not the IdP's
// behaviour: no verdict.
type environmentError struct{ msg string }

func (e *environmentError) Error() string { return e.msg }
