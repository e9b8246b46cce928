package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse: whatever the bytes, the loader answers with scenarios or with one
// file:line error line; it never panics or hangs (the fuzzer has no time limit
// per input, so a hang is turned into a failure here). Seeds: every shipped
// scenario and the malformed corpus.
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
		type result struct {
			ss  []*Scenario
			err error
		}
		done := make(chan result, 1)
		go func() {
			ss, err := Parse("fuzz.yaml", src)
			done <- result{ss, err}
		}()
		var r result
		select {
		case r = <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("Parse did not return within 5 s")
		}
		ss, err := r.ss, r.err
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
