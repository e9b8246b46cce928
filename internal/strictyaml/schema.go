package strictyaml

import (
	"reflect"
	"strings"
)

// SchemaProvider is implemented by Unmarshalers whose YAML shape differs from
// their Go struct.
type SchemaProvider interface {
	JSONSchema() map[string]any
}

var providerType = reflect.TypeOf((*SchemaProvider)(nil)).Elem()

// Schema derives a JSON Schema (draft 2020-12) from the same struct tags the
// decoder obeys, so the published schema and the loader cannot disagree.
func Schema(v any, id, title string) map[string]any {
	s := schemaOf(reflect.TypeOf(v))
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = id
	s["title"] = title
	return s
}

func schemaOf(t reflect.Type) map[string]any {
	if reflect.PointerTo(t).Implements(providerType) {
		return reflect.New(t).Interface().(SchemaProvider).JSONSchema()
	}
	if t == durationType {
		return map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for _, f := range fieldsOf(t) {
			fs := schemaOf(t.FieldByIndex(f.index).Type)
			if len(f.enum) > 0 {
				fs["enum"] = f.enum
			}
			if doc := t.FieldByIndex(f.index).Tag.Get("doc"); doc != "" {
				fs["description"] = doc
			}
			props[f.name] = fs
			if f.required {
				required = append(required, f.name)
			}
		}
		s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{"description": strings.TrimSpace("unsupported " + t.String())}
}

// StructSchema is the schema of a struct type, for SchemaProviders built on one.
func StructSchema(v any) map[string]any { return schemaOf(reflect.TypeOf(v)) }
