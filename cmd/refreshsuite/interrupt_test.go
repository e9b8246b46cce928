package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/refreshsuite/refreshsuite/internal/proc"
)

// A signal sent to the refreshsuite process itself, the way CI runners and
// timeout(1) send it, stops the run in the middle of a scenario and leaves
// nothing behind: no process (ginkgo, the suite processes, Chromium), no port
// any of them listened on, nothing in the temporary folder (the compiled
// suite, browser profiles) and no report folder, half-written or not; the
// previous run's reports stay as they were. SIGINT and SIGTERM are handled by
// the run; SIGKILL is not, and the children die with it while its reaper
// removes the rest.
//
// The scenarios wait out a 20 s silent-refresh timeout on the real clock, so
// the run cannot end by itself while the signal is on its way; that it was
// stopped shows in its last line (SIGINT, SIGTERM) and in the absence of any
// report.
func TestSignalStopsTheRun(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "refreshsuite")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			tmp := shortTempDir(t) // the run's TMPDIR: its profiles and compiled suite land here
			parent := t.TempDir()
			out := filepath.Join(parent, "out")
			write(t, filepath.Join(out, markerName), markerText)
			write(t, filepath.Join(out, "junit.xml"), "the previous run's")
			cmd := exec.Command(bin, "run", "-clock", "real", "-procs", "2", "-out", out, "-client", defaultClient,
				"-focus", `silent-refresh-timeout-no-post-message\[default-timeout\]|silent-refresh-timeout-page-without-redirect\[default-timeout\]`)
			cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
			var output logBuffer
			cmd.Stdout, cmd.Stderr = &output, &output
			// After SIGKILL the reaper holds the output until it is done.
			cmd.WaitDelay = time.Minute
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			defer func() {
				if t.Failed() {
					t.Logf("the run printed:\n%s", output.String())
				}
			}()
			// In the middle of a scenario: a suite process has its Chromium.
			if !eventually(2*time.Minute, func() bool { return suiteChromium(tmp) || isDone(done) }) || isDone(done) {
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("no suite process started Chromium within 2 minutes (the run: %s)", cmd.ProcessState)
			}
			ports := listening(tmp)
			if len(ports) == 0 {
				t.Fatal("the run's processes listen on no port: the check below would prove nothing")
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			signalled := time.Now()
			select {
			case <-done:
			case <-time.After(time.Minute):
				_ = cmd.Process.Kill()
				<-done
				t.Fatalf("the run did not stop within a minute of %s", sig)
			}
			t.Logf("the run ended %s after %s", time.Since(signalled).Round(time.Millisecond), sig)
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if sig == syscall.SIGKILL {
				if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
					t.Errorf("the run ended with %s, not by SIGKILL", cmd.ProcessState)
				}
			} else {
				want := "refreshsuite: run: interrupted by " + map[syscall.Signal]string{syscall.SIGINT: "SIGINT", syscall.SIGTERM: "SIGTERM"}[sig] +
					": nothing judged, no reports written (those in " + out + " are the previous run's)"
				if code := cmd.ProcessState.ExitCode(); code != 1 || lastLine(output.String()) != want {
					t.Errorf("exit %d and last line %q, want 1 and %q", code, lastLine(output.String()), want)
				}
			}
			if !eventually(30*time.Second, func() bool { return len(processesUsing(tmp, "")) == 0 }) {
				t.Errorf("processes left behind after %s: %v", sig, processesUsing(tmp, ""))
			}
			if !eventually(30*time.Second, func() bool { left, _ := os.ReadDir(tmp); return len(left) == 0 }) {
				left, _ := os.ReadDir(tmp)
				t.Errorf("left in the temporary folder after %s: %v", sig, left)
			}
			if still := stillListening(ports); len(still) > 0 {
				t.Errorf("ports still listening after %s: %v", sig, still)
			}
			if got := strings.Join(listDir(t, parent), " "); got != "out" {
				t.Errorf("beside the report folder after %s: %s, want out alone", sig, got)
			}
			if got := strings.Join(listDir(t, out), " "); got != markerName+" junit.xml" || read(t, filepath.Join(out, "junit.xml")) != "the previous run's" {
				t.Errorf("the previous reports changed after %s: %s", sig, got)
			}
		})
	}
}

// shortTempDir is a temporary folder with a short path: Chromium makes a Unix
// socket in a folder of its own under TMPDIR, the run's temporary folder
// nests in TMPDIR as well, and a socket's path may not exceed 107 bytes,
// which t.TempDir's (named after the test) leaves too little room for.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "rs-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func isDone(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// suiteChromium says whether a suite process of the run using tmp has
// started its Chromium (the run's own pre-flight Chromium does not count).
func suiteChromium(tmp string) bool {
	for _, p := range proc.Using(tmp) {
		if !strings.Contains(p.Cmdline, "chromium") || strings.Contains(p.Cmdline, "--type=") {
			continue
		}
		parent, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(parentOf(p.PID)), "cmdline"))
		if err == nil && strings.Contains(string(parent), "suite.test") {
			return true
		}
	}
	return false
}

func parentOf(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	s := string(b)
	// pid (comm) state ppid ...: the name may hold spaces, not a ')'.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// listening maps the inodes of the sockets that processes using tmp listen
// on to their ports.
func listening(tmp string) map[string]string {
	all := listeningSockets()
	out := map[string]string{}
	for _, p := range proc.Using(tmp) {
		fds, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(p.PID), "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(p.PID), "fd", fd.Name()))
			if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
				inode = strings.TrimSuffix(inode, "]")
				if port, ok := all[inode]; ok {
					out[inode] = port
				}
			}
		}
	}
	return out
}

// stillListening lists the ports of those sockets that still listen.
func stillListening(sockets map[string]string) []string {
	var out []string
	for inode := range listeningSockets() {
		if port, ok := sockets[inode]; ok {
			out = append(out, port)
		}
	}
	return out
}

// listeningSockets maps the inode of every listening TCP socket to its port.
func listeningSockets() map[string]string {
	out := map[string]string{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:tm retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" { // 0A: LISTEN
				continue
			}
			_, hexPort, _ := strings.Cut(fields[1], ":")
			port, _ := strconv.ParseUint(hexPort, 16, 16)
			out[fields[9]] = strconv.FormatUint(port, 10)
		}
		fh.Close()
	}
	return out
}

// processesUsing lists the processes one of whose arguments names dir or a
// path in it (Chromium carries its profile folder on its command line, the
// suite its compiled path), and match, when given.
func processesUsing(dir, match string) []string {
	var out []string
	for _, p := range proc.Using(dir) {
		if strings.Contains(p.Cmdline, match) {
			out = append(out, p.String())
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
