package export

import (
	"reflect"
	"strings"
)

// Feature is one top-level field of a JSONL export's lines and its type,
// as a dataset card lists it: string, int64, float64, bool, list, struct
// or map. They are read from the Go types the lines are written from, so
// they cannot drift from the lines.
type Feature struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
}

// Features lists the top-level fields of a JSONL format's lines, in the
// order they are written; nil for a format that is not JSONL of one line
// type (csv, label-studio).
func Features(f Format) []Feature {
	var line any
	switch f {
	case SFT, Improved:
		line = sftLine{}
	case Preference:
		line = preferenceLine{}
	case Eval:
		line = evalLine{}
	case Pairwise:
		line = pairwiseLine{}
	case Ranked:
		line = rankedLine{}
	default:
		return nil
	}
	t := reflect.TypeOf(line)
	out := make([]Feature, 0, t.NumField())
	for i := range t.NumField() {
		field := t.Field(i)
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out = append(out, Feature{Name: name, Type: kind(field.Type)})
	}
	return out
}

func kind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "int64"
	case reflect.Float64, reflect.Float32:
		return "float64"
	case reflect.Bool:
		return "bool"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map:
		return "map"
	}
	return "struct"
}
