package vocab

import "strings"

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
				panic("vocab: kind " + what + " is defined twice")
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
