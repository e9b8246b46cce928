package main

import (
	"fmt"
	"net/url"

	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/internal/strictyaml"
)

// idpFile is the YAML form of a standalone IdP with several clients and faults:
// `refreshsuite idp -config idp.yaml`.
type idpFile struct {
	Addr            string              `yaml:"addr"`
	SessionLifetime strictyaml.Duration `yaml:"session-lifetime"`
	User            *struct {
		Subject string `yaml:"subject" rs:"required"`
		Name    string `yaml:"name"`
		Email   string `yaml:"email"`
	} `yaml:"user"`
	Clients []struct {
		ID                   string              `yaml:"id" rs:"required"`
		RedirectURIs         []string            `yaml:"redirect-uris" rs:"required"`
		Origins              []string            `yaml:"origins"`
		AccessTokenLifetime  strictyaml.Duration `yaml:"access-token-lifetime"`
		IDTokenLifetime      strictyaml.Duration `yaml:"id-token-lifetime"`
		RefreshTokenLifetime strictyaml.Duration `yaml:"refresh-token-lifetime"`
		RefreshTokens        string              `yaml:"refresh-tokens" rs:"enum=strict|always|never"`
		Rotation             string              `yaml:"rotation" rs:"enum=rotate|reuse"`
		RotationGrace        strictyaml.Duration `yaml:"rotation-grace"`
	} `yaml:"clients" rs:"required"`
	Faults []struct {
		On    string              `yaml:"on" rs:"required"`
		When  map[string]string   `yaml:"when"`
		Do    string              `yaml:"do" rs:"required"`
		Times int                 `yaml:"times"`
		Delay strictyaml.Duration `yaml:"delay"`
	} `yaml:"faults"`
}

// loadIdPConfig reads an IdP file; every error is one file:line: key: message.
func loadIdPConfig(file string) (fakeidp.Config, error) {
	var f idpFile
	doc, err := strictyaml.DecodeFileNode(file, &f)
	if err != nil {
		return fakeidp.Config{}, err
	}
	e := func(key, format string, args ...any) error {
		return &strictyaml.Error{File: file, Line: strictyaml.LineOf(doc, key), Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	cfg := fakeidp.Config{Addr: f.Addr, SessionLifetime: f.SessionLifetime.D()}
	if f.User != nil {
		cfg.User = fakeidp.User{Subject: f.User.Subject, Name: f.User.Name, Email: f.User.Email}
	}
	if len(f.Clients) == 0 {
		return cfg, e("clients", "configure at least one client")
	}
	seen := map[string]bool{}
	for i, c := range f.Clients {
		key := fmt.Sprintf("clients[%d]", i+1)
		if seen[c.ID] {
			return cfg, e(key+".id", "client %q is defined twice", c.ID)
		}
		seen[c.ID] = true
		for field, urls := range map[string][]string{"redirect-uris": c.RedirectURIs, "origins": c.Origins} {
			for j, u := range urls {
				if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" {
					return cfg, e(fmt.Sprintf("%s.%s[%d]", key, field, j+1), "%q is not an absolute URL", u)
				}
			}
		}
		for field, d := range map[string]strictyaml.Duration{"access-token-lifetime": c.AccessTokenLifetime, "id-token-lifetime": c.IDTokenLifetime, "refresh-token-lifetime": c.RefreshTokenLifetime} {
			if d != 0 && d.D().Seconds() < 1 {
				return cfg, e(key+"."+field, "token lifetimes must be at least 1s, got %s", d)
			}
		}
		if c.RotationGrace > 0 && c.Rotation == "reuse" {
			return cfg, e(key+".rotation-grace", "a rotation grace needs rotation rotate")
		}
		cfg.Clients = append(cfg.Clients, fakeidp.Client{
			ID: c.ID, RedirectURIs: c.RedirectURIs, Origins: c.Origins,
			AccessTokenLifetime: c.AccessTokenLifetime.D(), IDTokenLifetime: c.IDTokenLifetime.D(), RefreshTokenLifetime: c.RefreshTokenLifetime.D(),
			RefreshTokens: fakeidp.RefreshPolicy(c.RefreshTokens), Rotation: fakeidp.Rotation(c.Rotation), RotationGrace: c.RotationGrace.D(),
		})
	}
	for i, ft := range f.Faults {
		fault := fakeidp.Fault{On: ft.On, When: ft.When, Do: ft.Do, Times: ft.Times, Delay: ft.Delay.D()}
		if err := fakeidp.ValidateFault(fault); err != nil {
			return cfg, e(fmt.Sprintf("faults[%d]", i+1), "%v", err)
		}
		cfg.Faults = append(cfg.Faults, fault)
	}
	return cfg, nil
}
