package browser

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-rod/rod/lib/cdp"
	"github.com/go-rod/rod/lib/proto"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// Dedicated workers. A library that keeps its tokens in a Web Worker
// (auth0-spa-js with useRefreshTokens makes every token request from one it
// starts from a blob URL) sends requests that no page session reports, and
// the bridge cannot run there (a worker has no window). So every tab's page
// session auto-attaches to the dedicated workers its frames start (and each
// worker to the workers it starts), with Chromium holding each new worker
// before its first script runs; the session enables Network on the worker's
// own session and only then lets it run. Its requests, responses and failures
// are recorded like the page's, with frame "worker" and the worker's script
// URL as their initiator, on the tab's event loop, in the order Chromium sent
// them among the page's events.
//
// Facts measured on Chromium 156 that this rests on (workers_test.go, and
// TestMeasureWorkerVirtualTime in measure_test.go):
//   - Network.emulateNetworkConditions on a worker's session answers "Not
//     supported", and one on its page does not reach a worker that nothing
//     attached to. Once its Network domain is enabled, a worker's requests
//     follow its page's network conditions, whether it started before or
//     while the page was offline: SetOffline therefore needs no call of its
//     own for workers, only that every worker is enabled before it runs.
//   - A dedicated worker reads the page's virtual time (its Date.now agrees
//     with the page's), so its requests are stamped like the page's
//     sub-resources. But its pending fetches do not hold the page's virtual
//     time: a worker's fetch of 2 s of wall time took 269 to 384 s of page
//     time. Nor do its timers run on it: a worker's 5 s timer fired 269 s of
//     page time late, when the worker next woke. A client whose token requests
//     come from a worker is exact only on the real clock.
//   - Holding a new worker until its Network domain is enabled delays its
//     first script by wall time only, and the page sees nothing else: the
//     worker's answer is the one a page without the suite gets
//     (TestWorkerRequests). The three calls (Network.enable,
//     Target.setAutoAttach, Runtime.runIfWaitingForDebugger) took 4.2 to
//     5.7 ms (median; 1.7 ms at best, up to 258 ms at worst) on the 2-core
//     machine with a load average near 15; from new Worker() to the worker's
//     first message took 8.3 to 12.0 ms without the suite and 11.7 to 13.6 ms
//     in a session, medians of 40 starts (TestMeasureWorkerAttach). On the
//     virtual clock 20 starts in a session each took 0 ms of page time.
//
// Shared and service workers are not followed: a page session does not
// auto-attach a shared worker (it belongs to no one page); its requests are
// not recorded, and SetOffline does not reach it (a shared worker's fetch
// reached the server while its page was offline). Service workers are
// untried.
//
// What a worker says to its page is not recorded: its postMessage arrives as
// a message event on the page's Worker object, not on a window, where the
// bridge listens. Its BroadcastChannel posts are, as browser.channel-message,
// when the top document has a channel of that name open (TestWorkerMessages).
type worker struct {
	handlers handlers
}

// dedicatedWorker is the target type Chromium gives a dedicated worker
// (rod's enum lacks it).
const dedicatedWorker proto.TargetTargetInfoType = "worker"

// watchWorkers makes a page's (or a worker's) session report the dedicated
// workers it starts, each held before its first script runs.
func watchWorkers(c proto.Client) error {
	err := proto.TargetSetAutoAttach{
		AutoAttach: true, WaitForDebuggerOnStart: true, Flatten: true,
		Filter: proto.TargetTargetFilter{{Type: string(dedicatedWorker)}, {Exclude: true}},
	}.Call(c)
	if err != nil {
		return fmt.Errorf("attach to workers: %w", err)
	}
	return nil
}

// onWorkers follows the workers that the session h handles starts: their
// attachment and their end.
func (s *Session) onWorkers(ctx context.Context, t *tab, h handlers) {
	on(h, func(e *proto.TargetAttachedToTarget) { s.workerAttached(ctx, t, e) })
	on(h, func(e *proto.TargetDetachedFromTarget) { delete(t.workers, e.SessionID) })
}

// workerAttached instruments a worker that has just attached and lets it
// run. It is called on the tab's event loop, which is where the worker's
// events are dispatched from; the worker cannot send any before it runs.
func (s *Session) workerAttached(ctx context.Context, t *tab, e *proto.TargetAttachedToTarget) {
	// Bounded: a worker whose page navigates away while it is attached (an
	// app starting its token worker and then redirecting to the login) can
	// end before Chromium answers, and an unanswered call here would stop the
	// tab's event loop, and every record of the tab, for good.
	bounded, cancel := context.WithTimeout(ctx, workerCall)
	defer cancel()
	session := t.page.Browser().Context(bounded).PageFromSession(e.SessionID)
	defer func() {
		if e.WaitingForDebugger {
			_ = proto.RuntimeRunIfWaitingForDebugger{}.Call(session)
		}
	}()
	if e.TargetInfo == nil || e.TargetInfo.Type != dedicatedWorker {
		return
	}
	w, url := &worker{handlers: handlers{}}, bare(e.TargetInfo.URL)
	s.onNetwork(w.handlers, t, url)
	s.onWorkers(ctx, t, w.handlers)
	t.workers[e.SessionID] = w
	err := proto.NetworkEnable{}.Call(session)
	if err == nil {
		err = watchWorkers(session)
	}
	if err != nil && !gone(err) {
		s.tl.Add("browser.console-error", timeline.Fields{
			"text": "refreshsuite: a worker's requests cannot be followed (" + url + "): " + err.Error(), "tab": fmt.Sprint(t.n),
		})
	}
}

// workerCall bounds each call that instruments a new worker. They take
// milliseconds (258 ms at worst with a load average near 15); the bound only
// keeps a call that will never be answered from holding the tab's events.
const workerCall = 10 * time.Second

// gone says whether a call failed because its session has ended: a worker
// the page ended as soon as it started.
func gone(err error) bool {
	var e *cdp.Error
	return errors.Is(err, context.Canceled) || (errors.As(err, &e) && e.Code == -32001)
}
