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
	flaky, declared, specs := flakySpecs(all)
	for _, f := range flaky {
		fmt.Fprintf(stdout, "  FLAKY %s\n", f)
	}
	for _, f := range declared {
		fmt.Fprintf(stdout, "  intermittent, as its deviation says: %s\n", f)
	}
	busy := "busy processes"
	if *load == 1 {
		busy = "busy process"
	}
	fmt.Fprintf(stdout, "%d flaky results: %d of %d specs changed verdict over %d runs with %d %s alongside",
		len(flaky), len(flaky), specs, *runs, *load, busy)
	if len(declared) > 0 {
		fmt.Fprintf(stdout, " (and %d more passed or deviated as their intermittent known deviation, listed with its measured rate, says)", len(declared))
	}
	fmt.Fprintln(stdout)
	if len(flaky) > 0 {
		return errFailed
	}
	return nil
}

// flakySpecs lists the specs whose verdict differs between runs (or that are
// missing from some), each with its verdicts, and counts the specs seen.
// declared are those that only passed or deviated, each run under a known
// deviation listed as intermittent: the client's own race, measured and
// written down, which is no flake of the suite's. Any other mix (a skip, a
// failure, a run without the listing) is flaky.
func flakySpecs(runs []*reports.Results) (flaky, declared []string, specs int) {
	verdicts := map[string][]string{}
	intermittent := map[string]int{}
	for i, r := range runs {
		for _, c := range r.Containers {
			for _, s := range c.Specs {
				key := c.Name + " / " + s.Text
				for len(verdicts[key]) < i {
					verdicts[key] = append(verdicts[key], "missing")
				}
				verdicts[key] = append(verdicts[key], string(s.State))
				if s.Intermittent != "" && (s.State == reports.Passed || s.State == reports.KnownDeviation) {
					intermittent[key]++
				}
			}
		}
	}
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
			if intermittent[key] == len(runs) {
				declared = append(declared, key+": "+strings.Join(parts, ", "))
			} else {
				flaky = append(flaky, key+": "+strings.Join(parts, ", "))
			}
		}
	}
	sort.Strings(flaky)
	sort.Strings(declared)
	return flaky, declared, len(verdicts)
}
