package browser

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// CallbackProbe asks what a client's callback page does with a response when
// the window that framed it is not the app: a page of a foreign origin frames
// the callback page, with a response in its URL, and watches whether a message
// reaches it. A callback that posts to its own origin is refused by the
// browser; one that posts to "*" hands the response to whoever framed it. It
// judges the target origin by its effect, so it holds whatever way the page
// posts (its own function, a wrapper, another realm's postMessage).
type CallbackProbe struct {
	// URL is the callback page with a response in its query or fragment, as
	// the IdP would redirect to it.
	URL string
	// Wait bounds, in wall time, how long the callback page has to post once
	// it has loaded (default 10 s); it decides only the "silent" outcome.
	Wait time.Duration
}

// CallbackOutcome is what the foreign parent saw.
type CallbackOutcome struct {
	// Outcome is "delivered" (a message from the callback page reached the
	// foreign parent), "refused" (the callback page posted to a target origin
	// the foreign parent does not have, and the browser dropped it) or "silent"
	// (it posted nothing to its parent within Wait).
	Outcome string
	// TargetOrigin is the target origin of a refused message, as the browser
	// names it.
	TargetOrigin string
	// Origin and Data are a delivered message's event.origin and start,
	// secrets fingerprinted.
	Origin, Data string
}

const defaultProbeWait = 10 * time.Second

// refusedRE is the browser's message for a postMessage whose target origin
// does not match the receiving window's.
var refusedRE = regexp.MustCompile(`target origin provided \('([^']*)'\) does not match the recipient window's origin`)

// ProbeCallback runs a CallbackProbe in a browser context of its own, with the
// session's bridge configuration and injected scripts (so a client altered by
// them is probed as it runs), never in the scenario's context: the callback
// page may read or clear the app's storage. On the real clock. The outcome is
// also recorded in the session's timeline as browser.callback-probe.
func (s *Session) ProbeCallback(ctx context.Context, p CallbackProbe) (CallbackOutcome, error) {
	wait := p.Wait
	if wait <= 0 {
		wait = defaultProbeWait
	}
	cb, err := url.Parse(p.URL)
	if err != nil || cb.Host == "" {
		return CallbackOutcome{}, fmt.Errorf("callback probe: %q is not an absolute URL", bare(p.URL))
	}
	callbackOrigin := cb.Scheme + "://" + cb.Host
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, `<!doctype html><title>a foreign page</title><iframe id="framed-callback" src="%s"></iframe>`, html.EscapeString(p.URL))
	}))
	defer foreign.Close()
	if foreign.URL == callbackOrigin {
		return CallbackOutcome{}, fmt.Errorf("callback probe: the foreign page would share the callback's origin %s", callbackOrigin)
	}

	tl := timeline.New(nil)
	probe := &Session{tl: tl, config: s.config, inject: s.inject, owner: s.owner}
	probe.secrets.learnURL(p.URL)
	if probe.sc, err = s.owner.contexts.take(s.owner.rod); err != nil {
		return CallbackOutcome{}, fmt.Errorf("callback probe: %w", err)
	}
	defer probe.Close()
	if err := probe.Tab(1); err != nil {
		return CallbackOutcome{}, fmt.Errorf("callback probe: %w", err)
	}
	if err := probe.Navigate(foreign.URL + "/"); err != nil {
		return CallbackOutcome{}, fmt.Errorf("callback probe: %w", err)
	}

	var out CallbackOutcome
	loadedAt := time.Time{}
	decided := func(es []timeline.Entry) (timeline.Entry, bool) {
		for _, e := range es {
			f := e.Fields
			switch {
			case e.What == "browser.message" && f["to"] == foreign.URL+"/" && f["origin"] == callbackOrigin:
				out = CallbackOutcome{Outcome: "delivered", Origin: f["origin"], Data: f["data"]}
				return e, true
			case e.What == "browser.log":
				if m := refusedRE.FindStringSubmatch(f["text"]); m != nil {
					out = CallbackOutcome{Outcome: "refused", TargetOrigin: m[1]}
					return e, true
				}
			case e.What == "browser.navigated" && f["frame"] == "child" && strings.HasPrefix(f["url"], callbackOrigin) && loadedAt.IsZero():
				loadedAt = time.Now()
			}
		}
		return timeline.Entry{}, false
	}
	// The callback page has Wait from when it committed; the whole probe has
	// a navigation's worth more to get there.
	for out.Outcome == "" {
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := tl.WaitFor(wctx, decided)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return CallbackOutcome{}, ctx.Err()
		case !loadedAt.IsZero() && time.Since(loadedAt) > wait, loadedAt.IsZero() && time.Since(tl.Origin()) > wait+navigateTimeout:
			out = CallbackOutcome{Outcome: "silent"}
		}
	}
	s.tl.Add("browser.callback-probe", timeline.Fields{
		"url": bare(p.URL), "outcome": out.Outcome, "target_origin": out.TargetOrigin, "origin": out.Origin, "data": s.secrets.redact(out.Data),
	})
	return out, nil
}
