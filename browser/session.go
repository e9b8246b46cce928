package browser

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/refreshsuite/refreshsuite/timeline"
	"github.com/refreshsuite/refreshsuite/vocab"
)

//go:embed bridge.js
var bridgeJS string

const binding = "__refreshsuite_report"

// syncKind marks the clock's markers among the bridge's reports (see
// VirtualClock.NowInOrder); they are not recorded.
const syncKind = "harness.sync"

// Session is one scenario's browser: an incognito context (cookies, storage)
// no other live session uses and that holds nothing from an earlier one, and
// the scenario's tabs, recording into the scenario's timeline. Page actions
// apply to the current tab; a scenario starts with tab 1.
type Session struct {
	tl      *timeline.Timeline
	events  map[string]string
	clock   *VirtualClock // nil on the real clock; drives tab 1 only
	config  string
	inject  []string
	before  []string
	owner   *Browser
	sc      *scenarioContext // nil once the session is closed
	tabs    []*tab
	cur     *tab
	touched touched
	secrets secrets
}

// tab is one page of the session and the CDP event loop recording it.
type tab struct {
	n    int
	page *rod.Page
	stop func()
	// net, breakpoints and workers belong to the event loop.
	net         netlog
	breakpoints map[string]proto.DebuggerBreakpointID // by the bridge's key (breakpoints.go), this document's session
	workers     map[proto.TargetSessionID]*worker     // the page's dedicated workers, by their CDP session
}

// frameOf says whether a frame id is the tab's top frame or one of its iframes.
func (t *tab) frameOf(id proto.PageFrameID) string {
	if id == t.page.FrameID {
		return "top"
	}
	return "child"
}

// Setup is what a session installs in its page.
type Setup struct {
	// Config is what the app reads as window.refreshsuite.config.
	Config any
	// Events maps the library's event names to the suite's (the original is
	// kept as native).
	Events map[string]string
	// Clock, when not nil, puts the page on virtual time from its first navigation.
	Clock *VirtualClock
	// Inject are scripts run in every frame after the bridge, before the page's.
	Inject []string
	// before are scripts run in every frame before the bridge: a test's view
	// of the page as the bridge found it.
	before []string
}

// NewSession takes a cleared incognito context and opens a page in it with the
// bridge installed.
func (b *Browser) NewSession(tl *timeline.Timeline, setup Setup) (*Session, error) {
	events, clock := setup.Events, setup.Clock
	cfg, err := json.Marshal(setup.Config)
	if err != nil {
		return nil, fmt.Errorf("bridge config: %w", err)
	}
	sc, err := b.contexts.take(b.rod)
	if err != nil {
		return nil, err
	}
	s := &Session{tl: tl, events: events, clock: clock, config: string(cfg), inject: setup.Inject, before: setup.before, owner: b, sc: sc}
	if err := s.Tab(1); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Tab makes tab n current, opening it when it is the next one: a new page in
// the same context, sharing cookies and storage, with the bridge installed.
// Only tab 1 runs on the virtual clock: virtual time is kept per page.
func (s *Session) Tab(n int) error {
	switch {
	case n >= 1 && n <= len(s.tabs):
		s.cur = s.tabs[n-1]
		return nil
	case n != len(s.tabs)+1:
		return fmt.Errorf("tab %d: %d tabs are open, and tabs open in order", n, len(s.tabs))
	case n > 1 && s.clock != nil:
		return fmt.Errorf("tab %d: a second tab needs the real clock", n)
	}
	page, err := s.sc.rod.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		return fmt.Errorf("new page: %w", err)
	}
	t := &tab{n: n, page: page}
	s.tabs = append(s.tabs, t)
	if n == 1 && s.clock != nil {
		s.clock.attach(page)
	}
	if err := s.instrument(t); err != nil {
		return err
	}
	s.cur = t
	return nil
}

// CurrentTab is the number of the tab page actions apply to.
func (s *Session) CurrentTab() int { return s.cur.n }

