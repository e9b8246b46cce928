// Package timeline is the one record of a scenario run: every observation from the
// IdP, the browser, the client library and the harness, in order, stamped on the
// scenario clock. Expectations are queries over it and reports draw it.
package timeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fields hold an entry's attributes. Values are strings so that queries and reports
// treat every entry alike; durations and times are written in milliseconds.
type Fields map[string]string

// Entry is one observation.
type Entry struct {
	Seq int `json:"seq"`
	// At is scenario time: the offset from the timeline's origin.
	At time.Duration `json:"-"`
	// What names the kind of observation as source.kind, for example idp.token,
	// browser.frame-attached or client.event.
	What   string `json:"what"`
	Fields Fields `json:"fields,omitempty"`
}

// MarshalJSON writes the entry with its time in milliseconds.
func (e Entry) MarshalJSON() ([]byte, error) {
	type plain Entry
	return json.Marshal(struct {
		AtMs float64 `json:"at_ms"`
		plain
	}{e.Ms(), plain(e)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Entry) UnmarshalJSON(b []byte) error {
	type plain Entry
	var v struct {
		AtMs float64 `json:"at_ms"`
		plain
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Entry(v.plain)
	e.At = time.Duration(math.Round(v.AtMs * float64(time.Millisecond)))
	return nil
}

// Ms is At in milliseconds, as reports and queries show it.
func (e Entry) Ms() float64 { return float64(e.At) / float64(time.Millisecond) }

// Source is the part of What before the dot: idp, browser, client or harness.
func (e Entry) Source() string {
	s, _, _ := strings.Cut(e.What, ".")
	return s
}

func (e Entry) String() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%9.1fms  %-26s", e.Ms(), e.What)
	for _, k := range keys {
		v := e.Fields[k]
		if len(v) > 80 {
			v = v[:77] + "..."
		}
		fmt.Fprintf(&b, " %s=%s", k, strconv.Quote(v))
	}
	return b.String()
}

// Timeline is safe for concurrent use: the IdP's handlers, the browser's event
// loop and the harness all append to it.
type Timeline struct {
	clock  Clock
	origin time.Time

	mu      sync.Mutex
	entries []Entry
	changed chan struct{} // closed and replaced on every append
	sinks   []func(Entry)
}

// New starts a timeline whose origin is the clock's current time.
func New(clock Clock) *Timeline {
	if clock == nil {
		clock = WallClock{}
	}
	return &Timeline{clock: clock, origin: clock.Now(), changed: make(chan struct{})}
}

// Origin is the instant scenario time zero stands for.
func (t *Timeline) Origin() time.Time { return t.origin }

// Now is the current scenario time.
func (t *Timeline) Now() time.Duration { return t.clock.Now().Sub(t.origin) }

// Clock returns the clock the timeline reads.
func (t *Timeline) Clock() Clock { return t.clock }

// OnAdd registers a function called (outside the lock) with every new entry, for
// live logs such as the standalone IdP's.
func (t *Timeline) OnAdd(f func(Entry)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sinks = append(t.sinks, f)
}

// Add records an observation now.
func (t *Timeline) Add(what string, f Fields) Entry {
	return t.AddAt(t.Now(), what, f)
}

// AddWall records an observation that carries its own wall-clock stamp (the page's
// Date.now()), converted to scenario time.
func (t *Timeline) AddWall(wall time.Time, what string, f Fields) Entry {
	return t.AddAt(wall.Sub(t.origin), what, f)
}

// AddAt records an observation at a given scenario time. Entries keep the order in
// which they were added; At may be out of order by the transport delay of the page,
// or, on a virtual clock, by up to one budget for what the page stamped itself
// (a driver call's outcome, seen by the harness only when the budget ran out).
func (t *Timeline) AddAt(at time.Duration, what string, f Fields) Entry {
	t.mu.Lock()
	e := Entry{Seq: len(t.entries) + 1, At: at, What: what, Fields: f}
	t.entries = append(t.entries, e)
	close(t.changed)
	t.changed = make(chan struct{})
	sinks := t.sinks
	t.mu.Unlock()
	for _, s := range sinks {
		s(e)
	}
	return e
}

// Entries is a snapshot of everything recorded so far.
func (t *Timeline) Entries() []Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Entry(nil), t.entries...)
}

// WaitFor blocks until match reports true for some entry (already recorded or new),
// or ctx ends. It returns the first matching entry.
func (t *Timeline) WaitFor(ctx context.Context, match func([]Entry) (Entry, bool)) (Entry, error) {
	for {
		t.mu.Lock()
		entries, changed := t.entries, t.changed
		t.mu.Unlock()
		if e, ok := match(entries); ok {
			return e, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Entry{}, ctx.Err()
		}
	}
}

