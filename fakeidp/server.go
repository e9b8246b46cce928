// Package fakeidp is the embedded OpenID provider: fosite's real handlers composed
// into a provider that issues short-lived tokens, keeps a login session in a
// cookie, records every request into the scenario timeline and misbehaves on
// purpose when a scenario declares a fault.
package fakeidp

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
	"golang.org/x/crypto/bcrypt"

	"github.com/refreshsuite/refreshsuite/timeline"
	"github.com/refreshsuite/refreshsuite/tlsca"
	"github.com/refreshsuite/refreshsuite/vocab"
)

const (
	sessionCookie = "refreshsuite_idp_session"
	// ActorHeader marks requests the harness makes itself (a refresh-token replay),
	// so the timeline can tell them from the client's.
	ActorHeader = "X-Refreshsuite-Actor"
)

// Server is a running provider. It listens until Close.
type Server struct {
	// URL is the issuer exactly as tokens carry it, for example
	// http://127.0.0.1:43117, https://localhost:43117/ or
	// https://127.0.0.1:43117/realms/refreshsuite. Endpoint gives the URL of
	// an endpoint; URL+"/token" is one only in the default layout.
	URL      string
	Timeline *timeline.Timeline

	origin   string
	paths    map[Endpoint]string
	ca       *tlsca.CA
	client   *http.Client
	cfg      Config
	clients  map[string]Client
	origins  map[string]bool
	oauth    fosite.OAuth2Provider
	keys     *keyRing
	faults   *faultSet
	sessions *sessions
	grants   *grantBook
	tokens   *tokenBook
	jtis     *jtiBook
	// nonce is the provider's DPoP nonce (RFC 9449 section 8), for the
	// clients that demand one (DPoPNonce).
	nonce     string
	carried   carried
	stated    stated
	ln        net.Listener
	http      *http.Server
	done      chan struct{}
	closing   chan struct{} // closed by Close: slow and hold faults stop waiting
	holds     holds
	closeOnce sync.Once
}

// Start builds the provider and serves it in the background. tl receives every
// request; nil gives the server a timeline of its own on the real clock.
func Start(cfg Config, tl *timeline.Timeline) (*Server, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if tl == nil {
		tl = timeline.New(nil)
	}
	var ca *tlsca.CA
	if c.HTTPS {
		if ca = c.CA; ca == nil {
			if ca, err = tlsca.Shared(); err != nil {
				return nil, fmt.Errorf("fakeidp: %w", err)
			}
		}
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("fakeidp: listen %s: %w", c.Addr, err)
	}
	origin, issuer := c.issuer(ln.Addr().String())
	s, err := build(c, origin, issuer, tl)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.ln, s.ca = ln, ca
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, ErrorLog: log.New(quietHandshakes{os.Stderr}, "", log.LstdFlags)}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if ca != nil {
		u, _ := url.Parse(origin)
		leaf, err := ca.Leaf(leafHosts(u.Hostname(), ln.Addr().String())...)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("fakeidp: %w", err)
		}
		s.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{leaf}, MinVersion: tls.VersionTLS12}
		transport.TLSClientConfig = &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
	}
	s.client = &http.Client{Transport: transport}
	if c.ClockSkew != 0 {
		s.Timeline.Add("idp.clock-skew", timeline.Fields{"skew_ms": ms(c.ClockSkew)})
	}
	go func() {
		defer close(s.done)
		if ca != nil {
			_ = s.http.ServeTLS(ln, "", "")
		} else {
			_ = s.http.Serve(ln)
		}
	}()
	return s, nil
}

// quietHandshakes drops net/http's "TLS handshake error" lines: a client that
// does not trust the CA (a test proving it must not) reports it itself, and
// a browser retries, so the lines would only bury what matters.
type quietHandshakes struct{ w io.Writer }

func (q quietHandshakes) Write(b []byte) (int, error) {
	if bytes.Contains(b, []byte("TLS handshake error")) {
		return len(b), nil
	}
	return q.w.Write(b)
}

// issuer is the origin every endpoint is under, and the issuer: the
// override as given, else the listener's (or Host's) origin with the
// layout's path and, when asked, a trailing slash.
func (c *Config) issuer(listening string) (origin, issuer string) {
	if c.Issuer != "" {
		u, _ := url.Parse(c.Issuer) // checked by withDefaults
		return u.Scheme + "://" + u.Host, c.Issuer
	}
	host, port, _ := net.SplitHostPort(listening)
	if c.Host != "" {
		host = c.Host
	}
	scheme := "http"
	if c.HTTPS {
		scheme = "https"
	}
	origin = scheme + "://" + net.JoinHostPort(host, port)
	issuer = origin + issuerPath(c.Layout, c.Realm)
	if c.IssuerTrailingSlash {
		issuer += "/"
	}
	return origin, issuer
}

