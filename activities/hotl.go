package activities

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/webhook"
)

// DrawInput is an auto-accepted document that may be sampled for audit.
type DrawInput struct {
	DocumentID string  `json:"document_id"`
	TaskType   string  `json:"task_type"`
	Confidence float64 `json:"confidence"`
	Rate       float64 `json:"rate"`
}

// DrawResult says whether the document is audited, and where it fell.
type DrawResult struct {
	Sampled bool   `json:"sampled"`
	Stratum string `json:"stratum"`
	N       int64  `json:"n"`
}

// BandWidth is the width of the confidence bands that stratify the audit
// sample: each band of each task type gets its share of audits.
const BandWidth = 0.05

// DrawAudit samples auto-accepted documents for audit, systematically within
// strata of task type and confidence band, each from its own start: the n-th
// document of a stratum is audited when floor(n·rate + Offset(stratum))
// steps up. Every band gets its share, carried from one document to the
// next rather than rounded down: of its first n documents exactly
// floor(n·rate + offset) are audited, which is rate·n on average over bands,
// so a band of one is audited with probability rate. The store numbers each
// document once and the offset is a hash, so a retry or a replay draws the
// same; the order is that of arrival, so the share cannot be dodged by
// choosing IDs.
func (a *Activities) DrawAudit(ctx context.Context, in DrawInput) (*DrawResult, error) {
	stratum := Stratum(in.TaskType, in.Confidence)
	n, err := a.Store.DrawAudit(ctx, stratum, in.DocumentID)
	if err != nil {
		return nil, retryable(err)
	}
	return &DrawResult{Sampled: SystematicFrom(n, in.Rate, Offset(stratum)), Stratum: stratum, N: n}, nil
}

// Stratum names a task type's confidence band, such as "claims/0.90-0.95".
func Stratum(taskType string, confidence float64) string {
	bands := int(math.Round(1 / BandWidth))
	i := min(max(int(math.Floor(confidence*float64(bands)+1e-9)), 0), bands-1)
	return fmt.Sprintf("%s/%.2f-%.2f", taskType, float64(i)*BandWidth, float64(i+1)*BandWidth)
}

// Systematic reports whether the n-th unit (from 1) of a stratum falls in a
// systematic sample at rate starting at 0: one in every 1/rate, exactly
// rate·n of the first n, rounded down. The gold draw uses it: one gold item
// after every 1/rate reviews.
func Systematic(n int64, rate float64) bool {
	return SystematicFrom(n, rate, 0)
}

// SystematicFrom reports whether the n-th unit (from 1) of a stratum falls
// in a systematic sample at rate that starts at offset in [0,1): whether
// floor(n·rate + offset) steps up at n. Of the first n units it takes
// floor(n·rate + offset); for an offset drawn uniformly from [0,1) that is
// rate·n on average, exactly, for every n.
func SystematicFrom(n int64, rate, offset float64) bool {
	if rate <= 0 || n < 1 {
		return false
	}
	if rate >= 1 {
		return true
	}
	// The slack lets a product that is an integer in decimal (10·0.1) reach
	// it despite rounding.
	return math.Floor(float64(n)*rate+offset+1e-9) > math.Floor(float64(n-1)*rate+offset+1e-9)
}

// Offset is where a stratum's systematic sample starts, in [0,1): the first
// 53 bits of the SHA-256 of its name. Strata start at points spread as if
// uniformly over [0,1), and a stratum always at the same one.
func Offset(stratum string) float64 {
	return countersign.Draw([]byte(stratum))
}

// Amendments of an accepted document.
const (
	AmendVeto  = "veto"
	AmendAudit = "audit"
)

// AmendInput is a person's verdict on an auto-accepted document after it
// counted: a supervisor's veto within the veto window, or an audit.
type AmendInput struct {
	Step     Step                  `json:"step"`
	Kind     string                `json:"kind"`
	Draft    *countersign.Draft    `json:"draft"`
	Decision *countersign.Decision `json:"decision"`
	// Base is the final fields the verdict judges, as finalized: a retry
	// after the store took the amendment must not judge the amended ones.
	Base countersign.Fields `json:"base"`
}

