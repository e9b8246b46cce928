package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: whatever the bytes, the loader answers with scenarios or with one
// file:line error line; it never panics or hangs. Seeds: every shipped scenario
// and the malformed corpus.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"*.yaml", filepath.Join("testdata", "malformed", "*.yaml")} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		ss, err := Parse("fuzz.yaml", src)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T, want *Error: %v", err, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "fuzz.yaml") || strings.Contains(msg, "\n") {
				t.Fatalf("error %q: want one line naming the file", msg)
			}
			return
		}
		if len(ss) == 0 {
			t.Fatal("no error and no scenario")
		}
	})
}
