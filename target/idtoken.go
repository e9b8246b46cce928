package target

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// Claims are the id_token claims OpenID Connect Core 12.2 speaks of.
type Claims struct {
	Iss      string
	Sub      string
	Aud      []string
	Azp      string
	Nonce    string
	Iat      int64
	Exp      int64
	AuthTime int64
}

// DecodeClaims reads a JWT's payload without checking its signature; an
// opaque token is an error.
func DecodeClaims(tok string) (Claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return Claims{}, errors.New("not a JWT")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("not a JWT: payload is not base64url")
	}
	var p struct {
		Iss      string          `json:"iss"`
		Sub      string          `json:"sub"`
		Aud      json.RawMessage `json:"aud"`
		Azp      string          `json:"azp"`
		Nonce    string          `json:"nonce"`
		Iat      json.Number     `json:"iat"`
		Exp      json.Number     `json:"exp"`
		AuthTime json.Number     `json:"auth_time"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return Claims{}, errors.New("not a JWT: payload is not a JSON object")
	}
	c := Claims{Iss: p.Iss, Sub: p.Sub, Azp: p.Azp, Nonce: p.Nonce}
	c.Iat, _ = p.Iat.Int64()
	c.Exp, _ = p.Exp.Int64()
	c.AuthTime, _ = p.AuthTime.Int64()
	var one string
	if json.Unmarshal(p.Aud, &one) == nil {
		c.Aud = []string{one}
	} else {
		_ = json.Unmarshal(p.Aud, &c.Aud)
	}
	slices.Sort(c.Aud)
	return c, nil
}

// KeySet reads and caches an IdP's JWKS; an unknown kid reads it again once.
type KeySet struct {
	URI    string
	Client *http.Client
	set    *jose.JSONWebKeySet
}

func (k *KeySet) fetch(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.URI, nil)
	if err != nil {
		return err
	}
	resp, err := k.Client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", k.URI, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", k.URI, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", k.URI, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		return fmt.Errorf("GET %s: not a JWK set: %v", k.URI, err)
	}
	k.set = &set
	return nil
}

// Signature says how an id_token's signature checks against the key set:
// valid, invalid (no published key verifies it), unknown-kid, unsigned (alg
// none) or unchecked (the key set could not be read; err says why).
func (k *KeySet) Signature(ctx context.Context, tok string) (string, error) {
	head, _, _ := strings.Cut(tok, ".")
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if raw, err := base64.RawURLEncoding.DecodeString(head); err == nil {
		_ = json.Unmarshal(raw, &h)
	}
	if strings.EqualFold(h.Alg, "none") {
		return "unsigned", nil
	}
	obj, err := jose.ParseSigned(tok)
	if err != nil {
		return "invalid", err
	}
	for attempt := 0; attempt < 2; attempt++ {
		if k.set == nil || attempt == 1 {
			if err := k.fetch(ctx); err != nil {
				return "unchecked", err
			}
		}
		keys := k.set.Keys
		if h.Kid != "" {
			keys = k.set.Key(h.Kid)
			if len(keys) == 0 {
				continue // perhaps published since: read the set again
			}
		}
		for _, key := range keys {
			if _, err := obj.Verify(key.Key); err == nil {
				return "valid", nil
			}
		}
		if h.Kid != "" {
			return "invalid", fmt.Errorf("the key %q does not verify it", h.Kid)
		}
	}
	if h.Kid != "" {
		return "unknown-kid", fmt.Errorf("the key set at %s has no key %q", k.URI, h.Kid)
	}
	return "invalid", fmt.Errorf("no key of %s verifies it", k.URI)
}

// Refreshed compares a refreshed id_token's claims with the login's, as OpenID
// Connect Core 12.2 requires: the same iss, sub, aud and azp, the auth_time of
// the original authentication, no nonce or the login's, a fresh iat and an
// exp still ahead. Every value is one word for the timeline; problems lists
// the claims that break the rule, space-separated.
func Refreshed(login, now Claims, at time.Time) (fields map[string]string, problems []string) {
	same := func(ok bool) string {
		if ok {
			return "same"
		}
		return "changed"
	}
	f := map[string]string{
		"iss": same(now.Iss == login.Iss), "sub": same(now.Sub == login.Sub),
		"aud": same(slices.Equal(now.Aud, login.Aud)), "azp": same(now.Azp == login.Azp || login.Azp == "" && (now.Azp == "" || slices.Equal([]string{now.Azp}, login.Aud))),
	}
	switch {
	case now.AuthTime == 0:
		f["auth_time"] = "none"
	default:
		f["auth_time"] = same(now.AuthTime == login.AuthTime)
	}
	switch {
	case now.Nonce == "":
		f["nonce"] = "none"
	default:
		f["nonce"] = same(now.Nonce == login.Nonce)
	}
	f["iat"] = "fresh"
	if now.Iat <= login.Iat {
		f["iat"] = "stale"
	}
	f["exp"] = "ahead"
	if now.Exp <= at.Unix() {
		f["exp"] = "past"
	}
	for _, k := range []string{"iss", "sub", "aud", "azp", "auth_time", "nonce"} {
		if f[k] == "changed" {
			problems = append(problems, k)
		}
	}
	if f["iat"] == "stale" {
		problems = append(problems, "iat")
	}
	if f["exp"] == "past" {
		problems = append(problems, "exp")
	}
	return f, problems
}
