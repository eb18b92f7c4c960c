package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// UnstartedDocuments returns the documents still processing, stored before
// storedBefore, that no review workflow has recorded receiving.
func (s *Store) UnstartedDocuments(ctx context.Context, storedBefore time.Time, limit int) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT d.id FROM documents d
		WHERE d.status = 'processing' AND d.created_at < $1
		AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.document_id = d.id AND e.type <> $2)
		ORDER BY d.created_at, d.id LIMIT $3`,
		store.Time(storedBefore), countersign.EventDocumentRecovered, limit)
	if err != nil {
		return nil, fmt.Errorf("unstarted documents: %w", classify(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("unstarted documents: %w", classify(err))
	}
	return ids, nil
}
