// Package strictyaml decodes YAML into Go values strictly, for every input file
// the suite reads (scenarios, client manifests): unknown keys, wrong types,
// duplicate keys, missing required keys, values outside an enumeration and
// durations without a unit are errors that name the file, the line and the key.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Error is a problem in an input file, reported as file:line: key: message so that
// an editor can jump to it.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": " + e.Key)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// Duration is a YAML duration with a unit ("20s", "150ms"). A bare number is
// refused: "20" could mean seconds or milliseconds and a wrong guess would shift
// every expectation built on it.
type Duration time.Duration

// D is the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// Unmarshaler is implemented by types with their own YAML shape (a step that is
// a bare word or a mapping, an expression parsed at load time).
type Unmarshaler interface {
	UnmarshalStrict(dec *Decoder, n *yaml.Node, key string) error
}

// Decoder decodes the nodes of one file. Struct fields use the yaml tag for the
// key and an optional rs tag: rs:"required" and rs:"enum=a|b|c".
type Decoder struct {
	File string
}

// Errorf returns an *Error at node n for key.
func (d *Decoder) Errorf(n *yaml.Node, key, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &Error{File: d.File, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// OneAction checks that a step mapping sets exactly one of its actions (set
// maps each action's name to whether it is given); names lists them all for
// the message.
func (d *Decoder) OneAction(n *yaml.Node, key string, set map[string]bool, names string) error {
	var given []string
	for name, ok := range set {
		if ok {
			given = append(given, name)
		}
	}
	switch len(given) {
	case 0:
		return d.Errorf(n, key, "a step needs one action: %s", names)
	case 1:
		return nil
	}
	return d.Errorf(n, key, "one action per step, got %s", strings.Join(Sorted(given), " and "))
}

// Join builds a key path.
func Join(parent, child string) string {
	if parent == "" {
		return child
	}
	return parent + "." + child
}

// KindName describes a node for an error message.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "empty"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "a document"
}

var (
	durationType = reflect.TypeOf(Duration(0))
	decoderType  = reflect.TypeOf((*Unmarshaler)(nil)).Elem()
)

// Decode fills v (a pointer) from n. Decoding into a value that already holds data
// only overwrites the keys present in n, which is how variants override a base.
func (d *Decoder) Decode(n *yaml.Node, v any, key string) error {
	return d.value(n, reflect.ValueOf(v).Elem(), key)
}

// Struct decodes a mapping into the struct p points to with the usual rules; for
// Unmarshalers that add checks around the plain struct decoding.
func (d *Decoder) Struct(n *yaml.Node, p any, key string) error {
	return d.structure(n, reflect.ValueOf(p).Elem(), key)
}

func (d *Decoder) value(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return d.Errorf(n, key, "the file is empty")
		}
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		return d.Errorf(n, key, "YAML aliases are not supported; write the value out")
	}
	if v.CanAddr() && v.Addr().Type().Implements(decoderType) {
		if v.Kind() == reflect.Pointer && v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return v.Addr().Interface().(Unmarshaler).UnmarshalStrict(d, n, key)
	}
	if v.Type() == durationType {
		return d.duration(n, v, key)
	}
	switch v.Kind() {
	case reflect.Pointer:
		if n.Tag == "!!null" {
			v.Set(reflect.Zero(v.Type()))
			return nil
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.value(n, v.Elem(), key)
	case reflect.Struct:
		return d.structure(n, v, key)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return d.Errorf(n, key, "want a list, got %s", KindName(n))
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			if err := d.value(c, s.Index(i), fmt.Sprintf("%s[%d]", key, i+1)); err != nil {
				return err
			}
		}
		v.Set(s)
		return nil
	case reflect.Map:
		return d.mapping(n, v, key)
	case reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			return d.Errorf(n, key, "%v", err)
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return d.Errorf(n, key, "want a %s, got %s", typeWord(v.Type()), KindName(n))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Tag != "!!bool" {
			return d.Errorf(n, key, "want true or false, got %q", n.Value)
		}
		b, _ := strconv.ParseBool(n.Value)
		v.SetBool(b)
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if err != nil || n.Tag != "!!int" {
			return d.Errorf(n, key, "want a whole number, got %q", n.Value)
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || (n.Tag != "!!float" && n.Tag != "!!int") {
			return d.Errorf(n, key, "want a number, got %q", n.Value)
		}
		v.SetFloat(f)
	default:
		return d.Errorf(n, key, "cannot decode into %s", v.Type())
	}
	return nil
}

func typeWord(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int:
		return "whole number"
	case reflect.Float64:
		return "number"
	}
	return t.String()
}

func (d *Decoder) duration(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return d.Errorf(n, key, "want a duration such as 20s or 150ms, got %s", KindName(n))
	}
	p, err := time.ParseDuration(n.Value)
	if err != nil {
		return d.Errorf(n, key, "want a duration with a unit such as 20s or 150ms, got %q", n.Value)
	}
	if p < 0 {
		return d.Errorf(n, key, "a duration must not be negative, got %q", n.Value)
	}
	v.SetInt(int64(p))
	return nil
}

func (d *Decoder) mapping(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind != yaml.MappingNode {
		return d.Errorf(n, key, "want a mapping, got %s", KindName(n))
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return d.Errorf(k, Join(key, k.Value), "key appears twice")
		}
		seen[k.Value] = true
		ev := reflect.New(v.Type().Elem()).Elem()
		if err := d.value(val, ev, Join(key, k.Value)); err != nil {
			return err
		}
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), ev)
	}
	return nil
}

