package scenarios

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/refreshsuite/refreshsuite/vocab"
)

// StepKind is one kind of step, as the loader and the planner know it. Its
// value lives in the Step field whose yaml tag is its name (which also gives
// it its YAML shape and its schema text); the suite runs it with the runner
// it registers under the same name, and refuses to start when a kind has
// none. Adding a step is that field, an entry here and the runner.
type StepKind struct {
	Name string
	// Bare: written as a word (- login); the others are mappings with the
	// name as their one action key.
	Bare bool
	// Modifiers are the keys besides the action that the mapping may carry.
	Modifiers []string
	// JudgesIdP: the step talks to the IdP itself, by plain HTTP or as the
	// protocol, not as the client does: only a judges: idp scenario has it.
	JudgesIdP bool
	// ActsOnIdP: the step makes the embedded IdP do something (end its
	// sessions, rotate its key, let go of a held request) that an external
	// IdP does not let the harness do.
	ActsOnIdP bool
	// check validates what the shape alone does not (nil: nothing more).
	// i is the step's index, for checks that depend on the steps before.
	check func(c *checker, s *Scenario, i int, key string) error
}

// Modifier keys: the keys of a step that are not actions.
const (
	modAwait   = "await"
	modTimeout = "timeout"
	modDPoP    = "dpop"
)

// modifiers are every modifier key.
var modifiers = []string{modAwait, modTimeout, modDPoP}

var stepKinds = []StepKind{
	{Name: "login", Bare: true, Modifiers: []string{modTimeout}},
	{Name: "attempt-login", Bare: true, Modifiers: []string{modTimeout}},
	{Name: "open", Bare: true},
	{Name: "call", Modifiers: []string{modAwait, modTimeout}, check: checkCall},
	{Name: "wait-for", Modifiers: []string{modTimeout}, check: func(c *checker, s *Scenario, i int, key string) error {
		return c.selector(*s.Steps[i].WaitFor, key+".wait-for")
	}},
	{Name: "pass-time"},
	{Name: "replay-refresh-token", ActsOnIdP: true, check: checkReplay},
	{Name: "end-idp-session", Bare: true, ActsOnIdP: true},
	{Name: "forge-message"},
	{Name: "freeze", check: checkFreeze},
	{Name: "network"},
	{Name: "rotate-signing-key", Bare: true, ActsOnIdP: true},
	{Name: "release", Bare: true, ActsOnIdP: true, check: checkRelease},
	{Name: "probe-callback", Bare: true},
	{Name: "tab", check: checkTab},
	{Name: "discovery", Bare: true, JudgesIdP: true},
	{Name: "token-request", Modifiers: []string{modDPoP}, JudgesIdP: true},
	{Name: "revoke", JudgesIdP: true},
	{Name: "userinfo", Bare: true, JudgesIdP: true},
	{Name: "prompt-none", Bare: true, JudgesIdP: true},
	{Name: "rp-initiated-logout", Bare: true, JudgesIdP: true},
}

// StepKinds lists every kind of step.
func StepKinds() []StepKind { return slices.Clone(stepKinds) }

// kindByName finds a kind; the loader only asks for names stepFields has.
func kindByName(name string) (StepKind, bool) {
	i := slices.IndexFunc(stepKinds, func(k StepKind) bool { return k.Name == name })
	if i < 0 {
		return StepKind{}, false
	}
	return stepKinds[i], true
}

// Kind is what the step does.
func (s Step) Kind() StepKind {
	k, _ := kindByName(s.kind)
	return k
}

// stepFields maps each action's name (a Step field's yaml tag) to the
// field's index; modifiers and untagged fields are not actions.
var stepFields = func() map[string]int {
	out := map[string]int{}
	t := reflect.TypeFor[Step]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" || slices.Contains(modifiers, name) {
			continue
		}
		out[name] = i
	}
	return out
}()

// The table and the Step fields describe the same steps: a kind without a
// field could never be decoded, a field without a kind never checked.
func init() {
	for _, k := range stepKinds {
		i, ok := stepFields[k.Name]
		if !ok {
			panic(fmt.Sprintf("scenarios: step kind %q has no Step field tagged yaml:%q", k.Name, k.Name))
		}
		if isBool := reflect.TypeFor[Step]().Field(i).Type.Kind() == reflect.Bool; isBool != k.Bare {
			panic(fmt.Sprintf("scenarios: step kind %q: a bare step has a bool field, a mapping step any other", k.Name))
		}
	}
	for name := range stepFields {
		if _, ok := kindByName(name); !ok {
			panic(fmt.Sprintf("scenarios: Step field %q has no step kind", name))
		}
	}
}

// stepNames lists every kind's name, in the table's order, or only the
// bare ones'.
func stepNames(onlyBare bool) []string {
	var out []string
	for _, k := range stepKinds {
		if k.Bare || !onlyBare {
			out = append(out, k.Name)
		}
	}
	return out
}

func checkCall(c *checker, s *Scenario, i int, key string) error {
	st := s.Steps[i]
	if _, ok := vocab.DriverFunctions[st.Call]; !ok {
		return c.errAt(keyNode(st.node, "call"), key+".call", "unknown driver function %q (known: %s)", st.Call, strings.Join(keys(vocab.DriverFunctions), ", "))
	}
	return nil
}

func checkReplay(c *checker, s *Scenario, i int, key string) error {
	if n := s.Steps[i].ReplayRefreshToken; n > maxReplayOrTabs {
		return c.errAt(keyNode(s.Steps[i].node, "replay-refresh-token"), key+".replay-refresh-token", "want 1 to %d, got %d", maxReplayOrTabs, n)
	}
	return nil
}

func checkFreeze(c *checker, s *Scenario, i int, key string) error {
	st := s.Steps[i]
	if s.Clock != "real" {
		return c.errAt(keyNode(st.node, "freeze"), key+".freeze", "a frozen page holds the virtual clock still: a scenario that freezes needs clock: real")
	}
	if err := InRange(st.Freeze.D(), time.Millisecond, maxStepDuration); err != nil {
		return c.errAt(keyNode(st.node, "freeze"), key+".freeze", "%v", err)
	}
	return nil
}

func checkRelease(c *checker, s *Scenario, i int, key string) error {
	if !slices.ContainsFunc(s.Faults, func(f Fault) bool { return f.Do == "hold" }) {
		return c.errAt(s.Steps[i].node, key, "release lets go of the requests a do: hold fault holds, and the scenario declares none")
	}
	return nil
}

// checkTab: tabs open in order, so the highest tab so far plus one is the
// most a step may name.
func checkTab(c *checker, s *Scenario, i int, key string) error {
	st := s.Steps[i]
	tabs := 1
	for _, before := range s.Steps[:i] {
		tabs = max(tabs, before.Tab)
	}
	k := keyNode(st.node, "tab")
	switch {
	case st.Tab < 1 || st.Tab > tabs+1:
		return c.errAt(k, key+".tab", "tabs are numbered from 1 and opened in order: want 1 to %d here, got %d", tabs+1, st.Tab)
	case s.Clock != "real":
		return c.errAt(k, key+".tab", "virtual time is kept per page, so two tabs would run on two clocks: a scenario with tabs needs clock: real")
	}
	return nil
}
