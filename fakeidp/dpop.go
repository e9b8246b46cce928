package fakeidp

// RFC 9449 (DPoP) at the provider, which fosite does not have: proofs are
// checked here, and what a proof binds is kept beside fosite's storage, by
// the same keys (the grant's request ID, the access token's fingerprint).
//
// A family of refresh tokens is bound at its code exchange or not at all:
// the code exchange of a public client with a valid proof binds it to the
// proof's key (section 5 requires that), and every refresh of it must then
// prove that key. A refresh of an unbound family with a proof gets a DPoP
// access token bound to that proof's key, and the family stays unbound:
// binding it later would make a refresh token the client already holds, and
// may have handed to another tab, suddenly demand a key. A confidential
// client's refresh tokens are bound to its authentication instead (section
// 5), so only its access tokens are DPoP. A client with DPoPNonce must put
// the provider's nonce in its token requests' proofs (section 8); a
// resource request's (userinfo) is never asked for one.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/refreshsuite/refreshsuite/timeline"
)

const (
	// dpopWindow is how far a proof's iat may be from the provider's clock,
	// either way, and so how long its jti is remembered.
	dpopWindow = 5 * time.Minute
	// maxProofs bounds the jti memory: past it, proofs are refused until
	// old ones leave the window, rather than a replay let through.
	maxProofs = 1 << 16
	// minRSABits: a smaller RSA key proves nothing.
	minRSABits = 2048
)

// dpopAlgs are the proof algorithms the provider verifies, as discovery
// lists them: asymmetric ones only (section 4.3), never none or HMAC.
var dpopAlgs = []string{"ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512", "EdDSA"}

// dpopAdvertised: DPoP is in discovery when any client can use it.
func (s *Server) dpopAdvertised() bool {
	return slices.ContainsFunc(s.cfg.Clients, func(c Client) bool { return c.DPoP != DPoPOff })
}

// proof is what a request's DPoP header proved: nothing (none sent), a key
// (jkt, its thumbprint), or why not.
type proof struct {
	sent  bool
	jkt   string
	nonce string // the proof's nonce claim
	err   error
}

func (p proof) valid() bool { return p.sent && p.err == nil }

// checks reports whether the mode verifies proofs at all; off and ignore
// read none.
func (m DPoPMode) checks() bool { return m == DPoPBind || m == DPoPRequire }

// readProof checks the request's DPoP proof (RFC 9449 section 4.3) for a
// client in mode at endpoint e; accessToken is the token a resource request
// presents, whose hash the proof's ath must be. A valid proof's jti is used
// up. A client without DPoP has its proof ignored, as any unknown header.
func (s *Server) readProof(ctx context.Context, r *http.Request, mode DPoPMode, e Endpoint, accessToken string) proof {
	vals := r.Header.Values("DPoP")
	switch {
	case len(vals) == 0:
		return proof{}
	case mode == DPoPOff:
		return proof{sent: true}
	case len(vals) > 1:
		return proof{sent: true, err: errors.New("more than one DPoP header")}
	}
	jkt, c, err := s.verifyProof(ctx, r, e, vals[0], accessToken)
	return proof{sent: true, jkt: jkt, nonce: c.Nonce, err: err}
}

// proofClaims are the claims of a DPoP proof the provider reads.
type proofClaims struct {
	JTI string `json:"jti"`
	HTM string `json:"htm"`
	HTU string `json:"htu"`
	// Raw: a NumericDate is a JSON number, and json.Number would take a
	// string too.
	IAT   json.RawMessage `json:"iat"`
	ATH   *string         `json:"ath"`
	Nonce string          `json:"nonce"`
}

