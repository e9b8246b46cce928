package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/timeline"
	"github.com/refreshsuite/refreshsuite/vocab"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const defaultIdPAddr = "127.0.0.1:9400"

func cmdIdP(args []string, out io.Writer) error {
	fs := newFlags("idp", out)
	addr := fs.String("addr", defaultIdPAddr, "listen address, host:port (port 0-65535, 0: any free port); loopback unless -public")
	public := fs.Bool("public", false, "allow a listen address that is not loopback (anyone who reaches it is logged in as the test user)")
	https := fs.Bool("https", false, "serve https with a certificate from a CA made at start")
	caPEM := fs.String("ca-pem", "", "with -https: write the CA's certificate (PEM) to this file, to trust it in a browser or a client")
	host := fs.String("host", "", "the issuer's host name: localhost, or a loopback IP (default: the listen address's)")
	issuer := fs.String("issuer", "", "the issuer in full, as a proxy in front of the IdP serves it (its path must be the layout's)")
	slash := fs.Bool("issuer-trailing-slash", false, "end the issuer with / (Auth0's form; auth0-spa-js expects it)")
	layout := fs.String("layout", "discovery", "endpoint paths: discovery, auth0 (auth0-spa-js's fixed paths) or keycloak (a realm, as keycloak-js builds it)")
	realm := fs.String("realm", "", "the keycloak layout's realm (default refreshsuite)")
	iss := fs.Bool("iss-parameter", true, "iss in every authorization response, advertised in discovery (RFC 9207); false: as providers before it")
	corsMaxAge := fs.Duration("cors-max-age", 0, "Access-Control-Max-Age of preflights, whole seconds from 0s to 2h (0: no caching)")
	clientID := fs.String("client-id", "spa", "the public client's client_id")
	var redirects, logoutRedirects, origins, modes, faults listFlag
	fs.Var(&redirects, "redirect-uri", "a registered redirect URI (repeatable; default http://localhost:4200/index.html and .../silent-refresh.html)")
	fs.Var(&logoutRedirects, "post-logout-redirect-uri", "a registered post-logout redirect URI, matched exactly (repeatable; default: the redirect URIs)")
	fs.Var(&origins, "origin", "an SPA origin allowed by CORS (repeatable; default: the redirect URIs' origins)")
	fs.Var(&modes, "response-mode", "a response mode the client may use: query, fragment, form_post, web_message, okta_post_message (repeatable; default the first three)")
	at := fs.Duration("access-token-lifetime", time.Minute, "access token lifetime, 1s to 365 days")
	idt := fs.Duration("id-token-lifetime", 0, "id token lifetime, 1s to 365 days (default: the access token's)")
	rt := fs.Duration("refresh-token-lifetime", time.Hour, "how long a login's refresh token family lives however often it is used (absolute), 1s to 365 days")
	rtIdle := fs.Duration("refresh-token-idle", 0, "expire a refresh token not used for this long (each refresh starts it again), 1s up to the lifetime (0: none)")
	rtSession := fs.Bool("refresh-tokens-end-with-session", false, "refuse a refresh token once the login session it was granted in has ended (logout, session lifetime)")
	session := fs.Duration("session-lifetime", time.Hour, "login session lifetime, 1s to 365 days")
	atFormat := fs.String("access-token-format", "opaque", "access tokens: opaque, or jwt (RFC 9068)")
	rtFormat := fs.String("refresh-token-format", "opaque", "refresh tokens: opaque, or jwt (signed, as Keycloak's)")
	policy := fs.String("refresh-tokens", "strict", "refresh token policy: strict (only with offline_access), always, never, or consent (offline_access only with prompt=consent, OIDC Core 11)")
	reuseEnds := fs.Bool("reuse-ends-sessions", false, "a replayed refresh token also ends every login session (an IdP that revokes the grant on reuse)")
	rotation := fs.String("rotation", "rotate", "refresh token rotation: rotate, reuse (a weakened IdP: the same token comes back and stays valid), or unbound (rotate only a family not bound to a DPoP key)")
	grace := fs.Duration("rotation-grace", 0, "keep a rotated refresh token valid this long, 0s to 1h")
	dpop := fs.String("dpop", "off", "RFC 9449 DPoP: off, bind (check proofs; a proof makes the access token DPoP and binds a public client's refresh tokens to its key), require (bind, and refuse a token request without a proof) or ignore (a defective IdP: says DPoP, checks and binds nothing)")
	dpopNonce := fs.Bool("dpop-nonce", false, "with -dpop bind or require: demand the IdP's own nonce in every token request's proof (RFC 9449 section 8: a proof without it is answered use_dpop_nonce, with the nonce in DPoP-Nonce)")
	config := fs.String("config", "", "a YAML file with the whole setup (docs/idp.example.yaml), instead of the other flags")
	check := fs.Bool("check", false, "run every check starting would, then exit")
	fs.Var(&faults, "fault", "a fault as endpoint:action[:param=value]..., e.g. authorize:page-without-redirect:prompt=none or token:slow:delay=2s (repeatable; actions: "+strings.Join(vocab.ActionNames(), ", ")+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if *config != "" {
		for name := range given {
			if name != "config" && name != "check" {
				return usagef("-%s cannot be combined with -config: set it in the file (docs/idp.example.yaml names every key)", name)
			}
		}
		setup, err := loadIdPConfig(*config)
		if err != nil {
			return usageError{err}
		}
		if *check {
			fmt.Fprintf(out, "ok: %s, %d clients, %d faults\n", *config, len(setup.cfg.Clients), len(setup.cfg.Faults))
			return nil
		}
		return serveIdP(setup, out)
	}
	for _, name := range []string{"access-token-lifetime", "id-token-lifetime", "refresh-token-lifetime", "session-lifetime"} {
		if given[name] && fs.Lookup(name).Value.(flag.Getter).Get().(time.Duration) == 0 {
			return durationFlagZero(name)
		}
	}
	if len(redirects) == 0 {
		redirects = listFlag{"http://localhost:4200/index.html", "http://localhost:4200/silent-refresh.html"}
	}
	if len(origins) == 0 {
		seen := map[string]bool{}
		for _, r := range redirects {
			if u, err := url.Parse(r); err == nil && u.Host != "" && !seen[u.Scheme+"://"+u.Host] {
				seen[u.Scheme+"://"+u.Host] = true
				origins = append(origins, u.Scheme+"://"+u.Host)
			}
		}
	}
	fl, err := parseFaults(faults)
	if err != nil {
		return err
	}
	client := fakeidp.Client{
		ID: *clientID, RedirectURIs: redirects, Origins: origins,
		AccessTokenLifetime: *at, IDTokenLifetime: *idt, RefreshTokenLifetime: *rt,
		RefreshTokenIdle: *rtIdle, RefreshTokensEndWithSession: *rtSession,
		RefreshTokens: fakeidp.RefreshPolicy(*policy),
		Rotation:      fakeidp.Rotation(*rotation), RotationGrace: *grace, ReuseEndsSessions: *reuseEnds, DPoP: fakeidp.DPoPMode(*dpop), DPoPNonce: *dpopNonce,
		AccessTokenFormat: fakeidp.TokenFormat(*atFormat), RefreshTokenFormat: fakeidp.TokenFormat(*rtFormat),
	}
	if len(logoutRedirects) > 0 {
		client.PostLogoutRedirectURIs = logoutRedirects
	}
	for _, m := range modes {
		client.ResponseModes = append(client.ResponseModes, fakeidp.ResponseMode(m))
	}
	cfg := fakeidp.Config{
		Addr: *addr, ListenPublic: *public, HTTPS: *https, Host: *host, Issuer: *issuer,
		IssuerTrailingSlash: *slash, Layout: fakeidp.Layout(*layout), Realm: *realm, CORSMaxAge: *corsMaxAge,
		SessionLifetime: *session, Clients: []fakeidp.Client{client}, Faults: fl, OmitIss: !*iss,
	}
	if err := cfg.Validate(); err != nil {
		var ce *fakeidp.ConfigError
		if errors.As(err, &ce) {
			return usagef("%s: %s", flagFor(ce.Key), ce.Msg)
		}
		return usageError{err}
	}
	if err := checkCAPEM(*caPEM, *https); err != nil {
		return usagef("-ca-pem: %v", err)
	}
	if *check {
		fmt.Fprintln(out, "ok")
		return nil
	}
	return serveIdP(idpSetup{cfg: cfg, caPEM: *caPEM}, out)
}

// standaloneHold refuses a hold fault outside a scenario: nothing would
// release it, so every request it matched would wait out the bound.
const standaloneHold = "do: hold waits for a scenario's release step, and the standalone IdP runs none: use do: slow with a delay"

func parseFaults(faults []string) ([]vocab.Fault, error) {
	var fl []vocab.Fault
	for _, f := range faults {
		parts := strings.Split(f, ":")
		if len(parts) < 2 {
			return nil, usagef("-fault %q: want endpoint:action[:param=value]", f)
		}
		ft := vocab.Fault{On: parts[0], Do: parts[1], When: map[string]string{}}
		for _, kv := range parts[2:] {
			k, v, ok := strings.Cut(kv, "=")
			switch {
			case !ok:
				return nil, usagef("-fault %q: %q is not param=value", f, kv)
			case k == "delay":
				d, err := time.ParseDuration(v)
				if err != nil {
					return nil, usagef("-fault %q: delay: %v", f, err)
				}
				ft.Delay = d
			default:
				ft.When[k] = v
			}
		}
		if err := ft.Validate(); err != nil {
			return nil, usagef("-fault %q: %v", f, err)
		}
		if ft.Do == "hold" {
			return nil, usagef("-fault %q: %s", f, standaloneHold)
		}
		fl = append(fl, ft)
	}
	return fl, nil
}

var listIndex = regexp.MustCompile(`\[\d+\]$`)

// flagFor names the flag that set a key of the IdP file format (the keys
// Config.Validate reports): the flags are the file's keys, lists in the
// singular.
func flagFor(key string) string {
	k := listIndex.ReplaceAllString(strings.TrimPrefix(key, "clients[1]."), "")
	switch k {
	case "id":
		return "-client-id"
	case "redirect-uris", "post-logout-redirect-uris", "origins", "response-modes":
		return "-" + strings.TrimSuffix(k, "s")
	}
	if strings.HasPrefix(key, "faults[") {
		return "-fault"
	}
	return "-" + k
}

// serveIdP runs the provider until SIGINT or SIGTERM, printing every request.
func serveIdP(setup idpSetup, out io.Writer) error {
	srv, err := startIdPServer(setup, out)
	if err != nil {
		return err
	}
	defer srv.Close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

// startIdPServer starts the provider, writes the CA's certificate where
// asked and says where everything is.
func startIdPServer(setup idpSetup, out io.Writer) (*fakeidp.Server, error) {
	tl := timeline.New(nil)
	tl.OnAdd(func(e timeline.Entry) { fmt.Fprintln(out, e) })
	srv, err := fakeidp.Start(setup.cfg, tl)
	if err != nil {
		return nil, usageError{err}
	}
	fmt.Fprintf(out, "refreshsuite idp: issuer %s (discovery %s)\n", srv.URL, srv.Endpoint(fakeidp.EndpointDiscovery))
	fmt.Fprintf(out, "  authorize %s, token %s\n", srv.Endpoint(fakeidp.EndpointAuthorize), srv.Endpoint(fakeidp.EndpointToken))
	if ca := srv.CA(); ca != nil {
		if setup.caPEM != "" {
			if err := os.WriteFile(setup.caPEM, ca.PEM(), 0o644); err != nil {
				srv.Close()
				return nil, fmt.Errorf("ca-pem: %w", err)
			}
			fmt.Fprintf(out, "  CA certificate in %s (a new CA every run)\n", setup.caPEM)
		}
		fmt.Fprintf(out, "  Chromium trusts it with --ignore-certificate-errors-spki-list=%s\n", ca.SPKIHash())
	}
	for _, c := range srv.Clients() {
		expiry := c.RefreshTokenLifetime.String()
		if c.RefreshTokenIdle > 0 {
			expiry += ", idle " + c.RefreshTokenIdle.String()
		}
		if c.RefreshTokensEndWithSession {
			expiry += ", end with the session"
		}
		fmt.Fprintf(out, "  client %s: redirect URIs %s, origins %s, access tokens %s (%s), refresh tokens %s (%s, %s, %s), DPoP %s\n",
			c.ID, strings.Join(c.RedirectURIs, " "), strings.Join(c.Origins, " "), c.AccessTokenLifetime, c.AccessTokenFormat,
			c.RefreshTokens, expiry, c.Rotation, c.RefreshTokenFormat, c.DPoP)
	}
	user := setup.cfg.User.Subject
	if user == "" {
		user = fakeidp.DefaultUser.Subject
	}
	fmt.Fprintf(out, "  test user %s; Ctrl-C stops\n", user)
	return srv, nil
}
