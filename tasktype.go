package countersign

import (
	"encoding/json"
	"time"
)

// Mode is how much autonomy a task type's policy grants the model.
type Mode string

// Policy modes.
const (
	// ModeHITL sends every document to a person (human-in-the-loop).
	ModeHITL Mode = "hitl"
	// ModeHOTL accepts confident drafts on its own; people supervise
	// (human-on-the-loop).
	ModeHOTL Mode = "hotl"
)

// Policy is the routing policy of a task type. A workflow pins the policy it
// started with, so a later edit of the task type never changes a running
// review.
type Policy struct {
	Mode Mode `json:"mode"`
	// AutoAcceptThreshold is the document confidence at or above which a
	// draft is accepted without a person in hotl mode.
	AutoAcceptThreshold float64 `json:"auto_accept_threshold"`
	// ReviewDue is how long a review may wait; it sets the review's due time.
	ReviewDue time.Duration `json:"review_due"`
	// Version is the hash of the policy's content.
	Version string `json:"version"`
}

// Rule is one pattern of the rules extractor for a field: an RE2 regular
// expression whose named group "value" (or whole match) yields the value,
// turned into the field's type by Transform, or the constant Value when set.
type Rule struct {
	Pattern   string `json:"pattern"`
	Transform string `json:"transform,omitempty"`
	Value     any    `json:"value,omitempty"`
}

// ExtractorSpec names the extractor a task type drafts with.
type ExtractorSpec struct {
	Kind string `json:"kind"`
}

// Extractor kinds.
const (
	ExtractorRules = "rules"
)

// TaskType is one kind of review: what to extract, how to extract and score
// it, and how to route the result. Its Version is the hash of its source, and
// every document records the version it ran under.
type TaskType struct {
	Name        string `json:"name"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Guideline   string `json:"guideline"`
	Version     string `json:"version"`
	// Schema is the JSON Schema of the output fields (an object schema).
	Schema json.RawMessage `json:"schema"`
	// FieldOrder lists the schema's properties in the order the file declares them.
	FieldOrder []string `json:"field_order"`
	// Required lists the fields the document confidence is taken over.
	Required  []string          `json:"required"`
	Extractor ExtractorSpec     `json:"extractor"`
	Rules     map[string][]Rule `json:"rules,omitempty"`
	// Weights of the confidence signals, by signal name.
	Weights map[string]float64 `json:"weights"`
	Policy  Policy             `json:"policy"`
	// Source is the file the task type was read from, exactly.
	Source []byte `json:"-"`
}

// IsRequired reports whether field is required by the task type.
func (t *TaskType) IsRequired(field string) bool {
	for _, name := range t.Required {
		if name == field {
			return true
		}
	}
	return false
}
