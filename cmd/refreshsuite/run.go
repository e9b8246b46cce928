package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/reports"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/suite"
)

// Paths of a checkout, relative to the module root.
const (
	// defaultClients are the shipped clients: every fixtures/<name>/client.yaml
	// (mutants live one level deeper and run only when named).
	defaultClients   = "fixtures/*/client.yaml"
	defaultScenarios = "scenarios"
	// defaultOut holds each command's own report folder (run, merged,
	// mutants, flake, certify): a run replaces its folder whole, so no
	// other command's may be inside it.
	defaultOut = "reports/out"
	modulePath = "github.com/refreshsuite/refreshsuite"
)

// moduleRoot finds the checkout around the working folder, where the
// shipped clients' apps are built (certify's reference SPA, the mutants).
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
	return runSuite(args, stdout, stderr, nil)
}

// targetRun is what `refreshsuite certify` asks of a run: the suite against
// an external IdP target, its reports named by the bundle's path, and the
// summary handed back instead of printed.
type targetRun struct {
	// target is the JSON description of the IdP (target.External).
	target string
	// publishAs is the path the reports name their traces by.
	publishAs string
	// summary is the run's, once it is judged.
	summary *summary
}

// runSuite is the run command, for itself (tr nil) or for certify.
func runSuite(args []string, stdout, stderr io.Writer, tr *targetRun) error {
	args, passthrough := splitPassthrough(args)
	h, err := findHome()
	if err != nil {
		return err
	}
	fs := newFlags("run", stderr)
	var clients listFlag
	fs.Var(&clients, "client", "a client manifest (repeatable; default: every shipped client, "+defaultClients+")")
	scen := fs.String("scenarios", h.scenarios(), "scenario file or directory")
	out := fs.String("out", h.out("run"), "report folder: a new or empty one, or one an earlier run wrote, which this run replaces whole")
	procs := fs.Int("procs", defaultProcs(), "parallel ginkgo processes")
	focus := fs.String("focus", "", "run only specs whose text matches this regular expression")
	labels := fs.String("label-filter", "", "ginkgo label filter: requirement IDs label each spec, scenario labels, client:<name> and clock:<mode> each container, e.g. 'TF-1 || TO-1', 'network && client: {oidc-client-ts}'")
	deviations := fs.String("deviations", "skip", "report reproduced known deviations as skip or fail")
	clock := fs.String("clock", "", "virtual or real for every scenario (default: each scenario's own, virtual unless it says real)")
	trace := fs.String("trace", "on-failure", "save each scenario's timeline and screenshot under <out>/traces: on-failure or always")
	shard := fs.String("shard", "", "i/n: run the i-th of n parts of the containers (merge the parts with 'refreshsuite report merge')")
	browserURL := fs.String("browser-url", "", "use the running Chrome at this DevTools URL (ws://...) instead of launching Chromium")
	remoteCookies := fs.String("browser-third-party-cookies", "allowed", "with -browser-url: that browser's third-party-cookie setting (allowed or blocked); scenarios that need the other are skipped")
	startTimeout := fs.Duration("browser-start-timeout", browser.DefaultStartTimeout, "how long Chromium may take to start, or the browser at -browser-url to answer")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: refreshsuite run [flags] [-- ginkgo flags]\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nFlags after -- go to the ginkgo CLI as they are (--flake-attempts=2, -v, --github-output...); ginkgo's output then shows\nwhen one of them asks for it (-v, -vv, --succinct, --github-output, --show-node-events), else it goes to <out>/ginkgo.log.\n")
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("run takes no arguments, got %q (flags for ginkgo go after --)", fs.Args())
	}
	if err := checkPassthrough(passthrough); err != nil {
		return err
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
	// ginkgo would panic on these in every suite process, after the build.
	if _, err := regexp.Compile(*focus); err != nil {
		return usagef("-focus: %v", err)
	}
	if *labels != "" {
		if _, err := types.ParseLabelFilter(*labels); err != nil {
			return usagef("-label-filter: %s", oneLine(ansi.ReplaceAllString(err.Error(), "")))
		}
	}
	part, parts, err := suite.ParseShard(*shard)
	if err != nil {
		return usagef("-shard: %v", err)
	}
	if *remoteCookies != "allowed" && *remoteCookies != "blocked" {
		return usagef("-browser-third-party-cookies: want allowed or blocked, got %q", *remoteCookies)
	}
	if *startTimeout <= 0 {
		return usagef("-browser-start-timeout: want a positive duration, got %s", *startTimeout)
	}
	if len(clients) == 0 {
		if clients, err = h.clients(); err != nil {
			return err
		}
	}
	for i := range clients {
		clients[i] = abs(clients[i])
		if err := h.needsCheckout(clients[i]); err != nil {
			return err
		}
	}
	ms, all, err := suite.Load(clients, *scen)
	if err != nil {
		return usageError{err}
	}
	if err := suite.CheckLabels(all); err != nil {
		return usageError{err}
	}
	var names []string
	for _, m := range ms {
		if err := appBuilt(m); err != nil {
			return err
		}
		names = append(names, m.Library.Name+" "+m.Library.Version)
	}
	sel, err := selectContainers(ms, all, part, parts, *clock)
	if err != nil {
		return err
	}
	var chromium string
	if *browserURL == "" {
		if chromium, err = browser.Find(); err != nil {
			return usageError{err}
		}
	}
	self, err := os.Executable()
	if err != nil {
		return usagef("find this program's own file, which runs the suite: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		return usageError{err}
	}
	dest, err := newReportDir(abs(*out))
	if err != nil {
		return err
	}
	r, err := startRun(dest)
	if err != nil {
		dest.discard()
		return err
	}
	defer r.close()

	fmt.Fprintf(stdout, "refreshsuite: %d scenario containers against %s, %d processes\n", len(sel.containers), strings.Join(names, " and "), *procs)
	// The browser is tried before the suite starts: a Chromium that does not
	// start, or a -browser-url nobody answers, is a configuration error found
	// before any spec runs, not a row of failed specs.
	r.background(func() error {
		if err := checkBrowser(chromium, *browserURL, browser.CookiePolicy(*remoteCookies), *startTimeout, r.tmp); err != nil {
			return usageError{err}
		}
		return nil
	})
	for _, m := range ms {
		r.background(func() error { return appAnswers(r.ctx, m, *startTimeout) })
	}
	bin, err := suiteLink(self, r.tmp)
	if err := r.wait(err); err != nil {
		return err
	}
	// ginkgo.log is a file: colour only where ginkgo's output is shown, on
	// a terminal.
	colour := showsGinkgo(passthrough) && wantColour(stdout)
	gargs := []string{"run", fmt.Sprintf("--procs=%d", *procs), "--silence-skips"}
	if !colour {
		gargs = append(gargs, "--no-color")
	}
	if *focus != "" {
		gargs = append(gargs, "--focus="+*focus)
	}
	if *labels != "" {
		gargs = append(gargs, "--label-filter="+*labels)
	}
	gargs = append(gargs, passthrough...)
	// ginkgo's own output, when shown, is the progress; lines of ours would
	// break into its rows of dots.
	pr := &progressPrinter{}
	if !showsGinkgo(passthrough) {
		pr = startProgress(r.tmp, stdout, sel, time.Now())
	}
	publishAs, targetFile := dest.final, ""
	if tr != nil {
		publishAs, targetFile = tr.publishAs, tr.target
	}
	gargs = append(gargs, bin, "--",
		"-refreshsuite.clients="+strings.Join(clients, ","), "-refreshsuite.scenarios="+abs(*scen),
		"-refreshsuite.out="+dest.staging, "-refreshsuite.publish-as="+publishAs, "-refreshsuite.target="+targetFile,
		"-refreshsuite.deviations="+*deviations, "-refreshsuite.trace="+*trace, "-refreshsuite.clock="+*clock,
		"-refreshsuite.shard="+*shard, "-refreshsuite.browser-url="+*browserURL, "-refreshsuite.browser-third-party-cookies="+*remoteCookies,
		"-refreshsuite.workdir="+wd, "-refreshsuite.file-root="+h.root, "-refreshsuite.progress="+pr.socket())
	cmd := child(r.ctx, wd, r.tmp, self, gargs...)
	cmd.Env = append(cmd.Env, roleEnv+"=ginkgo")
	if !colour {
		cmd.Env = append(cmd.Env, "GINKGO_NO_COLOR=TRUE")
	}
	log, err := newGinkgoLog(dest.staging, stdout, showsGinkgo(passthrough))
	if err != nil {
		pr.stop()
		return err
	}
	cmd.Stdout, cmd.Stderr = log, log
	start := time.Now()
	ran := cmd.Run()
	pr.stop()
	log.close()
	if err := r.wait(nil); err != nil {
		return err
	}
	sum, err := readReports(dest.staging)
	if err := judge(ran, sum, err); err != nil {
		log.tail(stderr)
		return err
	}
	// A certification whose specs were all skipped still writes its bundle,
	// which says why; certify then fails the run itself.
	if tr == nil {
		if err := nothingRan(sum, sel, *focus, *labels, *clock, *shard); err != nil {
			return err
		}
	}
	if err := r.publish(stderr); err != nil {
		return err
	}
	if tr != nil {
		tr.summary = sum
		return nil
	}
	junit := filepath.Join(dest.final, "junit.xml")
	sum.print(stdout, time.Since(start), junit)
	if sum.failed > 0 {
		return errFailed
	}
	return nil
}

// oneLine joins an error that spans lines (ginkgo's label-filter errors draw
// the position under the input) into one.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// ansi matches the colour codes ginkgo puts in its error texts.
var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// checkBrowser starts Chromium, or connects to the browser at url, and closes
// it again.
func checkBrowser(bin, url string, policy browser.CookiePolicy, timeout time.Duration, tmp string) error {
	var b *browser.Browser
	var err error
	if url != "" {
		if b, err = browser.ConnectWith(url, browser.Options{Policy: policy, StartTimeout: timeout}); err != nil {
			return fmt.Errorf("-browser-url: %w", err)
		}
	} else if b, err = browser.LaunchWith(bin, browser.Options{Policy: browser.ThirdPartyAllowed, StartTimeout: timeout, TempDir: tmp}); err != nil {
		return err
	}
	b.Close()
	return nil
}

// selection is what the run's own filters leave, before ginkgo's: the
// containers of the shard, and those of them that -clock virtual skips.
type selection struct {
	containers   []suite.Container
	clockSkipped map[string]bool
}

// selectContainers finds the containers the run will declare; a shard or a
// clock that leaves nothing to run is a configuration error, found here
// before anything is built.
func selectContainers(ms []*fixtures.Manifest, all []*scenarios.Scenario, part, parts int, clock string) (*selection, error) {
	sel := &selection{clockSkipped: map[string]bool{}}
	every := suite.Containers(ms, all)
	for i, c := range every {
		if i%parts == part-1 {
			sel.containers = append(sel.containers, c)
			if clock == "virtual" && c.Scenario.Clock == "real" {
				sel.clockSkipped[c.Name()] = true
			}
		}
	}
	if len(sel.containers) == 0 {
		return nil, usagef("-shard %d/%d selects no container: the run has %d (%d clients by %d scenarios and variants), so use at most %d parts", part, parts, len(every), len(ms), len(all), len(every))
	}
	if len(sel.clockSkipped) == len(sel.containers) {
		return nil, usagef("-clock virtual: every container of the run (%d) needs the real clock (a frozen page holds the virtual clock still), so no spec would run; use -clock real, or leave -clock out", len(sel.containers))
	}
	return sel, nil
}

// judge says whether ginkgo's exit status and the report agree. A report that
// is missing, or that contradicts ginkgo, is no verdict.
func judge(ran error, sum *summary, readErr error) error {
	code := 0
	if ran != nil {
		var ee *exec.ExitError
		if !errors.As(ran, &ee) {
			return usagef("start the ginkgo CLI: %v", ran)
		}
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return usagef("ginkgo was killed (%s) before the run ended: no verdict", ws.Signal())
		}
		code = ee.ExitCode()
	}
	switch {
	case readErr != nil:
		return usagef("ginkgo exited with status %d and the suite wrote no complete report (%v): no verdict; ginkgo's output above says why", code, readErr)
	case code != 0 && sum.ginkgoFailed == 0:
		return usagef("ginkgo exited with status %d, but the report says no spec failed: no verdict; ginkgo's output above says why", code)
	case code == 0 && sum.ginkgoFailed > 0:
		return usagef("ginkgo exited with status 0, but the report lists %d failed specs: no verdict", sum.ginkgoFailed)
	}
	return nil
}

