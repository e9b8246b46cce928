package certify

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/refreshsuite/refreshsuite/internal/strictyaml"
)

// Login is a login file: the steps the browser performs on the IdP's own login
// page, after the app has sent it there, until the IdP redirects back. The
// steps end as soon as the browser is back at the SPA, whatever steps are
// left; an optional step whose element or URL does not come within its
// timeout is passed over (a consent page the IdP remembers).
//
//	timeout: 15s            # per step (default 15s)
//	steps:
//	  - wait-for-url: https://idp.example.com/login
//	  - fill: {selector: "#username", value: "${IDP_USER}"}
//	  - fill: {selector: "#password", value: "${IDP_PASSWORD}"}
//	  - click: "button[type=submit]"
//	  - {click: "#allow", optional: true, timeout: 3s}
//	logout:
//	  - {click: "button[autofocus]", timeout: 5s}
//
// Values come from the environment through ${NAME}; they are read when the
// file loads (a missing one is a configuration error naming the step) and
// never enter the timeline or a report: a fill is recorded as "fill <selector>".
type Login struct {
	Timeout strictyaml.Duration `yaml:"timeout"`
	Steps   []LoginStep         `yaml:"steps" rs:"required"`
	// Logout holds the steps performed on the page the end_session_endpoint
	// answers IDP-RT-7's logout with (one that asks the user to confirm):
	// all of them, in order, since no return to the SPA tells when they are
	// done.
	Logout []LoginStep `yaml:"logout"`

	File string `yaml:"-"`
}

// LoginStep is one action; exactly one of its fields is set.
type LoginStep struct {
	// Goto loads a URL in the top frame.
	Goto string `yaml:"goto"`
	// Fill types a value into the element a CSS selector picks.
	Fill *Fill `yaml:"fill"`
	// Click clicks the element a CSS selector picks.
	Click string `yaml:"click"`
	// WaitForURL waits until the top frame's URL starts with this prefix, or
	// matches this regular expression when it starts with ~ (as in scenarios).
	WaitForURL string `yaml:"wait-for-url"`
	// Optional passes the step over when its element or URL does not come
	// within its timeout (a consent page the IdP shows only once).
	Optional bool `yaml:"optional"`
	// Timeout is this step's own (default: the file's).
	Timeout strictyaml.Duration `yaml:"timeout"`

	Line int `yaml:"-"`
	// value is Fill.Value with ${NAME} expanded: held in memory only.
	value string
	urlRE *regexp.Regexp
}

// Fill is a fill step's target and value.
type Fill struct {
	Selector string `yaml:"selector" rs:"required"`
	Value    string `yaml:"value" rs:"required"`
}

// DefaultStepTimeout bounds each step of a login file that sets none.
const DefaultStepTimeout = 15 * time.Second

var envRef = regexp.MustCompile(`\$\{([^}]*)\}`)

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// LoadLogin reads a login file strictly; every problem is one file:line: key:
// message, including a ${NAME} that is not set in the environment.
func LoadLogin(file string) (*Login, error) {
	var l Login
	doc, err := strictyaml.DecodeFileNode(file, &l)
	if err != nil {
		return nil, err
	}
	l.File = file
	if len(l.Steps) == 0 {
		return nil, &strictyaml.Error{File: file, Line: strictyaml.LineOf(doc, "steps"), Key: "steps", Msg: "a login needs at least one step (the IdP's login page cannot fill itself in)"}
	}
	// An empty section is a logout page someone meant to describe and did
	// not: it would log out exactly as a file without one does.
	if line, ok := strictyaml.Lookup(doc, "logout"); ok && len(l.Logout) == 0 {
		return nil, &strictyaml.Error{File: file, Line: line, Key: "logout", Msg: "a logout section needs at least one step (leave it out when the IdP's logout page asks nothing)"}
	}
	if l.Timeout == 0 {
		l.Timeout = strictyaml.Duration(DefaultStepTimeout)
	}
	if err := expandValues(file, "steps", l.Steps); err != nil {
		return nil, err
	}
	if err := expandValues(file, "logout", l.Logout); err != nil {
		return nil, err
	}
	return &l, nil
}

