package countersign

import (
	"context"
	"time"
)

// Audit event types of the reconciler, which repairs what no workflow can:
// a review workflow that never started, and one that ended without
// finishing its document.
const (
	// EventDocumentRecovered: the document was stored but its review
	// workflow was never started (intake stopped in between), so the
	// reconciler started it. It comes before the workflow's own events.
	EventDocumentRecovered = "document.recovered"
	// EventReviewAbandoned: the review workflow was terminated or timed out
	// in Temporal, so no step of it will run again; its open reviews were
	// closed, and a document that was not final failed.
	EventReviewAbandoned = "review.abandoned"
)

// IntakeStore finds the documents whose intake stopped short of their
// review workflow.
type IntakeStore interface {
	// UnstartedDocuments returns the IDs of at most limit documents, oldest
	// first, that are still processing, were stored before storedBefore,
	// and have no audit event but EventDocumentRecovered: no review
	// workflow has recorded receiving them. It reads an index of the
	// documents in processing, so its cost follows the documents in flight,
	// not all documents.
	UnstartedDocuments(ctx context.Context, storedBefore time.Time, limit int) ([]string, error)
}
