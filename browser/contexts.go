package browser

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
	"golang.org/x/net/publicsuffix"
)

// scenarioContext is an incognito browser context that sessions use one at a
// time. Chromium gives every context its own window, and opening a window costs
// about 300 ms of CPU on the 2-core machine, a quarter of what a whole scenario
// costs on the virtual clock; a context kept open with a blank keeper tab lets
// the next session open its tab in the existing window instead. Between two
// sessions everything the first one left is cleared: the context's cookies and
// HTTP cache, and all storage of every origin its pages reached.
type scenarioContext struct {
	rod    *rod.Browser
	keeper *rod.Page
}

// contexts are a browser's idle scenario contexts.
type contexts struct {
	mu   sync.Mutex
	idle []*scenarioContext
}

// take returns an idle context, or opens one. A context is never given to two
// live sessions.
func (cs *contexts) take(b *rod.Browser) (*scenarioContext, error) {
	cs.mu.Lock()
	if n := len(cs.idle); n > 0 {
		c := cs.idle[n-1]
		cs.idle = cs.idle[:n-1]
		cs.mu.Unlock()
		return c, nil
	}
	cs.mu.Unlock()
	ic, err := b.Incognito()
	if err != nil {
		return nil, fmt.Errorf("incognito context: %w", err)
	}
	keeper, err := ic.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		_ = ic.Close()
		return nil, fmt.Errorf("incognito context: keeper tab: %w", err)
	}
	return &scenarioContext{rod: ic, keeper: keeper}, nil
}

// give clears what a session left in c and keeps c for the next session; a
// context that cannot be cleared is closed instead, so no state can leak.
func (cs *contexts) give(c *scenarioContext, keys []string) {
	if err := c.clear(keys); err != nil {
		c.close()
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.idle = append(cs.idle, c)
}

// clear runs through the keeper tab: a page session's Network and Storage
// calls act on that page's context, a browser session's on the default one.
// Chromium rejects a storage key it cannot read, so a change in its format
// closes the context instead of leaving data behind.
func (c *scenarioContext) clear(keys []string) error {
	// Every cookie of the context, whatever its domain: a Domain attribute can
	// reach beyond the origins the pages reached.
	if err := (proto.NetworkClearBrowserCookies{}).Call(c.keeper); err != nil {
		return err
	}
	if err := (proto.NetworkClearBrowserCache{}).Call(c.keeper); err != nil {
		return err
	}
	for _, k := range keys {
		if err := (proto.StorageClearDataForStorageKey{StorageKey: k, StorageTypes: "all"}).Call(c.keeper); err != nil {
			return fmt.Errorf("clear storage key %s: %w", k, err)
		}
	}
	return nil
}

func (c *scenarioContext) close() {
	_ = c.keeper.Close()
	_ = c.rod.Close()
}

// closeAll closes the idle contexts (a browser the suite did not launch keeps
// running after the suite).
func (cs *contexts) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, c := range cs.idle {
		c.close()
	}
	cs.idle = nil
}

// touched is what a session's pages reached: the origins they requested or
// showed, and the sites of their top-level documents.
type touched struct {
	mu      sync.Mutex
	origins map[string]bool
	tops    map[string]bool
}

func (t *touched) add(raw string, top bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.origins == nil {
		t.origins, t.tops = map[string]bool{}, map[string]bool{}
	}
	t.origins[u.Scheme+"://"+u.Host] = true
	if top {
		t.tops[Site(u)] = true
	}
}

// storageKeys are the storage partitions the session's pages may have written,
// in Chromium's serialisation: each origin as a first party ("origin/"), framed
// under a cross-site ancestor within its own site ("origin/^31"), and framed
// under each other top-level site ("origin/^0site"), since Chromium partitions
// a third-party frame's storage by the top-level site.
func (t *touched) storageKeys() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var keys []string
	for o := range t.origins {
		keys = append(keys, o+"/", o+"/^31")
		u, _ := url.Parse(o)
		own := Site(u)
		for s := range t.tops {
			if s != own {
				keys = append(keys, o+"/^0"+s)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// Site is a URL's schemeful site as Chromium reckons it: the scheme and the
// registrable domain (private registries included), or the whole host for an
// IP address or a name without one, such as localhost.
func Site(u *url.URL) string {
	host := u.Hostname()
	if net.ParseIP(host) == nil {
		if d, err := publicsuffix.EffectiveTLDPlusOne(host); err == nil {
			host = d
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return u.Scheme + "://" + host
}
