// Package fakeidp is the embedded OpenID provider: fosite's real handlers composed
// into a provider that issues short-lived tokens, keeps a login session in a
// cookie, records every request into the scenario timeline and misbehaves on
// purpose when a scenario declares a fault.
package fakeidp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"

	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
	"golang.org/x/crypto/bcrypt"

	"github.com/refreshsuite/refreshsuite/timeline"
)

const (
	sessionCookie = "refreshsuite_idp_session"
	// ActorHeader marks requests the harness makes itself (a refresh-token replay),
	// so the timeline can tell them from the client's.
	ActorHeader = "X-Refreshsuite-Actor"
)

// Server is a running provider. It listens until Close.
type Server struct {
	// URL is the issuer, for example http://127.0.0.1:43117.
	URL      string
	Timeline *timeline.Timeline

	cfg       Config
	clients   map[string]Client
	origins   map[string]bool
	oauth     fosite.OAuth2Provider
	keys      *keyRing
	signer    *jwt.DefaultSigner
	faults    *faultSet
	sessions  *sessions
	tokens    *tokenBook
	ln        net.Listener
	http      *http.Server
	done      chan struct{}
	closing   chan struct{} // closed by Close: slow faults stop waiting
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
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("fakeidp: listen %s: %w", c.Addr, err)
	}
	issuer := c.Issuer
	if issuer == "" {
		issuer = "http://" + ln.Addr().String()
	}
	issuer = strings.TrimSuffix(issuer, "/")
	s, err := build(c, issuer, tl)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.ln = ln
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln)
	}()
	return s, nil
}

func build(c Config, issuer string, tl *timeline.Timeline) (*Server, error) {
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
		cfg:      c,
		clients:  map[string]Client{},
		origins:  map[string]bool{},
		keys:     newKeyRing(key),
		faults:   newFaultSet(c.Faults),
		sessions: newSessions(),
		tokens:   newTokenBook(),
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
		AccessTokenLifespan:         internalLifespan,
		RefreshTokenLifespan:        internalLifespan,
		IDTokenLifespan:             internalLifespan,
		AuthorizeCodeLifespan:       internalLifespan,
		IDTokenIssuer:               s.URL,
		AccessTokenIssuer:           s.URL,
		TokenURL:                    s.URL + "/token",
		GlobalSecret:                secret,
		EnforcePKCEForPublicClients: true,
		ScopeStrategy:               fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:    fosite.DefaultAudienceMatchingStrategy,
	}
	cfg := &providerConfig{Config: base, server: s}
	keyGetter := func(context.Context) (interface{}, error) { k, _ := s.keys.current(); return k, nil }
	s.signer = &jwt.DefaultSigner{GetPrivateKey: keyGetter}
	strategy := &compose.CommonStrategy{
		CoreStrategy:               clockedStrategy{compose.NewOAuth2HMACStrategy(base), s},
		OpenIDConnectTokenStrategy: idTokenStrategy{compose.NewOpenIDConnectStrategy(keyGetter, cfg), s},
		Signer:                     s.signer,
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
	return []fosite.ResponseModeType{fosite.ResponseModeDefault, fosite.ResponseModeQuery, fosite.ResponseModeFragment, fosite.ResponseModeFormPost}
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
}

// RotateSigningKey makes the provider sign with a new key from now on; the key
// set keeps the old key too, so tokens already issued stay verifiable.
func (s *Server) RotateSigningKey() error {
	kid, err := s.keys.rotate()
	if err != nil {
		return err
	}
	s.Timeline.Add("idp.key-rotated", timeline.Fields{"kid": kid})
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

// Handler serves every endpoint of the provider.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", s.discovery)
	mux.HandleFunc("/jwks", s.jwks)
	mux.HandleFunc("/authorize", s.authorize)
	mux.HandleFunc("/token", s.cors(s.token))
	mux.HandleFunc("/revoke", s.cors(s.revoke))
	mux.HandleFunc("/userinfo", s.cors(s.userinfo))
	mux.HandleFunc("/end-session", s.endSession)
	return s.clocked(mux)
}