func (s *Server) verifyProof(ctx context.Context, r *http.Request, e Endpoint, raw, accessToken string) (string, proofClaims, error) {
	var c proofClaims
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return "", c, errors.New("not a JWS in compact serialization")
	}
	var h struct {
		Typ string          `json:"typ"`
		Alg string          `json:"alg"`
		JWK json.RawMessage `json:"jwk"`
	}
	if err := decodeSegment(parts[0], &h); err != nil {
		return "", c, fmt.Errorf("header: %w", err)
	}
	if h.Typ != "dpop+jwt" {
		return "", c, fmt.Errorf("typ %q, want dpop+jwt", h.Typ)
	}
	if !slices.Contains(dpopAlgs, h.Alg) {
		return "", c, fmt.Errorf("alg %q is not an asymmetric algorithm the provider verifies (%s)", h.Alg, strings.Join(dpopAlgs, " "))
	}
	key, err := proofKey(h.JWK)
	if err != nil {
		return "", c, err
	}
	obj, err := jose.ParseSigned(raw)
	if err != nil {
		return "", c, fmt.Errorf("not a signed JWT: %v", err)
	}
	payload, err := obj.Verify(key)
	if err != nil {
		return "", c, errors.New("the signature does not verify with the jwk header's key")
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", c, fmt.Errorf("claims: %v", err)
	}
	for _, cl := range []struct{ name, v string }{{"jti", c.JTI}, {"htm", c.HTM}, {"htu", c.HTU}, {"iat", string(c.IAT)}} {
		if cl.v == "" {
			return "", c, fmt.Errorf("no %s claim", cl.name)
		}
	}
	if c.HTM != r.Method {
		return "", c, fmt.Errorf("htm %q, but the request is a %s", c.HTM, r.Method)
	}
	if !s.htuMatches(c.HTU, r, e) {
		return "", c, fmt.Errorf("htu %q is not this endpoint's URI (%s)", c.HTU, s.Endpoint(e))
	}
	iat, err := strconv.ParseFloat(string(c.IAT), 64)
	if err != nil || math.IsInf(iat, 0) {
		return "", c, fmt.Errorf("iat %s is not a number", c.IAT)
	}
	now := s.now(ctx)
	// In seconds first: an iat centuries off would overflow a Duration.
	off := iat - float64(now.UnixNano())/float64(time.Second)
	if math.Abs(off) > dpopWindow.Seconds() {
		return "", c, fmt.Errorf("iat is %.0f s from the provider's clock, more than %s either way", off, dpopWindow)
	}
	issued := now.Add(time.Duration(off * float64(time.Second)))
	if accessToken != "" {
		switch {
		case c.ATH == nil:
			return "", c, errors.New("no ath claim, which a proof presented with an access token needs")
		case *c.ATH != tokenHash(accessToken):
			return "", c, errors.New("ath is not the hash of the access token presented")
		}
	}
	if err := s.jtis.use(c.JTI, issued.Add(dpopWindow), now); err != nil {
		return "", c, err
	}
	sum, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", c, fmt.Errorf("jwk: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), c, nil
}

// privateMembers are the JWK members of a private or symmetric key (RFC
// 7518 section 6): a proof's jwk carries the public key only.
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// proofKey is the public key of a proof's jwk header.
func proofKey(raw json.RawMessage) (*jose.JSONWebKey, error) {
	if len(raw) == 0 {
		return nil, errors.New("no jwk header")
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, errors.New("the jwk header is not a JSON object")
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			return nil, fmt.Errorf("the jwk header carries a private or symmetric key (%q)", m)
		}
	}
	var key jose.JSONWebKey
	if err := key.UnmarshalJSON(raw); err != nil {
		return nil, fmt.Errorf("jwk: %v", err)
	}
	if !key.Valid() || !key.IsPublic() {
		return nil, errors.New("the jwk header is not a public key")
	}
	if k, ok := key.Key.(*rsa.PublicKey); ok && k.N.BitLen() < minRSABits {
		return nil, fmt.Errorf("an RSA key of %d bits, fewer than %d", k.N.BitLen(), minRSABits)
	}
	return &key, nil
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return errors.New("not base64url")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("not a JSON object")
	}
	return nil
}

// tokenHash is a proof's ath for a token (section 4.2).
func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// htuMatches compares a proof's htu with the URI the request was sent to,
// without query and fragment, normalized as section 4.3 asks (RFC 3986
// sections 6.2.2 and 6.2.3). That URI is the endpoint as the provider
// publishes it, or as the request reached it (scheme, Host and path): a
// proxy in front (Issuer) or another loopback name reach the same listener.
func (s *Server) htuMatches(htu string, r *http.Request, e Endpoint) bool {
	got, ok := normalizeURI(htu)
	if !ok {
		return false
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	for _, want := range []string{s.Endpoint(e), scheme + "://" + r.Host + r.URL.EscapedPath()} {
		if w, ok := normalizeURI(want); ok && w == got {
			return true
		}
	}
	return false
}

// normalizeURI is an http(s) URI without query and fragment, its scheme and
// host in lower case, a default port left out, an empty path "/", dot
// segments removed and percent-encoding normalized.
func normalizeURI(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || u.User != nil {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host += ":" + port
	}
	p := removeDotSegments(normalizeEscapes(u.EscapedPath()))
	if p == "" {
		p = "/"
	}
	return scheme + "://" + host + p, true
}

// normalizeEscapes decodes the percent-encoded unreserved characters of an
// escaped path and writes the other escapes' hex digits in upper case.
func normalizeEscapes(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+2 >= len(p) {
			b.WriteByte(p[i])
			continue
		}
		n, err := strconv.ParseUint(p[i+1:i+3], 16, 8)
		if err != nil {
			b.WriteByte(p[i])
			continue
		}
		c := byte(n)
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
		i += 2
	}
	return b.String()
}

