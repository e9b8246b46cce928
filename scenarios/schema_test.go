package scenarios

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/refreshsuite/refreshsuite/internal/schemagen"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite schema.json from the types and their doc comments")

// schema.json is what editors validate against: exactly the keys the loader
// takes, each described by its field's doc comment (with its unit and
// range), and committed as generated.
func TestSchemaFileIsCurrent(t *testing.T) {
	docs, err := schemagen.Docs("..", "scenarios", "internal/strictyaml")
	if err != nil {
		t.Fatal(err)
	}
	s := GenerateSchema(docs)
	for _, key := range schemagen.Undescribed(s) {
		t.Errorf("%s has no description: give its field a doc comment", key)
	}
	if err := schemagen.Current("schema.json", s, *updateSchema); err != nil {
		t.Fatal(err)
	}
}

// Every shipped file passes the schema, as an editor checks it.
func TestShippedFilesPassTheSchema(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files: %v", err)
	}
	for _, f := range files {
		if err := schemagen.Validate(SchemaJSON, f); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}
