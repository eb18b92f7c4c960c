package countersign

import "encoding/json"

// The fields of a verdict task type, which its Verdict declares: the
// model drafts them and a person corrects them like any other fields.
const (
	// FieldLabel is the verdict's label, one of Verdict.Labels.
	FieldLabel = "label"
	// FieldSeverity is the verdict's severity, an integer on
	// Verdict.Severity's scale.
	FieldSeverity = "severity"
	// FieldReasonCodes are the reasons for the verdict, codes of
	// Verdict.Reasons.
	FieldReasonCodes = "reason_codes"
	// FieldRationale is the verdict's rationale, in words.
	FieldRationale = "rationale"
)

// LabelFalsePositive is the label per-rule figures count as a false
// positive (Verdict.Labels may use it or not).
const LabelFalsePositive = "false_positive"

// Verdict is what a verdict task type (alert triage, fraud cases) decides
// about each document: a label from a closed set, a severity on a scale
// and reason codes from a taxonomy. The task type's fields are derived
// from it (FieldLabel, FieldSeverity, FieldReasonCodes, FieldRationale), so
// the draft, the schema, scoring, routing and review treat a verdict as the
// extraction of those fields, and the schema refuses a label, severity or
// reason code outside the taxonomy, from the model and from a person alike.
type Verdict struct {
	Labels   []string      `json:"labels"`
	Severity SeverityScale `json:"severity"`
	Reasons  []ReasonCode  `json:"reasons"`
}

// SeverityScale is the range of a verdict's severity, both ends included.
type SeverityScale struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// ReasonCode is one reason of a verdict's taxonomy: the code the model and
// the analyst pick, and what it means.
type ReasonCode struct {
	Code        string `json:"code"`
	Description string `json:"description,omitempty"`
}

// Input formats of a task type's documents.
const (
	InputText = "text"
	InputJSON = "json"
)

// InputSpec is how a task type reads what is submitted: text, or a JSON
// object (an alert) whose own ID becomes the document's external ID and
// whose mapped values become its metadata, for rules and the prompt.
type InputSpec struct {
	Format string `json:"format"`
	// MaxBytes bounds a JSON document; 0: the server's document limit.
	MaxBytes int `json:"max_bytes,omitempty"`
	// ID is the JSON Pointer to the alert's own ID.
	ID string `json:"id,omitempty"`
	// Map names metadata keys and the JSON Pointer each is read from.
	Map map[string]string `json:"map,omitempty"`
	// Schema, when set, is a JSON Schema every document must fit: intake
	// refuses an alert that does not (422, naming what is wrong).
	Schema json.RawMessage `json:"schema,omitempty"`
}

// JSON reports whether documents of the task type are JSON objects.
func (s *InputSpec) JSON() bool { return s != nil && s.Format == InputJSON }

// Disposition says who settled a document's final outcome: the engine on
// its own, or a person. SOC teams must never take an automatic closure for
// an analyst-validated one, so every view of a final record says which.
type Disposition string

// Dispositions.
const (
	// DispositionAutomatic: no person decided the outcome that stands (an
	// auto-acceptance, a reject rule, an SLA timeout), including one an
	// audit later confirmed (Final.AuditedBy names the auditor).
	DispositionAutomatic Disposition = "automatic"
	// DispositionAnalyst: a person decided the outcome that stands: in a
	// review, by correcting it in an audit, or by a veto.
	DispositionAnalyst Disposition = "analyst"
)

// Disposition derives who settled the final outcome from the final
// record; empty for no final record.
func (f *Final) Disposition() Disposition {
	switch {
	case f == nil:
		return ""
	case f.Vetoed || f.CorrectedAfterAudit:
		return DispositionAnalyst
	case f.DecidedBy == SystemActor || f.DecidedBy == "":
		return DispositionAutomatic
	}
	return DispositionAnalyst
}