func (s *Session) instrument(t *tab) error {
	page := t.page
	if err := (proto.RuntimeAddBinding{Name: binding}).Call(page); err != nil {
		return fmt.Errorf("add binding: %w", err)
	}
	for _, js := range s.before {
		if _, err := page.EvalOnNewDocument(js); err != nil {
			return fmt.Errorf("install a script before the bridge: %w", err)
		}
	}
	bridge := strings.NewReplacer("__REFRESHSUITE_CONFIG__", s.config, "__REFRESHSUITE_SECRET_KEYS__", secretKeysJS).Replace(bridgeJS)
	if _, err := page.EvalOnNewDocument(bridge); err != nil {
		return fmt.Errorf("install bridge: %w", err)
	}
	for _, js := range s.inject {
		if _, err := page.EvalOnNewDocument(js); err != nil {
			return fmt.Errorf("install an injected script: %w", err)
		}
	}
	tabNo := fmt.Sprint(t.n)
	add := func(what string, f timeline.Fields) { f["tab"] = tabNo; s.tl.Add(what, f) }
	h := handlers{}
	on(h, func(*proto.EmulationVirtualTimeBudgetExpired) {
		if s.clock != nil {
			s.clock.budgetExpired()
		}
	})
	on(h, func(e *proto.RuntimeBindingCalled) {
		if e.Name == binding {
			s.fromBridge(t, e.Payload)
		}
	})
	on(h, func(e *proto.DebuggerPaused) { s.paused(t, e) })
	s.onNetwork(h, t, "")
	on(h, func(e *proto.PageFrameNavigated) {
		frame := "child"
		if e.Frame.ParentID == "" {
			frame = "top"
		}
		s.touched.add(e.Frame.URL, frame == "top")
		s.secrets.learnURL(e.Frame.URL)
		f := timeline.Fields{
			"frame": frame, "url": bare(e.Frame.URL), "origin": e.Frame.SecurityOrigin, "name": s.secrets.redact(e.Frame.Name),
		}
		if strings.HasPrefix(e.Frame.URL, "chrome-error:") {
			// The error page in place of a document that refused the
			// frame: its headers are the reason.
			maps.Copy(f, t.net.framing[e.Frame.ID])
		}
		add("browser.navigated", f)
	})
	on(h, func(e *proto.RuntimeConsoleAPICalled) {
		if e.Type != proto.RuntimeConsoleAPICalledTypeError {
			return
		}
		var parts []string
		for _, a := range e.Args {
			if a.Description != "" {
				parts = append(parts, a.Description)
			} else {
				parts = append(parts, a.Value.String())
			}
		}
		add("browser.console-error", timeline.Fields{"text": s.secrets.redact(strings.Join(parts, " ")), "source": "console"})
	})
	on(h, func(e *proto.RuntimeExceptionThrown) {
		d := e.ExceptionDetails
		add("browser.console-error", timeline.Fields{"text": s.secrets.redact(thrownText(d)), "frame": bare(d.URL), "source": "exception"})
	})
	on(h, func(e *proto.LogEntryAdded) {
		if f, ok := s.logEntry(e.Entry); ok {
			add("browser.log", f)
		}
	})
	// The loop runs until its context ends; closing the page alone does not
	// end it. It subscribes before any domain is enabled, so nothing is missed.
	ectx, cancel := context.WithCancel(context.Background())
	t.workers = map[proto.TargetSessionID]*worker{}
	s.onWorkers(ectx, t, h)
	msgs := page.Browser().Context(ectx).Event()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range msgs {
			hs := h
			if m.SessionID != page.SessionID {
				w, ok := t.workers[m.SessionID]
				if !ok {
					continue // another tab's, or a session this tab does not follow
				}
				hs = w.handlers
			}
			if f, ok := hs[m.Method]; ok {
				f(m)
			}
		}
	}()
	t.stop = func() { cancel(); <-done }
	// Enable the domains before the first navigation so nothing is missed;
	// Runtime and Debugger first, in the order rod's EachEvent enabled them
	// when it ran this loop.
	if err := (proto.RuntimeEnable{}).Call(page); err != nil {
		return fmt.Errorf("enable CDP domain: %w", err)
	}
	if _, err := (proto.DebuggerEnable{}).Call(page); err != nil {
		return fmt.Errorf("enable CDP domain: %w", err)
	}
	for _, call := range []interface{ Call(proto.Client) error }{proto.NetworkEnable{}, proto.PageEnable{}, proto.LogEnable{}} {
		if err := call.Call(page); err != nil {
			return fmt.Errorf("enable CDP domain: %w", err)
		}
	}
	return watchWorkers(page)
}

