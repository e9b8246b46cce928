package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/reports"
	"github.com/refreshsuite/refreshsuite/suite"
)

// Paths of a checkout, relative to the module root.
const (
	// defaultClients are the shipped clients: every fixtures/<name>/client.yaml
	// (mutants live one level deeper and run only when named).
	defaultClients   = "fixtures/*/client.yaml"
	defaultScenarios = "scenarios"
	defaultOut       = "reports/out"
	modulePath       = "github.com/refreshsuite/refreshsuite"
)

// moduleRoot finds the checkout the command runs in: the suite is compiled by
// the ginkgo CLI from source, so run needs the source tree.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module "+modulePath+"\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", usagef("run this inside a refreshsuite checkout (no go.mod for %s above the current directory)", modulePath)
		}
		dir = parent
	}
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	fs := newFlags("run", stderr)
	var clients listFlag
	fs.Var(&clients, "client", "a client manifest (repeatable; default: every shipped client, "+defaultClients+")")
	scen := fs.String("scenarios", filepath.Join(root, defaultScenarios), "scenario file or directory")
	out := fs.String("out", filepath.Join(root, defaultOut), "report directory")
	procs := fs.Int("procs", defaultProcs(), "parallel ginkgo processes")
	focus := fs.String("focus", "", "run only specs whose text matches this regular expression")
	labels := fs.String("label-filter", "", "ginkgo label filter over requirement IDs, e.g. 'TF-1 || TO-1'")
	deviations := fs.String("deviations", "skip", "report reproduced known deviations as skip or fail")
	clock := fs.String("clock", "", "virtual or real for every scenario (default: each scenario's own, virtual unless it says real)")
	trace := fs.String("trace", "on-failure", "save each scenario's timeline and screenshot under <out>/traces: on-failure or always")
	shard := fs.String("shard", "", "i/n: run the i-th of n parts of the containers (merge the parts with 'refreshsuite report merge')")
	browserURL := fs.String("browser-url", "", "use the running Chrome at this DevTools URL (ws://...) instead of launching Chromium")
	remoteCookies := fs.String("browser-third-party-cookies", "allowed", "with -browser-url: that browser's third-party-cookie setting (allowed or blocked); scenarios that need the other are skipped")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run takes no arguments, got %q", fs.Args())
	}
	if *deviations != "skip" && *deviations != "fail" {
		return usagef("-deviations: want skip or fail, got %q", *deviations)
	}
	if *clock != "" && *clock != "virtual" && *clock != "real" {
		return usagef("-clock: want virtual or real, got %q", *clock)
	}
	if *trace != "on-failure" && *trace != "always" {
		return usagef("-trace: want on-failure or always, got %q", *trace)
	}
	if *procs < 1 {
		return usagef("-procs: want at least 1, got %d", *procs)
	}
	if _, _, err := suite.ParseShard(*shard); err != nil {
		return usagef("-shard: %v", err)
	}
	if *remoteCookies != "allowed" && *remoteCookies != "blocked" {
		return usagef("-browser-third-party-cookies: want allowed or blocked, got %q", *remoteCookies)
	}
	if len(clients) == 0 {
		if clients, err = shippedClients(root); err != nil {
			return err
		}
	}
	for i := range clients {
		clients[i] = abs(clients[i])
	}
	ms, all, err := suite.Load(clients, *scen)
	if err != nil {
		return usageError{err}
	}
	var names []string
	for _, m := range ms {
		if err := appBuilt(m); err != nil {
			return err
		}
		names = append(names, m.Library.Name+" "+m.Library.Version)
	}
	if *browserURL == "" {
		if _, err := browser.Find(); err != nil {
			return usageError{err}
		}
	}
	junit := filepath.Join(abs(*out), "junit.xml")
	_ = os.Remove(junit)
	if err := os.RemoveAll(filepath.Join(abs(*out), "traces")); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "refreshsuite: %d scenario containers against %s, %d processes\n", len(all)*len(ms), strings.Join(names, " and "), *procs)
	tmp, err := os.MkdirTemp("", "refreshsuite-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := compileSuite(root, tmp, stderr)
	if err != nil {
		return err
	}
	gargs := []string{"tool", "ginkgo", "run", fmt.Sprintf("--procs=%d", *procs), "--silence-skips"}
	if *focus != "" {
		gargs = append(gargs, "--focus="+*focus)
	}
	if *labels != "" {
		gargs = append(gargs, "--label-filter="+*labels)
	}
	gargs = append(gargs, bin, "--",
		"-refreshsuite.clients="+strings.Join(clients, ","), "-refreshsuite.scenarios="+abs(*scen),
		"-refreshsuite.out="+abs(*out), "-refreshsuite.deviations="+*deviations, "-refreshsuite.trace="+*trace, "-refreshsuite.clock="+*clock,
		"-refreshsuite.shard="+*shard, "-refreshsuite.browser-url="+*browserURL, "-refreshsuite.browser-third-party-cookies="+*remoteCookies)
	cmd := exec.Command("go", gargs...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = stdout, stderr
	start := time.Now()
	if err := runForwardingSignals(cmd); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return fmt.Errorf("start the ginkgo CLI: %w", err)
		}
	}
	sum, err := summarize(junit)
	if err != nil {
		return fmt.Errorf("no report: %w (the run stopped before the suite wrote it)", err)
	}
	sum.print(stdout, time.Since(start), junit)
	if sum.failed > 0 {
		return errFailed
	}
	return nil
}

