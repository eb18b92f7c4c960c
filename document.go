package countersign

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
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
	Channel         Channel           `json:"channel,omitempty"` // submitted through; empty if stored before it was kept
	// Batch is the batch the submitter named (CheckBatchName), if any.
	Batch string `json:"batch,omitempty"`
	// OriginalSHA256 names the file the content was extracted from (a PDF,
	// OriginalStore); empty for a document submitted as text.
	OriginalSHA256 string      `json:"original_sha256,omitempty"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
	Draft          *Draft      `json:"draft"`
	Confidence     *Confidence `json:"confidence"`
	Route          *Route      `json:"route"`
	Final          *Final      `json:"final"`
}

// DocumentLabel is what names a document to people, without its body: its
// external ID and metadata (a file name, a title).
type DocumentLabel struct {
	ExternalID string
	Metadata   map[string]string
}

// Name is what a list of documents shows for one: its metadata's title,
// else its file name (countersign submit records it), else its external
// ID; empty when it has none of them.
func (l DocumentLabel) Name() string {
	for _, key := range []string{"title", "filename"} {
		if v := strings.TrimSpace(l.Metadata[key]); v != "" {
			return v
		}
	}
	return l.ExternalID
}

// Evidence is the verbatim quote that supports a field's value and where it
// stands in the document, in characters (Unicode code points), end exclusive.
// In a JSON document (an alert) it may also name the field the quote is the
// value of, by JSON Pointer (/src_endpoint/ip): grounding then checks that
// the field is there and holds the quote.
type Evidence struct {
	Quote   string `json:"quote"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
	Pointer string `json:"pointer,omitempty"`
}

// Prelabel is a draft made outside countersign, submitted with its
// document: a labeling tool's prediction, another model's answer. Its
// fields and evidence become the document's draft (Extractor
// ExtractorPrelabel, Model its Source), so no model is asked; the draft is
// scored like any other, and the document always goes to a person, since
// whoever submitted it also wrote its answer.
type Prelabel struct {
	Fields   Fields              `json:"fields"`
	Evidence map[string]Evidence `json:"evidence,omitempty"`
	// Source says what made it, for the lineage: "label-studio:model-v3".
	Source string `json:"source,omitempty"`
}

// Draft returns the draft p stands for.
func (p *Prelabel) Draft() *Draft {
	return &Draft{Fields: p.Fields, Evidence: p.Evidence, Extractor: ExtractorPrelabel, Model: p.Source}
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
	// Samples are the answers drawn when several were (self-consistency);
	// Fields holds each field's majority value. In a sample, a field with a
	// value is that answer's value, a field present with a null value is one
	// the answer said the document does not state, and a field left out is
	// one the answer gave no usable value for; a sample that is nil was
	// unusable as a whole.
	Samples []Fields `json:"samples,omitempty"`
	// TokenProb is, per field, the probability the model gave the tokens of
	// the value it wrote (from the answer's logprobs), or of the null it
	// wrote for a field the draft leaves empty.
	TokenProb map[string]float64 `json:"token_prob,omitempty"`
	// Alternatives is, per field, where the model's top_logprobs gave the
	// most probability to tokens other than the ones it wrote in the value
	// (or the null); absent when the endpoint sent no top_logprobs.
	Alternatives map[string]TokenAlternatives `json:"alternatives,omitempty"`
	// LabelProb is, per field whose values are a closed set of labels (a
	// verdict's label, any string enum), the probability the model gave
	// the drafted label over the label set, from the answer's logprobs and
	// top_logprobs; absent when the endpoint sent no top_logprobs.
	LabelProb map[string]LabelProbability `json:"label_prob,omitempty"`
	// CrossCheck holds the values the rules extractor found, for a draft
	// made by a model of a task type that has rules.
	CrossCheck Fields `json:"cross_check,omitempty"`
	// Judge is, per field, the verdict of a second model call that checked
	// the value against the guideline: 1 right, 0.5 unsure, 0 wrong.
	Judge map[string]float64 `json:"judge,omitempty"`
	// Notes tell a reviewer what happened while drafting: an unusable
	// answer that a repair attempt replaced, a judge that could not answer.
	Notes []string `json:"notes,omitempty"`
	Usage *Usage   `json:"usage,omitempty"`
	// Orders are, for a comparison, the judge's ranking in each order it
	// saw the candidates in (position swap): a judge that ranks them
	// otherwise when their order changes is unsure (SignalPosition).
	Orders []JudgeOrder `json:"orders,omitempty"`
	// Candidates are, for a comparison item submitted with a prompt and no
	// candidates, the candidates countersign generated for it
	// (Comparison.Generators), each with its model and parameters. They
	// are stored before the judge runs (CandidatesOnly), so a retry judges
	// the same candidates, and kept with the judge's draft;
	// ReadDocumentItem reads them as the item's.
	Candidates []Candidate `json:"candidates,omitempty"`
}