// leafHosts are the names the certificate covers: every loopback name (a
// client may reach a loopback IdP by any of them), the issuer's host and the
// listening IP.
func leafHosts(issuerHost, listening string) []string {
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	ip, _, _ := net.SplitHostPort(listening)
	for _, h := range []string{issuerHost, ip} {
		if p := net.ParseIP(h); (p == nil || !p.IsUnspecified()) && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

func build(c Config, origin, issuer string, tl *timeline.Timeline) (*Server, error) {
	key := c.SigningKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("fakeidp: signing key: %w", err)
		}
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, fmt.Errorf("fakeidp: global secret: %w", err)
	}
	s := &Server{
		URL:      issuer,
		Timeline: tl,
		origin:   origin,
		paths:    layoutPaths(c.Layout, c.Realm),
		cfg:      c,
		clients:  map[string]Client{},
		origins:  map[string]bool{},
		keys:     newKeyRing(key),
		faults:   newFaultSet(c.Faults),
		sessions: newSessions(),
		grants:   newGrantBook(),
		tokens:   newTokenBook(),
		jtis:     newJTIBook(),
		nonce:    newDPoPNonce(),
		done:     make(chan struct{}),
		closing:  make(chan struct{}),
	}
	fositeClients := map[string]fosite.Client{}
	for _, cl := range c.Clients {
		s.clients[cl.ID] = cl
		for _, o := range cl.Origins {
			s.origins[strings.TrimSuffix(o, "/")] = true
		}
		fc, err := newFositeClient(cl)
		if err != nil {
			return nil, err
		}
		fositeClients[cl.ID] = fc
	}
	s.oauth = s.compose(newStore(fositeClients, s), secret)
	return s, nil
}

// compose assembles fosite's handlers the way compose.Compose does, but against a
// Configurator that answers the refresh-token policy per client.
func (s *Server) compose(st *store, secret []byte) fosite.OAuth2Provider {
	base := &fosite.Config{
		AccessTokenLifespan:          internalLifespan,
		RefreshTokenLifespan:         internalLifespan,
		IDTokenLifespan:              internalLifespan,
		AuthorizeCodeLifespan:        internalLifespan,
		IDTokenIssuer:                s.URL,
		AccessTokenIssuer:            s.URL,
		TokenURL:                     s.Endpoint(EndpointToken),
		GlobalSecret:                 secret,
		EnforcePKCEForPublicClients:  true,
		ScopeStrategy:                fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:     fosite.DefaultAudienceMatchingStrategy,
		ResponseModeHandlerExtension: messageModes{s},
	}
	cfg := &providerConfig{Config: base, server: s}
	keyGetter := func(context.Context) (interface{}, error) { k, _ := s.keys.current(); return k, nil }
	signer := hintSigner{&jwt.DefaultSigner{GetPrivateKey: keyGetter}, s}
	strategy := &compose.CommonStrategy{
		CoreStrategy:               clockedStrategy{compose.NewOAuth2HMACStrategy(base), s},
		OpenIDConnectTokenStrategy: idTokenStrategy{&openid.DefaultStrategy{Signer: signer, Config: cfg}, s},
		Signer:                     signer,
	}
	for _, factory := range []compose.Factory{
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2AuthorizeImplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectImplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
	} {
		h := factory(cfg, st, strategy)
		if ah, ok := h.(fosite.AuthorizeEndpointHandler); ok {
			base.AuthorizeEndpointHandlers.Append(ah)
		}
		if th, ok := h.(fosite.TokenEndpointHandler); ok {
			base.TokenEndpointHandlers.Append(th)
		}
		if ih, ok := h.(fosite.TokenIntrospector); ok {
			base.TokenIntrospectionHandlers.Append(ih)
		}
		if rh, ok := h.(fosite.RevocationHandler); ok {
			base.RevocationHandlers.Append(rh)
		}
	}
	return fosite.NewOAuth2Provider(st, cfg)
}

// providerConfig answers fosite's refresh-token scope question per client: fosite
// asks it with the request's context only, so the handlers put the client ID there.
type providerConfig struct {
	*fosite.Config
	server *Server
}

type clientIDKey struct{}

func (c *providerConfig) GetRefreshTokenScopes(ctx context.Context) []string {
	id, _ := ctx.Value(clientIDKey{}).(string)
	if cl, ok := c.server.clients[id]; ok && cl.RefreshTokens == Always {
		return []string{} // empty, not nil: fosite then issues a refresh token whatever the scope
	}
	return []string{"offline_access"}
}

// fositeClient is a fosite client with the response modes an SPA uses. Its
// lifespans for fosite are long on purpose (see clock.go): the client's real
// lifetimes are applied on the scenario clock.
type fositeClient struct {
	*fosite.DefaultClient
	cfg Client
}