// removeDotSegments is RFC 3986 section 5.2.4's.
func removeDotSegments(p string) string {
	var out []string
	segs := strings.Split(p, "/")
	for i, seg := range segs {
		last := i == len(segs)-1
		switch seg {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 1 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, seg)
		}
	}
	return strings.Join(out, "/")
}

// jtiBook remembers the jti of every valid proof until its iat leaves the
// window, when the proof would be refused as stale anyway.
type jtiBook struct {
	mu    sync.Mutex
	until map[[32]byte]time.Time
}

func newJTIBook() *jtiBook { return &jtiBook{until: map[[32]byte]time.Time{}} }

// use records jti, valid until then, refusing one seen before.
func (b *jtiBook) use(jti string, until, now time.Time) error {
	key := sha256.Sum256([]byte(jti)) // a fixed size, whatever the client sends
	b.mu.Lock()
	defer b.mu.Unlock()
	if t, ok := b.until[key]; ok && now.Before(t) {
		return errors.New("the jti was used before: a replayed proof")
	}
	if len(b.until) >= maxProofs {
		for k, t := range b.until {
			if !now.Before(t) {
				delete(b.until, k)
			}
		}
		if len(b.until) >= maxProofs {
			return fmt.Errorf("more than %d proofs within %s", maxProofs, dpopWindow)
		}
	}
	b.until[key] = until
	return nil
}

// newDPoPNonce is a provider's DPoP nonce: random, for the provider's life.
// A client that keeps the nonce it was given and one that asks again each
// time are both what section 8 allows.
func newDPoPNonce() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// nonceProved hands the client the provider's nonce (every answer of the
// token endpoint carries it, section 8.2) and refuses a valid proof that
// does not carry it, with the error_description of its use_dpop_nonce. A
// request without a proof is judged by the mode alone.
func (s *Server) nonceProved(w http.ResponseWriter, p proof, f timeline.Fields) error {
	w.Header().Set("DPoP-Nonce", s.nonce)
	switch {
	case !p.valid():
		return nil
	case p.nonce == "":
		f["dpop_nonce"] = "missing"
		return errors.New("The DPoP proof must carry the provider's nonce (the DPoP-Nonce header of this answer).")
	case p.nonce != s.nonce:
		f["dpop_nonce"] = "other"
		return errors.New("The DPoP proof carries another nonce than the provider's (the DPoP-Nonce header of this answer).")
	}
	f["dpop_nonce"] = "current"
	return nil
}

type dpopKeyCtx struct{}

// withBoundKey tells the token strategies the key the tokens being issued
// are bound to (a JWT access token's cnf claim).
func withBoundKey(ctx context.Context, jkt string) context.Context {
	return context.WithValue(ctx, dpopKeyCtx{}, jkt)
}

func boundKey(ctx context.Context) string {
	jkt, _ := ctx.Value(dpopKeyCtx{}).(string)
	return jkt
}

// recordProof says in a request's entry what its proof was: none, valid,
// invalid (and why) or, for a client without DPoP, ignored.
func recordProof(f timeline.Fields, mode DPoPMode, p proof) {
	switch {
	case mode == DPoPOff:
		if p.sent {
			f["dpop"] = "ignored"
		}
	case !p.sent:
		f["dpop"] = "none"
	case p.err != nil:
		f["dpop"], f["dpop_error"] = "invalid", p.err.Error()
	default:
		f["dpop"], f["dpop_jkt"] = "valid", p.jkt
	}
}

// tokenProof reads and records the proof of a token request by a client in
// mode, and refuses the request when the mode does, with the
// error_description of its invalid_dpop_proof: a bad proof, or none where
// one is required (section 5.2).
func (s *Server) tokenProof(ctx context.Context, r *http.Request, mode DPoPMode, f timeline.Fields) (proof, error) {
	p := s.readProof(ctx, r, mode, EndpointToken, "")
	recordProof(f, mode, p)
	switch {
	case !mode.checks():
		return p, nil
	case p.err != nil:
		return p, fmt.Errorf("The DPoP proof is not valid: %v.", p.err)
	case !p.sent && mode == DPoPRequire:
		return p, errors.New("The client must send a DPoP proof with every token request.")
	}
	return p, nil
}

