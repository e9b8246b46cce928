package strictyaml

import (
	"errors"
	"strings"
	"testing"
)

// The usual mistakes get a hint, at the line that has the mistake (the
// parser names what it expected, often a line later).
func TestSyntaxHints(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		want      string
	}{
		{"unquoted comparison", "version: 1\nexpect:\n  - id: a\n    count: >=1\n    title: t\n", 4, `quote it: count: ">=1"`},
		{"unquoted comparison in a flow mapping", "steps:\n  - wait-for: {what: idp.token, where: {n: >2}}\n", 2, `quote it: n: ">2"`},
		{"unquoted inequality", "where:\n  outcome: !=ok\n  x: [\n", 2, `quote it: outcome: "!=ok"`},
		{"tab", "version: 1\nsteps:\n\t- login\n", 3, "a tab in the indentation"},
		{"placeholder in a flow mapping", "steps:\n  - fill: {selector: \"#u\", value: ${IDP_USER}}\n  - click: b\n", 2, `quote the value, "${IDP_USER}"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.src))
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("want an *Error, got %v", err)
			}
			if e.Line != tc.line || !strings.Contains(e.Msg, tc.want) || !strings.HasPrefix(e.Msg, "YAML syntax: ") {
				t.Errorf("got %v\nwant line %d and %q", err, tc.line, tc.want)
			}
		})
	}
	// No hint where none applies: the parser's own words, at its line.
	_, err := Parse("f.yaml", []byte("a: [1, 2\nb: 3\n"))
	if err == nil || strings.Contains(err.Error(), "quote") || strings.Contains(err.Error(), "tab") {
		t.Errorf("an unclosed list: %v", err)
	}
}
