// Package interop reads what labeling tools export, so that work done in
// them becomes countersign's: annotated Label Studio tasks and Argilla
// records with responses become gold items. The formats are the ones
// internal/export writes (see labelstudio.go and argilla.go there for the
// documentation they follow), so an export imports back as it was.
package interop

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
)

// Format is a labeling tool's export format.
type Format string

// Import formats.
const (
	// LabelStudio is Label Studio's JSON tasks: an array (Label Studio's
	// own export) or one task a line.
	LabelStudio Format = "label-studio"
	// Argilla is Argilla 2 records as Record.to_dict writes them: one a
	// line, or an array (Argilla's to_json).
	Argilla Format = "argilla"
)

// ParseFormat returns the import format named s.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case LabelStudio, Argilla:
		return f, nil
	}
	return "", fmt.Errorf("unknown import format %q (known formats: %s, %s)", s, LabelStudio, Argilla)
}

// GoldOptions say how to read gold items.
type GoldOptions struct {
	// TextKey is the key of the text in a task's data or a record's
	// fields; "text" when empty.
	TextKey string
	// Schema is the task type's fields schema, if known. Text answers are
	// read by it (a string property keeps "42" as text; a number property
	// reads it as 42), and every answer must fit it. Without it, a text
	// answer that is JSON other than a string is read as that JSON.
	Schema json.RawMessage
	// Taken are gold item IDs already in use (the task type's items).
	Taken []string
}

// GoldResult is what an import read.
type GoldResult struct {
	Items []countersign.GoldItem
	// Skipped counts the tasks or records without an answer: no annotation
	// (only cancelled ones), or no submitted response.
	Skipped int
}

// ReadGold reads the tasks or records of r as gold items: the text is the
// item's content, the answer its fields. Tasks and records nobody answered
// are skipped and counted. The first problem stops the import, with an
// error naming the task or record (by position and ID) and the field.
func ReadGold(r io.Reader, format Format, opts GoldOptions) (*GoldResult, error) {
	g, err := newGoldReader(format, opts)
	if err != nil {
		return nil, err
	}
	for _, id := range opts.Taken {
		g.ids[id] = "the task type"
	}
	var read func(n int, raw json.RawMessage) error
	switch format {
	case LabelStudio:
		read = g.labelStudioTask
	case Argilla:
		read = g.argillaRecord
	default:
		_, err := ParseFormat(string(format))
		return nil, err
	}
	if err := eachValue(r, read); err != nil {
		return nil, err
	}
	return &g.result, nil
}

// newGoldReader reads format by opts: the text under opts.TextKey ("text"
// when empty), values by opts.Schema when given.
func newGoldReader(format Format, opts GoldOptions) (*goldReader, error) {
	g := &goldReader{format: format, opts: opts, ids: map[string]string{}}
	if g.opts.TextKey == "" {
		g.opts.TextKey = "text"
	}
	if len(opts.Schema) > 0 {
		if err := g.readSchema(opts.Schema); err != nil {
			return nil, err
		}
	}
	return g, nil
}

type goldReader struct {
	format Format
	opts   GoldOptions
	// types is each schema property's JSON type; compiled checks answers.
	types    map[string]string
	compiled *schema.Schema
	// ids maps the IDs given so far to what gave them.
	ids    map[string]string
	result GoldResult
}

func (g *goldReader) readSchema(raw json.RawMessage) error {
	compiled, err := schema.Compile(raw)
	if err != nil {
		return fmt.Errorf("the task type's fields schema: %w", err)
	}
	var s struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("the task type's fields schema: %w", err)
	}
	g.compiled, g.types = compiled, map[string]string{}
	for name, p := range s.Properties {
		g.types[name] = schema.PropertyType(p.Type)
	}
	return nil
}

