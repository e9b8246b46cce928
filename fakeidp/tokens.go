package fakeidp

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/refreshsuite/refreshsuite/timeline"
)

var fingerprint = timeline.Fingerprint

// tokenBook remembers what the provider issued, by fingerprint: the token,
// what it was issued as (access_token, refresh_token, id_token, code) and
// when it expires on the scenario clock.
type tokenBook struct {
	mu     sync.Mutex
	byFP   map[string]string
	kind   map[string]string
	expiry map[string]time.Time
	jkt    map[string]string // the DPoP key an access token or a code is bound to
}

func newTokenBook() *tokenBook {
	return &tokenBook{byFP: map[string]string{}, kind: map[string]string{}, expiry: map[string]time.Time{}, jkt: map[string]string{}}
}

// bindKey notes that tok is bound to the DPoP key whose thumbprint is jkt.
func (b *tokenBook) bindKey(tok, jkt string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.jkt[fingerprint(tok)] = jkt
}

// keyOf is the thumbprint of the DPoP key tok is bound to, "" for none.
func (b *tokenBook) keyOf(tok string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.jkt[fingerprint(tok)]
}

func (b *tokenBook) add(tok, kind string, expires time.Time) string {
	fp := fingerprint(tok)
	b.mu.Lock()
	b.byFP[fp] = tok
	b.kind[fp] = kind
	b.expiry[fp] = expires
	b.mu.Unlock()
	return fp
}

// kindOf is what a token was issued as; empty for one this provider never
// issued.
func (b *tokenBook) kindOf(tok string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.kind[fingerprint(tok)]
}

func (b *tokenBook) get(fp string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.byFP[fp]
	return t, ok
}

func (b *tokenBook) known(tok string) bool {
	_, ok := b.get(fingerprint(tok))
	return ok
}

type claims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Exp int64  `json:"exp"`
	Iat int64  `json:"iat"`
}

// jwtSegment is the i-th of a JWT's three segments.
func jwtSegment(tok string, i int) (string, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", false
	}
	return parts[i], true
}

// placeholders are what clients send when they hold no token (a JavaScript
// null or undefined turned into a string): not secrets, and the readable
// value is what tells the timeline's reader that the client sent nothing.
var placeholders = map[string]bool{"null": true, "undefined": true}

// presented names a token a client sent: its fingerprint when the provider
// issued it; else "unknown:" and the placeholder a client sends when it holds
// none, or the fingerprint of whatever else it was. Nothing a client sends
// enters the timeline in clear, lest a token from another provider (or one
// pasted into the wrong field) end up in a log.
func (b *tokenBook) presented(tok string) string {
	switch {
	case tok == "":
		return ""
	case b.known(tok):
		return fingerprint(tok)
	case placeholders[tok]:
		return "unknown:" + tok
	}
	return "unknown:" + fingerprint(tok)
}

// decodeJWT reads the payload of a JWT this provider signed itself into v; no
// signature check is needed for its own tokens.
func decodeJWT(tok string, v any) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, v)
}

func jwtClaims(tok string) (claims, error) {
	var c claims
	err := decodeJWT(tok, &c)
	return c, err
}
