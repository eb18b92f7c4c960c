package web

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/fieldview"
	"github.com/countersign/countersign/internal/schema"
)

// Input kinds: how a field is edited.
const (
	inputText    = "text"
	inputInteger = "integer"
	inputNumber  = "number"
	inputBoolean = "boolean"
	inputChoice  = "choice"
	inputJSON    = "json"
)

// fieldView is one field as the review and document pages show it: the
// reviewer's view of it (fieldview.Field) and what the page adds.
type fieldView struct {
	fieldview.Field

	// Shown is the draft's value as the page shows it.
	Shown string

	// Located is whether the evidence's quote was found in the text, and
	// QuoteFix what is odd about the evidence, if anything.
	Located  bool
	QuoteFix string

	// The correction input: its kind, its current text (the draft's
	// value, or what the person entered), and what a browser checks.
	Input     string
	InputText string
	Choices   []string
	Min, Max  string
	MaxLength int
	Email     bool
	Date      bool
	// Error is what the schema check found wrong with the entered value.
	Error string
}

// Anchor is the ID of the place in the document text where the field's
// evidence starts.
func (f fieldView) Anchor() string { return "ev-" + strconv.Itoa(f.Index) }

// InputID is the ID of the field's correction input.
func (f fieldView) InputID() string { return "field-" + strconv.Itoa(f.Index) }

// DescribedBy lists the IDs of the field's description and error, for
// its input's aria-describedby.
func (f fieldView) DescribedBy() string {
	var ids []string
	if f.Description != "" {
		ids = append(ids, "desc-"+strconv.Itoa(f.Index))
	}
	if f.Error != "" {
		ids = append(ids, "err-"+strconv.Itoa(f.Index))
	}
	return strings.Join(ids, " ")
}

// FormName is the form key of the field's correction input.
func (f fieldView) FormName() string { return "field." + f.Name }

// Percent is the field's confidence in whole percent.
func (f fieldView) Percent() int {
	if f.Confidence == nil {
		return 0
	}
	return int(math.Round(*f.Confidence * 100))
}

// Level names the confidence band, for its colour and its words.
func (f fieldView) Level() string { return level(f.Confidence) }

func level(c *float64) string {
	switch {
	case c == nil:
		return "none"
	case *c < 0.5:
		return "low"
	case *c < 0.9:
		return "medium"
	}
	return "high"
}

// fieldViews lays out the fields of a document for the review and
// document pages (see fieldview.List), with where their evidence is in the
// text, and the text with the evidence marked.
func fieldViews(tt *countersign.TaskType, doc *countersign.Document) ([]fieldView, []segment) {
	runes := []rune(doc.Content)
	var fields []fieldView
	var spans []span
	for _, field := range fieldview.List(tt, doc) {
		f := fieldView{Field: field, Shown: showValue(field.Value, field.Present), InputText: editText(field.Value, field.Present)}
		if field.Evidence != nil {
			var start, end int
			start, end, f.Located, f.QuoteFix = locate(runes, doc.Content, *field.Evidence)
			if f.Located {
				spans = append(spans, span{Field: f.Index, Start: start, End: end})
			}
		}
		setInput(&f)
		fields = append(fields, f)
	}
	// A stretch of text that several fields' evidence covers lists them in
	// the task type's order, whatever their confidence.
	slices.SortFunc(spans, func(a, b span) int { return a.Field - b.Field })
	return fields, highlight(doc.Content, spans)
}

func setInput(f *fieldView) {
	p := f.Property
	if len(p.Enum) > 0 {
		f.Input = inputChoice
		for _, v := range p.Enum {
			f.Choices = append(f.Choices, editText(v, true))
		}
		return
	}
	bound := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	switch p.Kind() {
	case "integer":
		f.Input, f.Min, f.Max = inputInteger, bound(p.Minimum), bound(p.Maximum)
	case "number":
		f.Input, f.Min, f.Max = inputNumber, bound(p.Minimum), bound(p.Maximum)
	case "boolean":
		f.Input = inputBoolean
	case "string", "":
		f.Input = inputText
		if p.MaxLength != nil {
			f.MaxLength = *p.MaxLength
		}
		f.Email = p.Format == "email"
		f.Date = p.Format == "date"
	default:
		f.Input = inputJSON
	}
}

// showValue is a value as a person reads it.
func showValue(v any, present bool) string {
	if !present {
		return "—"
	}
	return editText(v, present)
}

// editText is a value as its correction input holds it (see
// countersign.ValueText); empty when the field has none.
func editText(v any, present bool) string {
	if !present {
		return ""
	}
	return countersign.ValueText(v)
}

// readCorrection reads the correction form: each field's input, read as
// the field's type. It returns the patch (the fields whose value differs
// from the draft; an emptied field is removed, as null does in the API)
// and, per field, what cannot be read at all. Values of the wrong type are
// kept as text, for the schema check to name.
func readCorrection(form url.Values, fields []fieldView) (countersign.Fields, map[string]string) {
	patch := countersign.Fields{}
	problems := map[string]string{}
	for i := range fields {
		f := &fields[i]
		raw, sent := form[f.FormName()]
		if !sent {
			continue
		}
		text := strings.TrimSpace(raw[0])
		f.InputText = text
		value, present, problem := parseInput(f.Input, text)
		if problem != "" {
			problems[f.Name] = problem
			continue
		}
		switch {
		case !present && f.Present:
			patch[f.Name] = nil
		case present && (!f.Present || !countersign.SameValue(value, f.Value)):
			patch[f.Name] = value
		}
	}
	return patch, problems
}

func parseInput(input, text string) (value any, present bool, problem string) {
	if text == "" {
		return nil, false, ""
	}
	switch input {
	case inputInteger:
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, true, ""
		}
		if x, err := strconv.ParseFloat(text, 64); err == nil && x == math.Trunc(x) && !math.IsInf(x, 0) {
			return x, true, ""
		}
	case inputNumber:
		if x, err := strconv.ParseFloat(text, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) {
			return x, true, ""
		}
	case inputBoolean:
		if b, err := strconv.ParseBool(text); err == nil {
			return b, true, ""
		}
	case inputJSON:
		var v any
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return nil, false, "is not valid JSON: " + err.Error()
		}
		return v, true, ""
	}
	return text, true, ""
}

// schemaCache keeps compiled schemas by task type version: versions are
// content hashes, so an entry never goes stale.
type schemaCache struct {
	mu       sync.Mutex
	compiled map[string]*schema.Schema
}

func newSchemaCache() *schemaCache {
	return &schemaCache{compiled: map[string]*schema.Schema{}}
}

func (c *schemaCache) get(tt *countersign.TaskType) (*schema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.compiled[tt.Version]; ok {
		return s, nil
	}
	s, err := schema.Compile(tt.Schema)
	if err != nil {
		return nil, fmt.Errorf("task type %s@%s: %w", tt.Name, tt.Version, err)
	}
	c.compiled[tt.Version] = s
	return s, nil
}
