package proc

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Attr puts a child in a process group of its own, so that one signal reaches
// everything it starts in turn, and has the kernel kill it when its parent
// dies, however the parent dies (SIGKILL included). The kernel ties that to the
// thread that started the child; the Go runtime ends a thread only when a
// goroutine locked to it returns, which no caller here does.
func Attr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// DieWithParent gives the calling process the same parent-death signal, for a
// process started by a program that does not set it (ginkgo starting the suite
// processes). A parent that died during the call shows as a changed parent and
// is an error: the run this process was for is gone.
func DieWithParent() error {
	parent := os.Getppid()
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set the parent-death signal: %w", err)
	}
	if os.Getppid() != parent {
		return fmt.Errorf("the parent process %d ended before this one could follow it", parent)
	}
	return nil
}

// Using lists the live processes, other than this one, one of whose
// arguments names path or a path inside it (--user-data-dir=<path>/x counts;
// <path>2 does not). A zombie has no arguments left, so it is never listed: it
// holds no file, port or memory any more.
func Using(path string) []Process {
	path = filepath.Clean(path)
	entries, _ := os.ReadDir("/proc")
	var out []Process
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(b) == 0 {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		for _, a := range args {
			if names(a, path) {
				out = append(out, Process{PID: pid, Cmdline: strings.Join(args, " ")})
				break
			}
		}
	}
	return out
}

func kill(pid int) { _ = syscall.Kill(pid, syscall.SIGKILL) }

// KillGroup kills the process group a child started with Attr leads.
func KillGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
