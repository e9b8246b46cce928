package fakeidp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/token/jwt"

	"github.com/refreshsuite/refreshsuite/timeline"
	"github.com/refreshsuite/refreshsuite/vocab"
)

// Anomalies are faults that answer with the response a correct provider
// sends, but for one thing a client must catch (or, for some, must cope
// with): a claim of the id_token, its signature, the state, a field of a
// refresh response. Everything else is as it always is: the id_token is
// freshly made by fosite and signed with the current key, unless the
// signature is the anomaly.

// AnomalyOffset is how far id-token-expired puts exp before now and
// id-token-future-iat puts iat after now: past every client's clock-skew
// tolerance (angular-oauth2-oidc allows 10 minutes, oidc-client-ts 5), so
// a client that accepts the token accepts it for no tolerance's sake.
const AnomalyOffset = time.Hour

// unknownKid names the key id-token-unknown-kid signs with: one the
// provider never publishes and never accepts.
const unknownKid = "refreshsuite-unknown"

// alterState gives an authorization response, a success's parameters or
// (params nil) an error's request, another state than the request's.
func alterState(a *anomaly, ar fosite.AuthorizeRequester, params url.Values) {
	if a == nil || a.do != "wrong-state" || ar == nil || ar.GetState() == "" {
		return
	}
	if params != nil {
		params.Set("state", another(ar.GetState()))
		a.altered = "state"
		return
	}
	if req, ok := ar.(*fosite.AuthorizeRequest); ok && delivery(ar) != "" {
		// fosite writes an error's state from the request.
		req.State = another(req.State)
		a.altered = "state"
	}
}

// alterRefresh applies a refresh anomaly to a token response; it tells
// what it did in f (response_scope) and a.
func alterRefresh(a *anomaly, resp *fosite.AccessResponse, granted, registered []string, f timeline.Fields) {
	x, ok := vocab.RefreshAnomalies[a.do]
	if !ok {
		return
	}
	field := x.Altered
	switch a.do {
	case "refresh-no-refresh-token", "refresh-no-id-token", "refresh-no-expires-in":
		if _, ok := resp.Extra[field]; !ok {
			return
		}
		delete(resp.Extra, field)
	case "refresh-expires-in-string":
		n, ok := resp.Extra[field].(int64)
		if !ok {
			return
		}
		resp.Extra[field] = strconv.FormatInt(n, 10)
	case "refresh-narrower-scope", "refresh-wider-scope":
		scope := narrower(granted)
		if a.do == "refresh-wider-scope" {
			scope = wider(granted, registered)
		}
		resp.SetScopes(scope)
		f["response_scope"] = strings.Join(scope, " ")
	}
	a.altered = field
}

// narrower is granted without one scope, one that takes nothing the
// response itself shows the client still has (openid, offline_access)
// where it can.
func narrower(granted []string) []string {
	if len(granted) == 0 {
		return granted
	}
	i := slices.IndexFunc(granted, func(sc string) bool { return sc != "openid" && sc != "offline_access" })
	if i < 0 {
		i = len(granted) - 1
	}
	return slices.Delete(slices.Clone(granted), i, i+1)
}

// wider is granted plus a scope it lacks: one the client may ask for,
// else one nobody may.
func wider(granted, registered []string) []string {
	for _, sc := range registered {
		if !slices.Contains(granted, sc) {
			return append(slices.Clone(granted), sc)
		}
	}
	return append(slices.Clone(granted), "another-scope")
}

// keepsRefreshToken: the request's response is to hand out no refresh
// token, so the store keeps the presented one alive.
func keepsRefreshToken(ctx context.Context) bool {
	a := anomalyOf(ctx)
	return a != nil && a.do == "refresh-no-refresh-token"
}

// misbehave starts what an action that alters a response does: the
// anomaly the response is to carry, or for rotate-signing-key-unannounced
// the rotation itself.
func (s *Server) misbehave(ctx context.Context, do string) (context.Context, *anomaly, error) {
	if do == "rotate-signing-key-unannounced" {
		kid, err := s.keys.rotate(false)
		if err != nil {
			return ctx, nil, err
		}
		s.record(ctx, "idp.key-rotated", timeline.Fields{"kid": kid, "published": "after-first-token"})
		return ctx, nil, nil
	}
	ctx, a := withAnomaly(ctx, do)
	return ctx, a, nil
}

// anomaly is the one a request's response is to carry; altered says what
// was altered, once it was (nothing when the response had nothing to
// alter, such as no id_token).
type anomaly struct {
	do      string
	altered string
}

type anomalyKey struct{}

