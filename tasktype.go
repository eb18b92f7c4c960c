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
	// AuditSampleRate is the share of auto-accepted documents that is also
	// queued for a post-hoc audit (hotl). The draw is deterministic per
	// document ID, so a replay samples the same documents.
	AuditSampleRate float64 `json:"audit_sample_rate,omitempty"`
	// RiskRules send a document to a person whatever its confidence.
	RiskRules []PolicyRule `json:"risk_rules,omitempty"`
	// RejectRules reject a document without a person.
	RejectRules []PolicyRule `json:"reject_rules,omitempty"`
	// VetoWindow, in hotl, holds an auto-accepted document back from
	// delivery this long, so that a supervisor may still override it.
	VetoWindow time.Duration `json:"veto_window,omitempty"`
	// Supervision bounds the errors auto-acceptance lets through; nil when
	// the task type sets no error budget.
	Supervision *Supervision `json:"supervision,omitempty"`
	// Version is the hash of the policy's content, followed by "+" and the
	// override's ID when a supervisor tightened it.
	Version string `json:"version"`
	// Override is the ID of the supervisor's override applied, if any.
	Override string `json:"override,omitempty"`
	// GoldRate is how many gold items are slipped into the queue per review
	// opened: 0.05 is one after every twentieth review.
	GoldRate float64 `json:"gold_rate,omitempty"`
	// ApprovalsRequired is how many different people must agree on a
	// reviewed document (approve or correct to the same fields, or reject)
	// before it is final; 0 means 1. See Approvals.
	ApprovalsRequired int `json:"approvals_required,omitempty"`
	// Adjudicator is the role whose decision settles a disagreement between
	// reviewers; empty means approver. See AdjudicatorRole.
	Adjudicator Role `json:"adjudicator,omitempty"`
	// BlindReview, with ApprovalsRequired of 2 or more, has each person
	// decide a review without seeing the others' decisions until it
	// closes: an approval approves the draft, and the decisions must agree
	// on their own (Review.Blind, Review.Hides).
	BlindReview bool `json:"blind_review,omitempty"`
	// SLA drives the reminders, escalation and timeout of a waiting
	// review; nil: a review waits as long as it takes.
	SLA *SLA `json:"sla,omitempty"`
	// Notify is who a notifier tells about the task type's reviews; nil:
	// the notifier's default.
	Notify *Audience `json:"notify,omitempty"`
}

// PolicyRule is a named CEL expression over a draft: its fields (`fields`),
// the document's metadata (`metadata`) and the document confidence
// (`confidence`). It matches when the expression is true.
type PolicyRule struct {
	Name string `json:"name"`
	When string `json:"when"`
	// Description says in words what the rule looks for, for the people
	// its matches reach (the web page shows it instead of When).
	Description string `json:"description,omitempty"`
}

// Rule kinds, as a RuleHit records them.
const (
	RuleRisk       = "risk"
	RuleReject     = "reject"
	RuleConstraint = "constraint"
)

// RuleHit is a policy rule that matched a draft, or that could not be
// evaluated on it (Error set): a rule that fails on a type mismatch, say,
// sends the document to a person, whatever its kind. A rule that reads a
// field or metadata key the document does not have does not match.
type RuleHit struct {
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	When  string `json:"when"`
	Error string `json:"error,omitempty"`
}

// Constraint is a check on field values beyond the JSON Schema: a CEL
// expression over `fields` and `metadata` that must be true. A draft that
// breaks it gets no confidence in the fields it names.
type Constraint struct {
	Name    string   `json:"name"`
	Rule    string   `json:"rule"`
	Fields  []string `json:"fields"`
	Message string   `json:"message,omitempty"`
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
	ExtractorRules  = "rules"
	ExtractorOpenAI = "openai"
	// ExtractorPrelabel marks a draft made outside countersign and
	// submitted with its document (a Prelabel): no extractor runs, and a
	// person always reviews it.
	ExtractorPrelabel = "prelabel"
	// ExtractorAuto drafts with the openai extractor when the worker has a
	// model endpoint configured, and with the rules otherwise.
	ExtractorAuto = "auto"
)

// ModelSpec configures the openai extractor for a task type. Empty parts
// fall back to the worker's configuration.
type ModelSpec struct {
	// BaseURL of an OpenAI-compatible endpoint (…/v1).
	BaseURL string `json:"base_url,omitempty"`
	Name    string `json:"name,omitempty"`
	// APIKeyEnv names the environment variable that holds the API key.
	APIKeyEnv   string   `json:"api_key_env,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	Seed        *int     `json:"seed,omitempty"`
	// Samples is how many answers to draw for self-consistency (1: off).
	Samples int `json:"samples,omitempty"`
	// MaxContextTokens is the model's context window; a longer document is
	// refused with a reason instead of being cut.
	MaxContextTokens int `json:"max_context_tokens,omitempty"`
	// MaxOutputTokens caps the answer.
	MaxOutputTokens int `json:"max_output_tokens,omitempty"`
	// Judge asks the model, in a second call, to check each drafted field
	// against the guideline.
	Judge bool `json:"judge,omitempty"`
	// JudgeModel, when set, is the model that judges instead of the one
	// that drafted: a second opinion that does not share the drafting
	// model's blind spots. JudgeBaseURL and JudgeAPIKeyEnv name its endpoint
	// and key when it is not the drafting model's.
	JudgeModel     string `json:"judge_model,omitempty"`
	JudgeBaseURL   string `json:"judge_base_url,omitempty"`
	JudgeAPIKeyEnv string `json:"judge_api_key_env,omitempty"`
}

// PromptSpec holds the prompt templates (Go text/template) of a task type.
// Version is the hash of the templates and the guideline.
type PromptSpec struct {
	System  string `json:"system"`
	User    string `json:"user"`
	Version string `json:"version"`
}

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
	Model     ModelSpec         `json:"model,omitzero"`
	Prompt    PromptSpec        `json:"prompt"`
	Rules     map[string][]Rule `json:"rules,omitempty"`
	// Constraints check field values beyond the schema.
	Constraints []Constraint `json:"constraints,omitempty"`
	// Weights of the confidence signals, by signal name.
	Weights map[string]float64 `json:"weights"`
	Policy  Policy             `json:"policy"`
	// ReviewGroups, when set, are the reviewer groups whose members review
	// this task type; other reviewers neither see nor decide its documents.
	ReviewGroups []string `json:"review_groups,omitempty"`
	// Assignment, when set, assigns each review to a person as it opens.
	Assignment *Assignment `json:"assignment,omitempty"`
	// Gold is the task type's gold items; Policy.GoldRate sets how often
	// they are slipped in.
	Gold []GoldItem `json:"gold,omitempty"`
	// Verdict, when set, declares the fields: a label, a severity and
	// reason codes from a taxonomy (see Verdict).
	Verdict *Verdict `json:"verdict,omitempty"`
	// Comparison, when set, declares the fields: a ranking of an item's
	// candidate responses, scores against a rubric, unsafe marks and an
	// improved response (see Comparison).
	Comparison *Comparison `json:"comparison,omitempty"`
	// Input, when set, says how submitted content is read (see InputSpec);
	// nil: text.
	Input *InputSpec `json:"input,omitempty"`
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
