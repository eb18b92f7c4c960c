package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/countersign/countersign"
)

// ExtractInput asks for a draft of one document.
type ExtractInput struct {
	Step Step `json:"step"`
}

// ErrorModelUnavailable is the error type of a temporary extractor failure
// that Temporal retries.
const ErrorModelUnavailable = "model_unavailable"

// availability is what an extractor that depends on configuration (a model
// endpoint) tells the auto extractor.
type availability interface {
	Available(tt *countersign.TaskType) bool
}

// Extract drafts the document's fields with its task type's extractor and
// stores the draft. When the extractor fails for good, the draft records the
// failure and carries no fields, and the document goes to a person. A
// temporary failure (an overloaded endpoint, say) is returned for Temporal to
// retry, after the endpoint's Retry-After when it sent one, until
// ModelAttempts attempts have failed; then it counts as a failure for good. A
// retry after the draft was stored returns that draft rather than asking the
// extractor again, whose answer may differ. A comparison item submitted
// without candidates gets them from the task type's generators first
// (generate), stored before the judge runs, so a retry judges the same
// candidates.
func (a *Activities) Extract(ctx context.Context, in ExtractInput) (*countersign.Draft, error) {
	doc, tt, err := a.load(ctx, in.Step)
	if err != nil {
		return nil, err
	}
	draft := doc.Draft
	if draft.CandidatesOnly() {
		// An earlier attempt stored the generated candidates; the judge
		// has yet to run.
		if err := a.recordStored(ctx, in.Step, draft.Candidates); err != nil {
			return nil, err
		}
		draft = nil
	}
	if draft == nil && int(activity.GetInfo(ctx).Attempt) > a.modelAttempts() {
		// Earlier attempts ran out of time before the model answered.
		draft = &countersign.Draft{Extractor: a.extractorKind(tt), Error: fmt.Sprintf("gave up after %d attempts without a usable answer", a.modelAttempts())}
		if doc.Draft != nil {
			draft.Candidates = doc.Draft.Candidates
		}
	}
	if draft == nil {
		if draft, err = a.generate(ctx, in.Step, tt, doc); err != nil {
			return nil, err
		}
		if draft == nil {
			if draft, err = a.draft(ctx, tt, doc); err != nil {
				return nil, err
			}
			if gen := doc.Draft; gen != nil {
				draft.Candidates = gen.Candidates
				draft.Notes = append(slices.Clone(gen.Notes), draft.Notes...)
				if gen.Usage != nil {
					// What the draft cost: the candidates and their judging.
					usage := *gen.Usage
					if draft.Usage != nil {
						usage.PromptTokens += draft.Usage.PromptTokens
						usage.CompletionTokens += draft.Usage.CompletionTokens
					}
					draft.Usage = &usage
				}
			}
		}
		if err := a.Store.UpdateDocument(ctx, doc.ID, countersign.DocumentUpdate{Draft: draft}); err != nil {
			return nil, retryable(err)
		}
	}
	eventType := countersign.EventDraftCreated
	if draft.Failed() {
		eventType = countersign.EventDraftFailed
		a.logger().Warn("extraction failed; the document goes to a person", "document", doc.ID, "task_type", tt.Name, "error", draft.Error)
	}
	data := map[string]any{
		"extractor":      draft.Extractor,
		"model":          draft.Model,
		"prompt_version": draft.Prompt,
		"fields":         draft.Fields,
		"evidence":       draft.Evidence,
		"error":          draft.Error,
	}
	if draft.Usage != nil {
		data["usage"] = draft.Usage
	}
	if len(draft.Notes) > 0 {
		data["notes"] = draft.Notes
	}
	if len(draft.Orders) > 0 {
		// A comparison's judge: its ranking in each order of the candidates.
		data["orders"] = draft.Orders
	}
	return draft, a.record(ctx, in.Step, eventType, countersign.SystemActor, countersign.ChannelWorkflow, data)
}

