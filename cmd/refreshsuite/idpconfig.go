package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/internal/strictyaml"
	"github.com/refreshsuite/refreshsuite/vocab"
)

// opt is a value that may be left out: Set tells a key written with its zero
// value (an explicit 0s, a 0, "") from a key not written at all, so a zero is
// judged as a value instead of passing for "the default". An empty key
// (`times:`) is refused, as strictyaml refuses it for a plain value.
type opt[T any] struct {
	V   T
	Set bool
}

func (o *opt[T]) UnmarshalStrict(dec *strictyaml.Decoder, n *yaml.Node, key string) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return dec.Errorf(n, key, "empty; give a value or leave the key out")
	}
	o.Set = true
	return dec.Decode(n, &o.V, key)
}

// idpFile is the YAML form of a standalone IdP with several clients and faults:
// `refreshsuite idp -config idp.yaml`. docs/idp.example.yaml documents every key.
type idpFile struct {
	Addr                opt[string]              `yaml:"addr"`
	Public              bool                     `yaml:"public"`
	HTTPS               bool                     `yaml:"https"`
	CAPEM               opt[string]              `yaml:"ca-pem"`
	Host                opt[string]              `yaml:"host"`
	Issuer              opt[string]              `yaml:"issuer"`
	IssuerTrailingSlash bool                     `yaml:"issuer-trailing-slash"`
	Layout              string                   `yaml:"layout" rs:"enum=discovery|auth0|keycloak"`
	Realm               opt[string]              `yaml:"realm"`
	CORSMaxAge          opt[strictyaml.Duration] `yaml:"cors-max-age"`
	SessionLifetime     opt[strictyaml.Duration] `yaml:"session-lifetime"`
	IssParameter        opt[bool]                `yaml:"iss-parameter"`
	User                *struct {
		Subject string `yaml:"subject" rs:"required"`
		Name    string `yaml:"name"`
		Email   string `yaml:"email"`
	} `yaml:"user"`
	Clients []struct {
		ID                          string                   `yaml:"id" rs:"required"`
		RedirectURIs                []string                 `yaml:"redirect-uris" rs:"required"`
		PostLogoutRedirectURIs      []string                 `yaml:"post-logout-redirect-uris"`
		Origins                     []string                 `yaml:"origins"`
		AccessTokenLifetime         opt[strictyaml.Duration] `yaml:"access-token-lifetime"`
		IDTokenLifetime             opt[strictyaml.Duration] `yaml:"id-token-lifetime"`
		RefreshTokenLifetime        opt[strictyaml.Duration] `yaml:"refresh-token-lifetime"`
		RefreshTokenIdle            strictyaml.Duration      `yaml:"refresh-token-idle"`
		RefreshTokensEndWithSession bool                     `yaml:"refresh-tokens-end-with-session"`
		RefreshTokens               string                   `yaml:"refresh-tokens" rs:"enum=strict|always|never|consent"`
		Rotation                    string                   `yaml:"rotation" rs:"enum=rotate|reuse|unbound"`
		RotationGrace               strictyaml.Duration      `yaml:"rotation-grace"`
		ReuseEndsSessions           bool                     `yaml:"reuse-ends-sessions"`
		DPoP                        string                   `yaml:"dpop" rs:"enum=off|bind|require|ignore"`
		DPoPNonce                   bool                     `yaml:"dpop-nonce"`
		AccessTokenFormat           string                   `yaml:"access-token-format" rs:"enum=opaque|jwt"`
		RefreshTokenFormat          string                   `yaml:"refresh-token-format" rs:"enum=opaque|jwt"`
		ResponseModes               []string                 `yaml:"response-modes"`
	} `yaml:"clients" rs:"required"`
	Faults []struct {
		On    string                   `yaml:"on" rs:"required"`
		When  map[string]string        `yaml:"when"`
		Do    string                   `yaml:"do" rs:"required"`
		Times opt[int]                 `yaml:"times"`
		Delay opt[strictyaml.Duration] `yaml:"delay"`
	} `yaml:"faults"`
}

// idpSetup is what a file or the flags ask for: the provider, and where to
// write the CA's certificate.
type idpSetup struct {
	cfg   fakeidp.Config
	caPEM string
}

