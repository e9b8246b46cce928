package fakeidp

import (
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var postMessageCall = regexp.MustCompile(`target\.postMessage\((.*), ("[^"]*")\);`)

// messagePage runs an authorize request that answers with a page, and
// returns what the page posts and to which origin; every postMessage call
// in the page is returned, so a test sees a second one too.
func messagePage(t *testing.T, s *Server, extra url.Values) (msgs []map[string]any, targets []string, status int) {
	t.Helper()
	hc := browserFor(t, s)
	if extra.Get("prompt") == "none" {
		authorize(t, hc, s, nil) // log in first
	}
	q := url.Values{"redirect_uri": {appOrigin + "/silent-refresh.html"}}
	for k, v := range extra {
		q[k] = v
	}
	resp := authorizeRequest(t, hc, s, q)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, m := range postMessageCall.FindAllStringSubmatch(string(body), -1) {
		var msg map[string]any
		var target string
		if err := json.Unmarshal([]byte(m[1]), &msg); err != nil {
			t.Fatalf("the posted message is not JSON: %v\n%s", err, body)
		}
		_ = json.Unmarshal([]byte(m[2]), &target)
		msgs, targets = append(msgs, msg), append(targets, target)
	}
	if strings.Count(string(body), "postMessage") != len(msgs) {
		t.Fatalf("a postMessage call the test cannot read:\n%s", body)
	}
	return msgs, targets, resp.StatusCode
}

// web_message (Auth0's) and okta_post_message (Okta's) answer with a page
// that posts the response to the registered redirect URI's origin, never
// "*": auth0-spa-js reads {type: "authorization_response", response}, and
// okta-auth-js the response's parameters themselves, checking state.
func TestMessageResponseModes(t *testing.T) {
	s := startWith(t, Config{}, Client{ResponseModes: ResponseModes})
	for _, mode := range []ResponseMode{ModeWebMessage, ModeOktaPostMessage} {
		msgs, targets, status := messagePage(t, s, url.Values{"response_mode": {string(mode)}, "prompt": {"none"}})
		if status != 200 || len(msgs) != 1 || targets[0] != appOrigin {
			t.Fatalf("%s: status %d, posts %v to %v; want one post to %s", mode, status, msgs, targets, appOrigin)
		}
		response := msgs[0]
		if mode == ModeWebMessage {
			if msgs[0]["type"] != "authorization_response" {
				t.Errorf("web_message type %v", msgs[0]["type"])
			}
			response, _ = msgs[0]["response"].(map[string]any)
		}
		if code, _ := response["code"].(string); code == "" || response["state"] != "state-12345678" {
			t.Errorf("%s response %v, want a code and the state", mode, response)
		}
		e := last(s, "idp.authorize")
		if e.Fields["response_mode"] != string(mode) || e.Fields["delivery"] != string(mode) || e.Fields["target_origin"] != appOrigin || e.Fields["outcome"] != "ok" {
			t.Errorf("%s entry %v", mode, e)
		}
		// Errors go the same way: prompt=none without a session.
		resp := authorizeRequest(t, browserFor(t, s), s, url.Values{"response_mode": {string(mode)}, "prompt": {"none"}})
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		m := postMessageCall.FindStringSubmatch(string(body))
		if m == nil || m[2] != `"`+appOrigin+`"` || !strings.Contains(m[1], `"error":"login_required"`) {
			t.Errorf("%s error page: %s", mode, body)
		}
	}
}

// A page is delivered only to a registered redirect URI, and only for a mode
// the client has: an unregistered URI gets an error page that posts nothing.
func TestMessageModesNeedRegistration(t *testing.T) {
	s := startIdP(t, Client{}) // default modes: query, fragment, form_post
	_, _, _ = messagePage(t, s, url.Values{"response_mode": {"web_message"}})
	if e := last(s, "idp.authorize"); e.Fields["error"] != "unsupported_response_mode" || e.Fields["target_origin"] != "" {
		t.Errorf("web_message for a client without it: %v", e)
	}
	s2 := startWith(t, Config{}, Client{ResponseModes: ResponseModes})
	msgs, _, status := messagePage(t, s2, url.Values{"response_mode": {"web_message"}, "redirect_uri": {"http://evil.test/cb"}})
	if len(msgs) != 0 || status < 400 {
		t.Errorf("an unregistered redirect URI: status %d, posts %v", status, msgs)
	}
	msgs, _, status = messagePage(t, s2, url.Values{"response_mode": {"okta_post_message"}, "client_id": {"nobody"}})
	if len(msgs) != 0 || status < 400 {
		t.Errorf("an unknown client: status %d, posts %v", status, msgs)
	}
}
