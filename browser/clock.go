package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// VirtualClock runs the page on Chromium's virtual time and lends that time to
// everyone else. The page's clock only moves when the harness grants it a
// budget, and it stands still while a network fetch is pending, so a request to
// the IdP takes no scenario time and the IdP, asked for "now" while it serves
// the request, reads the very instant the page sent it.
//
// Until the first navigation the clock is the wall clock. Start, called just
// before it, pauses the page's clock at a base on a whole second (so that
// second-resolution claims such as exp and iat fall the same way in every run);
// budgets are granted only once the navigation has begun, because a budget
// granted to about:blank runs out at once.
type VirtualClock struct {
	// Chunk is the budget granted at a time while waiting for a condition: the
	// most scenario time that can pass after the condition came true.
	Chunk time.Duration
	// Stall bounds the wall time one budget may take. A fetch that never
	// completes freezes virtual time; this turns that into an error.
	Stall time.Duration

	mu      sync.Mutex
	page    *rod.Page
	started bool
	base    time.Time
	granted time.Duration
	running bool
	expired chan struct{}
	// seen is the latest page-clock time the page reported (bridge messages,
	// sub-resource requests); deaf is set while the page does not answer
	// evaluations (a top-level navigation is under way) and cleared by the next
	// report from the page.
	seen time.Time
	deaf bool
	// syncs are the markers NowInOrder waits for, by id.
	syncs  map[string]chan struct{}
	syncID int
	lapses int
}

// NewVirtualClock makes a clock for one scenario.
func NewVirtualClock() *VirtualClock {
	return &VirtualClock{Chunk: 100 * time.Millisecond, Stall: 20 * time.Second}
}

// Mode implements timeline.Clock.
func (c *VirtualClock) Mode() string { return "virtual" }

func (c *VirtualClock) attach(p *rod.Page) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.page = p
}

// budgetExpired is called from the page's event loop.
func (c *VirtualClock) budgetExpired() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running && c.expired != nil {
		c.running = false
		close(c.expired)
		c.expired = nil
	}
}

// observe records a time the page's own clock reported.
func (c *VirtualClock) observe(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.seen) {
		c.seen = t
	}
	c.deaf = false
}

// LastKnown is the page's time as far as the clock knows without asking the
// page: the end of the last budget, or the latest time the page reported. While
// the page waits for a request its clock is paused, so for a navigation request
// (when the page cannot be asked) this is at most the time since its last report
// behind.
func (c *VirtualClock) LastKnown() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started {
		return time.Now()
	}
	frozen := c.base.Add(c.granted)
	if c.running && c.seen.After(frozen) {
		return c.seen
	}
	return frozen
}

// Now is the page's current time in scenario terms.
func (c *VirtualClock) Now() time.Time { return c.now(false) }

// NowInOrder is Now for a caller outside the page's CDP event loop, such as the
// IdP serving the page's request: it also waits until everything the page
// reported before that instant is in the timeline. On virtual time a client
// event and the request it causes share one millisecond; the IdP's entry would
// otherwise race the event's report, and which came first decides which
// renewal window a request falls in.
func (c *VirtualClock) NowInOrder() time.Time { return c.now(true) }

// synced is called from the page's event loop when a marker arrives: every
// report the page sent before it has been recorded.
func (c *VirtualClock) synced(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch, ok := c.syncs[id]; ok {
		close(ch)
		delete(c.syncs, id)
	}
}

// PageAnswer bounds how long the clock waits for the page: to evaluate
// Date.now(), and then for the marker behind the page's earlier reports. A
// page that can answer does so within milliseconds on an idle machine and
// within a second or two on a loaded one; the bound only keeps a page that
// will never answer (a renderer that died) from stalling the IdP for good.
// Ordering never rests on it: a marker that was sent always arrives, in order,
// on the page's CDP session, so the wait ends when it does.
const PageAnswer = 15 * time.Second

