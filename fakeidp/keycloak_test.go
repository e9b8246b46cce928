package fakeidp

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
)

// Keycloak's third-party cookie check, which keycloak-js runs before a
// silent check-sso: step 1 sets a cookie and moves on to step 2, which tells
// the parent "supported" when the cookie came back and "unsupported" when
// the browser kept it from the IdP, posting only to a registered origin.
func TestKeycloakThirdPartyCookieCheck(t *testing.T) {
	s := startWith(t, Config{Layout: LayoutKeycloak, HTTPS: true}, Client{})
	run := func(keepCookies bool) string {
		hc := &http.Client{Transport: s.HTTPClient().Transport}
		if keepCookies {
			hc.Jar, _ = cookiejar.New(nil)
		}
		resp, err := hc.Get(s.Endpoint(EndpointThirdPartyCookies))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.Request.URL.String() != s.Endpoint(EndpointThirdPartyCookiesStep2) {
			t.Fatalf("step 1 led to %s", resp.Request.URL)
		}
		if !strings.Contains(string(body), `var registered = ["`+appOrigin+`"];`) || strings.Contains(string(body), `"*"`) {
			t.Errorf("step 2 does not post to the registered origins only:\n%s", body)
		}
		return last(s, "idp.page").Fields["result"]
	}
	if got := run(true); got != "supported" {
		t.Errorf("a browser that keeps the IdP's cookies: %q", got)
	}
	if got := run(false); got != "unsupported" {
		t.Errorf("a browser that blocks them: %q", got)
	}
}
