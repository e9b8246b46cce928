package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/reports"
)

var badgateway = filepath.Join("..", "..", "fixtures", "badgateway-oauth2-client", "client.yaml")

// What CI sees of a run, from the binary with its output in a pipe (not a
// terminal) and again with NO_COLOR set: plain text, a progress line per
// container, an aligned summary, no temporary path; a JUnit file whose
// containers carry the scenario's labels, the client and the clock, whose
// specs carry only their requirement IDs, and whose specs skipped in a
// BeforeAll each give the reason; and ginkgo flags after -- reach ginkgo.
func TestRunForCI(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "refreshsuite")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	tmp := shortTempDir(t)
	focus := `code-flow-refresh-rotation\[third-party-cookies-allowed\]|silent-refresh-code`
	for _, env := range [][]string{nil, {"NO_COLOR=1"}} {
		out := filepath.Join(t.TempDir(), "out")
		cmd := exec.Command(bin, "run", "-client", badgateway, "-procs", "2", "-out", out, "-focus", focus, "--", "--flake-attempts=1", "--poll-progress-after=1m")
		cmd.Env = append(append(os.Environ(), "TMPDIR="+tmp), env...)
		text, err := cmd.CombinedOutput() // a pipe: not a terminal
		if err != nil {
			t.Fatalf("%v: run: %v\n%s", env, err, text)
		}
		s := string(text)
		if strings.Contains(s, "\x1b[") {
			t.Errorf("%v: colour codes in output that is not a terminal:\n%q", env, s)
		}
		if log, _ := os.ReadFile(filepath.Join(out, "ginkgo.log")); strings.Contains(string(log), "\x1b[") || !strings.Contains(string(log), "Ran ") {
			t.Errorf("%v: ginkgo.log has colour codes, or is not ginkgo's output:\n%s", env, log)
		}
		if strings.Contains(s, tmp) || strings.Contains(s, os.TempDir()+"/refreshsuite-") {
			t.Errorf("%v: a temporary path in the output:\n%s", env, s)
		}
		progress := regexp.MustCompile(`(?m)^ +\d+\.\ds  (ok  |FAIL|skip)  badgateway-oauth2-client/\S+ +\d+ (passed|skipped)`)
		if n := len(progress.FindAllString(s, -1)); n != 2 {
			t.Errorf("%v: %d progress lines, want one per container (2):\n%s", env, n, s)
		}
		rows := regexp.MustCompile(`(?m)^badgateway-oauth2-client/\S+ +\d+ +\d+ +\d+ +\d+$`).FindAllStringIndex(s, -1)
		if len(rows) != 2 {
			t.Fatalf("%v: summary rows: %v\n%s", env, rows, s)
		}
		cols := func(row string) int { return strings.LastIndex(row, " ") }
		if a, b := s[rows[0][0]:rows[0][1]], s[rows[1][0]:rows[1][1]]; cols(a) != cols(b) {
			t.Errorf("%v: summary columns do not line up:\n%s\n%s", env, a, b)
		}
		j := readJUnit(t, filepath.Join(out, "junit.xml"))
		checkLabels(t, j)
	}
	// A misspelt ginkgo flag, or one the run sets itself, is a usage error.
	for _, args := range [][]string{{"--no-such-flag"}, {"-p"}, {"--procs=3"}, {"./suite"}} {
		code, text := runCmd(t, append([]string{"run", "-client", badgateway, "-out", filepath.Join(t.TempDir(), "o"), "--"}, args...)...)
		if code != 2 || !strings.Contains(text, "ginkgo flags after --") || strings.Count(strings.TrimSpace(text), "\n") != 0 {
			t.Errorf("run -- %v: exit %d, want 2 and one line:\n%s", args, code, text)
		}
	}
}

func checkLabels(t *testing.T, j *reports.JUnit) {
	t.Helper()
	skipped := 0
	for _, s := range j.Suites {
		labels := map[string]bool{}
		for _, p := range s.Properties {
			if p.Name == "label" {
				labels[p.Value] = true
			}
		}
		if !labels["client:badgateway-oauth2-client"] || !(labels["clock:virtual"] || labels["clock:real"]) {
			t.Errorf("%s: container labels %v lack the client and the clock", s.Name, labels)
		}
		if strings.Contains(s.Name, "code-flow-refresh-rotation") && !(labels["code-flow"] && labels["refresh-token"]) {
			t.Errorf("%s: container labels %v lack the scenario's", s.Name, labels)
		}
		for l := range labels {
			if regexp.MustCompile(`^[A-Z0-9]+-\d+$`).MatchString(l) {
				t.Errorf("%s: requirement %s labels the container", s.Name, l)
			}
		}
		for _, c := range s.Cases {
			if c.File == "" || c.Line == 0 || !strings.HasPrefix(c.File, "scenarios/") {
				t.Errorf("%s / %s: file %q line %d", s.Name, c.Name, c.File, c.Line)
			}
			if c.Skipped != nil && strings.Contains(s.Name, "silent-refresh-code") {
				skipped++
				if strings.Contains(c.Skipped.Message, "Spec skipped because") || c.Skipped.Message == "" {
					t.Errorf("%s / %s: skipped with %q, not the BeforeAll's reason", s.Name, c.Name, c.Skipped.Message)
				}
			}
		}
	}
	if skipped < 2 {
		t.Errorf("%d specs of silent-refresh-code skipped: the BeforeAll check proves nothing", skipped)
	}
}

// -label-filter by a requirement selects the specs that check it, not every
// spec of a container that has one.
func TestLabelFilterSelectsSpecs(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	code, text := runCmd(t, "run", "-client", badgateway, "-procs", "1", "-out", out, "-label-filter", "CF-2 && code-flow")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, text)
	}
	ran := 0
	for _, s := range readJUnit(t, filepath.Join(out, "junit.xml")).Suites {
		for _, c := range s.Cases {
			if c.Skipped != nil && c.Skipped.Message == "" {
				continue // not selected
			}
			ran++
			if c.Property("requirement") != "CF-2" {
				t.Errorf("%s / %s ran with requirement %q, want only CF-2 specs", s.Name, c.Name, c.Property("requirement"))
			}
		}
	}
	if ran == 0 {
		t.Error("no CF-2 spec ran")
	}
}

func TestVersion(t *testing.T) {
	code, text := runCmd(t, "version")
	if code != 0 || !strings.HasPrefix(text, "refreshsuite ") || !regexp.MustCompile(`(?m)^  angular-oauth2-oidc +angular-oauth2-oidc \d+\.\d+\.\d+$`).MatchString(text) || !strings.Contains(text, "\nginkgo 2.") {
		t.Errorf("version: exit %d\n%s", code, text)
	}
}
