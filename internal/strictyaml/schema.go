package strictyaml

import (
	"reflect"
	"strings"
	"sync"
)

// SchemaProvider is implemented by Unmarshalers whose YAML shape differs from
// their Go struct.
type SchemaProvider interface {
	JSONSchema() map[string]any
}

var providerType = reflect.TypeOf((*SchemaProvider)(nil)).Elem()

// Docs are the doc comments of types and their fields, keyed as
// github.com/invopop/jsonschema's comment extraction keys them:
// "<import path>.<Type>" and "<import path>.<Type>.<Field>".
type Docs map[string]string

var (
	docsMu sync.Mutex
	docs   Docs // the comments of the schema being built
)

// DurationDoc is what every duration key says of its unit.
const DurationDoc = "A duration with its unit: 150ms, 20s, 2m, 1h30m (a bare number is refused: seconds or milliseconds?)."

// Schema derives a JSON Schema (draft 2020-12) from the same struct tags the
// decoder obeys, so the published schema and the loader cannot disagree;
// each key's description is its field's doc comment in d.
func Schema(v any, id, title string, d Docs) map[string]any {
	docsMu.Lock()
	docs = d
	defer func() { docs = nil; docsMu.Unlock() }()
	s := schemaOf(reflect.TypeOf(v))
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = id
	s["title"] = title
	return s
}

func schemaOf(t reflect.Type) map[string]any { return schemaAs(t, t) }

// schemaAs is the schema of t with the field docs of doc, the type a local
// plain copy (type plain Step) was made from.
func schemaAs(t, doc reflect.Type) map[string]any {
	if reflect.PointerTo(t).Implements(providerType) {
		return reflect.New(t).Interface().(SchemaProvider).JSONSchema()
	}
	if t == durationType {
		return map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`, "description": DurationDoc}
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
		if t.Elem().Kind() == reflect.String {
			// The decoder takes any scalar as a string value (index: 1).
			return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": []any{"string", "number", "boolean"}}}
		}
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
			d := fieldDoc(doc, f.index)
			if d == "" {
				// A section or list of them is described by its type.
				et := t.FieldByIndex(f.index).Type
				for et.Kind() == reflect.Pointer || et.Kind() == reflect.Slice {
					et = et.Elem()
				}
				d = strings.Join(strings.Fields(docs[et.PkgPath()+"."+et.Name()]), " ")
			}
			if doc := d; doc != "" {
				if unit, ok := fs["description"].(string); ok && unit != "" && !strings.Contains(doc, unit) {
					doc += " " + unit
				}
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

// fieldDoc is the doc comment of the field at index, from the struct that
// declares it (an inlined struct's own), joined into one paragraph.
func fieldDoc(t reflect.Type, index []int) string {
	for _, i := range index[:len(index)-1] {
		t = t.Field(i).Type
	}
	f := t.Field(index[len(index)-1])
	if d := f.Tag.Get("doc"); d != "" {
		return d
	}
	return strings.Join(strings.Fields(docs[t.PkgPath()+"."+t.Name()+"."+f.Name]), " ")
}

// FieldDoc is the doc comment of a field of v's type, for SchemaProviders
// that lay a struct out by hand.
func FieldDoc(v any, field string) string {
	f, ok := reflect.TypeOf(v).FieldByName(field)
	if !ok {
		return ""
	}
	return fieldDoc(reflect.TypeOf(v), f.Index)
}

// TypeDocFrom is TypeDoc outside a Schema call.
func TypeDocFrom(d Docs, v any) string {
	var s string
	WithDocs(d, func() map[string]any { s = TypeDoc(v); return nil })
	return s
}

// WithDocs builds part of a schema with d's comments, outside a Schema call.
func WithDocs(d Docs, f func() map[string]any) map[string]any {
	docsMu.Lock()
	docs = d
	defer func() { docs = nil; docsMu.Unlock() }()
	return f()
}

// TypeDoc is the doc comment of a type, for SchemaProviders.
func TypeDoc(v any) string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return strings.Join(strings.Fields(docs[t.PkgPath()+"."+t.Name()]), " ")
}

// StructSchema is the schema of a struct type, for SchemaProviders built on one.
func StructSchema(v any) map[string]any { return schemaOf(reflect.TypeOf(v)) }

// StructSchemaAs is StructSchema for a plain copy of the type of like, with
// like's field docs.
func StructSchemaAs(v, like any) map[string]any {
	return schemaAs(reflect.TypeOf(v), reflect.TypeOf(like))
}
