package slackapp

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
)

// property is what a correction needs of a field's JSON Schema: its type,
// to read the text a person typed back as a value, and its title.
type property struct {
	Type  any    `json:"type"`
	Title string `json:"title"`
}

type objectSchema struct {
	Properties map[string]property `json:"properties"`
}

// kind is the property's JSON type, the first that is not null; empty when
// the schema does not say.
func (p property) kind() string { return schema.PropertyType(p.Type) }

// field is one field of a review: its draft value and confidence, its
// evidence, and its type for a correction.
type field struct {
	Name       string
	Title      string
	Kind       string
	Value      any
	Present    bool
	Confidence *float64
	Reasons    []string
	Quote      string
}

// reviewFields lists a document's fields, the least confident first (no
// score is the least; ties in the task type's order, then by name): every
// field of the task type's schema and any other the draft has. tt may be nil.
func reviewFields(tt *countersign.TaskType, doc *countersign.Document) []field {
	if doc == nil {
		return nil
	}
	var props objectSchema
	var order []string
	if tt != nil {
		_ = json.Unmarshal(tt.Schema, &props)
		order = slices.Clone(tt.FieldOrder)
	}
	var draft countersign.Fields
	var evidence map[string]countersign.Evidence
	if !doc.Draft.Failed() {
		draft, evidence = doc.Draft.Fields, doc.Draft.Evidence
	}
	for _, name := range draft.Names() {
		if !slices.Contains(order, name) {
			order = append(order, name)
		}
	}
	fields := make([]field, 0, len(order))
	for _, name := range order {
		p := props.Properties[name]
		f := field{Name: name, Title: p.Title, Kind: p.kind()}
		f.Value, f.Present = draft[name]
		if doc.Confidence != nil {
			if score, ok := doc.Confidence.Fields[name]; ok {
				c := score.Score
				f.Confidence, f.Reasons = &c, score.Reasons
			}
		}
		if ev, ok := evidence[name]; ok {
			f.Quote = ev.Quote
		}
		fields = append(fields, f)
	}
	slices.SortStableFunc(fields, func(a, b field) int { return countersign.CompareConfidence(a.Confidence, b.Confidence) })
	return fields
}

// parseValue reads what a person typed into a field of the given JSON type:
// integers, numbers and booleans as such, objects and arrays as JSON,
// strings as they are. A field whose schema names no type takes JSON when
// the text is JSON, and the text otherwise. Empty text is no value.
func parseValue(kind, text string) (value any, present bool, problem string) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, false, ""
	}
	switch kind {
	case "integer":
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, true, ""
		}
		if x, err := strconv.ParseFloat(text, 64); err == nil && x == math.Trunc(x) && !math.IsInf(x, 0) {
			return x, true, ""
		}
		return nil, false, "must be a whole number"
	case "number":
		if x, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
			return x, true, ""
		}
		return nil, false, "must be a number"
	case "boolean":
		if b, err := strconv.ParseBool(text); err == nil {
			return b, true, ""
		}
		return nil, false, "must be true or false"
	case "object", "array":
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return nil, false, "must be JSON: " + err.Error()
		}
		return v, true, ""
	case "":
		var v any
		if json.Unmarshal([]byte(text), &v) == nil {
			return v, true, ""
		}
	}
	return text, true, ""
}

// correction reads a correction modal's inputs, by field name, into the
// patch a decision carries: the fields whose value differs from the draft,
// with nil for a field emptied. It also returns, by field name, what could
// not be read.
func correction(fields []field, inputs map[string]string) (countersign.Fields, map[string]string) {
	patch := countersign.Fields{}
	problems := map[string]string{}
	for _, f := range fields {
		text, sent := inputs[f.Name]
		if !sent {
			continue
		}
		value, present, problem := parseValue(f.Kind, text)
		switch {
		case problem != "":
			problems[f.Name] = problem
		case !present && f.Present && f.Value != nil:
			patch[f.Name] = nil
		case present && (!f.Present || !countersign.SameValue(value, f.Value)):
			patch[f.Name] = value
		}
	}
	return patch, problems
}
