package browser

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"github.com/refreshsuite/refreshsuite/tlsca"
)

// serveTLS serves a page titled title over https on loopback with a leaf of ca,
// and returns its URL on localhost.
func serveTLS(t *testing.T, ca *tlsca.CA, title string) string {
	t.Helper()
	cfg, err := ca.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>%s</title>", title)
	}))
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	return "https://localhost:" + port + "/"
}

// visit loads url in a new tab of b and returns the page's title, or the
// navigation's error.
func visit(t *testing.T, b *Browser, url string) (string, error) {
	t.Helper()
	page, err := b.rod.Page(proto.TargetCreateTarget{})
	if err != nil {
		t.Fatal(err)
	}
	defer page.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := page.Context(ctx)
	if err := p.Navigate(url); err != nil {
		return "", err
	}
	if err := p.WaitLoad(); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	res, err := p.Eval(`() => document.title`)
	if err != nil {
		t.Fatalf("read the title of %s: %v", url, err)
	}
	return res.Value.Str(), nil
}

// A Chromium launched with TrustSPKI loads a page served with a leaf of the
// CA whose key it names, and still refuses a leaf of any other CA; one
// launched without refuses both.
func TestLaunchTrustsOneKey(t *testing.T) {
	ca, err := tlsca.Shared()
	if err != nil {
		t.Fatal(err)
	}
	other, err := tlsca.New()
	if err != nil {
		t.Fatal(err)
	}
	// Go's own client agrees that the server is sound, so a refusal below is
	// about trust alone.
	trusted := serveTLS(t, ca, "served with the trusted key")
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool()}}}
	if resp, err := client.Get(trusted); err != nil {
		t.Fatalf("the test server does not serve https: %v", err)
	} else {
		resp.Body.Close()
	}
	untrusted := serveTLS(t, other, "served with another key")

	b, err := LaunchWith(pool.Bin, Options{Policy: ThirdPartyAllowed, TrustSPKI: ca.SPKIHash()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if title, err := visit(t, b, trusted); err != nil || title != "served with the trusted key" {
		t.Errorf("with the CA's key trusted: title %q, error %v; want the page", title, err)
	}
	if _, err := visit(t, b, untrusted); err == nil || !strings.Contains(err.Error(), "ERR_CERT") {
		t.Errorf("with the CA's key trusted, a leaf of another CA: error %v, want a certificate error", err)
	}

	plain, err := pool.Get(ThirdPartyAllowed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := visit(t, plain, trusted); err == nil || !strings.Contains(err.Error(), "ERR_CERT") {
		t.Errorf("without TrustSPKI: error %v, want a certificate error", err)
	}
}
