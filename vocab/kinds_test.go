package vocab

import (
	"strings"
	"testing"
)

// A value a kind lists can be asked for in a where: none may be a word
// queries read as an operator ("absent" would match an empty field instead).
func TestValuesAreNotOperators(t *testing.T) {
	for kind, fields := range Values {
		for f, vs := range fields {
			for _, v := range vs {
				if v == "present" || v == "absent" || v == "has" || v == "lacks" || strings.HasPrefix(v, "~") || strings.HasPrefix(v, "!=") {
					t.Errorf("%s.%s lists %q, which a where reads as an operator", kind, f, v)
				}
			}
		}
	}
}
