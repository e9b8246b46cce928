package browser

import (
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// netlog follows one tab's requests, its page's and its workers': after the
// first event CDP names a request only by its id, and a failure or a response
// needs the method, URL and frame the request was sent with. One log serves
// all the tab's sessions because Chromium reports a worker's CORS preflight
// on the page's session, under the worker's request id (the ids are the
// renderer's, one series for a page and its workers), and a worker's main
// script as the page's request and the worker's response.
type netlog struct {
	reqs map[proto.NetworkRequestID]*request
	// waiting holds a CORS preflight's entries until the request it was sent
	// for is seen: Chromium reports the preflight (from the network service,
	// without a frame and stamped by the browser's wall clock) before the
	// page's own request, which has the frame and the page's time.
	waiting map[proto.NetworkRequestID][]heldEntry
	// framing holds the framing headers of each frame's last document, for
	// the error page Chromium shows in their place when they refuse the
	// frame: it says nothing of why.
	framing map[proto.PageFrameID]timeline.Fields
}

type request struct {
	method, url, typ, frame string
	initiator               string        // the worker that sent it
	at                      time.Duration // scenario time when the page sent it
	known                   bool          // frame and at are the page's (a preflight waits for its request)
	headers                 []string      // the header names the page sent, as it spelled them
	preflightFor            proto.NetworkRequestID
}

type heldEntry struct {
	what string
	f    timeline.Fields
}

func (n *netlog) init() {
	if n.framing == nil {
		n.framing = map[proto.PageFrameID]timeline.Fields{}
	}
	if n.reqs == nil {
		n.reqs = map[proto.NetworkRequestID]*request{}
		n.waiting = map[proto.NetworkRequestID][]heldEntry{}
	}
}

// requestFields are what every network entry says about its request.
func (r *request) fields(tab string) timeline.Fields {
	f := timeline.Fields{"method": r.method, "url": r.url, "type": r.typ, "frame": r.frame, "tab": tab}
	if r.initiator != "" {
		f["initiator"] = r.initiator
	}
	return f
}

// onNetwork records the network events of a session of tab t: its page's,
// or those of the worker whose script URL worker is.
func (s *Session) onNetwork(h handlers, t *tab, worker string) {
	on(h, func(e *proto.NetworkRequestWillBeSent) { s.requested(t, worker, e) })
	on(h, func(e *proto.NetworkResponseReceived) { s.responded(t, e) })
	on(h, func(e *proto.NetworkLoadingFailed) { s.failed(t, e) })
	on(h, func(e *proto.NetworkLoadingFinished) { s.finished(t, e.RequestID) })
}

// requested records a request the page or a worker sent, or the redirect of
// one. A worker's requests have no frame (CDP gives an empty frame id).
func (s *Session) requested(t *tab, worker string, e *proto.NetworkRequestWillBeSent) {
	n := &t.net
	n.init()
	s.touched.add(e.Request.URL, false)
	s.secrets.learnURL(e.Request.URL)
	tabNo := fmt.Sprint(t.n)
	if prev, ok := n.reqs[e.RequestID]; ok && e.RedirectResponse != nil {
		// The same id carries on after a redirect: the redirect is the
		// previous URL's response.
		f := prev.fields(tabNo)
		f["status"] = fmt.Sprint(e.RedirectResponse.Status)
		s.tl.AddAt(s.answered(prev), "browser.response", f)
	}
	r := &request{method: e.Request.Method, url: bare(e.Request.URL), typ: string(e.Type), frame: t.frameOf(e.FrameID), initiator: worker, known: true}
	if worker != "" {
		r.frame = "worker"
	}
	for h := range e.Request.Headers {
		r.headers = append(r.headers, h)
	}
	if e.Initiator != nil && e.Initiator.Type == proto.NetworkInitiatorTypePreflight {
		r.typ, r.preflightFor = string(proto.NetworkResourceTypePreflight), e.Initiator.RequestID
		n.reqs[e.RequestID] = r
		if orig, ok := n.reqs[r.preflightFor]; ok && orig.known {
			r.frame, r.initiator, r.at = orig.frame, orig.initiator, orig.at
			s.tl.AddAt(r.at, "browser.request", r.fields(tabNo))
			return
		}
		r.known = false
		n.waiting[r.preflightFor] = append(n.waiting[r.preflightFor], heldEntry{"browser.request", r.fields(tabNo)})
		return
	}
	// A sub-resource's wallTime comes from the page's clock (virtual time
	// included; a dedicated worker reads the page's virtual time too); a
	// navigation's comes from the browser process's wall clock,
	// so it is stamped on arrival instead, while the pending navigation holds
	// virtual time still.
	if e.Type == proto.NetworkResourceTypeDocument {
		r.at = s.tl.Now()
	} else {
		r.at = s.pageTime(wall(e.WallTime)).Sub(s.tl.Origin())
	}
	n.reqs[e.RequestID] = r
	s.tl.AddAt(r.at, "browser.request", r.fields(tabNo))
	// A preflight is recorded after the request it was sent for, whichever
	// Chromium reported first.
	for _, h := range n.waiting[e.RequestID] {
		h.f["frame"] = r.frame
		if r.initiator != "" {
			h.f["initiator"] = r.initiator
		}
		s.tl.AddAt(r.at, h.what, h.f)
	}
	for _, pre := range n.reqs {
		if pre.preflightFor == e.RequestID {
			pre.frame, pre.initiator, pre.at, pre.known = r.frame, r.initiator, r.at, true
		}
	}
	delete(n.waiting, e.RequestID)
}

// answered is when a response or a failure of r happened on the scenario
// clock. On the virtual clock the page's time stands still while the request
// is pending, so it is when the page sent it, unless the page reported a later
// time meanwhile (a request the page does not wait for); asking the page
// instead would hold up the event loop for every response.
func (s *Session) answered(r *request) time.Duration {
	if s.clock == nil {
		return s.tl.Now()
	}
	return max(r.at, s.clock.LastKnown().Sub(s.tl.Origin()))
}

// responded records the HTTP status of a response.
func (s *Session) responded(t *tab, e *proto.NetworkResponseReceived) {
	n := &t.net
	n.init()
	r, ok := n.reqs[e.RequestID]
	if !ok {
		// A request sent before the tab was instrumented.
		return
	}
	f := r.fields(fmt.Sprint(t.n))
	f["status"] = fmt.Sprint(e.Response.Status)
	if e.Type == proto.NetworkResourceTypeDocument {
		fr := framingHeaders(e.Response.Headers)
		maps.Copy(f, fr)
		n.framing[e.FrameID] = fr
	}
	if !r.known {
		n.waiting[r.preflightFor] = append(n.waiting[r.preflightFor], heldEntry{"browser.response", f})
		return
	}
	s.tl.AddAt(s.answered(r), "browser.response", f)
}

// failed records a request that got no response the page could use: a network
// error, a CORS refusal with its reason, a request the browser blocked.
func (s *Session) failed(t *tab, e *proto.NetworkLoadingFailed) {
	n := &t.net
	n.init()
	r, ok := n.reqs[e.RequestID]
	if !ok {
		s.finished(t, e.RequestID)
		return
	}
	f := r.fields(fmt.Sprint(t.n))
	f["error"] = e.ErrorText
	if e.CorsErrorStatus != nil {
		f["cors"] = corsReason(e.CorsErrorStatus, r.headers)
	}
	if e.BlockedReason != "" {
		f["blocked"] = string(e.BlockedReason)
	}
	if e.Canceled {
		f["canceled"] = "yes"
	}
	if !r.known {
		n.waiting[r.preflightFor] = append(n.waiting[r.preflightFor], heldEntry{"browser.request-failed", f})
	} else {
		s.tl.AddAt(s.answered(r), "browser.request-failed", f)
	}
	s.finished(t, e.RequestID)
}

// finished forgets a request. A preflight's entries still waiting for the
// request they were sent for, when that request ends without ever having been
// reported, are recorded as they are.
func (s *Session) finished(t *tab, id proto.NetworkRequestID) {
	n := &t.net
	n.init()
	delete(n.reqs, id)
	for _, h := range n.waiting[id] {
		s.tl.Add(h.what, h.f)
	}
	delete(n.waiting, id)
}

// corsReason says in words why CORS refused a response, with the parameter it
// failed on (a header named as the page spelled it).
func corsReason(st *proto.NetworkCorsErrorStatus, sent []string) string {
	p := st.FailedParameter
	preflight := strings.HasPrefix(string(st.CorsError), "Preflight")
	of := "the response's"
	if preflight {
		of = "the preflight's"
	}
	switch st.CorsError {
	case proto.NetworkCorsErrorHeaderDisallowedByPreflightResponse:
		for _, h := range sent {
			if strings.EqualFold(h, p) {
				p = h
			}
		}
		return "request header " + p + " is not allowed by the preflight"
	case proto.NetworkCorsErrorMethodDisallowedByPreflightResponse:
		return "method " + p + " is not allowed by the preflight"
	case proto.NetworkCorsErrorMissingAllowOriginHeader, proto.NetworkCorsErrorPreflightMissingAllowOriginHeader:
		return of + " Access-Control-Allow-Origin header is missing"
	case proto.NetworkCorsErrorAllowOriginMismatch, proto.NetworkCorsErrorPreflightAllowOriginMismatch:
		return of + " Access-Control-Allow-Origin " + p + " is not the page's origin"
	case proto.NetworkCorsErrorWildcardOriginNotAllowed, proto.NetworkCorsErrorPreflightWildcardOriginNotAllowed:
		return of + " Access-Control-Allow-Origin * does not allow a request with credentials"
	case proto.NetworkCorsErrorInvalidAllowCredentials, proto.NetworkCorsErrorPreflightInvalidAllowCredentials:
		return of + " Access-Control-Allow-Credentials is " + quoted(p) + ", not true, for a request with credentials"
	case proto.NetworkCorsErrorMultipleAllowOriginValues, proto.NetworkCorsErrorPreflightMultipleAllowOriginValues:
		return of + " Access-Control-Allow-Origin has several values"
	case proto.NetworkCorsErrorInvalidAllowOriginValue, proto.NetworkCorsErrorPreflightInvalidAllowOriginValue:
		return of + " Access-Control-Allow-Origin " + quoted(p) + " is not an origin"
	case proto.NetworkCorsErrorPreflightInvalidStatus:
		return "the preflight was not answered with a 2xx status"
	case proto.NetworkCorsErrorPreflightDisallowedRedirect:
		return "the preflight was redirected"
	case proto.NetworkCorsErrorInvalidAllowHeadersPreflightResponse:
		return "the preflight's Access-Control-Allow-Headers " + quoted(p) + " cannot be parsed"
	case proto.NetworkCorsErrorInvalidAllowMethodsPreflightResponse:
		return "the preflight's Access-Control-Allow-Methods " + quoted(p) + " cannot be parsed"
	case proto.NetworkCorsErrorCorsDisabledScheme:
		return "the URL's scheme does not support CORS"
	case proto.NetworkCorsErrorDisallowedByMode:
		return "the request's mode does not allow a cross-origin response"
	}
	if p != "" {
		return string(st.CorsError) + " (" + p + ")"
	}
	return string(st.CorsError)
}

func quoted(s string) string { return `"` + s + `"` }

// framingHeaders are a document's answers to "may I be framed?", as the
// server sent them: X-Frame-Options and the frame-ancestors directive of its
// Content-Security-Policy (the only one that governs framing).
func framingHeaders(h proto.NetworkHeaders) timeline.Fields {
	f := timeline.Fields{}
	for name, v := range h {
		switch strings.ToLower(name) {
		case "x-frame-options":
			f["x_frame_options"] = strings.ReplaceAll(v.Str(), "\n", ", ")
		case "content-security-policy":
			// Several policies arrive joined by newlines; each is enforced.
			var fa []string
			for _, policy := range strings.Split(v.Str(), "\n") {
				for _, d := range strings.Split(policy, ";") {
					if d = strings.TrimSpace(d); strings.HasPrefix(strings.ToLower(d), "frame-ancestors") {
						fa = append(fa, d)
					}
				}
			}
			if len(fa) > 0 {
				f["csp_frame_ancestors"] = strings.Join(fa, ", ")
			}
		}
	}
	return f
}
