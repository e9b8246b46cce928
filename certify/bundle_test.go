package certify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/fixtures"
)

// write puts files into dir: name -> content.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// --out may be replaced only when it is missing, empty or an earlier bundle,
// and <out>.tar.gz overwritten only next to a bundle: a folder that merely
// holds a manifest.sha256 (someone's downloads) is not one.
func TestCheckOut(t *testing.T) {
	bundle := map[string]string{"version.txt": "refreshsuite v1.2.3\n", "config.json": "{}\n", ManifestFile: "", "junit.xml": ""}
	for _, tc := range []struct {
		name    string
		files   map[string]string // under the parent; "out/" is the bundle folder
		refused string            // "" when allowed
	}{
		{"missing", nil, ""},
		{"empty", map[string]string{"out/": ""}, ""},
		{"an earlier bundle", prefixed("out/", bundle), ""},
		{"an earlier bundle and its archive", with(prefixed("out/", bundle), "out.tar.gz", "gz"), ""},
		{"only a manifest", map[string]string{"out/" + ManifestFile: "", "out/mine.txt": "x"}, "is not a certification bundle"},
		{"another tool's version.txt", with(prefixed("out/", bundle), "out/version.txt", "other 1.0\n"), "is not a certification bundle"},
		{"no config.json", without(prefixed("out/", bundle), "out/config.json"), "is not a certification bundle"},
		{"an archive with no bundle", map[string]string{"out.tar.gz": "mine"}, "out.tar.gz exists and is not next to a certification bundle"},
		{"an archive next to an empty folder", map[string]string{"out/": "", "out.tar.gz": "mine"}, "is not next to a certification bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			for name, content := range tc.files {
				if strings.HasSuffix(name, "/") {
					if err := os.MkdirAll(filepath.Join(parent, name), 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				writeFiles(t, parent, map[string]string{name: content})
			}
			err := checkOut(filepath.Join(parent, "out"))
			switch {
			case tc.refused == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)):
				t.Errorf("got %v, want a refusal saying %q", err, tc.refused)
			}
		})
	}
}

func prefixed(prefix string, files map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range files {
		out[prefix+k] = v
	}
	return out
}

func with(files map[string]string, name, content string) map[string]string {
	files[name] = content
	return files
}

func without(files map[string]string, name string) map[string]string {
	delete(files, name)
	return files
}

// config.json never holds a fill value: a literal one may be a password
// written into the login file; one made only of ${NAME} shows the names.
func TestRecordRedactsEveryFillValue(t *testing.T) {
	file := filepath.Join(t.TempDir(), "login.yaml")
	src := "steps:\n" +
		"  - fill: {selector: \"#u\", value: \"${CERTIFY_TEST_USER}\"}\n" +
		"  - fill: {selector: \"#p\", value: \"hunter2-literal\"}\n" +
		"  - fill: {selector: \"#d\", value: \"corp-${CERTIFY_TEST_USER}\"}\n" +
		"  - click: \"#go\"\n" +
		"logout:\n" +
		"  - fill: {selector: \"#why\", value: \"logout-literal\"}\n" +
		"  - click: \"#yes\"\n"
	writeFiles(t, filepath.Dir(file), map[string]string{"login.yaml": src})
	t.Setenv("CERTIFY_TEST_USER", "alice-from-env")
	l, err := LoadLogin(file)
	if err != nil {
		t.Fatal(err)
	}
	c := &Config{Login: l, Manifest: &fixtures.Manifest{}, RedirectBase: "http://localhost:8080/"}
	rec := c.Record(map[string]any{"client_secret": "s3cret-value"}, nil, nil)
	raw, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "corp-", "alice-from-env", "s3cret-value", "logout-literal"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("config.json holds %q:\n%s", secret, raw)
		}
	}
	steps := rec.LoginSteps
	want := []string{"${CERTIFY_TEST_USER}", redacted, redacted}
	for i, w := range want {
		if steps[i].Value != w || !steps[i].Redacted || steps[i].Fill == "" {
			t.Errorf("step %d: %+v, want value %q, redacted", i+1, steps[i], w)
		}
	}
	if logout := rec.LogoutSteps; len(logout) != 2 || logout[0].Value != redacted || !logout[0].Redacted || logout[0].Line != 7 || logout[1].Click != "#yes" {
		t.Errorf("the logout steps are recorded as %+v, want line 7's fill redacted and the click", logout)
	}
}

// The IdP knows the redirect URIs by their port: it must be explicit.
func TestParseRedirectBase(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://localhost:8080/":     true,
		"http://127.0.0.1:8080/app/": true,
		"http://localhost:0/":        false,
		"http://localhost:00/":       false,
		"http://localhost:70000/":    false,
		"http://localhost/":          false,
		"https://localhost:8080/":    false,
		"http://example.com:8080/":   false,
	} {
		if _, err := ParseRedirectBase(raw); (err == nil) != ok {
			t.Errorf("ParseRedirectBase(%s): %v, want accepted %v", raw, err, ok)
		}
	}
}
