package vocab

// browserKinds are what the browser instrumentation and the bridge record:
// the page's frames, messages, requests and console, and the client
// library's own events forwarded by the app's glue. URLs are recorded without
// query and fragment; data is the start of a message, secrets fingerprinted.
var browserKinds = map[string]Kind{
	"browser.frame-attached": {"an iframe element entered a document", map[string]string{
		"frame": "the parent document's URL", "id": "id attribute", "src": "src attribute",
		"visible": "yes when it occupies screen space and is not hidden", "width": "rendered width px", "height": "rendered height px",
	}},
	"browser.frame-detached": {"an iframe element left a document", map[string]string{"frame": "the parent document's URL", "id": "id attribute", "src": "src attribute"}},
	"browser.navigated": {"a frame committed a navigation", map[string]string{
		"frame": "top or child", "url": "URL without its fragment", "origin": "origin", "name": "frame name",
		"x_frame_options":     "on the browser's error page (chrome-error:), the X-Frame-Options of the document it stands in for, as sent",
		"csp_frame_ancestors": "on the browser's error page, the frame-ancestors directives of that document's Content-Security-Policy, as sent",
	}},
	"browser.frames": {"the iframes in the page after a step", map[string]string{
		"count": "iframes in the page", "visible": "of which visible", "ids": "their id attributes",
	}},
	"browser.post-message": {"a same-origin window's postMessage was called, such as a callback page's parent.postMessage (observed at the native function, which stays unchanged; a cross-origin caller shows only as the browser.message it causes)", map[string]string{
		"to":            "URL of the receiving window, when it is the function's own",
		"to_window":     "the receiving window as the caller sees it (self, parent, top, opener, child, other), when the caller used its own function on another window",
		"to_frame":      "the receiving iframe's id, when it is a child of the caller",
		"from":          "URL of the calling window, when the caller used its own function on another window (else the browser.message names the sender)",
		"target_origin": "the targetOrigin the call gives (\"/\" when it gives none, as the native function reads it)",
		"data":          "start of the message",
	}},
	"browser.message": {"a message event reached a window", map[string]string{
		"to": "URL of the receiving window", "origin": "the sender's origin (event.origin)",
		"from_window": "event.source as the receiving window sees it: self, parent, top, opener, child, other, or none",
		"from_frame":  "the sending iframe's id, when it is a child", "from_url": "URL of the sending window, when same-origin",
		"target_origin": "the targetOrigin the same-origin sender gave (its browser.post-message)", "trusted": "no for an event a script made and dispatched itself (forged)",
		"data": "start of the message",
	}},
	"browser.channel-post": {"BroadcastChannel.postMessage was called in the top document (a frame's posts show as the channel-message the app's window receives)", map[string]string{
		"channel": "the channel's name", "from": "URL of the sending window", "origin": "its origin", "data": "start of the message",
	}},
	"browser.channel-message": {"a BroadcastChannel message reached the top document while it has a channel of that name open", map[string]string{
		"channel": "the channel's name", "to": "URL of the receiving window", "origin": "the sender's origin", "data": "start of the message",
	}},
	"browser.window-event": {"a script dispatched an event on the top window (dispatchEvent), such as a callback page's CustomEvent on its parent", map[string]string{
		"type": "event type", "interface": "CustomEvent, MessageEvent or Event", "to": "URL of the window",
		"from": "URL of the window that made the event object, when it is this one or a same-origin relative", "data": "start of the CustomEvent's detail or the MessageEvent's data",
	}},
	"browser.request": {"a network request from any frame, or from a dedicated worker one of them started", map[string]string{
		"method": "HTTP method", "url": "URL without query and fragment",
		"type": "resource type; Preflight for a CORS preflight, stamped and framed as the request it was sent for", "frame": requestFrame,
		"initiator": workerInitiator,
	}},
	"browser.response": {"the response to a request (or a redirect) arrived", map[string]string{
		"method": "HTTP method", "url": "URL without query and fragment", "type": "resource type", "frame": requestFrame, "status": "HTTP status",
		"initiator":           workerInitiator,
		"x_frame_options":     "a document's X-Frame-Options, as sent (when it sent one)",
		"csp_frame_ancestors": "the frame-ancestors directives of a document's Content-Security-Policy, as sent (when it has one)",
	}},
	"browser.refused-host": {"the browser's allow-list refused a request to a host that is neither the IdP's, the app's nor one the run allows", map[string]string{
		"host": "the refused host", "url": "the URL without its query (empty for an https request: only its host is seen)",
	}},
	"browser.request-failed": {"a request got no response the page could use", map[string]string{
		"method": "HTTP method", "url": "URL without query and fragment", "type": "resource type", "frame": requestFrame,
		"error": "the network error (net::ERR_...)", "cors": "why CORS refused it, in words, with the header, method or value it failed on",
		"blocked": "why the browser blocked it (csp, mixed-content, ...)", "canceled": "yes when the page or a navigation gave up on it",
		"initiator": workerInitiator,
	}},
	"browser.console-error": {"a console error or uncaught exception", map[string]string{
		"text": "message", "frame": "URL of the script, for an exception", "source": "exception or console",
	}},
	"browser.log": {"an error or warning the browser itself reported (a refused frame, a postMessage to a non-matching origin, a CORS refusal)", map[string]string{
		"source": "the browser's category: security, javascript, rendering, ...", "level": "error or warning", "text": "message", "url": "URL it concerns",
	}},
	"browser.callback-probe": {"the harness framed the client's callback page, with a response in its URL, in a page of a foreign origin (Session.ProbeCallback)", map[string]string{
		"url": "the callback page", "outcome": "delivered (the foreign page received the response), refused (the browser dropped it: the target origin was not the foreign page's) or silent (nothing was posted to the parent)",
		"target_origin": "the target origin of a refused message", "origin": "event.origin of a delivered message", "data": "start of a delivered message",
	}},
	"client.event": {"an event the client library emitted, through the bridge", map[string]string{
		"type": "event name (the suite's)", "native": "the library's own name, when the manifest maps it", "info": "event detail", "frame": "top or child",
	}},
	"client.ready": {"the app finished starting", map[string]string{"logged_in": "yes or no", "error": "start-up error"}},
}

// The fields that say where a request came from.
const (
	requestFrame    = "top or child, or worker for a request a dedicated worker sent (auth0-spa-js makes its token requests from one)"
	workerInitiator = "the script URL of the dedicated worker that sent it, without query and fragment (blob:... for a worker made from a Blob); only with frame worker"
)
