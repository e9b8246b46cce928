// Package target describes the IdP a run's scenarios are judged against when
// it is not the embedded one: an external issuer, the public client
// registered for the reference SPA, its login file and what its vendor
// declares. It also holds the plain-HTTP side of talking to any IdP: the
// discovery document, token requests, authorization URLs and the checks of
// an id_token's signature and claims, which the pre-flight and the harness
// share.
package target

import (
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// Profiles: how a failed expectation of level should is reported.
const (
	// Strict fails it: the behaviour RFC 9700 and OIDC Core recommend.
	Strict = "strict"
	// Lenient reports it without failing.
	Lenient = "lenient"
)

// Declarable are the settings an external IdP's vendor declares, by the
// refreshsuite certify flag that declares each: expressions read them as
// idp.* values.
var Declarable = map[string]string{
	"idp.rotation-grace":         "--rotation-grace",
	"idp.refresh-token-idle":     "--refresh-token-idle",
	"idp.refresh-token-lifetime": "--refresh-token-lifetime",
}

// External is an IdP outside the suite, as `refreshsuite certify` hands it to
// the suite processes (as a JSON file).
type External struct {
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// RedirectBase is where the reference SPA is served: an http loopback
	// URL with an explicit port, ending in /.
	RedirectBase string `json:"redirect_base"`
	// Scope is what the reference SPA asks for where a scenario does not
	// say (empty: openid profile offline_access).
	Scope string `json:"scope,omitempty"`
	// LoginFile is the login file's path ("" when the IdP logs the user in
	// by itself).
	LoginFile string `json:"login_file,omitempty"`
	// Profile is strict or lenient.
	Profile string `json:"profile"`
	// RotationGrace is how long the IdP keeps a rotated refresh token valid,
	// as its vendor declares it.
	RotationGrace time.Duration `json:"rotation_grace"`
	// RefreshTokenIdle and RefreshTokenLifetime are the idle expiry and the
	// absolute lifetime of the IdP's refresh tokens as its vendor declares
	// them (0: not declared), RefreshTokensEndWithSession that its refresh
	// tokens end with the login session: the expiry checks apply only to
	// what is declared.
	RefreshTokenIdle            time.Duration `json:"refresh_token_idle,omitempty"`
	RefreshTokenLifetime        time.Duration `json:"refresh_token_lifetime,omitempty"`
	RefreshTokensEndWithSession bool          `json:"refresh_tokens_end_with_session,omitempty"`
	// DPoP: the reference SPA binds its tokens with DPoP (RFC 9449) in every
	// scenario, for an IdP that requires it of public clients.
	DPoP bool `json:"dpop,omitempty"`
	// AuthorizeParams are added to every authorization request the reference
	// SPA makes (prompt goes to its login request only).
	AuthorizeParams map[string]string `json:"authorize_params,omitempty"`
	// Timeout bounds a login and each navigation the harness waits for;
	// SilentTimeout is the SPA's silent-refresh timeout.
	Timeout       time.Duration `json:"timeout"`
	SilentTimeout time.Duration `json:"silent_timeout"`
	// CAFile is a PEM file of the private CA the browser and the harness
	// trust besides the system's roots.
	CAFile string `json:"ca_file,omitempty"`
	// AllowHosts are the hosts the browser may reach (with the IdP's and
	// the SPA's); nil: no allow-list.
	AllowHosts []string `json:"allow_hosts,omitempty"`
	// Problems is a file the suite appends a line to for every problem of
	// the environment or the configuration it meets (a login that never
	// comes back, a navigation that fails): no verdict about the IdP.
	Problems string `json:"problems"`
	// Logins is a file the suite appends a line to for every login: ok, or
	// stuck and why. A run where no login came back has a login file that
	// does not fit (exit 2); one where some did judges the others.
	Logins string `json:"logins"`
	// LoginShot is where a screenshot of a first login that never came back
	// goes (outside the bundle: the page is the IdP's).
	LoginShot string `json:"login_shot,omitempty"`
	// Library is a file the suite writes the reference SPA's library
	// configuration to, as the first scenario ran it (for config.json).
	Library string `json:"library,omitempty"`
}

// Save writes the description for the suite processes.
func (e *External) Save(file string) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, b, 0o600)
}

// Load reads a description Save wrote.
func Load(file string) (*External, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var e External
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	if e.Profile == "" {
		e.Profile = Strict
	}
	return &e, nil
}

// Problem appends one line to the problems file.
func (e *External) Problem(line string) { appendLine(e.Problems, line) }

// Login appends one line to the logins file.
func (e *External) Login(line string) { appendLine(e.Logins, line) }

func appendLine(file, line string) {
	if file == "" {
		return
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintln(f, line)
}
