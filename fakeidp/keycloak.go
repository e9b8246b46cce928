package fakeidp

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// thirdPartyCookie is set by step 1 of Keycloak's third-party cookie check
// and looked for by step 2; its name is the IdP's own, apart from the app's.
const thirdPartyCookie = "refreshsuite_idp_3p"

// thirdPartyStep1 sets a cookie and sends the iframe on to step 2: where the
// browser keeps third-party cookies from the IdP, the cookie is not stored,
// or not sent back, and step 2 answers "unsupported".
func (s *Server) thirdPartyStep1(w http.ResponseWriter, r *http.Request) {
	s.record(r.Context(), "idp.page", timeline.Fields{"page": string(EndpointThirdPartyCookies), "path": r.URL.Path})
	http.SetCookie(w, &http.Cookie{Name: thirdPartyCookie, Value: "supported", Path: "/", MaxAge: 60, Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.paths[EndpointThirdPartyCookiesStep2], http.StatusFound)
}

// thirdPartyStep2 tells the parent "supported" or "unsupported", the two
// messages keycloak-js waits for. Keycloak's page posts them to "*"; this one
// posts to the parent's origin only when a client registered it, read from
// location.ancestorOrigins (Chromium's), and to nobody otherwise.
func (s *Server) thirdPartyStep2(w http.ResponseWriter, r *http.Request) {
	result := "unsupported"
	if c, err := r.Cookie(thirdPartyCookie); err == nil && c.Value == "supported" {
		result = "supported"
	}
	s.record(r.Context(), "idp.page", timeline.Fields{"page": string(EndpointThirdPartyCookiesStep2), "path": r.URL.Path, "result": result})
	http.SetCookie(w, &http.Cookie{Name: thirdPartyCookie, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode})
	var origins []string
	for o := range s.origins {
		origins = append(origins, o)
	}
	slices.Sort(origins)
	list, _ := json.Marshal(origins)
	msg, _ := json.Marshal(result)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprintf(w, `<!doctype html><meta charset="utf-8"><title>3p cookies</title>
<script>
(function () {
  var registered = %s;
  var parent = location.ancestorOrigins && location.ancestorOrigins[0];
  if (parent && registered.indexOf(parent) >= 0) window.parent.postMessage(%s, parent);
})();
</script>
`, list, msg)
}