// eachValue calls fn with every top-level JSON value of r, numbered from
// 1: the elements of an array, or the values one after another (JSONL).
// It holds one value at a time.
func eachValue(r io.Reader, fn func(n int, raw json.RawMessage) error) error {
	in := bufio.NewReader(r)
	first, err := firstByte(in)
	if err == io.EOF {
		return errors.New("the input is empty")
	}
	if err != nil {
		return err
	}
	dec := json.NewDecoder(in)
	if first == '[' {
		if _, err := dec.Token(); err != nil {
			return err
		}
	}
	for n := 1; ; n++ {
		if first == '[' && !dec.More() {
			if _, err := dec.Token(); err != nil {
				return fmt.Errorf("after item %d: %w", n-1, err)
			}
			return nil
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err == io.EOF && first != '[' {
			return nil
		} else if err != nil {
			return fmt.Errorf("item %d: not JSON: %w", n, err)
		}
		if err := fn(n, raw); err != nil {
			return err
		}
	}
}

// firstByte peeks at the first byte that is not white space.
func firstByte(in *bufio.Reader) (byte, error) {
	for {
		b, err := in.ReadByte()
		if err != nil {
			return 0, err
		}
		if !strings.ContainsRune(" \t\r\n", rune(b)) {
			return b, in.UnreadByte()
		}
	}
}

// lsTask is what the importer reads of a Label Studio task.
type lsTask struct {
	ID          any                        `json:"id"`
	Data        map[string]json.RawMessage `json:"data"`
	Annotations []lsAnnotation             `json:"annotations"`
}

type lsAnnotation struct {
	Result       []lsResult `json:"result"`
	GroundTruth  bool       `json:"ground_truth"`
	WasCancelled bool       `json:"was_cancelled"`
}

type lsResult struct {
	FromName string                     `json:"from_name"`
	Type     string                     `json:"type"`
	Value    map[string]json.RawMessage `json:"value"`
}

func (g *goldReader) labelStudioTask(n int, raw json.RawMessage) error {
	var t lsTask
	if err := strictObject(raw, &t); err != nil {
		return fmt.Errorf("task %d: %w", n, err)
	}
	var documentID string
	if v, ok := t.Data["document_id"]; ok {
		_ = json.Unmarshal(v, &documentID)
	}
	at := fmt.Sprintf("task %d", n)
	switch {
	case documentID != "":
		at += fmt.Sprintf(" (document %s)", documentID)
	case t.ID != nil:
		at += fmt.Sprintf(" (id %v)", t.ID)
	}
	var content string
	if v, ok := t.Data[g.opts.TextKey]; !ok || json.Unmarshal(v, &content) != nil || strings.TrimSpace(content) == "" {
		return fmt.Errorf("%s: data.%s is missing or not text: it holds the document to label (name another key with --text-key)", at, g.opts.TextKey)
	}
	var answers []countersign.Fields
	var truth []countersign.Fields
	for i, a := range t.Annotations {
		if a.WasCancelled {
			continue
		}
		fields, err := g.lsAnswer(fmt.Sprintf("%s: annotations[%d]", at, i), a.Result, content)
		if err != nil {
			return err
		}
		answers = append(answers, fields)
		if a.GroundTruth {
			truth = append(truth, fields)
		}
	}
	if len(truth) > 0 {
		answers = truth
	}
	if len(answers) == 0 {
		g.result.Skipped++
		return nil
	}
	answer, err := agreed(answers)
	if err != nil {
		return fmt.Errorf("%s: %w", at, err)
	}
	id := documentID
	if id == "" && t.ID != nil {
		id = fmt.Sprintf("ls-%v", t.ID)
	}
	return g.add(at, id, content, answer)
}

// lsAnswer reads an annotation's results as fields: a TextArea's text, a
// Choices' choice (a list when several), and any other control's value
// under its type's name (number, rating, datetime, taxonomy). Label spans
// mark evidence and are checked, not answers.
func (g *goldReader) lsAnswer(at string, results []lsResult, content string) (countersign.Fields, error) {
	fields := countersign.Fields{}
	for j, r := range results {
		at := fmt.Sprintf("%s.result[%d]", at, j)
		if r.FromName == "" || r.Type == "" || r.Value == nil {
			return nil, fmt.Errorf("%s: from_name, type and value are required", at)
		}
		var value any
		switch r.Type {
		case "labels":
			if err := checkSpan(at, r.Value, content); err != nil {
				return nil, err
			}
			continue
		case "textarea":
			var text []string
			if err := json.Unmarshal(r.Value["text"], &text); err != nil || len(text) != 1 {
				return nil, fmt.Errorf("%s: value.text of %s must be a list of one text, the answer", at, r.FromName)
			}
			v, err := g.fromText(r.FromName, text[0])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", at, err)
			}
			value = v
		case "choices":
			var choices []string
			if err := json.Unmarshal(r.Value["choices"], &choices); err != nil || len(choices) == 0 {
				return nil, fmt.Errorf("%s: value.choices of %s must be a list of one or more choices", at, r.FromName)
			}
			if len(choices) == 1 && g.types[r.FromName] != "array" {
				value = choices[0]
			} else {
				value = choices
			}
		default:
			raw, ok := r.Value[r.Type]
			if !ok {
				return nil, fmt.Errorf("%s: %s is a %s result without value.%s", at, r.FromName, r.Type, r.Type)
			}
			if err := json.Unmarshal(raw, &value); err != nil {
				return nil, fmt.Errorf("%s: value.%s: %w", at, r.Type, err)
			}
		}
		if _, dup := fields[r.FromName]; dup {
			return nil, fmt.Errorf("%s: a second answer for %s", at, r.FromName)
		}
		fields[r.FromName] = value
	}
	return fields, nil
}

