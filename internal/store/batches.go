package store

import (
	"context"
	"encoding/base64"
	"strings"
	"time"

	"github.com/countersign/countersign"
)

// BatchPageLimit is the largest page of batches; a filter without a limit
// gets DefaultBatchPage.
const (
	BatchPageLimit   = 500
	DefaultBatchPage = 100
)

// BatchPosition is where a page of batches starts: after the batch first
// submitted at At and named Name, in the order most recently begun first.
// The first page starts before the end of time.
type BatchPosition struct {
	At   time.Time
	Name string
}

// BatchPage reads a batch filter: its page size and where it starts. A
// cursor that is not one is a bad request.
func BatchPage(f countersign.BatchFilter) (int, BatchPosition, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultBatchPage
	}
	limit = min(limit, BatchPageLimit)
	if f.Cursor == "" {
		return limit, BatchPosition{At: time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)}, nil
	}
	bad := countersign.Errorf(countersign.CodeBadRequest, "invalid cursor %q: pass the next_cursor of the previous page of batches", f.Cursor)
	raw, err := base64.RawURLEncoding.DecodeString(f.Cursor)
	if err != nil {
		return 0, BatchPosition{}, bad
	}
	at, name, ok := strings.Cut(string(raw), "|")
	if !ok {
		return 0, BatchPosition{}, bad
	}
	t, err := ParseTime(at)
	if err != nil {
		return 0, BatchPosition{}, bad
	}
	return limit, BatchPosition{At: t, Name: name}, nil
}

// BatchCursor is the cursor of the page that follows b.
func BatchCursor(b countersign.Batch) string {
	return base64.RawURLEncoding.EncodeToString([]byte(FormatTime(b.FirstSubmittedAt) + "|" + b.Name))
}

// NextBatchPage is the page of batches read with limit: NextCursor set when
// the page is full.
func NextBatchPage(batches []countersign.Batch, limit int) countersign.BatchPage {
	page := countersign.BatchPage{Batches: batches}
	if page.Batches == nil {
		page.Batches = []countersign.Batch{}
	}
	if len(batches) == limit {
		page.NextCursor = BatchCursor(batches[len(batches)-1])
	}
	return page
}

// BatchCount is one row of a batch's counts: its documents of a status
// whose route has an outcome (empty before routing).
type BatchCount struct {
	Status string
	Route  string
	N      int
}

// Progress puts a batch's progress together from its row, its counts, its
// open reviews and its completions.
func Progress(b countersign.Batch, counts []BatchCount, openReviews int, completions []countersign.BatchCompletion) *countersign.BatchProgress {
	p := &countersign.BatchProgress{Batch: b, ByStatus: map[countersign.Status]int{}, ByRoute: map[countersign.Outcome]int{},
		OpenReviews: openReviews, Completions: completions}
	for _, s := range []countersign.Status{countersign.StatusProcessing, countersign.StatusAwaitingReview,
		countersign.StatusAccepted, countersign.StatusRejected, countersign.StatusFailed} {
		p.ByStatus[s] = 0
	}
	p.Unfinished = 0
	for _, c := range counts {
		status := countersign.Status(c.Status)
		p.ByStatus[status] += c.N
		if !status.Final() {
			p.Unfinished += c.N
		}
		if c.Route != "" {
			p.ByRoute[countersign.Outcome(c.Route)] += c.N
		}
	}
	p.Done = p.Documents > 0 && p.Unfinished == 0
	if p.Completions == nil {
		p.Completions = []countersign.BatchCompletion{}
	}
	return p
}

// OpenBatch is a batch with documents it has not completed with, and how
// many documents it has.
type OpenBatch struct {
	Name      string
	Documents int
}

// CompleteBatches is CompleteBatches of both stores: it lists the open
// batches whose documents are all final (open), and completes each with
// complete, which in one transaction counts the batch's unfinished
// documents again and, when there are none, records the completion if the
// batch still has the documents it had when listed.
func CompleteBatches(ctx context.Context, limit int, open func(context.Context, int) ([]OpenBatch, error),
	complete func(context.Context, OpenBatch) (bool, error), at time.Time) ([]countersign.BatchCompletion, error) {
	batches, err := open(ctx, limit)
	if err != nil {
		return nil, err
	}
	var done []countersign.BatchCompletion
	for _, b := range batches {
		recorded, err := complete(ctx, b)
		if err != nil {
			return done, err
		}
		if recorded {
			done = append(done, countersign.BatchCompletion{Batch: b.Name, Documents: b.Documents, CompletedAt: Time(at)})
		}
	}
	return done, nil
}
