//go:build !linux

package proc

import (
	"os"
	"syscall"
)

// Attr starts a child as any other: only Linux has a parent-death signal.
func Attr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

// DieWithParent does nothing where there is no parent-death signal.
func DieWithParent() error { return nil }

// Using finds nothing where there is no /proc to read.
func Using(path string) []Process { return nil }

func kill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		_ = p.Kill()
	}
}

// KillGroup kills the process alone where it leads no group of its own.
func KillGroup(pid int) { kill(pid) }
