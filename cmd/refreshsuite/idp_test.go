package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
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
	setup, err := loadIdPConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	setup.cfg.Addr = "127.0.0.1:0"
	srv, err := fakeidp.Start(setup.cfg, timeline.New(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	got := map[string]fakeidp.Client{}
	for _, c := range srv.Clients() {
		got[c.ID] = c
	}
	if c := got["spa"]; c.AccessTokenLifetime != 30*time.Second || c.RefreshTokens != "strict" || c.RotationGrace != 2*time.Second ||
		c.AccessTokenFormat != fakeidp.JWT || !reflect.DeepEqual(c.ResponseModes, []fakeidp.ResponseMode{"query", "fragment", "form_post", "web_message"}) {
		t.Errorf("client spa: %+v", c)
	}
	if c := got["legacy"]; c.AccessTokenLifetime != 20*time.Second || c.RefreshTokens != "never" {
		t.Errorf("client legacy: %+v", c)
	}
	resp, err := http.Get(srv.Endpoint(fakeidp.EndpointDiscovery))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("discovery: %s", resp.Status)
	}
}

// Every key of the file format is documented in the example, in use or
// commented out with its range.
func TestIdPExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "idp.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var keys func(t reflect.Type) []string
	keys = func(ty reflect.Type) []string {
		var out []string
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || strings.HasPrefix(ty.Name(), "opt[") {
			return nil
		}
		for i := 0; i < ty.NumField(); i++ {
			f := ty.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			out = append(out, name)
			out = append(out, keys(f.Type)...)
		}
		return out
	}
	for _, k := range keys(reflect.TypeOf(idpFile{})) {
		if !bytes.Contains(b, []byte(k+":")) && !bytes.Contains(b, []byte(k+": ")) && !bytes.Contains(b, []byte("{"+k+":")) {
			t.Errorf("docs/idp.example.yaml does not document %s", k)
		}
	}
}

