package browser

import (
	"context"
	"regexp"

	"github.com/go-rod/rod/lib/proto"
)

// secretParam finds a token or code in a URL's query or fragment.
var secretParam = regexp.MustCompile(`[?#&](access_token|id_token|refresh_token|code)=`)

// URLSecrets reports whether the current tab's URL, and any entry of its
// session history, still carries a token or a code: an implicit login that
// leaves its tokens in the address bar or the history hands them to whoever
// reads either (the OAuth 2.0 for Browser-Based Apps BCP). Read from the
// browser's own navigation history, not from the page, which may have been
// rewritten since.
func (s *Session) URLSecrets(ctx context.Context) (inURL, inHistory bool, err error) {
	h, err := proto.PageGetNavigationHistory{}.Call(s.cur.page.Context(ctx))
	if err != nil {
		return false, false, err
	}
	for i, e := range h.Entries {
		if secretParam.MatchString(e.URL) {
			inHistory = true
			if i == h.CurrentIndex {
				inURL = true
			}
		}
	}
	return inURL, inHistory, nil
}
