package suite

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/internal/proc"
	"github.com/refreshsuite/refreshsuite/reports"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/target"
	"github.com/refreshsuite/refreshsuite/timeline"
	"github.com/refreshsuite/refreshsuite/tlsca"
)

// The suite's own flags; `refreshsuite run` passes them after --.
var (
	scenarioPath = flag.String("refreshsuite.scenarios", "../scenarios", "scenario file or directory")
	clientPaths  = flag.String("refreshsuite.clients", "../fixtures/angular-oauth2-oidc/client.yaml", "client manifests, comma-separated")
	outDir       = flag.String("refreshsuite.out", "../reports/out", "directory for junit.xml and traces")
	deviations   = flag.String("refreshsuite.deviations", "skip", "report reproduced known deviations as skip or fail")
	traces       = flag.String("refreshsuite.trace", "on-failure", "save each scenario's timeline and screenshot: on-failure or always")
	clockMode    = flag.String("refreshsuite.clock", "", "virtual or real for every scenario; empty: each scenario's own (default virtual)")
	shard        = flag.String("refreshsuite.shard", "", "i/n: run the i-th of n deterministic parts of the containers")
	browserURL   = flag.String("refreshsuite.browser-url", "", "a running Chrome's DevTools URL (ws://...) to use instead of launching Chromium")
	remoteCookie = flag.String("refreshsuite.browser-third-party-cookies", "allowed", "the third-party-cookie setting of the browser at -refreshsuite.browser-url")
	publishAs    = flag.String("refreshsuite.publish-as", "", "where -refreshsuite.out will be moved once the run is judged: the reports name their traces by that path")
	workDir      = flag.String("refreshsuite.workdir", "", "the folder the run was started in: the suite works there, and reports name files inside it relative to it")
	fileRoot     = flag.String("refreshsuite.file-root", "", "scenario files under this folder are named relative to it (scenarios/x.yaml) in specs' locations and reports")
	progressTo   = flag.String("refreshsuite.progress", "", "a unix socket to send one line to per finished scenario container")
	targetFile   = flag.String("refreshsuite.target", "", "a JSON description of an external IdP target (refreshsuite certify writes it); empty: the embedded IdP")
)

// ext is the external IdP target of the run, nil for the embedded IdP.
var ext *target.External

// halted is the first problem of the environment an external target's run
// met (a page the browser cannot load): the containers after it are not run,
// since their evidence would be the environment's, not the IdP's.
var halted string

var pool browser.Pool

// Conformance runs the suite: the test of this package, and the suite
// process of the refreshsuite command, which carries it compiled in.
func Conformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance run needs Chromium and the built fixtures; make unit runs this package's unit tests with -short")
	}
	RegisterFailHandler(Fail)
	// ginkgo starts this process and does not tie it to itself: a run killed
	// outright must not leave it (and its Chromium, its listeners) running.
	if err := proc.DieWithParent(); err != nil {
		t.Fatal(err)
	}
	if *deviations != "skip" && *deviations != "fail" {
		t.Fatalf("-refreshsuite.deviations: want skip or fail, got %q", *deviations)
	}
	if *clockMode != "" && *clockMode != "virtual" && *clockMode != "real" {
		t.Fatalf("-refreshsuite.clock: want virtual or real, got %q", *clockMode)
	}
	if *traces != "on-failure" && *traces != "always" {
		t.Fatalf("-refreshsuite.trace: want on-failure or always, got %q", *traces)
	}
	// ginkgo starts a suite process in the folder its binary is in; the
	// run's header and relative paths are the user's.
	if *workDir != "" {
		if err := os.Chdir(*workDir); err != nil {
			t.Fatal(err)
		}
	}
	clients, all, err := Load(strings.Split(*clientPaths, ","), *scenarioPath)
	if err != nil {
		t.Fatal(err)
	}
	if *browserURL != "" {
		pool.Remote, pool.RemotePolicy = *browserURL, browser.CookiePolicy(*remoteCookie)
	} else if pool.Bin, err = browser.Find(); err != nil {
		t.Fatal(err)
	}
	// The suite's Chromium trusts the suite's CA, and nothing else beyond the
	// system's roots: an IdP a manifest wants on https gets a leaf from it.
	ca, err := tlsca.Shared()
	if err != nil {
		t.Fatal(err)
	}
	pool.TrustSPKI = ca.SPKIHash()
	if *targetFile != "" {
		if ext, err = target.Load(*targetFile); err != nil {
			t.Fatal(err)
		}
		// The certify Chromium trusts the vendor's CA, if one is named, and
		// nothing else beyond the system's roots; it reaches only the hosts
		// the target allows.
		pool.TrustSPKI = ""
		if ext.CAFile != "" {
			if pool.TrustSPKI, err = target.SPKIHashes(ext.CAFile); err != nil {
				t.Fatal(err)
			}
		}
		pool.AllowHosts = ext.AllowHosts
	}
	part, parts, err := ParseShard(*shard)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range clients {
		names = append(names, m.Name)
	}
	progress := dialProgress(*progressTo)
	defer progress.close()
	for i, c := range Containers(clients, all) {
		if i%parts == part-1 {
			declare(c.Client, c.Scenario)
			progress.expect(c.Name(), len(c.Scenario.Expect))
			about[c.Name()] = reports.About{Title: c.Scenario.Title, Description: c.Scenario.Description}
		}
	}
	ReportAfterEach(progress.spec)
	RunSpecs(t, "refreshsuite conformance: "+strings.Join(names, ", "))
}

