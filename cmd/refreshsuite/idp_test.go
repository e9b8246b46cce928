package main

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/timeline"
)

// The documented example configuration loads, and the provider it describes
// serves its clients with the lifetimes and policies the file gives.
func TestIdPConfigExample(t *testing.T) {
	file := filepath.Join("..", "..", "docs", "idp.example.yaml")
	if code, out := runCmd(t, "idp", "-config", file, "-check"); code != 0 || !strings.Contains(out, "2 clients, 1 faults") {
		t.Fatalf("idp -config %s -check: exit %d\n%s", file, code, out)
	}
	cfg, err := loadIdPConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Addr = "127.0.0.1:0"
	srv, err := fakeidp.Start(cfg, timeline.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	got := map[string]fakeidp.Client{}
	for _, c := range srv.Clients() {
		got[c.ID] = c
	}
	if c := got["spa"]; c.AccessTokenLifetime != 30*time.Second || c.RefreshTokens != "strict" || c.RotationGrace != 2*time.Second {
		t.Errorf("client spa: %+v", c)
	}
	if c := got["legacy"]; c.AccessTokenLifetime != 20*time.Second || c.RefreshTokens != "never" {
		t.Errorf("client legacy: %+v", c)
	}
	resp, err := http.Get(srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("discovery: %s", resp.Status)
	}
}
