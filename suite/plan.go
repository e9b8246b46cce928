package suite

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/fixtures"
	"github.com/refreshsuite/refreshsuite/internal/strictyaml"
	"github.com/refreshsuite/refreshsuite/scenarios"
	"github.com/refreshsuite/refreshsuite/target"
	"github.com/refreshsuite/refreshsuite/vocab"
)

// Plan is everything a run of one scenario against one client decides before
// it starts anything: the lifetimes the IdP issues, the settings expectations
// read, the library configuration's keys, each step's timeout. Load makes the
// plan of every client and scenario pair, so a pair that validate accepts is a
// pair that run can start, and a mistake is found before any spec runs.
type Plan struct {
	Scenario *scenarios.Scenario
	Manifest *fixtures.Manifest
	// Skip says why the scenario cannot apply to this client ("" when it can).
	Skip string
	// Settings resolve client.* and idp.* in expressions (milliseconds for
	// durations); a client.* value the client does not declare is absent.
	Settings map[string]float64
	// IdP is the embedded IdP for the scenario, as the client needs it
	// (https, its layout...), without clients and faults; IdPClient is its
	// client, without the redirect URIs and origins, which depend on the
	// app's port.
	IdP             fakeidp.Config
	IdPClient       fakeidp.Client
	SessionLifetime time.Duration
	// Timeouts are the steps' timeouts in scenario time (0 for steps that
	// take none), and how long a pass-time step lets time pass.
	Timeouts []time.Duration
	// External is the IdP target when it is not the embedded IdP; nil for
	// the embedded one, which IdP and IdPClient then configure.
	External *target.External
}

// Default step timeouts, in scenario time. A call's default also grows with
// the client's declared silent-refresh timeout and attempts, so that a
// library whose iframe gives up after 2 minutes is waited for. The login's is
// no requirement of any library, only how long the harness waits before it
// calls the app stuck, in wall time on the real clock: generous, since a wait
// that only ends a failed run costs nothing when the login works, and a
// loaded machine must not turn a slow login into a verdict.
const (
	defaultLoginTimeout = 60 * time.Second
	defaultWaitTimeout  = 30 * time.Second
	defaultCallTimeout  = 60 * time.Second
)

// NewPlan plans scenario s against client m. Errors name the scenario's key,
// or the manifest's, that cannot work.
func NewPlan(m *fixtures.Manifest, s *scenarios.Scenario) (*Plan, error) {
	return NewPlanFor(m, s, nil)
}