// nothingRan makes a run that executed no spec a configuration error naming
// what filtered the specs out. A spec skipped for a capability its client (or
// the browser) lacks is a verdict about the client; but a run made only of
// such specs has checked nothing, and says so as well.
func nothingRan(sum *summary, sel *selection, focus, labels, clock, shard string) error {
	if sum.passed+sum.failed+sum.deviations > 0 {
		return nil
	}
	var why []string
	if sum.filtered > 0 {
		var filters []string
		if focus != "" {
			filters = append(filters, fmt.Sprintf("-focus %q", focus))
		}
		if labels != "" {
			filters = append(filters, fmt.Sprintf("-label-filter %q", labels))
		}
		why = append(why, fmt.Sprintf("%s left out %d of the %d specs", strings.Join(filters, " and "), sum.filtered, sum.tests))
	}
	clocked, lacking := 0, 0
	for name, n := range sum.skippedIn {
		if sel.clockSkipped[name] {
			clocked += n
		} else {
			lacking += n
		}
	}
	if clocked > 0 {
		why = append(why, fmt.Sprintf("-clock %s skipped %d (their scenarios need the real clock)", clock, clocked))
	}
	if lacking > 0 {
		why = append(why, fmt.Sprintf("%d were skipped for what the client or the browser lacks (%s)", lacking, sum.firstSkip))
	}
	if shard != "" {
		why = append(why, "in shard "+shard)
	}
	return usagef("no spec ran: %s", strings.Join(why, "; "))
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

// appAnswers checks that an app its user serves (app.url) answers HTTP within
// limit: a dev server that is not up is a configuration error, not a row of
// specs that each wait out a login.
func appAnswers(ctx context.Context, m *fixtures.Manifest, limit time.Duration) error {
	if m.App.URL == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.App.URL, nil)
	if err != nil {
		return usagef("%s: app.url: %v", m.File, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return usagef("%s: app.url: %s did not answer within %s; start the app, or check the URL", m.File, m.App.URL, limit)
		}
		return usagef("%s: app.url: %s does not answer (%v); start the app, or check the URL", m.File, m.App.URL, errors.Unwrap(err))
	}
	resp.Body.Close()
	return nil
}

