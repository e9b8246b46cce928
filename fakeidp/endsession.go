package fakeidp

import (
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"

	"github.com/refreshsuite/refreshsuite/timeline"
)

type logoutRequest struct {
	client, hint, target, state string
}

// endSession is OpenID Connect RP-Initiated Logout 1.0, by GET or POST.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.logout(w, r, logoutRequest{
		client: r.Form.Get("client_id"), hint: r.Form.Get("id_token_hint"),
		target: r.Form.Get("post_logout_redirect_uri"), state: r.Form.Get("state"),
	})
}

// auth0Logout is Auth0's /v2/logout, where auth0-spa-js's logout() sends the
// browser: client_id and returnTo, no hint and no state.
func (s *Server) auth0Logout(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.logout(w, r, logoutRequest{client: r.Form.Get("client_id"), target: r.Form.Get("returnTo")})
}

// logout ends the login session and sends the user back only to a URI the
// client registered, matched exactly. The client is the one id_token_hint
// was issued to, or client_id; when both are given they must agree, and
// without either there is no redirect (RP-Initiated Logout 1.0, section 3).
// A request that cannot be honoured as asked is refused with an error page
// and logs nobody out, as Keycloak does.
func (s *Server) logout(w http.ResponseWriter, r *http.Request, lr logoutRequest) {
	ctx := r.Context()
	f := timeline.Fields{
		"path": r.URL.Path, "client": lr.client, "id_token_hint": fingerprint(lr.hint),
		"post_logout_redirect_uri": lr.target,
	}
	rec := &statusRecorder{ResponseWriter: w}
	w = rec
	defer func() {
		f["status"] = fmt.Sprint(rec.status)
		s.record(ctx, "idp.end-session", f)
	}()
	refuse := func(outcome, msg string) {
		f["outcome"], f["error"] = outcome, "invalid_request"
		page(w, http.StatusBadRequest, "Logout refused", msg)
	}
	client := lr.client
	if lr.hint != "" {
		// An expired hint is still a hint: the OP SHOULD accept one whose
		// exp has passed (RP-Initiated Logout 1.0, section 2).
		claims, err := s.checkIDToken(ctx, lr.hint, "")
		if err != nil && !errors.Is(err, errHintExpired) {
			refuse("error", "id_token_hint is not an id_token this provider issued: "+err.Error())
			return
		}
		aud := audiences(claims)
		switch azp, _ := claims["azp"].(string); {
		case client != "" && !slices.Contains(aud, client):
			refuse("error", "id_token_hint was not issued to client_id "+client)
			return
		case client == "" && azp != "":
			client = azp
		case client == "" && len(aud) == 1:
			client = aud[0]
		}
		f["client"] = client
	}
	cl, known := s.clients[client]
	if client != "" && !known {
		refuse("error", "unknown client "+client)
		return
	}
	if lr.target != "" {
		switch {
		case client == "":
			refuse("error", "a post-logout redirect needs id_token_hint or client_id to say whose it is")
			return
		case !slices.Contains(cl.PostLogoutRedirectURIs, lr.target):
			refuse("unregistered-redirect", "the post-logout redirect URI is not registered for client "+client)
			return
		}
	}
	f["session"] = yesNo(s.sessions.logout(w, r))
	if lr.target == "" {
		f["outcome"] = "ok"
		page(w, http.StatusOK, "Signed out", "You are signed out.")
		return
	}
	u, _ := url.Parse(lr.target) // checked when the client was registered
	if lr.state != "" {
		v := u.Query()
		v.Set("state", lr.state)
		u.RawQuery = v.Encode()
	}
	f["outcome"] = "redirect"
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func page(w http.ResponseWriter, status int, title, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>%s</title><p>%s", html.EscapeString(title), html.EscapeString(msg))
}
