// Package schema compiles a task type's JSON Schema and checks field values
// against it, reporting what is wrong per field. It does no I/O: references to
// other documents are refused, so a schema means the same on every machine and
// in every replay.
package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/countersign/countersign"
)

// resource is the name the schema is compiled under; it only appears in
// messages about the schema itself.
const resource = "countersign://fields.json"

var printer = message.NewPrinter(language.English)

// Schema is a compiled object schema for a task type's fields.
type Schema struct {
	compiled *jsonschema.Schema
}

// Compile compiles raw, a JSON Schema of an object. Format keywords (date,
// email, ...) are asserted, not only annotated.
func Compile(raw json.RawMessage) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("schema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(noLoader{})
	if err := c.AddResource(resource, doc); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	compiled, err := c.Compile(resource)
	if err != nil {
		return nil, fmt.Errorf("schema: %s", strings.ReplaceAll(err.Error(), resource, "schema"))
	}
	return &Schema{compiled: compiled}, nil
}

// noLoader refuses every external reference.
type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("external schema references are not allowed (%s)", url)
}

// FieldError is one thing wrong with the fields: the top-level field it
// concerns ("" for the object as a whole) and a message.
type FieldError struct {
	Field   string
	Message string
}

// Errors is every problem found in a set of fields, ordered by field.
type Errors []FieldError

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		if fe.Field == "" {
			parts[i] = fe.Message
		} else {
			parts[i] = fe.Field + ": " + fe.Message
		}
	}
	return strings.Join(parts, "; ")
}

// Fields returns the names of the fields that have a problem.
func (e Errors) Fields() []string {
	var names []string
	for _, fe := range e {
		if fe.Field != "" && !slices.Contains(names, fe.Field) {
			names = append(names, fe.Field)
		}
	}
	return names
}

// Validate checks fields against the schema and returns Errors, or nil when
// they conform.
func (s *Schema) Validate(fields countersign.Fields) error {
	value, err := plainJSON(fields)
	if err != nil {
		return Errors{{Message: err.Error()}}
	}
	verr := s.compiled.Validate(value)
	if verr == nil {
		return nil
	}
	ve, ok := verr.(*jsonschema.ValidationError)
	if !ok {
		return Errors{{Message: verr.Error()}}
	}
	var out Errors
	collect(ve, &out)
	slices.SortStableFunc(out, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return out
}

// collect flattens the leaves of a validation error tree into field errors.
func collect(ve *jsonschema.ValidationError, out *Errors) {
	if len(ve.Causes) > 0 {
		for _, cause := range ve.Causes {
			collect(cause, out)
		}
		return
	}
	switch k := ve.ErrorKind.(type) {
	case *kind.Required:
		if len(ve.InstanceLocation) == 0 {
			for _, name := range k.Missing {
				*out = append(*out, FieldError{Field: name, Message: "required field is missing"})
			}
			return
		}
	case *kind.AdditionalProperties:
		if len(ve.InstanceLocation) == 0 {
			for _, name := range k.Properties {
				*out = append(*out, FieldError{Field: name, Message: "not a field of this task type"})
			}
			return
		}
	}
	fe := FieldError{Message: ve.ErrorKind.LocalizedString(printer)}
	if f, ok := ve.ErrorKind.(*kind.Format); ok {
		fe.Message = formatMessage(f)
	}
	if len(ve.InstanceLocation) > 0 {
		fe.Field = ve.InstanceLocation[0]
		if len(ve.InstanceLocation) > 1 {
			fe.Message = "/" + strings.Join(ve.InstanceLocation[1:], "/") + ": " + fe.Message
		}
	}
	*out = append(*out, fe)
}

// writtenAsDate is the shape of a date, whether or not the day exists.
var writtenAsDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// formatExamples shows how a value of a format is written, for the message
// refusing one that is not.
var formatExamples = map[string]string{
	"date":      "a date written YYYY-MM-DD, such as 2025-03-01",
	"date-time": "a date and time written YYYY-MM-DDThh:mm:ss with its offset, such as 2025-03-01T09:30:00Z",
	"time":      "a time written hh:mm:ss with its offset, such as 09:30:00Z",
	"email":     "an e-mail address, such as ann@example.org",
	"uri":       "an absolute URI, such as https://example.org/a",
	"uuid":      "a UUID, such as 123e4567-e89b-12d3-a456-426614174000",
}

// formatMessage says what is wrong with a value that breaks its format in
// words a reviewer acts on, not the parser's (Go's layout
// "2006-01-02" means nothing to them).
func formatMessage(f *kind.Format) string {
	if s, ok := f.Got.(string); ok && f.Want == "date" && writtenAsDate.MatchString(s) {
		return fmt.Sprintf("%s is written YYYY-MM-DD but is no day of the calendar", quoted(s))
	}
	if example, ok := formatExamples[f.Want]; ok {
		return fmt.Sprintf("%s is not %s", quoted(f.Got), example)
	}
	return fmt.Sprintf("%s is not a valid %s", quoted(f.Got), f.Want)
}

// quoted is a value as a person typed it: a string in quotes, anything
// else as JSON.
func quoted(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// plainJSON turns fields into the plain values the validator expects (maps,
// slices, json.Number), whatever Go types they were built from.
func plainJSON(fields countersign.Fields) (any, error) {
	raw, err := json.Marshal(map[string]any(fields))
	if err != nil {
		return nil, fmt.Errorf("fields are not JSON: %w", err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

// PropertyType is a property's JSON type as its schema's "type" gives it
// (a name, or a list of names): the first that is not null, or empty when
// the schema does not say.
func PropertyType(t any) string {
	switch t := t.(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if s, ok := v.(string); ok && s != "null" {
				return s
			}
		}
	}
	return ""
}
