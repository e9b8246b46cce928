package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/refreshsuite/refreshsuite/internal/proc"
)

// compileSuite builds the suite's test binary and returns a copy of it in tmp,
// the run's own folder. The build goes to one place per checkout in the user's
// cache, where the go command relinks only when something the suite depends on
// changed (a run then starts about a second sooner); a lock and the copy keep
// runs in one checkout (a test's shards, a user's runs) from running or
// replacing each other's binary. Without a usable cache folder the suite is
// built straight into tmp.
//
// The go command and what it starts run with tmp as their temporary folder
// (the run's reaper finds and removes them by it), and stop when ctx ends.
func compileSuite(ctx context.Context, root, tmp string, stderr io.Writer) (string, error) {
	bin := filepath.Join(tmp, "suite.test")
	built, unlock, err := cachedBuildPath(root)
	if err != nil {
		return bin, goTestC(ctx, root, tmp, bin, stderr)
	}
	defer unlock()
	if err := goTestC(ctx, root, tmp, built, stderr); err != nil {
		return "", err
	}
	return bin, copyFile(built, bin)
}

// cachedBuildPath locks this checkout's build folder in the user's cache and
// returns where its suite binary goes.
func cachedBuildPath(root string) (string, func(), error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256([]byte(root))
	dir := filepath.Join(cache, "refreshsuite", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", nil, err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		lock.Close()
		return "", nil, err
	}
	return filepath.Join(dir, "suite.test"), func() { lock.Close() }, nil
}

func goTestC(ctx context.Context, root, tmp, out string, stderr io.Writer) error {
	build := child(ctx, root, tmp, "go", "test", "-c", "-o", out, "./suite")
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("compile the suite: %w", err)
	}
	return nil
}

// child is a process of the run (the go command, ginkgo): a process group of
// its own that dies with this process, with tmp as its temporary folder, and
// killed, group and all, when ctx ends.
func child(ctx context.Context, root, tmp, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	cmd.SysProcAttr = proc.Attr()
	cmd.Cancel = func() error {
		proc.KillGroup(cmd.Process.Pid)
		return nil
	}
	// Output pipes a killed process's children still hold must not keep
	// Wait from returning.
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