// thrownText is an uncaught exception as V8 describes it (an Error's
// "Name: message" and stack, a thrown string as it is), after the "Uncaught"
// V8 puts before an unhandled rejection's.
func thrownText(d *proto.RuntimeExceptionDetails) string {
	t := d.Text
	if x := d.Exception; x != nil {
		switch {
		case x.Description != "":
			t = x.Description
		case x.Type == proto.RuntimeRemoteObjectTypeString:
			t = x.Value.Str()
		case x.Value.String() != "":
			t = x.Value.String()
		}
		if strings.Contains(d.Text, "(in promise)") {
			t = "(in promise) " + t
		}
	}
	return t
}

// logEntry is a browser message worth a timeline entry: an error or warning
// the browser itself reports (a refused frame, a postMessage whose target
// origin does not match, a CORS refusal in words). Network failures are
// recorded as requests, console calls as console errors.
func (s *Session) logEntry(l *proto.LogLogEntry) (timeline.Fields, bool) {
	if l.Level != proto.LogLogEntryLevelError && l.Level != proto.LogLogEntryLevelWarning {
		return nil, false
	}
	switch l.Source {
	case proto.LogLogEntrySourceNetwork, proto.LogLogEntrySourceDeprecation, proto.LogLogEntrySourceRecommendation,
		proto.LogLogEntrySourceViolation, proto.LogLogEntrySourceIntervention:
		return nil, false
	}
	return timeline.Fields{"source": string(l.Source), "level": string(l.Level), "text": s.secrets.redact(l.Text), "url": bare(l.URL)}, true
}

type bridgeMessage struct {
	What   string          `json:"what"`
	Now    float64         `json:"now"`
	Fields timeline.Fields `json:"fields"`
	// Secrets are the values behind the placeholders in Fields (bridge.js,
	// describe).
	Secrets []string `json:"secrets"`
}

// urlFields are bridge fields that hold a URL: they are recorded without query
// and fragment.
var urlFields = []string{"to", "from", "from_url", "frame", "src"}

// maxData is how much of a message's data an entry keeps, after redaction (a
// secret cut in half would no longer be recognised).
const maxData = 1000

func (s *Session) fromBridge(t *tab, payload string) {
	tabNo := fmt.Sprint(t.n)
	var m bridgeMessage
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		s.tl.Add("browser.console-error", timeline.Fields{"text": "unreadable bridge message: " + err.Error(), "tab": tabNo})
		return
	}
	if m.What == syncKind {
		if s.clock != nil {
			s.pageTime(time.UnixMicro(int64(m.Now * 1000)))
			s.clock.synced(m.Fields["id"])
		}
		return
	}
	if _, ok := vocab.Kinds[m.What]; !ok || !(strings.HasPrefix(m.What, "client.") || strings.HasPrefix(m.What, "browser.")) {
		s.tl.Add("browser.console-error", timeline.Fields{"text": "bridge sent an unknown kind " + m.What, "tab": tabNo})
		return
	}
	if m.Fields == nil {
		m.Fields = timeline.Fields{}
	}
	for _, k := range urlFields {
		if v, ok := m.Fields[k]; ok && strings.Contains(v, "://") {
			s.secrets.learnURL(v)
			m.Fields[k] = bare(v)
		}
	}
	for k, v := range m.Fields {
		v = s.secrets.redact(s.secrets.placeholders(v, m.Secrets))
		if k == "data" {
			v = clip(v, maxData)
		}
		m.Fields[k] = v
	}
	m.Fields["tab"] = tabNo
	if name, ok := s.events[m.Fields["type"]]; ok && m.What == "client.event" {
		m.Fields["native"], m.Fields["type"] = m.Fields["type"], name
	}
	s.tl.AddWall(s.pageTime(time.UnixMicro(int64(m.Now*1000))), m.What, m.Fields)
}

