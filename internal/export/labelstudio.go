package export

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/countersign/countersign"
)

// The Label Studio export follows Label Studio's JSON task format, as its
// documentation gives it: "Label Studio Task Format"
// (https://labelstud.io/guide/task_format.html: data, meta, annotations with
// result, completed_by, created_at, ground_truth, was_cancelled; predictions
// with model_version, score and result), a result item's id, from_name,
// to_name, type and value, and the value of the Text tag's labels and of
// TextArea (https://labelstud.io/tags/text, https://labelstud.io/tags/textarea:
// {start, end, text, labels} and {text: [...]}). Pre-annotations are the same
// results under predictions (https://labelstud.io/guide/predictions).
//
// Every field is a TextArea named after the field, on the Text named "text";
// a field whose evidence quote stands in the text also gets a span of the
// Labels named "evidence", labelled with the field's name. So a project's
// labeling config is the same for every task (docs/oversight.md gives it),
// and the answer never depends on a span: a corrected value need not be
// what the quote says.

// Names in a Label Studio result: the object tag the text is shown in, and
// the labels tag of evidence spans.
const (
	LabelStudioText     = "text"
	LabelStudioEvidence = "evidence"
)

// lsTask is one Label Studio task.
type lsTask struct {
	Data        lsData         `json:"data"`
	Meta        *metadata      `json:"meta"`
	Annotations []lsAnnotation `json:"annotations"`
	Predictions []lsPrediction `json:"predictions"`
}

// lsData is what the labeling config's $variables read: the text, and what
// names the document.
type lsData struct {
	Text       string            `json:"text"`
	DocumentID string            `json:"document_id"`
	ExternalID string            `json:"external_id"`
	TaskType   string            `json:"task_type"`
	Metadata   map[string]string `json:"metadata"`
}

// lsAnnotation is a person's (or the engine's) final answer. Label Studio
// resolves completed_by by e-mail address and refuses a name it cannot find
// among its members, so completed_by is only given when the decider's name
// is an address; meta.decided_by always names them.
type lsAnnotation struct {
	Result       []lsResult `json:"result"`
	CompletedBy  *lsUser    `json:"completed_by,omitempty"`
	CreatedAt    string     `json:"created_at"`
	GroundTruth  bool       `json:"ground_truth"`
	WasCancelled bool       `json:"was_cancelled"`
}

type lsUser struct {
	Email string `json:"email"`
}

// lsPrediction is the model's draft with its overall confidence.
type lsPrediction struct {
	ModelVersion string     `json:"model_version"`
	Score        float64    `json:"score"`
	Result       []lsResult `json:"result"`
}

// lsResult is one region or answer of an annotation or prediction. Score is
// a field's confidence, on predictions only.
type lsResult struct {
	ID       string   `json:"id"`
	FromName string   `json:"from_name"`
	ToName   string   `json:"to_name"`
	Type     string   `json:"type"`
	Value    any      `json:"value"`
	Score    *float64 `json:"score,omitempty"`
}

type lsTextArea struct {
	Text []string `json:"text"`
}

type lsSpan struct {
	Start  int      `json:"start"`
	End    int      `json:"end"`
	Text   string   `json:"text"`
	Labels []string `json:"labels"`
}

// labelStudio writes a JSON array of tasks, one task a line: "[", the tasks
// separated by commas, "]". The array is closed only when the export ends
// without an error, so a cut-short export is not a valid file.
type labelStudio struct {
	out       *bufio.Writer
	tasksJSON *compactJSON
	values    *compactJSON
	tasks     int
}

func newLabelStudio(w io.Writer) *labelStudio {
	return &labelStudio{out: bufio.NewWriter(w), tasksJSON: newCompactJSON(), values: newCompactJSON()}
}

func (s *labelStudio) write(_ context.Context, r *record) (int, error) {
	task, err := s.task(r)
	if err != nil {
		return 0, err
	}
	line, err := s.tasksJSON.String(task)
	if err != nil {
		return 0, fmt.Errorf("encode task: %w", err)
	}
	// Every task is a line of its own: "[" before the first, "," after
	// every one but the last.
	sep := ",\n"
	if s.tasks == 0 {
		sep = "[\n"
	}
	if _, err := s.out.WriteString(sep + line); err != nil {
		return 0, fmt.Errorf("write task: %w", err)
	}
	s.tasks++
	return 1, nil
}

