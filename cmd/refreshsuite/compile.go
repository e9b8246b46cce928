package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
)

// compileSuite builds the suite's test binary and returns a copy of it in tmp,
// the run's own folder. The build goes to one place per checkout in the user's
// cache, where the go command relinks only when something the suite depends on
// changed (a run then starts about a second sooner); a lock and the copy keep
// runs in one checkout (a test's shards, a user's runs) from running or
// replacing each other's binary. Without a usable cache folder the suite is
// built straight into tmp.
func compileSuite(root, tmp string, stderr io.Writer) (string, error) {
	bin := filepath.Join(tmp, "suite.test")
	built, unlock, err := cachedBuildPath(root)
	if err != nil {
		return bin, goTestC(root, bin, stderr)
	}
	defer unlock()
	if err := goTestC(root, built, stderr); err != nil {
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

func goTestC(root, out string, stderr io.Writer) error {
	build := exec.Command("go", "test", "-c", "-o", out, "./suite")
	build.Dir, build.Stdout, build.Stderr = root, stderr, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("compile the suite: %w", err)
	}
	return nil
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