// Amend applies a veto or an audit verdict to a document's final record and
// records it. A veto may reject or correct; an audit confirms (approve) or
// corrects, and a correction marks the document corrected_after_audit. The
// document stays accepted unless a veto rejects it. Applying the same
// verdict again gives the same record, so a retry is harmless.
func (a *Activities) Amend(ctx context.Context, in AmendInput) (*FinalizeResult, error) {
	doc, err := a.Store.GetDocument(ctx, in.Step.DocumentID)
	if err != nil {
		return nil, retryable(err)
	}
	if doc.Final == nil {
		return nil, permanent(countersign.Errorf(countersign.CodeConflict, "document %s has no final record to amend", doc.ID))
	}
	status, final, event := amended(doc, in)
	changed := changedFields(in.Base, final.Fields)
	if final.Lineage != nil {
		final.Lineage.Reviewers = appendNew(final.Lineage.Reviewers, in.Decision.Actor)
		ids, err := a.eventIDs(ctx, in.Step)
		if err != nil {
			return nil, err
		}
		final.Lineage.AuditEvents = ids
	}
	if err := a.Store.UpdateDocument(ctx, doc.ID, countersign.DocumentUpdate{Status: &status, Final: final}); err != nil {
		return nil, retryable(err)
	}
	d := in.Decision
	a.logger().Info("accepted document amended", "document", doc.ID, "kind", in.Kind, "action", d.Action, "by", d.Actor)
	data := map[string]any{
		"decision_id": d.ID,
		"action":      d.Action,
		"reason":      d.Reason,
		"status":      status,
		"fields":      final.Fields,
		"diff":        final.Diff,
	}
	if in.Kind == AmendVeto {
		// A veto decides anew: the final record's decided_at is the veto's.
		data["decided_at"] = final.DecidedAt
	}
	err = a.record(ctx, in.Step, event, d.Actor, d.Channel, data)
	if err == nil && d.Action != countersign.ActionReject {
		a.Metrics.Reviewed(ctx, doc.TaskType, countersign.ReviewKind(in.Kind), countersign.Diff(in.Base, final.Fields))
	}
	return &FinalizeResult{Status: status, Final: final, Changed: changed}, err
}

// amended is the document's status, final record and audit event type
// after the verdict in.
func amended(doc *countersign.Document, in AmendInput) (countersign.Status, *countersign.Final, string) {
	d := in.Decision
	final := *doc.Final
	var draftFields countersign.Fields
	if !in.Draft.Failed() {
		draftFields = in.Draft.Fields
	}
	status := countersign.StatusAccepted
	event := countersign.EventAuditConfirmed
	if in.Kind == AmendVeto {
		final.Vetoed, event = true, countersign.EventDocumentVetoed
		final.Action, final.Reason, final.DecidedBy, final.DecidedAt = d.Action, d.Reason, d.Actor, d.At
	} else {
		final.AuditedBy = d.Actor
	}
	switch d.Action {
	case countersign.ActionReject:
		status, final.Fields, final.Diff = countersign.StatusRejected, nil, nil
	case countersign.ActionCorrect:
		final.Fields = countersign.Correct(in.Base, d.Fields)
		final.Diff = countersign.Diff(draftFields, final.Fields)
		if in.Kind == AmendAudit && len(changedFields(in.Base, final.Fields)) > 0 {
			final.CorrectedAfterAudit, event = true, countersign.EventCorrectedAfterAudit
		}
	}
	return status, &final, event
}