// generate makes the candidates of a comparison item submitted with a
// prompt and none, when the task type has generators, and stores them as
// the document's draft (countersign.Draft.CandidatesOnly) with a
// candidates.generated event, before the judge runs: a later attempt
// judges the stored candidates and never asks the generators again. It
// returns a failed draft (naming the generator) when generation fails for
// good, which sends the item to a person, and nil when there is nothing
// to generate or the candidates are stored, in doc.Draft.
func (a *Activities) generate(ctx context.Context, step Step, tt *countersign.TaskType, doc *countersign.Document) (*countersign.Draft, error) {
	if tt.Comparison == nil || len(tt.Comparison.Generators) == 0 || (doc.Draft != nil && len(doc.Draft.Candidates) > 0) {
		return nil, nil
	}
	item, err := countersign.ReadSubmittedItem([]byte(doc.Content), tt.Comparison)
	if err != nil || len(item.Candidates) > 0 {
		return nil, nil // the judge reads the item as submitted, and says what is wrong with it
	}
	kind := a.extractorKind(tt)
	gen, ok := a.Extractors[kind].(countersign.CandidateGenerator)
	if !ok {
		return &countersign.Draft{Extractor: kind, Error: fmt.Sprintf("the item has no candidates and the %q extractor cannot generate them: comparison.generators need a model endpoint (extractor openai, or auto with a model configured)", kind)}, nil
	}
	callCtx, cancel := withMargin(ctx, callMargin)
	defer cancel()
	stored, err := gen.Generate(callCtx, tt, doc)
	if err != nil {
		return a.failedDraft(ctx, kind, doc, fmt.Errorf("generating the candidates: %w", err))
	}
	if !stored.CandidatesOnly() {
		return nil, permanent(fmt.Errorf("generate %s: the %q extractor's generator returned a draft that is not candidates alone", doc.ID, kind))
	}
	if err := a.Store.UpdateDocument(ctx, doc.ID, countersign.DocumentUpdate{Draft: stored}); err != nil {
		return nil, retryable(err)
	}
	// What the store holds now is what the item is: these, or the
	// candidates of another attempt of this step that ran alongside this
	// one (its heartbeat lost while its worker still reached the model and
	// the store) and wrote after this one did.
	now, err := a.Store.GetDocument(ctx, doc.ID)
	if err != nil {
		return nil, retryable(err)
	}
	if now.Draft == nil || !now.Draft.CandidatesOnly() {
		return nil, retryable(fmt.Errorf("generate %s: the stored candidates changed while they were stored", doc.ID))
	}
	doc.Draft = now.Draft
	return nil, a.recordStored(ctx, step, now.Draft.Candidates)
}

// recordStored records the candidates.generated event of the stored
// candidates. When the step's event names others (another attempt that
// ran alongside recorded its own, and these were written over them after),
// a replacement event names these and the event they replace, so the log
// names the candidates the item has.
func (a *Activities) recordStored(ctx context.Context, step Step, candidates []countersign.Candidate) error {
	err := a.recordCandidates(ctx, step, CandidatesEventID(step), "", candidates)
	if countersign.ErrorCode(err) != countersign.CodeConflict {
		return err
	}
	return a.recordCandidates(ctx, step, CandidatesEventID(step)+"/replaced-"+candidatesDigest(candidates)[:16], CandidatesEventID(step), candidates)
}

