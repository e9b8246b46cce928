package browser

import (
	"github.com/go-rod/rod/lib/proto"
)

// How the instrument sees a message sent without changing what the page sees:
// a breakpoint on the native function itself (Debugger.setBreakpointOnFunctionCall),
// whose condition V8 evaluates with the call's receiver and arguments. The
// condition reports the call through the bridge and evaluates to false, so the
// page never stops; the function, its identity and its toString stay the
// native ones, and the caller stays the incumbent, so event.source and
// event.origin are what they would be without the suite.
//
// Measured on Chromium 156 (measure_test.go): a condition costs 30 to 120 us of
// wall time per call on the 2-core machine (dispatchEvent alone takes under
// 1 us) and no page time on the virtual clock, where the page's clock moves
// only while its thread is idle; a pause in the debugger, of any wall length,
// moves the virtual clock by nothing. All breakpoints end with a top-level
// document's inspector session, so the bridge pauses in __refreshsuite_arm at
// the start of every top-level document, before any page script, and the
// session sets them again (arm). Setting one on a native function makes V8 walk
// the renderer's heap for the functions to redirect: arming took 10 ms on a
// small page and 27 to 55 ms on the default client's pages (growing with the
// heap over a session's navigations), wall time only. A whole run of the
// default client took 53 and 55 s before the instrument and 61 and 75 s with
// it, on the shared 2-core machine while others' load came and went.

// armFunction is the bridge's function that pauses to be armed.
const armFunction = "__refreshsuite_arm"

// conditions are the breakpoint conditions for the native functions the bridge
// hands over in __refreshsuite_arm, by the key it gives each. Every name they
// use is one the page cannot replace: the receiver and arguments V8
// materialises, window (unforgeable) and the bridge's non-writable sent
// function; in a realm without the bridge they throw, which V8 takes as false.
var conditions = map[string]string{
	"post":    `__refreshsuite_sent(this, arguments, "post")`,
	"event":   `this === window && __refreshsuite_sent(this, arguments, "event")`,
	"bcOpen":  `__refreshsuite_sent(this, arguments, "bc-open")`,
	"bcPost":  `__refreshsuite_sent(this, arguments, "bc-post")`,
	"bcClose": `__refreshsuite_sent(this, arguments, "bc-close")`,
}

const armGroup = "refreshsuite-arm"

// paused handles every pause of the page's debugger and resumes it: the
// bridge's arming pause, and anything else (a debugger statement in the page)
// as if no debugger were attached.
func (s *Session) paused(t *tab, e *proto.DebuggerPaused) {
	if len(e.CallFrames) > 0 && len(e.HitBreakpoints) == 0 && e.CallFrames[0].FunctionName == armFunction {
		arm(t, e.CallFrames[0].CallFrameID)
	}
	_ = proto.DebuggerResume{}.Call(t.page)
}

// arm sets the breakpoints on the functions the arming pause holds in fns.
// Realms share a native function's code (its SharedFunctionInfo), and with it
// the breakpoint: a second one is refused ("already exists"). V8 redirects an
// interface's functions (BroadcastChannel's) to their breakpoint only when a
// breakpoint is set, and only those that exist then; a document that finds
// them set already (its session kept them) takes its own in by setting one
// breakpoint again: postMessage's, removed and set anew.
func arm(t *tab, frame proto.DebuggerCallFrameID) {
	page := t.page
	res, err := proto.DebuggerEvaluateOnCallFrame{CallFrameID: frame, Expression: "fns", ObjectGroup: armGroup, Silent: true}.Call(page)
	if err != nil || res.Result.ObjectID == "" {
		return
	}
	defer func() { _ = proto.RuntimeReleaseObjectGroup{ObjectGroup: armGroup}.Call(page) }()
	props, err := proto.RuntimeGetProperties{ObjectID: res.Result.ObjectID, OwnProperties: true}.Call(page)
	if err != nil {
		return
	}
	if t.breakpoints == nil {
		t.breakpoints = map[string]proto.DebuggerBreakpointID{}
	}
	set := func(key string, id proto.RuntimeRemoteObjectID) bool {
		r, err := proto.DebuggerSetBreakpointOnFunctionCall{ObjectID: id, Condition: conditions[key]}.Call(page)
		if err == nil {
			t.breakpoints[key] = r.BreakpointID
		}
		return err == nil
	}
	var again proto.RuntimeRemoteObjectID
	refused := false
	for _, p := range props.Result {
		if _, ok := conditions[p.Name]; !ok || p.Value == nil || p.Value.ObjectID == "" {
			continue
		}
		if !set(p.Name, p.Value.ObjectID) {
			refused = true
		}
		if p.Name == "post" {
			again = p.Value.ObjectID
		}
	}
	if refused && again != "" {
		if id, ok := t.breakpoints["post"]; ok {
			_ = proto.DebuggerRemoveBreakpoint{BreakpointID: id}.Call(page)
		}
		set("post", again)
	}
}