// NewPlanFor plans scenario s against client m on an IdP target: the
// embedded IdP (ext nil) or an external one, whose declared values stand in
// for the embedded IdP's settings (its rotation grace; its lifetimes are not
// known, so expressions that read them do not apply).
func NewPlanFor(m *fixtures.Manifest, s *scenarios.Scenario, ext *target.External) (*Plan, error) {
	p := &Plan{Scenario: s, Manifest: m, Skip: SkipScenario(m, s), External: ext}
	if ext != nil && p.Skip == "" {
		p.Skip = skipExternal(s)
	}
	if ext != nil && p.Skip == "" {
		p.Skip = skipUndeclared(s, ext)
	}
	p.Settings = clientSettings(m, s)
	env := p.env()
	lifetime := func(key string, e *scenarios.Expr) (time.Duration, error) {
		if e == nil {
			return 0, nil
		}
		d, err := e.Eval(env)
		var u *unsetRef
		switch {
		case errors.As(err, &u):
			if p.Skip == "" {
				p.Skip = fmt.Sprintf("%s is %s, and %s", key, e.Src, p.undeclared(u.name))
			}
			return 0, nil
		case err != nil:
			return 0, s.KeyError(key, "%v", err)
		}
		return d, nil
	}
	var err error
	needs := m.IdP
	p.IdP = fakeidp.Config{
		HTTPS: needs.HTTPS, Layout: fakeidp.Layout(needs.Layout), Realm: needs.Realm, IssuerTrailingSlash: needs.IssuerTrailingSlash,
	}
	if s.Browser.Sites == "same-site" {
		// The app is on localhost: an IdP on localhost too, another port, is
		// the same site (and the app keeps its own host, where a library may
		// behave as it does in production only on localhost).
		p.IdP.Host = "localhost"
	}
	c := fakeidp.Client{
		ID:                 ClientID,
		RefreshTokens:      fakeidp.RefreshPolicy(s.IdP.RefreshTokens),
		Rotation:           fakeidp.Rotation(s.IdP.Rotation),
		DPoP:               fakeidp.DPoPMode(s.IdP.DPoP),
		DPoPNonce:          s.IdP.DPoPNonce != nil && *s.IdP.DPoPNonce,
		AccessTokenFormat:  fakeidp.TokenFormat(needs.AccessTokenFormat),
		RefreshTokenFormat: fakeidp.TokenFormat(needs.RefreshTokenFormat),
	}
	if len(needs.ResponseModes) > 0 {
		c.ResponseModes = append([]fakeidp.ResponseMode(nil), fakeidp.DefaultResponseModes...)
		for _, mode := range needs.ResponseModes {
			c.ResponseModes = append(c.ResponseModes, fakeidp.ResponseMode(mode))
		}
	}
	if g := s.IdP.RotationGrace; g != nil {
		c.RotationGrace = g.D()
	}
	if c.AccessTokenLifetime, err = lifetime("idp.access-token-lifetime", s.IdP.AccessTokenLifetime); err != nil {
		return nil, err
	}
	if c.IDTokenLifetime, err = lifetime("idp.id-token-lifetime", s.IdP.IDTokenLifetime); err != nil {
		return nil, err
	}
	if c.RefreshTokenLifetime, err = lifetime("idp.refresh-token-lifetime", s.IdP.RefreshTokenLifetime); err != nil {
		return nil, err
	}
	if p.SessionLifetime, err = lifetime("idp.session-lifetime", s.IdP.SessionLifetime); err != nil {
		return nil, err
	}
	if c.RefreshTokenIdle, err = lifetime("idp.refresh-token-idle", s.IdP.RefreshTokenIdle); err != nil {
		return nil, err
	}
	if v := s.IdP.RefreshTokensEndWithSession; v != nil {
		c.RefreshTokensEndWithSession = *v
	}
	if s.IdP.ClockSkew != nil {
		d, err := s.IdP.ClockSkew.Eval(env)
		var u *unsetRef
		switch {
		case errors.As(err, &u):
			if p.Skip == "" {
				p.Skip = fmt.Sprintf("idp.clock-skew is %s, and %s", s.IdP.ClockSkew.Src, p.undeclared(u.name))
			}
		case err != nil:
			return nil, s.KeyError("idp.clock-skew", "%v", err)
		default:
			p.IdP.ClockSkew = d
		}
	}
	for _, l := range []struct {
		key string
		d   time.Duration
		max time.Duration
	}{
		{"idp.access-token-lifetime", c.AccessTokenLifetime, 24 * time.Hour},
		{"idp.id-token-lifetime", c.IDTokenLifetime, 24 * time.Hour},
		{"idp.refresh-token-lifetime", c.RefreshTokenLifetime, 30 * 24 * time.Hour},
		{"idp.session-lifetime", p.SessionLifetime, 30 * 24 * time.Hour},
		{"idp.refresh-token-idle", c.RefreshTokenIdle, 30 * 24 * time.Hour},
	} {
		if l.d == 0 {
			continue // not set: the IdP's default
		}
		if err := scenarios.InRange(l.d, time.Second, l.max); err != nil {
			return nil, s.KeyError(l.key, "for client %s this is %s, which %v", m.Name, l.d, err)
		}
	}
	// The IdP's defaults fill what the scenario leaves out; expressions read
	// the effective values.
	if c, err = fakeidp.ClientDefaults(c); err != nil {
		return nil, s.KeyError("idp", "%v", err)
	}
	p.IdPClient = c
	probe := p.IdP
	probe.Clients = []fakeidp.Client{c}
	probe.Clients[0].RedirectURIs = []string{"http://localhost/"}
	if err := probe.Validate(); err != nil {
		return nil, &strictyaml.Error{File: m.File, Key: "idp", Msg: err.Error()}
	}
	p.Settings["idp.access-token-lifetime"] = ms(c.AccessTokenLifetime)
	p.Settings["idp.id-token-lifetime"] = ms(c.IDTokenLifetime)
	p.Settings["idp.refresh-token-lifetime"] = ms(c.RefreshTokenLifetime)
	if p.SessionLifetime != 0 {
		p.Settings["idp.session-lifetime"] = ms(p.SessionLifetime)
	}
	p.Settings["idp.rotation-grace"] = ms(c.RotationGrace)
	if c.RefreshTokenIdle > 0 {
		p.Settings["idp.refresh-token-idle"] = ms(c.RefreshTokenIdle)
	}
	if ext != nil {
		for name := range p.Settings {
			if strings.HasPrefix(name, "idp.") {
				delete(p.Settings, name)
			}
		}
		p.Settings["idp.rotation-grace"] = ms(ext.RotationGrace)
		// What the vendor declares; what it does not is left out, so that
		// a step that needs it makes the scenario not apply.
		if ext.RefreshTokenIdle > 0 {
			p.Settings["idp.refresh-token-idle"] = ms(ext.RefreshTokenIdle)
		}
		if ext.RefreshTokenLifetime > 0 {
			p.Settings["idp.refresh-token-lifetime"] = ms(ext.RefreshTokenLifetime)
		}
		if ext.SilentTimeout > 0 {
			p.Settings["client.silent-refresh-timeout"] = ms(ext.SilentTimeout)
		}
	}
	if err := checkSettingsMapped(m, s); err != nil {
		return nil, err
	}
	for i, st := range s.Steps {
		d, err := p.stepTimeout(i, st)
		if err != nil {
			return nil, err
		}
		p.Timeouts = append(p.Timeouts, d)
	}
	return p, nil
}