type fieldInfo struct {
	index    []int
	name     string
	required bool
	enum     []string
}

// fieldsOf lists a struct's keys; an embedded struct tagged yaml:",inline"
// contributes its own keys, as if they were written out.
func fieldsOf(t reflect.Type) []fieldInfo {
	var out []fieldInfo
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" && opts == "inline" && f.Type.Kind() == reflect.Struct {
			for _, in := range fieldsOf(f.Type) {
				in.index = append([]int{i}, in.index...)
				out = append(out, in)
			}
			continue
		}
		if name == "" || name == "-" {
			continue
		}
		fi := fieldInfo{index: []int{i}, name: name}
		for _, opt := range strings.Split(f.Tag.Get("rs"), ",") {
			switch {
			case opt == "required":
				fi.required = true
			case strings.HasPrefix(opt, "enum="):
				fi.enum = strings.Split(strings.TrimPrefix(opt, "enum="), "|")
			}
		}
		out = append(out, fi)
	}
	return out
}

func (d *Decoder) structure(n *yaml.Node, v reflect.Value, key string) error {
	if n.Kind != yaml.MappingNode {
		return d.Errorf(n, key, "want a mapping, got %s", KindName(n))
	}
	fields := fieldsOf(v.Type())
	byName := map[string]fieldInfo{}
	var names []string
	for _, f := range fields {
		byName[f.name] = f
		names = append(names, f.name)
	}
	seen := map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		f, ok := byName[k.Value]
		if !ok {
			return d.Errorf(k, Join(key, k.Value), "unknown key (known: %s)", strings.Join(Sorted(names), ", "))
		}
		if seen[k.Value] {
			return d.Errorf(k, Join(key, k.Value), "key appears twice")
		}
		seen[k.Value] = true
		fv := v.FieldByIndex(f.index)
		if err := d.value(val, fv, Join(key, k.Value)); err != nil {
			return err
		}
		if len(f.enum) > 0 && fv.Kind() == reflect.String && !Contains(f.enum, fv.String()) {
			return d.Errorf(val, Join(key, k.Value), "%q is not one of %s", fv.String(), strings.Join(f.enum, ", "))
		}
	}
	for _, f := range fields {
		if f.required && !seen[f.name] && v.FieldByIndex(f.index).IsZero() {
			return d.Errorf(n, Join(key, f.name), "required key is missing")
		}
	}
	return nil
}

// Sorted returns a sorted copy.
func Sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// Contains reports whether list holds s.
func Contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// scannerError are the "did not find expected" messages of yaml.v3's
// scanner, which, unlike its parser's, come with the 1-based line.
var scannerError = map[string]bool{
	"did not find expected comment or line break":           true,
	"did not find expected whitespace or line break":        true,
	"did not find expected alphabetic or numeric character": true,
}

// Parse reads exactly one YAML document from src; file names it in errors.
func Parse(file string, src []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(src))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the file is empty"}
		}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			if strings.HasPrefix(m[2], "did not find expected") && !scannerError[m[2]] {
				// yaml.v3 reports parser errors at the 0-based line of the construct
				// that is left open, scanner errors 1-based.
				line++
			}
			if at, what, ok := hint(src, line); ok {
				return nil, &Error{File: file, Line: at, Msg: "YAML syntax: " + what + " (the parser: " + m[2] + ")"}
			}
			return nil, &Error{File: file, Line: line, Msg: "YAML syntax: " + m[2]}
		}
		return nil, &Error{File: file, Msg: "YAML syntax: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "one document per file; found a second YAML document"}
	}
	return &doc, nil
}

// DecodeFile reads file and decodes its one document into v.
func DecodeFile(file string, v any) error {
	_, err := DecodeFileNode(file, v)
	return err
}

// DecodeFileNode is DecodeFile that also returns the document, for locating
// the keys of later, semantic errors (LineOf).
func DecodeFileNode(file string, v any) (*yaml.Node, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &Error{File: file, Msg: "cannot read: " + err.Error()}
	}
	doc, err := Parse(file, src)
	if err != nil {
		return nil, err
	}
	return doc, (&Decoder{File: file}).Decode(doc, v, "")
}

// Lookup is the line of a key path when the document has every part of it.
func Lookup(doc *yaml.Node, path string) (int, bool) {
	n := doc
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, m := range pathPart.FindAllStringSubmatch(path, -1) {
		var next *yaml.Node
		switch {
		case n == nil:
		case m[1] != "" && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == m[1] {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
		case m[2] != "" && n.Kind == yaml.SequenceNode:
			if i, _ := strconv.Atoi(m[2]); i >= 1 && i <= len(n.Content) {
				next = n.Content[i-1]
				line = next.Line
			}
		}
		if next == nil {
			return 0, false
		}
		n = next
	}
	return line, true
}

var pathPart = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

// LineOf finds the line of a key path such as "config.settings.speed" or
// "capabilities[2]" in a document; as far as the path exists, else the
// closest enclosing node's line.
func LineOf(doc *yaml.Node, path string) int {
	if doc == nil {
		return 0
	}
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, m := range pathPart.FindAllStringSubmatch(path, -1) {
		var next *yaml.Node
		switch {
		case m[1] != "" && n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == m[1] {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
		case m[2] != "" && n.Kind == yaml.SequenceNode:
			if i, _ := strconv.Atoi(m[2]); i >= 1 && i <= len(n.Content) {
				next = n.Content[i-1]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}
