package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// An interrupted run (SIGINT or SIGTERM, mid-scenario) leaves nothing behind: no
// Chromium or suite process, no browser profile or compiled suite in the temp
// folder, and so no listening port either (every port the run opened belonged
// to one of its processes).
func TestInterruptLeavesNothingBehind(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "refreshsuite")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := t.TempDir() // the run's TMPDIR: its profiles and compiled suite land here
			cmd := exec.Command(bin, "run", "-clock", "real", "-procs", "2", "-out", filepath.Join(t.TempDir(), "out"),
				"-client", filepath.Join("..", "..", "fixtures", "angular-oauth2-oidc", "client.yaml"),
				"-focus", `silent-refresh-timeout-no-post-message\[default-timeout\]|silent-refresh-timeout-page-without-redirect\[default-timeout\]`)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Interrupt once a browser is running, i.e. in the middle of a scenario.
			if !eventually(90*time.Second, func() bool { return len(processesUsing(tmp, "chrom")) > 0 }) {
				_ = cmd.Process.Kill()
				t.Fatal("no Chromium started under the run within 90 s")
			}
			if profiles, _ := filepath.Glob(filepath.Join(tmp, "rod", "user-data", "*")); len(profiles) == 0 {
				t.Fatal("Chromium runs but no profile is in the run's TMPDIR: the check below would prove nothing")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(60 * time.Second):
				_ = cmd.Process.Kill()
				t.Fatalf("the run did not stop within 60 s of %s", sig)
			}
			if !eventually(15*time.Second, func() bool { return len(processesUsing(tmp, "")) == 0 }) {
				t.Errorf("processes left behind after %s: %v", sig, processesUsing(tmp, ""))
			}
			// What may stay: rod's leakless guard binary, extracted once and reused
			// by every launch, and the empty folder browser profiles go in.
			var stale []string
			_ = filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
				if err != nil || p == tmp {
					return err
				}
				rel, _ := filepath.Rel(tmp, p)
				switch {
				case strings.HasPrefix(rel, "leakless-"), rel == "rod", rel == filepath.Join("rod", "user-data"):
					return nil
				}
				stale = append(stale, rel)
				return filepath.SkipDir
			})
			if len(stale) > 0 {
				t.Errorf("temporary files left behind after %s (a browser profile, the compiled suite?): %v", sig, stale)
			}
		})
	}
}

// processesUsing lists the command lines that mention dir (and match, when
// given, a substring): Chromium carries its profile directory on its command
// line, the suite its compiled path.
func processesUsing(dir, match string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmdline := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmdline, dir) && strings.Contains(cmdline, match) {
			out = append(out, cmdline)
		}
	}
	return out
}

func eventually(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond) // polling a condition, with a deadline
	}
	return true
}
