package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Runs in one checkout share one cached build and never each other's binary:
// two at once both get a complete copy of their own. (That the go command then
// skips the link when nothing changed is its business; make bench shows it.)
func TestCompileSuiteCache(t *testing.T) {
	// The go command keeps its own cache in the same folder unless told.
	gocache, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOCACHE", strings.TrimSpace(string(gocache)))
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	built, unlock, err := cachedBuildPath(root)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	bins := make([]string, 2)
	var wg sync.WaitGroup
	for i := range bins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			bin, err := compileSuite(context.Background(), root, t.TempDir(), &out)
			if err != nil {
				t.Errorf("compile %d: %v\n%s", i, err, out.String())
			}
			bins[i] = bin
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, bin := range bins {
		if !sameFile(t, bin, built) {
			t.Errorf("%s differs from the cached build", bin)
		}
	}
	if bins[0] == bins[1] {
		t.Fatalf("two runs got the same binary %s", bins[0])
	}
	if filepath.Dir(bins[0]) == filepath.Dir(built) {
		t.Errorf("a run executes the cached build itself")
	}
}

func sameFile(t *testing.T, a, b string) bool {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}