func newFositeClient(c Client) (*fositeClient, error) {
	grants := []string{"authorization_code", "implicit"}
	if c.RefreshTokens != Never {
		grants = append(grants, "refresh_token")
	}
	dc := &fosite.DefaultClient{
		ID:            c.ID,
		RedirectURIs:  c.RedirectURIs,
		GrantTypes:    grants,
		ResponseTypes: []string{"code", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"},
		Scopes:        c.Scopes,
		Public:        c.Secret == "",
	}
	if c.Secret != "" {
		h, err := bcrypt.GenerateFromPassword([]byte(c.Secret), bcrypt.MinCost)
		if err != nil {
			return nil, err
		}
		dc.Secret = h
	}
	return &fositeClient{DefaultClient: dc, cfg: c}, nil
}

func (c *fositeClient) GetResponseModes() []fosite.ResponseModeType {
	modes := []fosite.ResponseModeType{fosite.ResponseModeDefault}
	for _, m := range c.cfg.ResponseModes {
		modes = append(modes, fosite.ResponseModeType(m))
	}
	return modes
}

func (c *fositeClient) GetEffectiveLifespan(fosite.GrantType, fosite.TokenType, time.Duration) time.Duration {
	return internalLifespan
}

// Close stops the server and waits for it.
func (s *Server) Close() {
	if s.http == nil {
		return
	}
	s.closeOnce.Do(func() { close(s.closing) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		s.http.Close()
	}
	<-s.done
	s.client.CloseIdleConnections()
}

// HTTPClient is a client for the harness's own requests to the provider
// (replaying a token): over https it trusts the provider's CA, and only
// the system's roots besides.
func (s *Server) HTTPClient() *http.Client { return s.client }

// CA is the authority of the provider's certificate, nil over http.
func (s *Server) CA() *tlsca.CA { return s.ca }

// RotateSigningKey makes the provider sign with a new key from now on; the key
// set keeps the old key too, so tokens already issued stay verifiable.
func (s *Server) RotateSigningKey() error {
	kid, err := s.keys.rotate(true)
	if err != nil {
		return err
	}
	s.Timeline.Add("idp.key-rotated", timeline.Fields{"kid": kid, "published": "at-once"})
	return nil
}

// Clients returns every client's effective settings, in configuration order.
func (s *Server) Clients() []Client { return s.cfg.Clients }

// Client returns a client's effective settings, defaults filled in.
func (s *Server) Client(id string) Client { return s.clients[id] }

// Addr is the listening address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// EndSessions forgets every login session, as when the user logs out in another
// tab or the IdP's session expires: prompt=none then answers login_required.
func (s *Server) EndSessions() {
	n := s.sessions.clear()
	s.Timeline.Add("idp.sessions-ended", timeline.Fields{"count": fmt.Sprint(n)})
}

// Token returns the token behind a fingerprint the timeline shows, for the
// harness's own requests (replaying a rotated refresh token). Tokens never enter
// the timeline or a log in full.
func (s *Server) Token(fingerprint string) (string, bool) { return s.tokens.get(fingerprint) }

// Handler serves every endpoint of the provider's layout, and records every
// other request as idp.not-found.
func (s *Server) Handler() http.Handler {
	get, post, getPost := []string{http.MethodGet}, []string{http.MethodPost}, []string{http.MethodGet, http.MethodPost}
	token, revoke := s.token, s.revoke
	if s.cfg.Layout == LayoutAuth0 {
		token, revoke = jsonBody(token), jsonBody(revoke)
	}
	handlers := map[Endpoint]http.HandlerFunc{
		EndpointDiscovery:              s.cors(EndpointDiscovery, corsPublic, get, s.discovery),
		EndpointJWKS:                   s.cors(EndpointJWKS, corsPublic, get, s.jwks),
		EndpointAuthorize:              s.cors(EndpointAuthorize, corsNone, nil, s.authorize),
		EndpointToken:                  s.cors(EndpointToken, corsCredentialed, post, token),
		EndpointRevoke:                 s.cors(EndpointRevoke, corsCredentialed, post, revoke),
		EndpointUserinfo:               s.cors(EndpointUserinfo, corsCredentialed, getPost, s.userinfo),
		EndpointEndSession:             s.cors(EndpointEndSession, corsNone, nil, s.endSession),
		EndpointAuth0Logout:            s.cors(EndpointAuth0Logout, corsNone, nil, s.auth0Logout),
		EndpointThirdPartyCookies:      s.cors(EndpointThirdPartyCookies, corsNone, nil, s.thirdPartyStep1),
		EndpointThirdPartyCookiesStep2: s.cors(EndpointThirdPartyCookiesStep2, corsNone, nil, s.thirdPartyStep2),
	}
	mux := http.NewServeMux()
	for e, p := range s.paths {
		mux.HandleFunc(p, handlers[e])
	}
	mux.HandleFunc("/", s.notFound)
	return s.clocked(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// ServeMux answers a path it would clean (//token, /a/../token)
		// with a redirect to the clean one; the provider serves the paths
		// it serves, and nothing else, as a real one does.
		if p := r.URL.Path; p == "" || p[0] != '/' || strings.Contains(p, "//") || strings.Contains(p+"/", "/./") || strings.Contains(p+"/", "/../") {
			s.notFound(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	}))
}

// notFound records a request for a path the layout does not serve.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.record(r.Context(), "idp.not-found", timeline.Fields{
		"method": r.Method, "path": redactPath(r.URL.EscapedPath()), "origin": r.Header.Get("Origin"), "status": "404",
	})
	http.NotFound(w, r)
}

// redactPath keeps a path readable without what a client may have put in it
// by mistake: a segment longer than any of the provider's own (tokens are)
// becomes its fingerprint. The query is never recorded.
func redactPath(p string) string {
	parts := strings.Split(p, "/")
	for i, seg := range parts {
		if len(seg) > 32 {
			parts[i] = fingerprint(seg)
		}
	}
	return timeline.Redact(strings.Join(parts, "/"))
}

