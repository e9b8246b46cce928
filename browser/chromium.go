// Package browser drives the system Chromium through rod: one browser per process
// and cookie policy, an incognito context per scenario that holds nothing from an
// earlier one, and instrumentation that records frames, postMessage, network
// requests, console errors and the client library's events into the scenario
// timeline.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"

	"github.com/refreshsuite/refreshsuite/internal/proc"
)

// ErrNoChromium is returned when no Chromium binary can be found. Its text is the
// one line a user needs.
var ErrNoChromium = errors.New("Chromium not found: install it (sudo apt-get install -y chromium) or set CHROME_BIN to its path")

// Find returns the Chromium binary: $CHROME_BIN, else the first of the usual
// names on PATH. rod is never allowed to download a browser of its own.
func Find() (string, error) {
	if p := os.Getenv("CHROME_BIN"); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() {
			return "", fmt.Errorf("CHROME_BIN=%s is not a file", p)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

// CookiePolicy is the third-party cookie setting, always set explicitly: Chromium's
// default changes between versions and headless differs from headful.
type CookiePolicy string

const (
	ThirdPartyAllowed CookiePolicy = "allowed"
	ThirdPartyBlocked CookiePolicy = "blocked"
)

// DefaultStartTimeout bounds a launch, until Chromium listens for DevTools and
// the connection is made, and a connection to a running browser. Chromium
// starts in under a second on the 2-core machine; thirty leave room for a
// machine that is busy with other work, and still end a hung start.
const DefaultStartTimeout = 30 * time.Second

// closeGrace is how long Close lets Chromium end by itself, helpers included,
// before it kills what is left.
const closeGrace = 5 * time.Second

// Options say how to launch or reach a browser.
type Options struct {
	// Policy is the third-party-cookie setting: set on a browser launched
	// here, stated for one that runs elsewhere.
	Policy CookiePolicy
	// TrustSPKI, when set, is the one key besides the system's roots that a
	// launched Chromium accepts certificates from: the base64 SHA-256 of a DER
	// SubjectPublicKeyInfo, as (*tlsca.CA).SPKIHash gives it. A chain is
	// accepted when it contains that key.
	TrustSPKI string
	// StartTimeout bounds the start; zero is DefaultStartTimeout.
	StartTimeout time.Duration
	// TempDir is a launched Chromium's temporary folder, where its profile
	// and its own temporary files go; empty is $TMPDIR.
	TempDir string
	// AllowHosts, when not nil, are the only hosts a launched Chromium may
	// reach besides loopback ones: a request to any other is refused (403,
	// or a tunnel that fails) and told to OnRefused's sink. Host names or
	// IPs, as Chromium's proxy bypass list takes them (*.example.com too).
	AllowHosts []string
}

func (o Options) startTimeout() time.Duration {
	if o.StartTimeout > 0 {
		return o.StartTimeout
	}
	return DefaultStartTimeout
}

// Browser is one Chromium process, launched here or running elsewhere.
type Browser struct {
	Policy CookiePolicy
	rod    *rod.Browser
	// disconnect ends the DevTools connection.
	disconnect context.CancelFunc
	proc       *chromium // nil for a browser the suite did not launch
	// refuser takes the requests the allow-list refuses; nil without one.
	refuser *refuser
	// contexts are the incognito contexts between two sessions.
	contexts contexts
}

// chromium is a Chromium process launched here.
type chromium struct {
	cmd *exec.Cmd
	// profile is its user-data folder, in the temporary folder, removed at Close.
	profile string
	exited  chan struct{}
}

// Connect uses a browser that is already running (a browser pool, a Selenium
// Grid's CDP endpoint) at a DevTools URL. Its third-party-cookie setting is
// its own; policy says what it is.
func Connect(url string, policy CookiePolicy) (*Browser, error) {
	return ConnectWith(url, Options{Policy: policy})
}

// ConnectWith is Connect with a start timeout; o.TrustSPKI has no effect on a
// browser that is already running.
func ConnectWith(url string, o Options) (*Browser, error) {
	r, disconnect, err := connect(url, o.startTimeout())
	if err != nil {
		return nil, fmt.Errorf("connect to the browser at %s: %w", url, err)
	}
	return &Browser{Policy: o.Policy, rod: r, disconnect: disconnect}, nil
}

// connect opens a DevTools connection that lives until disconnect, giving up
// when it is not made within limit.
func connect(url string, limit time.Duration) (*rod.Browser, context.CancelFunc, error) {
	ctx, disconnect := context.WithCancel(context.Background())
	timer := time.AfterFunc(limit, disconnect)
	r := rod.New().Context(ctx).ControlURL(url)
	err := r.Connect()
	if !timer.Stop() {
		disconnect()
		return nil, nil, fmt.Errorf("no DevTools connection within %s", limit)
	}
	if err != nil {
		disconnect()
		return nil, nil, err
	}
	return r, disconnect, nil
}

// Launch starts Chromium headless with the given third-party-cookie policy.
func Launch(bin string, policy CookiePolicy) (*Browser, error) {
	return LaunchWith(bin, Options{Policy: policy})
}

// LaunchWith starts Chromium headless as o says. Chromium is started here,
// not by rod's launcher, so that it can carry the parent-death signal: it dies
// with the process that launched it, however that process ends, where rod's
// leakless guard notices only a closed connection and leaves a killed
// launcher's Chromium to a guard of its own. Its profile goes in the
// temporary folder unless o says where, so a run that sets TMPDIR finds it.
func LaunchWith(bin string, o Options) (*Browser, error) {
	profile, err := os.MkdirTemp(o.TempDir, "refreshsuite-chromium-")
	if err != nil {
		return nil, fmt.Errorf("launch %s: %w", bin, err)
	}
	mode := 0 // profile.cookie_controls_mode: 0 allows third-party cookies, 1 blocks them
	if o.Policy == ThirdPartyBlocked {
		mode = 1
	}
	if err := writePreferences(profile, fmt.Sprintf(`{"profile":{"cookie_controls_mode":%d}}`, mode)); err != nil {
		_ = os.RemoveAll(profile)
		return nil, fmt.Errorf("launch %s: %w", bin, err)
	}
	l := launcher.New().
		Bin(bin).
		Leakless(false).
		UserDataDir(profile).
		Headless(true).
		NoSandbox(true). // the machines run as root, where Chromium's sandbox cannot start
		Set("disable-gpu").
		Set("disable-component-update").
		Set("disable-quic").
		Set("mute-audio").
		// rod's own list (site isolation off, so cross-site iframes report on the
		// page's session) plus the back/forward cache: a page kept in it holds
		// the virtual clock paused, and the next document never finishes loading.
		Set("disable-features", "site-per-process", "TranslateUI", "BackForwardCache")
	if o.TrustSPKI != "" {
		l = l.Set("ignore-certificate-errors-spki-list", o.TrustSPKI)
	}
	var ref *refuser
	if o.AllowHosts != nil {
		if ref, err = startRefuser(); err != nil {
			_ = os.RemoveAll(profile)
			return nil, fmt.Errorf("launch %s: the allow-list's proxy: %w", bin, err)
		}
		l = l.Set("proxy-server", "http://"+ref.addr())
		if list := bypassList(o.AllowHosts); list != "" {
			l = l.Set("proxy-bypass-list", list)
		}
	}
	c, url, err := start(bin, l.FormatArgs(), o.TempDir, o.startTimeout())
	if err != nil {
		_ = os.RemoveAll(profile)
		if ref != nil {
			ref.close()
		}
		return nil, err
	}
	c.profile = profile
	r, disconnect, err := connect(url, o.startTimeout())
	if err != nil {
		c.stop()
		if ref != nil {
			ref.close()
		}
		return nil, fmt.Errorf("connect to Chromium (%s): %w", bin, err)
	}
	return &Browser{Policy: o.Policy, rod: r, disconnect: disconnect, proc: c, refuser: ref}, nil
}

// writePreferences puts the profile's preferences where Chromium reads them
// at start, as rod's launcher does.
func writePreferences(profile, prefs string) error {
	dir := filepath.Join(profile, "Default")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "Preferences"), []byte(prefs), 0o644)
}

