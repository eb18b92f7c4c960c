package interop

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/schema"
)

// Prelabelled is a document read from a labeling tool's tasks or records,
// to submit with the pre-label the tool holds for it, if any.
type Prelabelled struct {
	// At names the task or record, for messages: "task 3 (id 17)".
	At         string
	ExternalID string
	Content    string
	// Prelabel is nil for a task or record without a prediction or
	// suggestion: countersign's extractor drafts it.
	Prelabel *countersign.Prelabel
}

// ReadPrelabels calls fn with every task or record of r, one at a time:
// its text, an external ID (the task's data.external_id or ID, the
// record's external_id or ID), and its pre-label: for Label Studio the
// prediction with the highest score (the first among equals), its results
// read as gold answers are (TextArea, Choices, Number...), and its
// "evidence" spans, labelled with a field's name, as that field's evidence;
// for Argilla the record's suggestions, one a question. Values are read by
// the task type's schema (opts.Schema), which they must fit. The first
// problem stops the import with an error naming the task or record and the
// field; what fn already took stays taken.
func ReadPrelabels(r io.Reader, format Format, opts GoldOptions, fn func(Prelabelled) error) error {
	g, err := newGoldReader(format, opts)
	if err != nil {
		return err
	}
	var read func(n int, raw json.RawMessage) (Prelabelled, error)
	switch format {
	case LabelStudio:
		read = g.lsPrelabel
	case Argilla:
		read = g.argillaPrelabel
	default:
		_, err := ParseFormat(string(format))
		return err
	}
	return eachValue(r, func(n int, raw json.RawMessage) error {
		p, err := read(n, raw)
		if err != nil {
			return err
		}
		if p.Prelabel != nil && g.compiled != nil {
			if err := g.compiled.Validate(p.Prelabel.Fields); err != nil {
				var bad []string
				var errs schema.Errors
				errors.As(err, &errs)
				for _, fe := range errs {
					if _, given := p.Prelabel.Fields[fe.Field]; given {
						bad = append(bad, fe.Field+": "+fe.Message)
					}
				}
				if len(bad) > 0 {
					return fmt.Errorf("%s: the pre-label does not fit the task type's fields schema: %s", p.At, strings.Join(bad, "; "))
				}
			}
		}
		return fn(p)
	})
}

type lsPredicted struct {
	ID          any                        `json:"id"`
	Data        map[string]json.RawMessage `json:"data"`
	Predictions []struct {
		ModelVersion string     `json:"model_version"`
		Score        *float64   `json:"score"`
		Result       []lsResult `json:"result"`
	} `json:"predictions"`
}

func (g *goldReader) lsPrelabel(n int, raw json.RawMessage) (Prelabelled, error) {
	var t lsPredicted
	if err := strictObject(raw, &t); err != nil {
		return Prelabelled{}, fmt.Errorf("task %d: %w", n, err)
	}
	p := Prelabelled{At: fmt.Sprintf("task %d", n)}
	if v, ok := t.Data["external_id"]; ok {
		_ = json.Unmarshal(v, &p.ExternalID)
	}
	switch {
	case p.ExternalID != "":
		p.At += fmt.Sprintf(" (external ID %s)", p.ExternalID)
	case t.ID != nil:
		p.ExternalID = fmt.Sprintf("label-studio-%v", t.ID)
		p.At += fmt.Sprintf(" (id %v)", t.ID)
	}
	if v, ok := t.Data[g.opts.TextKey]; !ok || json.Unmarshal(v, &p.Content) != nil || strings.TrimSpace(p.Content) == "" {
		return p, fmt.Errorf("%s: data.%s is missing or not text: it holds the document to label (name another key with --text-key)", p.At, g.opts.TextKey)
	}
	best := -1
	for i, pr := range t.Predictions {
		if best < 0 || score(pr.Score) > score(t.Predictions[best].Score) {
			best = i
		}
	}
	if best < 0 {
		return p, nil
	}
	pr := t.Predictions[best]
	at := fmt.Sprintf("%s: predictions[%d]", p.At, best)
	var answers, spans []lsResult
	for _, r := range pr.Result {
		if r.Type == "labels" {
			spans = append(spans, r)
		} else {
			answers = append(answers, r)
		}
	}
	fields, err := g.lsAnswer(at, answers, p.Content)
	if err != nil {
		return p, err
	}
	if len(fields) == 0 {
		return p, nil
	}
	pl := &countersign.Prelabel{Fields: fields, Source: "label-studio"}
	if pr.ModelVersion != "" {
		pl.Source += ":" + pr.ModelVersion
	}
	for j, r := range spans {
		at := fmt.Sprintf("%s.result[%d]", at, j)
		var labels []string
		_ = json.Unmarshal(r.Value["labels"], &labels)
		if len(labels) != 1 {
			return p, fmt.Errorf("%s: an evidence span names one field in value.labels", at)
		}
		if _, given := fields[labels[0]]; !given {
			// A span for a field the prediction gives no value is no
			// one's evidence.
			continue
		}
		ev, err := evidence(at, r.Value, p.Content)
		if err != nil {
			return p, err
		}
		if pl.Evidence == nil {
			pl.Evidence = map[string]countersign.Evidence{}
		}
		pl.Evidence[labels[0]] = ev
	}
	p.Prelabel = pl
	return p, nil
}