// appBuilt checks that the client app exists before Chromium starts, so a
// forgotten build is a configuration error, not a row of failed specs.
func appBuilt(m *fixtures.Manifest) error {
	if m.App.URL != "" {
		return nil // served by its user
	}
	dir := m.Path(m.App.Dir)
	if _, err := os.Stat(filepath.Join(dir, m.App.Start)); err != nil {
		return usageError{m.KeyError("app.dir", "%s has no %s; build the client first (cd %s && %s)", dir, m.App.Start, filepath.Dir(m.File), m.App.Build)}
	}
	return nil
}

type summary struct {
	tests, passed, failed, skipped, deviations int
	// filtered are the specs ginkgo's own filters (-focus, -label-filter) left
	// out: ginkgo reports them skipped with no reason, since none ever started.
	filtered int
	// ginkgoFailed is what ginkgo itself counted as failed: failures and
	// errors, without the known deviations that -deviations fail reports as
	// failures (ginkgo skipped those).
	ginkgoFailed int
	// skippedIn counts the specs skipped with a reason, per container, and
	// firstSkip is the first such reason.
	skippedIn  map[string]int
	firstSkip  string
	failures   []string
	known      []string
	byScenario map[string][4]int // passed, failed, deviation, skipped
	order      []string
}

// readReports reads a run's report folder: all three files must be there,
// and the summary comes from the JUnit file, exactly what CI sees.
func readReports(dir string) (*summary, error) {
	for _, f := range []string{"results.json", "report.html"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return nil, fmt.Errorf("no %s", f)
		}
	}
	return summarize(filepath.Join(dir, "junit.xml"))
}