// loadIdPConfig reads an IdP file and runs every check starting it would;
// every error is one file:line: key: message, at the key's own line.
func loadIdPConfig(file string) (idpSetup, error) {
	var f idpFile
	doc, err := strictyaml.DecodeFileNode(file, &f)
	if err != nil {
		return idpSetup{}, err
	}
	e := func(key, format string, args ...any) error {
		return &strictyaml.Error{File: file, Line: strictyaml.LineOf(doc, key), Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	// A key written as "" is a value, and none of these takes it: leaving
	// the key out is how to ask for the default.
	for key, o := range map[string]opt[string]{"addr": f.Addr, "ca-pem": f.CAPEM, "host": f.Host, "issuer": f.Issuer, "realm": f.Realm} {
		if o.Set && o.V == "" {
			return idpSetup{}, e(key, "empty; leave the key out for the default")
		}
	}
	cfg := fakeidp.Config{
		Addr: f.Addr.V, ListenPublic: f.Public, HTTPS: f.HTTPS, Host: f.Host.V, Issuer: f.Issuer.V,
		IssuerTrailingSlash: f.IssuerTrailingSlash, Layout: fakeidp.Layout(f.Layout), Realm: f.Realm.V,
		CORSMaxAge: f.CORSMaxAge.V.D(), SessionLifetime: f.SessionLifetime.V.D(),
		OmitIss: f.IssParameter.Set && !f.IssParameter.V,
	}
	if !f.Addr.Set {
		cfg.Addr = defaultIdPAddr
	}
	if f.SessionLifetime.Set && f.SessionLifetime.V == 0 {
		return idpSetup{}, e("session-lifetime", "must be at least %s; leave the key out for the default (1h)", fakeidp.MinLifetime)
	}
	if f.User != nil {
		cfg.User = fakeidp.User{Subject: f.User.Subject, Name: f.User.Name, Email: f.User.Email}
		if f.User.Subject == "" {
			return idpSetup{}, e("user.subject", "the test user needs a subject (the sub claim)")
		}
	}
	for i, c := range f.Clients {
		key := fmt.Sprintf("clients[%d]", i+1)
		for name, d := range map[string]opt[strictyaml.Duration]{"access-token-lifetime": c.AccessTokenLifetime, "id-token-lifetime": c.IDTokenLifetime, "refresh-token-lifetime": c.RefreshTokenLifetime} {
			if d.Set && d.V == 0 {
				return idpSetup{}, e(key+"."+name, "token lifetimes must be at least %s, got 0s; leave the key out for the default", fakeidp.MinLifetime)
			}
		}
		cl := fakeidp.Client{
			ID: c.ID, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs, Origins: c.Origins,
			AccessTokenLifetime: c.AccessTokenLifetime.V.D(), IDTokenLifetime: c.IDTokenLifetime.V.D(), RefreshTokenLifetime: c.RefreshTokenLifetime.V.D(),
			RefreshTokenIdle: c.RefreshTokenIdle.D(), RefreshTokensEndWithSession: c.RefreshTokensEndWithSession,
			RefreshTokens: fakeidp.RefreshPolicy(c.RefreshTokens), Rotation: fakeidp.Rotation(c.Rotation), RotationGrace: c.RotationGrace.D(), ReuseEndsSessions: c.ReuseEndsSessions,
			AccessTokenFormat: fakeidp.TokenFormat(c.AccessTokenFormat), RefreshTokenFormat: fakeidp.TokenFormat(c.RefreshTokenFormat),
			DPoP: fakeidp.DPoPMode(c.DPoP), DPoPNonce: c.DPoPNonce,
		}
		if c.ResponseModes != nil {
			cl.ResponseModes = []fakeidp.ResponseMode{}
			for _, m := range c.ResponseModes {
				cl.ResponseModes = append(cl.ResponseModes, fakeidp.ResponseMode(m))
			}
		}
		cfg.Clients = append(cfg.Clients, cl)
	}
	for i, ft := range f.Faults {
		key := fmt.Sprintf("faults[%d]", i+1)
		if ft.Times.Set && ft.Times.V == 0 {
			return idpSetup{}, e(key+".times", "0 would never fire; leave the key out to fire on every matching request")
		}
		if ft.Delay.Set && ft.Do != "slow" {
			return idpSetup{}, e(key+".delay", "only do: slow takes a delay")
		}
		if ft.Do == "hold" {
			return idpSetup{}, e(key+".do", "%s", standaloneHold)
		}
		cfg.Faults = append(cfg.Faults, vocab.Fault{On: ft.On, When: ft.When, Do: ft.Do, Times: ft.Times.V, Delay: ft.Delay.V.D()})
	}
	if err := cfg.Validate(); err != nil {
		var ce *fakeidp.ConfigError
		if errors.As(err, &ce) {
			return idpSetup{}, e(ce.Key, "%s", ce.Msg)
		}
		return idpSetup{}, &strictyaml.Error{File: file, Msg: err.Error()}
	}
	if err := checkCAPEM(f.CAPEM.V, f.HTTPS); err != nil {
		return idpSetup{}, e("ca-pem", "%v", err)
	}
	return idpSetup{cfg: cfg, caPEM: f.CAPEM.V}, nil
}

// checkCAPEM refuses what would stop the provider from writing the CA's
// certificate once it runs: a file over plain http (there is no CA), or one
// in a folder that is not there.
func checkCAPEM(path string, https bool) error {
	if path == "" {
		return nil
	}
	if !https {
		return errors.New("there is no CA over plain http; set https too")
	}
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("%s: the folder %s does not exist", path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("%s is a folder", path)
	}
	return nil
}

// durationFlagZero is the message for a lifetime flag given as 0.
func durationFlagZero(name string) error {
	return usagef("-%s: must be at least %s, got 0s; leave the flag out for the default", name, fakeidp.MinLifetime)
}
