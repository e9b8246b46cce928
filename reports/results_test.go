package reports

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
)

var runStart = time.Date(2026, 11, 29, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))

// at is a scenario time that survives at_ms exactly (see timeline.Entry's JSON).
func at(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// sampleReport is a run of two scenario containers and a capability skip,
// with timelines, a timing spec, a known deviation and a failure.
func sampleReport() types.Report {
	tl := []timeline.Entry{
		{Seq: 1, At: at(100), What: "harness.step", Fields: timeline.Fields{"index": "1", "step": "login"}},
		{Seq: 2, At: at(2064.5), What: "idp.token", Fields: timeline.Fields{"grant_type": "authorization_code", "outcome": "ok", "expires_in_ms": "6000", "id_token_ttl_ms": "6000"}},
		{Seq: 3, At: at(2064.5), What: "client.event", Fields: timeline.Fields{"type": "token_received"}},
		{Seq: 4, At: at(5064.5), What: "idp.token", Fields: timeline.Fields{"grant_type": "refresh_token", "outcome": "ok", "expires_in_ms": "6000"}},
	}
	data := func(scenario, id string, reqs ...string) *SpecData {
		return &SpecData{Scenario: scenario, Expectation: id, Requirements: reqs, Client: "angular-oauth2-oidc",
			Library: "angular-oauth2-oidc@21.0.3", Clock: "virtual", Message: id + " explained", Timeline: tl}
	}
	timing := data("renewal[half]", "fires", "TF-1")
	timing.Measurements = []scenarios.Measurement{{Cycle: 1, ExpectedMs: 3000, MeasuredMs: 3000, ToleranceMs: 100, Pass: true}}
	dev := data("silent[code]", "iframe-removed", "SR-5")
	dev.Deviation, dev.Reference = "leaves its iframe", "issue 9"
	failed := data("silent[code]", "no-error", "SR-1")
	failed.Trace = "/tmp/out/traces/silent_code_"
	r := types.Report{StartTime: runStart, RunTime: 42 * time.Second, SpecReports: types.SpecReports{
		{LeafNodeType: types.NodeTypeBeforeSuite, State: types.SpecStatePassed},
		spec(types.SpecStatePassed, "angular-oauth2-oidc/renewal[half]", "fires: the refresh fires at half the lifetime", timing, ""),
		spec(types.SpecStateSkipped, "angular-oauth2-oidc/silent[code]", "iframe-removed: the iframe goes", dev, "known deviation: leaves its iframe (issue 9)"),
		spec(types.SpecStateFailed, "angular-oauth2-oidc/silent[code]", "no-error: no error event", failed, "want 0\n\ntimeline ..."),
		spec(types.SpecStateSkipped, "oidc-client-ts/offline", "rt: refresh tokens", nil, "client oidc-client-ts does not declare capability refresh-token"),
	}}
	for i := range r.SpecReports {
		r.SpecReports[i].StartTime = runStart.Add(time.Duration(i) * time.Second)
	}
	r.SpecReports[4].LeafNodeLabels = []string{"OA-1"}
	r.SpecReports[4].Failure.FailureNodeType = types.NodeTypeBeforeAll
	next := spec(types.SpecStateSkipped, "oidc-client-ts/offline", "rt2: more refresh tokens", nil, "Spec skipped because Skip() was called in BeforeAll")
	next.StartTime = runStart.Add(5 * time.Second)
	r.SpecReports = append(r.SpecReports, next)
	return r
}

func TestFromReport(t *testing.T) {
	res := FromReport(sampleReport(), Options{})
	if len(res.Containers) != 3 || len(res.Errors) != 0 {
		t.Fatalf("containers=%d errors=%d", len(res.Containers), len(res.Errors))
	}
	silent := res.Containers[1]
	if silent.Name != "angular-oauth2-oidc/silent[code]" || silent.Scenario != "silent[code]" || silent.ID() != "silent" || silent.Variant() != "code" ||
		silent.Client != "angular-oauth2-oidc" || silent.Clock != "virtual" || len(silent.Timeline) != 4 || len(silent.Specs) != 2 {
		t.Fatalf("container = %+v", silent)
	}
	if s := silent.Specs[0]; s.State != KnownDeviation || s.Deviation != "leaves its iframe" || s.Failure == "" {
		t.Errorf("known deviation = %+v", s)
	}
	if s := silent.Specs[1]; s.State != Failed || s.Message != "no-error explained" || s.Failure != "want 0\n\ntimeline ..." || s.Trace == "" {
		t.Errorf("failure = %+v", s)
	}
	skipped := res.Containers[2]
	want := Spec{Expectation: "rt", Text: "rt: refresh tokens", Requirements: []string{"OA-1"}, State: Skipped,
		Message: "client oidc-client-ts does not declare capability refresh-token", Failure: "client oidc-client-ts does not declare capability refresh-token",
		Started: runStart.Add(4 * time.Second).UTC(), DurationMs: 1500}
	if skipped.Client != "oidc-client-ts" || skipped.Scenario != "offline" || !reflect.DeepEqual(skipped.Specs[0], want) {
		t.Errorf("skipped before it ran:\n got %+v (client %q, scenario %q)\nwant %+v", skipped.Specs[0], skipped.Client, skipped.Scenario, want)
	}
	if s := skipped.Specs[1]; s.Message != want.Message || s.Failure != want.Message {
		t.Errorf("the container's other spec: message %q, failure %q; want the BeforeAll's reason as both, not ginkgo's notice", s.Message, s.Failure)
	}
}

func TestResultsRoundTrip(t *testing.T) {
	r := sampleReport()
	r.SpecReports[0].State = types.SpecStateFailed
	r.SpecReports[0].Failure.Message = "could not start"
	res := FromReport(r, Options{DeviationsAsFailures: true})
	dir := t.TempDir()
	if err := res.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	back, err := ReadResults(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, res) {
		t.Fatalf("read back:\n%+v\nwrote:\n%+v", back, res)
	}
}

func TestMerge(t *testing.T) {
	whole := sampleReport()
	half := func(keep func(types.SpecReport) bool) *Results {
		r := whole
		r.SpecReports = nil
		for _, s := range whole.SpecReports {
			if keep(s) {
				r.SpecReports = append(r.SpecReports, s)
			}
		}
		return FromReport(r, Options{})
	}
	silent := func(s types.SpecReport) bool {
		return len(s.ContainerHierarchyTexts) > 0 && s.ContainerHierarchyTexts[0] == "angular-oauth2-oidc/silent[code]"
	}
	a := half(func(s types.SpecReport) bool { return !silent(s) })
	b := half(silent)
	b.Started = b.Started.Add(-time.Second) // started a second earlier, ended a second earlier
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := FromReport(whole, Options{})
	if !m.Started.Equal(b.Started) || m.DurationMs != want.DurationMs+1000 {
		t.Errorf("merged start %v, duration %vms; want %v and %vms", m.Started, m.DurationMs, b.Started, want.DurationMs+1000)
	}
	key := func(c Container) string { return c.Client + "/" + c.Name }
	got := map[string]Container{}
	for _, c := range m.Containers {
		got[key(c)] = c
	}
	if len(got) != len(want.Containers) {
		t.Fatalf("merged %d containers, want %d", len(got), len(want.Containers))
	}
	for _, c := range want.Containers {
		if !reflect.DeepEqual(got[key(c)], c) {
			t.Errorf("container %s:\n got %+v\nwant %+v", key(c), got[key(c)], c)
		}
	}
	if _, err := Merge(a, b, a); err == nil {
		t.Error("merging a container twice: want an error")
	}
	b.Options.DeviationsAsFailures = true
	if _, err := Merge(a, b); err == nil {
		t.Error("merging results written with different options: want an error")
	}
}

func TestReadResultsVersion(t *testing.T) {
	dir := t.TempDir()
	res := FromReport(sampleReport(), Options{})
	res.Version = 99
	if err := res.WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadResults(filepath.Join(dir, "results.json")); err == nil {
		t.Error("read a results.json of version 99: want an error")
	}
}
