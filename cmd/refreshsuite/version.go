package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/refreshsuite/refreshsuite/fixtures"
)

// version is set by a release build (-ldflags -X main.version=...); without
// it the go command's build information says what was built.
var version string

// buildVersion is the module version go install was given, or the commit
// a build from a checkout was made at (with +dirty for uncommitted changes).
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	if version != "" {
		return version + " (" + bi.GoVersion + ")"
	}
	v := bi.Main.Version
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		v = "commit " + rev[:min(12, len(rev))]
		if modified == "true" {
			v += "+dirty"
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v + " (" + bi.GoVersion + ")"
}

// cmdVersion prints the program's version, the ginkgo it carries, and the
// client library versions its shipped clients pin.
func cmdVersion(args []string, out io.Writer) error {
	fs := newFlags("version", out)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version takes no arguments")
	}
	h, err := findHome()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "refreshsuite %s\nginkgo %s\n", buildVersion(), types.VERSION)
	files, err := h.clients()
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "shipped clients:")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, f := range files {
		m, err := fixtures.Load(f)
		if err != nil {
			return usageError{err}
		}
		fmt.Fprintf(tw, "  %s\t%s %s\n", m.Name, m.Library.Name, m.Library.Version)
	}
	tw.Flush()
	where := "the checkout at " + h.root
	if !h.checkout {
		where = "the copies compiled into this binary"
	}
	fmt.Fprintf(out, "scenarios and clients from %s\n", strings.TrimSpace(where))
	return nil
}
