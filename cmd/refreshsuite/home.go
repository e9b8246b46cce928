package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/scenarios"
)

// home is where the command finds the shipped scenarios and clients: a
// checkout of refreshsuite (the binary's own, bin/refreshsuite of make
// build, or the one the working folder is in), or, for an installed binary
// with no checkout, a folder in the user's cache that holds the copies
// compiled into it. The suite itself is always the one compiled into the
// binary; what stays tied to a checkout is the shipped clients' built apps,
// which npm builds there.
type home struct {
	root     string
	checkout bool
}

// findHome prefers the checkout the binary was built in, so that
// bin/refreshsuite run from any folder reads the scenarios it was built
// with; then the checkout around the working folder (go run, go test); then
// the embedded copies.
func findHome() (*home, error) {
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			if root := filepath.Dir(filepath.Dir(exe)); isCheckout(root) {
				return &home{root: root, checkout: true}, nil
			}
		}
	}
	if root, err := moduleRoot(); err == nil {
		return &home{root: root, checkout: true}, nil
	}
	root, err := unpackShipped()
	if err != nil {
		return nil, usagef("no refreshsuite checkout here, and the shipped scenarios cannot be unpacked: %v", err)
	}
	return &home{root: root}, nil
}

func isCheckout(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	return err == nil && strings.Contains(string(b), "module "+modulePath+"\n")
}

// shipped is the embedded tree as it is laid out in a checkout.
func shipped() map[string]fs.FS {
	return map[string]fs.FS{"scenarios": scenarios.Shipped, "fixtures": fixtures.Shipped}
}

// unpackShipped writes the embedded scenarios and manifests to a folder of
// the user's cache named by their content, once: the loader reads files,
// and its errors and the reports then name a path that stays.
func unpackShipped() (string, error) {
	sum := sha256.New()
	files := map[string][]byte{}
	trees := shipped()
	for _, top := range []string{"fixtures", "scenarios"} {
		err := fs.WalkDir(trees[top], ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(trees[top], p)
			if err != nil {
				return err
			}
			name := path.Join(top, p)
			files[name] = b
			fmt.Fprintf(sum, "%s\x00%d\x00", name, len(b))
			sum.Write(b)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "refreshsuite", "shipped-"+hex.EncodeToString(sum.Sum(nil)[:8]))
	if _, err := os.Stat(dir); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".unpack-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for name, b := range files {
		p := filepath.Join(tmp, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return "", err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	// Another process may have unpacked the same files meanwhile: its
	// folder is as good as this one.
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, fs.ErrExist) {
		if _, serr := os.Stat(dir); serr != nil {
			return "", err
		}
	}
	return dir, nil
}

// out is a command's default report folder: reports/out/<name> in a
// checkout, as .gitignore expects, else in the working folder.
func (h *home) out(name string) string {
	if h.checkout {
		return filepath.Join(h.root, defaultOut, name)
	}
	return filepath.Join(defaultOut, name)
}

// clients are the shipped clients' manifests.
func (h *home) clients() ([]string, error) { return shippedClients(h.root) }

func (h *home) scenarios() string { return filepath.Join(h.root, defaultScenarios) }

// needsCheckout refuses to run a shipped client outside a checkout, where its
// app was never built.
func (h *home) needsCheckout(manifest string) error {
	if h.checkout || !strings.HasPrefix(manifest, h.root+string(filepath.Separator)) {
		return nil
	}
	rel, _ := filepath.Rel(h.root, manifest)
	return usagef("%s is a shipped client, and its app is built by npm in a refreshsuite checkout: clone the repository, make setup and make build there (bin/refreshsuite then finds it), or pass -client with your own client's manifest", filepath.ToSlash(rel))
}
