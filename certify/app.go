package certify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// appServer serves the reference SPA's built folder on the redirect base the
// vendor registered: the IdP only redirects to URIs it knows, so the app must
// be exactly there. (suite/app.go serves apps on a fresh port per scenario;
// this is the same file server with a fixed address and a base path.)
type appServer struct {
	base   string // ends in /
	origin string
	srv    *http.Server
	done   chan struct{}
}

// parseRedirectBase checks that the redirect base is an http URL on this
// machine: the suite serves the SPA there itself, and only a loopback http
// origin is a secure context (the Web Crypto API that PKCE needs) without TLS.
func parseRedirectBase(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("--redirect-base %q is not an absolute URL", raw)
	}
	if u.Scheme != "http" || !loopbackHost(u.Hostname()) || u.Port() == "" {
		return nil, fmt.Errorf("--redirect-base %q: want http://localhost:<port>/ (or 127.0.0.1): certify serves the reference SPA itself, on this machine", raw)
	}
	// The IdP knows the redirect URIs by their port: port 0 (any free port)
	// would serve the SPA where no registered URI points.
	if port, err := strconv.Atoi(u.Port()); err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("--redirect-base %q: want an explicit port from 1 to 65535, the one registered with the IdP", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--redirect-base %q: a base has no query or fragment", raw)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	return u, nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// startApp serves dir under base.
func startApp(dir string, base *url.URL) (*appServer, error) {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("the reference SPA is not built: %s is missing", dir)
	}
	host := base.Hostname()
	if host == "localhost" {
		host = "127.0.0.1" // Chromium reaches localhost on 127.0.0.1
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, base.Port()))
	if err != nil {
		return nil, fmt.Errorf("serve the SPA on %s: %w", base, err)
	}
	files := http.StripPrefix(strings.TrimSuffix(base.Path, "/"), http.FileServer(http.Dir(dir)))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Every load must reach the server: a cached page would let one
		// phase's state leak into the next.
		w.Header().Set("Cache-Control", "no-store")
		files.ServeHTTP(w, r)
	})
	a := &appServer{
		base:   base.String(),
		origin: base.Scheme + "://" + base.Host,
		srv:    &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second},
		done:   make(chan struct{}),
	}
	go func() {
		defer close(a.done)
		_ = a.srv.Serve(ln) // ends with ErrServerClosed on Close
	}()
	return a, nil
}

func (a *appServer) url(page string) string { return a.base + strings.TrimPrefix(page, "/") }

func (a *appServer) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := a.srv.Shutdown(ctx); err != nil {
		a.srv.Close()
	}
	<-a.done
}
