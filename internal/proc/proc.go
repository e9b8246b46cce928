// Package proc keeps the processes a run starts from outliving it. Each child
// the run starts dies with its parent (Linux's parent-death signal), so a run
// killed outright takes its tree with it; and whatever is left can be found by
// the run's own temporary folder, which every one of its processes names on its
// command line (the compiled suite's path, Chromium's profile), and killed.
package proc

import (
	"fmt"
	"strings"
	"time"
)

// Process is a running process and its command line, its arguments joined
// with spaces.
type Process struct {
	PID     int
	Cmdline string
}

func (p Process) String() string { return fmt.Sprintf("%d %s", p.PID, p.Cmdline) }

// KillUsing kills every process that Using(path) lists, scanning again until
// none is left, since a process being killed may have forked one more. It
// gives up after limit with the processes that are still there.
func KillUsing(path string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		left := Using(path)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			var names []string
			for _, p := range left {
				names = append(names, p.String())
			}
			return fmt.Errorf("processes still running after %s: %s", limit, strings.Join(names, "; "))
		}
		for _, p := range left {
			kill(p.PID)
		}
		// A killed process leaves /proc a moment later: poll for that, bounded by
		// the deadline above.
		time.Sleep(20 * time.Millisecond)
	}
}

// names says whether arg contains path followed by its end or a slash.
func names(arg, path string) bool {
	for i := strings.Index(arg, path); i >= 0; {
		rest := arg[i+len(path):]
		if rest == "" || rest[0] == '/' {
			return true
		}
		j := strings.Index(arg[i+1:], path)
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}
