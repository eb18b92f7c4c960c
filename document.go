package countersign

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// Fields are the structured values a task type asks for, by field name. Values
// are JSON values: strings, numbers, booleans, arrays or objects.
type Fields map[string]any

// Names returns the field names in sorted order, so that callers that must be
// deterministic never range over the map.
func (f Fields) Names() []string {
	names := make([]string, 0, len(f))
	for name := range f {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Document is one piece of text under review and everything decided about it.
// The body (Content) lives in the store only; workflows carry the ID.
type Document struct {
	ID              string            `json:"id"`
	TaskType        string            `json:"task_type"`
	TaskTypeVersion string            `json:"task_type_version"`
	ExternalID      string            `json:"external_id,omitempty"`
	Content         string            `json:"-"`
	ContentSHA256   string            `json:"content_sha256"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	Status          Status            `json:"status"`
	SubmittedBy     string            `json:"submitted_by"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	Draft           *Draft            `json:"draft"`
	Confidence      *Confidence       `json:"confidence"`
	Route           *Route            `json:"route"`
	Final           *Final            `json:"final"`
}

// Evidence is the verbatim quote that supports a field's value and where it
// stands in the document, in characters (Unicode code points), end exclusive.
type Evidence struct {
	Quote string `json:"quote"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Draft is an extractor's proposal: a value per field and the evidence for it.
// A draft with Error set carries no fields: extraction failed and a person
// must do the work.
type Draft struct {
	Fields    Fields              `json:"fields"`
	Evidence  map[string]Evidence `json:"evidence"`
	Extractor string              `json:"extractor"`
	Model     string              `json:"model,omitempty"`
	Prompt    string              `json:"prompt_version,omitempty"`
	Error     string              `json:"error,omitempty"`
}

// Failed reports whether extraction produced no usable draft.
func (d *Draft) Failed() bool { return d == nil || d.Error != "" }

// Signal names, as recorded with every field score.
const (
	SignalSchema    = "schema"
	SignalGrounding = "grounding"
)

// FieldScore is the confidence in one field's value, with the signals it was
// combined from and the reasons a reviewer should look at it.
type FieldScore struct {
	Score    float64            `json:"score"`
	Signals  map[string]float64 `json:"signals"`
	Required bool               `json:"required"`
	Reasons  []string           `json:"reasons,omitempty"`
}

// Confidence is the engine's trust in a draft: per field, and overall as the
// weakest required field.
type Confidence struct {
	Overall float64               `json:"overall"`
	Weakest string                `json:"weakest,omitempty"`
	Fields  map[string]FieldScore `json:"fields"`
	// Reasons concern the draft as a whole (no draft, object-level schema
	// errors); any of them makes the overall confidence 0.
	Reasons []string `json:"reasons,omitempty"`
}

// Route is where the policy sent a draft and why.
type Route struct {
	Outcome       Outcome  `json:"outcome"`
	Reasons       []string `json:"reasons"`
	Mode          Mode     `json:"mode"`
	Threshold     float64  `json:"threshold"`
	PolicyVersion string   `json:"policy_version"`
}

// Change is how a field moved between draft and final.
type Change string

// Field changes.
const (
	ChangeUnchanged Change = "unchanged"
	ChangeCorrected Change = "corrected"
	ChangeAdded     Change = "added"
	ChangeRemoved   Change = "removed"
)

// FieldChange is one line of the diff between a draft and its final fields:
// the correction that becomes labeled data.
type FieldChange struct {
	Field  string `json:"field"`
	Change Change `json:"change"`
	Draft  any    `json:"draft,omitempty"`
	Final  any    `json:"final,omitempty"`
}

// Final is the outcome that counts: the fields as accepted (none when
// rejected), how the document got there, who decided, and the diff from the
// draft.
type Final struct {
	Fields    Fields        `json:"fields"`
	Outcome   Outcome       `json:"outcome"`
	Action    Action        `json:"action,omitempty"`
	Reason    string        `json:"reason,omitempty"`
	DecidedBy string        `json:"decided_by"`
	DecidedAt time.Time     `json:"decided_at"`
	Diff      []FieldChange `json:"diff"`
}

// Correct applies a reviewer's correction to draft fields. The correction is
// a patch: each named field takes the given value, and a null value removes
// the field. The draft is not modified.
func Correct(draft, patch Fields) Fields {
	out := make(Fields, len(draft)+len(patch))
	for name, value := range draft {
		out[name] = value
	}
	for name, value := range patch {
		if value == nil {
			delete(out, name)
			continue
		}
		out[name] = value
	}
	return out
}

// Diff compares draft and final fields field by field, in name order.
func Diff(draft, final Fields) []FieldChange {
	names := Fields{}
	for name := range draft {
		names[name] = true
	}
	for name := range final {
		names[name] = true
	}
	changes := make([]FieldChange, 0, len(names))
	for _, name := range names.Names() {
		before, inDraft := draft[name]
		after, inFinal := final[name]
		change := FieldChange{Field: name, Draft: before, Final: after}
		switch {
		case inDraft && !inFinal:
			change.Change = ChangeRemoved
		case !inDraft && inFinal:
			change.Change = ChangeAdded
		case SameValue(before, after):
			change.Change = ChangeUnchanged
		default:
			change.Change = ChangeCorrected
		}
		changes = append(changes, change)
	}
	return changes
}

// SameValue reports whether two JSON values are equal, comparing their
// encodings so that numbers decoded in different ways still match.
func SameValue(a, b any) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(x, y)
}