// unsetRef is a reference to a value the client does not declare.
type unsetRef struct{ name string }

func (u *unsetRef) Error() string { return u.name + " is not declared" }

// undeclared says who does not declare a value an expression needs: the
// client, or the IdP target (and the flag that would declare it).
func (p *Plan) undeclared(name string) string {
	switch flag, declarable := target.Declarable[name]; {
	case !strings.HasPrefix(name, "idp."):
		return fmt.Sprintf("client %s declares no %s", p.Manifest.Name, name)
	case p.External == nil:
		return "the embedded IdP has no " + name
	case declarable:
		return fmt.Sprintf("the IdP declares no %s (declare it with refreshsuite certify %s)", name, flag)
	}
	return fmt.Sprintf("an external IdP does not tell its %s", name)
}

func (p *Plan) env() scenarios.Env {
	return scenarios.Env{
		Ref: func(name string) (float64, bool, error) {
			v, ok := p.Settings[name]
			if !ok {
				return 0, false, &unsetRef{name}
			}
			return v, vocab.Settings[name], nil
		},
		Call: func(fn string, arg float64) (float64, error) {
			return p.Manifest.Renewal(p.Settings)(arg)
		},
	}
}

func (p *Plan) stepTimeout(i int, st scenarios.Step) (time.Duration, error) {
	key := fmt.Sprintf("steps[%d].timeout", i+1)
	e := st.Timeout
	if st.PassTime != nil {
		key, e = fmt.Sprintf("steps[%d].pass-time", i+1), st.PassTime
	}
	if e != nil {
		d, err := e.Eval(p.env())
		var u *unsetRef
		switch {
		case errors.As(err, &u):
			if p.Skip == "" {
				p.Skip = fmt.Sprintf("step %d's %s is %s, and %s", i+1, key[strings.LastIndex(key, ".")+1:], e.Src, p.undeclared(u.name))
			}
			return defaultCallTimeout, nil
		case err != nil:
			return 0, p.Scenario.KeyError(key, "%v", err)
		}
		if err := scenarios.InRange(d, time.Millisecond, time.Hour); err != nil {
			return 0, p.Scenario.KeyError(key, "for client %s this is %s, which %v", p.Manifest.Name, d, err)
		}
		return d, nil
	}
	if t := stepRunners[st.Kind().Name].timeout; t != nil {
		return t(p, st), nil
	}
	return 0, nil
}

// loginTimeout: an external IdP's login file may say how long its login takes.
func loginTimeout(p *Plan, _ scenarios.Step) time.Duration {
	if p.External != nil && p.External.Timeout > 0 {
		return p.External.Timeout
	}
	return defaultLoginTimeout
}

// promptNoneTimeout: as long as the client's own silent refresh may take.
func promptNoneTimeout(p *Plan, _ scenarios.Step) time.Duration {
	if t := time.Duration(p.Settings["client.silent-refresh-timeout"]) * time.Millisecond; t > 0 {
		return t
	}
	return 10 * time.Second
}

// callTimeout is long enough for every attempt the client declares to time
// out twice over: the call's outcome, not the harness's patience, is what
// the expectations judge.
func callTimeout(p *Plan, _ scenarios.Step) time.Duration {
	t := time.Duration(p.Settings["client.silent-refresh-timeout"]) * time.Millisecond
	attempts := max(1, p.Manifest.Defaults.SilentRefreshAttempts)
	return defaultCallTimeout + 2*time.Duration(attempts)*t
}

func waitTimeout(*Plan, scenarios.Step) time.Duration { return defaultWaitTimeout }

// checkSettingsMapped: a scenario that sets a suite setting the manifest does
// not map would run with the library's default instead and fail every spec
// for it; it is a configuration error, naming both files.
func checkSettingsMapped(m *fixtures.Manifest, s *scenarios.Scenario) error {
	for key, set := range map[string]bool{
		"renewal-factor":         s.Client.RenewalFactor != nil,
		"renewal-before":         s.Client.RenewalBefore != nil,
		"renewal-window":         s.Client.RenewalWindow != nil,
		"silent-refresh-timeout": s.Client.SilentRefreshTimeout != nil,
		"silent-refresh":         s.Client.SilentRefresh != nil,
		"dpop":                   s.Client.DPoP != nil && *s.Client.DPoP,
	} {
		if _, mapped := m.Config.Settings[key]; set && !mapped && SkipScenario(m, s) == "" {
			return s.KeyError("client."+key, "the scenario sets it for every client, but client %s's manifest %s does not map it to a library setting (config.settings.%s); map it, or let the scenario need a capability the client lacks", m.Name, m.File, key)
		}
	}
	return nil
}

