package timeline

import (
	"fmt"
	"slices"
	"strings"
)

// Kind documents one kind of entry and the fields it carries. The list is the
// contract between the parts that record (fakeidp, browser, the harness) and the
// scenarios that query: a scenario that names an unknown kind or field is refused
// when it loads, and a test checks that recorded entries stay inside the list.
type Kind struct {
	Doc    string
	Fields map[string]string
}

// Kinds is the vocabulary of the timeline. Times and durations are in milliseconds
// of scenario time; tokens appear only as fingerprints (fp:...).
var Kinds = merge(idpKinds, browserKinds, harnessKinds)

func merge(sets ...map[string]Kind) map[string]Kind {
	out := map[string]Kind{}
	for _, set := range sets {
		for what, k := range set {
			if _, dup := out[what]; dup {
				panic("timeline: kind " + what + " is defined twice")
			}
			out[what] = k
		}
	}
	return out
}

// The entries a page produces, and the harness's entries about a page, say
// which tab: 1 is the page every scenario starts with.
func init() {
	for what, k := range Kinds {
		if strings.HasPrefix(what, "browser.") || strings.HasPrefix(what, "client.") || tabbedHarness[what] {
			k.Fields["tab"] = "the tab: 1 is the first, others are opened by a tab step"
		}
	}
}

var tabbedHarness = map[string]bool{
	"harness.step": true, "harness.call": true, "harness.tokens": true, "harness.page": true, "harness.url": true,
	"harness.forged-message": true,
}

// Validate checks entries against the vocabulary: known kinds, known fields, and
// no value that the scenario language reserves as an operator ("present",
// "absent"), which a query could not tell from the operator. The suite runs it
// on every scenario's timeline, so a recorder that drifts from the contract is
// caught by the first run, not by a silently wrong expectation.
func Validate(entries []Entry) error {
	for _, e := range entries {
		k, ok := Kinds[e.What]
		if !ok {
			return fmt.Errorf("entry %d: unknown kind %q", e.Seq, e.What)
		}
		for f, v := range e.Fields {
			if _, ok := k.Fields[f]; !ok {
				return fmt.Errorf("entry %d (%s): unknown field %q", e.Seq, e.What, f)
			}
			if v == "present" || v == "absent" {
				return fmt.Errorf("entry %d (%s): field %s has the reserved value %q", e.Seq, e.What, f, v)
			}
			if vs := Values[e.What][f]; len(vs) > 0 && v != "" && !slices.Contains(vs, v) {
				return fmt.Errorf("entry %d (%s): field %s is %q, not one of the values its kind lists (%s)", e.Seq, e.What, f, v, strings.Join(vs, ", "))
			}
		}
	}
	return nil
}
