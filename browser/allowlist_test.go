package browser

import (
	"net/http"
	"slices"
	"sync"
	"testing"
)

// A Chromium with an allow-list loads loopback pages as ever, refuses a host
// that is not on the list (http and https alike) and tells of each refusal,
// and lets a host on the list through untouched (here it does not resolve,
// so the browser's own error is what comes back, and nothing is refused).
func TestAllowList(t *testing.T) {
	b, err := LaunchWith(pool.Bin, Options{Policy: ThirdPartyAllowed, AllowHosts: []string{"allowed.invalid"}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var mu sync.Mutex
	refused := map[string][]string{}
	b.OnRefused(func(host, url string) {
		mu.Lock()
		defer mu.Unlock()
		refused[host] = append(refused[host], url)
	})
	local := serve(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>loopback</title>"))
	}))
	if title, err := visit(t, b, local+"/"); err != nil || title != "loopback" {
		t.Fatalf("a loopback page through the allow-list: %q, %v", title, err)
	}
	_, _ = visit(t, b, "http://refused.invalid/fonts.css")
	_, _ = visit(t, b, "https://refused-tls.invalid/")
	_, _ = visit(t, b, "http://allowed.invalid/")
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(refused["refused.invalid"], "http://refused.invalid/fonts.css") {
		t.Errorf("the http request to a host off the list was not refused and told: %v", refused)
	}
	if _, ok := refused["refused-tls.invalid"]; !ok {
		t.Errorf("the https request to a host off the list was not refused and told: %v", refused)
	}
	if _, ok := refused["allowed.invalid"]; ok {
		t.Errorf("a host on the list was refused: %v", refused)
	}
	for host := range refused {
		if host == "127.0.0.1" || host == "localhost" {
			t.Errorf("a loopback request went to the refusing proxy: %v", refused)
		}
	}
}