func withAnomaly(ctx context.Context, do string) (context.Context, *anomaly) {
	a := &anomaly{do: do}
	return context.WithValue(ctx, anomalyKey{}, a), a
}

// anomalyOf is the request's anomaly, or nil.
func anomalyOf(ctx context.Context) *anomaly {
	a, _ := ctx.Value(anomalyKey{}).(*anomaly)
	return a
}

// another is a value that is plainly not v, and never equal to it.
func another(v string) string { return "another-" + v }

// alterIDToken applies an id_token anomaly to claims (as the provider would
// sign them) and signs the result. nonce is the one the authorization had,
// which a refreshed id_token no longer carries.
func (s *Server) alterIDToken(ctx context.Context, a *anomaly, claims map[string]any, client, nonce string) (string, error) {
	altered := vocab.IDTokenAnomalies[a.do].Altered
	switch a.do {
	case "id-token-wrong-iss":
		claims["iss"] = s.origin + "/another-issuer"
	case "id-token-wrong-sub":
		sub, _ := claims["sub"].(string)
		claims["sub"] = another(sub)
	case "id-token-wrong-aud":
		claims["aud"] = []string{another(client)}
	case "id-token-wrong-azp":
		claims["azp"] = another(client)
	case "id-token-no-nonce":
		if _, ok := claims["nonce"]; !ok {
			altered = ""
		}
		delete(claims, "nonce")
	case "id-token-wrong-nonce":
		claims["nonce"] = another(nonce)
	case "id-token-wrong-at-hash":
		h, ok := claims["at_hash"].(string)
		if !ok {
			altered = ""
			break
		}
		// The hash of another access token: the same length and form.
		sum := sha256.Sum256([]byte(another(h)))
		claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
	case "id-token-expired":
		iat, _ := numClaim(claims, "iat")
		claims["exp"] = iat - int64(AnomalyOffset/time.Second)
	case "id-token-future-iat":
		iat, _ := numClaim(claims, "iat")
		claims["iat"] = iat + int64(AnomalyOffset/time.Second)
	}
	a.altered = altered
	switch a.do {
	case "id-token-unknown-kid":
		key, err := s.keys.stranger()
		if err != nil {
			return "", err
		}
		return signWith(ctx, key, unknownKid, claims, "")
	case "id-token-no-kid":
		key, _ := s.keys.signer()
		return signWith(ctx, key, "", claims, "")
	case "id-token-alg-none":
		_, kid := s.keys.current()
		tok := jwt.NewWithClaims(jose.SignatureAlgorithm("none"), jwt.MapClaims(claims))
		tok.Header["kid"] = kid
		return tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	case "id-token-bad-signature":
		tok, err := s.sign(ctx, claims, "")
		if err != nil {
			return "", err
		}
		return breakSignature(tok), nil
	}
	return s.sign(ctx, claims, "")
}

// breakSignature flips one bit of a JWS's signature, so that it is well
// formed and of the right length, and verifies with no key.
func breakSignature(tok string) string {
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[len(parts)-1])
	if err != nil || len(raw) == 0 {
		return tok
	}
	raw[len(raw)/2] ^= 0x01
	parts[len(parts)-1] = base64.RawURLEncoding.EncodeToString(raw)
	return strings.Join(parts, ".")
}

// carried holds the id_token anomaly a login or silent renewal by the code
// flow fired at /authorize, by the fingerprint of its code: the id_token
// comes from the code's exchange, which carries it.
type carried struct {
	mu     sync.Mutex
	byCode map[string]string
}

func (c *carried) put(code, do string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byCode == nil {
		c.byCode = map[string]string{}
	}
	c.byCode[fingerprint(code)] = do
}

func (c *carried) get(code string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	do, ok := c.byCode[fingerprint(code)]
	return do, ok
}

// stated holds, per grant (fosite's request ID, which a refresh keeps), the
// scopes a wider-scope anomaly told the client it had beyond those fosite
// granted. The IdP keeps its word: a later refresh asking for them is within
// the grant as far as the client can know, so scopeWithinGrant allows them
// and only a scope the IdP never stated is refused.
type stated struct {
	mu      sync.Mutex
	byGrant map[string][]string
}

func (s *stated) add(grant string, scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byGrant == nil {
		s.byGrant = map[string][]string{}
	}
	for _, sc := range scopes {
		if !slices.Contains(s.byGrant[grant], sc) {
			s.byGrant[grant] = append(s.byGrant[grant], sc)
		}
	}
}

func (s *stated) has(grant, scope string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.byGrant[grant], scope)
}
