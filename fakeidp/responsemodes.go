package fakeidp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/ory/fosite"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// messageModes delivers the response modes fosite does not know, web_message
// (Auth0's) and okta_post_message (Okta's): instead of redirecting, the IdP
// answers with a page that posts the response to the window that made the
// request (a hidden iframe's parent, a popup's opener). The page posts to
// the origin of the redirect URI, which was matched exactly against the
// client's registered ones, and to no other origin: a page that posted to
// "*" would hand the code to whoever framed it.
type messageModes struct{ s *Server }

func (m messageModes) ResponseModes() fosite.ResponseModeTypes {
	return fosite.ResponseModeTypes{fosite.ResponseModeType(ModeWebMessage), fosite.ResponseModeType(ModeOktaPostMessage)}
}

func (m messageModes) WriteAuthorizeResponse(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, resp fosite.AuthorizeResponder) {
	m.write(ctx, w, ar, resp.GetParameters())
}

func (m messageModes) WriteAuthorizeError(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error) {
	rfcerr := fosite.ErrorToRFC6749Error(err)
	if !ar.IsRedirectURIValid() || !modeAllowed(ar) {
		// Nobody to deliver to, or not by this mode: fosite's own answer for
		// an invalid redirect URI, an error the user sees.
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(rfcerr.CodeField)
		_ = json.NewEncoder(w).Encode(rfcerr)
		return
	}
	params := rfcerr.ToValues()
	params.Set("state", ar.GetState())
	if !m.s.cfg.OmitIss {
		params.Set("iss", m.s.URL)
	}
	m.write(ctx, w, ar, params)
}

// modeAllowed reports whether ar's client may be answered by ar's mode.
func modeAllowed(ar fosite.AuthorizeRequester) bool {
	m := ar.GetResponseMode()
	if m == fosite.ResponseModeDefault {
		return true
	}
	c, ok := ar.GetClient().(fosite.ResponseModeClient)
	return ok && slices.Contains(c.GetResponseModes(), m)
}

// authorizeFieldsKey carries the idp.authorize entry's fields to the writers
// fosite calls, which record where the response went.
type authorizeFieldsKey struct{}

func (m messageModes) write(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, params url.Values) {
	u := ar.GetRedirectURI()
	origin := u.Scheme + "://" + u.Host
	if f, ok := ctx.Value(authorizeFieldsKey{}).(timeline.Fields); ok {
		f["target_origin"] = origin
	}
	response := map[string]string{}
	for k := range params {
		response[k] = params.Get(k)
	}
	var msg any = response
	if ar.GetResponseMode() == fosite.ResponseModeType(ModeWebMessage) {
		msg = map[string]any{"type": "authorization_response", "response": response}
	}
	// encoding/json escapes <, > and & (and U+2028/9), so the values cannot
	// end the script.
	data, err := json.Marshal(msg)
	if err != nil {
		http.Error(w, "server_error", http.StatusInternalServerError)
		return
	}
	target, _ := json.Marshal(origin)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>Signing in</title>
<script>
(function () {
  var target = window.opener || window.parent;
  if (target && target !== window) target.postMessage(%s, %s);
})();
</script>
`, data, target)
}