// CandidatesOnly reports whether d holds only generated candidates, stored
// before the judge ran: drafting has begun but not ended.
func (d *Draft) CandidatesOnly() bool {
	return d != nil && len(d.Candidates) > 0 && d.Fields == nil && d.Error == "" && len(d.Orders) == 0
}

// JudgeOrder is one order a comparison's judge saw the candidates in, and
// the ranking it gave in that order, best first, by candidate ID.
type JudgeOrder struct {
	Order   []string `json:"order"`
	Ranking []string `json:"ranking"`
	// Samples are the rankings of the further samples drawn in this order
	// (model.samples above 1), after the first, which is Ranking; a judge
	// whose samples rank a pair otherwise is unsure (SignalAgreement).
	Samples [][]string `json:"samples,omitempty"`
	// FirstPlace is, per judgement of this order (Ranking's, then each of
	// Samples' in turn), how the judge's probability was shared among the
	// candidates' labels where it wrote its first place, read from the
	// logprobs and top_logprobs of that label's tokens, with Rival named by
	// candidate ID (SignalVerdictProb); nil for a judgement whose answer
	// came without them. Absent when no judgement of the order had them.
	FirstPlace []*LabelProbability `json:"first_place,omitempty"`
}

// TokenAlternatives is the position of a drafted value at which the model
// held the most probability for other tokens than the one it wrote: that
// mass (the top_logprobs entries other than the written token, summed), the
// token written, and the likeliest other token with its probability.
type TokenAlternatives struct {
	Mass      float64 `json:"mass"`
	Token     string  `json:"token"`
	Other     string  `json:"other,omitempty"`
	OtherProb float64 `json:"other_prob,omitempty"`
}

// LabelProbability is how the model's probability over a field's labels
// was shared, where it wrote the drafted label: the drafted label's share
// of the probability it gave any declared label (Prob), the other label it
// gave the most (Rival: several when the top_logprobs entry that held it
// begins more than one, labels sharing a prefix) with its share
// (RivalProb), and the probability it gave text that is no declared label
// (Outside, not normalised: a null, a word outside the set).
type LabelProbability struct {
	Prob      float64  `json:"prob"`
	Rival     []string `json:"rival,omitempty"`
	RivalProb float64  `json:"rival_prob,omitempty"`
	Outside   float64  `json:"outside,omitempty"`
}

// Usage counts the model tokens a draft cost.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// Failed reports whether extraction produced no usable draft.
func (d *Draft) Failed() bool { return d == nil || d.Error != "" }

