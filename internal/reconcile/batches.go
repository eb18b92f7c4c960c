package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/activities"
	"github.com/countersign/countersign/internal/webhook"
)

// WebhookBatchCompleted is the webhook event sent once each time a batch
// completes: every one of its documents is accepted, rejected or failed.
const WebhookBatchCompleted = "batch.completed"

// batchLease is how long a worker holds the delivery of a batch's webhook:
// longer than the webhook client's timeout, so that two workers never post
// it at once; a worker that dies holding one leaves it to the next round
// after the lease.
const batchLease = 2 * time.Minute

// BatchCompletedEventID is the webhook event ID of a batch's completion with
// so many documents: the same on every attempt, by whichever worker, so a
// receiver can tell a repeat (X-Countersign-Delivery).
func BatchCompletedEventID(batch string, documents int) string {
	return "batch/" + batch + "/" + strconv.Itoa(documents)
}

// CompleteBatches records the completion of every batch whose last
// document reached a final state, then sends the batch.completed webhook of
// each completion not yet delivered.
//
// The reconciler, not the review workflow, does this, because a batch is
// done by the state of all its documents, however each ended: finalized by
// its workflow, failed, or failed by the reconciler when its workflow was
// terminated; the store's statuses are the one place that sees them all.
// A step after Finalize would miss the documents that fail, would race with
// the batch's other documents finalizing at the same moment, and would
// change the workflow's shape (a workflow.GetVersion and new recorded
// histories) for what is not a step of one document's review. The cost is
// latency: the webhook leaves within one reconcile interval of the last
// document.
//
// Once-only: the store records each completion once per number of
// documents (CompleteBatches), whichever worker sees it first, and a
// worker takes its delivery under a lease (TakeBatchDeliveries) and records
// how it ended, so neither a second worker nor a restart sends it again. A
// temporary failure is tried again in a later round, up to
// DeliveryAttempts; then, or on a permanent failure, the error is recorded.
// Only a worker that dies between the receiver's answer and recording it
// leaves the completion to be sent again after the lease, under the same
// event ID.
func (r *Reconciler) CompleteBatches(ctx context.Context) error {
	done, err := r.Store.CompleteBatches(ctx, r.now(), batch)
	for _, c := range done {
		r.logger().Info("batch completed", "batch", c.Batch, "documents", c.Documents)
	}
	if err != nil {
		return err
	}
	// One delivery a lease: a lease covers one send (its timeout is well
	// under batchLease), so a slow receiver cannot outlast the leases of
	// deliveries still waiting their turn, which another worker would
	// then take and send again.
	var errs []error
	for range batch {
		taken, err := r.Store.TakeBatchDeliveries(ctx, r.now(), batchLease, 1)
		if err != nil || len(taken) == 0 {
			return errors.Join(append(errs, err)...)
		}
		if err := r.deliverBatch(ctx, taken[0]); err != nil {
			errs = append(errs, fmt.Errorf("deliver the completion of batch %s: %w", taken[0].Batch, err))
		}
	}
	return errors.Join(errs...)
}

// deliverBatch sends a completion's webhook, if one is configured, and
// records how it ended; a temporary failure is left for a later round.
func (r *Reconciler) deliverBatch(ctx context.Context, c countersign.BatchCompletion) error {
	if r.Webhook == nil {
		now := r.now()
		return r.Store.FinishBatchDelivery(ctx, c.Batch, c.Documents, countersign.BatchDelivery{DeliveredAt: &now})
	}
	p, err := r.Store.BatchProgress(ctx, c.Batch)
	if err != nil {
		return err
	}
	status, err := r.Webhook.Send(ctx, webhook.Event{
		ID: BatchCompletedEventID(c.Batch, c.Documents), Type: WebhookBatchCompleted, At: c.CompletedAt,
		Data: map[string]any{
			"batch":              c.Batch,
			"documents":          c.Documents,
			"completed_at":       c.CompletedAt,
			"first_submitted_at": p.FirstSubmittedAt,
			"last_submitted_at":  p.LastSubmittedAt,
			"by_status":          p.ByStatus,
			"by_route":           p.ByRoute,
		},
	})
	if err == nil {
		now := r.now()
		return r.Store.FinishBatchDelivery(ctx, c.Batch, c.Documents, countersign.BatchDelivery{DeliveredAt: &now, Status: status})
	}
	var werr *webhook.Error
	if errors.As(err, &werr) && werr.Temporary && c.Attempts < r.deliveryAttempts() {
		r.logger().Warn("batch webhook failed; trying again in a later round", "batch", c.Batch, "attempt", c.Attempts, "error", err)
		return nil
	}
	r.logger().Warn("batch webhook failed", "batch", c.Batch, "attempts", c.Attempts, "error", err)
	return r.Store.FinishBatchDelivery(ctx, c.Batch, c.Documents, countersign.BatchDelivery{Status: status, Error: err.Error()})
}

func (r *Reconciler) deliveryAttempts() int {
	if r.DeliveryAttempts > 0 {
		return r.DeliveryAttempts
	}
	return activities.DefaultDeliveryAttempts
}
