package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/refreshsuite/refreshsuite/internal/proc"
)

// A run's reaper is this program again, started before anything else of the
// run, that outlives the run's process to clean up after it when it is
// killed outright (SIGKILL: no handler runs). The run's children die with it
// by the parent-death signal, but only a process still alive can kill a
// straggler (a suite process ginkgo had started, a Chromium helper) and
// remove the temporary folder and a half-written report folder.
//
// The run tells it, on its stdin, the folders it made ("path <quoted>"), and
// "done" when it has cleaned up itself. End of input without "done" means the
// run died: every process naming one of those folders on its command line is
// killed, and the folders are removed.
const reaperEnv = "REFRESHSUITE_REAPER"

// reaperLimit bounds how long the reaper waits for the run's processes to
// go; they get SIGKILL, so they go in milliseconds unless the machine stalls.
const reaperLimit = 30 * time.Second

func init() {
	// Here rather than in main, so that the test binary, which runs the
	// command in its own process, can be the reaper of those runs too.
	if os.Getenv(reaperEnv) == "1" {
		os.Exit(reap(os.Stdin, os.Stderr))
	}
}

func reap(in io.Reader, stderr io.Writer) int {
	// A signal for the run (a terminal's Ctrl-C, a CI runner's SIGTERM to the
	// group) must not end the one process that cleans up after it.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	var paths []string
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		if line == "done" {
			return 0
		}
		if q, ok := strings.CutPrefix(line, "path "); ok {
			if p, err := strconv.Unquote(q); err == nil {
				paths = append(paths, p)
			}
		}
	}
	code := 0
	for _, p := range paths {
		if err := proc.KillUsing(p, reaperLimit); err != nil {
			fmt.Fprintf(stderr, "refreshsuite: after the run was killed: %v\n", err)
			code = 1
		}
	}
	for _, p := range paths {
		if err := os.RemoveAll(p); err != nil {
			fmt.Fprintf(stderr, "refreshsuite: after the run was killed: %v\n", err)
			code = 1
		}
	}
	return code
}

// reaper is the run's side of the reaper process.
type reaper struct {
	cmd *exec.Cmd
	in  io.WriteCloser
}

func startReaper() (*reaper, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start the run's reaper: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Args = []string{"refreshsuite-reaper"}
	cmd.Env = append(os.Environ(), reaperEnv+"=1")
	// Its own process group: a signal sent to the run's group (timeout -s
	// KILL does that) must leave it alive.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start the run's reaper: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the run's reaper: %w", err)
	}
	return &reaper{cmd: cmd, in: in}, nil
}

// watch tells the reaper about a folder of the run.
func (r *reaper) watch(path string) error {
	if _, err := fmt.Fprintf(r.in, "path %s\n", strconv.Quote(path)); err != nil {
		return fmt.Errorf("the run's reaper: %w", err)
	}
	return nil
}

// done tells the reaper that the run cleaned up after itself.
func (r *reaper) done() {
	_, _ = io.WriteString(r.in, "done\n")
	_ = r.in.Close()
	_ = r.cmd.Wait()
}