func appendNew(list []string, s string) []string {
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

// eventIDs lists the IDs of a document's audit events, with the step's own
// event last, which is appended after the list is read.
func (a *Activities) eventIDs(ctx context.Context, step Step) ([]string, error) {
	events, err := a.Store.DocumentAudit(ctx, step.DocumentID)
	if err != nil {
		return nil, retryable(err)
	}
	return idsWith(events, step), nil
}

// idsWith are the IDs of events, the step's own last.
func idsWith(events []countersign.AuditEvent, step Step) []string {
	ids := make([]string, 0, len(events)+1)
	for _, e := range events {
		if e.ID != step.EventID {
			ids = append(ids, e.ID)
		}
	}
	return append(ids, step.EventID)
}

// DeliverInput releases a document's outcome downstream.
type DeliverInput struct {
	Step Step `json:"step"`
	// Event is the webhook event type: document.finalized, or
	// document.corrected_after_audit when an audit changed a delivered
	// outcome.
	Event string    `json:"event"`
	At    time.Time `json:"at"`
}

// Webhook events.
const (
	WebhookFinalized           = "document.finalized"
	WebhookCorrectedAfterAudit = "document.corrected_after_audit"
	WebhookPolicyTightened     = "policy.tightened"
	WebhookPolicyReset         = "policy.reset"
)

// DefaultDeliveryAttempts bounds the attempts to reach a webhook that fails
// for a temporary reason; with the workflow's backoff, about a quarter of an
// hour.
const DefaultDeliveryAttempts = 12

// Deliver marks the document's outcome as released and, when a webhook is
// configured, posts it to the submitting system. A receiver that stays down
// is tried DeliveryAttempts times; then the failure is recorded and the
// document goes on: a webhook never holds a review hostage.
//
// It may run twice at once, with another In.At: the workflow first tries
// it as a bounded local activity (review.deliver), which runs again after
// a lost workflow task while the first run may still be going, and falls
// back to the activity when the attempt fails or times out. So the
// delivery time is stored only if none is (MarkDelivered) and the event
// records the stored one, and a run that finds the step's event recorded
// by another run of the step, with whatever answer the receiver gave it,
// succeeds. The receiver may see the event twice, under one ID.
func (a *Activities) Deliver(ctx context.Context, in DeliverInput) error {
	// A retry after the delivery was recorded must not post again: the
	// receiver's second answer could differ from the recorded one.
	if done, err := a.recorded(ctx, in.Step); err != nil || done {
		return err
	}
	doc, err := a.Store.MarkDelivered(ctx, in.Step.DocumentID, in.At)
	if err != nil {
		return retryable(err)
	}
	if doc.Final == nil || doc.Final.DeliveredAt == nil {
		return permanent(countersign.Errorf(countersign.CodeConflict, "document %s has no outcome to deliver", doc.ID))
	}
	data := map[string]any{"event": in.Event, "webhook": a.Webhook != nil, "delivered_at": *doc.Final.DeliveredAt}
	if a.Webhook != nil {
		event := map[string]any{
			"document_id": doc.ID,
			"external_id": doc.ExternalID,
			"task_type":   doc.TaskType,
			"status":      doc.Status,
			"final":       doc.Final,
			"disposition": doc.Final.Disposition(),
		}
		if doc.Batch != "" {
			event["batch"] = doc.Batch
		}
		status, err := a.Webhook.Send(ctx, webhook.Event{ID: in.Step.EventID, Type: in.Event, At: in.At, Data: event})
		data["status"] = status
		if err != nil {
			var werr *webhook.Error
			if errors.As(err, &werr) && werr.Temporary && a.tryAgain(ctx) {
				return err
			}
			a.logger().Warn("webhook delivery failed", "document", doc.ID, "event", in.Event, "error", err)
			data["error"] = err.Error()
		}
	}
	err = a.record(ctx, in.Step, countersign.EventDocumentDelivered, countersign.SystemActor, countersign.ChannelWorkflow, data)
	if errors.Is(err, countersign.ErrConflict) {
		return a.delivered(ctx, in.Step, data)
	}
	return err
}

// tryAgain reports whether a delivery that failed for a temporary reason
// is to be tried again rather than recorded as failed: always after the
// workflow's local attempt, whose failure the activity takes over, and
// until the activity's DeliveryAttempts are spent.
func (a *Activities) tryAgain(ctx context.Context) bool {
	info := activity.GetInfo(ctx)
	return info.IsLocalActivity || int(info.Attempt) < a.deliveryAttempts()
}

// delivered answers a Deliver whose event another run of the step recorded
// first (its workflow task taken for lost while this one ran, or the local
// attempt that timed out still running as the activity ran): that event
// stands when it records the same delivery, whatever the receiver answered
// each run; otherwise the conflict does.
func (a *Activities) delivered(ctx context.Context, step Step, data map[string]any) error {
	events, err := a.Store.DocumentAudit(ctx, step.DocumentID)
	if err != nil {
		return retryable(err)
	}
	e, ok := stepEvent(events, step)
	if !ok {
		return retryable(fmt.Errorf("audit event %s conflicted but is not there", step.EventID))
	}
	raw, err := audit.Canonical(data)
	if err != nil {
		return permanent(err)
	}
	answer := []string{"status", "error"}
	if e.Type != countersign.EventDocumentDelivered || !bytes.Equal(withoutKey(e.Data, answer...), withoutKey(raw, answer...)) {
		return permanent(countersign.Errorf(countersign.CodeConflict,
			"audit event %s is already recorded as %s with other data", e.ID, e.Type))
	}
	return nil
}

// recorded reports whether the step's delivery is already recorded. An
// event of another type under its ID is another step's, given the same ID:
// a conflict, not a delivery.
func (a *Activities) recorded(ctx context.Context, step Step) (bool, error) {
	events, err := a.Store.DocumentAudit(ctx, step.DocumentID)
	if err != nil {
		return false, retryable(err)
	}
	e, ok := stepEvent(events, step)
	if ok && e.Type != countersign.EventDocumentDelivered {
		return false, permanent(countersign.Errorf(countersign.CodeConflict,
			"audit event %s is already recorded as %s, not %s", e.ID, e.Type, countersign.EventDocumentDelivered))
	}
	return ok, nil
}

func (a *Activities) deliveryAttempts() int {
	if a.DeliveryAttempts > 0 {
		return a.DeliveryAttempts
	}
	return DefaultDeliveryAttempts
}

// changedFields lists, in name order, the fields whose value differs
// between before and after.
func changedFields(before, after countersign.Fields) []string {
	var names []string
	for _, c := range countersign.Diff(before, after) {
		if c.Change != countersign.ChangeUnchanged {
			names = append(names, c.Field)
		}
	}
	return names
}