// devtoolsLine is what Chromium prints on stderr once it listens.
var devtoolsLine = regexp.MustCompile(`DevTools listening on (ws://\S+)`)

// start runs Chromium and waits, at most limit, for its DevTools address.
func start(bin string, args []string, tmp string, limit time.Duration) (*chromium, string, error) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = proc.Attr()
	if tmp != "" {
		cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	}
	log := &startLog{url: make(chan string, 1)}
	cmd.Stderr = log
	// Chromium's helpers inherit its stderr; a helper that outlives it must
	// not hold Wait.
	cmd.WaitDelay = closeGrace
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("launch %s: %w", bin, err)
	}
	c := &chromium{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.exited) }()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case url := <-log.url:
		return c, url, nil
	case <-c.exited:
		return nil, "", fmt.Errorf("Chromium (%s) exited as it started (%s)%s", bin, cmd.ProcessState, log.last())
	case <-timer.C:
		c.stop()
		return nil, "", fmt.Errorf("Chromium (%s) did not start within %s%s", bin, limit, log.last())
	}
}

// stop kills Chromium and everything it started, and removes its profile.
func (c *chromium) stop() {
	// Its process group: the helpers (zygotes, renderers) are in it.
	proc.KillGroup(c.cmd.Process.Pid)
	<-c.exited
	if c.profile != "" {
		_ = os.RemoveAll(c.profile)
	}
}