// about is what each declared container's scenario says of itself, for the
// reports.
var about = map[string]reports.About{}

var _ = AfterSuite(func() { pool.Close() })

var _ = ReportAfterSuite("refreshsuite reports", func(r Report) {
	if r.SuiteConfig.DryRun {
		// ginkgo reports every spec of a dry run as passed: no verdict to write.
		GinkgoWriter.Println("refreshsuite: a dry run; no reports written")
		return
	}
	res := reports.FromReport(r, reports.Options{DeviationsAsFailures: *deviations == "fail"})
	res.Describe(about)
	published := *outDir
	if *publishAs != "" {
		published = *publishAs
		movePaths(res, *outDir, published)
	}
	if err := res.WriteFilesAs(*outDir, published); err != nil {
		Fail("writing the reports: " + err.Error())
	}
})

// movePaths rewrites the trace paths the specs recorded under from (the
// folder the run writes in) to the path it will have once published.
func movePaths(res *reports.Results, from, to string) {
	fix := func(sp *reports.Spec) {
		sp.Trace = strings.ReplaceAll(sp.Trace, from, to)
		sp.Message = strings.ReplaceAll(sp.Message, from, to)
		sp.Failure = strings.ReplaceAll(sp.Failure, from, to)
		for i, a := range sp.Attachments {
			sp.Attachments[i] = strings.ReplaceAll(a, from, to)
		}
	}
	for i := range res.Containers {
		for j := range res.Containers[i].Specs {
			fix(&res.Containers[i].Specs[j])
		}
	}
	for i := range res.Errors {
		fix(&res.Errors[i])
	}
}

var unsafePath = regexp.MustCompile(`[^a-zA-Z0-9._-]+`)