// jsonBody lets an endpoint take a JSON object as a form, as Auth0's do:
// auth0-spa-js posts JSON when its useFormData is false.
func jsonBody(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); r.Method != http.MethodPost || !strings.HasPrefix(ct, "application/json") {
			next(w, r)
			return
		}
		var body map[string]any
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&body); err != nil {
			writeJSONError(w, http.StatusBadRequest, "invalid_request", "The body is not a JSON object.")
			return
		}
		form := url.Values{}
		for k, v := range body {
			switch x := v.(type) {
			case string:
				form.Set(k, x)
			case float64:
				form.Set(k, strconv.FormatFloat(x, 'f', -1, 64))
			case bool:
				form.Set(k, strconv.FormatBool(x))
			}
		}
		enc := form.Encode()
		r.Body = io.NopCloser(bytes.NewReader([]byte(enc)))
		r.ContentLength = int64(len(enc))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		next(w, r)
	}
}

type nowKey struct{}

// clocked reads the scenario clock once per request: every time the request
// touches (expiry checks, iat, its timeline entry) is the same instant. On a
// virtual clock that instant is the page's, frozen while it waits for us. A
// page whose top frame is navigating, as it is while its request for
// /authorize is served, cannot be asked, so a document request takes the last
// time the page reported; any other waits for the page's earlier reports, so
// that its entry comes after the client event that caused it.
func (s *Server) clocked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clock := s.Timeline.Clock()
		var now time.Time
		if r.Header.Get("Sec-Fetch-Dest") == "document" {
			now = clock.LastKnown()
		} else {
			now = clock.NowInOrder()
		}
		ctx := context.WithValue(r.Context(), nowKey{}, now)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// instant is the request's instant on the scenario clock, or the clock's
// current time outside a request.
func (s *Server) instant(ctx context.Context) time.Time {
	if t, ok := ctx.Value(nowKey{}).(time.Time); ok {
		return t
	}
	return s.Timeline.Clock().Now()
}

// now is the request's instant on the provider's own clock, the scenario
// clock plus the configured skew: what its tokens say and its expiry
// checks read.
func (s *Server) now(ctx context.Context) time.Time {
	return s.instant(ctx).Add(s.cfg.ClockSkew)
}

// record adds a timeline entry at the request's instant on the scenario
// clock, never the skewed one, so that it lines up with the page's entries.
func (s *Server) record(ctx context.Context, what string, f timeline.Fields) {
	s.Timeline.AddWall(s.instant(ctx), what, f)
}

