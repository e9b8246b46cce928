package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/timeline"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

func cmdIdP(args []string, out io.Writer) error {
	fs := newFlags("idp", out)
	addr := fs.String("addr", "127.0.0.1:9400", "listen address (loopback unless you say otherwise)")
	clientID := fs.String("client-id", "spa", "the public client's client_id")
	var redirects, origins, faults listFlag
	fs.Var(&redirects, "redirect-uri", "a registered redirect URI (repeatable; default http://localhost:4200/index.html and .../silent-refresh.html)")
	fs.Var(&origins, "origin", "an SPA origin allowed by CORS (repeatable; default: the redirect URIs' origins)")
	at := fs.Duration("access-token-lifetime", time.Minute, "access token lifetime (>= 1s)")
	idt := fs.Duration("id-token-lifetime", 0, "id token lifetime (default: the access token's)")
	rt := fs.Duration("refresh-token-lifetime", time.Hour, "refresh token lifetime")
	session := fs.Duration("session-lifetime", time.Hour, "login session lifetime")
	policy := fs.String("refresh-tokens", "strict", "refresh token policy: strict (only with offline_access), always or never")
	rotation := fs.String("rotation", "rotate", "refresh token rotation: rotate, or reuse (a weakened IdP: the same token comes back and stays valid)")
	grace := fs.Duration("rotation-grace", 0, "keep a rotated refresh token valid this long")
	config := fs.String("config", "", "a YAML file with the IdP's clients and faults, instead of the client flags")
	check := fs.Bool("check", false, "check the configuration and exit")
	fs.Var(&faults, "fault", "a fault as endpoint:action[:param=value]..., e.g. authorize:page-without-redirect:prompt=none or token:slow:delay=2s (repeatable; actions: "+strings.Join(fakeidp.ActionNames(), ", ")+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *config != "" {
		cfg, err := loadIdPConfig(*config)
		if err != nil {
			return usageError{err}
		}
		if cfg.Addr == "" {
			cfg.Addr = *addr
		}
		if *check {
			fmt.Fprintf(out, "ok: %s, %d clients, %d faults\n", *config, len(cfg.Clients), len(cfg.Faults))
			return nil
		}
		return serveIdP(cfg, out)
	}
	if len(redirects) == 0 {
		redirects = listFlag{"http://localhost:4200/index.html", "http://localhost:4200/silent-refresh.html"}
	}
	if len(origins) == 0 {
		seen := map[string]bool{}
		for _, r := range redirects {
			if u, err := url.Parse(r); err == nil && !seen[u.Scheme+"://"+u.Host] {
				seen[u.Scheme+"://"+u.Host] = true
				origins = append(origins, u.Scheme+"://"+u.Host)
			}
		}
	}
	var fl []fakeidp.Fault
	for _, f := range faults {
		parts := strings.Split(f, ":")
		if len(parts) < 2 {
			return usagef("-fault %q: want endpoint:action[:param=value]", f)
		}
		ft := fakeidp.Fault{On: parts[0], Do: parts[1], When: map[string]string{}}
		for _, kv := range parts[2:] {
			k, v, ok := strings.Cut(kv, "=")
			switch {
			case !ok:
				return usagef("-fault %q: %q is not param=value", f, kv)
			case k == "delay":
				d, err := time.ParseDuration(v)
				if err != nil {
					return usagef("-fault %q: delay: %v", f, err)
				}
				ft.Delay = d
			default:
				ft.When[k] = v
			}
		}
		if err := fakeidp.ValidateFault(ft); err != nil {
			return usagef("-fault %q: %v", f, err)
		}
		fl = append(fl, ft)
	}
	cfg := fakeidp.Config{
		Addr:            *addr,
		SessionLifetime: *session,
		Clients: []fakeidp.Client{{
			ID: *clientID, RedirectURIs: redirects, Origins: origins,
			AccessTokenLifetime: *at, IDTokenLifetime: *idt, RefreshTokenLifetime: *rt,
			RefreshTokens: fakeidp.RefreshPolicy(*policy),
			Rotation:      fakeidp.Rotation(*rotation), RotationGrace: *grace,
		}},
		Faults: fl,
	}
	if *check {
		fmt.Fprintln(out, "ok")
		return nil
	}
	return serveIdP(cfg, out)
}

// serveIdP runs the provider until SIGINT or SIGTERM, printing every request.
func serveIdP(cfg fakeidp.Config, out io.Writer) error {
	tl := timeline.New(nil)
	tl.OnAdd(func(e timeline.Entry) { fmt.Fprintln(out, e) })
	srv, err := fakeidp.Start(cfg, tl)
	if err != nil {
		return usageError{err}
	}
	defer srv.Close()
	fmt.Fprintf(out, "refreshsuite idp: issuer %s (discovery %s/.well-known/openid-configuration)\n", srv.URL, srv.URL)
	for _, c := range srv.Clients() {
		fmt.Fprintf(out, "  client %s: redirect URIs %s, origins %s, access tokens %s, refresh tokens %s (%s, %s)\n",
			c.ID, strings.Join(c.RedirectURIs, " "), strings.Join(c.Origins, " "), c.AccessTokenLifetime, c.RefreshTokens, c.RefreshTokenLifetime, c.Rotation)
	}
	user := cfg.User.Subject
	if user == "" {
		user = fakeidp.DefaultUser.Subject
	}
	fmt.Fprintf(out, "  test user %s; Ctrl-C stops\n", user)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}
