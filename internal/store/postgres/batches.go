package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/postgres/dbsqlc"
)

// BatchProgress returns where a batch stands.
func (s *Store) BatchProgress(ctx context.Context, name string) (*countersign.BatchProgress, error) {
	row, err := s.q.GetBatch(ctx, name)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, countersign.Errorf(countersign.CodeNotFound, "batch %s not found: no document was submitted in it", name)
	}
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", name, err)
	}
	b := countersign.Batch{Name: row.Name, Documents: int(row.Documents),
		FirstSubmittedAt: row.FirstSubmittedAt.UTC(), LastSubmittedAt: row.LastSubmittedAt.UTC()}
	rows, err := s.q.BatchCounts(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", name, err)
	}
	counts := make([]store.BatchCount, len(rows))
	for i, r := range rows {
		counts[i] = store.BatchCount{Status: r.Status, Route: r.Route, N: int(r.Documents)}
	}
	open, err := s.q.BatchOpenReviews(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", name, err)
	}
	crows, err := s.q.BatchCompletions(ctx, name)
	completions, err := store.Map(crows, err, completion)
	if err != nil {
		return nil, fmt.Errorf("batch %s: %w", name, err)
	}
	return store.Progress(b, counts, int(open), completions), nil
}

// ListBatches returns a page of batches, the most recently begun first.
func (s *Store) ListBatches(ctx context.Context, f countersign.BatchFilter) (countersign.BatchPage, error) {
	limit, after, err := store.BatchPage(f)
	if err != nil {
		return countersign.BatchPage{}, err
	}
	rows, err := s.q.ListBatches(ctx, dbsqlc.ListBatchesParams{
		BeforeAt: store.Time(after.At), BeforeName: after.Name, PageSize: int32(limit),
	})
	batches, err := store.Map(rows, err, func(r dbsqlc.ListBatchesRow) (countersign.Batch, error) {
		b := countersign.Batch{Name: r.Name, Documents: int(r.Documents), Unfinished: int(r.Unfinished),
			FirstSubmittedAt: r.FirstSubmittedAt.UTC(), LastSubmittedAt: r.LastSubmittedAt.UTC()}
		b.Done = b.Documents > 0 && b.Unfinished == 0
		return b, nil
	})
	if err != nil {
		return countersign.BatchPage{}, fmt.Errorf("list batches: %w", err)
	}
	return store.NextBatchPage(batches, limit), nil
}

// CompleteBatches records the completion of the open batches whose
// documents are all final. The count and the mark are one transaction at
// READ COMMITTED: a document stored meanwhile either shows in the count or
// has changed the batch's count of documents, which the mark requires
// unchanged (its UPDATE waits for the storing transaction and reads the
// row it committed).
func (s *Store) CompleteBatches(ctx context.Context, at time.Time, limit int) ([]countersign.BatchCompletion, error) {
	done, err := store.CompleteBatches(ctx, limit, func(ctx context.Context, limit int) ([]store.OpenBatch, error) {
		rows, err := s.q.CompletableBatches(ctx, int32(limit))
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
			n, err := q.MarkBatchCompleted(ctx, dbsqlc.MarkBatchCompletedParams{Name: b.Name, Documents: int32(b.Documents)})
			if err != nil || n == 0 {
				return err
			}
			recorded = true
			return q.InsertBatchCompletion(ctx, dbsqlc.InsertBatchCompletionParams{
				Batch: b.Name, Documents: int32(b.Documents), CompletedAt: store.Time(at),
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
	at, until := store.Time(now), store.Time(now.Add(lease))
	rows, err := s.q.UndeliveredBatchCompletions(ctx, dbsqlc.UndeliveredBatchCompletionsParams{Now: &at, PageSize: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("batch deliveries: %w", err)
	}
	var taken []countersign.BatchCompletion
	for _, r := range rows {
		row, err := s.q.TakeBatchDelivery(ctx, dbsqlc.TakeBatchDeliveryParams{
			Batch: r.Batch, Documents: r.Documents, Now: &at, LeaseUntil: &until,
		})
		if errors.Is(err, pgx.ErrNoRows) {
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
	err := s.q.FinishBatchDelivery(ctx, dbsqlc.FinishBatchDeliveryParams{
		DeliveredAt: store.OptionalTime(d.DeliveredAt), Status: int32(d.Status), Error: d.Error, Batch: batch, Documents: int32(documents),
	})
	if err != nil {
		return fmt.Errorf("finish the delivery of batch %s: %w", batch, err)
	}
	return nil
}

// completion reads a batch completion's row.
func completion(r dbsqlc.BatchCompletion) (countersign.BatchCompletion, error) {
	return countersign.BatchCompletion{Batch: r.Batch, Documents: int(r.Documents), CompletedAt: r.CompletedAt.UTC(),
		Attempts: int(r.Attempts), Status: int(r.Status), Error: r.Error, DeliveredAt: store.OptionalTime(r.DeliveredAt)}, nil
}