// Signal names, as recorded with every field score. Each is in [0,1] and
// measured by the engine; none is the model's opinion of itself.
const (
	// SignalSchema: the value fits the task type's JSON Schema.
	SignalSchema = "schema"
	// SignalConstraints: the value keeps the task type's CEL constraints.
	SignalConstraints = "constraints"
	// SignalGrounding: the evidence quote is in the document.
	SignalGrounding = "grounding"
	// SignalTokenProb: the probability of the value's tokens (logprobs).
	SignalTokenProb = "token_prob"
	// SignalAgreement: the share of samples that gave the same value.
	SignalAgreement = "agreement"
	// SignalRules: the rules extractor found the same value.
	SignalRules = "rules"
	// SignalJudge: a second model call judged the value right.
	SignalJudge = "judge"
	// SignalAmbiguity: no other value in the document fits the field as
	// well as the drafted one (1), down to 0 the more do.
	SignalAmbiguity = "ambiguity"
	// SignalAlternatives: 1 minus the probability the model's top_logprobs
	// gave other tokens where it wrote the value, at its least sure token.
	SignalAlternatives = "alternatives"
	// SignalLabelProb: for a field whose values are a closed set of labels
	// (a verdict's label, a string enum), the probability the model gave
	// the drafted label divided by the probability it gave any of the
	// labels (Draft.LabelProb): doubt between labels lowers it, probability
	// given to text that is no label (a null) does not.
	SignalLabelProb = "label_prob"
	// SignalContext: how well the words around the drafted value, where
	// the document writes it, fit the field (0 when none does).
	SignalContext = "context"
	// SignalQuoteMatch: the value is what its evidence quote says (1), or
	// the quote says another value of its kind (0).
	SignalQuoteMatch = "quote_match"
	// SignalOmission is recorded for an optional field the draft left
	// empty, and only for one: 1 when nothing in the document fits the
	// field, down toward 0 the better the words around the likeliest value
	// that does fit it (an amount next to "claimed" when the draft has no
	// amount claimed). A field score that has it is of an omission, not of
	// a value; agreement and rules may be recorded beside it.
	SignalOmission = "omission"
	// SignalWords: what reviewed documents taught about the words around
	// the drafted value (FieldScore.Words): the probability, on even odds,
	// that a value of this field with such words around it is right, from
	// how often each word stood around values people kept and around values
	// they corrected. Only a calibration that learned word weights records
	// it (countersign.ConfidenceModel.Words): it is learned, not measured.
	SignalWords = "words"
	// SignalPosition is recorded for a comparison's ranking: the share of
	// candidate pairs the judge ordered the same way in every order it saw
	// the candidates in (1: it never changed its mind when the order
	// changed; 0: it flipped every pair).
	SignalPosition = "position"
	// SignalVerdictProb is recorded for a comparison's ranking when the
	// judge's answers came with top_logprobs: the mean, over its
	// judgements, of the probability it gave the candidate it put first,
	// over the probability it gave any candidate's label there
	// (JudgeOrder.FirstPlace).
	SignalVerdictProb = "verdict_prob"
	// SignalOCRConfidence is recorded for a value whose quote stands on
	// pages read by OCR (a scan), and only for one: the lowest confidence
	// OCR gave a word under the quote (Word.Confidence), so a misread
	// character in it shows.
	SignalOCRConfidence = "ocr_confidence"
)

// Signals lists every signal name in the order scores combine them.
var Signals = []string{SignalSchema, SignalConstraints, SignalGrounding, SignalTokenProb, SignalAgreement, SignalRules, SignalJudge, SignalAmbiguity, SignalAlternatives, SignalLabelProb, SignalContext, SignalQuoteMatch, SignalOmission, SignalWords, SignalPosition, SignalOCRConfidence, SignalVerdictProb}

// FieldScore is the confidence in one field's value, with the signals it was
// combined from and the reasons a reviewer should look at it.
type FieldScore struct {
	// Score is the confidence routing uses: Raw mapped through the task
	// type's calibration when one is fitted, Raw otherwise.
	Score    float64            `json:"score"`
	Raw      float64            `json:"raw"`
	Signals  map[string]float64 `json:"signals"`
	Required bool               `json:"required"`
	Reasons  []string           `json:"reasons,omitempty"`
	// Words are the words around the drafted value where the document
	// writes it, as the context signal read them, lower case, nearest
	// first: those before it as they are, those after it marked with a
	// leading "+". A calibration learns from them which words stand near
	// right values of the field and which near wrong ones (SignalWords).
	Words []string `json:"words,omitempty"`
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
	// Calibration is the version of the calibration that mapped the raw
	// scores, if any.
	Calibration string `json:"calibration,omitempty"`
}

