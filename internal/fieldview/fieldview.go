// Package fieldview lays out a document's fields as a reviewer sees them,
// wherever they see them: the web page (internal/web) and Slack
// (internal/slackapp) render the same list. Every field of the task type's
// schema is in it and any other the draft has, with its draft value,
// confidence, reasons and evidence, the least confident first.
package fieldview

import (
	"encoding/json"
	"slices"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
)

// Property is what a reviewer's view needs of a field's JSON Schema: its
// type, to pick an input and read what a person typed back as a value, its
// title and description, and the bounds a browser can check before a form
// is sent. The server checks the whole schema after.
type Property struct {
	Type        any      `json:"type"`
	Format      string   `json:"format"`
	Enum        []any    `json:"enum"`
	Minimum     *float64 `json:"minimum"`
	Maximum     *float64 `json:"maximum"`
	MaxLength   *int     `json:"maxLength"`
	Description string   `json:"description"`
	Title       string   `json:"title"`
	// Items is what an array's items are (its enum: the choices of a
	// list of codes).
	Items *Property `json:"items"`
}

// Kind is the property's JSON type, the first that is not null; empty when
// the schema does not say.
func (p Property) Kind() string { return schema.PropertyType(p.Type) }

type objectSchema struct {
	Properties map[string]Property `json:"properties"`
	Required   []string            `json:"required"`
}

// Field is one field of a document under review.
type Field struct {
	// Index is the field's place in the task type's order (then the
	// draft's), which the sorting by confidence does not change: the web
	// page names the field's anchors and marks by it.
	Index int
	Name  string
	Property
	// Required is whether the schema or the scoring requires the field.
	Required bool
	// Value is the draft's value; Present is false when the draft has none.
	Value   any
	Present bool

	Confidence *float64
	Reasons    []string
	// Evidence is where the draft says the value stands in the document;
	// nil when it says nothing.
	Evidence *countersign.Evidence
}

// Quote is the text of the field's evidence, empty when there is none.
func (f Field) Quote() string {
	if f.Evidence == nil {
		return ""
	}
	return f.Evidence.Quote
}

// List lists the fields of doc, required fields the draft lacks first, then
// the least confident first (no score is the least; ties in the task type's
// order, then the draft's): every field of
// the task type's schema and any other the draft has. tt may be nil; a
// failed draft has no values. It is nil for no document.
func List(tt *countersign.TaskType, doc *countersign.Document) []Field {
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
	var fields []Field
	for i, name := range order {
		f := Field{Index: i, Name: name, Property: props.Properties[name], Required: slices.Contains(props.Required, name)}
		f.Value, f.Present = draft[name]
		if doc.Confidence != nil {
			if score, ok := doc.Confidence.Fields[name]; ok {
				c := score.Score
				f.Confidence, f.Reasons = &c, score.Reasons
				f.Required = f.Required || score.Required
			}
		}
		if ev, ok := evidence[name]; ok {
			f.Evidence = &ev
		}
		fields = append(fields, f)
	}
	slices.SortStableFunc(fields, func(a, b Field) int {
		if am, bm := a.missing(), b.missing(); am != bm {
			if am {
				return -1
			}
			return 1
		}
		return countersign.CompareConfidence(a.Confidence, b.Confidence)
	})
	return fields
}

// missing is whether the field is required and the draft has no value for
// it: what a person must supply whatever the scores say.
func (f Field) missing() bool { return f.Required && !f.Present }
