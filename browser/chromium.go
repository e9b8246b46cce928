// Package browser drives the system Chromium through rod: one browser per process
// and cookie policy, an incognito context per scenario that holds nothing from an
// earlier one, and instrumentation that records frames, postMessage, network
// requests, console errors and the client library's events into the scenario
// timeline.
package browser

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/launcher"
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

// Browser is one Chromium process, launched here or running elsewhere.
type Browser struct {
	Policy CookiePolicy
	rod    *rod.Browser
	l      *launcher.Launcher // nil for a browser the suite did not launch
	// contexts are the incognito contexts between two sessions.
	contexts contexts
}

// Connect uses a browser that is already running (a browser pool, a Selenium
// Grid's CDP endpoint) at a DevTools URL. Its third-party-cookie setting is
// its own; policy says what it is.
func Connect(url string, policy CookiePolicy) (*Browser, error) {
	r := rod.New().ControlURL(url)
	if err := r.Connect(); err != nil {
		return nil, fmt.Errorf("connect to the browser at %s: %w", url, err)
	}
	return &Browser{Policy: policy, rod: r}, nil
}

// Launch starts Chromium headless with the given third-party-cookie policy.
func Launch(bin string, policy CookiePolicy) (*Browser, error) {
	mode := 0 // profile.cookie_controls_mode: 0 allows third-party cookies, 1 blocks them
	if policy == ThirdPartyBlocked {
		mode = 1
	}
	l := launcher.New().
		Bin(bin).
		Headless(true).
		NoSandbox(true). // the machines run as root, where Chromium's sandbox cannot start
		Set("disable-gpu").
		Set("disable-component-update").
		Set("disable-quic").
		Set("mute-audio").
		// rod's own list (site isolation off, so cross-site iframes report on the
		// page's session) plus the back/forward cache: a page kept in it holds
		// the virtual clock paused, and the next document never finishes loading.
		Set("disable-features", "site-per-process", "TranslateUI", "BackForwardCache").
		Preferences(fmt.Sprintf(`{"profile":{"cookie_controls_mode":%d}}`, mode))
	u, err := l.Launch()
	if err != nil {
		l.Cleanup()
		return nil, fmt.Errorf("launch %s: %w", bin, err)
	}
	r := rod.New().ControlURL(u)
	if err := r.Connect(); err != nil {
		l.Kill()
		l.Cleanup()
		return nil, fmt.Errorf("connect to %s: %w", bin, err)
	}
	return &Browser{Policy: policy, rod: r, l: l}, nil
}

// Close ends the browser process and removes its profile directory; a browser
// the suite did not launch is left running, without the suite's contexts.
func (b *Browser) Close() {
	b.contexts.closeAll()
	if b.l == nil {
		return
	}
	_ = b.rod.Close()
	b.l.Kill()
	b.l.Cleanup()
}

// Pool hands out one browser per cookie policy, launched on first use, so a
// process that runs only cookie-allowed scenarios starts one Chromium.
type Pool struct {
	Bin string
	// Remote, when set, is a running browser's DevTools URL used instead of
	// launching; RemotePolicy is its third-party-cookie setting.
	Remote       string
	RemotePolicy CookiePolicy

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
	if p.Remote != "" {
		if policy != p.RemotePolicy {
			return nil, fmt.Errorf("the browser at %s has third-party cookies %s, not %s", p.Remote, p.RemotePolicy, policy)
		}
		b, err = Connect(p.Remote, policy)
	} else {
		b, err = Launch(p.Bin, policy)
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