// Route is where the policy sent a draft and why.
type Route struct {
	Outcome       Outcome  `json:"outcome"`
	Reasons       []string `json:"reasons"`
	Mode          Mode     `json:"mode"`
	Threshold     float64  `json:"threshold"`
	PolicyVersion string   `json:"policy_version"`
	// Rules are the risk and reject rules that matched the draft.
	Rules []RuleHit `json:"rules,omitempty"`
	// Calibration is the version of the calibration behind the confidence.
	Calibration string `json:"calibration,omitempty"`
	// AuditSampleRate is, in hotl, the audit sample rate in force when the
	// document was routed: the share of auto-accepted documents drawn for
	// an audit, and so the share of every document, whatever its route,
	// that belongs to the uniform sample error rates are measured on
	// (simulate.Sampled). 0 in hitl, and in documents routed before it was
	// recorded.
	AuditSampleRate float64 `json:"audit_sample_rate,omitempty"`
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
	// CorrectedAfterAudit is set when an audit of an auto-accepted
	// document corrected it; Fields are then the corrected fields and Diff
	// is from the draft to them.
	CorrectedAfterAudit bool `json:"corrected_after_audit,omitempty"`
	// AuditedBy is the person who audited an auto-accepted document,
	// whether the audit confirmed or corrected it.
	AuditedBy string `json:"audited_by,omitempty"`
	// Vetoed is set when a supervisor overrode an auto-accepted document
	// within the policy's veto window.
	Vetoed bool `json:"vetoed,omitempty"`
	// DeliveredAt is when the outcome was released downstream (the
	// webhook, if any); nil while a veto window holds it back.
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	// Lineage is where the final came from.
	Lineage *Lineage `json:"lineage,omitempty"`
}

// Lineage ties a final outcome to what produced it: the task type, policy,
// model and prompt versions, the people who decided, and the audit events
// that record each step, so a labeled example can be traced to its origin.
type Lineage struct {
	TaskTypeVersion string   `json:"task_type_version"`
	PolicyVersion   string   `json:"policy_version"`
	Extractor       string   `json:"extractor,omitempty"`
	Model           string   `json:"model,omitempty"`
	Prompt          string   `json:"prompt_version,omitempty"`
	Calibration     string   `json:"calibration,omitempty"`
	Reviewers       []string `json:"reviewers,omitempty"`
	AuditEvents     []string `json:"audit_events"`
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

// Equivalent reports whether two values say the same thing: strings equal
// after folding case and white space, other values equal as JSON. It is how
// samples and extractors are compared, never how corrections are diffed.
func Equivalent(a, b any) bool {
	x, okA := a.(string)
	y, okB := b.(string)
	if okA && okB {
		return strings.EqualFold(strings.Join(strings.Fields(x), " "), strings.Join(strings.Fields(y), " "))
	}
	return SameValue(a, b)
}

// CompareConfidence orders field confidences least confident first, for
// putting the uncertain fields first; no score counts as the least.
func CompareConfidence(a, b *float64) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	case *a < *b:
		return -1
	case *a > *b:
		return 1
	}
	return 0
}

// ValueText is a field value as a person edits it in a text input: strings
// as they are, numbers without exponent, booleans as true or false, nothing
// as empty, anything else as JSON.
func ValueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(raw)
}

// Percent writes a share as a percentage with as many decimals as it has,
// up to four: 0.0025 is 0.25%, 0.975 is 97.5%, 0.05 is 5%. For a budget or
// a level, which must not read as a neighbour (0.25% as 0.3%, 97.5% as
// 98%).
func Percent(x float64) string {
	return strconv.FormatFloat(math.Round(x*1e6)/1e4, 'f', -1, 64) + "%"
}

// ScorePair writes two scores (a confidence and a threshold, two
// thresholds) to two decimals, or to as many more as it takes, up to six,
// for two different scores to read differently: a confidence of 0.994
// below a threshold of 0.995 must not read "0.99 below 0.99".
func ScorePair(a, b float64) (string, string) {
	for digits := 2; ; digits++ {
		sa, sb := strconv.FormatFloat(a, 'f', digits, 64), strconv.FormatFloat(b, 'f', digits, 64)
		if sa != sb || a == b || digits == 6 {
			return sa, sb
		}
	}
}
