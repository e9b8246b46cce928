package reports

import (
	"bytes"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"

	"github.com/refreshsuite/refreshsuite/browser"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/timeline"
)

const hostile = `<script>document.title="pwned"</script><img src=x onerror="document.title='pwned'">`

// smallRun is one scenario container with a small known timeline: a login, a
// silent refresh whose iframe never goes away, a refresh-token refresh, a
// token_expires event and a timeout.
func smallRun() *Results {
	f := func(kv ...string) timeline.Fields {
		m := timeline.Fields{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	entries := []timeline.Entry{
		{At: at(0.5), What: "harness.config", Fields: f("clock", "virtual")},
		{At: at(100), What: "harness.step", Fields: f("index", "1", "step", "login")},
		{At: at(1000), What: "idp.authorize", Fields: f("dest", "document", "outcome", "ok", "code", "fp:1")},
		{At: at(1050), What: "idp.token", Fields: f("grant_type", "authorization_code", "outcome", "ok", "access_token", "fp:a1", "id_token", "fp:i1", "expires_in_ms", "6000", "id_token_ttl_ms", "5900")},
		{At: at(1060), What: "client.event", Fields: f("type", "token_received")},
		{At: at(1200), What: "harness.step", Fields: f("index", "2", "step", "{call: silentRefresh}", "call", "silentRefresh")},
		{At: at(1210), What: "idp.authorize", Fields: f("dest", "iframe", "prompt", "none", "outcome", "ok", "code", "fp:2")},
		{At: at(1220), What: "browser.frame-attached", Fields: f("id", "silent-refresh-iframe", "src", "http://127.0.0.1:9400/authorize", "visible", "no")},
		{At: at(1230), What: "browser.post-message", Fields: f("target_origin", "http://localhost:4200", "data", hostile)},
		{At: at(4000), What: "idp.token", Fields: f("grant_type", "refresh_token", "outcome", "ok", "access_token", "fp:a2", "id_token", "fp:i2", "expires_in_ms", "6000", "id_token_ttl_ms", "6000")},
		{At: at(4060), What: "client.event", Fields: f("type", "token_expires", "info", "access_token")},
		{At: at(6210), What: "client.event", Fields: f("type", "silent_refresh_timeout")},
		{At: at(6300), What: "harness.step", Fields: f("index", "3", "step", "{pass-time: 1s}")},
		{At: at(7300), What: "harness.tokens", Fields: f("access_token", "fp:a2")},
	}
	for i := range entries {
		entries[i].Seq = i + 1
	}
	started := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	return &Results{Version: Version, Started: started, DurationMs: 7300, Containers: []Container{{
		Name: "angular-oauth2-oidc/silent-refresh-timeout[timeout-5s]", Scenario: "silent-refresh-timeout[timeout-5s]", Client: "angular-oauth2-oidc", Library: "angular-oauth2-oidc@21.0.3", Clock: "virtual",
		Timeline: entries,
		Specs: []Spec{
			{Expectation: "fires", Text: "fires: the refresh fires at 2/3 of the lifetime", Requirements: []string{"TF-1"}, State: Failed,
				Message:      "cycle 1: ...\ncycle 2: ...",
				Failure:      "cycle 1: ...\ncycle 2: ...\n\ntimeline ...",
				Measurements: []scenarios.Measurement{{Cycle: 1, ExpectedMs: 4000, MeasuredMs: 2950, ErrorMs: -1050, ToleranceMs: 100}, {Cycle: 2, EarliestMs: 3000, LatestMs: 6000, ExpectedMs: 4500, MeasuredMs: 5000, Pass: true}},
				Started:      started, DurationMs: 1500},
			{Expectation: "iframe-removed", Text: "iframe-removed: the iframe is gone", Requirements: []string{"SR-5"}, State: KnownDeviation,
				Message: "1 entries match", Deviation: "leaves its iframe", Reference: "issue 9", Failure: "known deviation: leaves its iframe", Started: started},
			{Expectation: "hostile", Text: "hostile: " + hostile, State: Passed, Message: hostile, Started: started},
		},
	}}}
}

// TestReportHTML renders report.html in the real Chromium: the page must load
// nothing, run no script, draw one mark per event of the timeline, and look
// like something (the screenshot goes to $REFRESHSUITE_SCREENSHOT if set).
func TestReportHTML(t *testing.T) {
	dir := t.TempDir()
	if err := smallRun().WriteFiles(dir); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	p := openPage(t, srv.URL+"/report.html")
	res, err := p.Eval(`(hostile) => {
		const marks = {}, untitled = [];
		for (const e of document.querySelectorAll("svg [data-what]")) {
			const k = e.getAttribute("data-what");
			marks[k] = (marks[k] || 0) + 1;
			if (!e.querySelector(":scope > title")) untitled.push(k);
		}
		return {
			marks, untitled,
			markup: document.querySelectorAll("script, img, iframe, object, embed, link:not([href^='data:'])").length,
			title: document.title,
			shown: document.body.textContent.includes(hostile),
			loaded: performance.getEntriesByType("resource").map((r) => r.name),
		};
	}`, hostile)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Marks    map[string]int
		Untitled []string
		Markup   int
		Title    string
		Shown    bool
		Loaded   []string
	}
	if err := res.Value.Unmarshal(&got); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"step": 3, "request": 2, "refresh": 2, "access-token": 2, "id-token": 2, "iframe": 1,
		"post-message": 1, "client-event": 2, "timeout": 1, "window": 2, "measured": 2,
	}
	if !reflect.DeepEqual(got.Marks, want) {
		t.Errorf("marks by data-what:\n got %v\nwant %v", got.Marks, want)
	}
	if len(got.Untitled) > 0 {
		t.Errorf("marks without a tooltip: %v", got.Untitled)
	}
	if got.Markup > 0 || got.Title != "refreshsuite report" || !got.Shown {
		t.Errorf("hostile text: %d elements of markup, title %q, shown as text %v", got.Markup, got.Title, got.Shown)
	}
	if len(got.Loaded) > 0 {
		t.Errorf("the report loads %v; it must be self-contained", got.Loaded)
	}
	shot, err := p.Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	if err != nil {
		t.Fatal(err)
	}
	checkScreenshot(t, shot)
	out := os.Getenv("REFRESHSUITE_SCREENSHOT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "report.png")
	}
	if err := os.WriteFile(out, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", out)
}

// openPage loads url in a headless Chromium of its own. It drives rod
// directly: a static page needs none of the suite's bridge, and its values
// come back from Eval. The binary is the system's (browser.Find): rod is never
// let to download one.
func openPage(t *testing.T, url string) *rod.Page {
	t.Helper()
	bin, err := browser.Find()
	if err != nil {
		t.Skip(err)
	}
	l := launcher.New().Bin(bin).Headless(true).NoSandbox(true).Set("disable-gpu")
	u, err := l.Launch()
	if err != nil {
		l.Cleanup()
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Kill(); l.Cleanup() })
	b := rod.New().ControlURL(u).Timeout(30 * time.Second)
	if err := b.Connect(); err != nil {
		t.Fatal(err)
	}
	p, err := b.Page(proto.TargetCreateTarget{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WaitLoad(); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkScreenshot wants a page-sized PNG with some variety of colour in it,
// not a blank or an error page.
func checkScreenshot(t *testing.T, shot []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	bounds := img.Bounds()
	if bounds.Dx() < 600 || bounds.Dy() < 600 {
		t.Fatalf("screenshot is %v, want a full page", bounds.Size())
	}
	colours := map[[3]uint32]bool{}
	for y := bounds.Min.Y; y < bounds.Max.Y; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 12, g >> 12, b >> 12}] = true
		}
	}
	if len(colours) < 20 {
		t.Fatalf("screenshot has %d colours: a blank page?", len(colours))
	}
}
