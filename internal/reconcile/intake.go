package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/workflows"
)

// RecoveredEventID is the ID of the audit event that records the recovery
// of a document's intake: one per document, whoever recovers it.
func RecoveredEventID(documentID string) string {
	return workflows.ReviewWorkflowID(documentID) + "/recovered"
}

// RecoverIntake starts the review workflow of every document that intake
// stored but did not start one for (the process stopped in between, or
// Temporal did not answer and the caller did not submit again), once it has
// waited an interval for it. The store names the candidates from an index
// of the documents in processing that have no audit event; each one's
// workflow is described, and only one that does not exist is started, after
// recording why. A workflow that exists runs (a backlog: the worker has not
// received the document yet) or ended, which CloseAbandoned sees to.
func (r *Reconciler) RecoverIntake(ctx context.Context) error {
	ids, err := r.Store.UnstartedDocuments(ctx, r.now().Add(-r.interval()), batch)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if err := r.recoverIntake(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("recover intake of %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Reconciler) recoverIntake(ctx context.Context, id string) error {
	doc, err := r.Store.GetDocument(ctx, id)
	if err != nil {
		return err
	}
	// Gold items are countersign's own documents: the review that slipped
	// one in starts its workflow, and retries until it does.
	if doc.SubmittedBy == countersign.SystemActor {
		return nil
	}
	run, err := r.Dispatch.ReviewRun(ctx, id)
	switch {
	case err != nil:
		return fmt.Errorf("describe its review: %w", err)
	case run != nil:
		if run.EndedEarly() {
			return r.abandon(ctx, run)
		}
		return nil
	}
	// Recorded before the start, so that no workflow ever runs for a
	// recovered document without the trail saying why: if the start fails,
	// the next round finds the document again (its trail holds only this
	// event) and starts it then.
	err = r.record(ctx, doc, RecoveredEventID(id), countersign.EventDocumentRecovered, map[string]any{
		"reason":      "intake stored the document but did not start its review workflow (the process stopped in between, or Temporal did not answer)",
		"workflow_id": workflows.ReviewWorkflowID(id),
		"stored_at":   doc.CreatedAt,
		"channel":     doc.Channel,
	})
	if err != nil {
		return err
	}
	if err := r.Dispatch.Resume(ctx, doc); err != nil {
		return err
	}
	r.logger().Warn("document stored without its review workflow: started it", "document", id, "stored_at", doc.CreatedAt)
	return nil
}
