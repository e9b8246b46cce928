package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/refreshsuite/refreshsuite/internal/strictyaml"
	"github.com/refreshsuite/refreshsuite/reports"
)

const defaultMutants = "fixtures/mutants/mutants.yaml"

// mutantList is fixtures/mutants/mutants.yaml: each mutant is a real client
// with one deliberate defect, and the exact specs that must catch it.
type mutantList struct {
	Mutants []mutant `yaml:"mutants" rs:"required"`
}

type mutant struct {
	// ID names the mutant's directory, which holds its client.yaml.
	ID     string `yaml:"id" rs:"required"`
	Defect string `yaml:"defect" rs:"required"`
	// CaughtBy lists the specs (client-independent: scenario[variant]/expectation)
	// that must fail against the mutant, and no others may.
	CaughtBy []string `yaml:"caught-by" rs:"required"`
}

// cmdMutants runs the suite against every mutant and checks that each fails
// exactly the specs that check its defect: the suite's proof that its specs
// can fail. It prints the mutation score and exits 1 on any mismatch.
func cmdMutants(args []string, stdout, stderr io.Writer) error {
	h, err := findHome()
	if err != nil {
		return err
	}
	if !h.checkout {
		return usagef("mutants wraps the shipped clients' built apps: run it in a refreshsuite checkout, or with its bin/refreshsuite")
	}
	fs := newFlags("mutants", stderr)
	list := fs.String("list", filepath.Join(h.root, defaultMutants), "the mutant list")
	out := fs.String("out", h.out("mutants"), "report directory")
	procs := fs.Int("procs", defaultProcs(), "parallel ginkgo processes")
	clock := fs.String("clock", "", "virtual or real for every scenario (virtual skips the real-clock scenarios: a much faster run); empty: each scenario's own")
	listed := fs.Bool("listed", false, "run each mutant only in the scenario containers its caught-by names (every spec of those containers is still judged); without it every mutant runs every scenario")
	if err := parse(fs, args); err != nil {
		return err
	}
	var ml mutantList
	if err := strictyaml.DecodeFile(*list, &ml); err != nil {
		return usageError{err}
	}
	runArgs := []string{"-out", *out, "-procs", fmt.Sprint(*procs), "-clock", *clock}
	for _, m := range ml.Mutants {
		runArgs = append(runArgs, "-client", filepath.Join(filepath.Dir(*list), m.ID, "client.yaml"))
	}
	if *listed {
		runArgs = append(runArgs, "-focus", listedContainers(ml))
	}
	// The run fails by design: every mutant is broken.
	if err := cmdRun(runArgs, io.Discard, stderr); err != nil && err != errFailed {
		return err
	}
	j, err := reports.ReadJUnit(filepath.Join(*out, "junit.xml"))
	if err != nil {
		return err
	}
	failed := map[string]map[string]bool{} // client -> failing specs
	for _, s := range j.Suites {
		client, scenario, _ := strings.Cut(s.Name, "/")
		for _, c := range s.Cases {
			if (c.Failure != nil && c.Failure.Type != "known-deviation") || c.Error != nil {
				id, _, _ := strings.Cut(c.Name, ":")
				if failed[client] == nil {
					failed[client] = map[string]bool{}
				}
				failed[client][scenario+"/"+id] = true
			}
		}
	}
	var b strings.Builder
	caught, exact := 0, 0
	fmt.Fprintf(&b, "%-32s %-8s %s\n", "mutant", "caught", "defect")
	for _, m := range ml.Mutants {
		got := failed["mutant-"+m.ID]
		want := map[string]bool{}
		for _, spec := range m.CaughtBy {
			want[spec] = true
		}
		var missing, extra []string
		for spec := range want {
			if !got[spec] {
				missing = append(missing, spec)
			}
		}
		for spec := range got {
			if !want[spec] {
				extra = append(extra, spec)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(got) > 0 {
			caught++
		}
		verdict := fmt.Sprintf("%d specs", len(got))
		if len(missing) == 0 && len(extra) == 0 {
			exact++
		} else {
			verdict += " MISMATCH"
		}
		fmt.Fprintf(&b, "%-32s %-8s %s\n", m.ID, verdict, m.Defect)
		for _, spec := range sortedKeys(got) {
			fmt.Fprintf(&b, "    caught by %s\n", spec)
		}
		for _, spec := range missing {
			fmt.Fprintf(&b, "    EXPECTED TO FAIL but passed: %s\n", spec)
		}
		for _, spec := range extra {
			fmt.Fprintf(&b, "    FAILED but not listed as catching this defect: %s\n", spec)
		}
	}
	scope := "in every scenario"
	if *listed {
		scope = "in the scenario containers the list names (-listed: the other scenarios did not run)"
	}
	fmt.Fprintf(&b, "\nmutation score: %d of %d mutants caught (%.0f%%); %d of %d fail exactly their listed specs %s\n",
		caught, len(ml.Mutants), 100*float64(caught)/float64(len(ml.Mutants)), exact, len(ml.Mutants), scope)
	fmt.Fprint(stdout, b.String())
	if err := os.WriteFile(filepath.Join(*out, "mutation.txt"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(*out, "mutation.txt"))
	if caught != len(ml.Mutants) || exact != len(ml.Mutants) {
		return errFailed
	}
	return nil
}

// listedContainers is a -focus that selects, for each mutant, the scenario
// containers (mutant-<id>/<scenario>[<variant>]) that hold a spec of its
// caught-by: ginkgo matches it against the container's text followed by a
// space and the spec's (and the container's text is not the first thing it
// matches, hence no ^).
func listedContainers(ml mutantList) string {
	seen := map[string]bool{}
	var alts []string
	for _, m := range ml.Mutants {
		for _, spec := range m.CaughtBy {
			container, _, _ := strings.Cut(spec, "/")
			name := "mutant-" + m.ID + "/" + container
			if !seen[name] {
				seen[name] = true
				alts = append(alts, regexp.QuoteMeta(name))
			}
		}
	}
	sort.Strings(alts)
	return `(^|\s)(` + strings.Join(alts, "|") + `)\s`
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
