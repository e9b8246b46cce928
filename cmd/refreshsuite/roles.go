package main

import (
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/onsi/ginkgo/v2/ginkgo/command"
	ginkgorun "github.com/onsi/ginkgo/v2/ginkgo/run"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/refreshsuite/refreshsuite/suite"
)

// roleEnv makes the refreshsuite binary play another part of a run: the
// ginkgo CLI (the library's own run command, so always ginkgo's version of
// go.mod) or the suite process ginkgo starts. A run starts itself as ginkgo,
// which starts it again, through a name ending in .test, as the suite: one
// binary, nothing compiled at run time, no go command needed.
const roleEnv = "REFRESHSUITE_ROLE"

// suiteName is the name the binary has for ginkgo, which runs only
// precompiled suites whose file ends in .test.
const suiteName = "refreshsuite-suite.test"

// playRole runs the binary as role and exits; false when it has none.
func playRole() {
	switch os.Getenv(roleEnv) {
	case "":
		return
	case "ginkgo":
		// ginkgo's children are the suite processes.
		os.Setenv(roleEnv, "suite")
		program := command.Program{
			Name:           "ginkgo",
			Heading:        fmt.Sprintf("Ginkgo Version %s", types.VERSION),
			DefaultCommand: ginkgorun.BuildRunCommand(),
		}
		program.RunAndExit(os.Args)
	case "suite":
		testing.Main(regexp.MatchString, []testing.InternalTest{{Name: "TestConformance", F: suite.Conformance}}, nil, nil)
	default:
		fmt.Fprintf(os.Stderr, "refreshsuite: %s=%q is no role of this binary\n", roleEnv, os.Getenv(roleEnv))
	}
	os.Exit(2)
}