// candidatesDigest is the hex SHA-256 of the candidates' IDs and responses.
func candidatesDigest(candidates []countersign.Candidate) string {
	h := sha256.New()
	for _, c := range candidates {
		fmt.Fprintf(h, "%d:%s%d:%s", len(c.ID), c.ID, len(c.Response), c.Response)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CandidatesEventID is the ID of the candidates.generated event of the
// drafting step step: one per step, so a retry finds it recorded.
func CandidatesEventID(step Step) string { return step.EventID + "/candidates" }

// recordCandidates records, as event id, which model made each generated
// candidate, with its parameters and the SHA-256 of its response, ahead of
// the draft; replaces, when set, names the event whose candidates these
// took the place of.
func (a *Activities) recordCandidates(ctx context.Context, step Step, id, replaces string, candidates []countersign.Candidate) error {
	list := make([]any, len(candidates))
	for i, c := range candidates {
		sum := sha256.Sum256([]byte(c.Response))
		list[i] = map[string]any{"id": c.ID, "model": c.Model, "params": c.Params, "response_sha256": hex.EncodeToString(sum[:])}
	}
	at := step
	at.EventID = id
	data := map[string]any{"candidates": list}
	if replaces != "" {
		data["replaces"] = replaces
	}
	return a.record(ctx, at, countersign.EventCandidatesGenerated, countersign.SystemActor, countersign.ChannelWorkflow, data)
}

// draft runs the extractor, turning a permanent failure into a failed draft.
// A model-made draft of a task type with rules is cross-checked against
// them.
func (a *Activities) draft(ctx context.Context, tt *countersign.TaskType, doc *countersign.Document) (*countersign.Draft, error) {
	kind := a.extractorKind(tt)
	extractor, ok := a.Extractors[kind]
	if !ok {
		return &countersign.Draft{Extractor: kind, Error: fmt.Sprintf("no %q extractor is configured on this worker", kind)}, nil
	}
	callCtx, cancel := withMargin(ctx, callMargin)
	defer cancel()
	draft, err := extractor.Extract(callCtx, tt, doc)
	if err != nil {
		return a.failedDraft(ctx, kind, doc, err)
	}
	if kind != countersign.ExtractorRules && len(tt.Rules) > 0 {
		if rules, ok := a.Extractors[countersign.ExtractorRules]; ok {
			check, err := rules.Extract(ctx, tt, doc)
			if err != nil {
				draft.Notes = append(draft.Notes, "the rules cross-check failed: "+err.Error())
			} else {
				draft.CrossCheck = check.Fields
			}
		}
	}
	return draft, nil
}

// callMargin is the time an extraction leaves itself, before the activity's
// deadline, to count a model that did not answer as a failed attempt.
const callMargin = 15 * time.Second

// withMargin bounds ctx to end margin before its deadline, when it has one
// far enough away.
func withMargin(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) > 2*margin {
		return context.WithDeadline(ctx, deadline.Add(-margin))
	}
	return context.WithCancel(ctx)
}

func (a *Activities) modelAttempts() int {
	if a.ModelAttempts > 0 {
		return a.ModelAttempts
	}
	return DefaultModelAttempts
}

// extractorKind resolves the auto extractor: the model when one is
// configured for the task type, the rules otherwise.
func (a *Activities) extractorKind(tt *countersign.TaskType) string {
	if tt.Extractor.Kind != countersign.ExtractorAuto {
		return tt.Extractor.Kind
	}
	if x, ok := a.Extractors[countersign.ExtractorOpenAI].(availability); ok && x.Available(tt) {
		return countersign.ExtractorOpenAI
	}
	return countersign.ExtractorRules
}

// failedDraft decides what an extractor error means: a draft that records a
// failure for good, or an error for Temporal to retry.
func (a *Activities) failedDraft(ctx context.Context, kind string, doc *countersign.Document, err error) (*countersign.Draft, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("extract %s: %w", doc.ID, err)
	}
	var temp interface{ Temporary() bool }
	if !errors.As(err, &temp) || !temp.Temporary() {
		return &countersign.Draft{Extractor: kind, Error: err.Error()}, nil
	}
	attempts := a.modelAttempts()
	attempt := int(activity.GetInfo(ctx).Attempt)
	if attempt >= attempts {
		return &countersign.Draft{Extractor: kind, Error: fmt.Sprintf("gave up after %d attempts: %v", attempt, err)}, nil
	}
	var delay time.Duration
	var hinted interface{ RetryAfter() time.Duration }
	if errors.As(err, &hinted) {
		delay = hinted.RetryAfter()
	}
	a.logger().Warn("extraction failed; Temporal retries it", "document", doc.ID, "attempt", attempt, "of", attempts, "retry_after", delay, "error", err)
	return nil, temporal.NewApplicationErrorWithOptions(fmt.Sprintf("extract %s: %v", doc.ID, err), ErrorModelUnavailable, temporal.ApplicationErrorOptions{
		NextRetryDelay: delay,
		Cause:          err,
	})
}