// codeBinding refuses the exchange of a code whose /authorize named a
// dpop_jkt (section 10) without a proof of that key. It runs before fosite
// reads the request: fosite spends the code's PKCE session as it reads it,
// and the code must stay good for a request with the right proof.
func (s *Server) codeBinding(form url.Values, mode DPoPMode, p proof) error {
	if !mode.checks() || form.Get("grant_type") != "authorization_code" {
		return nil
	}
	return keyProved(s.tokens.keyOf(form.Get("code")), "The authorization code is bound to the DPoP key dpop_jkt named", p)
}

// refreshBinding refuses a refresh of a bound family that does not prove
// its key. It runs after fosite has read the request and before it answers,
// so the refresh token stays valid, as at a provider that refused the
// request outright.
func (s *Server) refreshBinding(ar fosite.AccessRequester, mode DPoPMode, p proof) error {
	if !mode.checks() || !ar.GetGrantTypes().ExactOne("refresh_token") {
		return nil
	}
	if err := keyProved(s.grants.get(ar.GetID()).jkt, "The refresh token is bound to a DPoP key", p); err != nil {
		return fosite.ErrInvalidGrant.WithHint(err.Error())
	}
	return nil
}

// keyProved checks that p proves the key jkt, when there is one, saying
// what is bound to it when not.
func keyProved(jkt, what string, p proof) error {
	switch {
	case jkt == "":
		return nil
	case !p.valid():
		return fmt.Errorf("%s, and the request has no DPoP proof.", what)
	case p.jkt != jkt:
		return fmt.Errorf("%s, and the DPoP proof is made with another key.", what)
	}
	return nil
}

// bindIssued notes what a token response bound to the proof's key: its
// access token, and at a public client's code exchange the family.
func (s *Server) bindIssued(ar fosite.AccessRequester, mode DPoPMode, p proof, at string) {
	if !mode.checks() || !p.valid() {
		return
	}
	s.tokens.bindKey(at, p.jkt)
	if ar.GetGrantTypes().ExactOne("authorization_code") && ar.GetClient().IsPublic() {
		s.grants.update(ar.GetID(), func(g *grant) { g.jkt = p.jkt })
	}
}

// reusesRefreshToken reports whether a refresh of grant hands its refresh
// token back instead of rotating it.
func (s *Server) reusesRefreshToken(cl Client, grant string) bool {
	switch cl.Rotation {
	case Reuse:
		return true
	case Unbound:
		return s.grants.get(grant).jkt != ""
	}
	return false
}

// resourceToken is the access token a userinfo request presents and how:
// "dpop" (Authorization: DPoP, section 7.1), else whatever fosite reads
// (a Bearer header, "bearer"; an access_token parameter, "parameter").
func resourceToken(r *http.Request) (tok, scheme string) {
	if kind, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(kind, "DPoP") {
		return strings.TrimSpace(tok), "dpop"
	}
	tok = fosite.AccessTokenFromRequest(r)
	switch {
	case tok == "":
		return "", ""
	case strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "bearer "):
		return tok, "bearer"
	}
	return tok, "parameter"
}

// resourceRefusal judges an access token a client in mode presents at a
// resource (userinfo) as scheme, with the request's proof p: a token bound
// to a key (jkt) is accepted only as DPoP, with a valid proof of that key
// (sections 7.1 and 7.2); an unbound one only as Bearer. It returns the
// error code and a description, or "" to accept.
func resourceRefusal(mode DPoPMode, scheme, jkt string, p proof) (code, desc string) {
	switch {
	case mode == DPoPIgnore:
		return "", ""
	case scheme != "dpop" && jkt != "":
		return "invalid_token", "The access token is bound to a DPoP key: present it with the DPoP scheme and a proof."
	case scheme != "dpop":
		return "", ""
	case mode == DPoPOff:
		return "invalid_token", "The provider does not take the DPoP scheme from this client."
	case !p.sent:
		return "invalid_token", "The DPoP scheme needs a DPoP proof."
	case p.err != nil:
		return "invalid_dpop_proof", "The DPoP proof is invalid: " + p.err.Error() + "."
	case jkt == "":
		return "invalid_token", "The access token is not bound to a DPoP key: present it as a Bearer token."
	case p.jkt != jkt:
		return "invalid_token", "The access token is bound to another DPoP key."
	}
	return "", ""
}

// dpopChallenge is the WWW-Authenticate of a refused DPoP resource request
// (section 7.1): the error code and the algorithms a proof may use. The
// description goes in the body, where a client's own text in it needs no
// quoting.
func dpopChallenge(code string) string {
	return fmt.Sprintf(`DPoP error=%q, algs=%q`, code, strings.Join(dpopAlgs, " "))
}
