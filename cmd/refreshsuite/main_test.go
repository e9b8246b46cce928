package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/reports"
)

func runCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := run(args, &out, &out)
	return code, out.String()
}

func TestValidate(t *testing.T) {
	if code, out := runCmd(t, "validate"); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("validate the shipped scenarios: exit %d\n%s", code, out)
	}
	bad := filepath.Join("..", "..", "scenarios", "testdata", "malformed", "unknown-key.yaml")
	code, out := runCmd(t, "validate", bad)
	if code != 2 || !strings.Contains(out, "unknown-key.yaml:") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Fatalf("validate a malformed scenario: exit %d, want 2 and one line naming the file:\n%s", code, out)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"run", "-procs", "0"}, {"run", "-deviations", "maybe"}, {"run", "-client", "/nonexistent.yaml"}} {
		if code, out := runCmd(t, args...); code != 2 {
			t.Errorf("refreshsuite %v: exit %d, want 2\n%s", args, code, out)
		}
	}
}

// A run configured so that it cannot give a verdict stops before anything is
// built or started, with exit 2 and one line that names the flag.
func TestRunConfigurationErrors(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	users := t.TempDir()
	for _, f := range []string{file, filepath.Join(users, "notes.txt")} {
		if err := os.WriteFile(f, []byte("not a report"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	realOnly := filepath.Join("..", "..", "scenarios", "lifecycle-background-tab.yaml")
	out := filepath.Join(t.TempDir(), "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-focus", "("}, "-focus: error parsing regexp: missing closing )"},
		{[]string{"-label-filter", "TO-1 && ("}, "-label-filter: Syntax Error Parsing Label Filter"},
		{[]string{"-shard", "1/2/3"}, `-shard: shard "1/2/3": want i/n`},
		{[]string{"-shard", "2/1"}, "-shard:"},
		{[]string{"-shard", "1/0"}, "-shard:"},
		{[]string{"-shard", "+1/2"}, "-shard:"},
		{[]string{"-shard", "1000/1000"}, "-shard 1000/1000 selects no container"},
		{[]string{"-clock", "virtual", "-scenarios", realOnly}, "-clock virtual: every container of the run (1) needs the real clock"},
		{[]string{"-out", file}, "-out " + file + ": not a folder"},
		{[]string{"-out", users}, "-out " + users + " is a folder refreshsuite did not write"},
		{[]string{"-browser-start-timeout", "0s"}, "-browser-start-timeout: want a positive duration"},
	} {
		args := append([]string{"run", "-client", filepath.Join("..", "..", "fixtures", "angular-oauth2-oidc", "client.yaml"), "-out", out}, tc.args...)
		code, text := runCmd(t, args...)
		if code != 2 || !strings.Contains(text, tc.want) || strings.Count(strings.TrimSpace(text), "\n") != 0 {
			t.Errorf("refreshsuite %v: exit %d, want 2 and one line containing %q:\n%s", tc.args, code, tc.want, text)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("a run that stopped on its configuration made %s", out)
	}
	if got, _ := os.ReadDir(users); len(got) != 1 {
		t.Errorf("the user's folder now holds %v", got)
	}
}

func readJUnit(t *testing.T, path string) *reports.JUnit {
	t.Helper()
	j, err := reports.ReadJUnit(path)
	if err != nil {
		t.Fatalf("the run wrote no readable JUnit report: %v", err)
	}
	return j
}

// The main job, end to end: the shipped scenarios against every shipped
// client on the embedded IdP in real Chromium. It runs in parallel with the
// certification proofs, which spend most of their time waiting for an IdP
// (see freeBase): make test stays inside its time on two cores, and the main
// job is judged on a machine that is busy, as CI's are.
func TestRunConformance(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	code, text := runCmd(t, "run", "-out", out)
	if code != 0 {
		t.Fatalf("refreshsuite run: exit %d, want 0\n%s", code, text)
	}
	if !strings.Contains(text, "JUnit report: "+filepath.Join(out, "junit.xml")) {
		t.Errorf("the summary does not print the report path:\n%s", text)
	}
	j := readJUnit(t, filepath.Join(out, "junit.xml"))
	if j.Tests == 0 || j.Failures != 0 {
		t.Fatalf("junit: %d tests, %d failures", j.Tests, j.Failures)
	}
	cases, deviations := 0, 0
	for _, s := range j.Suites {
		for _, c := range s.Cases {
			cases++
			if c.Classname != s.Name || !strings.Contains(c.Name, ": ") {
				t.Errorf("testcase %q in %q: want classname = scenario and name = expectation id: title", c.Name, s.Name)
			}
			dev := c.Property("known-deviation") != ""
			if c.Property("requirement") == "" {
				t.Errorf("testcase %s/%s carries no requirement property", s.Name, c.Name)
			}
			if dev {
				deviations++
				if c.Skipped == nil || !strings.HasPrefix(c.Skipped.Message, "known deviation:") {
					t.Errorf("known deviation %s/%s is not reported as skipped with its reason", s.Name, c.Name)
				}
			}
		}
	}
	if cases != j.Tests || deviations == 0 {
		t.Errorf("junit: %d testcases for tests=%d, %d known deviations (want at least the refresh_token=null one)", cases, j.Tests, deviations)
	}
}

// Deliberately broken client configurations must fail, each with the evidence
// a reader needs in its message, and the run must exit 1. The report folder
// holds an earlier run's reports that claim success, with a junit.xml that
// cannot be removed (where chattr can make it immutable): the verdict and the
// summary are this run's all the same, and the folder holds this run's reports.
func TestRunBrokenClientFails(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "out")
	write(t, filepath.Join(out, markerName), markerText)
	stale := `<testsuites name="refreshsuite" tests="1"><testsuite name="angular-oauth2-oidc/earlier" tests="1"><testcase name="stale: passed"></testcase></testsuite></testsuites>`
	write(t, filepath.Join(out, "junit.xml"), stale)
	immutable := exec.Command("chattr", "+i", filepath.Join(out, "junit.xml")).Run() == nil
	if immutable {
		t.Cleanup(func() { _ = exec.Command("chattr", "-R", "-i", parent).Run() })
	} else {
		t.Log("chattr +i failed; the stale junit.xml stays removable")
	}
	// The broken scenarios are a folder of their own, against which the
	// client's known deviations (of the shipped scenarios) would be stale:
	// the client without them.
	client := filepath.Join(t.TempDir(), "client.yaml")
	base, err := filepath.Rel(filepath.Dir(client), abs(defaultClient))
	if err != nil {
		t.Fatal(err)
	}
	write(t, client, "extends: "+base+"\nname: angular-oauth2-oidc\ndeviations: \"\"\n")
	code, text := runCmd(t, "run", "-out", out, "-client", client, "-scenarios", filepath.Join("testdata", "broken"))
	if code != 1 {
		t.Fatalf("refreshsuite run on broken clients: exit %d, want 1\n%s", code, text)
	}
	if !strings.Contains(text, "\nFAIL: 4 specs, 0 passed, 4 failed") || strings.Contains(text, "PASS:") || strings.Contains(text, "stale") {
		t.Errorf("the summary is not this run's:\n%s", text)
	}
	if immutable && !strings.Contains(text, "refreshsuite: warning: the reports are at "+out+", but the previous ones") {
		t.Errorf("no warning that the earlier reports could not be removed:\n%s", text)
	}
	j := readJUnit(t, filepath.Join(out, "junit.xml"))
	want := map[string][]string{
		// The app drops offline_access: no refresh token, the refresh fails.
		"angular-oauth2-oidc/broken-client-drops-offline-access/refresh-token-issued-at-login": {"want 1 entries matching idp.token", "timeline (scenario time", `granted_scope="openid profile"`, "harness.step"},
		"angular-oauth2-oidc/broken-client-drops-offline-access/refresh-resolves":              {"found 0", `outcome="rejected"`},
		// timeoutFactor 0.9 against a declared 0.75: 6000ms expected, 7200ms measured.
		"angular-oauth2-oidc/broken-timeout-factor/expiry-event-at-factor": {"expected 6000ms +-100ms", "measured 7", "(error +1", "client.event"},
		// silentRefreshTimeout 15000 against a declared 20000.
		"angular-oauth2-oidc/broken-silent-refresh-timeout/timeout-event-at-timeout": {"expected 20000ms +-250ms", "measured 150", "silent_refresh_timeout"},
	}
	failed := 0
	for _, s := range j.Suites {
		for _, c := range s.Cases {
			id, _, _ := strings.Cut(c.Name, ":")
			texts, ok := want[s.Name+"/"+id]
			if !ok {
				t.Errorf("unexpected testcase %s/%s", s.Name, c.Name)
				continue
			}
			if c.Failure == nil {
				t.Errorf("%s/%s passed, want a failure", s.Name, id)
				continue
			}
			failed++
			for _, w := range texts {
				if !strings.Contains(c.Failure.Text, w) {
					t.Errorf("%s/%s: failure message lacks %q:\n%s", s.Name, id, w, c.Failure.Text)
				}
			}
		}
	}
	if failed != len(want) {
		t.Errorf("%d of %d broken specs failed", failed, len(want))
	}
	trace := filepath.Join(out, "traces", "angular-oauth2-oidc", "broken-client-drops-offline-access")
	if _, err := os.Stat(filepath.Join(trace, "timeline.txt")); err != nil {
		t.Errorf("no trace saved for a failed scenario: %v", err)
	}
	// The reports were written elsewhere and moved: they name the trace where
	// it is now.
	for _, s := range j.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil && s.Name == "angular-oauth2-oidc/broken-client-drops-offline-access" && !strings.Contains(c.Failure.Text, "full timeline and screenshot: "+trace+"\n") {
				t.Errorf("%s/%s does not name its trace %s:\n%s", s.Name, c.Name, trace, c.Failure.Text)
			}
		}
	}
	if html := read(t, filepath.Join(out, "report.html")); !strings.Contains(html, `<a href="traces/angular-oauth2-oidc/broken-client-drops-offline-access/">`) {
		t.Error("report.html does not link the trace")
	}
}

