// Command refreshbench measures the suite: wall time and peak memory of the full
// default scenario set on the virtual and the real clock, the spread of every
// firing point over repeated virtual runs, and the speed-up. It prints figures
// and never fails on them (make bench). Arguments after the flags go to every
// `refreshsuite run`, e.g. -- -client fixtures/angular-oauth2-oidc/client.yaml
// to measure the default client alone.
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/reports"
)

func main() {
	reps := flag.Int("reps", 5, "virtual-clock repetitions (for the spread of firing points)")
	realReps := flag.Int("real-reps", 1, "real-clock repetitions")
	bin := flag.String("bin", "bin/refreshsuite", "the refreshsuite binary")
	out := flag.String("out", "reports/out/bench", "where the runs write their reports")
	flag.Parse()
	if *reps < 1 || *realReps < 0 {
		fmt.Fprintln(os.Stderr, "refreshbench: -reps must be at least 1 and -real-reps at least 0")
		os.Exit(2)
	}

	type run struct {
		wall     time.Duration
		rss, pss int64
		j        *reports.JUnit
	}
	do := func(mode string, i int) run {
		dir := filepath.Join(*out, fmt.Sprintf("%s-%d", mode, i))
		// The scenarios that only run on the real clock (a frozen page, two tabs,
		// latency) are left out of both modes, so the two figures compare one set.
		cmd := exec.Command(*bin, append([]string{"run", "-clock", mode, "-label-filter", "!real-clock", "-out", dir}, flag.Args()...)...)
		start := time.Now()
		var peak, peakPSS int64
		if err := cmd.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "refreshbench:", err)
			os.Exit(2)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		tick := time.NewTicker(100 * time.Millisecond)
	loop:
		for n := 0; ; n++ {
			select {
			case <-done:
				break loop
			case <-tick.C:
				pids := tree(cmd.Process.Pid)
				peak = max(peak, sumRSS(pids))
				// PSS shares each shared page out among the processes mapping
				// it, so it is what the tree really occupies; reading it walks
				// every page table, so once a second.
				if n%10 == 0 {
					peakPSS = max(peakPSS, sumPSS(pids))
				}
			}
		}
		tick.Stop()
		r := run{wall: time.Since(start), rss: peak, pss: peakPSS}
		j, err := reports.ReadJUnit(filepath.Join(dir, "junit.xml"))
		if err != nil {
			fmt.Fprintf(os.Stderr, "refreshbench: %s run %d wrote no report: %v\n", mode, i, err)
			os.Exit(1)
		}
		r.j = j
		fmt.Printf("  %s run %d: %s wall, peak %d MiB RSS, %d MiB PSS, %d tests, %d failures\n", mode, i, r.wall.Round(100*time.Millisecond), r.rss>>20, r.pss>>20, j.Tests, j.Failures)
		return r
	}

	fmt.Printf("refreshbench: %d virtual and %d real runs of the default scenario set, without the real-clock-only scenarios\n", *reps, *realReps)
	var virtual, real []run
	for i := 1; i <= *reps; i++ {
		virtual = append(virtual, do("virtual", i))
	}
	for i := 1; i <= *realReps; i++ {
		real = append(real, do("real", i))
	}

	summary := func(mode string, rs []run) time.Duration {
		var walls []time.Duration
		var peak, peakPSS int64
		for _, r := range rs {
			walls = append(walls, r.wall)
			peak, peakPSS = max(peak, r.rss), max(peakPSS, r.pss)
		}
		sort.Slice(walls, func(i, j int) bool { return walls[i] < walls[j] })
		med := walls[len(walls)/2]
		fmt.Printf("%-8s wall min %s, median %s, max %s; peak memory of the suite and Chromium processes: %d MiB RSS summed (shared pages counted in every process), %d MiB PSS\n",
			mode, walls[0].Round(100*time.Millisecond), med.Round(100*time.Millisecond), walls[len(walls)-1].Round(100*time.Millisecond), peak>>20, peakPSS>>20)
		return med
	}
	fmt.Println()
	vmed := summary("virtual", virtual)
	if len(real) > 0 {
		rmed := summary("real", real)
		fmt.Printf("speed-up real/virtual (medians): %.1fx\n", float64(rmed)/float64(vmed))
	}

	// The containers that wait out a library's default silent-refresh timeout
	// (20 s of page time for angular-oauth2-oidc, 10 s for oidc-client-ts), the
	// longest page time there is; a client without the capability skips them.
	fmt.Println("\ndefault-timeout containers (the library's default silent-refresh timeout), wall over the virtual runs:")
	walls := map[string][]float64{}
	for _, r := range virtual {
		for _, s := range r.j.Suites {
			if strings.HasSuffix(s.Name, "default-timeout]") && s.Skipped < s.Tests {
				walls[s.Name] = append(walls[s.Name], s.Time)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(walls)) {
		ws := walls[name]
		sort.Float64s(ws)
		fmt.Printf("  %-95s min %.2fs  median %.2fs  max %.2fs\n", name, ws[0], ws[len(ws)/2], ws[len(ws)-1])
	}

	// Spread of each firing point (measured_ms of every timing spec and cycle)
	// across the virtual runs.
	points := map[string][]float64{}
	for _, r := range virtual {
		for _, s := range r.j.Suites {
			for _, c := range s.Cases {
				for _, p := range c.Properties {
					if strings.HasSuffix(p.Name, ".measured_ms") {
						v, _ := strconv.ParseFloat(p.Value, 64)
						key := s.Name + " / " + strings.SplitN(c.Name, ":", 2)[0] + " / " + strings.TrimSuffix(p.Name, ".measured_ms")
						points[key] = append(points[key], v)
					}
				}
			}
		}
	}
	keys := slices.Sorted(maps.Keys(points))
	worst, within := 0.0, 0
	for _, k := range keys {
		spread := slices.Max(points[k]) - slices.Min(points[k])
		worst = max(worst, spread)
		if spread <= 10 {
			within++
		}
	}
	fmt.Printf("\nfiring points over %d virtual runs: %d points, %d identical within 10 ms, worst spread %.0f ms\n", len(virtual), len(keys), within, worst)
	for _, k := range keys {
		lo, hi := slices.Min(points[k]), slices.Max(points[k])
		fmt.Printf("  %-95s min %7.0f  max %7.0f  spread %4.0f ms\n", k, lo, hi, hi-lo)
	}
}

// tree is pid and all its descendants, with the resident memory of each.
func tree(root int) map[int]int64 {
	children := map[int][]int{}
	rss := map[int]int64{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses and may hold spaces.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(fields) < 22 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		pages, _ := strconv.ParseInt(fields[21], 10, 64)
		children[ppid] = append(children[ppid], pid)
		rss[pid] = pages * int64(os.Getpagesize())
	}
	out := map[int]int64{}
	stack := []int{root}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		out[p] = rss[p]
		stack = append(stack, children[p]...)
	}
	return out
}

func sumRSS(pids map[int]int64) int64 {
	var total int64
	for _, rss := range pids {
		total += rss
	}
	return total
}

// sumPSS adds up the proportional set size of the processes.
func sumPSS(pids map[int]int64) int64 {
	var total int64
	for pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
		if err != nil {
			continue // gone since
		}
		for _, line := range strings.Split(string(b), "\n") {
			if kb, ok := strings.CutPrefix(line, "Pss:"); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(kb), "kB")), 10, 64)
				total += n << 10
				break
			}
		}
	}
	return total
}