type nowKey struct{}

// PageClock is implemented by scenario clocks that ask the browser page for
// the time (the virtual clock). A page whose top frame is navigating, as it is
// while its request for /authorize is served, cannot be asked; LastKnown gives
// the time without asking.
type PageClock interface {
	LastKnown() time.Time
}

// OrderedClock is implemented by scenario clocks on which the page and the
// IdP can stamp the same instant (the virtual clock): NowInOrder returns once
// everything the page reported before the request is in the timeline, so the
// request's entry comes after the client event that caused it.
type OrderedClock interface {
	NowInOrder() time.Time
}

// clocked reads the scenario clock once per request: every time the request
// touches (expiry checks, iat, its timeline entry) is the same instant. On a
// virtual clock that instant is the page's, frozen while it waits for us.
func (s *Server) clocked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		clock := s.Timeline.Clock()
		now := time.Time{}
		pc, paged := clock.(PageClock)
		oc, ordered := clock.(OrderedClock)
		switch {
		case paged && r.Header.Get("Sec-Fetch-Dest") == "document":
			now = pc.LastKnown()
		case ordered:
			now = oc.NowInOrder()
		default:
			now = clock.Now()
		}
		ctx := context.WithValue(r.Context(), nowKey{}, now)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// now is the request's instant, or the clock's current time outside a request.
func (s *Server) now(ctx context.Context) time.Time {
	if t, ok := ctx.Value(nowKey{}).(time.Time); ok {
		return t
	}
	return s.Timeline.Clock().Now()
}

// record adds a timeline entry at the request's instant.
func (s *Server) record(ctx context.Context, what string, f timeline.Fields) {
	s.Timeline.AddWall(s.now(ctx), what, f)
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	s.record(r.Context(), "idp.discovery", timeline.Fields{"origin": r.Header.Get("Origin")})
	writePublicJSON(w, map[string]any{
		"issuer":                                s.URL,
		"authorization_endpoint":                s.URL + "/authorize",
		"token_endpoint":                        s.URL + "/token",
		"userinfo_endpoint":                     s.URL + "/userinfo",
		"revocation_endpoint":                   s.URL + "/revoke",
		"end_session_endpoint":                  s.URL + "/end-session",
		"jwks_uri":                              s.URL + "/jwks",
		"scopes_supported":                      DefaultScopes,
		"response_types_supported":              []string{"code", "id_token", "id_token token", "code id_token"},
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"grant_types_supported":                 []string{"authorization_code", "implicit", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"token_endpoint_auth_methods_supported": []string{"none", "client_secret_basic", "client_secret_post"},
		"claims_supported":                      []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "name", "email"},
	})
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) {
	s.record(r.Context(), "idp.jwks", timeline.Fields{"origin": r.Header.Get("Origin")})
	writePublicJSON(w, s.keys.jwks())
}

// writePublicJSON serves documents every origin may read (discovery, keys).
func writePublicJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_ = json.NewEncoder(w).Encode(v)
}

