package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/internal/strictyaml"

	"gopkg.in/yaml.v3"

	"github.com/refreshsuite/refreshsuite/vocab"
)

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// Files lists the scenario files of a path: the file itself, or the *.yaml files
// of a directory, sorted.
func Files(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, &strictyaml.Error{File: path, Msg: "cannot read: " + readError(err)}
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	files, err := filepath.Glob(filepath.Join(path, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, &strictyaml.Error{File: path, Msg: "no *.yaml scenario files"}
	}
	return files, nil
}

// Load reads every scenario under path and expands variants: one Scenario per
// container. The first error stops the load.
func Load(path string) ([]*Scenario, error) {
	files, err := Files(path)
	if err != nil {
		return nil, err
	}
	var out []*Scenario
	ids := map[string]string{}
	for _, f := range files {
		ss, err := LoadFile(f)
		if err != nil {
			return nil, err
		}
		id := ss[0].ID
		if prev, ok := ids[id]; ok {
			return nil, &strictyaml.Error{File: f, Line: ss[0].Line, Key: "id", Msg: fmt.Sprintf("%q is already the id of %s", id, prev)}
		}
		ids[id] = f
		out = append(out, ss...)
	}
	return out, nil
}

// LoadFile reads one scenario file and returns its containers (the scenario, or
// one per variant).
func LoadFile(file string) ([]*Scenario, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, &strictyaml.Error{File: file, Msg: "cannot read: " + readError(err)}
	}
	return Parse(file, src)
}

