package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/postgres/dbsqlc"
)

// UnstartedDocuments returns the documents still processing, stored before
// storedBefore, that no review workflow has recorded receiving.
func (s *Store) UnstartedDocuments(ctx context.Context, storedBefore time.Time, limit int) ([]string, error) {
	ids, err := s.q.UnstartedDocuments(ctx, dbsqlc.UnstartedDocumentsParams{
		StoredBefore: store.Time(storedBefore), Recovered: countersign.EventDocumentRecovered, PageSize: int32(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("unstarted documents: %w", classify(err))
	}
	return ids, nil
}