// Fingerprint names a secret without revealing it: equal tokens have equal
// fingerprints, so "the client sent the refresh token issued at login" is a
// comparison of two fields, and no token appears in a timeline or a report.
func Fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return "fp:" + hex.EncodeToString(sum[:6])
}

// SecretKeys are the names under which OAuth 2 and OpenID Connect carry
// secrets: a string under one of them is a secret wherever it appears, as a
// query or form parameter, in a fragment, or as a key of a JSON object.
var SecretKeys = []string{
	"access_token", "refresh_token", "id_token", "code", "code_verifier", "session_state",
	"token", "client_secret", "client_assertion", "assertion", "device_code", "password",
}

var (
	keys = strings.Join(SecretKeys, "|")
	// k=v, also percent-encoded (a response inside an encoded URL: the key then
	// follows %26, %23 or %3F). The value stops where a form or URL ends it.
	secretParam = regexp.MustCompile(`(?i)(^|[^a-z0-9_]|%2[63]|%3f)(` + keys + `)(=|%3D)([^&#"'\s<>\\,;)}\]]+)`)
	// "k": "v", 'k': 'v', k: "v", with the quotes escaped once or twice (JSON
	// inside a JSON string).
	secretJSON = regexp.MustCompile(`(?i)(\\{0,3}["']?)\b(` + keys + `)\b(\\{0,3}["']?\s*:\s*\\{0,3}["'])([^"'\\]*)`)
	// k: v without quotes, as a printed map or object shows it: only the
	// unambiguous names (a "code: 500" is a status).
	secretBare = regexp.MustCompile(`(?i)\b(access_token|refresh_token|id_token|code_verifier|client_secret)(\s*:\s*)([A-Za-z0-9._~+/=-]{8,})`)
	bearer     = regexp.MustCompile(`(?i)\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/=-]{8,})`)
	jwtLike    = regexp.MustCompile(`eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?`)
	// fosite's opaque tokens and codes (the embedded IdP's, and Ory's).
	oryToken = regexp.MustCompile(`\bory_(at|rt|ac|pt)_[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)?`)
)

// Redact replaces tokens, codes and other secrets in free text (URLs, messages,
// errors, the text of a message's data) with their fingerprints before the text
// enters a timeline. It is idempotent: a fingerprint is left as it is.
func Redact(s string) string {
	if !mayHoldSecret(s) {
		return s
	}
	s = secretParam.ReplaceAllStringFunc(s, func(m string) string {
		p := secretParam.FindStringSubmatch(m)
		v, rest := p[4], ""
		// %26 and %23 end an encoded parameter as & and # end a plain one.
		if i := encodedEnd(v); i >= 0 {
			v, rest = v[:i], v[i:]
		}
		return p[1] + p[2] + p[3] + secret(v, p[3] == "=") + rest
	})
	s = secretJSON.ReplaceAllStringFunc(s, func(m string) string {
		p := secretJSON.FindStringSubmatch(m)
		return p[1] + p[2] + p[3] + secret(p[4], false)
	})
	s = secretBare.ReplaceAllStringFunc(s, func(m string) string {
		p := secretBare.FindStringSubmatch(m)
		return p[1] + p[2] + secret(p[3], false)
	})
	s = bearer.ReplaceAllStringFunc(s, func(m string) string {
		p := bearer.FindStringSubmatch(m)
		return p[1] + p[2] + secret(p[3], false)
	})
	s = oryToken.ReplaceAllStringFunc(s, Fingerprint)
	return jwtLike.ReplaceAllStringFunc(s, Fingerprint)
}

// mayHoldSecret is a cheap test that lets most field values (a name, a number,
// a bare URL) skip the patterns: every pattern needs one of these.
func mayHoldSecret(s string) bool {
	return strings.ContainsAny(s, "=:%") || strings.Contains(s, "eyJ") || strings.Contains(s, "ory_") ||
		strings.Contains(s, "earer") || strings.Contains(s, "EARER") || strings.Contains(s, "asic") || strings.Contains(s, "ASIC")
}

// secret is the fingerprint of a value found under a secret key. A value that
// is a fingerprint already, or empty, stays. A query or form value is
// fingerprinted decoded, as the IdP fingerprints what it received.
func secret(v string, form bool) string {
	if v == "" || strings.HasPrefix(v, "fp:") || v == "null" || v == "undefined" {
		return v
	}
	if form {
		if d, err := url.QueryUnescape(v); err == nil {
			v = d
		}
	}
	return Fingerprint(v)
}

func encodedEnd(v string) int {
	for i := 0; i+3 <= len(v); i++ {
		if v[i] == '%' && v[i+1] == '2' && (v[i+2] == '6' || v[i+2] == '3') {
			return i
		}
	}
	return -1
}