// pageTime passes a time stamped by the page's clock on to the virtual clock,
// which uses it while the page cannot be asked.
func (s *Session) pageTime(t time.Time) time.Time {
	if s.clock != nil {
		s.clock.observe(t)
	}
	return t
}

func wall(t proto.TimeSinceEpoch) time.Time {
	if t.Time().IsZero() {
		return time.Now()
	}
	return t.Time()
}

// bare drops the query and fragment of a URL: they carry codes and tokens.
func bare(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	return u.String()
}

// Navigate loads a URL in the page. On a virtual clock the first navigation
// starts virtual time (it cannot start on about:blank).
func (s *Session) Navigate(u string) error {
	if s.clock != nil {
		if err := s.clock.Start(); err != nil {
			return err
		}
	}
	// A server that accepts the connection and never answers must not hang
	// the run: Chromium's own network timeout is minutes.
	if err := s.cur.page.Timeout(navigateTimeout).Navigate(u); err != nil {
		return fmt.Errorf("navigate to %s: %w", bare(u), err)
	}
	return nil
}

// navigateTimeout bounds how long a navigation may take to commit, in wall time.
const navigateTimeout = 60 * time.Second

// Call invokes a driver function and waits for its promise. A rejection is
// returned as a *Rejected error carrying the app's message.
func (s *Session) Call(ctx context.Context, fn string, args ...any) (json.RawMessage, error) {
	wait, err := s.Begin(fn, args...)
	if err != nil {
		return nil, err
	}
	v, _, err := wait(ctx)
	return v, err
}

// Begin calls a driver function and returns once the call has started, with a
// function that waits for its promise and returns its value and the page's
// clock when it settled. On a virtual clock the harness starts a call this way
// before it lets time run, so the call always begins at the same instant of
// scenario time; and it only notices the settling at the end of a budget, so
// the page stamps the instant itself.
func (s *Session) Begin(fn string, args ...any) (wait func(context.Context) (json.RawMessage, time.Time, error), err error) {
	if args == nil {
		args = []any{}
	}
	page := s.cur.page
	promise, err := page.Evaluate(rod.Eval(settleJS, fn, args).ByObject())
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (json.RawMessage, time.Time, error) {
		res, err := proto.RuntimeAwaitPromise{PromiseObjectID: promise.ObjectID, ReturnByValue: true}.Call(page.Context(ctx))
		if err != nil {
			return nil, time.Time{}, err
		}
		if res.ExceptionDetails != nil {
			return nil, time.Time{}, &Rejected{Message: s.exceptionMessage(res.ExceptionDetails)}
		}
		var out struct {
			Value    json.RawMessage `json:"value"`
			Rejected *string         `json:"rejected"`
			At       float64         `json:"at"`
		}
		if err := json.Unmarshal([]byte(res.Result.Value.JSON("", "")), &out); err != nil {
			return nil, time.Time{}, fmt.Errorf("%s: unreadable outcome: %w", fn, err)
		}
		at := s.pageTime(time.UnixMicro(int64(out.At * 1000)))
		if out.Rejected != nil {
			return nil, at, &Rejected{Message: s.firstLine(*out.Rejected)}
		}
		return out.Value, at, nil
	}, nil
}

// settleJS calls a driver function and always resolves, with the value or the
// rejection and the page's clock at that moment. The message reads as V8's own
// description of the thrown value does (an Error's "Name: message" line, a
// string as it is); any other value is shown as JSON, clipped, and a value that
// cannot be described still settles the call.
const settleJS = `(fn, args) => window.refreshsuite.call(fn, args).then(
	(value) => ({ value: value === undefined ? null : value, at: Date.now() }),
	(e) => {
		let rejected;
		try {
			if (Object.prototype.toString.call(e) === '[object Error]' || typeof (e && e.stack) === 'string') {
				rejected = typeof e.stack === 'string' && e.stack !== '' ? e.stack : String(e);
			} else if (typeof e === 'string') {
				rejected = e;
			} else {
				rejected = String(JSON.stringify(e)).slice(0, 200);
			}
		} catch (_) {
			rejected = 'a rejection that cannot be described';
		}
		return { rejected, at: Date.now() };
	})`