// clientSettings are the client's values expressions refer to: what the
// scenario sets, else what the manifest declares. A value the client does not
// declare is left out, so that an expression needing it makes its spec not
// applicable instead of measuring against zero.
func clientSettings(m *fixtures.Manifest, s *scenarios.Scenario) map[string]float64 {
	out := map[string]float64{}
	d := m.Defaults
	if d.RenewalFactor > 0 {
		out["client.renewal-factor"] = d.RenewalFactor
	}
	if d.SilentRefreshTimeout != nil {
		out["client.silent-refresh-timeout"] = ms(d.SilentRefreshTimeout.D())
	}
	if d.SilentRefreshRetry > 0 {
		out["client.silent-refresh-retry"] = ms(d.SilentRefreshRetry.D())
	}
	if d.RenewalWindow != nil {
		out["client.renewal-window"] = ms(d.RenewalWindow.D())
	}
	if d.ClockSkewTolerance != nil {
		out["client.clock-skew-tolerance"] = ms(d.ClockSkewTolerance.D())
	}
	out["client.silent-refresh-attempts"] = float64(max(1, d.SilentRefreshAttempts))
	out["client.network-attempts"] = 2
	if d.NetworkAttempts > 0 {
		out["client.network-attempts"] = float64(d.NetworkAttempts)
	}
	out["client.renewal-debounce"] = ms(d.RenewalDebounce.D())
	out["client.renewal-granularity"] = ms(d.RenewalGranularity.D())
	// Zero for a client whose rule is not before-expiry: in a lifetime such
	// as "client.renewal-before + 6s" it then adds nothing.
	out["client.renewal-before"] = 0
	if d.RenewalBefore != nil {
		out["client.renewal-before"] = ms(d.RenewalBefore.D())
	}
	if v := s.Client.RenewalWindow; v != nil {
		out["client.renewal-window"] = ms(v.D())
	}
	if v := s.Client.RenewalBefore; v != nil {
		out["client.renewal-before"] = ms(v.D())
	}
	if f := s.Client.RenewalFactor; f != nil {
		out["client.renewal-factor"] = *f
	}
	if v := s.Client.SilentRefreshTimeout; v != nil {
		out["client.silent-refresh-timeout"] = ms(v.D())
	}
	return out
}

// skipUndeclared says why a judges: idp scenario does not apply to an
// external IdP whose vendor does not declare the behaviour it checks, or "".
// The scenario's idp settings configure the embedded IdP for the check; an
// external IdP is judged on what its vendor declares instead (its own
// values), and not at all on what it does not.
func skipUndeclared(s *scenarios.Scenario, ext *target.External) string {
	for _, d := range []struct {
		set, declared bool
		what, flag    string
	}{
		{s.IdP.RefreshTokenIdle != nil, ext.RefreshTokenIdle > 0, "an idle expiry of refresh tokens", target.Declarable["idp.refresh-token-idle"]},
		{s.IdP.RefreshTokenLifetime != nil, ext.RefreshTokenLifetime > 0, "an absolute lifetime of refresh tokens", target.Declarable["idp.refresh-token-lifetime"]},
		{s.IdP.RefreshTokensEndWithSession != nil && *s.IdP.RefreshTokensEndWithSession, ext.RefreshTokensEndWithSession,
			"refresh tokens that end with the login session", "--refresh-tokens-end-with-session"},
	} {
		if d.set && !d.declared {
			return fmt.Sprintf("the scenario checks %s, which the IdP does not declare (declare it with refreshsuite certify %s)", d.what, d.flag)
		}
	}
	return ""
}

// skipExternal says why a scenario cannot run against an external IdP, or "":
// what it does to the IdP (its faults, its session, its keys) only the
// embedded IdP can be made to do.
func skipExternal(s *scenarios.Scenario) string {
	if s.Judges != "idp" {
		return "the scenario judges a client against the embedded IdP; an external IdP target runs the idp scenarios only"
	}
	for _, f := range s.Faults {
		if f.On != "silent-callback" {
			return fmt.Sprintf("the scenario makes the IdP misbehave (%s: %s), which only the embedded IdP can be made to do", f.On, f.Do)
		}
	}
	if s.IdP.DPoP == "ignore" {
		return "the scenario makes the IdP misbehave (idp.dpop: ignore, DPoP said and nothing bound), which only the embedded IdP can be made to do"
	}
	for _, st := range s.Steps {
		if st.Kind().ActsOnIdP {
			return fmt.Sprintf("step %q acts on the IdP itself, which only the embedded IdP lets the harness do", st.Text)
		}
	}
	return ""
}
