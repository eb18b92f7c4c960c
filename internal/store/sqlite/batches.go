package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// BatchProgress returns where a batch stands.
func (s *Store) BatchProgress(ctx context.Context, name string) (*countersign.BatchProgress, error) {
	row, err := s.read.GetBatch(ctx, name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "batch %s not found: no document was submitted in it", name)
	}
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", name, err)
	}
	var t times
	b := countersign.Batch{Name: row.Name, Documents: int(row.Documents),
		FirstSubmittedAt: t.at(row.FirstSubmittedAt), LastSubmittedAt: t.at(row.LastSubmittedAt)}
	rows, err := s.read.BatchCounts(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", name, err)
	}
	counts := make([]store.BatchCount, len(rows))
	for i, r := range rows {
		counts[i] = store.BatchCount{Status: r.Status, Route: r.Route, N: int(r.Documents)}
	}
	open, err := s.read.BatchOpenReviews(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", name, err)
	}
	crows, err := s.read.BatchCompletions(ctx, name)
	completions, err := store.Map(crows, err, completion)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", name, err)
	}
	if t.err != nil {
		return nil, fmt.Errorf("batch %s: %w", name, t.err)
	}
	return store.Progress(b, counts, int(open), completions), nil
}

// ListBatches returns a page of batches, the most recently begun first.
func (s *Store) ListBatches(ctx context.Context, f countersign.BatchFilter) (countersign.BatchPage, error) {
	limit, after, err := store.BatchPage(f)
	if err != nil {
		return countersign.BatchPage{}, err
	}
	rows, err := s.read.ListBatches(ctx, dbsqlc.ListBatchesParams{
		BeforeAt: store.FormatTime(after.At), BeforeName: after.Name, PageSize: int64(limit),
	})
	batches, err := store.Map(rows, err, func(r dbsqlc.ListBatchesRow) (countersign.Batch, error) {
		var t times
		b := countersign.Batch{Name: r.Name, Documents: int(r.Documents), Unfinished: int(r.Unfinished),
			FirstSubmittedAt: t.at(r.FirstSubmittedAt), LastSubmittedAt: t.at(r.LastSubmittedAt)}
		b.Done = b.Documents > 0 && b.Unfinished == 0
		return b, t.err
	})
	if err != nil {
		return countersign.BatchPage{}, fmt.Errorf("list batches: %w", err)
	}
	return store.NextBatchPage(batches, limit), nil
}

// CompleteBatches records the completion of the open batches whose
// documents are all final. Each is counted and marked in one immediate
// transaction on the write connection, so no document is stored between.
func (s *Store) CompleteBatches(ctx context.Context, at time.Time, limit int) ([]countersign.BatchCompletion, error) {
	done, err := store.CompleteBatches(ctx, limit, func(ctx context.Context, limit int) ([]store.OpenBatch, error) {
		rows, err := s.read.CompletableBatches(ctx, int64(limit))
		return store.Map(rows, err, func(r dbsqlc.CompletableBatchesRow) (store.OpenBatch, error) {
			return store.OpenBatch{Name: r.Name, Documents: int(r.Documents)}, nil
		})
	}, func(ctx context.Context, b store.OpenBatch) (bool, error) {
		var recorded bool
		err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
			unfinished, err := q.UnfinishedInBatch(ctx, b.Name)
			if err != nil || unfinished > 0 {
				return err
			}
			n, err := q.MarkBatchCompleted(ctx, dbsqlc.MarkBatchCompletedParams{Name: b.Name, Documents: int64(b.Documents)})
			if err != nil || n == 0 {
				return err
			}
			recorded = true
			return q.InsertBatchCompletion(ctx, dbsqlc.InsertBatchCompletionParams{
				Batch: b.Name, Documents: int64(b.Documents), CompletedAt: store.FormatTime(at),
			})
		})
		return recorded, err
	}, at)
	if err != nil {
		return done, fmt.Errorf("complete batches: %w", err)
	}
	return done, nil
}

// TakeBatchDeliveries takes the completions whose webhook is due.
func (s *Store) TakeBatchDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]countersign.BatchCompletion, error) {
	at, until := store.FormatTime(now), store.FormatTime(now.Add(lease))
	rows, err := s.read.UndeliveredBatchCompletions(ctx, dbsqlc.UndeliveredBatchCompletionsParams{Now: &at, PageSize: int64(limit)})
	if err != nil {
		return nil, fmt.Errorf("batch deliveries: %w", err)
	}
	var taken []countersign.BatchCompletion
	for _, r := range rows {
		row, err := s.write.TakeBatchDelivery(ctx, dbsqlc.TakeBatchDeliveryParams{
			Batch: r.Batch, Documents: r.Documents, Now: &at, LeaseUntil: &until,
		})
		if errors.Is(err, sql.ErrNoRows) {
			continue // another worker took it
		}
		if err != nil {
			return taken, fmt.Errorf("take the delivery of batch %s: %w", r.Batch, err)
		}
		c, err := completion(row)
		if err != nil {
			return taken, err
		}
		taken = append(taken, c)
	}
	return taken, nil
}

// FinishBatchDelivery records how a completion's delivery ended.
func (s *Store) FinishBatchDelivery(ctx context.Context, batch string, documents int, d countersign.BatchDelivery) error {
	var at *string
	if d.DeliveredAt != nil {
		t := store.FormatTime(*d.DeliveredAt)
		at = &t
	}
	err := s.write.FinishBatchDelivery(ctx, dbsqlc.FinishBatchDeliveryParams{
		DeliveredAt: at, Status: int64(d.Status), Error: d.Error, Batch: batch, Documents: int64(documents),
	})
	if err != nil {
		return fmt.Errorf("finish the delivery of batch %s: %w", batch, err)
	}
	return nil
}

// completion reads a batch completion's row.
func completion(r dbsqlc.BatchCompletion) (countersign.BatchCompletion, error) {
	var t times
	c := countersign.BatchCompletion{Batch: r.Batch, Documents: int(r.Documents), CompletedAt: t.at(r.CompletedAt),
		Attempts: int(r.Attempts), Status: int(r.Status), Error: r.Error}
	if r.DeliveredAt != nil {
		at := t.at(*r.DeliveredAt)
		c.DeliveredAt = &at
	}
	if t.err != nil {
		return c, fmt.Errorf("batch %s completion: %w", r.Batch, t.err)
	}
	return c, nil
}
