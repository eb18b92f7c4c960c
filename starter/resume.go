package starter

import (
	"context"

	"github.com/countersign/countersign"
)

// Resume starts the review workflow of a stored document whose intake
// stopped before starting it, with the input Submit would have given it: the
// task type version the document was stored with, the policy version and
// the supervisor's override in force now, and the channel it was submitted
// through. Starting is
// idempotent by workflow ID, as in Submit: a review that runs is joined, and
// one that ended is not started again. It is for the reconciler, which first
// makes sure the workflow does not exist and records why it starts it.
func (s *Starter) Resume(ctx context.Context, doc *countersign.Document) error {
	return s.start(ctx, doc, Submission{Channel: doc.Channel})
}

// received reports whether a document's trail shows its review workflow
// ran: any event but the reconciler's record that it started a workflow
// intake never started, which comes before the workflow's first step.
func received(events []countersign.AuditEvent) bool {
	for _, e := range events {
		if e.Type != countersign.EventDocumentRecovered {
			return true
		}
	}
	return false
}
