package fakeidp

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/refreshsuite/refreshsuite/timeline"
)

var fingerprint = timeline.Fingerprint

// tokenBook remembers what the provider issued, by fingerprint.
type tokenBook struct {
	mu   sync.Mutex
	byFP map[string]string
}

func newTokenBook() *tokenBook { return &tokenBook{byFP: map[string]string{}} }

func (b *tokenBook) add(tok string) string {
	fp := fingerprint(tok)
	b.mu.Lock()
	b.byFP[fp] = tok
	b.mu.Unlock()
	return fp
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

// jwtClaims reads the payload of a JWT this provider signed itself; no signature
// check is needed for its own log.
func jwtClaims(tok string) (claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return claims{}, errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claims{}, err
	}
	var c claims
	err = json.Unmarshal(raw, &c)
	return c, err
}
