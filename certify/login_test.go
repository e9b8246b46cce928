package certify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadLogin(t *testing.T) {
	file := filepath.Join(t.TempDir(), "login.yaml")
	src := "timeout: 5s\nsteps:\n  - wait-for-url: https://idp/login\n  - fill: {selector: \"#u\", value: \"user-${CERTIFY_TEST_USER}\"}\n  - click: \"#go\"\n  - {click: \"#allow\", optional: true, timeout: 2s}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CERTIFY_TEST_USER", "alice")
	l, err := LoadLogin(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Steps) != 4 || l.Steps[1].Value() != "user-alice" || !l.Steps[1].FromEnv() || l.Steps[1].Line != 4 || l.Timeout.D() != 5*time.Second {
		t.Fatalf("parsed %+v", l)
	}
	if got := l.Steps[1].Text(); got != "fill #u" {
		t.Errorf("a fill is recorded as %q, want the selector only", got)
	}
	if l.Steps[0].URLPattern() != `^https://idp/login` {
		t.Errorf("a prefix becomes %q", l.Steps[0].URLPattern())
	}
	consent := l.Steps[3]
	if !consent.Optional || consent.StepTimeout(l) != 2*time.Second || consent.Text() != "click #allow (optional)" {
		t.Errorf("an optional step with its own timeout: %+v, %s, %q", consent, consent.StepTimeout(l), consent.Text())
	}
	if l.Steps[2].StepTimeout(l) != 5*time.Second {
		t.Errorf("a step without its own timeout takes the file's: %s", l.Steps[2].StepTimeout(l))
	}
}

// The logout section takes the steps' kinds and rules: its own lines, the
// file's timeout, optional steps, values from the environment.
func TestLoadLoginLogout(t *testing.T) {
	file := filepath.Join(t.TempDir(), "login.yaml")
	src := "timeout: 5s\nsteps:\n  - click: \"#go\"\nlogout:\n  - {click: \"button[autofocus]\", timeout: 2s}\n  - fill: {selector: \"#why\", value: \"${CERTIFY_TEST_REASON}\"}\n  - {wait-for-url: ~/logged-out$, optional: true}\n"
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CERTIFY_TEST_REASON", "done")
	l, err := LoadLogin(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Steps) != 1 || len(l.Logout) != 3 {
		t.Fatalf("parsed %d login and %d logout steps, want 1 and 3", len(l.Steps), len(l.Logout))
	}
	confirm, fill, wait := l.Logout[0], l.Logout[1], l.Logout[2]
	if confirm.Line != 5 || confirm.Text() != "click button[autofocus]" || confirm.StepTimeout(l) != 2*time.Second {
		t.Errorf("a logout click: line %d, %q, %s", confirm.Line, confirm.Text(), confirm.StepTimeout(l))
	}
	if fill.Value() != "done" || fill.Text() != "fill #why" || fill.StepTimeout(l) != 5*time.Second {
		t.Errorf("a logout fill: value %q, %q, %s; want the environment's value, the selector only, the file's timeout", fill.Value(), fill.Text(), fill.StepTimeout(l))
	}
	if !wait.Optional || wait.URLPattern() != "/logged-out$" {
		t.Errorf("an optional logout wait-for-url: %+v, pattern %q", wait, wait.URLPattern())
	}

	// Without a section, nothing to perform.
	if err := os.WriteFile(file, []byte("steps:\n  - click: \"#go\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := LoadLogin(file); err != nil || l.Logout != nil {
		t.Errorf("a file without a logout section: %v, %+v", err, l)
	}
}

// A malformed logout section is one file:line: key: message, as a malformed
// steps section is.
func TestLoadLoginLogoutErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ src, want string }{
		{"steps:\n  - click: \"#a\"\nlogout:\n  - {goto: \"http://idp/\", click: \"#yes\"}\n", ":4: logout[1]: one action per step, got click and goto"},
		{"steps:\n  - click: \"#a\"\nlogout:\n  - click: \"#yes\"\n  - press: \"#ok\"\n", ":5: logout[2].press: unknown key (known: click, fill, goto, optional, timeout, wait-for-url)"},
		{"steps:\n  - click: \"#a\"\nlogout:\n  - fill: {selector: \"#p\", value: \"${REFRESHSUITE_CERTIFY_UNSET}\"}\n", ":4: logout[1].fill.value: ${REFRESHSUITE_CERTIFY_UNSET} is not set in the environment"},
		{"steps:\n  - click: \"#a\"\nlogout: []\n", ":3: logout: a logout section needs at least one step"},
		// A logout section is no login file by itself.
		{"logout:\n  - click: \"#yes\"\n", ":1: steps: required key is missing"},
	} {
		file := filepath.Join(dir, "login.yaml")
		if err := os.WriteFile(file, []byte(tc.src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadLogin(file)
		if err == nil || !strings.Contains(err.Error(), file+tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("login file %q: %v, want one line with %q", tc.src, err, file+tc.want)
		}
	}
}