// Parse reads a scenario from src; file names it in errors.
func Parse(file string, src []byte) ([]*Scenario, error) {
	doc, err := strictyaml.Parse(file, src)
	if err != nil {
		return nil, err
	}
	d := &strictyaml.Decoder{File: file}
	base := &Scenario{File: file}
	if err := d.Decode(doc, base, ""); err != nil {
		return nil, err
	}
	root := doc.Content[0]
	base.Line = keyLine(root, "id")
	base.root = root
	if err := validate(d, base, root, nil); err != nil {
		return nil, err
	}
	if len(base.Variants) == 0 {
		return []*Scenario{base}, nil
	}
	var out []*Scenario
	seen := map[string]bool{}
	for i, v := range base.Variants {
		key := fmt.Sprintf("variants[%d]", i+1)
		idLine := strictyaml.LineOf(root, key+".id")
		if !idPattern.MatchString(v.ID) {
			return nil, &strictyaml.Error{File: file, Line: idLine, Key: key + ".id", Msg: fmt.Sprintf("%q is not lower-case words joined by dashes", v.ID)}
		}
		if seen[v.ID] {
			return nil, &strictyaml.Error{File: file, Line: idLine, Key: key + ".id", Msg: fmt.Sprintf("variant %q appears twice", v.ID)}
		}
		seen[v.ID] = true
		s := &Scenario{File: file, Line: base.Line, root: root, variant: itemOf(root, "variants", i)}
		_ = d.Decode(doc, s, "") // decoded once already without error
		s.Variants = nil
		s.Variant = v.ID
		if v.Title != "" {
			s.Title = s.Title + " (" + v.Title + ")"
		}
		if v.Requirements != nil {
			for j, r := range v.Requirements {
				if _, ok := vocab.Requirements[r]; !ok {
					line, _ := strictyaml.Lookup(root, fmt.Sprintf("%s.requirements[%d]", key, j+1))
					return nil, &strictyaml.Error{File: file, Line: line, Key: fmt.Sprintf("%s.requirements[%d]", key, j+1), Msg: fmt.Sprintf("unknown requirement %q (see the catalogue in docs/requirements.md)", r)}
				}
			}
			for j := range s.Expect {
				s.Expect[j].Requirements = v.Requirements
			}
		}
		for _, o := range []struct {
			n    yaml.Node
			into any
			key  string
		}{
			{v.IdP, &s.IdP, "idp"}, {v.Browser, &s.Browser, "browser"}, {v.Client, &s.Client, "client"},
			{v.Faults, &s.Faults, "faults"}, {v.Needs, &s.Needs, "needs"},
		} {
			if o.n.Kind == 0 {
				continue
			}
			if err := d.Decode(&o.n, o.into, key+"."+o.key); err != nil {
				return nil, err
			}
		}
		if err := validate(d, s, root, s.variant); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// Ranges of the scenario format's values (docs/scenarios.md lists them).
const (
	maxTokenLifetime   = 24 * time.Hour
	maxLongLifetime    = 30 * 24 * time.Hour
	maxRotationGrace   = time.Hour
	maxStepDuration    = time.Hour
	maxSilentTimeout   = 10 * time.Minute
	maxRenewalBefore   = 24 * time.Hour
	minTokenLifetime   = time.Second
	maxReplayOrTabs    = 100
	maxFaultRepetition = 1000
)

// checker reports a scenario's semantic errors at the line of the key that
// holds the wrong value: in the variant that set it, else in the base.
type checker struct {
	d       *strictyaml.Decoder
	root    *yaml.Node // the scenario's mapping
	variant *yaml.Node // the variant's mapping; nil for the base
}

func (c *checker) errAt(n *yaml.Node, key, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &strictyaml.Error{File: c.d.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// err reports at key path (relative to the scenario): a key a variant
// overrides is reported at the variant's line.
func (c *checker) err(key, format string, args ...any) error {
	line := strictyaml.LineOf(c.root, key)
	if c.variant != nil {
		if l, ok := strictyaml.Lookup(c.variant, key); ok {
			line = l
		}
	}
	return &strictyaml.Error{File: c.d.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

func validate(d *strictyaml.Decoder, s *Scenario, root, variant *yaml.Node) error {
	c := &checker{d: d, root: root, variant: variant}
	if s.Version != Version {
		return c.err("version", "this suite reads scenario format version %d, got %d", Version, s.Version)
	}
	if !idPattern.MatchString(s.ID) {
		return c.err("id", "%q is not lower-case words joined by dashes", s.ID)
	}
	for i, n := range s.Needs {
		if _, ok := vocab.Capabilities[n]; !ok {
			return c.err(fmt.Sprintf("needs[%d]", i+1), "unknown capability %q (known: %s)", n, strings.Join(keys(vocab.Capabilities), ", "))
		}
	}
	if s.Judges == "idp" && s.Clock != "real" {
		return c.err("judges", "an idp scenario runs on the real clock (nobody controls an external IdP's clock): add clock: real")
	}
	if err := c.idp(s); err != nil {
		return err
	}
	if err := c.client(s); err != nil {
		return err
	}
	if err := c.faults(s); err != nil {
		return err
	}
	if err := c.steps(s); err != nil {
		return err
	}
	if len(s.Expect) == 0 {
		return c.err("expect", "a scenario needs at least one expectation")
	}
	premises := map[string]bool{}
	for i, p := range s.Premises {
		key := fmt.Sprintf("premises[%d]", i+1)
		if !idPattern.MatchString(p.ID) {
			return c.errAt(keyNode(p.node, "id"), key+".id", "%q is not lower-case words joined by dashes", p.ID)
		}
		if premises[p.ID] {
			return c.errAt(keyNode(p.node, "id"), key+".id", "%q appears twice in this scenario's premises", p.ID)
		}
		premises[p.ID] = true
		if err := c.queries(p.Query, p.AnyOf, p.node, key); err != nil {
			return err
		}
	}
	ids := map[string]bool{}
	for i, x := range s.Expect {
		key := fmt.Sprintf("expect[%d]", i+1)
		if err := c.expectation(x, key, premises); err != nil {
			return err
		}
		// IDP-* requirements are judged once, by the idp scenarios; the
		// others judge clients.
		for j, r := range x.Requirements {
			if idp := strings.HasPrefix(r, "IDP-"); idp != (s.Judges == "idp") {
				what := "an IDP-* requirement is judged by a scenario with judges: idp (scenarios/idp)"
				if !idp {
					what = "a scenario with judges: idp judges the IdP: cite IDP-* requirements only"
				}
				return c.errAt(itemOf(x.node, "requirements", j), fmt.Sprintf("%s.requirements[%d]", key, j+1), "%s, got %s", what, r)
			}
		}
		for j, dg := range x.Diagnose {
			if err := c.selector(*dg.Find, fmt.Sprintf("%s.diagnose[%d].find", key, j+1)); err != nil {
				return err
			}
		}
		if ids[x.ID] {
			return c.errAt(keyNode(x.node, "id"), key+".id", "%q appears twice in this scenario", x.ID)
		}
		ids[x.ID] = true
	}
	return nil
}

// idp checks the IdP section: lifetimes are expressions over the client's
// declared values; those without references are checked here, the rest for
// every client (Prepare).
func (c *checker) idp(s *Scenario) error {
	for _, l := range []struct {
		key string
		e   *Expr
		max time.Duration
	}{
		{"idp.access-token-lifetime", s.IdP.AccessTokenLifetime, maxTokenLifetime},
		{"idp.id-token-lifetime", s.IdP.IDTokenLifetime, maxTokenLifetime},
		{"idp.refresh-token-lifetime", s.IdP.RefreshTokenLifetime, maxLongLifetime},
		{"idp.refresh-token-idle", s.IdP.RefreshTokenIdle, maxLongLifetime},
		{"idp.session-lifetime", s.IdP.SessionLifetime, maxLongLifetime},
	} {
		if l.e == nil {
			continue
		}
		for _, r := range l.e.Refs() {
			if _, ok := vocab.Settings[r]; !ok || !strings.HasPrefix(r, "client.") {
				return c.err(l.key, "%s: an IdP lifetime may refer to the client's declared values only (client.renewal-before, client.silent-refresh-timeout, ...), not %q", l.e.Src, r)
			}
		}
		if err := l.e.TypeCheck(); err != nil {
			return c.err(l.key, "%v", err)
		}
		if v, ok := l.e.Constant(); ok {
			if err := InRange(v, minTokenLifetime, l.max); err != nil {
				return c.err(l.key, "%v", err)
			}
		}
	}
	if sk := s.IdP.ClockSkew; sk != nil {
		for _, r := range sk.Refs() {
			if _, ok := vocab.Settings[r]; !ok || !strings.HasPrefix(r, "client.") {
				return c.err("idp.clock-skew", "%s: the IdP's clock skew may refer to the client's declared values only, not %q", sk.Src, r)
			}
		}
		if err := sk.TypeCheck(); err != nil {
			return c.err("idp.clock-skew", "%v", err)
		}
		if v, ok := sk.Constant(); ok && (v < -maxTokenLifetime || v > maxTokenLifetime) {
			return c.err("idp.clock-skew", "must be within a day either way, got %s", v)
		}
	}
	if g := s.IdP.RotationGrace; g != nil {
		if s.IdP.Rotation == "reuse" {
			return c.err("idp.rotation-grace", "a rotation grace keeps a rotated refresh token valid a while; with refresh-token-rotation reuse nothing is rotated")
		}
		if err := InRange(g.D(), 0, maxRotationGrace); err != nil {
			return c.err("idp.rotation-grace", "%v", err)
		}
	}
	return nil
}

func (c *checker) client(s *Scenario) error {
	if f := s.Client.RenewalFactor; f != nil && (*f <= 0 || *f >= 1) {
		return c.err("client.renewal-factor", "must be between 0 and 1 (exclusive), got %v", *f)
	}
	if d := s.Client.RenewalBefore; d != nil {
		if err := InRange(d.D(), 0, maxRenewalBefore); err != nil {
			return c.err("client.renewal-before", "%v", err)
		}
	}
	if d := s.Client.RenewalWindow; d != nil {
		if err := InRange(d.D(), 0, maxRenewalBefore); err != nil {
			return c.err("client.renewal-window", "%v", err)
		}
	}
	if d := s.Client.SilentRefreshTimeout; d != nil {
		if err := InRange(d.D(), time.Millisecond, maxSilentTimeout); err != nil {
			return c.err("client.silent-refresh-timeout", "%v", err)
		}
	}
	return nil
}

func (c *checker) faults(s *Scenario) error {
	for i, f := range s.Faults {
		key := fmt.Sprintf("faults[%d]", i+1)
		switch {
		case f.Times < 0 || f.Times > maxFaultRepetition:
			return c.err(key+".times", "want 1 to %d (leave times out to fire on every matching request), got %d", maxFaultRepetition, f.Times)
		case f.timesSet && f.Times == 0:
			return c.err(key+".times", "0 would never fire: leave times out to fire on every matching request, or give 1 or more")
		case f.Skip < 0 || f.Skip > maxFaultRepetition:
			return c.err(key+".skip", "want 0 to %d, got %d", maxFaultRepetition, f.Skip)
		}
		if f.On == "silent-callback" {
			if _, ok := vocab.AppFaults[f.Do]; !ok {
				return c.err(key+".do", "%q is not a silent-callback fault (known: %s)", f.Do, strings.Join(keys(vocab.AppFaults), ", "))
			}
			if len(f.When) > 0 || f.Delay != 0 {
				return c.err(key, "a silent-callback fault applies to every load of the callback page: it takes no when and no delay")
			}
			continue
		}
		if err := (vocab.Fault{On: f.On, When: f.When, Do: f.Do, Times: f.Times, Delay: f.Delay.D()}).Validate(); err != nil {
			return c.err(key, "%v (or on: silent-callback for the app's callback page)", err)
		}
		if (f.Do == "slow" || f.Do == "hold") && s.Clock != "real" {
			return c.err(key+".do", "a %s endpoint is wall-clock latency, which virtual time never sees (it stands still while a request is pending): a scenario with do: %s needs clock: real", f.Do, f.Do)
		}
		if f.Do == "hold" && !slices.ContainsFunc(s.Steps, func(st Step) bool { return st.Release }) {
			return c.err(key+".do", "do: hold holds requests until a release step lets them go, and the steps have none")
		}
	}
	return nil
}

func (c *checker) steps(s *Scenario) error {
	if len(s.Steps) == 0 {
		return c.err("steps", "a scenario needs at least one step")
	}
	for i, st := range s.Steps {
		key := fmt.Sprintf("steps[%d]", i+1)
		k := st.Kind()
		if k.JudgesIdP && s.Judges != "idp" {
			return c.errAt(st.node, key, "the %s step talks to the IdP by plain HTTP or as the protocol, not as the client: it belongs to a scenario with judges: idp", k.Name)
		}
		for name, e := range map[string]*Expr{"pass-time": st.PassTime, "timeout": st.Timeout} {
			if e == nil {
				continue
			}
			k := keyNode(st.node, name)
			for _, r := range e.Refs() {
				if _, ok := vocab.Settings[r]; !ok {
					return c.errAt(k, key+"."+name, "%s: unknown reference %q (a step's durations may refer to client.* and idp.* settings)", e.Src, r)
				}
			}
			if err := e.TypeCheck(); err != nil {
				return c.errAt(k, key+"."+name, "%v", err)
			}
			if v, ok := e.Constant(); ok {
				if err := InRange(v, time.Millisecond, maxStepDuration); err != nil {
					return c.errAt(k, key+"."+name, "%v", err)
				}
			}
		}
		if k.check != nil {
			if err := k.check(c, s, i, key); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *checker) expectation(x Expectation, key string, premises map[string]bool) error {
	at := func(k string) *yaml.Node {
		if n := keyNode(x.node, k); n != nil {
			return n
		}
		return x.node
	}
	if !idPattern.MatchString(x.ID) {
		return c.errAt(at("id"), key+".id", "%q is not lower-case words joined by dashes", x.ID)
	}
	if len(x.Requirements) == 0 {
		return c.errAt(at("requirements"), key+".requirements", "cite at least one requirement ID")
	}
	for i, r := range x.Requirements {
		if _, ok := vocab.Requirements[r]; !ok {
			return c.errAt(itemOf(x.node, "requirements", i), fmt.Sprintf("%s.requirements[%d]", key, i+1), "unknown requirement %q (see the catalogue in docs/requirements.md)", r)
		}
	}
	for field, list := range map[string][]string{"needs": x.Needs, "unless": x.Unless} {
		for i, n := range list {
			if _, ok := vocab.Capabilities[n]; !ok {
				return c.errAt(itemOf(x.node, field, i), fmt.Sprintf("%s.%s[%d]", key, field, i+1), "unknown capability %q (known: %s)", n, strings.Join(keys(vocab.Capabilities), ", "))
			}
		}
	}
	if x.Premises != nil {
		for i, p := range *x.Premises {
			if !premises[p] {
				return c.errAt(itemOf(x.node, "premises", i), fmt.Sprintf("%s.premises[%d]", key, i+1), "the scenario has no premise %q", p)
			}
		}
	}
	return c.queries(x.Query, x.AnyOf, x.node, key)
}

// queries checks a query, or the alternatives of any-of, of the mapping n.
func (c *checker) queries(q Query, anyOf []Query, n *yaml.Node, key string) error {
	hasCheck := q.Find != nil || q.Count != "" || q.At != nil || q.Same != nil || q.Per != nil || q.Cycles != 0
	switch {
	case hasCheck && len(anyOf) > 0:
		return c.errAt(keyNode(n, "any-of"), key, "give one query (find ...) or any-of, not both")
	case len(anyOf) > 0:
		for i, alt := range anyOf {
			if err := c.query(alt, itemOf(n, "any-of", i), fmt.Sprintf("%s.any-of[%d]", key, i+1)); err != nil {
				return err
			}
		}
		return nil
	}
	return c.query(q, n, key)
}

// itemOf is the node of the i-th item of a mapping's list value.
func itemOf(m *yaml.Node, key string, i int) *yaml.Node {
	if l := valueOf(m, key); l != nil && l.Kind == yaml.SequenceNode && i < len(l.Content) {
		return l.Content[i]
	}
	if k := keyNode(m, key); k != nil {
		return k
	}
	return m
}

// query validates one query; n is its mapping, for the lines of its keys.
func (c *checker) query(x Query, n *yaml.Node, key string) error {
	at := func(k string) *yaml.Node {
		if kn := keyNode(n, k); kn != nil {
			return kn
		}
		return n
	}
	if x.Find == nil {
		return c.errAt(n, key+".find", "required key is missing")
	}
	if err := c.selector(*x.Find, key+".find"); err != nil {
		return err
	}
	if x.Per != nil {
		if x.Count == "" {
			return c.errAt(at("per"), key+".per", "per goes with count")
		}
		if err := c.selector(*x.Per, key+".per"); err != nil {
			return err
		}
	}
	forms := 0
	if x.Count != "" {
		forms++
		op, num, err := parseComparison(x.Count)
		// A bound may be a number the client declares, resolved per run.
		declared := isSetting(num) && !vocab.Settings[num] && (op == "<=" || op == "<" || op == ">=" || op == ">" || op == "=")
		if !declared && (err != nil || op == "present" || op == "absent" || op == "has" || op == "lacks" || op == "~" || op == "!=" || !isWholeNumber(num)) {
			return c.errAt(valueOf(n, "count"), key+".count", "want a number of entries such as 1, 0, \">=1\" or \"<=2\", or a bound the client declares (\"<= client.network-attempts\"), got %q", x.Count)
		}
		if v, _ := strconv.Atoi(num); v < 0 {
			return c.errAt(valueOf(n, "count"), key+".count", "a number of entries is 0 or more, got %q", x.Count)
		}
		if v, _ := strconv.Atoi(num); v == 0 && (op == "<" || op == ">=") {
			return c.errAt(valueOf(n, "count"), key+".count", "%q holds whatever happens (or never): say 0, \">=1\" or \"<=N\"", x.Count)
		}
	}
	if x.At != nil {
		forms++
	}
	if x.Same != nil {
		forms++
	}
	if forms > 1 {
		return c.errAt(n, key, "use one of count, at and same")
	}
	if x.Cycles != 0 && x.At == nil {
		return c.errAt(at("cycles"), key+".cycles", "cycles applies to at only")
	}
	if x.At != nil {
		if err := c.timing(x, n, key); err != nil {
			return err
		}
	}
	if x.Same != nil {
		same := valueOf(n, "same")
		if _, ok := vocab.Kinds[x.Find.What].Fields[x.Same.Field]; !ok {
			return c.errAt(keyNode(same, "field"), key+".same.field", "%s has no field %q", x.Find.What, x.Same.Field)
		}
		if err := c.selector(x.Same.As, key+".same.as"); err != nil {
			return err
		}
		af := x.Same.AsField
		if af == "" {
			af = x.Same.Field
		}
		if _, ok := vocab.Kinds[x.Same.As.What].Fields[af]; !ok {
			return c.errAt(keyNode(same, "as-field"), key+".same.as-field", "%s has no field %q", x.Same.As.What, af)
		}
	}
	return nil
}

func isWholeNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

func (c *checker) timing(x Query, n *yaml.Node, key string) error {
	atNode := valueOf(n, "at")
	at := func(k string) *yaml.Node {
		if kn := keyNode(atNode, k); kn != nil {
			return kn
		}
		return keyNode(n, "at")
	}
	if x.Find.Nth != 0 && x.Cycles != 0 {
		return c.errAt(keyNode(valueOf(n, "find"), "nth"), key+".find.nth", "cycles picks the entries itself; drop nth")
	}
	if err := c.selector(x.At.Since, key+".at.since"); err != nil {
		return err
	}
	tokenWhat := ""
	if x.At.Token != nil {
		if err := c.selector(*x.At.Token, key+".at.token"); err != nil {
			return err
		}
		tokenWhat = x.At.Token.What
	}
	switch {
	case x.At.Is != nil && len(x.At.Between) > 0:
		return c.errAt(at("between"), key+".at", "use is with within, or between, not both")
	case x.At.Is != nil:
		if x.At.Within == nil {
			return c.errAt(at("is"), key+".at.within", "a tolerance is required with is (for example 100ms)")
		}
	case len(x.At.Between) == 2:
		if x.At.Within != nil {
			return c.errAt(at("within"), key+".at.within", "within goes with is, not between")
		}
	case len(x.At.Between) > 0:
		return c.errAt(at("between"), key+".at.between", "want two expressions [earliest, latest], got %d", len(x.At.Between))
	default:
		return c.errAt(keyNode(n, "at"), key+".at", "say when: is (with within) or between")
	}
	exprs := map[string]*Expr{}
	if x.At.Is != nil {
		exprs["is"], exprs["within"] = x.At.Is, x.At.Within
	} else {
		exprs["between"] = &x.At.Between[0]
		exprs["between[2]"] = &x.At.Between[1]
	}
	for _, k := range strictyaml.Sorted(keys(exprs)) {
		ex := exprs[k]
		node := at(strings.TrimSuffix(k, "[2]"))
		for _, r := range ex.Refs() {
			if err := checkRef(r, x.At.Since.What, tokenWhat); err != nil {
				return c.errAt(node, key+".at."+strings.TrimSuffix(k, "[2]"), "%s: %v", ex.Src, err)
			}
		}
		if err := ex.TypeCheck(); err != nil {
			return c.errAt(node, key+".at."+strings.TrimSuffix(k, "[2]"), "%v", err)
		}
	}
	if w, ok := x.At.Within.Constant(); ok && w < 0 {
		return c.errAt(at("within"), key+".at.within", "%s: a tolerance is 0 or more, got %s", x.At.Within.Src, w)
	}
	if len(x.At.Between) == 2 {
		lo, okLo := x.At.Between[0].Constant()
		hi, okHi := x.At.Between[1].Constant()
		if okLo && okHi && lo > hi {
			return c.errAt(at("between"), key+".at.between", "the earliest (%s) is after the latest (%s): no time can pass", lo, hi)
		}
	}
	return nil
}

func checkRef(r, sinceWhat, tokenWhat string) error {
	if fn, ok := strings.CutSuffix(r, "()"); ok {
		if _, known := Functions[fn]; !known {
			return fmt.Errorf("unknown function %s", r)
		}
		return nil
	}
	for prefix, what := range map[string]string{"since.": sinceWhat, "token.": tokenWhat} {
		f, ok := strings.CutPrefix(r, prefix)
		if !ok {
			continue
		}
		if what == "" {
			return fmt.Errorf("%s needs a token selector in at", r)
		}
		if _, ok := vocab.Kinds[what].Fields[f]; !ok && f != "at_ms" {
			return fmt.Errorf("the %s entry (%s) has no field %q", strings.TrimSuffix(prefix, "."), what, f)
		}
		return nil
	}
	if _, ok := vocab.Settings[r]; !ok {
		return fmt.Errorf("unknown reference %q (known: since.<field>, token.<field>, %s)", r, strings.Join(keys(vocab.Settings), ", "))
	}
	return nil
}

// selector checks kinds, fields and values against the timeline's vocabulary:
// a value an enumerated field never takes would make the selector match
// nothing, and the expectation pass or skip for a typo.
func (c *checker) selector(s Selector, key string) error {
	n := s.node
	k, ok := vocab.Kinds[s.What]
	if !ok {
		return c.errAt(keyNode(n, "what"), key+".what", "unknown kind %q (known: %s)", s.What, strings.Join(keys(vocab.Kinds), ", "))
	}
	where := valueOf(n, "where")
	for _, f := range strictyaml.Sorted(keys(s.Where)) {
		v := s.Where[f]
		kn := keyNode(where, f)
		if _, ok := k.Fields[f]; !ok {
			return c.errAt(kn, key+".where."+f, "%s has no field %q (known: %s)", s.What, f, strings.Join(keys(k.Fields), ", "))
		}
		op, operand, err := parseComparison(v)
		if err != nil {
			return c.errAt(kn, key+".where."+f, "%v", err)
		}
		if isSetting(operand) {
			return c.errAt(kn, key+".where."+f, "a where value is compared as written; %s is a client's declared value, which only count and at can read", operand)
		}
		if values := vocab.Values[s.What][f]; len(values) > 0 && (op == "=" || op == "!=") && !strictyaml.Contains(values, operand) {
			return c.errAt(kn, key+".where."+f, "%s's %s is never %q (it is one of %s)", s.What, f, operand, strings.Join(values, ", "))
		}
	}
	if s.After != nil {
		if err := c.selector(*s.After, key+".after"); err != nil {
			return err
		}
	}
	if s.Before != nil {
		return c.selector(*s.Before, key+".before")
	}
	return nil
}

// InRange checks a duration against its documented range.
func InRange(d, lo, hi time.Duration) error {
	switch {
	case d < lo && lo == 0:
		return fmt.Errorf("must not be negative, got %s", d)
	case d < lo:
		return fmt.Errorf("must be at least %s, got %s", lo, d)
	case d > hi:
		return fmt.Errorf("must be at most %s, got %s", hi, d)
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func readError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// keyLine is the line of a top-level key, for errors about its value; the
// mapping's own line when the key is absent.
func keyLine(m *yaml.Node, key string) int {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i].Line
		}
	}
	return m.Line
}