// summarize reads the JUnit file back: the summary shows exactly what CI sees.
func summarize(path string) (*summary, error) {
	jf, err := reports.ReadJUnit(path)
	if err != nil {
		return nil, err
	}
	s := &summary{byScenario: map[string][4]int{}, skippedIn: map[string]int{}}
	for _, su := range jf.Suites {
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
				s.ginkgoFailed++
				row[1]++
				msg := ""
				if c.Failure != nil {
					msg = c.Failure.Message
				} else {
					msg = c.Error.Message
				}
				s.failures = append(s.failures, fmt.Sprintf("%s / %s\n      %s", su.Name, c.Name, msg))
			case c.Skipped != nil && c.Skipped.Message == "":
				s.filtered++
				continue
			case c.Skipped != nil:
				s.skipped++
				s.skippedIn[su.Name]++
				if s.firstSkip == "" {
					s.firstSkip, _, _ = strings.Cut(c.Skipped.Message, "\n")
				}
				row[3]++
			default:
				s.passed++
				row[0]++
			}
			if _, ok := s.byScenario[su.Name]; !ok {
				s.order = append(s.order, su.Name)
			}
			s.byScenario[su.Name] = row
		}
	}
	sort.Strings(s.order)
	return s, nil
}

func (s *summary) print(w io.Writer, took time.Duration, junit string) {
	// The first column is as wide as the longest name, so that the counts
	// line up whatever the clients and variants are called.
	width := len("scenario")
	for _, name := range s.order {
		width = max(width, len(name))
	}
	fmt.Fprintf(w, "\n%-*s  %6s %6s %9s %7s\n", width, "scenario", "passed", "failed", "deviation", "skipped")
	for _, name := range s.order {
		r := s.byScenario[name]
		fmt.Fprintf(w, "%-*s  %6d %6d %9d %7d\n", width, name, r[0], r[1], r[2], r[3])
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
	fmt.Fprintf(w, "\n%s: %d specs, %d passed, %d failed, %d known deviations, %d skipped", verdict, s.tests-s.filtered, s.passed, s.failed, s.deviations, s.skipped)
	if s.filtered > 0 {
		fmt.Fprintf(w, " (%d more not selected)", s.filtered)
	}
	if took > 0 {
		fmt.Fprintf(w, " in %s", took.Round(100*time.Millisecond))
	}
	dir := filepath.Dir(junit)
	fmt.Fprintf(w, "\nJUnit report: %s\nresults:      %s\nHTML report:  %s\n", junit, filepath.Join(dir, "results.json"), filepath.Join(dir, "report.html"))
}