// Start invokes a driver function without waiting: for functions that navigate
// the page away (login).
func (s *Session) Start(fn string) error {
	_, err := s.cur.page.Eval(`(fn) => { window.refreshsuite.call(fn, []).catch(() => {}); }`, fn)
	return err
}

// Rejected is a driver call whose promise rejected.
type Rejected struct{ Message string }

func (r *Rejected) Error() string { return "rejected: " + r.Message }

func (s *Session) exceptionMessage(d *proto.RuntimeExceptionDetails) string {
	if d.Exception != nil && d.Exception.Description != "" {
		return s.firstLine(d.Exception.Description)
	}
	if d.Exception != nil && d.Exception.Value.String() != "" {
		return s.secrets.redact(d.Exception.Value.String())
	}
	return s.secrets.redact(d.Text)
}

// firstLine is an error's message without its stack, redacted.
func (s *Session) firstLine(text string) string {
	first, _, _ := strings.Cut(text, "\n")
	return s.secrets.redact(first)
}

// clip cuts s to at most n bytes on a character boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// Frames counts the iframes of the top document.
type Frames struct {
	Count   int    `json:"count"`
	Visible int    `json:"visible"`
	IDs     string `json:"ids"`
}

// Frames returns the iframes in the top document now.
func (s *Session) Frames(ctx context.Context) (Frames, error) {
	var f Frames
	res, err := s.cur.page.Context(ctx).Eval(`() => window.__refreshsuite_frames ? window.__refreshsuite_frames() : {count: 0, visible: 0, ids: ""}`)
	if err != nil {
		return f, err
	}
	err = res.Value.Unmarshal(&f)
	return f, err
}

// Eval runs a function in the top document, for harness actions such as adding
// a foreign frame.
func (s *Session) Eval(ctx context.Context, js string, args ...any) error {
	_, err := s.cur.page.Context(ctx).Eval(js, args...)
	return err
}

// EvalString runs a function in the top document and returns its result as a
// string (a value that is not a string is the empty string).
func (s *Session) EvalString(ctx context.Context, js string, args ...any) (string, error) {
	res, err := s.cur.page.Context(ctx).Eval(js, args...)
	if err != nil {
		return "", err
	}
	return res.Value.Str(), nil
}

// SetFrozen freezes or resumes the page through the page lifecycle (what a
// browser does to a tab in the background, or to every tab of a machine going
// to sleep).
func (s *Session) SetFrozen(frozen bool) error {
	state := proto.PageSetWebLifecycleStateStateActive
	if frozen {
		state = proto.PageSetWebLifecycleStateStateFrozen
	}
	return proto.PageSetWebLifecycleState{State: state}.Call(s.cur.page)
}

// SetOffline takes the network away from every tab, or gives it back: a
// machine loses its network, not one tab. The dedicated workers a tab's
// frames start follow its conditions (workers.go). CORS preflights are let
// through, Chromium's emulation being what it is: a preflighted request's
// OPTIONS reaches the server while offline, from a page or a worker alike,
// and only the request itself fails.
func (s *Session) SetOffline(offline bool) error {
	for _, t := range s.tabs {
		if err := (proto.NetworkEmulateNetworkConditions{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}).Call(t.page); err != nil {
			return err
		}
	}
	return nil
}

// Screenshot returns a PNG of the current tab.
func (s *Session) Screenshot() ([]byte, error) {
	return s.cur.page.Timeout(5*time.Second).Screenshot(true, nil)
}

// Close closes the tabs and hands the context back, cleared, for the next
// session. A tab that would not close (a beforeunload dialog, a dead renderer)
// could still write into the context after the clearing, so then the context
// is closed instead.
func (s *Session) Close() {
	closed := true
	for _, t := range s.tabs {
		if err := t.page.Close(); err != nil {
			closed = false
		}
	}
	for _, t := range s.tabs {
		if t.stop != nil {
			t.stop()
		}
	}
	switch {
	case s.sc == nil:
	case closed:
		s.owner.contexts.give(s.sc, s.touched.storageKeys())
	default:
		s.sc.close()
	}
	s.sc = nil
}
