package browser

import (
	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// handlers are one CDP session's event callbacks by method. A tab's event
// loop serves its page's session and those of the workers the page starts
// with one subscription, so that their events are handled in the order
// Chromium sent them and the tab's bookkeeping has a single owner; rod's
// EachEvent follows one session only.
type handlers map[string]func(*rod.Message)

// on adds f for the events of its parameter's type.
func on[E any, P interface {
	*E
	proto.Event
}](h handlers, f func(P)) {
	h[P(new(E)).ProtoEvent()] = func(m *rod.Message) {
		e := P(new(E))
		if m.Load(e) {
			f(e)
		}
	}
}