func (c *VirtualClock) now(inOrder bool) time.Time {
	c.mu.Lock()
	if !c.started {
		c.mu.Unlock()
		return time.Now()
	}
	frozen := c.base.Add(c.granted)
	running, page, deaf := c.running, c.page, c.deaf
	known := frozen
	if c.seen.After(frozen) {
		known = c.seen
	}
	c.mu.Unlock()
	if !running {
		// Paused: the page's clock stands where the last budget left it. It is
		// still asked when the caller needs the page's reports in order (a
		// call the harness just started before granting time sends its requests now).
		if !inOrder {
			return frozen
		}
		known = frozen
	}
	if deaf {
		return known
	}
	// A budget is running: only the page knows how far it got. While the page
	// waits for a fetch (the usual reason to ask) its clock is paused, so the
	// answer is exact. A page in the middle of a top-level navigation does not
	// answer: then the last time it reported stands (its clock is paused for the
	// navigation's request too).
	expr, marker, id := "[Date.now(), false]", (chan struct{})(nil), ""
	if inOrder {
		// The marker goes out through the bridge's binding, behind every
		// report the page sent before it, on the same CDP session. The page
		// says whether it could send it: a document whose bridge is not
		// installed yet has no binding to send through, and then nothing it
		// reported can be pending either.
		c.mu.Lock()
		c.syncID++
		id = fmt.Sprint(c.syncID)
		if c.syncs == nil {
			c.syncs = map[string]chan struct{}{}
		}
		marker = make(chan struct{})
		c.syncs[id] = marker
		c.mu.Unlock()
		defer func() {
			c.mu.Lock()
			delete(c.syncs, id)
			c.mu.Unlock()
		}()
		expr = fmt.Sprintf(`(() => { let sent = false; try { %s(JSON.stringify({what: %q, fields: {id: %q}})); sent = true; } catch (e) {} return [Date.now(), sent]; })()`, binding, syncKind, id)
	}
	res, err := proto.RuntimeEvaluate{Expression: expr, ReturnByValue: true}.Call(page.Timeout(PageAnswer))
	if err != nil || res.ExceptionDetails != nil {
		c.mu.Lock()
		c.deaf = true
		if inOrder && errors.Is(err, context.DeadlineExceeded) {
			c.lapses++
		}
		c.mu.Unlock()
		return known
	}
	var answer []json.RawMessage
	_ = json.Unmarshal([]byte(res.Result.Value.JSON("", "")), &answer)
	var pageNow float64
	var sent bool
	if len(answer) == 2 {
		_ = json.Unmarshal(answer[0], &pageNow)
		_ = json.Unmarshal(answer[1], &sent)
	}
	if sent {
		select {
		case <-marker:
		case <-time.After(PageAnswer):
			c.mu.Lock()
			c.lapses++
			c.mu.Unlock()
		}
	}
	// The page's own answer is the time, unless it is behind what the clock
	// already knows. Paused, that is where the last budget left it; but on a
	// loaded machine the page may already be past it (its next budget began
	// before the harness heard the last one end), and stamping the request
	// with the older time would put it before the page sent it.
	answered := time.UnixMilli(int64(pageNow))
	if pageNow == 0 || (!running && !answered.After(known)) {
		return known
	}
	return answered
}

// Lapses counts the times the clock could not vouch for the order of the
// page's reports and an IdP request: the page did not answer, or its marker
// did not arrive, within PageAnswer. The suite's self-check fails a virtual
// run that had any, so a lapse is never silent.
func (c *VirtualClock) Lapses() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lapses
}

// Start moves the page to virtual time, paused. Call it just before the first
// navigation.
func (c *VirtualClock) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return nil
	}
	if c.page == nil {
		return errors.New("virtual clock: no page")
	}
	c.base = time.Now().Truncate(time.Second).Add(2 * time.Second)
	init := proto.TimeSinceEpoch(float64(c.base.UnixMilli()) / 1000)
	// Paused, without a budget: a budget would send an expiry event that a later
	// Advance could mistake for its own.
	_, err := proto.EmulationSetVirtualTimePolicy{
		Policy: proto.EmulationVirtualTimePolicyPause, InitialVirtualTime: init,
	}.Call(c.page)
	if err != nil {
		return fmt.Errorf("virtual clock: %w", err)
	}
	c.started = true
	return nil
}

// Advance grants the page d of scenario time and waits until it has used it.
func (c *VirtualClock) Advance(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	c.mu.Lock()
	if !c.started || c.page == nil {
		c.mu.Unlock()
		return errors.New("virtual clock: not started")
	}
	ch := make(chan struct{})
	c.expired, c.running = ch, true
	page := c.page
	c.mu.Unlock()
	ms := float64(d) / float64(time.Millisecond)
	if _, err := (proto.EmulationSetVirtualTimePolicy{
		Policy: proto.EmulationVirtualTimePolicyPauseIfNetworkFetchesPending, Budget: &ms,
	}).Call(page); err != nil {
		c.mu.Lock()
		c.running, c.expired = false, nil
		c.mu.Unlock()
		return fmt.Errorf("virtual clock: %w", err)
	}
	stall := time.NewTimer(c.Stall)
	defer stall.Stop()
	select {
	case <-ch:
	case <-ctx.Done():
		return ctx.Err()
	case <-stall.C:
		return fmt.Errorf("virtual clock: a %s budget did not run out in %s of wall time: a network request that never completes keeps the page's clock paused", d, c.Stall)
	}
	c.mu.Lock()
	c.granted += d
	c.mu.Unlock()
	return nil
}

// Until grants budgets of Chunk until done reports true or max passed. Before
// Start, scenario time is wall time.
func (c *VirtualClock) Until(ctx context.Context, done func() bool, max time.Duration) error {
	c.mu.Lock()
	started := c.started
	c.mu.Unlock()
	if !started {
		return timeline.WallClock{}.Until(ctx, done, max)
	}
	var passed time.Duration
	for !done() {
		if passed >= max {
			return timeline.ErrScenarioTimeout
		}
		step := min(c.Chunk, max-passed)
		if err := c.Advance(ctx, step); err != nil {
			return err
		}
		passed += step
	}
	return nil
}