// expandValues reads the ${NAME} references of a section's fill values from
// the environment.
func expandValues(file, section string, steps []LoginStep) error {
	for i := range steps {
		st := &steps[i]
		key := fmt.Sprintf("%s[%d]", section, i+1)
		if st.Fill == nil {
			continue
		}
		if open, closed := strings.Count(st.Fill.Value, "${"), len(envRef.FindAllString(st.Fill.Value, -1)); open != closed {
			return &strictyaml.Error{File: file, Line: st.Line, Key: key + ".fill.value", Msg: "a ${ has no closing }: it would be typed into the form literally (write ${NAME})"}
		}
		var missing []string
		for _, m := range envRef.FindAllStringSubmatch(st.Fill.Value, -1) {
			if !envName.MatchString(m[1]) {
				return &strictyaml.Error{File: file, Line: st.Line, Key: key + ".fill.value", Msg: fmt.Sprintf("%q is not an environment variable name (want ${NAME})", m[0])}
			}
			if _, ok := os.LookupEnv(m[1]); !ok {
				missing = append(missing, m[0])
			}
		}
		if len(missing) > 0 {
			return &strictyaml.Error{File: file, Line: st.Line, Key: key + ".fill.value", Msg: strings.Join(missing, ", ") + " is not set in the environment"}
		}
		st.value = envRef.ReplaceAllStringFunc(st.Fill.Value, func(ref string) string {
			return os.Getenv(ref[2 : len(ref)-1])
		})
	}
	return nil
}

// UnmarshalStrict checks that a step has exactly one action, and compiles a
// wait-for-url regular expression where it is written.
func (s *LoginStep) UnmarshalStrict(d *strictyaml.Decoder, n *yaml.Node, key string) error {
	s.Line = n.Line
	type plain LoginStep
	if err := d.Struct(n, (*plain)(s), key); err != nil {
		return err
	}
	if err := d.OneAction(n, key, map[string]bool{"goto": s.Goto != "", "fill": s.Fill != nil, "click": s.Click != "", "wait-for-url": s.WaitForURL != ""},
		"goto, fill, click or wait-for-url"); err != nil {
		return err
	}
	if s.Fill != nil && strings.TrimSpace(s.Fill.Selector) == "" {
		return d.Errorf(n, key+".fill.selector", "a CSS selector is required")
	}
	if re, ok := strings.CutPrefix(s.WaitForURL, "~"); ok {
		var err error
		if s.urlRE, err = regexp.Compile(re); err != nil {
			return d.Errorf(n, key+".wait-for-url", "not a regular expression: %v", err)
		}
	}
	return nil
}

// Text is what the timeline and reports say about a step: never a value.
func (s *LoginStep) Text() string {
	text := s.text()
	if s.Optional {
		text += " (optional)"
	}
	return text
}

func (s *LoginStep) text() string {
	switch {
	case s.Goto != "":
		return "goto " + s.Goto
	case s.Fill != nil:
		return "fill " + s.Fill.Selector
	case s.Click != "":
		return "click " + s.Click
	}
	return "wait-for-url " + s.WaitForURL
}

// FromEnv reports whether a fill's value refers to the environment (${NAME}).
// config.json redacts every fill value either way (see record).
func (s *LoginStep) FromEnv() bool {
	return s.Fill != nil && envRef.MatchString(s.Fill.Value)
}

// Value is a fill's value with ${NAME} expanded: for the browser only.
func (s *LoginStep) Value() string { return s.value }

// StepTimeout is how long the step may wait for its element or URL.
func (s *LoginStep) StepTimeout(l *Login) time.Duration {
	if s.Timeout > 0 {
		return s.Timeout.D()
	}
	return l.Timeout.D()
}

// URLPattern is the regular expression a wait-for-url step waits for.
func (s *LoginStep) URLPattern() string {
	if s.urlRE != nil {
		return s.urlRE.String()
	}
	return "^" + regexp.QuoteMeta(s.WaitForURL)
}
