package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
	"github.com/countersign/countersign/internal/store/sqlite/dbsqlc"
)

// UnstartedDocuments returns the documents still processing, stored before
// storedBefore, that no review workflow has recorded receiving.
func (s *Store) UnstartedDocuments(ctx context.Context, storedBefore time.Time, limit int) ([]string, error) {
	ids, err := s.read.UnstartedDocuments(ctx, dbsqlc.UnstartedDocumentsParams{
		StoredBefore: store.FormatTime(storedBefore), Recovered: countersign.EventDocumentRecovered, PageSize: int64(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("unstarted documents: %w", err)
	}
	return ids, nil
}
