package suite

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
	"github.com/refreshsuite/refreshsuite/tlsca"
)

// appServer serves a client's built app for one scenario, applying the
// scenario's app-side faults (a callback page without its postMessage).
type appServer struct {
	srv    *httptest.Server // nil for an app the user serves
	origin string
	base   string // the app's base URL, ending in /
}

// userApp is an app the user serves at base.
func userApp(base string) (*appServer, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &appServer{origin: u.Scheme + "://" + u.Host, base: base}, nil
}

// startApp serves the built app on localhost, over https with a leaf of the
// suite's CA when the client's IdP is on https: an app and an IdP on
// different schemes are cross-site, whatever the hosts, and the IdP's
// session cookie would not reach its iframe. A base (http://localhost:8080/
// path/) serves it there instead, on that port and under that path: the
// redirect base a vendor registered with an external IdP.
func startApp(dir, silentPage string, https bool, faults []scenarios.Fault, tl *timeline.Timeline, base string) (*appServer, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("the client app is not built: %s is missing", dir)
	}
	files := staticFiles(dir)
	prefix := ""
	var fixed *url.URL
	if base != "" {
		var err error
		if fixed, err = url.Parse(base); err != nil {
			return nil, err
		}
		prefix = strings.TrimSuffix(fixed.Path, "/")
		files = http.StripPrefix(prefix, files)
	}
	var noPost *scenarios.Fault
	for _, f := range faults {
		if f.On == "silent-callback" && f.Do == "no-post-message" {
			noPost = &f
		}
	}
	var mu sync.Mutex
	loads, fired := 0, 0
	// fires counts the callback's loads against the fault's skip and times.
	fires := func() bool {
		mu.Lock()
		defer mu.Unlock()
		loads++
		if loads <= noPost.Skip || (noPost.Times > 0 && fired >= noPost.Times) {
			return false
		}
		fired++
		return true
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every load must reach the server: a cached page would hide faults and
		// make runs depend on each other.
		w.Header().Set("Cache-Control", "no-store")
		if noPost != nil && strings.TrimPrefix(strings.TrimPrefix(path.Clean(r.URL.Path), prefix), "/") == silentPage && fires() {
			tl.Add("app.fault", timeline.Fields{"on": "silent-callback", "do": "no-post-message", "path": r.URL.Path})
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, "<!doctype html><html><body><!-- callback served without its postMessage --></body></html>")
			return
		}
		files.ServeHTTP(w, r)
	})
	srv := httptest.NewUnstartedServer(h)
	if fixed != nil {
		host := fixed.Hostname()
		if host == "localhost" {
			host = "127.0.0.1" // Chromium reaches localhost on 127.0.0.1
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, fixed.Port()))
		if err != nil {
			return nil, fmt.Errorf("serve the app on %s: %w", base, err)
		}
		srv.Listener.Close()
		srv.Listener = ln
		srv.Start()
		origin := fixed.Scheme + "://" + fixed.Host
		return &appServer{srv: srv, origin: origin, base: origin + prefix + "/"}, nil
	}
	scheme := "http"
	if https {
		ca, err := tlsca.Shared()
		if err != nil {
			return nil, err
		}
		if srv.TLS, err = ca.ServerConfig(); err != nil {
			return nil, err
		}
		srv.StartTLS()
		scheme = "https"
	} else {
		srv.Start()
	}
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	origin := scheme + "://localhost:" + port
	return &appServer{srv: srv, origin: origin, base: origin + "/"}, nil
}

func (a *appServer) url(page string) string { return a.base + strings.TrimPrefix(page, "/") }

func (a *appServer) Close() {
	if a.srv != nil {
		a.srv.Close()
	}
}

// foreignServer is a third origin that posts forged silent-refresh messages.
func startForeign() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, `<!doctype html><script>
			const data = JSON.parse(decodeURIComponent(location.hash.slice(1))).m;
			parent.postMessage(data, '*');
		</script>`)
	}))
}

// staticFiles serves a folder as a plain static host does: /index.html is
// that file, not a redirect to / (which http.FileServer answers), since it is
// the redirect URI the IdP registers and a library may compare the page's URL
// with it; / is the folder's index.html.
func staticFiles(dir string) http.Handler {
	root := http.Dir(dir)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := path.Clean("/" + r.URL.Path)
		if strings.HasSuffix(r.URL.Path, "/") {
			name = path.Join(name, "index.html")
		}
		f, err := root.Open(name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, name, st.ModTime(), f)
	})
}
