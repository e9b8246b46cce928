package fakeidp

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// corsPolicy is how an endpoint answers a browser's cross-origin fetch.
type corsPolicy int

const (
	// corsNone: the endpoint is navigated to (authorize, end-session), never
	// fetched; a preflight is refused.
	corsNone corsPolicy = iota
	// corsCredentialed: the registered origins may read the answer, with
	// credentials (keycloak-js fetches /token with credentials: 'include',
	// which a wildcard origin would fail); other origins get no CORS header.
	corsCredentialed
	// corsPublic: documents anyone may read (discovery, keys): registered
	// origins as with corsCredentialed, every other origin through "*".
	corsPublic
)

type corsKey struct{}

// corsDecision is what cors decided for the request: allowed (a registered
// origin), public ("*"), refused, or "" (no Origin, or an endpoint without
// CORS).
func corsDecision(ctx context.Context) string {
	d, _ := ctx.Value(corsKey{}).(string)
	return d
}

// cors answers preflights the way Keycloak and Auth0 do (the origin echoed,
// credentials allowed, the requested headers echoed, so a library's own
// header such as Auth0-Client passes) and marks the real request's answer.
// A preflight is recorded as idp.preflight, and only as that.
func (s *Server) cors(e Endpoint, policy corsPolicy, methods []string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		h := w.Header()
		decision := ""
		if policy != corsNone {
			h.Add("Vary", "Origin")
			switch {
			case origin == "":
			case s.origins[origin]:
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
				decision = "allowed"
			case policy == corsPublic:
				h.Set("Access-Control-Allow-Origin", "*")
				decision = "public"
			default:
				decision = "refused"
			}
		}
		if decision == "allowed" || decision == "public" {
			// A browser client reads a DPoP nonce only when it is exposed
			// (RFC 9449 section 8).
			h.Set("Access-Control-Expose-Headers", "DPoP-Nonce")
		}
		if r.Method != http.MethodOptions {
			next(w, r.WithContext(context.WithValue(r.Context(), corsKey{}, decision)))
			return
		}
		method := r.Header.Get("Access-Control-Request-Method")
		reason := ""
		switch {
		case policy == corsNone:
			reason = "the endpoint is not for fetch"
		case origin == "" || method == "":
			reason = "not a preflight (no Origin or Access-Control-Request-Method)"
		case decision == "refused":
			reason = "origin not registered"
		case !slices.Contains(methods, method):
			reason = "method not allowed"
		}
		if reason == "" {
			h.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
			if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
				h.Set("Access-Control-Allow-Headers", req)
			}
			// Sent even when 0: without the header Chromium caches a
			// preflight for 5 s of wall time.
			h.Set("Access-Control-Max-Age", fmt.Sprint(int64(s.cfg.CORSMaxAge.Seconds())))
		} else if policy != corsNone {
			h.Del("Access-Control-Allow-Origin")
			h.Del("Access-Control-Allow-Credentials")
		}
		s.record(r.Context(), "idp.preflight", timeline.Fields{
			"endpoint": string(e), "path": r.URL.Path, "origin": origin,
			"method": method, "headers": r.Header.Get("Access-Control-Request-Headers"),
			"allowed": yesNo(reason == ""), "reason": reason,
		})
		w.WriteHeader(http.StatusNoContent)
	}
}
