package strictyaml

import (
	"regexp"
	"strings"
)

// A YAML syntax error names what the parser expected, not what the writer
// got wrong, and often a line after the mistake. These are the usual
// mistakes in scenario and manifest files, found in the lines around the
// error, with what to write instead.
var (
	// count: >=1 — an unquoted value starting with > is a folded block
	// scalar, with ! a tag, with < or > inside a flow mapping a token YAML
	// cannot start with.
	unquotedComparison = regexp.MustCompile(`(?:^|[{,\s])([A-Za-z0-9_.-]+):\s+([<>]=?\s*-?[0-9.][^\s,}#]*|!=[^\s,}#]*)`)
	leadingTab         = regexp.MustCompile(`^ *\t`)
	// {value: ${IDP_USER}} — the { of ${ opens a mapping inside the flow
	// mapping.
	placeholderInFlow = regexp.MustCompile(`\{.*?[:,]\s*(\$\{[^}]*\})`)
)

// hint finds a known mistake on the lines around line (1-based, as the
// parser reported it, possibly one off), nearest first, and returns its
// line and what to do.
func hint(src []byte, line int) (int, string, bool) {
	lines := strings.Split(string(src), "\n")
	for _, l := range []int{line, line - 1, line + 1, line - 2} {
		if l < 1 || l > len(lines) {
			continue
		}
		text := strings.TrimRight(lines[l-1], "\r")
		if i := strings.Index(text, "#"); i >= 0 && !strings.ContainsAny(text[:i], `"'`) {
			text = text[:i]
		}
		switch {
		case leadingTab.MatchString(text):
			return l, "a tab in the indentation: YAML indents with spaces only", true
		case placeholderInFlow.MatchString(text):
			p := placeholderInFlow.FindStringSubmatch(text)[1]
			return l, "a " + p + " inside a { } mapping, where its { opens another mapping: quote the value, \"" + p + "\"", true
		case unquotedComparison.MatchString(text):
			m := unquotedComparison.FindStringSubmatch(text)
			return l, "an unquoted comparison (" + m[1] + ": " + m[2] + "): YAML reads a value that starts with > as a folded text block, and ! as a tag; quote it: " + m[1] + `: "` + m[2] + `"`, true
		}
	}
	return 0, "", false
}
