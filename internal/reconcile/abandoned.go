package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/dispatch"
	"github.com/countersign/countersign/workflows"
)

// AbandonedEventID is the ID of the audit event that records that a
// document's review workflow was abandoned; FailedEventID that of the
// event that fails the document for it.
func AbandonedEventID(documentID string) string {
	return workflows.ReviewWorkflowID(documentID) + "/abandoned"
}

// FailedEventID: see AbandonedEventID.
func FailedEventID(documentID string) string {
	return AbandonedEventID(documentID) + "/failed"
}

// relist is how long after a review workflow closed early CloseAbandoned
// keeps looking at it. An activity running when the workflow was terminated
// still finishes, and its writes (a review opened, a status) may land up to
// its timeout later (5 minutes for drafting); looking again closes what
// they opened.
const relist = 10 * time.Minute

// CloseAbandoned closes what review workflows terminated or timed out in
// Temporal left open: it asks Temporal's visibility for the review
// workflows that closed so (on the first round, every one it keeps; then
// those closed since the last round that succeeded, less relist) and
// abandons each one's review. One that needs nothing costs two reads.
func (r *Reconciler) CloseAbandoned(ctx context.Context) error {
	started := r.now()
	var errs []error
	for run, err := range r.Dispatch.EndedEarly(ctx, r.since) {
		if err != nil {
			return err
		}
		if err := r.abandon(ctx, run); err != nil {
			errs = append(errs, fmt.Errorf("close abandoned review %s: %w", run.WorkflowID, err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	r.since = started.Add(-max(relist, r.interval()))
	return nil
}

// CloseIfAbandoned abandons the review of one document at once if its
// workflow was terminated or timed out; for a Dispatcher (its Abandoned),
// when a person's decision or veto finds the workflow closed.
func (r *Reconciler) CloseIfAbandoned(ctx context.Context, documentID string) error {
	run, err := r.Dispatch.ReviewRun(ctx, documentID)
	if err != nil {
		return fmt.Errorf("describe the review of %s: %w", documentID, err)
	}
	if run != nil && run.EndedEarly() {
		return r.abandon(ctx, run)
	}
	return nil
}

// abandon closes the pending reviews of the document whose review workflow
// closed as run says, and fails the document if it is not final. An
// outcome already reached stands: a workflow terminated during an audit
// review only loses the audit. Each change is recorded before it is made,
// under an ID derived from the document, so that a crash between the two
// is finished by the next round, and two replicas record it once.
func (r *Reconciler) abandon(ctx context.Context, run *dispatch.Run) error {
	id := run.DocumentID
	if id == "" || !run.EndedEarly() {
		return nil
	}
	doc, err := r.Store.GetDocument(ctx, id)
	if errors.Is(err, countersign.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	reviews, err := r.Store.ReviewsForDocument(ctx, id)
	if err != nil {
		return err
	}
	pending := []string{}
	for _, rv := range reviews {
		if rv.Status == countersign.ReviewPending {
			pending = append(pending, rv.ID)
		}
	}
	if doc.Status.Final() && len(pending) == 0 {
		return nil
	}
	status := run.Status
	reason := r.closeReason(ctx, run)
	err = r.record(ctx, doc, AbandonedEventID(id), countersign.EventReviewAbandoned, map[string]any{
		"workflow_id":     run.WorkflowID,
		"run_id":          run.RunID,
		"workflow_status": status,
		"closed_at":       run.CloseTime,
		"reason":          reason,
		"reviews":         pending,
		"document_status": doc.Status,
	})
	if err != nil {
		return err
	}
	// The document fails before its reviews close: whoever sees a review
	// leave the queue then finds the document failed, never a document
	// still awaiting a review that is gone. A crash between the two leaves
	// a failed document with a pending review, which the next round closes.
	if !doc.Status.Final() {
		// The shape of the Fail activity's event, which the workflow would
		// have recorded had it failed the document itself.
		if err := r.record(ctx, doc, FailedEventID(id), countersign.EventDocumentFailed, map[string]any{"error": reason}); err != nil {
			return err
		}
		failed := countersign.StatusFailed
		if err := r.Store.UpdateDocument(ctx, id, countersign.DocumentUpdate{Status: &failed}); err != nil {
			return err
		}
	}
	if len(pending) > 0 {
		if err := r.Store.CloseReviews(ctx, id, r.now(), countersign.SystemActor); err != nil {
			return err
		}
	}
	r.logger().Warn("review workflow closed without finishing: review abandoned", "document", id, "workflow_status", status, "reviews", len(pending), "document_status", doc.Status)
	return nil
}

// closeReason says how the workflow closed, in words for the trail: who
// terminated it and why, from its close event, when Temporal still has it.
func (r *Reconciler) closeReason(ctx context.Context, run *dispatch.Run) string {
	reason := "its review workflow " + strings.ReplaceAll(run.Status, "_", " ") + " in Temporal, so no step of it will run again"
	if identity, why, ok := r.Dispatch.Termination(ctx, run); ok {
		return fmt.Sprintf("%s (terminated by %q: %q)", reason, identity, why)
	}
	return reason
}
