package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every malformed input a user can hand the command gets exit 2 and exactly
// one line naming the file, the line and the key. Each corpus file states the
// message it must produce in its first line ("# want: ..."), so a file that
// starts failing for a different reason fails the test.
func TestMalformedInputs(t *testing.T) {
	shipped := filepath.Join("..", "..", "scenarios")
	kinds := []struct {
		dir  string
		args func(file string) []string
	}{
		{filepath.Join("..", "..", "scenarios", "testdata", "malformed"), func(f string) []string { return []string{"validate", f} }},
		{filepath.Join("testdata", "malformed", "manifest"), func(f string) []string { return []string{"validate", "-client", f, "-scenarios", shipped} }},
		{filepath.Join("testdata", "malformed", "idp"), func(f string) []string { return []string{"idp", "-config", f, "-check"} }},
	}
	total := 0
	for _, k := range kinds {
		files, err := filepath.Glob(filepath.Join(k.dir, "*.yaml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no corpus in %s: %v", k.dir, err)
		}
		for _, f := range files {
			total++
			t.Run(filepath.Base(k.dir)+"/"+filepath.Base(f), func(t *testing.T) {
				want := wantLine(t, f)
				code, out := runCmd(t, k.args(f)...)
				line := strings.TrimSuffix(out, "\n")
				if code != 2 {
					t.Fatalf("exit %d, want 2:\n%s", code, out)
				}
				if strings.Contains(line, "\n") {
					t.Fatalf("want one line, got:\n%s", out)
				}
				named := f
				if other := headerLine(t, f, "# file: "); other != "" {
					named = filepath.Join(filepath.Dir(f), other) // the mistake is in a file it refers to
				}
				if !strings.HasPrefix(line, "refreshsuite: "+named+":") {
					t.Errorf("the message does not start by naming the file %s:\n%s", named, line)
				}
				if !strings.Contains(line, want) {
					t.Errorf("want a message containing %q, got:\n%s", want, line)
				}
			})
		}
	}
	if total < 25 {
		t.Errorf("the malformed corpus has %d files; keep at least 25", total)
	}
}

// headerLine is the value of a "# key: " line among a corpus file's first
// lines, "" when there is none.
func headerLine(t *testing.T, file, prefix string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.SplitN(string(b), "\n", 4)[:3] {
		if v, ok := strings.CutPrefix(l, prefix); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func wantLine(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	want, ok := strings.CutPrefix(first, "# want: ")
	if !ok || strings.TrimSpace(want) == "" {
		t.Fatalf("%s: the first line must be \"# want: <expected message>\"", file)
	}
	return strings.TrimSpace(want)
}
