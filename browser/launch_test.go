package browser

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeChromium writes an executable script standing in for Chromium.
func fakeChromium(t *testing.T, body string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chromium")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// ownTempDir gives the test a TMPDIR of its own and checks, once the test is
// over, that nothing was left in it.
func ownTempDir(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Cleanup(func() {
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("left in the temporary folder: %v", left)
		}
	})
	return tmp
}

// running says whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// A Chromium that never listens ends in one line naming the binary and the
// timeout, and leaves no process (the script's own child included) and no
// profile behind.
func TestLaunchTimesOut(t *testing.T) {
	ownTempDir(t)
	pids := filepath.Join(t.TempDir(), "pids")
	bin := fakeChromium(t, "echo $$ > "+pids+"\nsleep 600 &\necho $! >> "+pids+"\necho 'starting up' >&2\nwait")
	_, err := LaunchWith(bin, Options{StartTimeout: 2 * time.Second})
	if err == nil {
		t.Fatal("a Chromium that never listens launched")
	}
	msg := err.Error()
	if !strings.Contains(msg, bin) || !strings.Contains(msg, "did not start within 2s") || !strings.HasSuffix(msg, ": starting up") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line with the binary, the timeout and the last thing it printed", msg)
	}
	b, err := os.ReadFile(pids)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		if running(pid) {
			t.Errorf("process %d of the fake Chromium still runs", pid)
		}
	}
}

// A Chromium that exits at once is reported as such, with its exit status and
// what it printed: not as a timeout (there is an hour of it).
func TestLaunchExitsAtOnce(t *testing.T) {
	ownTempDir(t)
	bin := fakeChromium(t, "echo 'chromium: error while loading shared libraries: libnss3.so' >&2\nexit 127")
	_, err := LaunchWith(bin, Options{StartTimeout: time.Hour})
	if err == nil {
		t.Fatal("a Chromium that exits launched")
	}
	msg := err.Error()
	if !strings.Contains(msg, "exited as it started (exit status 127): chromium: error while loading shared libraries") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line with the exit status and the last line it printed", msg)
	}
}

// Close removes the profile of a launched Chromium and ends its processes.
func TestCloseLeavesNothing(t *testing.T) {
	tmp := ownTempDir(t)
	b, err := LaunchWith(pool.Bin, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pid := b.proc.cmd.Process.Pid
	profiles, _ := filepath.Glob(filepath.Join(tmp, "refreshsuite-chromium-*"))
	if len(profiles) != 1 {
		b.Close()
		t.Fatalf("want one profile in TMPDIR, found %v", profiles)
	}
	b.Close()
	if running(pid) {
		t.Errorf("Chromium %d still runs after Close", pid)
	}
}

// A browser URL nobody answers on is an error that names it, within the
// start timeout.
func TestConnectUnreachable(t *testing.T) {
	_, err := ConnectWith("ws://127.0.0.1:1/devtools/browser/none", Options{StartTimeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "ws://127.0.0.1:1/") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error %v: want one line naming the URL", err)
	}
}
