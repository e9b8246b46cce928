package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var defaultClient = filepath.Join("..", "..", "fixtures", "angular-oauth2-oidc", "client.yaml")

// lastLine is the last line a command printed.
func lastLine(text string) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return lines[len(lines)-1]
}

// A browser that cannot be had is a configuration error found before any
// spec runs: one line, exit 2, no report folder, and nothing left in the
// temporary folder (the hung script's processes included).
func TestRunBrowserErrors(t *testing.T) {
	fake := func(body string) string {
		bin := filepath.Join(t.TempDir(), "chromium")
		if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return bin
	}
	hangs := fake("sleep 600")
	exits := fake("echo 'chromium: cannot open shared object file libnss3.so' >&2\nexit 127")
	for _, tc := range []struct {
		name, chrome string
		args         []string
		want         string
	}{
		// The timeout only ends a start that never comes: the script hangs
		// forever, so a busy machine changes nothing.
		{"hangs", hangs, []string{"-browser-start-timeout", "3s"}, "Chromium (" + hangs + ") did not start within 3s"},
		{"exits", exits, nil, "Chromium (" + exits + ") exited as it started (exit status 127): chromium: cannot open shared object file libnss3.so"},
		{"unreachable browser URL", "", []string{"-browser-url", "ws://127.0.0.1:1/devtools/browser/none"}, "-browser-url: connect to the browser at ws://127.0.0.1:1/devtools/browser/none:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.chrome != "" {
				t.Setenv("CHROME_BIN", tc.chrome)
			}
			out := filepath.Join(t.TempDir(), "out")
			tmp := shortTempDir(t)
			t.Setenv("TMPDIR", tmp)
			code, text := runCmd(t, append([]string{"run", "-client", defaultClient, "-out", out}, tc.args...)...)
			if code != 2 || !strings.HasPrefix(lastLine(text), "refreshsuite: "+tc.want) {
				t.Errorf("exit %d, want 2 and a last line starting %q:\n%s", code, tc.want, text)
			}
			if strings.Contains(text, "Will run") {
				t.Errorf("the suite ran:\n%s", text)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("the run made its report folder %s", out)
			}
			if left, _ := os.ReadDir(tmp); len(left) > 0 {
				t.Errorf("left in the temporary folder: %v", left)
			}
		})
	}
	if left := processesUsing(hangs, ""); len(left) > 0 {
		t.Errorf("the hung Chromium still runs: %v", left)
	}
}

// An app its user serves (app.url) that does not answer is a configuration
// error found before any spec runs, not a login timeout per spec.
func TestRunAppNotServed(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Dir(defaultClient)
	manifest := read(t, filepath.Join(src, "client.yaml"))
	if !strings.Contains(manifest, "\n  dir: dist\n") {
		t.Fatal("the default client's manifest no longer has app.dir dist: the test needs another way to make it served by its user")
	}
	write(t, filepath.Join(dir, "client.yaml"), strings.Replace(manifest, "\n  dir: dist\n", "\n  url: http://127.0.0.1:1/\n", 1))
	write(t, filepath.Join(dir, "deviations.yaml"), read(t, filepath.Join(src, "deviations.yaml")))
	out := filepath.Join(t.TempDir(), "out")
	code, text := runCmd(t, "run", "-client", filepath.Join(dir, "client.yaml"), "-out", out)
	want := "refreshsuite: " + filepath.Join(dir, "client.yaml") + ": app.url: http://127.0.0.1:1/ does not answer"
	if code != 2 || !strings.HasPrefix(lastLine(text), want) || strings.Contains(text, "Will run") {
		t.Errorf("exit %d, want 2 and a last line starting %q before the suite runs:\n%s", code, want, text)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("the run made its report folder %s", out)
	}
}

// A -focus that matches no spec runs nothing, and says so: exit 2 naming the
// filter, and no report that could pass for a verdict.
func TestRunNothingSelected(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, text := runCmd(t, "run", "-client", defaultClient, "-out", out, "-focus", "matches-no-spec-at-all")
	want := regexp.MustCompile(`^refreshsuite: no spec ran: -focus "matches-no-spec-at-all" left out (\d+) of the (\d+) specs$`)
	if m := want.FindStringSubmatch(lastLine(text)); code != 2 || m == nil || m[1] != m[2] {
		t.Errorf("exit %d, want 2 and %q last:\n%s", code, want, text)
	}
	if strings.Contains(text, "PASS") && !strings.Contains(text, "Test Suite Passed") {
		t.Errorf("the run printed a verdict:\n%s", text)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a run that checked nothing wrote %s", out)
	}
}

// A dry run of the suite (ginkgo reports every spec of one as passed) writes
// no report at all.
func TestDryRunWritesNoVerdict(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := suiteLink(self, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(self, "run", "--dry-run", "--no-color", bin, "--", "-refreshsuite.out="+out,
		"-refreshsuite.clients="+abs(defaultClient), "-refreshsuite.scenarios="+filepath.Join(root, defaultScenarios))
	cmd.Env = append(os.Environ(), roleEnv+"=ginkgo")
	text, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ginkgo --dry-run: %v\n%s", err, text)
	}
	if !regexp.MustCompile(`(^|[^0-9])[1-9][0-9]* Passed`).Match(text) {
		t.Fatalf("the dry run did not walk the specs (the check below would prove nothing):\n%s", text)
	}
	if entries, err := os.ReadDir(out); err == nil {
		t.Errorf("a dry run wrote %v in %s", entries, out)
	}
}
