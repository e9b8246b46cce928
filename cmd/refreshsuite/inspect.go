package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/suite"
)

// inputs loads the client manifest and scenarios named by the common flags.
func inputs(name string, args []string, out io.Writer) (*fixtures.Manifest, []*scenarios.Scenario, error) {
	root, _ := moduleRoot() // optional: explicit paths work anywhere
	fs := newFlags(name, out)
	client := fs.String("client", filepath.Join(root, defaultClient), "client manifest (YAML)")
	scen := fs.String("scenarios", filepath.Join(root, defaultScenarios), "scenario file or directory")
	if err := parse(fs, args); err != nil {
		return nil, nil, err
	}
	switch fs.NArg() {
	case 0:
	case 1:
		*scen = fs.Arg(0)
	default:
		return nil, nil, usagef("%s takes one scenario path, got %d", name, fs.NArg())
	}
	m, all, err := suite.Load(*client, *scen)
	if err != nil {
		return nil, nil, usageError{err}
	}
	return m, all, nil
}

func cmdValidate(args []string, out io.Writer) error {
	m, all, err := inputs("validate", args, out)
	if err != nil {
		return err
	}
	specs := 0
	for _, s := range all {
		specs += len(s.Expect)
	}
	fmt.Fprintf(out, "ok: %d scenario containers, %d specs; client manifest %s (%d known deviations)\n", len(all), specs, m.Name, len(m.Known))
	return nil
}

func cmdList(args []string, out io.Writer) error {
	m, all, err := inputs("list", args, out)
	if err != nil {
		return err
	}
	for _, s := range all {
		applies := "applies"
		if why := suite.SkipScenario(m, s); why != "" {
			applies = "skipped: " + why
		}
		fmt.Fprintf(out, "%s  (%s)\n  %s\n", s.Name(), applies, s.Title)
		for _, x := range s.Expect {
			note := ""
			if why := suite.SkipSpec(m, x); why != "" {
				note = "  [skipped: " + why + "]"
			}
			if _, ok := m.Deviation(s, x.ID); ok {
				note += "  [known deviation of " + m.Name + "]"
			}
			fmt.Fprintf(out, "    - %-40s %-22s %s%s\n", x.ID, strings.Join(x.Requirements, ","), x.Title, note)
		}
	}
	return nil
}

func cmdSchema(out io.Writer) error {
	b, err := json.MarshalIndent(scenarios.Schema(), "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(out, string(b))
	return err
}
