package scenarios

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/refreshsuite/refreshsuite/internal/strictyaml"

	"gopkg.in/yaml.v3"

	"github.com/refreshsuite/refreshsuite/fakeidp"
	"github.com/refreshsuite/refreshsuite/timeline"
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
	if err := validate(d, base); err != nil {
		return nil, err
	}
	if len(base.Variants) == 0 {
		return []*Scenario{base}, nil
	}
	var out []*Scenario
	seen := map[string]bool{}
	for i, v := range base.Variants {
		key := fmt.Sprintf("variants[%d]", i+1)
		if !idPattern.MatchString(v.ID) {
			return nil, &strictyaml.Error{File: file, Line: root.Line, Key: key + ".id", Msg: fmt.Sprintf("%q is not lower-case words joined by dashes", v.ID)}
		}
		if seen[v.ID] {
			return nil, &strictyaml.Error{File: file, Line: root.Line, Key: key + ".id", Msg: fmt.Sprintf("variant %q appears twice", v.ID)}
		}
		seen[v.ID] = true
		s := &Scenario{File: file, Line: base.Line}
		_ = d.Decode(doc, s, "") // decoded once already without error
		s.Variants = nil
		s.Variant = v.ID
		if v.Title != "" {
			s.Title = s.Title + " (" + v.Title + ")"
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
		if err := validate(d, s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func validate(d *strictyaml.Decoder, s *Scenario) error {
	e := func(line int, key, format string, args ...any) error {
		return &strictyaml.Error{File: d.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if s.Version != Version {
		return e(s.Line, "version", "this suite reads scenario format version %d, got %d", Version, s.Version)
	}
	if !idPattern.MatchString(s.ID) {
		return e(s.Line, "id", "%q is not lower-case words joined by dashes", s.ID)
	}
	for i, n := range s.Needs {
		if _, ok := Capabilities[n]; !ok {
			return e(s.Line, fmt.Sprintf("needs[%d]", i+1), "unknown capability %q (known: %s)", n, strings.Join(keys(Capabilities), ", "))
		}
	}
	if f := s.Client.RenewalFactor; f != nil && (*f <= 0 || *f >= 1) {
		return e(s.Line, "client.renewal-factor", "must be between 0 and 1 (exclusive), got %v", *f)
	}
	for i, f := range s.Faults {
		key := fmt.Sprintf("faults[%d]", i+1)
		if f.On == "silent-callback" {
			if _, ok := AppFaults[f.Do]; !ok {
				return e(f.Line, key+".do", "%q is not a silent-callback fault (known: %s)", f.Do, strings.Join(keys(AppFaults), ", "))
			}
			continue
		}
		if err := fakeidp.ValidateFault(fakeidp.Fault{On: f.On, When: f.When, Do: f.Do, Times: f.Times, Delay: f.Delay.D()}); err != nil {
			return e(f.Line, key, "%v (or on: silent-callback for the app's callback page)", err)
		}
		if f.Do == "slow" && s.Clock != "real" {
			return e(f.Line, key+".do", "a slow endpoint is wall-clock latency, which virtual time never sees (it stands still while a request is pending): a scenario with do: slow needs clock: real")
		}
	}
	if len(s.Steps) == 0 {
		return e(s.Line, "steps", "a scenario needs at least one step")
	}
	tabs := 1
	for i, st := range s.Steps {
		if st.Freeze > 0 && s.Clock != "real" {
			return e(st.Line, fmt.Sprintf("steps[%d].freeze", i+1), "a frozen page holds the virtual clock still: a scenario that freezes needs clock: real")
		}
		if st.Tab != 0 {
			key := fmt.Sprintf("steps[%d].tab", i+1)
			switch {
			case st.Tab < 1 || st.Tab > tabs+1:
				return e(st.Line, key, "tabs are numbered from 1 and opened in order: want 1 to %d here, got %d", tabs+1, st.Tab)
			case s.Clock != "real":
				return e(st.Line, key, "virtual time is kept per page, so two tabs would run on two clocks: a scenario with tabs needs clock: real")
			}
			tabs = max(tabs, st.Tab)
		}
	}
	for i, st := range s.Steps {
		key := fmt.Sprintf("steps[%d]", i+1)
		if st.Call != "" {
			if _, ok := DriverFunctions[st.Call]; !ok {
				return e(st.Line, key+".call", "unknown driver function %q (known: %s)", st.Call, strings.Join(keys(DriverFunctions), ", "))
			}
		}
		if st.WaitFor != nil {
			if err := checkSelector(d, *st.WaitFor, st.Line, key+".wait-for"); err != nil {
				return err
			}
		}
	}
	if len(s.Expect) == 0 {
		return e(s.Line, "expect", "a scenario needs at least one expectation")
	}
	ids := map[string]bool{}
	for i, x := range s.Expect {
		key := fmt.Sprintf("expect[%d]", i+1)
		if err := checkExpectation(d, x, key); err != nil {
			return err
		}
		if ids[x.ID] {
			return e(x.Line, key+".id", "%q appears twice in this scenario", x.ID)
		}
		ids[x.ID] = true
	}
	return nil
}

func checkExpectation(d *strictyaml.Decoder, x Expectation, key string) error {
	e := func(k, format string, args ...any) error {
		return &strictyaml.Error{File: d.File, Line: x.Line, Key: key + k, Msg: fmt.Sprintf(format, args...)}
	}
	if !idPattern.MatchString(x.ID) {
		return e(".id", "%q is not lower-case words joined by dashes", x.ID)
	}
	if len(x.Requirements) == 0 {
		return e(".requirements", "cite at least one requirement ID")
	}
	for i, r := range x.Requirements {
		if _, ok := Requirements[r]; !ok {
			return e(fmt.Sprintf(".requirements[%d]", i+1), "unknown requirement %q (see the catalogue in docs/requirements.md)", r)
		}
	}
	for i, n := range x.Needs {
		if _, ok := Capabilities[n]; !ok {
			return e(fmt.Sprintf(".needs[%d]", i+1), "unknown capability %q", n)
		}
	}
	hasCheck := x.Find != nil || x.Count != "" || x.At != nil || x.Same != nil || x.Per != nil || x.Cycles != 0
	switch {
	case hasCheck && len(x.AnyOf) > 0:
		return e("", "give one query (find ...) or any-of, not both")
	case len(x.AnyOf) > 0:
		for i, c := range x.AnyOf {
			if err := checkQuery(d, c, x.Line, fmt.Sprintf("%s.any-of[%d]", key, i+1)); err != nil {
				return err
			}
		}
		return nil
	}
	return checkQuery(d, x.Query, x.Line, key)
}

// checkQuery validates one query of an expectation.
func checkQuery(d *strictyaml.Decoder, x Query, line int, key string) error {
	e := func(k, format string, args ...any) error {
		return &strictyaml.Error{File: d.File, Line: line, Key: key + k, Msg: fmt.Sprintf(format, args...)}
	}
	if x.Find == nil {
		return e(".find", "required key is missing")
	}
	if err := checkSelector(d, *x.Find, line, key+".find"); err != nil {
		return err
	}
	if x.Per != nil {
		if x.Count == "" {
			return e(".per", "per goes with count")
		}
		if err := checkSelector(d, *x.Per, line, key+".per"); err != nil {
			return err
		}
	}
	forms := 0
	if x.Count != "" {
		forms++
		if op, n, err := parseComparison(x.Count); err != nil || op == "present" || op == "absent" || !isNumber(n) {
			return e(".count", "want a number of entries such as 1, 0, \">=1\" or \"<=2\", got %q", x.Count)
		}
	}
	if x.At != nil {
		forms++
	}
	if x.Same != nil {
		forms++
	}
	if forms > 1 {
		return e("", "use one of count, at and same")
	}
	if x.Cycles != 0 && x.At == nil {
		return e(".cycles", "cycles applies to at only")
	}
	if x.Cycles < 0 {
		return e(".cycles", "must be positive")
	}
	if x.At != nil {
		if x.Find.Nth != 0 && x.Cycles > 0 {
			return e(".find.nth", "cycles picks the entries itself; drop nth")
		}
		if err := checkSelector(d, x.At.Since, line, key+".at.since"); err != nil {
			return err
		}
		tokenWhat := ""
		if x.At.Token != nil {
			if err := checkSelector(d, *x.At.Token, line, key+".at.token"); err != nil {
				return err
			}
			tokenWhat = x.At.Token.What
		}
		switch {
		case x.At.Is != nil && len(x.At.Between) > 0:
			return e(".at", "use is with within, or between, not both")
		case x.At.Is != nil:
			if x.At.Within == nil {
				return e(".at.within", "a tolerance is required with is (for example 100ms)")
			}
		case len(x.At.Between) == 2:
			if x.At.Within != nil {
				return e(".at.within", "within goes with is, not between")
			}
		case len(x.At.Between) > 0:
			return e(".at.between", "want two expressions [earliest, latest], got %d", len(x.At.Between))
		default:
			return e(".at", "say when: is (with within) or between")
		}
		exprs := append([]Expr(nil), x.At.Between...)
		if x.At.Is != nil {
			exprs = append(exprs, *x.At.Is, *x.At.Within)
		}
		for _, ex := range exprs {
			for _, r := range ex.Refs() {
				if err := checkRef(r, x.At.Since.What, tokenWhat); err != nil {
					return e(".at", "%s: %v", ex.Src, err)
				}
			}
		}
	}
	if x.Same != nil {
		if _, ok := timeline.Kinds[x.Find.What].Fields[x.Same.Field]; !ok {
			return e(".same.field", "%s has no field %q", x.Find.What, x.Same.Field)
		}
		if err := checkSelector(d, x.Same.As, line, key+".same.as"); err != nil {
			return err
		}
		af := x.Same.AsField
		if af == "" {
			af = x.Same.Field
		}
		if _, ok := timeline.Kinds[x.Same.As.What].Fields[af]; !ok {
			return e(".same.as-field", "%s has no field %q", x.Same.As.What, af)
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
		if _, ok := timeline.Kinds[what].Fields[f]; !ok && f != "at_ms" {
			return fmt.Errorf("the %s entry (%s) has no field %q", strings.TrimSuffix(prefix, "."), what, f)
		}
		return nil
	}
	if _, ok := Settings[r]; !ok {
		return fmt.Errorf("unknown reference %q (known: since.<field>, token.<field>, %s)", r, strings.Join(keys(Settings), ", "))
	}
	return nil
}

func checkSelector(d *strictyaml.Decoder, s Selector, line int, key string) error {
	k, ok := timeline.Kinds[s.What]
	if !ok {
		return &strictyaml.Error{File: d.File, Line: line, Key: key + ".what", Msg: fmt.Sprintf("unknown kind %q (known: %s)", s.What, strings.Join(keys(timeline.Kinds), ", "))}
	}
	for f, v := range s.Where {
		if _, ok := k.Fields[f]; !ok {
			return &strictyaml.Error{File: d.File, Line: line, Key: key + ".where." + f, Msg: fmt.Sprintf("%s has no field %q (known: %s)", s.What, f, strings.Join(keys(k.Fields), ", "))}
		}
		if _, _, err := parseComparison(v); err != nil {
			return &strictyaml.Error{File: d.File, Line: line, Key: key + ".where." + f, Msg: err.Error()}
		}
	}
	if s.After != nil {
		if err := checkSelector(d, *s.After, line, key+".after"); err != nil {
			return err
		}
	}
	if s.Before != nil {
		return checkSelector(d, *s.Before, line, key+".before")
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