func score(s *float64) float64 {
	if s == nil {
		return 0
	}
	return *s
}

// evidence reads a span as evidence, its offsets in characters (code
// points) of the content: Label Studio's browser counts UTF-16 units, and
// a span that only reads right in those is converted.
func evidence(at string, value map[string]json.RawMessage, content string) (countersign.Evidence, error) {
	var start, end int
	if json.Unmarshal(value["start"], &start) != nil || json.Unmarshal(value["end"], &end) != nil {
		return countersign.Evidence{}, fmt.Errorf("%s: an evidence span needs value.start and value.end in characters", at)
	}
	var text *string
	if raw, ok := value["text"]; ok && json.Unmarshal(raw, &text) != nil {
		return countersign.Evidence{}, fmt.Errorf("%s: value.text of a span must be text", at)
	}
	runes := []rune(content)
	if start >= 0 && start <= end && end <= len(runes) && (text == nil || string(runes[start:end]) == *text) {
		return countersign.Evidence{Quote: string(runes[start:end]), Start: start, End: end}, nil
	}
	units := utf16.Encode(runes)
	if text != nil && start >= 0 && start <= end && end <= len(units) && string(utf16.Decode(units[start:end])) == *text {
		from := len(utf16.Decode(units[:start]))
		return countersign.Evidence{Quote: *text, Start: from, End: from + len([]rune(*text))}, nil
	}
	if text == nil {
		return countersign.Evidence{}, fmt.Errorf("%s: value.start %d and value.end %d are outside the text (%d characters)", at, start, end, len(runes))
	}
	return countersign.Evidence{}, fmt.Errorf("%s: value.start %d and value.end %d do not mark %q in the text", at, start, end, *text)
}

type argillaSuggested struct {
	ID          any                        `json:"id"`
	ExternalID  any                        `json:"external_id"`
	Fields      map[string]json.RawMessage `json:"fields"`
	Suggestions map[string]struct {
		Value json.RawMessage `json:"value"`
		Agent string          `json:"agent"`
	} `json:"suggestions"`
}

func (g *goldReader) argillaPrelabel(n int, raw json.RawMessage) (Prelabelled, error) {
	var rec argillaSuggested
	if err := strictObject(raw, &rec); err != nil {
		return Prelabelled{}, fmt.Errorf("record %d: %w", n, err)
	}
	p := Prelabelled{At: fmt.Sprintf("record %d", n)}
	for _, id := range []any{rec.ExternalID, rec.ID} {
		if id != nil && p.ExternalID == "" {
			p.ExternalID = fmt.Sprint(id)
		}
	}
	if p.ExternalID != "" {
		p.At += fmt.Sprintf(" (id %s)", p.ExternalID)
	}
	if v, ok := rec.Fields[g.opts.TextKey]; !ok || json.Unmarshal(v, &p.Content) != nil || strings.TrimSpace(p.Content) == "" {
		return p, fmt.Errorf("%s: fields.%s is missing or not text: it holds the document to label (name another field with --text-key)", p.At, g.opts.TextKey)
	}
	if len(rec.Suggestions) == 0 {
		return p, nil
	}
	pl := &countersign.Prelabel{Fields: countersign.Fields{}, Source: "argilla"}
	var agents []string
	for _, question := range slices.Sorted(maps.Keys(rec.Suggestions)) {
		s := rec.Suggestions[question]
		if len(s.Value) == 0 || string(s.Value) == "null" {
			return p, fmt.Errorf("%s: suggestions.%s: value is required", p.At, question)
		}
		v, err := g.fromJSON(question, s.Value)
		if err != nil {
			return p, fmt.Errorf("%s: suggestions.%s: %w", p.At, question, err)
		}
		pl.Fields[question] = v
		if s.Agent != "" && !slices.Contains(agents, s.Agent) {
			agents = append(agents, s.Agent)
		}
	}
	if len(agents) > 0 {
		pl.Source += ":" + strings.Join(agents, ",")
	}
	p.Prelabel = pl
	return p, nil
}
