package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/suite"
)

// inputs loads the client manifests and scenarios named by the common flags.
func inputs(name string, args []string, out io.Writer) (*home, []*fixtures.Manifest, []*scenarios.Scenario, error) {
	h, err := findHome()
	if err != nil {
		return nil, nil, nil, err
	}
	fs := newFlags(name, out)
	var clients listFlag
	fs.Var(&clients, "client", "a client manifest (repeatable; default: every shipped client)")
	scen := fs.String("scenarios", h.scenarios(), "scenario file or directory")
	if err := parse(fs, args); err != nil {
		return nil, nil, nil, err
	}
	switch fs.NArg() {
	case 0:
	case 1:
		*scen = fs.Arg(0)
	default:
		return nil, nil, nil, usagef("%s takes one scenario path, got %d", name, fs.NArg())
	}
	if len(clients) == 0 {
		if clients, err = h.clients(); err != nil {
			return nil, nil, nil, err
		}
	}
	ms, all, err := suite.Load(clients, *scen)
	if err != nil {
		return nil, nil, nil, usageError{err}
	}
	if err := suite.CheckLabels(all); err != nil {
		return nil, nil, nil, usageError{err}
	}
	return h, ms, all, nil
}

func cmdValidate(args []string, out io.Writer) error {
	h, ms, all, err := inputs("validate", args, out)
	if err != nil {
		return err
	}
	// A client whose app was never built would be refused by run; outside
	// a checkout the shipped ones have none to check.
	for _, m := range ms {
		if h.needsCheckout(abs(m.File)) != nil {
			continue
		}
		if err := appBuilt(m); err != nil {
			return err
		}
	}
	specs := 0
	for _, s := range all {
		specs += len(s.Expect)
	}
	var clients []string
	for _, m := range ms {
		clients = append(clients, fmt.Sprintf("%s (%d known deviations)", m.Name, len(m.Known)))
	}
	fmt.Fprintf(out, "ok: %d scenario containers, %d specs; clients %s\n", len(all), specs, strings.Join(clients, ", "))
	return nil
}

func cmdList(args []string, out io.Writer) error {
	_, ms, all, err := inputs("list", args, out)
	if err != nil {
		return err
	}
	for _, s := range all {
		fmt.Fprintf(out, "%s\n  %s\n", s.Name(), s.Title)
		if d := strings.Join(strings.Fields(s.Description), " "); d != "" {
			fmt.Fprintf(out, "  %s\n", d)
		}
		if len(s.Labels) > 0 {
			fmt.Fprintf(out, "  labels: %s\n", strings.Join(s.Labels, ", "))
		}
		for _, m := range ms {
			applies := "applies"
			if why := suite.SkipScenario(m, s); why != "" {
				applies = "skipped: " + why
			}
			fmt.Fprintf(out, "  %s [%s]: %s\n", m.Name, strings.Join(suite.ContainerLabels(m, s, suite.ClockMode("", m, s))[len(s.Labels):], ", "), applies)
		}
		for _, x := range s.Expect {
			var notes []string
			for _, m := range ms {
				if why := suite.SkipSpec(m, x); why != "" {
					notes = append(notes, "skipped for "+m.Name+": "+why)
				}
				if _, ok := m.Deviation(s, x.ID); ok {
					notes = append(notes, "known deviation of "+m.Name)
				}
			}
			note := ""
			if len(notes) > 0 {
				note = "  [" + strings.Join(notes, "; ") + "]"
			}
			fmt.Fprintf(out, "    - %-40s %-22s %s%s\n", x.ID, strings.Join(x.Requirements, ","), x.Title, note)
		}
	}
	return nil
}

func cmdSchema(args []string, out io.Writer) error {
	fs := newFlags("schema", out)
	manifest := fs.Bool("manifest", false, "the schema of client manifests (client.yaml) instead of scenarios")
	if err := parse(fs, args); err != nil {
		return err
	}
	// The committed files: their descriptions come from doc comments, which
	// only the source has.
	schema := scenarios.SchemaJSON
	if *manifest {
		schema = fixtures.SchemaJSON
	}
	_, err := out.Write(schema)
	return err
}