// -check runs every check starting would, on the flags as on a file, and
// refuses a flag that -config would silently override.
func TestIdPFlagsCheck(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(cfg, []byte("clients: [{id: spa, redirect-uris: [\"http://localhost:4200/\"]}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-addr", "0.0.0.0:9400"}, "-addr: 0.0.0.0:9400 is not a loopback address"},
		{[]string{"-addr", "127.0.0.1:99999"}, "-addr: port \"99999\" is not a number from 0 to 65535"},
		{[]string{"-redirect-uri", "javascript:alert(1)"}, `-redirect-uri: "javascript:alert(1)" is not an absolute URL`},
		{[]string{"-redirect-uri", "http://localhost:4200/", "-redirect-uri", "javascript://x/alert(1)"}, `-redirect-uri: "javascript://x/alert(1)" is not an http or https URL`},
		{[]string{"-access-token-lifetime", "0"}, "-access-token-lifetime: must be at least 1s, got 0s"},
		{[]string{"-id-token-lifetime", "0s"}, "-id-token-lifetime: must be at least 1s"},
		{[]string{"-session-lifetime", "500ms"}, "-session-lifetime: the session lifetime must be at least 1s"},
		{[]string{"-refresh-token-idle", "2h"}, "-refresh-token-idle: 2h0m0s is longer than the refresh-token lifetime (1h0m0s)"},
		{[]string{"-layout", "okta"}, `-layout: "okta" is not one of discovery, auth0, keycloak`},
		{[]string{"-realm", "x"}, "-realm: only the keycloak layout has realms"},
		{[]string{"-response-mode", "web_messages"}, `-response-mode: "web_messages" is not one of`},
		{[]string{"-access-token-format", "paseto"}, `-access-token-format: "paseto" is not opaque or jwt`},
		{[]string{"-dpop", "on"}, `-dpop: "on" is not one of off, bind, require, ignore`},
		{[]string{"-rotation", "spin"}, `-rotation: "spin" is not one of rotate, reuse, unbound`},
		{[]string{"-cors-max-age", "3h"}, "-cors-max-age: want whole seconds from 0s to 2h0m0s"},
		{[]string{"-ca-pem", filepath.Join(dir, "ca.pem")}, "-ca-pem: there is no CA over plain http"},
		{[]string{"-https", "-ca-pem", filepath.Join(dir, "missing", "ca.pem")}, "does not exist"},
		{[]string{"-client-id", "two words"}, "-client-id: \"two words\" has spaces"},
		{[]string{"-fault", "token:hold"}, "-fault \"token:hold\": do: hold waits for a scenario's release step"},
		{[]string{"-config", cfg, "-addr", "127.0.0.1:0"}, "-addr cannot be combined with -config"},
		{[]string{"-config", cfg, "-https"}, "-https cannot be combined with -config"},
	} {
		code, out := runCmd(t, append(append([]string{"idp"}, tc.args...), "-check")...)
		line := strings.TrimSuffix(out, "\n")
		if code != 2 || strings.Contains(line, "\n") || !strings.Contains(line, tc.want) {
			t.Errorf("idp %s -check: exit %d, want 2 and one line with %q:\n%s", strings.Join(tc.args, " "), code, tc.want, out)
		}
	}
	for _, args := range [][]string{
		{"-https", "-ca-pem", filepath.Join(dir, "ca.pem"), "-layout", "auth0", "-issuer-trailing-slash", "-access-token-format", "jwt", "-response-mode", "web_message"},
		{"-layout", "keycloak", "-realm", "demo", "-refresh-token-format", "jwt", "-host", "localhost", "-cors-max-age", "10m"},
		{"-refresh-token-idle", "10s", "-refresh-token-lifetime", "20s", "-refresh-tokens-end-with-session"},
		{"-dpop", "require", "-rotation", "unbound", "-rotation-grace", "2s"},
		{"-config", cfg},
	} {
		if code, out := runCmd(t, append(append([]string{"idp"}, args...), "-check")...); code != 0 {
			t.Errorf("idp %s -check: exit %d\n%s", strings.Join(args, " "), code, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err == nil {
		t.Errorf("-check wrote the CA certificate")
	}
}

// Over https the command writes the CA's certificate where asked, and a
// client that trusts that file (and only it) reaches the IdP.
func TestIdPHTTPSWritesTheCA(t *testing.T) {
	dir := t.TempDir()
	pemFile := filepath.Join(dir, "ca.pem")
	file := filepath.Join(dir, "idp.yaml")
	src := "addr: 127.0.0.1:0\nhttps: true\nca-pem: " + pemFile + "\nlayout: keycloak\nrealm: dev\n" +
		"clients: [{id: spa, redirect-uris: [\"https://localhost:4200/\"], access-token-format: jwt, refresh-token-format: jwt}]\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	setup, err := loadIdPConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	srv, err := startIdPServer(setup, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b, err := os.ReadFile(pemFile)
	if err != nil {
		t.Fatalf("the CA certificate was not written: %v\n%s", err, out.String())
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("%s is not a PEM certificate", pemFile)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(srv.Endpoint(fakeidp.EndpointDiscovery))
	if err != nil {
		t.Fatalf("a client trusting %s: %v", pemFile, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"issuer":"`+srv.URL+`"`) || !strings.HasSuffix(srv.URL, "/realms/dev") || !strings.HasPrefix(srv.URL, "https://") {
		t.Errorf("discovery at %s: %s", srv.Endpoint(fakeidp.EndpointDiscovery), body)
	}
	if _, err := http.Get(srv.Endpoint(fakeidp.EndpointDiscovery)); err == nil {
		t.Error("a client with the system's roots trusted the IdP")
	}
	for _, want := range []string{"issuer " + srv.URL, "CA certificate in " + pemFile, "--ignore-certificate-errors-spki-list=" + srv.CA().SPKIHash()} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the command does not say %q:\n%s", want, out.String())
		}
	}
}