// Virtual is the default; a representative subset also runs on the real clock,
// so both modes stay honest: silent refresh, a timeout, rotation, and three
// renewal cycles with their firing points.
func TestRunRealClockSubset(t *testing.T) {
	out := t.TempDir()
	code, text := runCmd(t, "run", "-clock", "real", "-out", out,
		"-focus", `silent-refresh-implicit|code-flow-refresh-rotation\[third-party-cookies-allowed\]|silent-refresh-timeout-no-post-message\[timeout-5s\]|renewal-access-token-code\[factor-050\]`)
	if code != 0 {
		t.Fatalf("real-clock subset: exit %d\n%s", code, text)
	}
	j := readJUnit(t, filepath.Join(out, "junit.xml"))
	ran := 0
	for _, s := range j.Suites {
		for _, c := range s.Cases {
			if c.Skipped == nil || c.Property("known-deviation") != "" {
				ran++
				if got := c.Property("clock"); got != "real" {
					t.Errorf("%s/%s ran on the %q clock", s.Name, c.Name, got)
				}
			}
		}
	}
	if ran < 25 {
		t.Errorf("only %d specs ran on the real clock", ran)
	}
}

// Two shards run apart and merged give the same specs with the same verdicts as
// one unsharded run. Sharding splits containers whatever their client: one
// client's are enough to show it.
func TestShardsMerge(t *testing.T) {
	focus := `offline-access|rotation\[third-party-cookies-allowed\]|silent-refresh-implicit`
	dirs := map[string]string{"whole": t.TempDir(), "1/2": t.TempDir(), "2/2": t.TempDir(), "merged": t.TempDir()}
	for _, name := range []string{"whole", "1/2", "2/2"} {
		args := []string{"run", "-client", defaultClient, "-out", dirs[name], "-focus", focus}
		if name != "whole" {
			args = append(args, "-shard", name)
		}
		if code, text := runCmd(t, args...); code != 0 {
			t.Fatalf("run %s: exit %d\n%s", name, code, text)
		}
	}
	if code, text := runCmd(t, "report", "merge", "-out", dirs["merged"],
		filepath.Join(dirs["1/2"], "results.json"), filepath.Join(dirs["2/2"], "results.json")); code != 0 {
		t.Fatalf("report merge: exit %d\n%s", code, text)
	}
	verdicts := func(dir string) map[string]string {
		j := readJUnit(t, filepath.Join(dir, "junit.xml"))
		out := map[string]string{}
		for _, s := range j.Suites {
			for _, c := range s.Cases {
				v := "passed"
				switch {
				case c.Failure != nil:
					v = "failed"
				case c.Skipped != nil:
					v = "skipped"
				}
				out[s.Name+" / "+c.Name] = v
			}
		}
		return out
	}
	whole, merged := verdicts(dirs["whole"]), verdicts(dirs["merged"])
	one, two := verdicts(dirs["1/2"]), verdicts(dirs["2/2"])
	if len(one) == 0 || len(two) == 0 {
		t.Fatalf("a shard ran nothing: %d and %d specs", len(one), len(two))
	}
	for k := range one {
		if _, dup := two[k]; dup {
			t.Errorf("%s ran in both shards", k)
		}
	}
	if len(whole) != len(merged) {
		t.Errorf("unsharded run: %d specs, merged shards: %d", len(whole), len(merged))
	}
	for k, v := range whole {
		if merged[k] != v {
			t.Errorf("%s: %s unsharded, %q merged", k, v, merged[k])
		}
	}
	for _, f := range []string{"results.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(dirs["merged"], f)); err != nil {
			t.Errorf("merge wrote no %s", f)
		}
	}
}

// The suite must catch every mutant, with exactly the specs the list names.
// The mutation run proves that the specs can fail. It runs each mutant in the
// scenario containers its list names (every spec of those containers must
// pass but the listed ones), on the virtual clock, so that make test stays
// fast: the full matrix is a mutant count times the whole suite. `make
// mutants` runs every mutant against every scenario.
func TestMutants(t *testing.T) {
	out := t.TempDir()
	code, text := runCmd(t, "mutants", "-listed", "-out", out, "-clock", "virtual")
	if code != 0 || !strings.Contains(text, "(100%)") {
		t.Fatalf("refreshsuite mutants: exit %d\n%s", code, text)
	}
	t.Log(text)
}
