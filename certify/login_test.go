package certify

import (
	"os"
	"path/filepath"
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
