package certify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/refreshsuite/refreshsuite/browser"
)

// pollEvery is how often a condition on the page is tried again.
const pollEvery = 100 * time.Millisecond

// until runs js in the top document until it returns without throwing, or the
// timeout passes. A page in the middle of a navigation throws or does not
// answer; both just mean "not yet". The error is the last reason it gave.
func until(ctx context.Context, s *browser.Session, timeout time.Duration, js string, args ...any) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	for {
		actx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := s.Eval(actx, js, args...)
		cancel()
		if err == nil {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("not within %s: %s", timeout, thrown(err))
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// read returns a value the page computes. browser.Session.Eval reports only
// whether a script threw, so the script throws its result as a string
// prefixed with "rs:" and read takes it from the exception (see the report:
// a value-returning Eval in the browser package would remove this).
func read(ctx context.Context, s *browser.Session, js string, args ...any) (string, error) {
	actx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := s.Eval(actx, js, args...)
	if err == nil {
		return "", errors.New("the page script returned instead of throwing its value")
	}
	if v, ok := strings.CutPrefix(thrown(err), "rs:"); ok {
		return v, nil
	}
	return "", err
}

// thrown is what a page script threw: an Error's message or a thrown string.
func thrown(err error) string {
	var ee *rod.EvalError
	if errors.As(err, &ee) && ee.Exception != nil {
		if ee.Exception.Type == proto.RuntimeRemoteObjectTypeString {
			return ee.Exception.Value.Str()
		}
		first, _, _ := strings.Cut(ee.Exception.Description, "\n")
		return strings.TrimPrefix(first, "Error: ")
	}
	return err.Error()
}

// hereJS throws the top frame's URL without query and fragment (they carry
// codes and tokens), for messages.
const hereJS = `() => { throw 'rs:' + location.origin + location.pathname }`

// here is where the top frame is, for error messages; "" when unknown.
func here(ctx context.Context, s *browser.Session) string {
	u, err := read(ctx, s, hereJS)
	if err != nil {
		return ""
	}
	return u
}

// urlMatchesJS succeeds once the top frame's full URL matches a pattern.
const urlMatchesJS = `(re) => { if (!new RegExp(re).test(location.href)) throw new Error('the page is at ' + location.origin + location.pathname) }`

// fillJS sets a field the way typing does for frameworks that listen to input
// events (React keeps its own value, so the native setter is used).
const fillJS = `(sel, value) => {
	const el = document.querySelector(sel);
	if (!el) throw new Error('no element matches ' + sel + ' on ' + location.origin + location.pathname);
	el.focus();
	const proto = Object.getPrototypeOf(el);
	const desc = Object.getOwnPropertyDescriptor(proto, 'value');
	if (desc && desc.set) desc.set.call(el, value); else el.value = value;
	el.dispatchEvent(new Event('input', { bubbles: true }));
	el.dispatchEvent(new Event('change', { bubbles: true }));
}`

const clickJS = `(sel) => {
	const el = document.querySelector(sel);
	if (!el) throw new Error('no element matches ' + sel + ' on ' + location.origin + location.pathname);
	el.click();
}`

// landedJS throws what the top frame's URL carries once it is at a redirect
// URI: the OAuth error, or "code" when it brought an authorization code, from
// the query or (response_mode=fragment) the fragment. It throws a plain Error
// while the page is elsewhere, which until treats as "not yet".
const landedJS = `(prefix) => {
	if (!location.href.startsWith(prefix)) throw new Error('the page is at ' + location.origin + location.pathname);
	const q = new URLSearchParams(location.search.length > 1 ? location.search.slice(1) : location.hash.slice(1));
	throw 'rs:' + (q.get('error') || (q.has('code') ? 'code' : 'nothing'));
}`

// atJS succeeds once the top frame is at a URL with this prefix.
const atJS = `(prefix) => { if (!location.href.startsWith(prefix)) throw new Error('the page is at ' + location.origin + location.pathname) }`