// checkSpan checks that a span's offsets slice the text to the span's text,
// when it gives one. Label Studio's browser counts UTF-16 code units and
// countersign code points: they differ only after a character outside the
// Basic Multilingual Plane (an emoji), and either is accepted.
func checkSpan(at string, value map[string]json.RawMessage, content string) error {
	var start, end int
	var text *string
	if json.Unmarshal(value["start"], &start) != nil || json.Unmarshal(value["end"], &end) != nil {
		return fmt.Errorf("%s: a labels span needs value.start and value.end in characters", at)
	}
	if raw, ok := value["text"]; ok && json.Unmarshal(raw, &text) != nil {
		return fmt.Errorf("%s: value.text of a span must be text", at)
	}
	if text == nil {
		return nil
	}
	runes := []rune(content)
	if start >= 0 && start <= end && end <= len(runes) && string(runes[start:end]) == *text {
		return nil
	}
	units := utf16.Encode(runes)
	if start >= 0 && start <= end && end <= len(units) && string(utf16.Decode(units[start:end])) == *text {
		return nil
	}
	return fmt.Errorf("%s: value.start %d and value.end %d do not mark %q in the text", at, start, end, *text)
}

// argillaRecord is what the importer reads of an Argilla record.
type argillaRecord struct {
	ID        any                          `json:"id"`
	Fields    map[string]json.RawMessage   `json:"fields"`
	Responses map[string][]argillaResponse `json:"responses"`
}

type argillaResponse struct {
	Value  json.RawMessage `json:"value"`
	UserID any             `json:"user_id"`
	Status *string         `json:"status"`
}

