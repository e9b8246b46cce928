package main

import (
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/reports"
)

// cmdFlake runs the main job again and again while other processes keep cores
// busy, and counts the specs whose verdict was not the same in every run: a
// conformance suite that flakes gets muted, so this number must be 0.
func cmdFlake(args []string, stdout, stderr io.Writer) error {
	h, err := findHome()
	if err != nil {
		return err
	}
	fs := newFlags("flake", stderr)
	runs := fs.Int("runs", 20, "how many runs")
	load := fs.Int("load", 1, "busy processes to run alongside (each keeps one core at 100%)")
	out := fs.String("out", h.out("flake"), "report directory; run i writes run-i/")
	procs := fs.Int("procs", defaultProcs(), "parallel ginkgo processes per run")
	scen := fs.String("scenarios", h.scenarios(), "scenario file or directory")
	var clients listFlag
	fs.Var(&clients, "client", "a client manifest (repeatable; default: every shipped client)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *runs < 2 || *load < 0 {
		return usagef("flake: want -runs >= 2 and -load >= 0")
	}
	for range *load {
		busy := exec.Command("/bin/sh", "-c", "while :; do :; done")
		if err := busy.Start(); err != nil {
			return fmt.Errorf("start a load process: %w", err)
		}
		defer func() { _ = busy.Process.Kill(); _ = busy.Wait() }()
	}
	var all []*reports.Results
	for i := 1; i <= *runs; i++ {
		dir := filepath.Join(*out, fmt.Sprintf("run-%d", i))
		runArgs := []string{"-out", dir, "-procs", fmt.Sprint(*procs), "-scenarios", *scen}
		for _, c := range clients {
			runArgs = append(runArgs, "-client", c)
		}
		start := time.Now()
		// A failed run is data, not a stop: the verdicts are compared below.
		if err := cmdRun(runArgs, io.Discard, stderr); err != nil && err != errFailed {
			return err
		}
		res, err := reports.ReadResults(filepath.Join(dir, "results.json"))
		if err != nil {
			return fmt.Errorf("run %d wrote no results: %w", i, err)
		}
		all = append(all, res)
		counts := map[reports.State]int{}
		for _, c := range res.Containers {
			for _, s := range c.Specs {
				counts[s.State]++
			}
		}
		fmt.Fprintf(stdout, "run %d/%d: %d passed, %d failed, %d known deviations, %d skipped, %d errors in %s\n", i, *runs,
			counts[reports.Passed], counts[reports.Failed], counts[reports.KnownDeviation], counts[reports.Skipped], counts[reports.Error],
			time.Since(start).Round(time.Second))
	}
	flaky, specs := flakySpecs(all)
	for _, f := range flaky {
		fmt.Fprintf(stdout, "  FLAKY %s\n", f)
	}
	busy := "busy processes"
	if *load == 1 {
		busy = "busy process"
	}
	fmt.Fprintf(stdout, "%d flaky results: %d of %d specs changed verdict over %d runs with %d %s alongside\n",
		len(flaky), len(flaky), specs, *runs, *load, busy)
	if len(flaky) > 0 {
		return errFailed
	}
	return nil
}

// flakySpecs lists the specs whose verdict differs between runs (or that are
// missing from some), each with its verdicts, and counts the specs seen.
func flakySpecs(runs []*reports.Results) ([]string, int) {
	verdicts := map[string][]string{}
	for i, r := range runs {
		for _, c := range r.Containers {
			for _, s := range c.Specs {
				key := c.Name + " / " + s.Text
				for len(verdicts[key]) < i {
					verdicts[key] = append(verdicts[key], "missing")
				}
				verdicts[key] = append(verdicts[key], string(s.State))
			}
		}
	}
	var flaky []string
	for key, v := range verdicts {
		for len(v) < len(runs) {
			v = append(v, "missing")
		}
		seen := map[string]int{}
		for _, s := range v {
			seen[s]++
		}
		if len(seen) > 1 {
			var parts []string
			for s, n := range seen {
				parts = append(parts, fmt.Sprintf("%s %d", s, n))
			}
			sort.Strings(parts)
			flaky = append(flaky, key+": "+strings.Join(parts, ", "))
		}
	}
	sort.Strings(flaky)
	return flaky, len(verdicts)
}
