package certify

import (
	"os/exec"
	"runtime/debug"
	"strings"
)

// SuiteVersion is the version written to version.txt: the module version the
// binary was built as (go install ...@v1.2.3), else `git describe` of the
// checkout at root, else "devel".
func SuiteVersion(root string) string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	if root != "" {
		cmd := exec.Command("git", "describe", "--tags", "--always", "--dirty")
		cmd.Dir = root
		if out, err := cmd.Output(); err == nil {
			if v := strings.TrimSpace(string(out)); v != "" {
				return v
			}
		}
	}
	return "devel"
}