func shippedClients(root string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(root, defaultClients))
	if err != nil || len(files) == 0 {
		return nil, usagef("no client manifests match %s", defaultClients)
	}
	return files, nil
}

func defaultProcs() int {
	n := runtime.NumCPU()
	if n > 4 {
		n--
	}
	return max(n, 2)
}

// appBuilt checks that the client app exists before Chromium starts, so a
// forgotten build is a configuration error, not a row of failed specs.
func appBuilt(m *fixtures.Manifest) error {
	if m.App.URL != "" {
		return nil // served by its user
	}
	dir := m.Path(m.App.Dir)
	if _, err := os.Stat(filepath.Join(dir, m.App.Start)); err != nil {
		return usagef("%s: app.dir: %s has no %s; build the client first (cd %s && %s)", m.File, dir, m.App.Start, filepath.Dir(m.File), m.App.Build)
	}
	return nil
}

// runForwardingSignals runs cmd and passes SIGINT/SIGTERM on to it, so ginkgo can
// run its cleanup (closing browsers) before everything stops.
func runForwardingSignals(cmd *exec.Cmd) error {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case s := <-sig:
			_ = cmd.Process.Signal(s)
		case err := <-done:
			return err
		}
	}
}

type summary struct {
	tests, passed, failed, skipped, deviations int
	failures                                   []string
	known                                      []string
	byScenario                                 map[string][4]int // passed, failed, deviation, skipped
	order                                      []string
}

// summarize reads the JUnit file back: the summary shows exactly what CI sees.
func summarize(path string) (*summary, error) {
	jf, err := reports.ReadJUnit(path)
	if err != nil {
		return nil, err
	}
	s := &summary{byScenario: map[string][4]int{}}
	for _, su := range jf.Suites {
		if _, ok := s.byScenario[su.Name]; !ok {
			s.order = append(s.order, su.Name)
		}
		row := s.byScenario[su.Name]
		for _, c := range su.Cases {
			s.tests++
			deviation := c.Property("known-deviation")
			switch {
			case c.Failure != nil && c.Failure.Type == "known-deviation", c.Skipped != nil && deviation != "":
				s.deviations++
				row[2]++
				s.known = append(s.known, su.Name+" / "+c.Name)
				if c.Failure != nil { // -deviations fail: they count against the run
					s.failed++
				}
			case c.Failure != nil || c.Error != nil:
				s.failed++
				row[1]++
				msg := ""
				if c.Failure != nil {
					msg = c.Failure.Message
				} else {
					msg = c.Error.Message
				}
				s.failures = append(s.failures, fmt.Sprintf("%s / %s\n      %s", su.Name, c.Name, msg))
			case c.Skipped != nil:
				s.skipped++
				row[3]++
			default:
				s.passed++
				row[0]++
			}
		}
		s.byScenario[su.Name] = row
	}
	sort.Strings(s.order)
	return s, nil
}

func (s *summary) print(w io.Writer, took time.Duration, junit string) {
	fmt.Fprintf(w, "\n%-60s %6s %6s %9s %7s\n", "scenario", "passed", "failed", "deviation", "skipped")
	for _, name := range s.order {
		r := s.byScenario[name]
		fmt.Fprintf(w, "%-60s %6d %6d %9d %7d\n", name, r[0], r[1], r[2], r[3])
	}
	if len(s.known) > 0 {
		fmt.Fprintln(w, "\nknown deviations (expected failures, see the client's deviations file):")
		for _, k := range s.known {
			fmt.Fprintln(w, "  - "+k)
		}
	}
	if len(s.failures) > 0 {
		fmt.Fprintln(w, "\nFAILED:")
		for _, f := range s.failures {
			fmt.Fprintln(w, "  - "+f)
		}
	}
	verdict := "PASS"
	if s.failed > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\n%s: %d specs, %d passed, %d failed, %d known deviations, %d skipped", verdict, s.tests, s.passed, s.failed, s.deviations, s.skipped)
	if took > 0 {
		fmt.Fprintf(w, " in %s", took.Round(100*time.Millisecond))
	}
	dir := filepath.Dir(junit)
	fmt.Fprintf(w, "\nJUnit report: %s\nresults:      %s\nHTML report:  %s\n", junit, filepath.Join(dir, "results.json"), filepath.Join(dir, "report.html"))
}
