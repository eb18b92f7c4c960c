package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/calibration"
	"github.com/countersign/countersign/internal/policy"
	"github.com/countersign/countersign/internal/schema"
	"github.com/countersign/countersign/internal/scoring"
)

// ScoreInput asks for the confidence in a draft, and for the policy's rules
// to be checked on it. Policy is the policy the workflow pinned at its start;
// nil (histories from before rules existed) checks no rules.
type ScoreInput struct {
	Step   Step                `json:"step"`
	Draft  *countersign.Draft  `json:"draft"`
	Policy *countersign.Policy `json:"policy,omitempty"`
}

// ScoreResult is the confidence in a draft and the policy rules that matched
// it. The confidence is embedded so the result reads as a confidence too.
type ScoreResult struct {
	*countersign.Confidence
	Rules []countersign.RuleHit `json:"rules,omitempty"`
}

// Score measures the draft against the document and the task type (schema,
// constraints, grounding, and the model signals the draft carries; for a
// scan, OCR's confidence under each quote, from the original's layout), maps the
// scores through the task type's latest calibration, checks the pinned
// policy's risk and reject rules, stores the confidence and records it all.
//
// It may run again after it recorded its step: the workflow runs it as a
// local activity (review.score), which runs again when the workflow task
// that ran it is lost, and the active calibration may have changed in
// between. Its record is then refused, and it answers with what the
// recorded event states (scored), so the route follows the confidence
// the audit log states. Reading the step back only then keeps the trail
// out of every other run.
func (a *Activities) Score(ctx context.Context, in ScoreInput) (*ScoreResult, error) {
	doc, tt, err := a.load(ctx, in.Step)
	if err != nil {
		return nil, err
	}
	sc, err := a.scorer(tt)
	if err != nil {
		return nil, permanent(fmt.Errorf("task type %s@%s: %w", tt.Name, tt.Version, err))
	}
	cal, err := calibration.Active(ctx, a.Store, tt.Name)
	if err != nil {
		return nil, retryable(err)
	}
	var layout *countersign.Layout
	if doc.OriginalSHA256 != "" {
		o, err := a.Store.GetOriginal(ctx, doc.OriginalSHA256, false)
		if err != nil {
			return nil, retryable(err)
		}
		layout = o.Layout
	}
	conf := scoring.Score(scoring.Input{
		TaskType:    tt,
		Schema:      sc.schema,
		Prepared:    sc.prepared,
		Draft:       in.Draft,
		Content:     doc.Content,
		Metadata:    doc.Metadata,
		Calibration: cal,
		Layout:      layout,
	})
	result := &ScoreResult{Confidence: conf}
	if in.Policy != nil && !in.Draft.Failed() {
		result.Rules = policy.Evaluate(*in.Policy, in.Draft.Fields, doc.Metadata, conf.Overall)
	}
	if err := a.Store.UpdateDocument(ctx, doc.ID, countersign.DocumentUpdate{Confidence: conf}); err != nil {
		return nil, retryable(err)
	}
	data := map[string]any{
		"overall": conf.Overall,
		"weakest": conf.Weakest,
		"fields":  conf.Fields,
		"reasons": conf.Reasons,
	}
	if conf.Calibration != "" {
		data["calibration"] = conf.Calibration
	}
	if len(result.Rules) > 0 {
		data["rules"] = result.Rules
	}
	err = a.record(ctx, in.Step, countersign.EventConfidenceScored, countersign.SystemActor, countersign.ChannelWorkflow, data)
	if errors.Is(err, countersign.ErrConflict) {
		// This step was recorded already, by an earlier run or one still
		// running: its event stands, over the confidence this run stored.
		fresh, readErr := a.Store.GetDocument(ctx, doc.ID)
		if readErr != nil {
			return nil, retryable(readErr)
		}
		if done, readErr := a.scored(ctx, in.Step, fresh); done != nil || readErr != nil {
			return done, readErr
		}
	}
	return result, err
}

// scorer is what scoring a draft of a task type reads from it for every
// draft: its schema compiled, and what scoring.Prepare works out.
type scorer struct {
	schema   *schema.Schema
	prepared *scoring.Prepared
}

// scorer returns tt's scorer, made for the first draft of its version and
// kept for the others: compiling the schema and the rules' patterns for
// each draft was a third of Score's time. A version is named by the hash of its
// source, so what is kept never goes stale (the task type resolver and the
// rules extractor keep versions the same way).
func (a *Activities) scorer(tt *countersign.TaskType) (*scorer, error) {
	if sc, ok := a.scorers.Load(tt.Version); ok {
		return sc.(*scorer), nil
	}
	sch, err := schema.Compile(tt.Schema)
	if err != nil {
		return nil, err
	}
	sc, _ := a.scorers.LoadOrStore(tt.Version, &scorer{schema: sch, prepared: scoring.Prepare(tt)})
	return sc.(*scorer), nil
}

// scored is the answer of a Score whose step is recorded already, read
// back from its event, or nil when the step is not recorded yet. The event
// is what the audit log states, so it is the answer; a stored confidence
// that differs from it (another run of the step wrote it, one whose
// workflow task was taken for lost while this one still ran) is made the
// event's again.
func (a *Activities) scored(ctx context.Context, step Step, doc *countersign.Document) (*ScoreResult, error) {
	events, err := a.Store.DocumentAudit(ctx, step.DocumentID)
	if err != nil {
		return nil, retryable(err)
	}
	e, ok := stepEvent(events, step)
	if !ok {
		return nil, nil
	}
	if e.Type != countersign.EventConfidenceScored {
		return nil, permanent(countersign.Errorf(countersign.CodeConflict, "audit event %s is already recorded as %s with other data", e.ID, e.Type))
	}
	var data struct {
		countersign.Confidence
		Rules []countersign.RuleHit `json:"rules"`
	}
	if err := json.Unmarshal(e.Data, &data); err != nil {
		return nil, permanent(fmt.Errorf("audit event %s: %w", e.ID, err))
	}
	conf := &data.Confidence
	if doc.Confidence == nil || !bytes.Equal(mustJSON(doc.Confidence), mustJSON(conf)) {
		if err := a.Store.UpdateDocument(ctx, step.DocumentID, countersign.DocumentUpdate{Confidence: conf}); err != nil {
			return nil, retryable(err)
		}
	}
	return &ScoreResult{Confidence: conf, Rules: data.Rules}, nil
}
