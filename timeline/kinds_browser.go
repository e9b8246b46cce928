package timeline

// browserKinds are what the browser instrumentation and the bridge record:
// the page's frames, messages, requests and console, and the client
// library's own events forwarded by the app's glue.
var browserKinds = map[string]Kind{
	"browser.frame-attached": {"an iframe element entered a document", map[string]string{
		"frame": "the parent document's URL", "id": "id attribute", "src": "src attribute",
		"visible": "yes when it occupies screen space and is not hidden", "width": "rendered width px", "height": "rendered height px",
	}},
	"browser.frame-detached": {"an iframe element left a document", map[string]string{"frame": "the parent document's URL", "id": "id attribute", "src": "src attribute"}},
	"browser.navigated": {"a frame committed a navigation", map[string]string{
		"frame": "top or child", "url": "URL without its fragment", "origin": "origin", "name": "frame name",
	}},
	"browser.frames": {"the iframes in the page after a step", map[string]string{
		"count": "iframes in the page", "visible": "of which visible", "ids": "their id attributes",
	}},
	"browser.post-message": {"postMessage called on a window of this page", map[string]string{
		"to": "URL of the receiving window", "target_origin": "the targetOrigin argument", "data": "start of the message",
	}},
	"browser.message": {"a message event reached a window", map[string]string{
		"to": "URL of the receiving window", "origin": "the sender's origin", "data": "start of the message",
	}},
	"browser.request": {"a network request from any frame", map[string]string{
		"method": "HTTP method", "url": "URL without query and fragment", "type": "resource type", "frame": "top or child",
	}},
	"browser.console-error": {"a console error or uncaught exception", map[string]string{"text": "message", "frame": "URL"}},
	"client.event": {"an event the client library emitted, through the bridge", map[string]string{
		"type": "event name (the suite's)", "native": "the library's own name, when the manifest maps it", "info": "event detail", "frame": "top or child",
	}},
	"client.ready": {"the app finished starting", map[string]string{"logged_in": "yes or no", "error": "start-up error"}},
}
