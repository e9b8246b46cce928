package browser

import (
	"strconv"
	"strings"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// Problem quotes in one line the first thing among entries that explains why a
// step did not work, for a failure message: a request that got no usable
// response (a CORS refusal with its reason, a network error, a request the
// browser blocked), an HTTP error status, or an uncaught exception, whichever
// came first; failing those, the first console error or browser error message.
// It returns "" when there is none. Pass the entries recorded since the step
// began (Timeline.Entries()[n:]).
func Problem(entries []timeline.Entry) string {
	var fallback string
	for _, e := range entries {
		f := e.Fields
		switch e.What {
		case "browser.request-failed":
			if f["canceled"] == "yes" || f["error"] == "net::ERR_ABORTED" {
				continue // the page or a navigation gave up on it: not a cause
			}
			switch {
			case f["cors"] != "":
				return "CORS: " + f["cors"] + " (" + f["url"] + ")"
			case f["blocked"] != "":
				return f["method"] + " " + f["url"] + ": blocked (" + f["blocked"] + ")"
			}
			return f["method"] + " " + f["url"] + ": " + f["error"]
		case "browser.response":
			status, _ := strconv.Atoi(f["status"])
			if status < 400 || f["type"] == "Preflight" || strings.HasSuffix(f["url"], "/favicon.ico") {
				continue // a preflight's own status shows as the CORS refusal it causes
			}
			return f["method"] + " " + f["url"] + ": " + f["status"]
		case "browser.console-error":
			if f["source"] == "exception" {
				return "uncaught " + oneLine(f["text"]) + where(f["frame"])
			}
			if fallback == "" {
				fallback = "console error: " + oneLine(f["text"])
			}
		case "browser.log":
			if fallback == "" && f["level"] == "error" {
				fallback = f["source"] + ": " + oneLine(f["text"])
			}
		}
	}
	return fallback
}

func oneLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(first)
}

func where(url string) string {
	if url == "" {
		return ""
	}
	return " (" + url + ")"
}