// declare turns one scenario container into an Ordered ginkgo container: the
// steps run once in BeforeAll, and each expectation is a spec judged against
// the recorded timeline.
func declare(m *fixtures.Manifest, s *scenarios.Scenario) {
	// The container is labelled with what holds for all its specs; each
	// spec only with its own requirements, so that -label-filter 'TO-1'
	// selects exactly the specs that check TO-1.
	labels := ContainerLabels(m, s, ClockMode(*clockMode, m, s))
	Describe(m.Name+"/"+s.Name(), Ordered, ContinueOnFailure, Label(labels...), location(s.File, s.Line), func() {
		var run *Run
		// setupErr: the run could not start, or a step could not be
		// performed; harnessErr: the harness's own checks of the timeline
		// failed, so no verdict drawn from it can be trusted.
		var setupErr, harnessErr error
		// The timeline as the steps left it: the page and the IdP keep recording
		// until the container ends, and every spec must judge the same run.
		var final []timeline.Entry
		traceDir := filepath.Join(*outDir, "traces", m.Name, unsafePath.ReplaceAllString(s.Name(), "_"))

		BeforeAll(func(ctx SpecContext) {
			if why := SkipScenario(m, s); why != "" {
				Skip(why)
			}
			if s.Clock == "real" && *clockMode == "virtual" {
				Skip("the scenario needs the real clock (a frozen page holds the virtual clock still); this run forces the virtual one")
			}
			if m.Clock == "real" && *clockMode == "virtual" {
				Skip(fmt.Sprintf("client %s can only run on the real clock (its manifest says clock: real); this run forces the virtual one", m.Name))
			}
			if policy := CookiePolicy(s); !pool.Supports(policy) {
				Skip(fmt.Sprintf("needs third-party cookies %s; the browser at %s has them %s", policy, pool.Remote, pool.RemotePolicy))
			}
			if halted != "" {
				Skip("not run: an earlier scenario met a problem of the configuration or the environment, not of the IdP: " + halted)
			}
			plan, err := NewPlanFor(m, s, ext)
			if err != nil {
				setupErr = err
				return
			}
			if plan.Skip != "" {
				Skip(plan.Skip)
			}
			run, setupErr = Start(&pool, plan, ClockMode(*clockMode, m, s))
			if setupErr != nil {
				if ext != nil {
					halt(run, setupErr)
				}
				return
			}
			DeferCleanup(run.Close)
			if ext != nil && ext.Library != "" {
				if _, err := os.Stat(ext.Library); err != nil {
					b, _ := json.MarshalIndent(run.Config, "", "  ")
					_ = os.WriteFile(ext.Library, b, 0o600)
				}
			}
			setupErr = run.Steps(ctx)
			if ext != nil && setupErr != nil && halt(run, setupErr) {
				Skip("not judged: " + halted)
			}
			if run.IdP != nil {
				if err := checkClocks(run.Timeline, run.IdP.Endpoint, run.Clock.Mode() == "virtual", run.Clock.Lapses()); err != nil {
					harnessErr = fmt.Errorf("harness self-check: %w", err)
				}
			}
			final = run.Timeline.Entries()
			if err := timeline.Validate(final); err != nil && harnessErr == nil {
				harnessErr = fmt.Errorf("harness self-check: the timeline breaks its vocabulary: %w", err)
			}
			if setupErr != nil || harnessErr != nil || *traces == "always" {
				_, _ = run.SaveTrace(traceDir)
			}
		}, NodeTimeout(5*time.Minute))

		for _, x := range s.Expect {
			It(x.ID+": "+x.Title, Label(x.Requirements...), location(s.File, x.Line), func() {
				if why := SkipSpec(m, x); why != "" {
					Skip(why)
				}
				data := reports.SpecData{
					Scenario: s.Name(), Expectation: x.ID, Requirements: x.Requirements,
					Client: m.Name, Library: m.Library.Name + "@" + m.Library.Version, Clock: ClockMode(*clockMode, m, s),
				}
				if run == nil {
					// The run never started (its setup failed): nothing to judge.
					data.Trace, data.Message = traceDir, setupErr.Error()
					AddReportEntry(reports.EntryName, data, ReportEntryVisibilityNever)
					Fail(fmt.Sprintf("the scenario could not start: %v", setupErr))
				}
				if harnessErr != nil {
					data.Trace, data.Message, data.Timeline = traceDir, harnessErr.Error(), final
					AddReportEntry(reports.EntryName, data, ReportEntryVisibilityNever)
					Fail(fmt.Sprintf("%v\n\n%s", harnessErr, tail(run)))
				}
				res := scenarios.Judge(s, x, final, run.Client)
				profile := target.Strict
				if ext != nil {
					profile = ext.Profile
				}
				outcome, msg := decide(m, s, x, res, setupErr, profile)
				data.Measurements, data.Message, data.Timeline = res.Measurements, res.Message, final
				if dev, known := m.Deviation(s, x.ID); known {
					data.Intermittent = dev.Intermittent
				}
				switch outcome {
				case Failed:
					if setupErr != nil && !res.Final {
						data.Trace, data.Message = traceDir, setupErr.Error()
						AddReportEntry(reports.EntryName, data, ReportEntryVisibilityNever)
						Fail(msg + "\n\n" + tail(run))
					}
					data.Trace, _ = run.SaveTrace(traceDir)
					AddReportEntry(reports.EntryName, data, ReportEntryVisibilityNever)
					if _, known := m.Deviation(s, x.ID); known {
						Fail(msg) // a listed deviation that no longer reproduces
					}
					Fail(failure(res, data.Trace))
				case Deviated:
					dev, _ := m.Deviation(s, x.ID)
					data.Deviation, data.Reference = dev.Reason, dev.Reference
					if strings.HasPrefix(msg, LenientReport) {
						data.Deviation, data.Reference = LenientReport, "refreshsuite certify --profile lenient"
					}
					AddReportEntry(reports.EntryName, data, ReportEntryVisibilityNever)
					Skip(msg)
				case Skipped:
					AddReportEntry(reports.EntryName, data, ReportEntryVisibilityNever)
					Skip(msg)
				default:
					AddReportEntry(reports.EntryName, data, ReportEntryVisibilityNever)
				}
			})
		}
	})
}

// halt reports a run's problem that is the environment's (a page the
// browser cannot load), the configuration's (a logout step that never came)
// or the setup's to the certify command, which exits 2 with it, and keeps
// the containers after it from running.
func halt(run *Run, err error) bool {
	var env *environmentError
	var conf *configError
	switch {
	case errors.As(err, &env):
		halted = env.msg
	case errors.As(err, &conf):
		halted = conf.msg
	case run == nil:
		halted = err.Error()
	default:
		return false
	}
	ext.Problem(halted)
	return true
}

func failure(res scenarios.Result, trace string) string {
	var b strings.Builder
	b.WriteString(res.Message)
	b.WriteString("\n\ntimeline (scenario time; the kinds this expectation reads, and the steps):\n")
	for _, e := range res.Relevant {
		b.WriteString("  " + e.String() + "\n")
	}
	if trace != "" {
		b.WriteString("full timeline and screenshot: " + trace + "\n")
	}
	return b.String()
}

// tail is the end of a run's timeline, for a run that stopped early.
func tail(run *Run) string {
	if run == nil {
		return ""
	}
	es := run.Timeline.Entries()
	if len(es) > 40 {
		es = es[len(es)-40:]
	}
	var b strings.Builder
	b.WriteString("last timeline entries:\n")
	for _, e := range es {
		b.WriteString("  " + e.String() + "\n")
	}
	return b.String()
}
