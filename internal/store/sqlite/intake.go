package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/countersign/countersign"
	"github.com/countersign/countersign/internal/store"
)

// UnstartedDocuments returns the documents still processing, stored before
// storedBefore, that no review workflow has recorded receiving.
func (s *Store) UnstartedDocuments(ctx context.Context, storedBefore time.Time, limit int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT d.id FROM documents d INDEXED BY documents_processing_idx
		WHERE d.status = 'processing' AND d.created_at < ?
		AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.document_id = d.id AND e.type <> ?)
		ORDER BY d.created_at, d.id LIMIT ?`,
		store.FormatTime(storedBefore), countersign.EventDocumentRecovered, limit)
	if err != nil {
		return nil, fmt.Errorf("unstarted documents: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("unstarted documents: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unstarted documents: %w", err)
	}
	return ids, nil
}
