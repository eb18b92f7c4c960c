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
	// inputChecks: an array of strings from a closed set, one checkbox
	// each (reason codes).
	inputChecks = "checks"
)

// option is one checkbox of an inputChecks field.
type option struct {
	Value   string
	Note    string
	Checked bool
}

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
	// Pointer is the evidence's JSON Pointer when the alert tree shows the
	// node it names (the field's anchor is then that node).
	Pointer string

	// The correction input: its kind, its current text (the draft's
	// value, or what the person entered), and what a browser checks.
	Input     string
	InputText string
	Choices   []string
	Options   []option
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
// text, and the text with the evidence marked. A document of a task type
// whose input is JSON (an alert) is also laid out as a tree, each node a
// field's evidence pointer names marked with the field; that field's
// anchor is then its node, not its quote in the text.
func fieldViews(tt *countersign.TaskType, doc *countersign.Document) ([]fieldView, []segment, *jsonNode) {
	runes := []rune(doc.Content)
	var tree *jsonNode
	if tt != nil && tt.Input.JSON() {
		tree = jsonTree(doc.Content)
	}
	var fields []fieldView
	var spans []span
	inTree := map[int]bool{}
	for _, field := range fieldview.List(tt, doc) {
		f := fieldView{Field: field, Shown: showValue(field.Value, field.Present), InputText: editText(field.Value, field.Present)}
		if ev := field.Evidence; ev != nil {
			var start, end int
			start, end, f.Located, f.QuoteFix = locate(runes, doc.Content, *ev)
			if f.Located {
				spans = append(spans, span{Field: f.Index, Start: start, End: end})
			}
			if tree != nil && ev.Pointer != "" && tree.mark(ev.Pointer, f.Index, f.Name) {
				f.Pointer, f.Located = ev.Pointer, true
				inTree[f.Index] = true
			}
		}
		setInput(&f)
		if tt != nil && tt.Verdict != nil && f.Name == countersign.FieldReasonCodes {
			for i, o := range f.Options {
				for _, r := range tt.Verdict.Reasons {
					if r.Code == o.Value {
						f.Options[i].Note = r.Description
					}
				}
			}
		}
		fields = append(fields, f)
	}
	// A stretch of text that several fields' evidence covers lists them in
	// the task type's order, whatever their confidence.
	slices.SortFunc(spans, func(a, b span) int { return a.Field - b.Field })
	text := highlight(doc.Content, spans)
	for i := range text {
		text[i].Anchors = slices.DeleteFunc(text[i].Anchors, func(f int) bool { return inTree[f] })
	}
	return fields, text, tree
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
	case "array":
		if p.Items == nil || len(p.Items.Enum) == 0 || p.Items.Kind() != "string" {
			f.Input = inputJSON
			return
		}
		f.Input = inputChecks
		picked := pickedCodes(f.Value)
		for _, v := range p.Items.Enum {
			code, _ := v.(string)
			f.Options = append(f.Options, option{Value: code, Checked: picked[code]})
		}
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

// pickedCodes is the strings of an array value, as a set.
func pickedCodes(v any) map[string]bool {
	picked := map[string]bool{}
	list, _ := v.([]any)
	for _, item := range list {
		if s, ok := item.(string); ok {
			picked[s] = true
		}
	}
	return picked
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
		if f.Input == inputChecks {
			if value, changed := readChecks(f, raw); changed {
				patch[f.Name] = value
			}
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

// readChecks reads a field of checkboxes: the form always sends the
// field's name once with no value, so that none checked reads as an empty
// list. The list keeps the schema's order, and is a change only when it
// holds other codes than the draft's (not merely in another order); none
// checked on a draft without the field changes nothing.
func readChecks(f *fieldView, raw []string) (value []any, changed bool) {
	picked := map[string]bool{}
	for _, r := range raw {
		if r = strings.TrimSpace(r); r != "" {
			picked[r] = true
		}
	}
	value = []any{}
	for i, o := range f.Options {
		f.Options[i].Checked = picked[o.Value]
		if picked[o.Value] {
			value = append(value, o.Value)
			delete(picked, o.Value)
		}
	}
	// A code outside the choices (a hand-made form) is kept, for the
	// schema check to name.
	for _, r := range raw {
		if r = strings.TrimSpace(r); picked[r] {
			value = append(value, r)
			delete(picked, r)
		}
	}
	if !f.Present {
		return value, len(value) > 0
	}
	was := pickedCodes(f.Value)
	if list, ok := f.Value.([]any); !ok || len(list) != len(was) || len(was) != len(value) {
		return value, true
	}
	for _, v := range value {
		if !was[v.(string)] {
			return value, true
		}
	}
	return value, false
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