// startLog watches Chromium's stderr for its DevTools address and keeps the
// last line it printed, for an error that says why a start failed.
type startLog struct {
	mu      sync.Mutex
	partial string
	lastOut string
	url     chan string
	sent    bool
}

func (l *startLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(l.partial+string(p), "\n")
	l.partial = lines[len(lines)-1]
	if len(l.partial) > 4096 {
		l.partial = l.partial[:4096]
	}
	for _, line := range lines[:len(lines)-1] {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		l.lastOut = line
		if m := devtoolsLine.FindStringSubmatch(line); m != nil && !l.sent {
			l.sent = true
			l.url <- m[1]
		}
	}
	return len(p), nil
}

// last is ": <the last line Chromium printed>", or "" when it printed none.
func (l *startLog) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := l.lastOut
	if p := strings.TrimSpace(l.partial); p != "" {
		line = p
	}
	if line == "" {
		return ""
	}
	if len(line) > 300 {
		line = line[:300] + "..."
	}
	return ": " + line
}

// Close ends the browser process and removes its profile directory; a browser
// the suite did not launch is left running, without the suite's contexts.
func (b *Browser) Close() {
	b.contexts.closeAll()
	if b.proc != nil {
		// Browser.close lets Chromium end its helpers itself; what is still
		// there after the grace is killed with its group.
		_ = b.rod.Close()
		select {
		case <-b.proc.exited:
		case <-time.After(closeGrace):
		}
		b.proc.stop()
	}
	b.disconnect()
	if b.refuser != nil {
		b.refuser.close()
	}
}

// Pool hands out one browser per cookie policy, launched on first use, so a
// process that runs only cookie-allowed scenarios starts one Chromium.
type Pool struct {
	Bin string
	// Remote, when set, is a running browser's DevTools URL used instead of
	// launching; RemotePolicy is its third-party-cookie setting.
	Remote       string
	RemotePolicy CookiePolicy
	// TrustSPKI is the one extra key the pool's Chromium trusts (Options).
	TrustSPKI string
	// AllowHosts is the allow-list of the pool's Chromium (Options).
	AllowHosts []string
	// StartTimeout bounds each launch or connection; zero is DefaultStartTimeout.
	StartTimeout time.Duration

	mu       sync.Mutex
	browsers map[CookiePolicy]*Browser
}

// Get returns the browser for a policy, launching it if needed.
func (p *Pool) Get(policy CookiePolicy) (*Browser, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b, ok := p.browsers[policy]; ok {
		return b, nil
	}
	var b *Browser
	var err error
	o := Options{Policy: policy, TrustSPKI: p.TrustSPKI, StartTimeout: p.StartTimeout, AllowHosts: p.AllowHosts}
	if p.Remote != "" {
		if policy != p.RemotePolicy {
			return nil, fmt.Errorf("the browser at %s has third-party cookies %s, not %s", p.Remote, p.RemotePolicy, policy)
		}
		b, err = ConnectWith(p.Remote, o)
	} else {
		b, err = LaunchWith(p.Bin, o)
	}
	if err != nil {
		return nil, err
	}
	if p.browsers == nil {
		p.browsers = map[CookiePolicy]*Browser{}
	}
	p.browsers[policy] = b
	return b, nil
}

// Supports reports whether the pool can give a browser with this policy.
func (p *Pool) Supports(policy CookiePolicy) bool {
	return p.Remote == "" || policy == p.RemotePolicy
}

// Close ends every browser of the pool.
func (p *Pool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, b := range p.browsers {
		b.Close()
		delete(p.browsers, k)
	}
}