// requestFields are what every request's entry says about where it came from.
func (s *Server) requestFields(r *http.Request) timeline.Fields {
	return timeline.Fields{"origin": r.Header.Get("Origin"), "cors": corsDecision(r.Context()), "path": r.URL.Path}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_ = r.ParseForm()
	q := r.Form
	f := timeline.Fields{
		"client":                q.Get("client_id"),
		"prompt":                q.Get("prompt"),
		"response_type":         q.Get("response_type"),
		"response_mode":         q.Get("response_mode"),
		"redirect_uri":          q.Get("redirect_uri"),
		"scope":                 q.Get("scope"),
		"state":                 fingerprint(q.Get("state")),
		"nonce":                 fingerprint(q.Get("nonce")),
		"code_challenge_method": q.Get("code_challenge_method"),
		"dest":                  r.Header.Get("Sec-Fetch-Dest"),
		"id_token_hint":         fingerprint(q.Get("id_token_hint")),
		"max_age":               q.Get("max_age"),
		"dpop_jkt":              q.Get("dpop_jkt"),
	}
	ctx = context.WithValue(ctx, clientIDKey{}, q.Get("client_id"))
	ctx = context.WithValue(ctx, authorizeFieldsKey{}, f)
	sess, loggedIn := s.sessions.get(r, s.now(ctx))
	f["session"] = yesNo(loggedIn)
	rec := &statusRecorder{ResponseWriter: w}
	w = rec
	defer func() {
		f["status"] = fmt.Sprint(rec.status)
		s.record(r.Context(), "idp.authorize", f)
	}()

	var anom *anomaly
	if ft, ok := s.fault(r.Context(), "authorize", q, f); ok {
		switch ft.Do {
		case "slow", "hold":
			ctx, r = s.hold(ctx, r, ft, f)
		case "page-without-redirect":
			f["outcome"] = "fault"
			interactivePage(w)
			return
		case "server-error":
			f["outcome"] = "fault"
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
			return
		case "deny-framing":
			w = &denyFramingWriter{ResponseWriter: w}
		default:
			var err error
			if ctx, anom, err = s.misbehave(ctx, ft.Do); err != nil {
				f["outcome"], f["error"] = "error", "server_error"
				writeJSONError(w, http.StatusInternalServerError, "server_error", err.Error())
				return
			}
		}
	}

	// fosite lets a loopback redirect URI differ in port (RFC 8252, for native
	// apps); an SPA's redirect URI must match a registered one exactly, and an
	// unregistered one never receives a redirect, not even an error.
	if cl, ok := s.clients[q.Get("client_id")]; ok && q.Get("redirect_uri") != "" && !slices.Contains(cl.RedirectURIs, q.Get("redirect_uri")) {
		f["outcome"], f["error"] = "error", "invalid_request"
		http.Error(w, "invalid_request: redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	ar, err := s.oauth.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.authorizeError(ctx, w, ar, err, f)
		return
	}
	// max_age and prompt=login are judged here, on the scenario clock; fosite
	// would judge max_age again against its wall-clock auth_time, which on a
	// virtual clock says nothing about the session's age.
	prompts := strings.Fields(q.Get("prompt"))
	stale := false
	if maxAge, err := strconv.ParseInt(q.Get("max_age"), 10, 64); err == nil && maxAge >= 0 && loggedIn {
		stale = s.now(ctx).Sub(sess.authTime) > time.Duration(maxAge)*time.Second
	}
	ar.GetRequestForm().Del("max_age")
	switch {
	case slices.Contains(prompts, "none") && !loggedIn:
		s.authorizeError(ctx, w, ar, fosite.ErrLoginRequired.WithHint("There is no login session at the provider."), f)
		return
	case slices.Contains(prompts, "none") && stale:
		s.authorizeError(ctx, w, ar, fosite.ErrLoginRequired.WithHint("The login session is older than max_age."), f)
		return
	case !loggedIn || stale || slices.Contains(prompts, "login"):
		// The test user logs in (again) at once: an interactive login that
		// takes no time.
		sess = s.sessions.login(w, s.cfg.User.Subject, s.now(ctx), time.Now(), s.cfg.SessionLifetime)
		f["login"] = "yes"
	}
	for _, sc := range ar.GetRequestedScopes() {
		if sc == "offline_access" && s.clients[q.Get("client_id")].RefreshTokens == Consent && !slices.Contains(prompts, "consent") {
			continue // OIDC Core 11: ignored without prompt=consent
		}
		ar.GrantScope(sc)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	resp, err := s.oauth.NewAuthorizeResponse(ctx, ar, s.newSession(sess, ar.GetRequestedAt()))
	if err != nil {
		s.authorizeError(ctx, w, ar, err, f)
		return
	}
	// The refresh tokens this authorization leads to belong to the
	// session it was granted in (RefreshTokensEndWithSession).
	s.grants.bind(ar.GetID(), sess.id)
	params := resp.GetParameters()
	cl := s.clients[ar.GetClient().GetID()]
	if jkt := q.Get("dpop_jkt"); jkt != "" && cl.DPoP.checks() && params.Get("code") != "" {
		s.tokens.bindKey(params.Get("code"), jkt)
	}
	if params.Get("access_token") != "" {
		// fosite rounds the expiry to the second; say the configured lifetime exactly.
		params.Set("expires_in", fmt.Sprint(int64(cl.AccessTokenLifetime/time.Second)))
		f["expires_in_ms"] = ms(cl.AccessTokenLifetime)
	}
	alterState(anom, ar, params)
	if anom != nil {
		_, idt := vocab.IDTokenAnomalies[anom.do]
		if idt && anom.altered == "" && params.Get("code") != "" {
			// The response's id_token had nothing to alter, or there is
			// none: the code's exchange carries the anomaly.
			s.carried.put(params.Get("code"), anom.do)
		}
		if anom.altered != "" {
			f["altered"] = anom.altered
		}
	}
	if !s.cfg.OmitIss {
		params.Set("iss", s.URL)
	}
	s.recordIssued(ctx, f, cl, ar.GetID(), params.Get("code"), params.Get("access_token"), "", params.Get("id_token"))
	f["outcome"] = "ok"
	f["delivery"] = delivery(ar)
	s.oauth.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// fault finds the fault that applies to this request, if any, and makes it
// visible: in the request's own entry (f) and as an idp.fault entry.
func (s *Server) fault(ctx context.Context, endpoint string, params url.Values, f timeline.Fields) (vocab.Fault, bool) {
	ft, ok := s.faults.match(endpoint, params)
	if !ok {
		return ft, false
	}
	f["fault"] = ft.Do
	entry := timeline.Fields{"on": endpoint, "do": ft.Do}
	if ft.Delay > 0 {
		entry["delay_ms"] = ms(ft.Delay)
	}
	s.record(ctx, "idp.fault", entry)
	return ft, true
}

// hold holds a request a slow or hold fault applies to: for slow, for its
// delay; for hold, until the harness releases it. The request then goes on as if it had
// arrived at that moment: the provider works on it, stamps its tokens and
// records it when it answers (its idp.fault entry marks the arrival). When
// the client gives up or the server closes first, the request is abandoned
// without an answer (the connection is cut), and recorded as such.
func (s *Server) hold(ctx context.Context, r *http.Request, ft vocab.Fault, f timeline.Fields) (context.Context, *http.Request) {
	// Bounded: a scenario that never releases must not hang its run.
	bound := vocab.MaxDelay
	var released <-chan struct{}
	if ft.Do == "slow" {
		bound = ft.Delay
	} else {
		var done func()
		released, done = s.holds.join()
		defer done()
	}
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-t.C:
	case <-released:
	case <-r.Context().Done():
		f["outcome"] = "abandoned"
		panic(http.ErrAbortHandler)
	case <-s.closing:
		f["outcome"] = "abandoned"
		panic(http.ErrAbortHandler)
	}
	ctx = context.WithValue(ctx, nowKey{}, s.Timeline.Clock().Now())
	return ctx, r.WithContext(ctx)
}

// holds are the requests a hold fault holds, let go together by Release.
type holds struct {
	mu      sync.Mutex
	release chan struct{} // closed by the next Release
	n       int           // requests waiting on release
}

// join adds a request to those the next Release lets go; done removes it
// again if it is still waiting then (abandoned, or let go by its bound).
func (h *holds) join() (<-chan struct{}, func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.release == nil {
		h.release = make(chan struct{})
	}
	ch := h.release
	h.n++
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.release == ch {
			h.n--
		}
	}
}

// Release lets go of every request a hold fault holds now, and says how
// many; a request held later waits for the next Release.
func (s *Server) Release() int {
	h := &s.holds
	h.mu.Lock()
	defer h.mu.Unlock()
	n := h.n
	if h.release != nil {
		close(h.release)
	}
	h.release, h.n = make(chan struct{}), 0
	return n
}

func (s *Server) authorizeError(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error, f timeline.Fields) {
	if a := anomalyOf(ctx); a != nil {
		alterState(a, ar, nil)
		if a.altered != "" {
			f["altered"] = a.altered
		}
	}
	f["outcome"] = "error"
	f["error"] = fosite.ErrorToRFC6749Error(err).ErrorField
	f["delivery"] = delivery(ar)
	if !s.cfg.OmitIss {
		w = issRedirect{w, s.URL}
	}
	s.oauth.WriteAuthorizeError(ctx, w, ar, err)
}

// issRedirect adds RFC 9207's iss to the redirect fosite writes for an
// authorization error, which has no hook for parameters of its own. The
// error's parameters end the Location, in the fragment when there is one,
// else in the query: iss goes after them.
type issRedirect struct {
	http.ResponseWriter
	iss string
}

func (w issRedirect) WriteHeader(code int) {
	if loc := w.Header().Get("Location"); loc != "" && code/100 == 3 && strings.ContainsAny(loc, "?#") {
		w.Header().Set("Location", loc+"&iss="+url.QueryEscape(w.iss))
	}
	w.ResponseWriter.WriteHeader(code)
}

// delivery is the response mode a response to ar goes back by, or "" when it
// cannot go back (no valid redirect URI, or a message mode the client may
// not use: the user sees an error page). fosite answers by its own modes even
// when the client may not use them, an error saying so.
func delivery(ar fosite.AuthorizeRequester) string {
	if ar == nil || !ar.IsRedirectURIValid() {
		return ""
	}
	if (messageModes{}).ResponseModes().Has(ar.GetResponseMode()) && !modeAllowed(ar) {
		return ""
	}
	if m := ar.GetResponseMode(); m != fosite.ResponseModeDefault {
		return string(m)
	}
	return string(ar.GetDefaultResponseMode())
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_ = r.ParseForm()
	form := r.PostForm
	clientID := form.Get("client_id")
	if id, _, ok := r.BasicAuth(); ok {
		clientID = id
	}
	f := timeline.Fields{
		"client":         clientID,
		"grant_type":     form.Get("grant_type"),
		"scope":          form.Get("scope"),
		"presented_code": fingerprint(form.Get("code")),
		"code_verifier":  yesNo(form.Get("code_verifier") != ""),
		"origin":         r.Header.Get("Origin"),
		"cors":           corsDecision(ctx),
		"actor":          actor(r),
	}
	f["presented_refresh_token"] = s.tokens.presented(form.Get("refresh_token"))
	ctx = context.WithValue(ctx, clientIDKey{}, clientID)
	replayed := new(bool)
	ctx = context.WithValue(ctx, replayKey{}, replayed)
	rec := &statusRecorder{ResponseWriter: w}
	w = rec
	defer func() {
		f["status"] = fmt.Sprint(rec.status)
		if form.Get("grant_type") == "refresh_token" {
			f["replay"] = yesNo(*replayed)
		}
		s.record(r.Context(), "idp.token", f)
	}()

	var anom *anomaly
	if ft, ok := s.fault(r.Context(), "token", form, f); ok {
		switch ft.Do {
		case "slow", "hold":
			ctx, r = s.hold(ctx, r, ft, f)
		case "invalid-grant":
			f["outcome"], f["error"] = "fault", "invalid_grant"
			writeJSONError(w, http.StatusBadRequest, "invalid_grant", "Injected fault.")
			return
		case "server-error":
			f["outcome"], f["error"] = "fault", "server_error"
			writeJSONError(w, http.StatusInternalServerError, "server_error", "Injected fault.")
			return
		default:
			var err error
			if ctx, anom, err = s.misbehave(ctx, ft.Do); err != nil {
				f["outcome"], f["error"] = "error", "server_error"
				writeJSONError(w, http.StatusInternalServerError, "server_error", err.Error())
				return
			}
		}
	}
	if anom == nil && form.Get("grant_type") == "authorization_code" {
		if do, ok := s.carried.get(form.Get("code")); ok {
			f["fault"] = do
			ctx, anom = withAnomaly(ctx, do)
		}
	}
	defer func() {
		if anom != nil && anom.altered != "" {
			f["altered"] = anom.altered
		}
	}()

	mode, demandsNonce := DPoPOff, false
	if c, ok := s.clients[clientID]; ok {
		mode, demandsNonce = c.DPoP, c.DPoPNonce
	}
	pr, err := s.tokenProof(ctx, r, mode, f)
	if err != nil {
		f["outcome"], f["error"] = "error", "invalid_dpop_proof"
		writeJSONError(w, http.StatusBadRequest, "invalid_dpop_proof", err.Error())
		return
	}
	if demandsNonce {
		if err := s.nonceProved(w, pr, f); err != nil {
			f["outcome"], f["error"] = "error", "use_dpop_nonce"
			writeJSONError(w, http.StatusBadRequest, "use_dpop_nonce", err.Error())
			return
		}
	}
	if err := s.codeBinding(form, mode, pr); err != nil {
		f["outcome"], f["error"] = "error", "invalid_grant"
		writeJSONError(w, http.StatusBadRequest, "invalid_grant", err.Error())
		return
	}
	ar, err := s.oauth.NewAccessRequest(ctx, r, s.emptySession())
	if err != nil {
		s.accessError(ctx, w, ar, err, f)
		return
	}
	cl := s.clients[ar.GetClient().GetID()]
	if cl.DPoP != DPoPOff && (ar.GetGrantTypes().ExactOne("refresh_token") || ar.GetGrantTypes().ExactOne("authorization_code")) {
		defer func() { f["dpop_bound"] = yesNo(s.grants.get(ar.GetID()).jkt != "") }()
	}
	if err := s.scopeWithinGrant(ar, form); err != nil {
		s.accessError(ctx, w, ar, err, f)
		return
	}
	if err := s.refreshBinding(ar, cl.DPoP, pr); err != nil {
		s.accessError(ctx, w, ar, err, f)
		return
	}
	if cl.DPoP.checks() && pr.valid() {
		ctx = withBoundKey(ctx, pr.jkt)
	}
	resp, err := s.oauth.NewAccessResponse(ctx, ar)
	if err != nil {
		s.accessError(ctx, w, ar, err, f)
		return
	}
	resp.SetExpiresIn(cl.AccessTokenLifetime) // exact, not fosite's rounded remainder
	f["expires_in_ms"] = ms(cl.AccessTokenLifetime)
	f["granted_scope"] = strings.Join(ar.GetGrantedScopes(), " ")
	if ar.GetGrantTypes().ExactOne("refresh_token") && s.reusesRefreshToken(cl, ar.GetID()) {
		// The weakened IdP, or a bound family under unbound, hands the
		// same refresh token back.
		resp.SetExtra("refresh_token", form.Get("refresh_token"))
	}
	if pr.sent && cl.DPoP != DPoPOff {
		resp.SetTokenType("DPoP")
	}
	s.bindIssued(ar, cl.DPoP, pr, resp.GetAccessToken())
	// Lower case, as the harness records a token_type (RFC 6749 s7.1: case-insensitive).
	f["token_type"] = strings.ToLower(resp.GetTokenType())
	if r, ok := resp.(*fosite.AccessResponse); ok && anom != nil {
		alterRefresh(anom, r, ar.GetGrantedScopes(), cl.Scopes, f)
		if sc, ok := f["response_scope"]; ok {
			s.stated.add(ar.GetID(), strings.Fields(sc))
		}
	}
	rt, _ := resp.GetExtra("refresh_token").(string)
	idt, _ := resp.GetExtra("id_token").(string)
	s.recordIssued(ctx, f, cl, ar.GetID(), "", resp.GetAccessToken(), rt, idt)
	f["outcome"] = "ok"
	s.oauth.WriteAccessResponse(ctx, w, ar, resp)
}

// scopeWithinGrant refuses a refresh that asks for a scope the grant never
// had (RFC 6749 section 6: the requested scope MUST NOT include one not
// originally granted). fosite ignores a refresh's scope parameter and hands
// back the original grant, so a client that widens its scope would go
// unnoticed. A scope an anomaly stated the grant had counts as granted (the
// client only repeats what the IdP told it). The check runs before the
// response is made, so the refresh token presented stays valid, as it would
// at an IdP that refused the request.
func (s *Server) scopeWithinGrant(ar fosite.AccessRequester, form url.Values) error {
	if !ar.GetGrantTypes().ExactOne("refresh_token") {
		return nil
	}
	granted := ar.GetGrantedScopes()
	for _, sc := range strings.Fields(form.Get("scope")) {
		if !granted.Has(sc) && !s.stated.has(ar.GetID(), sc) {
			return fosite.ErrInvalidScope.WithHintf("The scope '%s' was not granted to the refresh token.", sc)
		}
	}
	return nil
}

func (s *Server) accessError(ctx context.Context, w http.ResponseWriter, ar fosite.AccessRequester, err error, f timeline.Fields) {
	f["outcome"] = "error"
	f["error"] = fosite.ErrorToRFC6749Error(err).ErrorField
	s.oauth.WriteAccessError(ctx, w, ar, err)
}

func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_ = r.ParseForm()
	f := timeline.Fields{
		"client": r.PostForm.Get("client_id"),
		"token":  fingerprint(r.PostForm.Get("token")),
		"kind":   s.tokens.kindOf(r.PostForm.Get("token")),
		"hint":   r.PostForm.Get("token_type_hint"),
		"origin": r.Header.Get("Origin"),
		"cors":   corsDecision(ctx),
	}
	if ft, ok := s.fault(r.Context(), "revoke", r.PostForm, f); ok {
		if ft.Answers() {
			ctx, r = s.hold(ctx, r, ft, f)
		} else {
			f["outcome"] = "fault"
			s.record(r.Context(), "idp.revoke", f)
			writeJSONError(w, http.StatusInternalServerError, "server_error", "Injected fault.")
			return
		}
	}
	err := s.oauth.NewRevocationRequest(ctx, r)
	if err != nil {
		f["outcome"], f["error"] = "error", fosite.ErrorToRFC6749Error(err).ErrorField
	} else {
		f["outcome"] = "ok"
	}
	s.record(r.Context(), "idp.revoke", f)
	s.oauth.WriteRevocationResponse(ctx, w, err)
}