func (g *goldReader) argillaRecord(n int, raw json.RawMessage) error {
	var rec argillaRecord
	if err := strictObject(raw, &rec); err != nil {
		return fmt.Errorf("record %d: %w", n, err)
	}
	at := fmt.Sprintf("record %d", n)
	id, _ := rec.ID.(string)
	if id != "" {
		at += fmt.Sprintf(" (id %s)", id)
	}
	var content string
	if v, ok := rec.Fields[g.opts.TextKey]; !ok || json.Unmarshal(v, &content) != nil || strings.TrimSpace(content) == "" {
		return fmt.Errorf("%s: fields.%s is missing or not text: it holds the document to label (name another field with --text-key)", at, g.opts.TextKey)
	}
	answer := countersign.Fields{}
	questions := make([]string, 0, len(rec.Responses))
	for q := range rec.Responses {
		questions = append(questions, q)
	}
	slices.Sort(questions)
	for _, question := range questions {
		responses := rec.Responses[question]
		var values []any
		for i, r := range responses {
			// Record.to_dict leaves the status out; drafts and discarded
			// answers are no one's decision.
			if r.Status != nil && *r.Status != "submitted" {
				continue
			}
			at := fmt.Sprintf("%s: responses.%s[%d]", at, question, i)
			if len(r.Value) == 0 || string(r.Value) == "null" {
				return fmt.Errorf("%s: value is required", at)
			}
			v, err := g.fromJSON(question, r.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", at, err)
			}
			values = append(values, v)
		}
		if len(values) == 0 {
			continue
		}
		for _, v := range values[1:] {
			if !countersign.SameValue(v, values[0]) {
				return fmt.Errorf("%s: responses.%s: the submitted responses disagree (%v, %v): settle them in Argilla first", at, question, values[0], v)
			}
		}
		answer[question] = values[0]
	}
	if len(answer) == 0 {
		g.result.Skipped++
		return nil
	}
	if id == "" && rec.ID != nil {
		id = fmt.Sprint(rec.ID)
	}
	return g.add(at, id, content, answer)
}

// fromJSON reads a response value: text by the schema, anything else as it
// is.
func (g *goldReader) fromJSON(field string, raw json.RawMessage) (any, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok {
		return g.fromText(field, s)
	}
	return v, nil
}

// fromText reads a text answer: as it is for a string property, as JSON
// for a property of another type, and without a schema type as JSON when
// it is JSON other than a string.
func (g *goldReader) fromText(field, text string) (any, error) {
	kind := g.types[field]
	if kind == "string" {
		return text, nil
	}
	var v any
	err := json.Unmarshal([]byte(text), &v)
	if kind == "" {
		if _, isString := v.(string); err != nil || isString {
			return text, nil
		}
		return v, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s is %q, not a JSON %s as the task type's schema wants", field, text, kind)
	}
	return v, nil
}

// agreed returns the answer all of answers give.
func agreed(answers []countersign.Fields) (countersign.Fields, error) {
	for _, a := range answers[1:] {
		if !countersign.SameValue(a, answers[0]) {
			return nil, fmt.Errorf("%d annotations give different answers and none alone is marked ground_truth: mark the right one", len(answers))
		}
	}
	return answers[0], nil
}

// goldID is a gold item ID: lowercase letters, digits and dashes, at most
// 63 characters, as task type files want them.
var goldID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// add checks and keeps an item.
func (g *goldReader) add(at, id, content string, answer countersign.Fields) error {
	if id == "" {
		id = fmt.Sprintf("%s-%d", g.format, len(g.result.Items)+g.result.Skipped+1)
	}
	id = itemID(id)
	if by, taken := g.ids[id]; taken {
		return fmt.Errorf("%s: its gold item ID %s is already given by %s", at, id, by)
	}
	g.ids[id] = at
	if !utf8.ValidString(content) || strings.ContainsRune(content, 0) {
		return fmt.Errorf("%s: the text must be UTF-8 without NUL characters", at)
	}
	if len(answer) == 0 {
		return fmt.Errorf("%s: the answer has no fields", at)
	}
	if g.compiled != nil {
		if err := g.compiled.Validate(answer); err != nil {
			return fmt.Errorf("%s: the answer does not fit the task type's fields schema: %w", at, err)
		}
	}
	g.result.Items = append(g.result.Items, countersign.GoldItem{ID: id, Content: content, Answer: answer})
	return nil
}

// itemID makes id a gold item ID: lowercased, with every run of other
// characters a dash, cut to 63 characters.
func itemID(id string) string {
	if goldID.MatchString(id) {
		return id
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(id) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	if out == "" {
		out = "item"
	}
	return out
}

// strictObject decodes a JSON object into v, with a clear error for any
// other JSON value.
func strictObject(raw json.RawMessage, v any) error {
	if !bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		return errors.New("not a JSON object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("does not read: %w", err)
	}
	return nil
}
