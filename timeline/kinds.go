package timeline

import (
	"fmt"
	"slices"
	"strings"

	"github.com/refreshsuite/refreshsuite/vocab"
)

// Validate checks entries against the vocabulary: known kinds, known fields, and
// no value that the scenario language reserves as an operator ("present",
// "absent"), which a query could not tell from the operator. The suite runs it
// on every scenario's timeline, so a recorder that drifts from the contract is
// caught by the first run, not by a silently wrong expectation.
func Validate(entries []Entry) error {
	for _, e := range entries {
		k, ok := vocab.Kinds[e.What]
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
			if vs := vocab.Values[e.What][f]; len(vs) > 0 && v != "" && !slices.Contains(vs, v) {
				return fmt.Errorf("entry %d (%s): field %s is %q, not one of the values its kind lists (%s)", e.Seq, e.What, f, v, strings.Join(vs, ", "))
			}
		}
	}
	return nil
}