func (s *Server) userinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f := timeline.Fields{"origin": r.Header.Get("Origin"), "cors": corsDecision(ctx)}
	defer func() { s.record(r.Context(), "idp.userinfo", f) }()
	if ft, ok := s.fault(r.Context(), "userinfo", r.URL.Query(), f); ok {
		if ft.Answers() {
			ctx, r = s.hold(ctx, r, ft, f)
		} else {
			f["outcome"] = "fault"
			writeJSONError(w, http.StatusInternalServerError, "server_error", "Injected fault.")
			return
		}
	}
	tok, scheme := resourceToken(r)
	f["access_token"] = fingerprint(tok)
	f["scheme"] = scheme
	challenge := `Bearer error="invalid_token"`
	if scheme == "dpop" {
		challenge = dpopChallenge("invalid_token")
	}
	// fosite's introspection falls back to refresh tokens when the token is
	// no access token; a refresh token is no bearer credential.
	use, ar, err := s.oauth.IntrospectToken(ctx, tok, fosite.AccessToken, s.emptySession())
	if err == nil && use != fosite.AccessToken {
		err = fosite.ErrRequestUnauthorized
	}
	if err != nil {
		f["outcome"], f["error"] = "error", "invalid_token"
		w.Header().Set("WWW-Authenticate", challenge)
		writeJSONError(w, http.StatusUnauthorized, "invalid_token", "The access token is not active.")
		return
	}
	mode := s.clients[ar.GetClient().GetID()].DPoP
	pr := s.readProof(ctx, r, mode, EndpointUserinfo, tok)
	recordProof(f, mode, pr)
	if code, desc := resourceRefusal(mode, scheme, s.tokens.keyOf(tok), pr); code != "" {
		f["outcome"], f["error"] = "error", code
		if mode != DPoPOff {
			challenge = dpopChallenge(code)
		}
		w.Header().Set("WWW-Authenticate", challenge)
		writeJSONError(w, http.StatusUnauthorized, code, desc)
		return
	}
	f["outcome"] = "ok"
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"sub": ar.GetSession().GetSubject(), "name": s.cfg.User.Name, "email": s.cfg.User.Email,
	})
}

