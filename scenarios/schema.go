package scenarios

import (
	_ "embed"

	"github.com/refreshsuite/refreshsuite/internal/strictyaml"
)

// SchemaJSON is scenarios/schema.json, the schema editors validate against,
// as committed: GenerateSchema with the types' doc comments, which only the
// source has (TestSchemaFileIsCurrent keeps the file current).
//
//go:embed schema.json
var SchemaJSON []byte

// GenerateSchema is the JSON Schema of the scenario format, derived from the
// types the loader decodes into, each key described by its field's doc
// comment in docs.
func GenerateSchema(docs strictyaml.Docs) map[string]any {
	s := strictyaml.Schema(Scenario{}, "urn:refreshsuite:scenario:v1", "refreshsuite scenario (version 1)", docs)
	s["description"] = strictyaml.TypeDocFrom(docs, Scenario{})
	type plain Selector // the struct itself, not the reference
	sel := strictyaml.WithDocs(docs, func() map[string]any { return strictyaml.StructSchemaAs(plain{}, Selector{}) })
	sel["description"] = strictyaml.TypeDocFrom(docs, Selector{})
	s["$defs"] = map[string]any{"selector": sel}
	countsAreNumbers(s)
	return s
}

// countsAreNumbers lets count be what the loader takes: a whole number
// (count: 1) or a comparison in quotes (count: ">=1").
func countsAreNumbers(v any) {
	switch x := v.(type) {
	case map[string]any:
		if props, ok := x["properties"].(map[string]any); ok {
			if c, ok := props["count"].(map[string]any); ok && c["type"] == "string" {
				props["count"] = map[string]any{"description": c["description"], "oneOf": []any{
					map[string]any{"type": "integer", "minimum": 0},
					map[string]any{"type": "string", "pattern": `^((>=|<=|>|<|!=)?[0-9]+|(>=|<=|>|<|=) *client\.[a-z-]+)$`},
				}}
			}
		}
		for _, c := range x {
			countsAreNumbers(c)
		}
	case []any:
		for _, c := range x {
			countsAreNumbers(c)
		}
	}
}

// JSONSchema: a whole number from 1, or "all".
func (*Cycles) JSONSchema() map[string]any {
	return map[string]any{"oneOf": []any{map[string]any{"type": "integer", "minimum": 1}, map[string]any{"const": "all"}}}
}

// JSONSchema: a step is a bare word or a mapping with one action.
func (*Step) JSONSchema() map[string]any {
	type plain Step
	obj := strictyaml.StructSchemaAs(plain{}, Step{})
	obj["minProperties"] = 1
	return map[string]any{"description": strictyaml.TypeDoc(Step{}), "oneOf": []any{
		map[string]any{"type": "string", "enum": strictyaml.Sorted(stepNames(true))},
		obj,
	}}
}

// JSONSchema: an expression is a string.
func (*Expr) JSONSchema() map[string]any {
	return map[string]any{"type": "string", "description": "An expression over durations with their unit (20s, 150ms), numbers, + - * / and parentheses, and the client's and the IdP's declared values (client.renewal-before, client.silent-refresh-timeout, idp.access-token-lifetime, since.*, token.*): \"3 * client.renewal-before + 10s\"."}
}

// JSONSchema: a variant overrides sections of the scenario.
func (*Variant) JSONSchema() map[string]any {
	doc := func(field string) string {
		if d := strictyaml.FieldDoc(Variant{}, field); d != "" {
			return d
		}
		return strictyaml.FieldDoc(Variant{}, "IdP") // the comment of all the override sections
	}
	section := func(v any, field string) map[string]any {
		s := strictyaml.StructSchema(v)
		s["description"] = doc(field)
		return s
	}
	return map[string]any{"type": "object", "required": []string{"id"}, "additionalProperties": false, "description": strictyaml.TypeDoc(Variant{}),
		"properties": map[string]any{
			"id":    map[string]any{"type": "string", "description": doc("ID")},
			"title": map[string]any{"type": "string", "description": doc("Title")},
			"idp":   section(IdPSpec{}, "IdP"), "browser": section(BrowserSpec{}, "Browser"), "client": section(ClientSpec{}, "Client"),
			"faults":       map[string]any{"type": "array", "items": strictyaml.StructSchema(Fault{}), "description": doc("Faults")},
			"needs":        map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": doc("Needs")},
			"requirements": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": doc("Requirements")},
		}}
}

// JSONSchema: selectors nest (after), so they are a shared definition.
func (*Selector) JSONSchema() map[string]any { return map[string]any{"$ref": "#/$defs/selector"} }