func (s *labelStudio) end() error {
	closing := "\n]\n"
	if s.tasks == 0 {
		closing = "[]\n"
	}
	_, err := s.out.WriteString(closing)
	return err
}

func (s *labelStudio) flush() error { return s.out.Flush() }

func (s *labelStudio) task(r *record) (*lsTask, error) {
	d, f := r.doc, r.doc.Final
	metadata := d.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	t := &lsTask{
		Data: lsData{Text: d.Content, DocumentID: d.ID, ExternalID: d.ExternalID, TaskType: d.TaskType, Metadata: metadata},
		Meta: &r.meta,
	}
	// A field keeps its draft's evidence only when the final left its value
	// as drafted: the quote supports the drafted value.
	kept := map[string]bool{}
	for _, c := range r.diff {
		kept[c.Field] = c.Change == countersign.ChangeUnchanged
	}
	result, err := s.results(d, f.Fields, kept, nil)
	if err != nil {
		return nil, err
	}
	a := lsAnnotation{Result: result, CreatedAt: f.DecidedAt.UTC().Format(time.RFC3339Nano)}
	if strings.Contains(f.DecidedBy, "@") {
		a.CompletedBy = &lsUser{Email: f.DecidedBy}
	}
	t.Annotations = []lsAnnotation{a}
	t.Predictions = []lsPrediction{}
	if r.drafted {
		var scores map[string]countersign.FieldScore
		var overall float64
		if d.Confidence != nil {
			scores, overall = d.Confidence.Fields, d.Confidence.Overall
		}
		all := map[string]bool{}
		for name := range r.draft {
			all[name] = true
		}
		result, err := s.results(d, r.draft, all, scores)
		if err != nil {
			return nil, err
		}
		version := r.meta.Model
		if version == "" {
			version = r.meta.Extractor
		}
		if r.meta.PromptVersion != "" {
			version += "/" + r.meta.PromptVersion
		}
		t.Predictions = append(t.Predictions, lsPrediction{ModelVersion: version, Score: overall, Result: result})
	}
	return t, nil
}

// results are a TextArea per field, in name order, and an evidence span for
// each field in withEvidence whose draft quote stands where the draft says.
func (s *labelStudio) results(d *countersign.Document, fields countersign.Fields, withEvidence map[string]bool, scores map[string]countersign.FieldScore) ([]lsResult, error) {
	out := []lsResult{}
	var text []rune
	for _, name := range fields.Names() {
		value, err := s.values.text(fields[name])
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", name, err)
		}
		var score *float64
		if fs, ok := scores[name]; ok {
			score = &fs.Score
		}
		out = append(out, lsResult{ID: name, FromName: name, ToName: LabelStudioText, Type: "textarea", Value: lsTextArea{Text: []string{value}}, Score: score})
		if !withEvidence[name] || d.Draft == nil {
			continue
		}
		ev, ok := d.Draft.Evidence[name]
		if !ok {
			continue
		}
		if text == nil {
			text = []rune(d.Content)
		}
		if !located(text, ev) {
			continue
		}
		out = append(out, lsResult{
			ID: LabelStudioEvidence + "-" + name, FromName: LabelStudioEvidence, ToName: LabelStudioText, Type: "labels",
			Value: lsSpan{Start: ev.Start, End: ev.End, Text: ev.Quote, Labels: []string{name}}, Score: score,
		})
	}
	return out, nil
}

// located reports whether ev's offsets, in code points, slice text to its
// quote.
func located(text []rune, ev countersign.Evidence) bool {
	return ev.Quote != "" && ev.Start >= 0 && ev.Start < ev.End && ev.End <= len(text) && string(text[ev.Start:ev.End]) == ev.Quote
}

// text is a field value as a labeling tool's text answer holds it: a string
// as it is, any other value (number, boolean, null, list, object) as compact
// JSON. Label Studio's TextArea and Argilla's TextQuestion answers are text;
// the gold importer (internal/interop) reads them back by the task type's
// schema.
func (c *compactJSON) text(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return c.String(v)
}