// recordIssued notes what a response for grant hands out: fingerprints and
// lifetimes, never the tokens themselves.
func (s *Server) recordIssued(ctx context.Context, f timeline.Fields, cl Client, grant, code, at, rt, idt string) {
	now := s.now(ctx)
	for k, issued := range map[string]struct {
		tok     string
		expires func() time.Time
	}{
		"code":          {code, func() time.Time { return now.Add(codeLifetime) }},
		"access_token":  {at, func() time.Time { return now.Add(cl.AccessTokenLifetime) }},
		"refresh_token": {rt, func() time.Time { return s.refreshExpiry(ctx, cl, grant) }},
		"id_token":      {idt, func() time.Time { return now.Add(cl.IDTokenLifetime) }},
	} {
		if issued.tok != "" {
			f[k] = s.tokens.add(issued.tok, k, issued.expires())
		}
	}
	if idt != "" {
		if c, err := jwtClaims(idt); err == nil {
			exp := time.Unix(c.Exp, 0)
			// The id_token's usable life as the client sees it: from now to exp,
			// which fosite writes in whole seconds.
			f["id_token_ttl_ms"] = ms(exp.Sub(now))
			f["id_token_sub"] = c.Sub
			f["id_token_iss"] = c.Iss
			f["id_token_kid"] = kidOf(idt)
		}
	}
}

// newSession is what fosite stores for an authorization: auth_time on the wall
// clock for fosite's own checks, and on the scenario clock for the id_token.
func (s *Server) newSession(ls loginSession, requestedAt time.Time) *openid.DefaultSession {
	return &openid.DefaultSession{
		Claims: &jwt.IDTokenClaims{
			Subject:     ls.subject,
			AuthTime:    ls.authTimeWall.UTC(),
			RequestedAt: requestedAt,
			Extra: map[string]interface{}{
				"name": s.cfg.User.Name, "email": s.cfg.User.Email, authTimeClaim: ls.authTime.Unix(),
			},
		},
		Headers: &jwt.Headers{},
		Subject: ls.subject,
	}
}

// emptySession is what fosite hydrates from storage at the token endpoint.
func (s *Server) emptySession() *openid.DefaultSession {
	return &openid.DefaultSession{Claims: &jwt.IDTokenClaims{}, Headers: &jwt.Headers{}}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func writeJSONError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func actor(r *http.Request) string {
	if a := r.Header.Get(ActorHeader); a != "" {
		return a
	}
	return "client"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func ms(d time.Duration) string { return fmt.Sprint(d.Milliseconds()) }
