package scenarios

import (
	"flag"
	"testing"

	"github.com/refreshsuite/refreshsuite/internal/schemagen"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite schema.json from the types and their doc comments")

// schema.json is what editors validate scenario files against: exactly the keys
// the loader takes, each described by its field's doc comment (with its
// unit and range), committed as generated, and passed by every shipped file.
func TestSchemaFileIsCurrent(t *testing.T) {
	schemagen.Check(t, "..", "schema.json", GenerateSchema, SchemaJSON, "*.yaml", *updateSchema, "scenarios", "internal/strictyaml")
}