// cors lets the SPA origins registered for any client call an endpoint from the
// browser, and answers their preflights.
func (s *Server) cors(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		allowed := origin != "" && s.origins[origin]
		if allowed {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
		}
		if r.Method == http.MethodOptions {
			s.record(r.Context(), "idp.preflight", timeline.Fields{
				"endpoint": strings.TrimPrefix(r.URL.Path, "/"), "origin": origin, "allowed": yesNo(allowed),
			})
			if allowed {
				h := w.Header()
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept")
				h.Set("Access-Control-Max-Age", "0")
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next(w, r)
	}
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
	}
	ctx = context.WithValue(ctx, clientIDKey{}, q.Get("client_id"))
	sess, loggedIn := s.sessions.get(r, s.now(ctx))
	f["session"] = yesNo(loggedIn)
	rec := &statusRecorder{ResponseWriter: w}
	w = rec
	defer func() {
		f["status"] = fmt.Sprint(rec.status)
		s.record(r.Context(), "idp.authorize", f)
	}()

	if ft, ok := s.fault(r.Context(), "authorize", q, f); ok {
		switch ft.Do {
		case "slow":
			ctx, r = s.slowDown(ctx, r, ft.Delay, f)
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
	prompt := q.Get("prompt")
	if !loggedIn {
		if prompt == "none" {
			s.authorizeError(ctx, w, ar, fosite.ErrLoginRequired.WithHint("There is no login session at the provider."), f)
			return
		}
		sess = s.sessions.login(w, s.cfg.User.Subject, s.now(ctx), time.Now(), s.cfg.SessionLifetime)
		f["login"] = "yes"
	}
	for _, sc := range ar.GetRequestedScopes() {
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
	params := resp.GetParameters()
	cl := s.clients[ar.GetClient().GetID()]
	if params.Get("access_token") != "" {
		// fosite rounds the expiry to the second; say the configured lifetime exactly.
		params.Set("expires_in", fmt.Sprint(int64(cl.AccessTokenLifetime/time.Second)))
		f["expires_in_ms"] = ms(cl.AccessTokenLifetime)
	}
	s.recordIssued(ctx, f, cl, params.Get("code"), params.Get("access_token"), "", params.Get("id_token"))
	f["outcome"] = "ok"
	s.oauth.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// fault finds the fault that applies to this request, if any, and makes it
// visible: in the request's own entry (f) and as an idp.fault entry.
func (s *Server) fault(ctx context.Context, endpoint string, params url.Values, f timeline.Fields) (Fault, bool) {
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

// slowDown holds a request for d of wall-clock time, then lets it go on as if
// it had arrived now: the provider works on it, stamps its tokens and records
// it at the moment it answers (its idp.fault entry marks the arrival). When
// the client gives up or the server closes first, the request is abandoned
// without an answer (the connection is cut), and recorded as such.
func (s *Server) slowDown(ctx context.Context, r *http.Request, d time.Duration, f timeline.Fields) (context.Context, *http.Request) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		ctx = context.WithValue(ctx, nowKey{}, s.Timeline.Clock().Now())
		return ctx, r.WithContext(ctx)
	case <-r.Context().Done():
	case <-s.closing:
	}
	f["outcome"] = "abandoned"
	panic(http.ErrAbortHandler)
}

func (s *Server) authorizeError(ctx context.Context, w http.ResponseWriter, ar fosite.AuthorizeRequester, err error, f timeline.Fields) {
	f["outcome"] = "error"
	f["error"] = fosite.ErrorToRFC6749Error(err).ErrorField
	s.oauth.WriteAuthorizeError(ctx, w, ar, err)
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
		"client":                  clientID,
		"grant_type":              form.Get("grant_type"),
		"scope":                   form.Get("scope"),
		"presented_refresh_token": fingerprint(form.Get("refresh_token")),
		"presented_code":          fingerprint(form.Get("code")),
		"code_verifier":           yesNo(form.Get("code_verifier") != ""),
		"origin":                  r.Header.Get("Origin"),
		"actor":                   actor(r),
	}
	if rt := form.Get("refresh_token"); rt != "" && !s.tokens.known(rt) {
		// A value the IdP never issued, such as the literal "null" a client sends
		// when it has no refresh token: keep it readable, it is not a secret.
		f["presented_refresh_token"] = "unknown:" + truncate(rt, 16)
	}
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

	if ft, ok := s.fault(r.Context(), "token", form, f); ok {
		switch ft.Do {
		case "slow":
			ctx, r = s.slowDown(ctx, r, ft.Delay, f)
		case "invalid-grant":
			f["outcome"], f["error"] = "fault", "invalid_grant"
			writeJSONError(w, http.StatusBadRequest, "invalid_grant", "Injected fault.")
			return
		default:
			f["outcome"], f["error"] = "fault", "server_error"
			writeJSONError(w, http.StatusInternalServerError, "server_error", "Injected fault.")
			return
		}
	}

	ar, err := s.oauth.NewAccessRequest(ctx, r, s.emptySession())
	if err != nil {
		s.accessError(ctx, w, ar, err, f)
		return
	}
	resp, err := s.oauth.NewAccessResponse(ctx, ar)
	if err != nil {
		s.accessError(ctx, w, ar, err, f)
		return
	}
	cl := s.clients[ar.GetClient().GetID()]
	resp.SetExpiresIn(cl.AccessTokenLifetime) // exact, not fosite's rounded remainder
	f["expires_in_ms"] = ms(cl.AccessTokenLifetime)
	f["granted_scope"] = strings.Join(ar.GetGrantedScopes(), " ")
	if cl.Rotation == Reuse && ar.GetGrantTypes().ExactOne("refresh_token") {
		// The weakened IdP hands the same refresh token back.
		resp.SetExtra("refresh_token", form.Get("refresh_token"))
	}
	rt, _ := resp.GetExtra("refresh_token").(string)
	idt, _ := resp.GetExtra("id_token").(string)
	s.recordIssued(ctx, f, cl, "", resp.GetAccessToken(), rt, idt)
	f["outcome"] = "ok"
	s.oauth.WriteAccessResponse(ctx, w, ar, resp)
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
		"hint":   r.PostForm.Get("token_type_hint"),
		"origin": r.Header.Get("Origin"),
	}
	if ft, ok := s.fault(r.Context(), "revoke", r.PostForm, f); ok {
		if ft.Do == "slow" {
			ctx, r = s.slowDown(ctx, r, ft.Delay, f)
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
	f := timeline.Fields{"origin": r.Header.Get("Origin")}
	defer func() { s.record(r.Context(), "idp.userinfo", f) }()
	if ft, ok := s.fault(r.Context(), "userinfo", r.URL.Query(), f); ok {
		if ft.Do == "slow" {
			ctx, r = s.slowDown(ctx, r, ft.Delay, f)
		} else {
			f["outcome"] = "fault"
			writeJSONError(w, http.StatusInternalServerError, "server_error", "Injected fault.")
			return
		}
	}
	tok := fosite.AccessTokenFromRequest(r)
	f["access_token"] = fingerprint(tok)
	_, ar, err := s.oauth.IntrospectToken(ctx, tok, fosite.AccessToken, s.emptySession())
	if err != nil {
		f["outcome"], f["error"] = "error", "invalid_token"
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSONError(w, http.StatusUnauthorized, "invalid_token", "The access token is not active.")
		return
	}
	f["outcome"] = "ok"
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{
		"sub": ar.GetSession().GetSubject(), "name": s.cfg.User.Name, "email": s.cfg.User.Email,
	})
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target := q.Get("post_logout_redirect_uri")
	f := timeline.Fields{"post_logout_redirect_uri": target}
	s.sessions.logout(w, r)
	if target != "" {
		u, err := url.Parse(target)
		if err == nil && s.origins[u.Scheme+"://"+u.Host] {
			if st := q.Get("state"); st != "" {
				v := u.Query()
				v.Set("state", st)
				u.RawQuery = v.Encode()
			}
			f["outcome"] = "redirect"
			s.record(r.Context(), "idp.end-session", f)
			http.Redirect(w, r, u.String(), http.StatusFound)
			return
		}
		f["outcome"] = "unregistered-redirect"
	} else {
		f["outcome"] = "ok"
	}
	s.record(r.Context(), "idp.end-session", f)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, "<!doctype html><title>Signed out</title><p>You are signed out.")
}

// recordIssued notes what a response hands out: fingerprints and lifetimes, never
// the tokens themselves.
func (s *Server) recordIssued(ctx context.Context, f timeline.Fields, cl Client, code, at, rt, idt string) {
	now := s.now(ctx)
	for k, issued := range map[string]struct {
		tok  string
		life time.Duration
	}{"code": {code, codeLifetime}, "access_token": {at, cl.AccessTokenLifetime}, "refresh_token": {rt, cl.RefreshTokenLifetime}, "id_token": {idt, cl.IDTokenLifetime}} {
		if issued.tok != "" {
			f[k] = s.tokens.add(issued.tok, now.Add(issued.life))
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

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
