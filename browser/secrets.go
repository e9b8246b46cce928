package browser

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/refreshsuite/refreshsuite/timeline"
)

// secretKeysJS is timeline.SecretKeys as the bridge's lookup table, an object
// without a prototype so that no property a page adds to Object.prototype is
// taken for one.
var secretKeysJS = func() string {
	m := map[string]int{"__proto__": 0}
	for _, k := range timeline.SecretKeys {
		m[k] = 1
	}
	b, _ := json.Marshal(m)
	// "__proto__": null in an object literal sets the prototype.
	return strings.Replace(string(b), `"__proto__":0`, `"__proto__":null`, 1)
}()

// secrets are the values a session has seen in a secret position (under a
// secret key in a message, a URL's query or fragment): once seen, a value is
// replaced by its fingerprint wherever it turns up, also in free text that
// quotes it without its key ("refresh token 3xq... is invalid").
type secrets struct {
	mu    sync.Mutex
	known map[string]string // value -> fingerprint
}

// minSecret is the shortest value remembered: a shorter one ("1", "yes") would
// make ordinary words in later text look like secrets.
const minSecret = 8

func (s *secrets) learn(v string) string {
	fp := timeline.Fingerprint(v)
	if len(v) < minSecret || strings.HasPrefix(v, "fp:") {
		return fp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.known == nil {
		s.known = map[string]string{}
	}
	s.known[v] = fp
	return fp
}

// learnURL remembers the secret parameters of a URL's query and fragment.
func (s *secrets) learnURL(raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	for _, part := range []string{u.RawQuery, u.Fragment} {
		q, _ := url.ParseQuery(part)
		for _, k := range timeline.SecretKeys {
			for _, v := range q[k] {
				s.learn(v)
			}
		}
	}
}

// redact is timeline.Redact after replacing every secret seen so far.
func (s *secrets) redact(v string) string {
	if v == "" {
		return v
	}
	s.mu.Lock()
	for raw, fp := range s.known {
		if strings.Contains(v, raw) {
			v = strings.ReplaceAll(v, raw, fp)
		}
	}
	s.mu.Unlock()
	return timeline.Redact(v)
}

// placeholders puts the fingerprints of the secrets a bridge message carries
// in the places the bridge marked (see describe in bridge.js).
func (s *secrets) placeholders(v string, values []string) string {
	if len(values) == 0 || !strings.Contains(v, "\x00S") {
		return v
	}
	for i, raw := range values {
		v = strings.ReplaceAll(v, "\x00S"+strconv.Itoa(i)+"\x00", s.learn(raw))
	}
	return v
}
