package fakeidp

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/go-jose/go-jose/v3"
)

// keyRing holds the signing keys: the newest signs, all are published, but
// for a key rotated in unannounced, which the key set lists only once a
// token signed with it has gone out.
type keyRing struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
	// listed is how many keys, oldest first, the key set lists.
	listed int
	// unknown is a key the provider signs with only to make an id_token no
	// client can verify: never published, never accepted.
	unknown *rsa.PrivateKey
}

// stranger is the unknown key, made on first use (an RSA key takes a
// moment, which no scenario without id-token-unknown-kid should pay).
func (k *keyRing) stranger() (*rsa.PrivateKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.unknown == nil {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, err
		}
		k.unknown = key
	}
	return k.unknown, nil
}

func newKeyRing(first *rsa.PrivateKey) *keyRing {
	return &keyRing{keys: []*rsa.PrivateKey{first}, listed: 1}
}

func kidFor(i int) string { return fmt.Sprintf("refreshsuite-%d", i+1) }

func (k *keyRing) current() (*rsa.PrivateKey, string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[len(k.keys)-1], kidFor(len(k.keys) - 1)
}

// signer is the current key for a token that goes out: from now on the key
// set lists it, if it did not.
func (k *keyRing) signer() (*rsa.PrivateKey, string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.listed = len(k.keys)
	return k.keys[len(k.keys)-1], kidFor(len(k.keys) - 1)
}

// public is the key published under kid, if the provider ever signed with it.
func (k *keyRing) public(kid string) (*rsa.PublicKey, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i, key := range k.keys {
		if kidFor(i) == kid {
			return &key.PublicKey, true
		}
	}
	return nil, false
}

// rotate adds a new signing key; announced, the key set lists it (and
// every key before it) at once, else only from its first token on.
func (k *keyRing) rotate(announced bool) (string, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.keys = append(k.keys, key)
	if announced {
		k.listed = len(k.keys)
	}
	return kidFor(len(k.keys) - 1), nil
}

func (k *keyRing) jwks() jose.JSONWebKeySet {
	k.mu.Lock()
	defer k.mu.Unlock()
	var set jose.JSONWebKeySet
	for i := k.listed - 1; i >= 0; i-- {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.keys[i].PublicKey, KeyID: kidFor(i), Algorithm: "RS256", Use: "sig"})
	}
	return set
}

// kidOf reads the kid from a JWT's header.
func kidOf(tok string) string {
	head, _, _ := strings.Cut(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Kid string `json:"kid"`
	}
	_ = json.Unmarshal(raw, &h)
	return h.Kid
}
