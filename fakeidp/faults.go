package fakeidp

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sync"

	"github.com/refreshsuite/refreshsuite/vocab"
)

type faultSet struct {
	mu      sync.Mutex
	faults  []vocab.Fault
	fired   []int
	matched []int
}

func newFaultSet(fs []vocab.Fault) *faultSet {
	return &faultSet{faults: fs, fired: make([]int, len(fs)), matched: make([]int, len(fs))}
}

// match returns the first fault that applies to this request and counts it as
// fired.
func (s *faultSet) match(endpoint string, params url.Values) (vocab.Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.On != endpoint || (f.Times > 0 && s.fired[i] >= f.Times) || !vocab.Alters(f.Do, endpoint, params) {
			continue
		}
		ok := true
		for k, v := range f.When {
			if params.Get(k) != v {
				ok = false
				break
			}
		}
		if ok {
			if s.matched[i]++; s.matched[i] <= f.Skip {
				continue
			}
			s.fired[i]++
			return f, true
		}
	}
	return vocab.Fault{}, false
}

// interactivePage is what an IdP shows when it wants the user: inside a hidden
// iframe nobody will ever see it, which is exactly the failure being simulated.
func interactivePage(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	fmt.Fprint(w, `<!doctype html><title>Sign in</title><form><label>User <input name=u></label><button>Sign in</button></form>`)
}

// denyFraming writes the anti-framing headers. Chromium ignores them on a redirect
// (a redirect never renders), so a redirect is turned into a page that would
// navigate on by itself, as IdPs with JavaScript hand-offs do.
type denyFramingWriter struct {
	http.ResponseWriter
	wroteHeader bool
	converted   bool // the redirect became a page; the original body is dropped
}

func (d *denyFramingWriter) WriteHeader(code int) {
	if d.wroteHeader {
		return
	}
	d.wroteHeader = true
	h := d.ResponseWriter.Header()
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	if loc := h.Get("Location"); code >= 300 && code < 400 && loc != "" {
		h.Del("Location")
		h.Set("Content-Type", "text/html; charset=utf-8")
		d.ResponseWriter.WriteHeader(http.StatusOK)
		d.converted = true
		q := html.EscapeString(loc)
		fmt.Fprintf(d.ResponseWriter, `<!doctype html><meta http-equiv="refresh" content="0;url=%s"><a href="%s">Continue</a>`, q, q)
		return
	}
	d.ResponseWriter.WriteHeader(code)
}

func (d *denyFramingWriter) Write(b []byte) (int, error) {
	if !d.wroteHeader {
		d.WriteHeader(http.StatusOK)
	}
	if d.converted {
		return len(b), nil
	}
	return d.ResponseWriter.Write(b)
}
