package countersign

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// A batch groups the documents a submitter names together: a data room, a
// day's alerts. It has progress (BatchProgress), its own export (an export
// filtered by batch) and, when its last document reaches a final state, a
// batch.completed webhook.

// MaxBatchNameLength bounds a batch name.
const MaxBatchNameLength = 128

var batchName = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// CheckBatchName refuses a batch name that is not 1 to 128 letters, digits,
// dots, underscores, colons or hyphens: names go into URLs, file names and
// webhooks as they are.
func CheckBatchName(name string) error {
	if !batchName.MatchString(name) {
		if len(name) > MaxBatchNameLength {
			return Errorf(CodeInvalid, "batch name is %d characters long; the limit is %d", len(name), MaxBatchNameLength)
		}
		return Errorf(CodeInvalid, "batch name %q is not one: use 1 to %d letters, digits, '.', '_', ':' or '-'", name, MaxBatchNameLength)
	}
	if strings.Trim(name, ".") == "" {
		// A path segment of dots names no batch in a URL.
		return Errorf(CodeInvalid, "batch name %q is not one: it needs a character other than '.'", name)
	}
	return nil
}

// Batch is one batch as a list of batches shows it.
type Batch struct {
	Name      string `json:"name"`
	Documents int    `json:"documents"`
	// Unfinished is the documents not final yet (processing or awaiting
	// review).
	Unfinished       int       `json:"unfinished"`
	FirstSubmittedAt time.Time `json:"first_submitted_at"`
	LastSubmittedAt  time.Time `json:"last_submitted_at"`
	// Done is set when every document of the batch is final.
	Done bool `json:"done"`
}

// BatchProgress is where a batch stands: its documents by status and by the
// outcome of their route, the reviews still open, and the times it
// completed.
type BatchProgress struct {
	Batch
	// ByStatus counts the documents per status; every status is present.
	ByStatus map[Status]int `json:"by_status"`
	// ByRoute counts the routed documents per route outcome.
	ByRoute map[Outcome]int `json:"by_route"`
	// OpenReviews is the pending reviews (review gates and audits) of its
	// documents.
	OpenReviews int `json:"open_reviews"`
	// Completions are the times the batch completed, the first first: a
	// batch that received more documents after it completed completes
	// again once they are final.
	Completions []BatchCompletion `json:"completions"`
}

// BatchCompletion is one time a batch completed: every one of its
// Documents was final at CompletedAt. It is also the durable record of the
// batch.completed webhook, sent once per completion.
type BatchCompletion struct {
	Batch       string    `json:"batch"`
	Documents   int       `json:"documents"`
	CompletedAt time.Time `json:"completed_at"`
	// Attempts counts the deliveries of its webhook begun.
	Attempts int `json:"attempts"`
	// DeliveredAt is when the webhook was delivered (or, with no webhook
	// configured, when the completion was settled); nil until then and
	// when delivery was given up on.
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	// Status is the receiver's last HTTP status, 0 if none answered.
	Status int `json:"status,omitempty"`
	// Error says why delivery was given up on.
	Error string `json:"error,omitempty"`
}

// BatchFilter selects a page of batches.
type BatchFilter struct {
	Limit int
	// Cursor is the NextCursor of the previous page, empty for the first.
	Cursor string
}

// BatchPage is one page of batches, the most recently begun first;
// NextCursor is empty on the last page.
type BatchPage struct {
	Batches    []Batch
	NextCursor string
}

// BatchDelivery is how a delivery of a batch.completed webhook ended:
// delivered at DeliveredAt, or given up on with Error.
type BatchDelivery struct {
	DeliveredAt *time.Time
	Status      int
	Error       string
}

// BatchStore keeps batches: which documents are in one (Document.Batch,
// counted as CreateDocument stores them), and the times each completed.
type BatchStore interface {
	// BatchProgress returns where a batch stands; ErrNotFound if no
	// document names it.
	BatchProgress(ctx context.Context, name string) (*BatchProgress, error)
	// ListBatches returns a page of batches, the most recently begun first.
	ListBatches(ctx context.Context, f BatchFilter) (BatchPage, error)
	// CompleteBatches records a completion, at at, of up to limit batches
	// whose every document is final and that have documents they have not
	// completed with, and returns those it recorded. A batch is completed
	// once per number of documents, whoever calls: of two callers at once,
	// one records it; and a document stored meanwhile keeps it open.
	CompleteBatches(ctx context.Context, at time.Time, limit int) ([]BatchCompletion, error)
	// TakeBatchDeliveries takes up to limit completions whose webhook is
	// neither delivered nor given up on and that no one holds at now,
	// holding each until now+lease and counting the attempt; of two
	// callers at once, one takes each.
	TakeBatchDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]BatchCompletion, error)
	// FinishBatchDelivery records how the delivery of a completion's
	// webhook ended.
	FinishBatchDelivery(ctx context.Context, batch string, documents int, d BatchDelivery) error
}
