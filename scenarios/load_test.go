package scenarios

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/refreshsuite/refreshsuite/vocab"
)

// Every malformed file names what is wrong in its first line (# want: ...). The
// loader must answer with one line that starts with the file name and contains
// that text: never a panic, never a silent default.
func TestMalformedCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "malformed", "*.yaml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("malformed corpus: %d files, %v", len(files), err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, _ := os.ReadFile(f)
			first, _, _ := strings.Cut(string(src), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("%s: first line must be '# want: <expected error text>'", f)
			}
			_, err := LoadFile(f)
			if err == nil {
				t.Fatalf("loaded without error, want %q", want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, f+":") || strings.Contains(msg, "\n") || !strings.Contains(msg, want) {
				t.Errorf("error %q\nwant one line starting with %q and containing %q", msg, f+":", want)
			}
		})
	}
}

func TestShippedScenariosLoad(t *testing.T) {
	all, err := Load(".")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) == 0 {
		t.Fatal("no scenarios")
	}
}

func TestDuplicateScenarioIDs(t *testing.T) {
	dir := t.TempDir()
	body := "version: 1\nid: same\ntitle: t\nsteps: [login]\nexpect: [{id: e, title: t, requirements: [CF-1], find: {what: idp.token}}]\n"
	for _, n := range []string{"a.yaml", "b.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "b.yaml:2: id: \"same\" is already the id of") {
		t.Fatalf("duplicate ids across files: %v", err)
	}
}

func TestVariantsOverrideOnlyWhatTheySay(t *testing.T) {
	src := `version: 1
id: v
title: base
idp: {access-token-lifetime: 5s, refresh-tokens: strict}
client: {flow: code, renewal-factor: 0.75, library: {a: 1, b: 2}}
steps: [login]
expect: [{id: e, title: t, requirements: [CF-1], find: {what: idp.token}}]
variants:
  - {id: half, title: half, client: {renewal-factor: 0.5, library: {b: 3}}}
  - {id: plain}
`
	ss, err := Parse("v.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 || ss[0].Name() != "v[half]" || ss[1].Name() != "v[plain]" {
		t.Fatalf("variants: %d containers", len(ss))
	}
	h := ss[0]
	if *h.Client.RenewalFactor != 0.5 || h.Client.Flow != "code" || h.IdP.AccessTokenLifetime.Src != "5s" {
		t.Errorf("override lost the base: %+v %+v", h.Client, h.IdP)
	}
	if h.Client.Library["a"] != 1 || h.Client.Library["b"] != 3 {
		t.Errorf("library keys are merged key by key, got %v", h.Client.Library)
	}
	if *ss[1].Client.RenewalFactor != 0.75 || ss[1].Client.Library["b"] != 2 {
		t.Errorf("a variant changed its sibling: %+v", ss[1].Client)
	}
}

func TestRequirementsPageMatchesCatalogue(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "docs", "requirements.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Count(string(b), "\n| ") - 1 // minus the header row
	if rows != len(vocab.Requirements) {
		t.Errorf("docs/requirements.md has %d rows, the catalogue %d requirements", rows, len(vocab.Requirements))
	}
	for id, text := range vocab.Requirements {
		if !strings.Contains(string(b), "| "+id+" | "+text+" |") {
			t.Errorf("docs/requirements.md does not state %s as in vocab/catalogue.go: %s", id, text)
		}
	}
}

// A step's text (what harness.step and the reports show) is the step, not
// the comment written above or beside it.
func TestStepTextLeavesCommentsOut(t *testing.T) {
	src := "version: 1\nid: a\ntitle: t\nsteps:\n  - login\n  # why the wait\n  - {wait-for: {what: client.event}, timeout: 3s} # beside\nexpect: [{id: e, title: t, requirements: [CF-1], find: {what: idp.token}}]\n"
	all, err := Parse("a.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := all[0].Steps[1].Text, "{wait-for: {what: client.event}, timeout: 3s}"; got != want {
		t.Errorf("step text %q, want %q", got, want)
	}
}

// Every step kind has its row in the steps table of the scenario format,
// written as a scenario writes it.
func TestEveryStepIsInTheStepsTable(t *testing.T) {
	doc, err := os.ReadFile("../docs/scenarios.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range StepKinds() {
		form := regexp.QuoteMeta(k.Name)
		if !k.Bare {
			form = `\{` + form + `: `
		}
		if !regexp.MustCompile("(?m)^\\| `" + form + "[^|\\n]*` \\| .").Match(doc) {
			t.Errorf("docs/scenarios.md has no steps table row for %s", k.Name)
		}
	}
}
